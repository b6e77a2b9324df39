/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

static FarceurInputMessage *
input_from_text(const char *text)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
  FarceurInputMessage *input = g_new0(FarceurInputMessage, 1);

  input->message = g_mime_parser_construct_message(parser, NULL);
  g_assert_nonnull(input->message);
  input->source = g_strdup("test");
  input->size = strlen(text);
  input->warnings = g_ptr_array_new_with_free_func(g_free);
  return input;
}

static FarceurInspectMessage *
inspect_text(const char *text)
{
  g_autoptr(FarceurInputMessage) input = input_from_text(text);
  g_autoptr(GError) error = NULL;
  FarceurInspectMessage *msg = farceur_inspect_message(input, FARCEUR_INSPECT_HEADERS, &error);

  g_assert_no_error(error);
  return msg;
}

/* "path type" of every leaf, joined by ", ". */
static char *
leaves(const FarceurInspectMessage *msg)
{
  GString *out = g_string_new(NULL);

  for (guint i = 0; i < msg->parts->len; i++) {
    const FarceurInspectPart *part = msg->parts->pdata[i];

    if (part->kind != FARCEUR_INSPECT_LEAF)
      continue;
    g_string_append_printf(out, "%s%s %s", out->len ? ", " : "", part->path, part->content_type);
  }
  return g_string_free(out, FALSE);
}

typedef struct {
  const char *name;
  const char *text;
  const char *leaves;
} PathCase;

static const PathCase path_cases[] = {
  { "single", "Subject: x\n\nbody\n", "1 text/plain" },
  { "mixed-nested",
    "Content-Type: multipart/mixed; boundary=a\n\n--a\n\nt\n--a\n"
    "Content-Type: multipart/alternative; boundary=b\n\n--b\n\nplain\n--b\n"
    "Content-Type: text/html\n\n<p>h</p>\n--b--\n--a\nContent-Type: "
    "application/pdf\n\n%PDF\n--a--\n",
    "1 text/plain, 2.1 text/plain, 2.2 text/html, 3 application/pdf" },
  { "rfc822-single",
    "Content-Type: multipart/mixed; boundary=a\n\n--a\n\nt\n--a\n"
    "Content-Type: message/rfc822\n\nSubject: inner\n\ninner body\n--a--\n",
    "1 text/plain, 2.1 text/plain" },
  { "rfc822-multipart",
    "Content-Type: multipart/mixed; boundary=a\n\n--a\n\nt\n--a\n"
    "Content-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=c\n\n--c\n\n"
    "x\n--c\nContent-Type: image/png\n\npng\n--c--\n--a--\n",
    "1 text/plain, 2.1 text/plain, 2.2 image/png" },
  { "top-rfc822", "Content-Type: message/rfc822\n\nSubject: inner\n\nbody\n", "1.1 text/plain" },
  { "global", "Content-Type: message/global\n\nSubject: inner\n\nbody\n", "1.1 text/plain" },
  { "dsn-leaf",
    "Content-Type: multipart/report; boundary=r\n\n--r\n\nfailed\n--r\n"
    "Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\nAction: failed\n--r--\n",
    "1 text/plain, 2 message/delivery-status" },
  { "digest-default",
    "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\n1\n--d\n\n"
    "Subject: two\n\n2\n--d--\n",
    "1.1 text/plain, 2.1 text/plain" },
  { "invalid-type", "Content-Type: garbage\n\nbody\n", "1 text/plain" },
  { "octet-stream-kept", "Content-Type: Application/Octet-Stream\n\nbody\n",
    "1 application/octet-stream" },
};

static void
test_paths(gconstpointer data)
{
  const PathCase *c = data;
  g_autoptr(FarceurInspectMessage) msg = inspect_text(c->text);
  g_autofree char *got = leaves(msg);

  g_assert_cmpstr(got, ==, c->leaves);
}

static void
test_decoding(void)
{
  g_autoptr(FarceurInspectMessage) msg = inspect_text(
      "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
      "Content-Type: text/plain; charset=ISO-8859-1\n"
      "Content-Transfer-Encoding: Quoted-Printable\n\nl=E0 =\nbas\n--a\n"
      "Content-Type: application/octet-stream; name=\"=?utf-8?q?r=C3=A9sum=C3=A9?=\"\n"
      "Content-Disposition: ATTACHMENT\nContent-Transfer-Encoding: base64\n"
      "Content-ID: <c1@x>\n\naGVsbG8=\n--a--\n");
  const FarceurInspectPart *qp = farceur_inspect_message_find_part(msg, "1");
  const FarceurInspectPart *b64 = farceur_inspect_message_find_part(msg, "2");

  g_assert_cmpstr(qp->charset, ==, "iso-8859-1");
  g_assert_cmpstr(qp->encoding, ==, "quoted-printable");
  g_assert_cmpint(qp->decoded_size, ==, 6); /* "l\xe0 bas": no charset conversion */
  g_assert_cmpint(qp->encoded_size, ==, 10);
  g_assert_cmpstr(b64->disposition, ==, "attachment");
  g_assert_cmpstr(b64->filename, ==, "résumé");
  g_assert_cmpstr(b64->content_id, ==, "c1@x");
  g_assert_cmpint(b64->decoded_size, ==, 5);
  g_assert_cmpstr(b64->sha256, ==,
                  "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  g_assert_null(farceur_inspect_message_find_part(msg, "3"));
}

static void
test_envelope_exim(void)
{
  g_autoptr(FarceurInspectMessage) msg
      = inspect_text("Return-Path: <mallory@Evil.example>\n"
                     "Envelope-to: bob@b.example, eve@e.example\n"
                     "From: Alice <alice@a.example>\nTo: bob@B.example\n\nx\n");
  FarceurInspectEnvelope *env = msg->envelope;

  g_assert_nonnull(env);
  g_assert_cmpstr(env->mail_from, ==, "mallory@Evil.example");
  g_assert_cmpuint(env->rcpt_to->len, ==, 2);
  g_assert_true(env->sender_mismatch);
  g_assert_cmpuint(env->envelope_only->len, ==, 1);
  g_assert_cmpstr(env->envelope_only->pdata[0], ==, "eve@e.example");
  g_assert_cmpuint(env->header_only->len, ==, 0);
  g_assert_cmpuint(env->sources->len, ==, 2);
}

/* To/Cc addresses the envelope does not name, each once. */
static void
test_envelope_header_only(void)
{
  g_autoptr(FarceurInspectMessage) msg
      = inspect_text("Delivered-To: bob@b.example\nFrom: alice@a.example\n"
                     "To: Bob <BOB@b.example>, carol@c.example\nCc: carol@C.example, "
                     "dan@d.example\n\nx\n");
  g_autoptr(FarceurInspectMessage) none
      = inspect_text("Return-Path: <a@a.example>\nTo: bob@b.example\n\nx\n");
  FarceurInspectEnvelope *env = msg->envelope;

  g_assert_cmpuint(env->header_only->len, ==, 2);
  g_assert_cmpstr(env->header_only->pdata[0], ==, "carol@c.example");
  g_assert_cmpstr(env->header_only->pdata[1], ==, "dan@d.example");
  g_assert_cmpuint(env->envelope_only->len, ==, 0);
  /* no recipient recorded: nothing is said about the header ones */
  g_assert_cmpuint(none->envelope->header_only->len, ==, 0);
}

/* FARCEUR_INSPECT_NO_DIGESTS lists the same tree without reading bodies. */
static void
test_no_digests(void)
{
  const char *text = "Content-Type: multipart/mixed; boundary=a\n\n--a\n\nt\n--a\n"
                     "Content-Type: image/png; name=x.png\nContent-Transfer-Encoding: base64\n"
                     "Content-ID: <i@x>\n\naGVsbG8=\n--a--\n";
  g_autoptr(FarceurInputMessage) input = input_from_text(text);
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurInspectMessage) full = inspect_text(text);
  g_autoptr(FarceurInspectMessage) tree
      = farceur_inspect_message(input, FARCEUR_INSPECT_NO_DIGESTS, &error);
  g_autofree char *full_leaves = leaves(full);
  g_autofree char *tree_leaves = NULL;
  const FarceurInspectPart *png;

  g_assert_no_error(error);
  tree_leaves = leaves(tree);
  g_assert_cmpstr(tree_leaves, ==, full_leaves);
  png = farceur_inspect_message_find_part(tree, "2");
  g_assert_cmpstr(png->filename, ==, "x.png");
  g_assert_cmpstr(png->content_id, ==, "i@x");
  g_assert_cmpint(png->decoded_size, ==, -1);
  g_assert_null(png->sha256);
  g_assert_null(tree->headers);
}

static void
test_printable(void)
{
  g_autofree char *bidi = farceur_inspect_printable("invoice\u202Egpj.exe");
  g_autofree char *ctl = farceur_inspect_printable("a\x1b[31mb\r\nc");
  g_autofree char *bad = farceur_inspect_printable("caf\xe9");
  g_autofree char *none = farceur_inspect_printable(NULL);

  g_assert_cmpstr(bidi, ==, "invoice?gpj.exe");
  g_assert_cmpstr(ctl, ==, "a?[31mb??c");
  g_assert_cmpstr(bad, ==, "caf\uFFFD");
  g_assert_cmpstr(none, ==, "");
}

/* FARCEUR_INSPECT_NO_PARTS: the header and the envelope, no MIME walk. */
static void
test_envelope_no_parts(void)
{
  g_autoptr(FarceurInputMessage) input
      = input_from_text("Return-Path: <a@a.example>\nEnvelope-to: b@b.example, w@w.example\n"
                        "From: a@a.example\nTo: b@b.example\nMIME-Version: 1.0\n"
                        "Content-Type: multipart/mixed; boundary=x\n\n--x\n\none\n--x--\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurInspectMessage) msg
      = farceur_inspect_message(input, FARCEUR_INSPECT_NO_PARTS, &error);

  g_assert_no_error(error);
  g_assert_cmpuint(msg->parts->len, ==, 0);
  g_assert_cmpuint(msg->envelope->envelope_only->len, ==, 1);
  g_assert_cmpstr(msg->envelope->envelope_only->pdata[0], ==, "w@w.example");
}

static void
test_envelope_aiosmtpd(void)
{
  g_autoptr(FarceurInspectMessage) msg
      = inspect_text("X-Peer: ('127.0.0.1', 4242)\nX-MailFrom: alice@a.example\n"
                     "X-RcptTo: bob@b.example, carol@c.example\n"
                     "From: alice@A.example\nTo: bob@b.example\nCc: carol@c.example\n\nx\n");
  FarceurInspectEnvelope *env = msg->envelope;

  g_assert_cmpstr(env->mail_from, ==, "alice@a.example");
  g_assert_cmpuint(env->rcpt_to->len, ==, 2);
  g_assert_false(env->sender_mismatch);
  g_assert_cmpuint(env->envelope_only->len, ==, 0);
  g_assert_cmpstr(env->sources->pdata[0], ==, "X-MailFrom");
  g_assert_cmpstr(env->sources->pdata[1], ==, "X-RcptTo");
}

static void
test_envelope_received(void)
{
  g_autoptr(FarceurInspectMessage) msg = inspect_text(
      "Received: from a by mx.b.example with esmtp (Exim 4.96)\n"
      "\t(envelope-from <bounce@lists.example>)\n\tid 1 for bob@b.example;"
      " Mon, 1 Jan 2024 00:00:00 +0000\nFrom: a@a.example\nTo: list@lists.example\n\nx\n");
  FarceurInspectEnvelope *env = msg->envelope;

  g_assert_cmpstr(env->mail_from, ==, "bounce@lists.example");
  g_assert_cmpuint(env->rcpt_to->len, ==, 1);
  g_assert_cmpstr(env->rcpt_to->pdata[0], ==, "bob@b.example");
  g_assert_cmpstr(env->sources->pdata[0], ==, "Received");
}

static void
test_envelope_null_sender_and_none(void)
{
  g_autoptr(FarceurInspectMessage) bounce
      = inspect_text("Return-Path: <>\nFrom: MAILER-DAEMON@x.example\n\nx\n");
  g_autoptr(FarceurInspectMessage) plain = inspect_text("From: a@a.example\n\nx\n");

  g_assert_cmpstr(bounce->envelope->mail_from, ==, "");
  g_assert_false(bounce->envelope->sender_mismatch);
  g_assert_null(plain->envelope);
}

typedef struct {
  const char *in;
  const char *out;
} NameCase;

static const NameCase name_cases[] = {
  { "report.pdf", "report.pdf" },
  { "../../x", "x" },
  { "/abs/path", "path" },
  { "..\\..\\win.ini", "win.ini" },
  { "C:\\Users\\x\\evil.bat", "evil.bat" },
  { "a\x01"
    "b\x7f"
    "c.txt",
    "a_b_c.txt" },
  { ".", "fallback" },
  { "..", "fallback" },
  { ".bashrc", "bashrc" },
  { "   ", "fallback" },
  { "CON", "_CON" },
  { "nul.txt", "_nul.txt" },
  { "com1", "_com1" },
  { "console.txt", "console.txt" },
  { "trailing. . ", "trailing" },
  { "a:b*c?.txt", "a_b_c_.txt" },
  { "\xe2\x80\xae"
    "gpj.exe",
    "_gpj.exe" },
  { "dir/", "fallback" },
  { NULL, "fallback" },
};

static void
test_safe_filename(void)
{
  g_autofree char *longname = g_strnfill(300, 'a');
  g_autofree char *longpdf = g_strconcat(longname, ".pdf", NULL);
  g_autofree char *cut = farceur_inspect_safe_filename(longpdf, "f");
  g_autofree char *utf8 = g_strconcat(longname, "\xc3\xa9\xc3\xa9\xc3\xa9", NULL);
  g_autofree char *cut8 = farceur_inspect_safe_filename(utf8 + 99, "f");

  for (gsize i = 0; i < G_N_ELEMENTS(name_cases); i++) {
    g_autofree char *got = farceur_inspect_safe_filename(name_cases[i].in, "fallback");

    g_assert_cmpstr(got, ==, name_cases[i].out);
  }
  g_assert_cmpuint(strlen(cut), ==, 200);
  g_assert_true(g_str_has_suffix(cut, ".pdf"));
  g_assert_true(g_utf8_validate(cut8, -1, NULL));
  g_assert_cmpuint(strlen(cut8), <=, 200);
}

static void
test_deep_nesting(void)
{
  GString *text = g_string_new(NULL);
  g_autoptr(FarceurInspectMessage) msg = NULL;

  for (int i = 0; i < 120; i++)
    g_string_append_printf(text, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
  g_string_append(text, "\ndeep\n");
  msg = inspect_text(text->str);
  g_string_free(text, TRUE);
  g_assert_cmpuint(msg->parts->len, <=, FARCEUR_INSPECT_MAX_DEPTH + 2);
}

static void
test_json_and_text(void)
{
  g_autoptr(FarceurInspectMessage) msg
      = inspect_text("From: =?utf-8?q?Al=C3=AFce?= <alice@a.example>\nTo: g: b@b.example, "
                     "c@c.example;\nSubject: =?utf-8?q?caf=C3=A9?=\n"
                     "Date: Mon, 1 Jan 2024 01:00:00 +0100\nMessage-ID: <m1@x>\n\nbody\n");
  g_autoptr(JsonNode) node = farceur_inspect_message_to_json(msg);
  JsonObject *root = json_node_get_object(node);
  g_autofree char *text = farceur_inspect_message_format(msg, FARCEUR_INSPECT_FORMAT_PLAIN);

  g_assert_cmpstr(json_object_get_string_member(root, "subject"), ==, "café");
  g_assert_cmpstr(json_object_get_string_member(root, "date"), ==, "2024-01-01T00:00:00Z");
  g_assert_cmpstr(json_object_get_string_member(root, "message_id"), ==, "m1@x");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(root, "to")), ==, 2);
  g_assert_true(json_object_has_member(root, "headers"));
  g_assert_true(json_object_get_null_member(root, "envelope"));
  g_assert_nonnull(strstr(text, "`- 1    text/plain  5 B  sha256 "));
  g_assert_nonnull(strstr(text, "From:     Alïce <alice@a.example>"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  farceur_init();
  for (gsize i = 0; i < G_N_ELEMENTS(path_cases); i++) {
    g_autofree char *name = g_strdup_printf("/inspect/paths/%s", path_cases[i].name);

    g_test_add_data_func(name, &path_cases[i], test_paths);
  }
  g_test_add_func("/inspect/decoding", test_decoding);
  g_test_add_func("/inspect/envelope/exim", test_envelope_exim);
  g_test_add_func("/inspect/envelope/aiosmtpd", test_envelope_aiosmtpd);
  g_test_add_func("/inspect/envelope/no-parts", test_envelope_no_parts);
  g_test_add_func("/inspect/envelope/received", test_envelope_received);
  g_test_add_func("/inspect/envelope/null-sender", test_envelope_null_sender_and_none);
  g_test_add_func("/inspect/envelope/header-only", test_envelope_header_only);
  g_test_add_func("/inspect/no-digests", test_no_digests);
  g_test_add_func("/inspect/printable", test_printable);
  g_test_add_func("/inspect/extract/safe-filename", test_safe_filename);
  g_test_add_func("/inspect/limits/nesting", test_deep_nesting);
  g_test_add_func("/inspect/output/json-and-text", test_json_and_text);
  return g_test_run();
}
