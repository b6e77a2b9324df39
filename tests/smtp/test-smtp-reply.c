/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <farceur/farceur.h>

typedef struct {
  const char *input;
  guint code;
  const char *enhanced; /* NULL: none */
  const char *text;
  guint n_lines;
} ReplyCase;

static const ReplyCase good_cases[] = {
  { "220 mx.example ESMTP\r\n", 220, NULL, "mx.example ESMTP", 1 },
  { "250 OK\n", 250, NULL, "OK", 1 }, /* bare LF */
  { "250\r\n", 250, NULL, "", 1 },    /* no text at all */
  { "250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n", 250, NULL,
    "mx.example\nPIPELINING\n8BITMIME", 3 },
  { "550 5.1.1 <x@y>: user unknown\r\n", 550, "5.1.1", "<x@y>: user unknown", 1 },
  { "451-4.3.0 try\r\n451 4.3.0 later\r\n", 451, "4.3.0", "try\nlater", 2 },
  { "250 2.0.0\r\n", 250, "2.0.0", "", 1 },
  { "250 2.100.999 big\r\n", 250, "2.100.999", "big", 1 },
  { "550 4.1.1 class mismatch\r\n", 550, NULL, "4.1.1 class mismatch", 1 },
  { "250 2.1000.0 too long\r\n", 250, NULL, "2.1000.0 too long", 1 },
  { "250 2.1.1x no space\r\n", 250, NULL, "2.1.1x no space", 1 },
  { "250 a\x01"
    "b\x1b[31mc\r\n",
    250, NULL, "a?b?[31mc", 1 },
  { "250 lone\rcr\r\n", 250, NULL, "lone?cr", 1 },
  { "250 caf\xc3\xa9 \xff\r\n", 250, NULL, "caf\xc3\xa9 \xef\xbf\xbd", 1 },
  { "354 go ahead\r\n", 354, NULL, "go ahead", 1 },
};

static const char *const bad_cases[] = {
  "25 short\r\n",
  "abc text\r\n",
  "650 bad class\r\n",
  "050 bad class\r\n",
  "250_text\r\n",
  "250-first\r\n251 second\r\n",
  "\r\n",
  "250 ok", /* no line end: incomplete */
  "250 ok\r\n250 again\r\n",
};

static void
test_good(void)
{
  for (gsize i = 0; i < G_N_ELEMENTS(good_cases); i++) {
    const ReplyCase *c = &good_cases[i];
    g_autoptr(GError) error = NULL;
    g_autoptr(FarceurSmtpReply) reply
        = farceur_smtp_reply_parse(c->input, strlen(c->input), &error);

    g_autofree char *shown = g_strescape(c->input, NULL);

    g_test_message("case %zu: %s", i, shown);
    g_assert_no_error(error);
    g_assert_cmpuint(reply->code, ==, c->code);
    g_assert_cmpstr(reply->enhanced, ==, c->enhanced);
    g_assert_cmpstr(reply->text, ==, c->text);
    g_assert_cmpuint(g_strv_length(reply->lines), ==, c->n_lines);
  }
}

static void
test_bad(void)
{
  for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(FarceurSmtpReply) reply
        = farceur_smtp_reply_parse(bad_cases[i], strlen(bad_cases[i]), &error);

    g_autofree char *shown = g_strescape(bad_cases[i], NULL);

    g_test_message("case %zu: %s", i, shown);
    g_assert_null(reply);
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL);
  }
}

/* The same stream fed one byte per call and all at once gives the same replies. */
static void
test_incremental(void)
{
  static const char stream[] = "220-hi\r\n220 there\n250-a\r\n250 b\r\n354 go\r\n";
  g_autoptr(FarceurSmtpReplyParser) parser = farceur_smtp_reply_parser_new();
  static const guint codes[] = { 220, 250, 354 };
  guint n = 0;

  for (gsize i = 0; i < strlen(stream); i++) {
    FarceurSmtpReply *reply;

    g_assert_true(farceur_smtp_reply_parser_feed(parser, stream + i, 1, NULL));
    while ((reply = farceur_smtp_reply_parser_pop(parser)) != NULL) {
      g_assert_cmpuint(n, <, G_N_ELEMENTS(codes));
      g_assert_cmpuint(reply->code, ==, codes[n++]);
      farceur_smtp_reply_free(reply);
    }
    if (i == 7) /* "220-hi\r\n" read: a reply is begun, not complete */
      g_assert_false(farceur_smtp_reply_parser_is_empty(parser));
  }
  g_assert_cmpuint(n, ==, 3);
  g_assert_true(farceur_smtp_reply_parser_is_empty(parser));
}

/* After the STARTTLS 220 the client checks that nothing else was sent. */
static void
test_leftover(void)
{
  static const char stream[] = "220 go\r\n250 injected";
  g_autoptr(FarceurSmtpReplyParser) parser = farceur_smtp_reply_parser_new();
  g_autoptr(FarceurSmtpReply) reply = NULL;

  g_assert_true(farceur_smtp_reply_parser_feed(parser, stream, strlen(stream), NULL));
  reply = farceur_smtp_reply_parser_pop(parser);
  g_assert_cmpuint(reply->code, ==, 220);
  g_assert_false(farceur_smtp_reply_parser_is_empty(parser));
  farceur_smtp_reply_parser_reset(parser);
  g_assert_true(farceur_smtp_reply_parser_is_empty(parser));
}

static void
test_caps(void)
{
  g_autoptr(FarceurSmtpReplyParser) parser = farceur_smtp_reply_parser_new();
  g_autoptr(GString) many = g_string_new(NULL);
  g_autofree char *long_line = g_strnfill(FARCEUR_SMTP_REPLY_MAX_LINE + 10, 'x');
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurSmtpReply) reply = NULL;

  /* exactly at the line cap: accepted */
  long_line[0] = '2', long_line[1] = '5', long_line[2] = '0', long_line[3] = ' ';
  g_assert_true(
      farceur_smtp_reply_parser_feed(parser, long_line, FARCEUR_SMTP_REPLY_MAX_LINE, NULL));
  g_assert_true(farceur_smtp_reply_parser_feed(parser, "\r\n", 2, NULL));
  reply = farceur_smtp_reply_parser_pop(parser);
  g_assert_cmpuint(strlen(reply->lines[0]), ==, FARCEUR_SMTP_REPLY_MAX_LINE - 4);
  /* one byte over, fed in pieces: refused before the line end arrives */
  g_assert_true(farceur_smtp_reply_parser_feed(parser, long_line, 4000, NULL));
  g_assert_false(farceur_smtp_reply_parser_feed(parser, long_line, 200, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL);
  g_clear_error(&error);
  g_assert_false(farceur_smtp_reply_parser_feed(parser, "250 ok\r\n", 8, &error));
  g_clear_error(&error);

  for (guint i = 0; i < FARCEUR_SMTP_REPLY_MAX_LINES; i++)
    g_string_append(many, "250-x\r\n");
  g_string_append(many, "250 last\r\n");
  g_clear_pointer(&reply, farceur_smtp_reply_free);
  reply = farceur_smtp_reply_parse(many->str, many->len, &error);
  g_assert_null(reply);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL);
}

/* Junk between replies is skipped; each warning comes out once the replies
 * before it were popped; junk inside a multi-line reply stays an error. */
static void
test_junk(void)
{
  static const char stream[] = "\r\n250 one\r\nxyz\r\n\n250-a\r\n250 b\r\n";
  g_autoptr(FarceurSmtpReplyParser) parser = farceur_smtp_reply_parser_new();
  g_autoptr(FarceurSmtpReplyParser) strict = farceur_smtp_reply_parser_new();
  g_autoptr(FarceurSmtpReply) one = NULL;
  g_autoptr(FarceurSmtpReply) two = NULL;
  g_autofree char *w1 = NULL;
  g_autofree char *w2 = NULL;
  g_autofree char *w3 = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true(farceur_smtp_reply_parser_feed(parser, stream, strlen(stream), NULL));
  w1 = farceur_smtp_reply_parser_pop_warning(parser);
  g_assert_cmpstr(w1, ==, "reply line 1: blank line, ignored");
  g_assert_null(farceur_smtp_reply_parser_pop_warning(parser)); /* after "250 one" */
  one = farceur_smtp_reply_parser_pop(parser);
  g_assert_cmpstr(one->text, ==, "one");
  w2 = farceur_smtp_reply_parser_pop_warning(parser);
  g_assert_cmpstr(w2, ==, "reply line 3: no reply code, ignored: 'xyz'");
  w3 = farceur_smtp_reply_parser_pop_warning(parser);
  g_assert_cmpstr(w3, ==, "reply line 4: blank line, ignored");
  two = farceur_smtp_reply_parser_pop(parser);
  g_assert_cmpstr(two->text, ==, "a\nb");
  g_assert_true(farceur_smtp_reply_parser_is_empty(parser));
  g_assert_true(farceur_smtp_reply_parser_feed(parser, "250 c\r\n\r\n", 9, NULL));
  g_assert_false(farceur_smtp_reply_parser_is_empty(parser)); /* STARTTLS: nothing may follow */

  g_assert_false(farceur_smtp_reply_parser_feed(strict, "250-a\r\n\r\n", 9, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL);
}

static void
test_to_string(void)
{
  static const char input[] = "250-mx\r\n250 2.0.0 ok\r\n";
  g_autoptr(FarceurSmtpReply) reply = farceur_smtp_reply_parse(input, strlen(input), NULL);
  g_autoptr(FarceurSmtpReply) copy = farceur_smtp_reply_copy(reply);
  g_autofree char *s = farceur_smtp_reply_to_string(copy);

  g_assert_cmpstr(s, ==, "250-mx\n250 2.0.0 ok");
  g_assert_cmpstr(copy->enhanced, ==, NULL); /* only the first line's code counts */
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/smtp-reply/good", test_good);
  g_test_add_func("/smtp-reply/bad", test_bad);
  g_test_add_func("/smtp-reply/incremental", test_incremental);
  g_test_add_func("/smtp-reply/leftover", test_leftover);
  g_test_add_func("/smtp-reply/caps", test_caps);
  g_test_add_func("/smtp-reply/junk", test_junk);
  g_test_add_func("/smtp-reply/to-string", test_to_string);
  return g_test_run();
}
