/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the composer: variable binding, goldens (fixed Date and
 * Message-ID), part structure, transfer encodings, RFC 2047/2231, errors,
 * injection attempts and the re-parse check.
 * FARCEUR_REGENERATE=1 rewrites the goldens instead of comparing. */
#include <string.h>

#include <glib/gstdio.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

#define FIXED_ID "golden.1@farceur.test"

static char *
data_path(const char *name)
{
  return g_test_build_filename(G_TEST_DIST, "data", "compose", name, NULL);
}

static FarceurTemplate *
load(const char *name)
{
  g_autofree char *path = data_path(name);
  g_autoptr(GError) error = NULL;
  FarceurTemplate *tmpl = farceur_template_load(path, &error);

  g_assert_no_error(error);
  return tmpl;
}

/* A template from text, its Attach:/Html: paths resolved in the data folder. */
static FarceurTemplate *
parse(const char *text)
{
  g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "data", "compose", NULL);
  g_autoptr(GError) error = NULL;
  FarceurTemplate *tmpl = farceur_template_parse(text, -1, "inline.tmpl", dir, 1, &error);

  g_assert_no_error(error);
  return tmpl;
}

static const char *const default_to[]
    = { "Bob Durand <bob@example.org>", "\"Martin, Carol\" <carol@example.net>", NULL };

static FarceurComposeRequest
request_fixed(GDateTime *date)
{
  FarceurComposeRequest request = {
    .from = "Alice Martin <alice@example.com>",
    .to = default_to,
    .date = date,
    .message_id = FIXED_ID,
  };
  return request;
}

static GMimeMessage *
compose_ok(const FarceurTemplate *tmpl, const FarceurComposeRequest *request)
{
  g_autoptr(GError) error = NULL;
  GMimeMessage *message = farceur_compose_message(tmpl, request, &error);

  g_assert_no_error(error);
  g_assert_nonnull(message);
  return message;
}

static GDateTime *
fixed_date(void)
{
  return g_date_time_new_utc(2024, 2, 29, 13, 37, 0);
}

static char *
serialise(GMimeMessage *message)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new();
  g_autoptr(GError) error = NULL;
  GByteArray *bytes;

  g_assert_true(farceur_compose_write_message(GMIME_OBJECT(message), stream, &error));
  g_assert_no_error(error);
  bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
  return g_strndup((const char *)bytes->data, bytes->len);
}

/* Compares @got with the golden file, line by line for a readable failure. */
static void
assert_golden(const char *got, const char *golden)
{
  g_autofree char *path = data_path(golden);
  g_autofree char *want = NULL;
  g_auto(GStrv) want_lines = NULL;
  g_auto(GStrv) got_lines = NULL;

  if (g_getenv("FARCEUR_REGENERATE")) {
    g_assert_true(g_file_set_contents(path, got, -1, NULL));
    return;
  }
  g_assert_true(g_file_get_contents(path, &want, NULL, NULL));
  want_lines = g_strsplit(want, "\n", -1);
  got_lines = g_strsplit(got, "\n", -1);
  for (guint i = 0; want_lines[i] || got_lines[i]; i++) {
    if (g_strcmp0(want_lines[i], got_lines[i]) != 0)
      g_error("%s line %u:\n  want: %s\n  got:  %s", golden, i + 1,
              want_lines[i] ? want_lines[i] : "(end)", got_lines[i] ? got_lines[i] : "(end)");
    if (!want_lines[i] || !got_lines[i])
      break;
  }
}

static void
test_bind_vars(void)
{
  const char *to[] = { "Bob Durand <bob@example.org>", "jean.dupont@example.net, zoe@x.org", NULL };
  g_autoptr(GHashTable) extra = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request
      = { .from = "alice-m@example.com", .to = to, .vars = extra, .date = date };
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) vars = NULL;

  g_hash_table_insert(extra, (gpointer) "recipient.first_name", (gpointer) "Robert");
  g_hash_table_insert(extra, (gpointer) "sender.team", (gpointer) "blue");
  vars = farceur_compose_bind_vars(&request, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(g_hash_table_lookup(vars, "sender.name"), ==, "alice-m@example.com");
  g_assert_cmpstr(g_hash_table_lookup(vars, "sender.email"), ==, "alice-m@example.com");
  g_assert_cmpstr(g_hash_table_lookup(vars, "sender.first_name"), ==, "Alice");
  g_assert_cmpstr(g_hash_table_lookup(vars, "sender.team"), ==, "blue");
  g_assert_cmpstr(g_hash_table_lookup(vars, "recipients.names"), ==,
                  "Bob Durand, jean.dupont@example.net, zoe@x.org");
  g_assert_cmpstr(g_hash_table_lookup(vars, "recipients.emails"), ==,
                  "bob@example.org, jean.dupont@example.net, zoe@x.org");
  g_assert_cmpstr(g_hash_table_lookup(vars, "recipient.name"), ==, "Bob Durand");
  g_assert_cmpstr(g_hash_table_lookup(vars, "recipient.email"), ==, "bob@example.org");
  g_assert_cmpstr(g_hash_table_lookup(vars, "recipient.first_name"), ==, "Robert"); /* vars win */
  g_assert_cmpstr(g_hash_table_lookup(vars, "date"), ==, "2024-02-29");
}

static void
test_bind_first_name(void)
{
  static const struct {
    const char *addr, *first;
  } cases[] = {
    { "Jean-Luc Picard <jl@x.org>", "Jean-Luc" },
    { "  Élodie   Durand  <e@x.org>", "Élodie" },
    { "jean.dupont@x.org", "Jean" },
    { "émile_zola@x.org", "Émile" },
    { "\"Dupont, Jean\" <jd@x.org>", "Jean" },
    { "\"Dupont,\" <jd@x.org>", "Dupont" },
    { "42@x.org", "42" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *to[] = { cases[i].addr, NULL };
    FarceurComposeRequest request = { .to = to };
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) vars = farceur_compose_bind_vars(&request, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(g_hash_table_lookup(vars, "recipient.first_name"), ==, cases[i].first);
  }
}

/* CR, LF, other controls in any address or value: FARCEUR_ERROR_DATA. */
static void
test_bind_refuses_controls(void)
{
  static const char *bad[]
      = { "Eve\r\nBcc: x@evil.org <eve@x.org>", "eve@x.org\n", "Eve\t\x01 <e@x.org>",
          "Eve <e\r@x.org>", "=?utf-8?q?Eve=0D=0AX-Evil=3A_1?= <e@x.org>" };

  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    const char *to[] = { bad[i], NULL };
    FarceurComposeRequest as_from = { .from = bad[i] };
    FarceurComposeRequest as_to = { .to = to };
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GHashTable) v1 = farceur_compose_bind_vars(&as_from, &e1);
    g_autoptr(GHashTable) v2 = farceur_compose_bind_vars(&as_to, &e2);
    g_assert_error(e1, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
    g_assert_error(e2, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
    g_assert_null(v1);
    g_assert_null(v2);
  }
}

static void
test_golden(gconstpointer data)
{
  const char *name = data;
  g_autofree char *tmpl_name = g_strconcat(name, ".tmpl", NULL);
  g_autofree char *golden = g_strconcat(name, ".expect", NULL);
  g_autoptr(FarceurTemplate) tmpl = load(tmpl_name);
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GMimeMessage) message = compose_ok(tmpl, &request);
  g_autoptr(GMimeMessage) again = compose_ok(tmpl, &request);
  g_autofree char *text = serialise(message);
  g_autofree char *text2 = serialise(again);
  g_autofree char *text3 = serialise(message); /* attachments re-read from the start */

  g_assert_cmpstr(text, ==, text2);
  g_assert_cmpstr(text, ==, text3);
  assert_golden(text, golden);
}

/* "type/subtype" of every part, depth first, joined by spaces. */
static void
structure_walk(GMimeObject *object, GString *out)
{
  g_autofree char *type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(object));

  g_string_append_printf(out, "%s%s", out->len ? " " : "", type);
  if (GMIME_IS_MULTIPART(object)) {
    int n = g_mime_multipart_get_count(GMIME_MULTIPART(object));
    g_string_append(out, " [");
    for (int i = 0; i < n; i++)
      structure_walk(g_mime_multipart_get_part(GMIME_MULTIPART(object), i), out);
    g_string_append(out, " ]");
  }
}

static char *
structure_of(const char *text, const char *const *extra)
{
  g_autoptr(FarceurTemplate) tmpl = parse(text);
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GString) out = g_string_new(NULL);

  request.attach = extra;
  message = compose_ok(tmpl, &request);
  structure_walk(g_mime_message_get_mime_part(message), out);
  return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
test_structure(void)
{
  static const struct {
    const char *tmpl, *want;
  } cases[] = {
    { "Subject: s\n\nbody\n", "text/plain" },
    { "Subject: s\nAttach: flyer.pdf\n\nbody\n", "multipart/mixed [ text/plain application/pdf ]" },
    { "Subject: s\nHtml: full.html\n\nbody\n",
      /* full.html names cid:logo, but no attachment has that cid */
      "multipart/alternative [ text/plain text/html ]" },
    { "Subject: s\nHtml: full.html\nAttach: logo.png; cid=logo\n\nbody\n",
      "multipart/alternative [ text/plain multipart/related [ text/html image/png ] ]" },
    { "Subject: s\nHtml: full.html\nAttach: logo.png; cid=other\n\nbody\n",
      "multipart/mixed [ multipart/alternative [ text/plain text/html ] image/png ]" },
    { "Subject: s\nAttach: logo.png; cid=logo\n\nbody\n",
      "multipart/mixed [ text/plain image/png ]" },
    { "Subject: s\nHtml: full.html\nAttach: logo.png; cid=logo\nAttach: flyer.pdf\n\nbody\n",
      "multipart/mixed [ multipart/alternative [ text/plain multipart/related [ text/html "
      "image/png ] ] application/pdf ]" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = structure_of(cases[i].tmpl, NULL);
    g_assert_cmpstr(got, ==, cases[i].want);
  }
}

static void
test_structure_extra_attach(void)
{
  g_autofree char *bin = data_path("all-bytes.bin");
  const char *extra[] = { bin, NULL };
  g_autofree char *got = structure_of("Subject: s\n\nbody\n", extra);

  g_assert_cmpstr(got, ==, "multipart/mixed [ text/plain application/octet-stream ]");
}

static GMimePart *
first_leaf(GMimeObject *object)
{
  while (GMIME_IS_MULTIPART(object))
    object = g_mime_multipart_get_part(GMIME_MULTIPART(object), 0);
  return GMIME_PART(object);
}

static GMimeContentEncoding
body_encoding(const char *body)
{
  g_autofree char *text = g_strconcat("Subject: s\n\n", body, NULL);
  g_autoptr(FarceurTemplate) tmpl = parse(text);
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GMimeMessage) message = compose_ok(tmpl, &request);
  GMimePart *part = first_leaf(g_mime_message_get_mime_part(message));

  g_assert_cmpstr(g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset"), ==,
                  "utf-8");
  return g_mime_part_get_content_encoding(part);
}

static gsize
longest_line(const char *text)
{
  gsize longest = 0;

  for (const char *p = text; *p;) {
    gsize n = strcspn(p, "\n");
    longest = MAX(longest, n);
    p += n + (p[n] == '\n');
  }
  return longest;
}

static void
test_encodings(void)
{
  g_autofree char *long_line = g_strnfill(1500, 'x');
  g_autofree char *cjk = g_strdup("日本語のテキスト、中文测试。日本語のテキスト、中文测试。\n");

  g_assert_cmpint(body_encoding("plain ascii\n.\n"), ==, GMIME_CONTENT_ENCODING_7BIT);
  g_assert_cmpint(body_encoding("un peu de français\n"), ==,
                  GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  g_assert_cmpint(body_encoding(cjk), ==, GMIME_CONTENT_ENCODING_BASE64);
  g_assert_cmpint(body_encoding(long_line), ==, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  g_assert_cmpint(body_encoding("hello\nFrom here\n"), ==, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
}

/* A 1,500-character line: no physical line over 998 octets, no CR. */
static void
test_long_line(void)
{
  g_autofree char *long_line = g_strnfill(1500, 'y');
  g_autofree char *text = g_strconcat("Subject: s\nHtml: full.html\n\n", long_line, "\n", NULL);
  g_autoptr(FarceurTemplate) tmpl = parse(text);
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GMimeMessage) message = compose_ok(tmpl, &request);
  g_autofree char *out = serialise(message);

  g_assert_cmpuint(longest_line(out), <=, 998);
  g_assert_null(strchr(out, '\r'));
}

static void
test_headers_encoded(void)
{
  g_autoptr(FarceurTemplate) tmpl
      = parse("Subject: Félicitations 🎉 {{recipient.first_name}}\nX-Note: «ça» 日本\n\nb\n");
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GMimeMessage) message = compose_ok(tmpl, &request);
  g_autofree char *out = serialise(message);
  g_autofree char *decoded = NULL;

  g_assert_cmpstr(g_mime_message_get_subject(message), ==, "Félicitations 🎉 Bob");
  g_assert_true(g_str_is_ascii(out));
  g_assert_nonnull(strstr(out, "X-Note: =?UTF-8?"));
  decoded = g_mime_utils_header_decode_text(
      NULL, g_mime_object_get_header(GMIME_OBJECT(message), "X-Note"));
  g_assert_cmpstr(decoded, ==, "«ça» 日本");
  g_assert_nonnull(strstr(out, "Message-Id: <" FIXED_ID ">"));
  g_assert_nonnull(strstr(out, "Date: Thu, 29 Feb 2024 13:37:00 +0000"));
  g_assert_nonnull(strstr(out, "MIME-Version: 1.0"));
}

/* RFC 2231 file names in UTF-8, even when ISO-8859-1 would do. */
static void
test_filename_utf8(void)
{
  g_autoptr(FarceurTemplate) tmpl
      = parse("Subject: s\nAttach: flyer.pdf; name=façade été.pdf\n\nb\n");
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GMimeMessage) message = compose_ok(tmpl, &request);
  g_autofree char *out = serialise(message);

  g_assert_nonnull(strstr(out, "filename*=UTF-8''fa%C3%A7ade%20%C3%A9t%C3%A9.pdf"));
  g_assert_nonnull(strstr(out, "name*=UTF-8''fa%C3%A7ade"));
  g_assert_null(strstr(out, "iso-8859-1"));
}

static void
test_template_overrides(void)
{
  g_autoptr(FarceurTemplate) tmpl
      = parse("Subject: s\nFrom: Le Patron <boss@corp.example>\nTo: {{recipient.email}}\n\nb\n");
  g_autoptr(GDateTime) date = fixed_date();
  const char *cc[] = { "cc@example.org", NULL };
  const char *bcc[] = { "witness@example.org", NULL };
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GMimeMessage) message = NULL;
  g_autofree char *from = NULL, *to = NULL, *ccs = NULL, *bccs = NULL;

  request.cc = cc;
  request.bcc = bcc;
  message = compose_ok(tmpl, &request);
  from = internet_address_list_to_string(g_mime_message_get_from(message), NULL, FALSE);
  to = internet_address_list_to_string(g_mime_message_get_to(message), NULL, FALSE);
  ccs = internet_address_list_to_string(g_mime_message_get_cc(message), NULL, FALSE);
  bccs = internet_address_list_to_string(g_mime_message_get_bcc(message), NULL, FALSE);
  g_assert_cmpstr(from, ==, "Le Patron <boss@corp.example>");
  g_assert_cmpstr(to, ==, "bob@example.org");
  g_assert_cmpstr(ccs, ==, "cc@example.org");
  g_assert_cmpstr(bccs, ==, "witness@example.org");
}

static void
assert_compose_fails(const char *text, const FarceurComposeRequest *request, int code,
                     const char *message_part)
{
  g_autoptr(FarceurTemplate) tmpl = parse(text);
  g_autoptr(GError) error = NULL;
  g_autoptr(GMimeMessage) message = farceur_compose_message(tmpl, request, &error);

  g_assert_null(message);
  g_assert_error(error, FARCEUR_ERROR, code);
  if (strstr(error->message, message_part) == NULL)
    g_error("error '%s' does not say '%s'", error->message, message_part);
}

/* The template parser refuses a template without Subject; the composer
 * checks again for templates built by other means. */
static void
test_error_no_subject(void)
{
  g_autoptr(FarceurTemplate) tmpl = parse("Subject: s\nX-A: b\n\nbody\n");
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GError) error = NULL;
  g_autoptr(GMimeMessage) message = NULL;

  g_ptr_array_remove_index(tmpl->headers, 0);
  message = farceur_compose_message(tmpl, &request, &error);
  g_assert_null(message);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_cmpstr(error->message, ==, "template 'inline.tmpl': no Subject header");
}

static void
test_errors(void)
{
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  FarceurComposeRequest no_from = { .to = default_to, .date = date };
  const char *missing[] = { "/nonexistent/farceur.bin", NULL };
  FarceurComposeRequest extra = { .from = "a@b.org", .attach = missing };

  assert_compose_fails("Subject: hi {{sender.nmae}}\n\nbody\n", &request, FARCEUR_ERROR_DATA,
                       "template 'inline.tmpl' line 1: unknown placeholder '{{sender.nmae}}'");
  assert_compose_fails("Subject: hi\n\nbody\n\n{{nope}}\n", &request, FARCEUR_ERROR_DATA,
                       "template 'inline.tmpl' line 5: unknown placeholder '{{nope}}'");
  assert_compose_fails("Subject: hi\nAttach: missing.pdf\n\nbody\n", &request, FARCEUR_ERROR_DATA,
                       "missing.pdf' (template 'inline.tmpl' line 2): no such file");
  assert_compose_fails("Subject: hi\nHtml: missing.html\n\nbody\n", &request, FARCEUR_ERROR_DATA,
                       "missing.html' (template 'inline.tmpl' line 2): no such file");
  assert_compose_fails("Subject: hi\nContent-Type: text/html\n\nbody\n", &request,
                       FARCEUR_ERROR_DATA, "line 2: header 'Content-Type' is set by farceur");
  assert_compose_fails("Subject: hi\nDate: yesterday\n\nbody\n", &request, FARCEUR_ERROR_DATA,
                       "header 'Date' is set by farceur");
  assert_compose_fails("Subject: a\nSubject: b\n\nbody\n", &request, FARCEUR_ERROR_DATA,
                       "line 2: second Subject header");
  assert_compose_fails("Subject: hi\n\nbody\n", &no_from, FARCEUR_ERROR_DATA, "no sender");
  assert_compose_fails("Subject: hi\nTo: nobody\n\nbody\n", &request, FARCEUR_ERROR_DATA,
                       "line 2: 'To' address: invalid address 'nobody': no '@'");
  assert_compose_fails("Subject: hi\n\nbody\n", &extra, FARCEUR_ERROR_NOINPUT,
                       "attachment '/nonexistent/farceur.bin': no such file");
}

/* A variable with CR or LF (or another control) is refused wherever it
 * lands: subject, custom header, address header, body. */
static void
test_injection_vars(void)
{
  static const char *templates[] = {
    "Subject: {{evil}}\n\nb\n",
    "Subject: s\nX-Custom: a {{evil}} b\n\nb\n",
    "Subject: s\nTo: {{evil}} <a@b.org>\n\nb\n",
    "Subject: s\nReply-To: x@{{evil}}\n\nb\n",
    "Subject: s\n\nbody {{evil}}\n",
  };
  static const char *values[]
      = { "x\r\nBcc: victim@evil.org", "x\nX-Evil: 1", "x\rY", "a\x1b[2Jb", "x\x7f" };
  g_autoptr(GDateTime) date = fixed_date();

  for (gsize t = 0; t < G_N_ELEMENTS(templates); t++) {
    for (gsize v = 0; v < G_N_ELEMENTS(values); v++) {
      g_autoptr(GHashTable) vars = g_hash_table_new(g_str_hash, g_str_equal);
      FarceurComposeRequest request = request_fixed(date);
      g_hash_table_insert(vars, (gpointer) "evil", (gpointer)values[v]);
      request.vars = vars;
      if (t == G_N_ELEMENTS(templates) - 1 && v == 1)
        continue; /* LF in the body: a line break, see test_body_var_newline */
      assert_compose_fails(templates[t], &request, FARCEUR_ERROR_DATA, "control character");
    }
  }
}

/* A variable used only in the body may hold a line break; the same one in
 * a header is refused, naming the header's line. */
static void
test_body_var_newline(void)
{
  g_autoptr(FarceurTemplate) body = parse("Subject: s\n\nHello\n{{sig}}\n");
  g_autoptr(GHashTable) vars = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GMimeMessage) message = NULL;
  GMimeObject *part;
  g_autofree char *text = NULL;

  g_hash_table_insert(vars, (gpointer) "sig", (gpointer) "--\nAlice\tMartin");
  request.vars = vars;
  message = compose_ok(body, &request);
  part = g_mime_message_get_mime_part(message);
  text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
  g_assert_cmpstr(text, ==, "Hello\n--\nAlice\tMartin\n");
  assert_compose_fails("Subject: s\nX-Sig:\n {{sig}}\n\nb\n", &request, FARCEUR_ERROR_DATA,
                       "control character 0x0a");
}

/* Over-long header names and Message-IDs are refused (a header line must
 * stay within 998 octets). */
static void
test_long_names(void)
{
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autofree char *name = g_strnfill(1200, 'X');
  g_autofree char *text = g_strdup_printf("Subject: s\n%s: v\n\nb\n", name);
  g_autofree char *id = g_strdup_printf("%s@example.org", name);

  assert_compose_fails(text, &request, FARCEUR_ERROR_DATA, "line 2: header name 'XXXX");
  request.message_id = id;
  assert_compose_fails("Subject: s\n\nb\n", &request, FARCEUR_ERROR_DATA, "invalid Message-ID");
}

/* cid: references match whole ids: "cid:logo2" is not "cid=logo". */
static void
test_cid_token(void)
{
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(FarceurTemplate) tmpl
      = parse("Subject: s\nHtml: cid2.html\nAttach: logo.png; inline; cid=logo\n\nb\n");
  g_autoptr(GMimeMessage) message = compose_ok(tmpl, &request);
  GMimeObject *top = g_mime_message_get_mime_part(message);

  /* mixed(alternative(plain, html), logo): no multipart/related */
  g_assert_true(
      g_mime_content_type_is_type(g_mime_object_get_content_type(top), "multipart", "mixed"));
  g_assert_true(GMIME_IS_TEXT_PART(g_mime_multipart_get_part(
      GMIME_MULTIPART(g_mime_multipart_get_part(GMIME_MULTIPART(top), 0)), 1)));
}

/* Text attachments say their charset; text that is not UTF-8 is sent as
 * application/octet-stream. */
static void
test_attach_charset(void)
{
  static const struct {
    const char *content;
    const char *type;
  } cases[] = {
    { "Zoé 🎉\n", "text/plain; charset=utf-8" },
    { "plain\n", "text/plain; charset=us-ascii" },
    { "Zo\xe9\n", "application/octet-stream" },
  };
  g_autoptr(GDateTime) date = fixed_date();

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "farceur-test-note.txt", NULL);
    const char *attach[] = { path, NULL };
    FarceurComposeRequest request = request_fixed(date);
    g_autoptr(FarceurTemplate) tmpl = parse("Subject: s\n\nb\n");
    g_autoptr(GMimeMessage) message = NULL;
    GMimeObject *part;
    g_autofree char *type = NULL;

    g_assert_true(g_file_set_contents(path, cases[i].content, -1, NULL));
    request.attach = attach;
    message = compose_ok(tmpl, &request);
    part = g_mime_multipart_get_part(GMIME_MULTIPART(g_mime_message_get_mime_part(message)), 1);
    type = g_mime_content_type_encode(g_mime_object_get_content_type(part), NULL);
    g_assert_nonnull(strstr(type, cases[i].type));
    g_unlink(path);
  }
}

/* Attachment name, type and cid set by a caller (the campaign builds specs
 * too): controls refused before GMime, which writes ASCII parameters raw. */
static void
test_injection_attach(void)
{
  static const char *evil[] = { "a.pdf\r\nX-Evil: 1", "a.pdf\"\nContent-Type: text/html" };
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);

  for (guint field = 0; field < 3; field++) {
    for (gsize i = 0; i < G_N_ELEMENTS(evil); i++) {
      g_autoptr(FarceurTemplate) tmpl = parse("Subject: s\nAttach: flyer.pdf\n\nb\n");
      FarceurAttachSpec *spec = tmpl->attachments->pdata[0];
      g_autoptr(GError) error = NULL;
      g_autoptr(GMimeMessage) message = NULL;
      char **slot = field == 0 ? &spec->name : field == 1 ? &spec->type : &spec->cid;
      g_free(*slot);
      *slot = g_strdup(evil[i]);
      message = farceur_compose_message(tmpl, &request, &error);
      g_assert_null(message);
      g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
      g_assert_nonnull(strstr(error->message, "(template 'inline.tmpl' line 2)"));
    }
  }
}

/* An encoded-word that decodes to CR LF stays inside its header: the
 * re-parse finds exactly the intended header names. */
static void
test_injection_encoded_word(void)
{
  g_autoptr(FarceurTemplate) tmpl = parse("Subject: {{evil}}\nX-Custom: {{evil}}\n\nb\n");
  g_autoptr(GHashTable) vars = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GMimeMessage) again = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  GMimeHeaderList *headers;

  g_hash_table_insert(vars, (gpointer) "evil",
                      (gpointer) "=?utf-8?q?x=0D=0ABcc:_victim@evil.org?=");
  request.vars = vars;
  message = compose_ok(tmpl, &request);
  out = serialise(message);
  stream = g_mime_stream_mem_new_with_buffer(out, strlen(out));
  parser = g_mime_parser_new_with_stream(stream);
  again = g_mime_parser_construct_message(parser, NULL);
  headers = g_mime_object_get_header_list(GMIME_OBJECT(again));
  g_assert_false(g_mime_header_list_contains(headers, "Bcc"));
  g_assert_cmpint(g_mime_header_list_get_count(headers), ==,
                  7); /* From To Subject Date Message-Id X-Custom MIME-Version */
  /* written as encoded-words that decode to the literal text */
  g_assert_cmpstr(g_mime_message_get_subject(again), ==, "=?utf-8?q?x=0D=0ABcc:_victim@evil.org?=");
  g_assert_cmpstr(g_mime_header_get_value(g_mime_header_list_get_header(headers, "X-Custom")), ==,
                  "=?utf-8?q?x=0D=0ABcc:_victim@evil.org?=");
}

/* RFC 5322 3.6.2: From and Sender are mailbox lists.  An encoded-word
 * holding ':' turns a display name into a group, whose name GMime leaves
 * encoded: it is decoded and checked too. */
static void
test_groups(void)
{
  static const char *const bad_from[]
      = { "Team: a@b.org, x@y.org;", "=?utf-8?q?a=0D=0AX-Injected:_1?= <a@b.org>", NULL };
  static const char *const bad_tmpl[]
      = { "From: Undisclosed:;\nSubject: s\n\nb\n", "From: {{n}} <a@b.org>\nSubject: s\n\nb\n",
          "Subject: s\nTo: =?utf-8?q?a=0D=0AX?=: c@d.org;\n\nb\n", NULL };
  g_autoptr(GHashTable) vars = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GDateTime) date = fixed_date();

  g_hash_table_insert(vars, (gpointer) "n", (gpointer) "=?utf-8?q?a=0D=0AX-Injected:_1?=");
  for (gsize i = 0; bad_from[i]; i++) {
    FarceurComposeRequest request = { .from = bad_from[i] };
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) bound = farceur_compose_bind_vars(&request, &error);
    g_assert_null(bound);
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  }
  for (gsize i = 0; bad_tmpl[i]; i++) {
    g_autoptr(FarceurTemplate) tmpl = parse(bad_tmpl[i]);
    FarceurComposeRequest request = request_fixed(date);
    g_autoptr(GError) error = NULL;
    g_autoptr(GMimeMessage) message = NULL;
    request.vars = vars;
    message = farceur_compose_message(tmpl, &request, &error);
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
    g_assert_null(message);
  }
  {
    g_autoptr(FarceurTemplate) tmpl = parse("Subject: s\nTo: Friends: c@d.org, e@f.org;\n\nb\n");
    FarceurComposeRequest request = request_fixed(date);
    g_autoptr(GMimeMessage) message = compose_ok(tmpl, &request);
    g_autofree char *out = serialise(message);
    g_assert_nonnull(strstr(out, "\nTo: Friends: c@d.org, e@f.org;\n"));
  }
}

/* Address headers beyond From..Bcc are checked and written in UTF-8. */
static void
test_other_address_headers(void)
{
  g_autoptr(FarceurTemplate) tmpl
      = parse("Subject: s\nResent-To: Zoé <z@example.org>\nDisposition-Notification-To: "
              "Zoé <z@example.org>\n\nb\n");
  g_autoptr(FarceurTemplate) bad = parse("Subject: s\nResent-From: nobody\n\nb\n");
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GMimeMessage) message = compose_ok(tmpl, &request);
  g_autofree char *out = serialise(message);
  g_autoptr(GError) error = NULL;
  g_autoptr(GMimeMessage) none = NULL;

  g_assert_nonnull(strstr(out, "\nResent-To: =?UTF-8?b?Wm/DqQ==?= <z@example.org>\n"));
  g_assert_nonnull(
      strstr(out, "\nDisposition-Notification-To: =?UTF-8?b?Wm/DqQ==?= <z@example.org>\n"));
  none = farceur_compose_message(bad, &request, &error);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
}

/* The re-parse decodes every header: a raw value that a reader decodes to
 * CR LF is caught even though the header names are right. */
static void
test_verify_decodes(void)
{
  g_autoptr(FarceurTemplate) tmpl = parse("Subject: s\nX-Custom: c\n\nbody\n");
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GMimeMessage) message = compose_ok(tmpl, &request);
  GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(message));
  g_autoptr(GError) error = NULL;

  g_mime_header_set_raw_value(g_mime_header_list_get_header(headers, "X-Custom"),
                              " =?utf-8?q?a=0D=0AX:_1?=\n");
  g_assert_false(farceur_compose_verify(message, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "X-Custom"));
}

/* The re-parse check catches what GMime 3.2 lets through on its own: an
 * ASCII parameter with CR LF written raw, and a boundary line in a 7bit body. */
static void
test_verify_catches(void)
{
  g_autoptr(FarceurTemplate) tmpl = parse("Subject: s\nAttach: flyer.pdf\n\nbody\n");
  g_autoptr(GDateTime) date = fixed_date();
  FarceurComposeRequest request = request_fixed(date);
  g_autoptr(GMimeMessage) message = compose_ok(tmpl, &request);
  GMimeMultipart *mixed = GMIME_MULTIPART(g_mime_message_get_mime_part(message));
  GMimePart *attachment = GMIME_PART(g_mime_multipart_get_part(mixed, 1));
  GMimePart *text = GMIME_PART(g_mime_multipart_get_part(mixed, 0));
  g_autoptr(GError) error = NULL;
  g_autofree char *smuggled = NULL;
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeDataWrapper) content = NULL;

  g_assert_true(farceur_compose_verify(message, &error));
  g_assert_no_error(error);

  g_mime_part_set_filename(attachment, "a.pdf\r\nX-Evil: 1");
  g_assert_false(farceur_compose_verify(message, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "X-Evil"));
  g_clear_error(&error);
  g_mime_part_set_filename(attachment, "a.pdf");
  g_assert_true(farceur_compose_verify(message, &error));

  smuggled = g_strdup_printf("hi\n--%s\nContent-Type: text/html\n\n<b>evil</b>\n",
                             g_mime_multipart_get_boundary(mixed));
  stream = g_mime_stream_mem_new_with_buffer(smuggled, strlen(smuggled));
  content = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content(text, content);
  g_mime_part_set_content_encoding(text, GMIME_CONTENT_ENCODING_7BIT);
  g_assert_false(farceur_compose_verify(message, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "parts"));
}

static void
test_check_header_value(void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true(farceur_compose_check_header_value("x", "tab\tand ünïcode 🎉", &error));
  g_assert_no_error(error);
  g_assert_false(farceur_compose_check_header_value("subject", "a\r\nb", &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_cmpstr(error->message, ==, "invalid subject 'a\\r\\nb': control character 0x0d");
  g_clear_error(&error);
  g_assert_false(farceur_compose_check_header_value("x", "\xff\xfe", &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_clear_error(&error);
  g_assert_false(farceur_compose_check_header_value("subject", "Zoé\xc2\x85next", &error));
  g_assert_cmpstr(error->message, ==, "invalid subject 'Zoé\\u0085next': control character 0x85");
  g_clear_error(&error);
  g_assert_false(farceur_compose_check_header_value("subject",
                                                    "a\xe2\x80\xa8"
                                                    "b",
                                                    &error));
  g_assert_cmpstr(error->message, ==, "invalid subject 'a\\u2028b': control character U+2028");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  farceur_init();
  g_test_add_func("/compose/bind/vars", test_bind_vars);
  g_test_add_func("/compose/bind/first-name", test_bind_first_name);
  g_test_add_func("/compose/bind/refuses-controls", test_bind_refuses_controls);
  g_test_add_data_func("/compose/golden/plain", "plain", test_golden);
  g_test_add_data_func("/compose/golden/full", "full", test_golden);
  g_test_add_func("/compose/structure/parts", test_structure);
  g_test_add_func("/compose/structure/extra-attach", test_structure_extra_attach);
  g_test_add_func("/compose/encoding/text", test_encodings);
  g_test_add_func("/compose/encoding/long-line", test_long_line);
  g_test_add_func("/compose/headers/rfc2047", test_headers_encoded);
  g_test_add_func("/compose/headers/filename-utf8", test_filename_utf8);
  g_test_add_func("/compose/headers/template-overrides", test_template_overrides);
  g_test_add_func("/compose/errors/template", test_errors);
  g_test_add_func("/compose/errors/no-subject", test_error_no_subject);
  g_test_add_func("/compose/injection/vars", test_injection_vars);
  g_test_add_func("/compose/injection/attach", test_injection_attach);
  g_test_add_func("/compose/injection/encoded-word", test_injection_encoded_word);
  g_test_add_func("/compose/verify/catches", test_verify_catches);
  g_test_add_func("/compose/verify/decodes", test_verify_decodes);
  g_test_add_func("/compose/vars/body-newline", test_body_var_newline);
  g_test_add_func("/compose/headers/long-names", test_long_names);
  g_test_add_func("/compose/structure/cid-token", test_cid_token);
  g_test_add_func("/compose/attach/charset", test_attach_charset);
  g_test_add_func("/compose/addresses/groups", test_groups);
  g_test_add_func("/compose/addresses/other-headers", test_other_address_headers);
  g_test_add_func("/compose/check-header-value", test_check_header_value);
  return g_test_run();
}
