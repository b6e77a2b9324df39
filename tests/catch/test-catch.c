/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for catch, the mock SMTP server: the command parser and the DATA
 * decoder (table-driven, and one octet at a time), the rules, the users
 * file, the Received: field read back by trace, the certificate; then whole
 * sessions against a server running in its own thread, over real sockets
 * (the integration tests in tests/catch/ use real clients). */
#include <crypt.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

#include "catch-private.h"
#include "test-catch.h"

/* ---- the command parser ---- */

typedef struct {
  const char *line;
  CatchVerb verb;
  guint code; /* 0: parses */
  const char *path;
  guint64 size;
  gboolean smtputf8;
  CatchBody body;
} CommandCase;

static const CommandCase command_cases[] = {
  { "EHLO client.example", CATCH_VERB_EHLO },
  { "ehlo", CATCH_VERB_EHLO },
  { "HELO [192.0.2.1]", CATCH_VERB_HELO },
  { "LHLO x", CATCH_VERB_LHLO },
  { "MAIL FROM:<a@b.example>", CATCH_VERB_MAIL, 0, "a@b.example" },
  { "mail from:<>", CATCH_VERB_MAIL, 0, "" },
  { "MAIL FROM: <a@b.example> SIZE=100 BODY=8BITMIME", CATCH_VERB_MAIL, 0, "a@b.example", 100,
    FALSE, CATCH_BODY_8BITMIME },
  { "MAIL FROM:<a@b.example> BODY=7bit SMTPUTF8", CATCH_VERB_MAIL, 0, "a@b.example", 0, TRUE,
    CATCH_BODY_7BIT },
  { "MAIL FROM:<@r1.example,@r2.example:a@b.example>", CATCH_VERB_MAIL, 0, "a@b.example" },
  { "MAIL FROM:a@b.example", CATCH_VERB_MAIL, 501 },
  { "MAIL FROM:<a@b.example>junk", CATCH_VERB_MAIL, 501 },
  { "MAIL TO:<a@b.example>", CATCH_VERB_MAIL, 501 },
  { "MAIL FROM:<a b@c.example>", CATCH_VERB_MAIL, 501 },
  { "MAIL FROM:<a@b.example> FOO=1", CATCH_VERB_MAIL, 555 },
  { "MAIL FROM:<a@b.example> SIZE=x", CATCH_VERB_MAIL, 555 },
  { "MAIL FROM:<a@b.example> SIZE=1 SIZE=2", CATCH_VERB_MAIL, 555 },
  { "MAIL FROM:<a@b.example> SIZE=99999999999999999999999", CATCH_VERB_MAIL, 555 },
  { "MAIL FROM:<a@b.example> SMTPUTF8 SMTPUTF8", CATCH_VERB_MAIL, 555 },
  { "RCPT TO:<b@c.example>", CATCH_VERB_RCPT, 0, "b@c.example" },
  { "RCPT TO:<Postmaster>", CATCH_VERB_RCPT, 0, "Postmaster" },
  { "RCPT TO:<>", CATCH_VERB_RCPT, 501 },
  { "RCPT TO:<b@c.example> NOTIFY=NEVER", CATCH_VERB_RCPT, 555 },
  { "RCPT TO:<b@c.example> SIZE=1", CATCH_VERB_RCPT, 555 },
  { "RCPT TO:<postmaster@>", CATCH_VERB_RCPT, 501 },
  { "DATA", CATCH_VERB_DATA },
  { "QUIT", CATCH_VERB_QUIT },
  { "STARTTLS", CATCH_VERB_STARTTLS },
  { "AUTH PLAIN AGJvYgBzZWNyZXQ=", CATCH_VERB_AUTH },
  { "Subject: hello", CATCH_VERB_FORBIDDEN },
  { "GET / HTTP/1.1", CATCH_VERB_FORBIDDEN },
  { "XYZZY", CATCH_VERB_UNKNOWN, 500 },
  { "", CATCH_VERB_UNKNOWN, 500 },
  { "MAIL FROM:<a\001@b.example>", CATCH_VERB_UNKNOWN, 500 },
  { "MAIL FROM:<a@b.example>\377", CATCH_VERB_UNKNOWN, 500 },
};

static void
test_command_table(void)
{
  for (gsize i = 0; i < G_N_ELEMENTS(command_cases); i++) {
    const CommandCase *c = &command_cases[i];
    CatchCommand command;
    g_autofree char *shown = g_strescape(c->line, NULL);

    g_test_message("%s", shown);
    catch_command_parse(c->line, strlen(c->line), &command);
    g_assert_cmpint(command.verb, ==, c->verb);
    g_assert_cmpuint(command.code, ==, c->code);
    if (c->code == 0 && c->path != NULL)
      g_assert_cmpstr(command.path, ==, c->path);
    if (c->code == 0) {
      g_assert_cmpuint(command.size, ==, c->size);
      g_assert_cmpint(command.smtputf8, ==, c->smtputf8);
      g_assert_cmpint(command.body, ==, c->body);
    } else {
      g_assert_nonnull(command.error);
      g_assert_nonnull(command.enhanced);
    }
    catch_command_clear(&command);
  }
}

static void
test_command_utf8_and_long(void)
{
  CatchCommand command;
  g_autofree char *local = g_strnfill(300, 'a');
  g_autofree char *line = g_strdup_printf("RCPT TO:<%s@b.example>", local);

  catch_command_parse("RCPT TO:<bé@c.example>", strlen("RCPT TO:<bé@c.example>"), &command);
  g_assert_cmpuint(command.code, ==, 0);
  g_assert_true(command.eightbit);
  catch_command_clear(&command);
  catch_command_parse(line, strlen(line), &command);
  g_assert_cmpuint(command.code, ==, 501);
  catch_command_clear(&command);
  /* a NUL inside the line is a control character */
  catch_command_parse("NOOP\0x", 6, &command);
  g_assert_cmpuint(command.code, ==, 500);
  catch_command_clear(&command);
}

static void
test_command_helo(void)
{
  g_assert_true(catch_command_helo_is_valid("client.example"));
  g_assert_true(catch_command_helo_is_valid("[192.0.2.1]"));
  g_assert_true(catch_command_helo_is_valid("[IPv6:2001:db8::1]"));
  g_assert_true(catch_command_helo_is_valid("my_host"));
  g_assert_true(catch_command_helo_is_valid("bücher.example"));
  g_assert_false(catch_command_helo_is_valid(NULL));
  g_assert_false(catch_command_helo_is_valid(""));
  g_assert_false(catch_command_helo_is_valid("a b"));
  g_assert_false(catch_command_helo_is_valid("a(b)"));
  g_assert_false(catch_command_helo_is_valid("a;b"));
  g_assert_false(catch_command_helo_is_valid("[1.2.3.4"));
  g_assert_false(catch_command_helo_is_valid("[1 2]"));
  g_assert_true(catch_command_must_end_group(CATCH_VERB_DATA));
  g_assert_true(catch_command_must_end_group(CATCH_VERB_EHLO));
  g_assert_false(catch_command_must_end_group(CATCH_VERB_RCPT));
  g_assert_false(catch_command_must_end_group(CATCH_VERB_QUIT));
}

/* ---- the DATA decoder ---- */

typedef struct {
  const char *in;
  const char *out;
  gboolean done;
  gsize used; /* 0: all */
  gboolean bare_lf, bare_cr;
} DataCase;

static const DataCase data_cases[] = {
  { "a\r\n.\r\n", "a\r\n", TRUE },
  { ".\r\n", "", TRUE },
  { "..x\r\n.x\r\n.\r\n", ".x\r\nx\r\n", TRUE },
  { "x\r\n.\r\nMAIL FROM:<a@b>\r\n", "x\r\n", TRUE, 6 },
  { "a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", TRUE, 0, TRUE },
  { "x\n.\r\nMAIL FROM:<e@f>\r\n.\r\n", "x\n.\r\nMAIL FROM:<e@f>\r\n", TRUE, 0, TRUE },
  { "a\r.\rb\r\n.\r\n", "a\r.\rb\r\n", TRUE, 0, FALSE, TRUE },
  { "a\r\n.\n.\r\n", "a\r\n\n.\r\n", FALSE, 0, TRUE },
  { "a\r\n.\rx\r\n.\r\n", "a\r\n\rx\r\n", TRUE, 0, FALSE, TRUE },
  { "no end\r\n", "no end\r\n", FALSE },
  { "half\r", "half", FALSE },
  { "\r\n\r\n.\r\n", "\r\n\r\n", TRUE },
};

static void
data_run(const char *in, gsize len, gsize step, CatchData *data, GByteArray *out, gsize *used)
{
  catch_data_init(data);
  *used = 0;
  for (gsize at = 0; at < len && data->state != CATCH_DATA_DONE; at += step)
    *used += catch_data_feed(data, (const guint8 *)in + at, MIN(step, len - at), out);
}

static void
test_data_table(void)
{
  for (gsize i = 0; i < G_N_ELEMENTS(data_cases); i++) {
    const DataCase *c = &data_cases[i];
    gsize len = strlen(c->in);

    for (gsize step = 1; step <= len; step = step * 2 + 1) {
      g_autoptr(GByteArray) out = g_byte_array_new();
      CatchData data;
      gsize used;

      data_run(c->in, len, step, &data, out, &used);
      g_assert_cmpmem(out->data, out->len, c->out, strlen(c->out));
      g_assert_cmpint(data.state == CATCH_DATA_DONE, ==, c->done);
      g_assert_cmpuint(used, ==, c->used ? c->used : len);
      g_assert_cmpint(data.bare_lf, ==, c->bare_lf);
      g_assert_cmpint(data.bare_cr, ==, c->bare_cr);
      g_assert_cmpuint(data.size, ==, strlen(c->out));
    }
  }
}

static void
test_data_longest(void)
{
  g_autoptr(GByteArray) out = g_byte_array_new();
  g_autofree char *line = g_strnfill(1200, 'x');
  g_autofree char *in = g_strdup_printf("short\r\n.%s\r\nend\r\n.\r\n", line);
  CatchData data;
  gsize used;

  data_run(in, strlen(in), 100, &data, out, &used);
  g_assert_cmpuint(data.longest, ==, 1201); /* as sent: the stuffing dot counts */
  g_assert_cmpuint(data.size, ==, 5 + 2 + 1200 + 2 + 3 + 2);
}

/* ---- rules ---- */

static void
test_rules_parse(void)
{
  static const struct {
    FarceurCatchAction action;
    const char *spec;
  } bad[] = {
    { FARCEUR_CATCH_FAIL, "rcpt=250" },      { FARCEUR_CATCH_FAIL, "rcpt=600" },
    { FARCEUR_CATCH_FAIL, "nowhere=550" },   { FARCEUR_CATCH_FAIL, "rcpt:=550" },
    { FARCEUR_CATCH_FAIL, "rcpt" },          { FARCEUR_CATCH_FAIL, "mid-data=550" },
    { FARCEUR_CATCH_FAIL, "rcpt=550x0" },    { FARCEUR_CATCH_FAIL, "rcpt=550@0%" },
    { FARCEUR_CATCH_FAIL, "rcpt=550@101%" }, { FARCEUR_CATCH_FAIL, "rcpt=550@5" },
    { FARCEUR_CATCH_FAIL, "rcpt=550junk" },  { FARCEUR_CATCH_DELAY, "greeting=5" },
    { FARCEUR_CATCH_DELAY, "greeting=2h" },  { FARCEUR_CATCH_DELAY, "greeting=61m" },
    { FARCEUR_CATCH_DROP, "dot=550" },       { FARCEUR_CATCH_FAIL, "rcpt=550\ttab" },
  };
  static const struct {
    FarceurCatchAction action;
    const char *spec;
    const char *described;
  } good[] = {
    { FARCEUR_CATCH_FAIL, "rcpt:bad*=550",
      "--fail rcpt:bad*=550: RCPT TO for a recipient matching 'bad*' gets '550 5.0.0 failure "
      "injected by farceur catch', every time" },
    { FARCEUR_CATCH_FAIL, "mail=451x2",
      "--fail mail=451x2: MAIL FROM gets '451 4.0.0 failure injected by farceur catch', the "
      "first 2 times" },
    { FARCEUR_CATCH_FAIL, "rcpt=450@10%",
      "--fail rcpt=450@10%: RCPT TO gets '450 4.0.0 failure injected by farceur catch', every "
      "time, with a chance of 10.0%" },
    { FARCEUR_CATCH_FAIL, "dot=552 5.3.4 too big for this test",
      "--fail dot=552 5.3.4 too big for this test: the final dot (not stored) gets '552 5.3.4 "
      "too big for this test', every time" },
    { FARCEUR_CATCH_DROP, "after-dot",
      "--drop after-dot: the final dot, once stored drops the connection without a reply, every "
      "time" },
    { FARCEUR_CATCH_DROP, "rcpt:trap@*=x1@50%",
      "--drop rcpt:trap@*=x1@50%: RCPT TO for a recipient matching 'trap@*' drops the "
      "connection without a reply, the first 1 time, with a chance of 50.0%" },
    { FARCEUR_CATCH_DELAY, "greeting=5s",
      "--delay greeting=5s: the greeting waits 5000 ms before the reply, every time" },
    { FARCEUR_CATCH_DELAY, "EHLO=250ms@2.5%",
      "--delay EHLO=250ms@2.5%: EHLO/HELO/LHLO waits 250 ms before the reply, every time, with "
      "a chance of 2.5%" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_test_message("bad: %s", bad[i].spec);
    g_assert_null(farceur_catch_rule_parse(bad[i].action, bad[i].spec, &error));
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE);
  }
  for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(FarceurCatchRule) rule
        = farceur_catch_rule_parse(good[i].action, good[i].spec, &error);
    g_autofree char *text = NULL;

    g_assert_no_error(error);
    text = farceur_catch_rule_describe(rule);
    g_assert_cmpstr(text, ==, good[i].described);
  }
}

static GPtrArray *
rules_of(FarceurCatchAction action, ...)
{
  GPtrArray *rules = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_catch_rule_free);
  va_list ap;

  va_start(ap, action);
  for (const char *spec = va_arg(ap, const char *); spec; spec = va_arg(ap, const char *))
    g_ptr_array_add(rules, farceur_catch_rule_parse(action, spec, NULL));
  va_end(ap);
  return rules;
}

static guint
rules_count_fired(GPtrArray *rules, GRand *rand, FarceurCatchStage stage, const char *subject,
                  guint tries)
{
  guint fired = 0;

  for (guint i = 0; i < tries; i++)
    fired += catch_rules_fire(rules, rand, FARCEUR_CATCH_FAIL, stage, &subject, 1) != NULL;
  return fired;
}

static void
test_rules_fire(void)
{
  g_autoptr(GPtrArray) rules
      = rules_of(FARCEUR_CATCH_FAIL, "rcpt:BAD*=550", "mail=451x2", "data=554@25%", NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed(7);
  g_autoptr(GRand) again = g_rand_new_with_seed(7);
  const char *const two[] = { "ok@x.example", "bad@x.example" };
  guint first, second;

  g_assert_cmpuint(rules_count_fired(rules, rand, FARCEUR_CATCH_STAGE_RCPT, "Bad@x.example", 3), ==,
                   3);
  g_assert_cmpuint(rules_count_fired(rules, rand, FARCEUR_CATCH_STAGE_RCPT, "good@x.example", 3),
                   ==, 0);
  g_assert_cmpuint(rules_count_fired(rules, rand, FARCEUR_CATCH_STAGE_MAIL, "a@x.example", 5), ==,
                   2);
  g_assert_nonnull(
      catch_rules_fire(rules, rand, FARCEUR_CATCH_FAIL, FARCEUR_CATCH_STAGE_RCPT, two, 2));
  g_assert_null(
      catch_rules_fire(rules, rand, FARCEUR_CATCH_DROP, FARCEUR_CATCH_STAGE_RCPT, two, 2));
  /* the same seed draws the same: --seed replays a run */
  first = rules_count_fired(rules, rand, FARCEUR_CATCH_STAGE_DATA, NULL, 1000);
  g_rand_set_seed(rand, 99);
  g_rand_set_seed(again, 99);
  first = rules_count_fired(rules, rand, FARCEUR_CATCH_STAGE_DATA, NULL, 1000);
  second = rules_count_fired(rules, again, FARCEUR_CATCH_STAGE_DATA, NULL, 1000);
  g_assert_cmpuint(first, ==, second);
  g_assert_cmpuint(first, >, 180);
  g_assert_cmpuint(first, <, 320);
  g_assert_cmpuint(farceur_catch_rule_get_fired(rules->pdata[1]), ==, 2);
}

/* ---- users ---- */

static char *
write_temp(const char *name, const char *text)
{
  g_autofree char *dir = g_dir_make_tmp("farceur-catch-XXXXXX", NULL);
  char *path = g_build_filename(dir, name, NULL);

  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

static void
remove_temp(const char *path)
{
  g_autofree char *dir = g_path_get_dirname(path);

  g_unlink(path);
  g_rmdir(dir);
}

static void
test_users(void)
{
  g_autofree char *salt = crypt_gensalt_ra("$6$", 0, NULL, 0);
  struct crypt_data data = { 0 };
  g_autofree char *text = g_strdup_printf("# lab accounts\n\nalice:s3cret:with:colons\r\n"
                                          "bob:{CRYPT}%s\n",
                                          crypt_r("hunter2", salt, &data));
  g_autofree char *path = write_temp("users", text);
  g_autoptr(GError) error = NULL;
  CatchUsers *users = catch_users_load(path, &error);

  g_assert_no_error(error);
  g_assert_cmpuint(catch_users_count(users), ==, 2);
  g_assert_true(catch_users_check(users, "alice", "s3cret:with:colons"));
  g_assert_false(catch_users_check(users, "alice", "s3cret"));
  g_assert_false(catch_users_check(users, "alice", "s3cret:with:colonsX"));
  g_assert_true(catch_users_check(users, "bob", "hunter2"));
  g_assert_false(catch_users_check(users, "bob", "hunter3"));
  g_assert_false(catch_users_check(users, "carol", "x"));
  catch_users_free(users);
  remove_temp(path);
}

static void
test_users_bad(void)
{
  static const char *const bad[]
      = { "nocolon\n", ":nouser\n", "a:{CRYPT}garbage\n", "a:x\na:y\n", "a b:x\n" };
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *path = write_temp("users", bad[i]);
    g_autoptr(GError) local = NULL;

    g_assert_null(catch_users_load(path, &local));
    g_assert_error(local, FARCEUR_ERROR, FARCEUR_ERROR_CONFIG);
    g_assert_nonnull(strstr(local->message, "line"));
    remove_temp(path);
  }
  g_assert_null(catch_users_load("/nonexistent/users", &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT);
}

/* ---- the Received: field, read back by trace ---- */

static void
test_received(void)
{
  g_autoptr(GDateTime) date = g_date_time_new_utc(2026, 11, 23, 10, 0, 0);
  CatchHop hop = { "client.example",         "192.0.2.7", "catch.example",   "ESMTPSA", "TLSv1.3",
                   "TLS_AES_256_GCM_SHA384", "ABC123",    "bob@example.org", date };
  g_autofree char *field = catch_received_format(&hop);
  g_autofree char *unfolded = g_mime_utils_header_unfold(field + strlen("Received: "));
  g_autoptr(FarceurHop) parsed = farceur_hop_parse(unfolded);
  g_autofree char *v6 = NULL;
  g_autoptr(FarceurHop) parsed_v6 = NULL;

  g_assert_true(g_str_has_suffix(field, "\n"));
  g_assert_null(strchr(field, '\r'));
  g_assert_cmpstr(parsed->from_helo, ==, "client.example");
  g_assert_cmpstr(parsed->from_ip, ==, "192.0.2.7");
  g_assert_cmpstr(parsed->by, ==, "catch.example");
  g_assert_cmpstr(parsed->with, ==, "ESMTPSA");
  g_assert_cmpstr(parsed->id, ==, "ABC123");
  g_assert_cmpstr(parsed->for_addr, ==, "bob@example.org");
  g_assert_cmpint(parsed->tls, ==, FARCEUR_TLS_YES);
  g_assert_nonnull(parsed->date);
  g_assert_cmpint(g_date_time_to_unix(parsed->date), ==, g_date_time_to_unix(date));
  g_assert_cmpuint(parsed->warnings->len, ==, 0);
  hop = (CatchHop){ NULL, "::1", "catch.example", "ESMTP", NULL, NULL, "X", NULL, date };
  g_free(field);
  field = catch_received_format(&hop);
  v6 = g_mime_utils_header_unfold(field + strlen("Received: "));
  parsed_v6 = farceur_hop_parse(v6);
  g_assert_cmpstr(parsed_v6->from_ip, ==, "::1");
  g_assert_null(parsed_v6->for_addr);
  g_assert_cmpint(parsed_v6->tls, ==, FARCEUR_TLS_NO);
}

/* ---- the certificate ---- */

static void
test_tls_self_signed(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) a = catch_tls_self_signed("catch.example", &error);
  g_autoptr(GTlsCertificate) b = catch_tls_self_signed("catch.example", &error);
  g_autofree char *fa = NULL, *fb = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GPtrArray) ips = NULL;

  g_assert_no_error(error);
  fa = catch_tls_fingerprint(a);
  fb = catch_tls_fingerprint(b);
  g_assert_cmpuint(strlen(fa), ==, 32 * 3 - 1);
  g_assert_true(g_regex_match_simple("^([0-9A-F]{2}:){31}[0-9A-F]{2}$", fa, 0, 0));
  g_assert_cmpstr(fa, !=, fb); /* a new key every start */
  names = g_tls_certificate_get_dns_names(a);
  ips = g_tls_certificate_get_ip_addresses(a);
  g_assert_cmpuint(names->len, ==, 2);
  g_assert_cmpuint(ips->len, ==, 2);
  {
    g_autoptr(GDateTime) until = g_tls_certificate_get_not_valid_after(a);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_assert_cmpint(g_date_time_difference(until, now) / G_TIME_SPAN_DAY, ==, 29);
  }
  {
    g_autoptr(GTlsCertificate) bad = catch_tls_load("/nonexistent.pem", NULL, &error);
    g_assert_null(bad);
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  farceur_init();
  g_test_add_func("/catch/command/table", test_command_table);
  g_test_add_func("/catch/command/utf8-long", test_command_utf8_and_long);
  g_test_add_func("/catch/command/helo", test_command_helo);
  g_test_add_func("/catch/data/table", test_data_table);
  g_test_add_func("/catch/data/longest", test_data_longest);
  g_test_add_func("/catch/rules/parse", test_rules_parse);
  g_test_add_func("/catch/rules/fire", test_rules_fire);
  g_test_add_func("/catch/users/good", test_users);
  g_test_add_func("/catch/users/bad", test_users_bad);
  g_test_add_func("/catch/received/trace", test_received);
  g_test_add_func("/catch/tls/self-signed", test_tls_self_signed);
  catch_add_session_tests();
  return g_test_run();
}
