/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The web view: its models and escaping, then every route of a real server
 * (FarceurWebServer on 127.0.0.1:0) through a real HTTP client (libsoup's
 * SoupSession, and raw sockets for requests a client library would tidy up:
 * dot segments, a foreign Host). */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"
#include "web-private.h"

#define PNG_B64                                                                                    \
  "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEklEQVR4nGP4z8CAFWEXHbQSACj/P8Fu7N9hAAAAAElFTk" \
  "SuQmCC"

/* Everything a sender controls, aimed at the page: the subject, a display
 * name, a file name; an HTML body with a script, an onerror handler, a
 * tracking pixel and a cid: image. */
#define HOSTILE                                                                                    \
  "Return-Path: <mallory@evil.example>\n"                                                          \
  "Envelope-to: victim@b.example, hidden@c.example\n"                                              \
  "From: \"<img src=x onerror=alert(1)>\" <ceo@bank.example>\n"                                    \
  "To: Victim <victim@b.example>, other@d.example\n"                                               \
  "Subject: <script>alert('subject')</script>\n"                                                   \
  "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"                                                         \
  "Message-ID: <hostile@evil.example>\n"                                                           \
  "MIME-Version: 1.0\n"                                                                            \
  "Content-Type: multipart/mixed; boundary=m\n\n"                                                  \
  "--m\nContent-Type: multipart/related; boundary=r\n\n"                                           \
  "--r\nContent-Type: multipart/alternative; boundary=a\n\n"                                       \
  "--a\nContent-Type: text/plain; charset=iso-8859-1\n"                                            \
  "Content-Transfer-Encoding: quoted-printable\n\n"                                                \
  "Caf=E9 <b>not bold</b>\n"                                                                       \
  "--a\nContent-Type: text/html; charset=utf-8\n\n"                                                \
  "<html><body><script>document.title='pwned'</script><img src=\"cid:logo@x\">"                    \
  "<img src=\"http://127.0.0.1:1/pixel.png\"><img src=x onerror=\"alert(2)\">"                     \
  "<a href=\"https://example.org/\">a link</a></body></html>\n"                                    \
  "--a--\n"                                                                                        \
  "--r\nContent-Type: image/png\nContent-ID: <logo@x>\nContent-Transfer-Encoding: "                \
  "base64\n\n" PNG_B64 "\n"                                                                        \
  "--r--\n"                                                                                        \
  "--m\nContent-Type: text/plain; name=\"<script>x</script>.txt\"\n"                               \
  "Content-Disposition: attachment; filename=\"\\\"><svg onload=alert(3)>.txt\"\n\n"               \
  "attached\n"                                                                                     \
  "--m\nContent-Type: application/pdf\nContent-Disposition: attachment; "                          \
  "filename*=utf-8''r%C3%A9sum%C3%A9.pdf\nContent-Transfer-Encoding: base64\n\n"                   \
  "JVBERi0xLjQK\n"                                                                                 \
  "--m--\n"

/* ---- models and escaping ------------------------------------------------------ */

/* @text as farceur reads it from a file: the file is gone once it is read
 * (a small message is read whole). */
static FarceurInputMessage *
input_from_text(const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(FarceurInput) input = NULL;
  FarceurInputMessage *msg;
  int fd = g_file_open_tmp("farceur-web-XXXXXX.eml", &path, &error);

  g_assert_no_error(error);
  g_assert_cmpint(write(fd, text, strlen(text)), ==, strlen(text));
  close(fd);
  input = farceur_input_open(path, &error);
  msg = farceur_input_next(input, &error);
  g_assert_no_error(error);
  g_unlink(path);
  return msg;
}

static void
test_id(void)
{
  g_autofree char *a = farceur_web_id("/x/new/1", 0, 0);
  g_autofree char *again = farceur_web_id("/x/new/1", 0, 0);
  g_autofree char *other = farceur_web_id("/x/new/2", 0, 0);
  g_autofree char *second = farceur_web_id("/x/box", 2, 120);

  g_assert_cmpstr(a, ==, again);
  g_assert_cmpstr(a, !=, other);
  g_assert_cmpstr(a, !=, second);
  g_assert_cmpuint(strlen(a), ==, 16);
  g_assert_cmpuint(strspn(a, "0123456789abcdef"), ==, 16);
  g_assert_null(strstr(a, "new"));
}

static char *
escaped(const char *text, gboolean block)
{
  GString *out = g_string_new(NULL);

  if (block)
    web_html_block(out, text);
  else
    web_html_text(out, text);
  return g_string_free(out, FALSE);
}

static void
test_escape(void)
{
  g_autofree char *markup = escaped("<a href=\"x\" b='y'>&amp;</a>", FALSE);
  g_autofree char *bidi = escaped("invoice\u202Egpj.exe", FALSE);
  g_autofree char *bad = escaped("caf\xe9 \x01", FALSE);
  g_autofree char *block = escaped("a\r\n\t<b>\nc", TRUE);
  g_autofree char *null = escaped(NULL, FALSE);

  g_assert_cmpstr(markup, ==, "&lt;a href=&quot;x&quot; b=&apos;y&apos;&gt;&amp;amp;&lt;/a&gt;");
  g_assert_cmpstr(bidi, ==, "invoice?gpj.exe");
  g_assert_cmpstr(bad, ==, "caf\uFFFD ?");
  g_assert_cmpstr(block, ==, "a\n\t&lt;b&gt;\nc");
  g_assert_cmpstr(null, ==, "");
}

static void
test_remote(void)
{
  static const struct {
    const char *html;
    guint count;
  } cases[] = {
    { "<img src=\"http://t.example/p.png\">", 1 },
    { "<img SRC='https://t.example/p.png'>", 1 },
    { "<img src=//t.example/p.png>", 1 },
    { "<img src=\"cid:x@y\"><img src=\"data:image/png;base64,AA\">", 0 },
    { "<a href=\"https://example.org/\">link</a><area href=\"http://x/\">", 0 },
    { "<link rel=stylesheet href=\"https://t.example/s.css\">", 1 },
    { "<div style=\"background: url( 'http://t.example/b.png')\">", 1 },
    { "<style>@import 'https://t.example/i.css'; .x{background:url(//t/x)}</style>", 2 },
    { "<table background=\"http://t/bg\"><video poster=\"https://t/p\">", 2 },
    { "<img srcset=\"https://t/1x.png 1x\"><object data=\"http://t/o\">", 2 },
    { "<p>see http://example.org/ and src=http://x in text</p>", 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_test_message("%s", cases[i].html);
    g_assert_cmpuint(web_mail_count_remote(cases[i].html), ==, cases[i].count);
  }
}

static FarceurInspectMessage *
inspect_text(const char *text, FarceurInspectFlags flags)
{
  g_autoptr(FarceurInputMessage) input = input_from_text(text);
  g_autoptr(GError) error = NULL;
  FarceurInspectMessage *msg = farceur_inspect_message(input, flags, &error);

  g_assert_no_error(error);
  return msg;
}

static void
test_cids(void)
{
  g_autoptr(FarceurInspectMessage) msg = inspect_text(HOSTILE, FARCEUR_INSPECT_NO_DIGESTS);
  g_autofree char *linked
      = web_mail_link_cids("<img src=\"cid:logo@x\"><img src='CID:logo%40x'><img src=cid:nope>"
                           "acid:logo@x",
                           msg, "/m/ID/inline/");

  g_assert_cmpstr(linked, ==,
                  "<img src=\"/m/ID/inline/1.2\"><img src='/m/ID/inline/1.2'><img src=cid:nope>"
                  "acid:logo@x");
}

static FarceurWebPair *
pair_at(GPtrArray *pairs, guint i)
{
  g_assert_cmpuint(i, <, pairs->len);
  return pairs->pdata[i];
}

static void
test_compare(void)
{
  g_autoptr(FarceurInspectMessage) msg = inspect_text(HOSTILE, FARCEUR_INSPECT_NO_DIGESTS);
  g_autoptr(FarceurInspectMessage) plain
      = inspect_text("From: a@a.example\nTo: b@b.example\n\nx\n", 0);
  g_autoptr(FarceurInspectMessage) same = inspect_text(
      "Return-Path: <A@a.example>\nFrom: a@a.example\nX-Original-To: b@b.example\n\nx\n", 0);
  g_autoptr(FarceurInspectMessage) other = inspect_text(
      "Return-Path: <bounce@a.example>\nFrom: a@a.example\nEnvelope-to: b@b.example\n\nx\n", 0);
  g_autoptr(GPtrArray) pairs = farceur_web_compare(msg);
  g_autoptr(GPtrArray) none = farceur_web_compare(plain);
  g_autoptr(GPtrArray) pairs_same = farceur_web_compare(same);
  g_autoptr(GPtrArray) pairs_other = farceur_web_compare(other);

  g_assert_cmpuint(pairs->len, ==, 4);
  g_assert_true(pair_at(pairs, 0)->sender);
  g_assert_cmpint(pair_at(pairs, 0)->state, ==, FARCEUR_WEB_PAIR_FORGED);
  g_assert_cmpstr(pair_at(pairs, 0)->envelope, ==, "mallory@evil.example");
  g_assert_cmpstr(pair_at(pairs, 0)->header, ==, "<img src=x onerror=alert(1)> <ceo@bank.example>");
  g_assert_cmpint(pair_at(pairs, 1)->state, ==, FARCEUR_WEB_PAIR_SAME);
  g_assert_cmpstr(pair_at(pairs, 1)->field, ==, "To");
  g_assert_cmpstr(pair_at(pairs, 1)->header, ==, "Victim <victim@b.example>");
  g_assert_cmpint(pair_at(pairs, 2)->state, ==, FARCEUR_WEB_PAIR_ENVELOPE_ONLY);
  g_assert_cmpstr(pair_at(pairs, 2)->envelope, ==, "hidden@c.example");
  g_assert_null(pair_at(pairs, 2)->header);
  g_assert_cmpint(pair_at(pairs, 3)->state, ==, FARCEUR_WEB_PAIR_HEADER_ONLY);
  g_assert_null(pair_at(pairs, 3)->envelope);
  g_assert_cmpstr(pair_at(pairs, 3)->header, ==, "other@d.example");
  g_assert_cmpuint(none->len, ==, 0);
  g_assert_cmpint(pair_at(pairs_same, 0)->state, ==, FARCEUR_WEB_PAIR_SAME);
  g_assert_cmpint(pair_at(pairs_other, 0)->state, ==, FARCEUR_WEB_PAIR_DIFFERENT);
  g_assert_cmpstr(farceur_web_pair_state_to_string(FARCEUR_WEB_PAIR_ENVELOPE_ONLY), ==,
                  "envelope-only");
}

static void
test_row(void)
{
  g_autoptr(FarceurInspectMessage) msg = inspect_text(HOSTILE, FARCEUR_INSPECT_NO_DIGESTS);
  g_autoptr(FarceurWebRow) row = farceur_web_row_new(msg, "0123456789abcdef");
  g_autoptr(JsonNode) json = farceur_web_row_to_json(row);
  JsonObject *object = json_node_get_object(json);

  g_assert_true(row->forged_from);
  g_assert_cmpstr(row->mail_from, ==, "mallory@evil.example");
  g_assert_cmpstr(row->from_addr, ==, "ceo@bank.example");
  g_assert_cmpuint(row->recipients->len, ==, 2); /* the envelope's */
  g_assert_cmpuint(row->envelope_only->len, ==, 1);
  g_assert_cmpuint(row->attachments, ==, 2);
  g_assert_cmpstr(json_object_get_string_member(object, "id"), ==, "0123456789abcdef");
  g_assert_true(json_object_get_boolean_member(object, "forged_from"));
  g_assert_cmpstr(
      json_object_get_string_member(json_object_get_object_member(object, "from"), "addr"), ==,
      "ceo@bank.example");
}

static void
test_message_model(void)
{
  g_autoptr(FarceurInputMessage) input = input_from_text(HOSTILE);
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurWebMessage) page = farceur_web_message_new(input, "0123456789abcdef", &error);

  g_assert_no_error(error);
  g_assert_cmpstr(page->text_part->path, ==, "1.1.1");
  g_assert_cmpstr(page->html_part->path, ==, "1.1.2");
  g_assert_cmpstr(page->text, ==, "Café <b>not bold</b>"); /* the last line end is the boundary's */
  g_assert_false(page->text_truncated);
  g_assert_cmpuint(page->remote_refs, ==, 1);
  g_assert_true(g_str_has_prefix(page->raw_header, "Return-Path: <mallory@evil.example>\n"));
  g_assert_true(g_str_has_suffix(page->raw_header, "boundary=m\n"));
  g_assert_cmpuint(page->pairs->len, ==, 4);
  g_assert_nonnull(page->inspect->headers);
}

static void
test_text_cap(void)
{
  g_autoptr(GString) text = g_string_new("Content-Type: text/plain; charset=utf-8\n\n");
  g_autoptr(FarceurInspectMessage) msg = NULL;
  g_autofree char *shown = NULL;
  gboolean truncated;

  for (int i = 0; i < 100; i++)
    g_string_append(text, "é");
  msg = inspect_text(text->str, FARCEUR_INSPECT_NO_DIGESTS);
  /* cut inside a character: still valid UTF-8 */
  shown = web_mail_part_text(msg->parts->pdata[0], 11, &truncated);
  g_assert_true(truncated);
  g_assert_true(g_utf8_validate(shown, -1, NULL));
  g_assert_true(g_str_has_prefix(shown, "ééééé"));
}

static void
test_trace_model(void)
{
  g_autofree char *path
      = g_test_build_filename(G_TEST_DIST, "trace", "data", "three-hops.eml", NULL);
  g_autoptr(FarceurInput) input = farceur_input_open(path, NULL);
  g_autoptr(FarceurInputMessage) msg = farceur_input_next(input, NULL);
  g_autoptr(FarceurWebTrace) page = farceur_web_trace_new(msg->message, "id", msg->source);
  FarceurWebHop *first, *last;

  g_assert_cmpuint(page->hops->len, ==, 3);
  first = page->hops->pdata[0];
  last = page->hops->pdata[2];
  g_assert_cmpstr(first->from, ==, "laptop.home [203.0.113.7]");
  g_assert_cmpstr(first->delay, ==, "5s");
  g_assert_cmpfloat(last->bar, ==, 1.0);
  g_assert_cmpfloat(first->bar, <, 0.1);
  g_assert_cmpstr(first->notes->pdata[0], ==, "origin IP 203.0.113.7 is private or reserved");
  g_assert_cmpstr(last->notes->pdata[0], ==, "not encrypted (with LMTP)");
  g_assert_cmpstr(page->total, ==, "2m30s");
  g_assert_cmpstr(page->subject, ==, "three hops");
}

/* ---- a real server, a real client ----------------------------------------------- */

typedef struct {
  char *dir;
  char *new_dir;
  FarceurWebServer *server;
  char *url; /* no trailing '/' */
  guint16 port;
  SoupSession *session;
  char *hostile;
  char *traced;
} Fixture;

typedef struct {
  guint status;
  SoupMessageHeaders *headers;
  GBytes *body;
  char *text;
} Reply;

static void
reply_free(Reply *reply)
{
  soup_message_headers_unref(reply->headers);
  g_bytes_unref(reply->body);
  g_free(reply->text);
  g_free(reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Reply, reply_free)

static char *
put_message(const char *dir, const char *name, const char *text, gssize len)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename(dir, name, NULL);

  g_file_set_contents(path, text, len, &error);
  g_assert_no_error(error);
  return path;
}

static char *
id_of(const char *path, guint index, gint64 start)
{
  return farceur_web_id(path, index, start);
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *traced = NULL;
  g_autofree char *three
      = g_test_build_filename(G_TEST_DIST, "trace", "data", "three-hops.eml", NULL);
  g_autofree char *url = NULL;
  g_autofree char *hostile_path = NULL;
  g_autofree char *traced_path = NULL;
  const char *inputs[2] = { NULL, NULL };
  const char *colon;

  f->dir = g_dir_make_tmp("farceur-web-XXXXXX", &error);
  g_assert_no_error(error);
  for (const char *sub = "new"; sub; sub = strcmp(sub, "new") == 0   ? "cur"
                                           : strcmp(sub, "cur") == 0 ? "tmp"
                                                                     : NULL) {
    g_autofree char *path = g_build_filename(f->dir, sub, NULL);
    g_assert_cmpint(g_mkdir(path, 0700), ==, 0);
  }
  f->new_dir = g_build_filename(f->dir, "new", NULL);
  hostile_path = put_message(f->new_dir, "1.hostile", HOSTILE, -1);
  g_file_get_contents(three, &traced, NULL, &error);
  g_assert_no_error(error);
  traced_path = put_message(f->new_dir, "2.traced", traced, -1);
  f->hostile = id_of(hostile_path, 0, 0);
  f->traced = id_of(traced_path, 0, 0);
  inputs[0] = f->dir;
  f->server = farceur_web_server_new(inputs, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(farceur_web_server_listen(f->server, "127.0.0.1:0", &error));
  g_assert_no_error(error);
  g_assert_true(farceur_web_server_is_loopback(f->server));
  g_assert_cmpuint(farceur_web_server_get_count(f->server), ==, 2);
  url = farceur_web_server_get_url(f->server);
  f->url = g_strndup(url, strlen(url) - 1);
  colon = strrchr(f->url, ':');
  f->port = (guint16)g_ascii_strtoull(colon + 1, NULL, 10);
  f->session = soup_session_new_with_options("timeout", 30, NULL);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

  g_object_unref(f->session);
  farceur_web_server_free(f->server);
  /* let the closed connections and monitors go */
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_cmpint(system(cmd), ==, 0);
  g_free(f->dir);
  g_free(f->new_dir);
  g_free(f->url);
  g_free(f->hostile);
  g_free(f->traced);
}

/* Runs this thread's main context (the server's too) until @result is set
 * by result_cb(); returns it. */
static GAsyncResult *
wait_for(GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration(NULL, TRUE);
  return *result;
}

static void
result_cb(GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **)data = g_object_ref(result);
}

/* @method @path with extra headers ("Name", "value", ... NULL), the server
 * serving from this thread's main context meanwhile. */
static Reply *
request(Fixture *f, const char *method, const char *path, ...)
{
  g_autofree char *uri = g_strconcat(f->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new(method, uri);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Reply *reply = g_new0(Reply, 1);
  const char *name;
  va_list args;

  g_assert_nonnull(msg);
  va_start(args, path);
  while ((name = va_arg(args, const char *)) != NULL)
    soup_message_headers_replace(soup_message_get_request_headers(msg), name,
                                 va_arg(args, const char *));
  va_end(args);
  soup_session_send_and_read_async(f->session, msg, G_PRIORITY_DEFAULT, NULL, result_cb, &result);
  reply->body = soup_session_send_and_read_finish(f->session, wait_for(&result), &error);
  g_assert_no_error(error);
  reply->status = soup_message_get_status(msg);
  reply->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
  /* the body with a NUL after it, for the string checks */
  reply->text = g_strndup(g_bytes_get_data(reply->body, NULL), g_bytes_get_size(reply->body));
  return reply;
}

static Reply *
get(Fixture *f, const char *path)
{
  return request(f, "GET", path, NULL);
}

static const char *
header(Reply *reply, const char *name)
{
  return soup_message_headers_get_one(reply->headers, name);
}

/* What every response carries. */
static void
assert_safe_headers(Reply *reply)
{
  g_assert_cmpstr(header(reply, "X-Content-Type-Options"), ==, "nosniff");
  g_assert_cmpstr(header(reply, "Referrer-Policy"), ==, "no-referrer");
  g_assert_cmpstr(header(reply, "Connection"), ==, "close");
  g_assert_cmpstr(header(reply, "Cache-Control"), ==, "no-store");
  g_assert_true(g_str_has_prefix(header(reply, "Content-Security-Policy"), "default-src 'none'"));
}

static void
assert_status(Reply *reply, guint status, const char *type_prefix)
{
  g_test_message("%u %s", reply->status, header(reply, "Content-Type"));
  g_assert_cmpuint(reply->status, ==, status);
  g_assert_true(g_str_has_prefix(header(reply, "Content-Type"), type_prefix));
  assert_safe_headers(reply);
}

/* Nothing the sender wrote reaches the page as markup. */
static void
assert_escaped(const char *html)
{
  g_assert_null(strstr(html, "<script>alert"));
  g_assert_null(strstr(html, "<img src=x"));
  g_assert_null(strstr(html, "<svg onload"));
  g_assert_null(strstr(html, "\"><svg"));
}

static void
test_list(Fixture *f, gconstpointer data)
{
  g_autoptr(Reply) reply = get(f, "/");
  g_autofree char *link = g_strdup_printf("href=\"/m/%s\"", f->hostile);

  assert_status(reply, 200, "text/html; charset=utf-8");
  g_assert_true(strstr(header(reply, "Content-Security-Policy"), "script-src 'self'"));
  g_assert_true(strstr(header(reply, "Content-Security-Policy"), "frame-ancestors 'none'"));
  assert_escaped(reply->text);
  g_assert_nonnull(strstr(reply->text, "&lt;script&gt;alert(&apos;subject&apos;)&lt;/script&gt;"));
  g_assert_nonnull(strstr(reply->text, "&lt;img src=x onerror=alert(1)&gt;"));
  g_assert_nonnull(strstr(reply->text, link));
  g_assert_nonnull(strstr(reply->text, "forged From"));
  g_assert_nonnull(strstr(reply->text, "id=\"count\">2<"));
  /* a path is never in a URL */
  g_assert_null(strstr(reply->text, "href=\"/m//"));
  g_assert_null(strstr(reply->text, "1.hostile\""));
}

static void
test_rows_and_static(Fixture *f, gconstpointer data)
{
  g_autoptr(Reply) rows = get(f, "/rows");
  g_autoptr(Reply) css = get(f, "/static/style.css");
  g_autoptr(Reply) js = get(f, "/static/app.js");

  assert_status(rows, 200, "text/html");
  g_assert_true(g_str_has_prefix(rows->text, "<tr data-id="));
  assert_escaped(rows->text);
  assert_status(css, 200, "text/css");
  g_assert_nonnull(strstr(css->text, "table.pairs"));
  assert_status(js, 200, "text/javascript");
  g_assert_nonnull(strstr(js->text, "EventSource('/events')"));
}

static void
test_message_page(Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_strdup_printf("/m/%s", f->hostile);
  g_autofree char *frame = g_strdup_printf("src=\"/m/%s/html/1.1.2\"", f->hostile);
  g_autoptr(Reply) reply = get(f, path);

  assert_status(reply, 200, "text/html; charset=utf-8");
  assert_escaped(reply->text);
  /* the envelope beside the headers, each difference named */
  g_assert_nonnull(strstr(reply->text, "<tr class=\"forged\"><th>MAIL FROM</th>"
                                       "<td class=\"envelope\">mallory@evil.example</td>"));
  g_assert_nonnull(strstr(reply->text, "<tr class=\"envelope-only\"><th>RCPT TO</th>"
                                       "<td class=\"envelope\">hidden@c.example</td>"));
  g_assert_nonnull(strstr(reply->text, "<tr class=\"header-only\">"));
  /* the tree, the text, the sandboxed frame and its note */
  g_assert_nonnull(strstr(reply->text, "<td class=\"path\">1.2</td><td class=\"type\">image/png"));
  g_assert_nonnull(strstr(reply->text, "Café &lt;b&gt;not bold&lt;/b&gt;"));
  g_assert_nonnull(strstr(reply->text, "<iframe sandbox=\"\""));
  g_assert_nonnull(strstr(reply->text, frame));
  g_assert_nonnull(strstr(reply->text, "Remote content blocked"));
  g_assert_nonnull(strstr(reply->text, "refers to 1 resource on"));
  /* a file name, escaped where it is shown */
  g_assert_nonnull(strstr(reply->text, "&quot;&gt;&lt;svg onload=alert(3)&gt;.txt</a>"));
}

static void
test_trace_page(Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_strdup_printf("/m/%s/trace", f->traced);
  g_autofree char *svg_path = g_strdup_printf("/m/%s/trace.svg", f->traced);
  g_autofree char *none_path = g_strdup_printf("/m/%s/trace.svg", f->hostile);
  g_autoptr(Reply) reply = get(f, path);
  g_autoptr(Reply) svg = get(f, svg_path);
  g_autoptr(Reply) none = get(f, none_path);

  assert_status(reply, 200, "text/html");
  g_assert_nonnull(strstr(reply->text, "<table class=\"hops\" id=\"hops\">"));
  g_assert_nonnull(strstr(reply->text, "laptop.home [203.0.113.7]"));
  g_assert_nonnull(strstr(reply->text, "<svg class=\"bar\""));
  g_assert_nonnull(strstr(reply->text, "not encrypted (with LMTP)"));
  g_assert_nonnull(strstr(reply->text, "Total transit: 2m30s"));
  g_assert_nonnull(strstr(reply->text, "trace.svg\""));
  assert_status(svg, 200, "image/svg+xml");
  g_assert_nonnull(strstr(svg->text, "<svg"));
  g_assert_nonnull(strstr(svg->text, "mbox.b.example"));
  /* no Received: field, no graph */
  assert_status(none, 404, "text/plain");
}

static void
test_raw(Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_strdup_printf("/m/%s/raw", f->hostile);
  g_autofree char *api = g_strdup_printf("/api/messages/%s/raw", f->hostile);
  g_autoptr(Reply) reply = get(f, path);
  g_autoptr(Reply) download = get(f, api);
  g_autoptr(Reply) head = request(f, "HEAD", path, NULL);

  assert_status(reply, 200, "text/plain; charset=utf-8");
  g_assert_cmpuint(g_bytes_get_size(reply->body), ==, strlen(HOSTILE));
  g_assert_cmpmem(g_bytes_get_data(reply->body, NULL), strlen(HOSTILE), HOSTILE, strlen(HOSTILE));
  g_assert_true(strstr(header(reply, "Content-Security-Policy"), "sandbox"));
  assert_status(download, 200, "message/rfc822");
  g_assert_true(g_str_has_prefix(header(download, "Content-Disposition"), "attachment"));
  g_assert_cmpuint(g_bytes_get_size(download->body), ==, strlen(HOSTILE));
  assert_status(head, 200, "text/plain");
  g_assert_cmpuint(g_bytes_get_size(head->body), ==, 0);
}

static void
test_parts(Fixture *f, gconstpointer data)
{
  g_autofree char *png_path = g_strdup_printf("/m/%s/part/1.2", f->hostile);
  g_autofree char *txt_path = g_strdup_printf("/api/messages/%s/parts/2", f->hostile);
  g_autofree char *pdf_path = g_strdup_printf("/m/%s/part/3", f->hostile);
  g_autoptr(Reply) png = get(f, png_path);
  g_autoptr(Reply) txt = get(f, txt_path);
  g_autoptr(Reply) pdf = get(f, pdf_path);
  gsize png_len;
  g_autofree guchar *png_bytes = g_base64_decode(PNG_B64, &png_len);
  const char *disposition = header(txt, "Content-Disposition");

  assert_status(png, 200, "image/png");
  g_assert_cmpmem(g_bytes_get_data(png->body, NULL), g_bytes_get_size(png->body), png_bytes,
                  png_len);
  assert_status(txt, 200, "text/plain");
  g_assert_cmpstr(txt->text, ==, "attached");
  /* the sender's name, made safe: one component, nothing special to a header or a shell */
  g_test_message("%s", disposition);
  g_assert_true(g_str_has_prefix(disposition, "attachment; filename="));
  g_assert_null(strpbrk(disposition + strlen("attachment; filename=\""), "<>/\\;"));
  g_assert_null(strpbrk(disposition, "\r\n"));
  g_assert_cmpstr(disposition, ==, "attachment; filename=\"___svg onload=alert(3)_.txt\"");
  /* RFC 6266: a non-ASCII name as filename*=UTF-8'' */
  assert_status(pdf, 200, "application/pdf");
  g_assert_cmpstr(header(pdf, "Content-Disposition"), ==,
                  "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf");
  g_assert_cmpstr(pdf->text, ==, "%PDF-1.4\n");
}

static void
test_mail_frame(Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_strdup_printf("/m/%s/html/1.1.2", f->hostile);
  g_autofree char *inline_path = g_strdup_printf("/m/%s/inline/1.2", f->hostile);
  g_autofree char *img = g_strdup_printf("<img src=\"/m/%s/inline/1.2\">", f->hostile);
  g_autofree char *source = g_strdup_printf("img-src data: %s/m/%s/inline/;", f->url, f->hostile);
  g_autoptr(Reply) reply = get(f, path);
  /* the frame is sandboxed: its images come from an opaque origin */
  g_autoptr(Reply) image = request(f, "GET", inline_path, "Sec-Fetch-Site", "cross-site",
                                   "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Dest", "image", NULL);
  const char *csp;

  assert_status(reply, 200, "text/html; charset=utf-8");
  csp = header(reply, "Content-Security-Policy");
  g_test_message("%s", csp);
  g_assert_true(g_str_has_suffix(csp, "; sandbox"));
  g_assert_nonnull(strstr(csp, source));
  g_assert_nonnull(strstr(csp, "style-src 'unsafe-inline';"));
  g_assert_null(strstr(csp, "script-src"));
  g_assert_cmpstr(header(reply, "X-Frame-Options"), ==, "SAMEORIGIN");
  g_assert_nonnull(strstr(reply->text, img));
  g_assert_nonnull(strstr(reply->text, "http://127.0.0.1:1/pixel.png")); /* left to the CSP */
  assert_status(image, 200, "image/png");
}

static void
test_api(Fixture *f, gconstpointer data)
{
  g_autofree char *message_path = g_strdup_printf("/api/messages/%s", f->hostile);
  g_autofree char *parts_path = g_strdup_printf("/api/messages/%s/parts", f->hostile);
  g_autofree char *trace_path = g_strdup_printf("/api/messages/%s/trace", f->traced);
  g_autoptr(Reply) list = get(f, "/api/messages");
  g_autoptr(Reply) message = get(f, message_path);
  g_autoptr(Reply) parts = get(f, parts_path);
  g_autoptr(Reply) trace = get(f, trace_path);
  g_autoptr(JsonNode) list_json = NULL;
  g_autoptr(JsonNode) message_json = NULL;
  g_autoptr(JsonNode) parts_json = NULL;
  g_autoptr(JsonNode) trace_json = NULL;
  JsonArray *rows;

  assert_status(list, 200, "application/json");
  list_json = json_from_string(list->text, NULL);
  rows = json_object_get_array_member(json_node_get_object(list_json), "messages");
  g_assert_cmpuint(json_array_get_length(rows), ==, 2);
  assert_status(message, 200, "application/json");
  message_json = json_from_string(message->text, NULL);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(message_json), "subject"), ==,
                  "<script>alert('subject')</script>");
  g_assert_true(json_object_has_member(json_node_get_object(message_json), "headers"));
  assert_status(parts, 200, "application/json");
  parts_json = json_from_string(parts->text, NULL);
  g_assert_cmpuint(json_array_get_length(json_node_get_array(parts_json)), ==, 5);
  assert_status(trace, 200, "application/json");
  trace_json = json_from_string(trace->text, NULL);
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(trace_json), "total_s"), ==, 150);
}

static void
test_not_found(Fixture *f, gconstpointer data)
{
  const char *paths[] = {
    "/m/0000000000000000",
    "/m/nothing",
    "/api/messages/0000000000000000",
    "/api/messages/0000000000000000/raw",
    "/nothing",
    "/static/nothing.css",
    "/m/",
  };
  g_autofree char *no_part = g_strdup_printf("/m/%s/part/9", f->hostile);
  g_autofree char *container = g_strdup_printf("/m/%s/part/1", f->hostile);
  g_autofree char *not_image = g_strdup_printf("/m/%s/inline/2", f->hostile);
  g_autofree char *not_html = g_strdup_printf("/m/%s/html/1.1.1", f->hostile);
  g_autofree char *slash = g_strdup_printf("/m/%s/", f->hostile);
  const char *more[] = { no_part, container, not_image, not_html, slash };

  for (gsize i = 0; i < G_N_ELEMENTS(paths); i++) {
    g_autoptr(Reply) reply = get(f, paths[i]);

    g_test_message("%s", paths[i]);
    assert_status(reply, 404, g_str_has_prefix(paths[i], "/api") ? "text/plain" : "text/");
  }
  for (gsize i = 0; i < G_N_ELEMENTS(more); i++) {
    g_autoptr(Reply) reply = get(f, more[i]);

    g_test_message("%s", more[i]);
    g_assert_cmpuint(reply->status, ==, 404);
    assert_safe_headers(reply);
  }
}

/* ---- raw requests ------------------------------------------------------------------ */

typedef struct {
  guint16 port;
  const char *request;
  char *response;
  gboolean done;
} RawRequest;

static gboolean
raw_done_cb(gpointer data)
{
  ((RawRequest *)data)->done = TRUE;
  return G_SOURCE_REMOVE;
}

/* Sends @request to 127.0.0.1:@port and reads the whole response; blocks. */
static char *
http_exchange(guint16 port, const char *request)
{
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_autoptr(GSocketConnection) connection
      = g_socket_client_connect_to_host(client, "127.0.0.1", port, NULL, NULL);
  GString *out = g_string_new(NULL);
  char buf[4096];
  gssize n;

  if (connection != NULL) {
    GOutputStream *os = g_io_stream_get_output_stream(G_IO_STREAM(connection));
    GInputStream *is = g_io_stream_get_input_stream(G_IO_STREAM(connection));

    g_output_stream_write_all(os, request, strlen(request), NULL, NULL, NULL);
    while ((n = g_input_stream_read(is, buf, sizeof buf, NULL, NULL)) > 0)
      g_string_append_len(out, buf, n);
  }
  return g_string_free(out, FALSE);
}

static gpointer
raw_thread(gpointer data)
{
  RawRequest *raw = data;

  raw->response = http_exchange(raw->port, raw->request);
  g_idle_add(raw_done_cb, raw);
  return NULL;
}

/* Sends @request as written, from another thread; returns the whole response. */
static char *
raw_request(Fixture *f, const char *request)
{
  RawRequest raw = { f->port, request, NULL, FALSE };
  GThread *thread = g_thread_new("raw-client", raw_thread, &raw);

  while (!raw.done)
    g_main_context_iteration(NULL, TRUE);
  g_thread_join(thread);
  return raw.response;
}

static guint
raw_status(const char *response)
{
  g_assert_true(g_str_has_prefix(response, "HTTP/1.1 "));
  return (guint)g_ascii_strtoull(response + 9, NULL, 10);
}

static void
test_traversal(Fixture *f, gconstpointer data)
{
  const char *targets[] = {
    "/../../../../etc/passwd",
    "/m/../../../../etc/passwd",
    "/m/%2e%2e/%2e%2e/etc/passwd",
    "/m/..%2f..%2f..%2fetc%2fpasswd",
    "/static/../../../../etc/passwd",
    "/static/..%2f..%2fetc%2fpasswd",
    "/m/ID/part/../../../../etc/passwd",
    "/m/ID/part/..%2f..%2f..%2fetc%2fpasswd",
    "/m/ID/part/1.2%2f..%2f..",
    "/api/messages/..%2f..%2f..%2fetc%2fpasswd/raw",
    "/m/%2Fetc%2Fpasswd/raw",
    "//etc/passwd",
  };

  for (gsize i = 0; i < G_N_ELEMENTS(targets); i++) {
    g_autoptr(GString) with_id = g_string_new(targets[i]);
    const char *target = (g_string_replace(with_id, "ID", f->hostile, 0), with_id->str);
    g_autofree char *request = g_strdup_printf(
        "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n\r\n", target, f->port);
    g_autofree char *response = raw_request(f, request);

    g_test_message("%s -> %.40s", target, response);
    g_assert_true(raw_status(response) == 404 || raw_status(response) == 400);
    g_assert_null(strstr(response, "root:"));
  }
}

static void
test_refusals(Fixture *f, gconstpointer data)
{
  g_autofree char *rebound = g_strdup_printf(
      "GET /api/messages HTTP/1.1\r\nHost: evil.example:%u\r\nConnection: close\r\n\r\n", f->port);
  g_autofree char *localhost = g_strdup_printf(
      "GET /api/messages HTTP/1.1\r\nHost: localhost:%u\r\nConnection: close\r\n\r\n", f->port);
  g_autofree char *rebound_response = raw_request(f, rebound);
  g_autofree char *localhost_response = raw_request(f, localhost);
  g_autoptr(Reply) post = request(f, "POST", "/", NULL);
  g_autoptr(Reply) delete = request(f, "DELETE", "/api/messages", NULL);
  g_autoptr(Reply) fetched = request(f, "GET", "/api/messages", "Sec-Fetch-Site", "cross-site",
                                     "Sec-Fetch-Mode", "cors", NULL);
  g_autoptr(Reply) embedded = request(f, "GET", "/rows", "Sec-Fetch-Site", "same-site",
                                      "Sec-Fetch-Mode", "no-cors", NULL);
  g_autoptr(Reply) followed
      = request(f, "GET", "/", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", NULL);
  g_autoptr(Reply) own = request(f, "GET", "/api/messages", "Sec-Fetch-Site", "same-origin",
                                 "Sec-Fetch-Mode", "cors", NULL);

  /* DNS rebinding: a name that is not this server's */
  g_assert_cmpuint(raw_status(rebound_response), ==, 421);
  g_assert_null(strstr(rebound_response, "\"messages\""));
  g_assert_cmpuint(raw_status(localhost_response), ==, 200);
  /* read-only */
  assert_status(post, 405, "text/html");
  g_assert_cmpstr(header(post, "Allow"), ==, "GET, HEAD");
  g_assert_cmpuint(delete->status, ==, 405);
  /* another site's page may link here, not read or embed */
  assert_status(fetched, 403, "text/plain");
  g_assert_cmpuint(embedded->status, ==, 403);
  g_assert_cmpuint(followed->status, ==, 200);
  g_assert_cmpuint(own->status, ==, 200);
}

/* A message that changed or went after it was listed is a 404, not another one. */
static void
test_vanished(Fixture *f, gconstpointer data)
{
  g_autofree char *hostile_path = g_build_filename(f->new_dir, "1.hostile", NULL);
  g_autofree char *path = g_strdup_printf("/m/%s", f->hostile);
  g_autoptr(Reply) reply = NULL;

  g_assert_cmpint(truncate(hostile_path, 10), ==, 0);
  reply = get(f, path);
  assert_status(reply, 404, "text/html");
}

/* ---- server-sent events ------------------------------------------------------------- */

/* Reads the event stream until @needle is in it (or 10 s pass). */
static gboolean
read_until(GInputStream *stream, GString *seen, const char *needle)
{
  gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  char buf[1024];

  while (strstr(seen->str, needle) == NULL && g_get_monotonic_time() < deadline) {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    gssize n;

    g_input_stream_read_async(stream, buf, sizeof buf, G_PRIORITY_DEFAULT, cancel, result_cb,
                              &result);
    while (result == NULL && g_get_monotonic_time() < deadline)
      g_main_context_iteration(NULL, TRUE);
    if (result == NULL)
      g_cancellable_cancel(cancel); /* late: its result says so */
    n = g_input_stream_read_finish(stream, wait_for(&result), NULL);
    if (n <= 0)
      break;
    g_string_append_len(seen, buf, n);
  }
  return strstr(seen->str, needle) != NULL;
}

static void
test_events(Fixture *f, gconstpointer data)
{
  g_autofree char *uri = g_strconcat(f->url, "/events", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new("GET", uri);
  g_autoptr(GString) seen = g_string_new(NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_build_filename(f->dir, "tmp", "3.new", NULL);
  g_autofree char *arrived = g_build_filename(f->new_dir, "3.new", NULL);
  g_autoptr(Reply) rows = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GInputStream) stream = NULL;

  soup_session_send_async(f->session, msg, G_PRIORITY_DEFAULT, NULL, result_cb, &result);
  stream = soup_session_send_finish(f->session, wait_for(&result), &error);
  g_assert_no_error(error);
  g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
  g_assert_cmpstr(
      soup_message_headers_get_content_type(soup_message_get_response_headers(msg), NULL), ==,
      "text/event-stream");
  g_assert_true(read_until(stream, seen, "retry: "));
  /* a delivery: written in tmp/, then renamed into new/ */
  g_file_set_contents(tmp, "From: late@x.example\nSubject: just in\n\nhi\n", -1, &error);
  g_assert_no_error(error);
  g_assert_cmpint(g_rename(tmp, arrived), ==, 0);
  g_assert_true(read_until(stream, seen, "event: messages\ndata: {\"count\":3}\n\n"));
  rows = get(f, "/rows");
  g_assert_nonnull(strstr(rows->text, "just in"));
  g_assert_true(g_str_has_prefix(rows->text, "<tr data-id=")); /* newest first */
  g_assert_true(strstr(rows->text, "just in") < strstr(rows->text, "three hops"));
  g_input_stream_close(stream, NULL, NULL);
}

/* An mbox that grows keeps the ids of the messages it had; the new one
 * comes first. */
static void
test_mbox(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("farceur-web-XXXXXX", &error);
  g_autofree char *box = g_build_filename(dir, "box", NULL);
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  g_autofree char *first_id = NULL;
  const char *inputs[] = { box, NULL };
  WebStore *store;
  GPtrArray *rows;
  FILE *out;

  g_file_set_contents(box, "From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\n1\n\n", -1, &error);
  g_assert_no_error(error);
  store = web_store_new(inputs, g_main_context_default(), NULL, NULL, &error);
  g_assert_no_error(error);
  rows = web_store_rows(store);
  g_assert_cmpuint(rows->len, ==, 1);
  first_id = g_strdup(((FarceurWebRow *)rows->pdata[0])->id);
  g_assert_cmpstr(web_store_lookup(store, first_id)->source, ==,
                  ((FarceurWebRow *)rows->pdata[0])->source);
  out = fopen(box, "a");
  fputs("From b@x Mon Jan  1 00:00:01 2024\nSubject: two\n\n2\n", out);
  fclose(out);
  web_store_rescan(store);
  rows = web_store_rows(store);
  g_assert_cmpuint(rows->len, ==, 2);
  g_assert_cmpstr(((FarceurWebRow *)rows->pdata[0])->subject, ==, "two");
  g_assert_cmpstr(((FarceurWebRow *)rows->pdata[1])->id, ==, first_id);
  g_assert_null(web_store_lookup(store, "0000000000000000"));
  web_store_free(store);
  g_assert_cmpint(system(cmd), ==, 0);
}

/* ---- a server on a context of its own ----------------------------------------------- */

typedef struct {
  GMainContext *context;
  GMainLoop *loop;
} Serving;

static gpointer
serving_thread(gpointer data)
{
  Serving *serving = data;

  g_main_context_push_thread_default(serving->context);
  g_main_loop_run(serving->loop);
  g_main_context_pop_thread_default(serving->context);
  return NULL;
}

/* A blocking GET from this thread; the response, whole. */
static char *
blocking_get(guint16 port, const char *path)
{
  g_autofree char *request = g_strdup_printf(
      "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n\r\n", path, port);

  return http_exchange(port, request);
}

/* As a mail catcher would start it: on the context another thread runs,
 * which is all it uses. */
static void
test_own_context(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("farceur-web-XXXXXX", &error);
  g_autofree char *path = g_build_filename(dir, "a.eml", NULL);
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  g_autofree char *url = NULL;
  g_autofree char *list = NULL;
  g_autofree char *graph = NULL;
  g_autofree char *id = NULL;
  g_autofree char *graph_path = NULL;
  const char *inputs[] = { dir, NULL };
  Serving serving;
  FarceurWebServer *server;
  GThread *thread;
  guint16 port;

  g_file_set_contents(path,
                      "Received: from a.example by b.example; Mon, 1 Jan 2024 10:00:00 +0000\n"
                      "From: a@a.example\nSubject: caught\n\nhi\n",
                      -1, &error);
  g_assert_no_error(error);
  serving.context = g_main_context_new();
  serving.loop = g_main_loop_new(serving.context, FALSE);
  server = farceur_web_server_new(inputs, serving.context, &error);
  g_assert_no_error(error);
  g_assert_true(farceur_web_server_listen(server, "127.0.0.1:0", &error));
  url = farceur_web_server_get_url(server);
  port = (guint16)g_ascii_strtoull(strrchr(url, ':') + 1, NULL, 10);
  thread = g_thread_new("serving", serving_thread, &serving);
  id = farceur_web_id(path, 0, 0);
  graph_path = g_strdup_printf("/m/%s/trace.svg", id);
  list = blocking_get(port, "/");
  graph = blocking_get(port, graph_path);
  g_main_loop_quit(serving.loop);
  g_thread_join(thread);
  farceur_web_server_free(server);
  g_main_loop_unref(serving.loop);
  g_main_context_unref(serving.context);
  g_assert_true(g_str_has_prefix(list, "HTTP/1.1 200 OK\r\n"));
  g_assert_nonnull(strstr(list, ">caught</a>"));
  g_assert_true(g_str_has_prefix(graph, "HTTP/1.1 200 OK\r\n"));
  g_assert_nonnull(strstr(graph, "<svg"));
  g_assert_cmpint(system(cmd), ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  farceur_init();
  g_test_add_func("/web/model/id", test_id);
  g_test_add_func("/web/model/escape", test_escape);
  g_test_add_func("/web/model/remote", test_remote);
  g_test_add_func("/web/model/cids", test_cids);
  g_test_add_func("/web/model/compare", test_compare);
  g_test_add_func("/web/model/row", test_row);
  g_test_add_func("/web/model/message", test_message_model);
  g_test_add_func("/web/model/text-cap", test_text_cap);
  g_test_add_func("/web/model/trace", test_trace_model);
  g_test_add_func("/web/store/mbox", test_mbox);
  g_test_add_func("/web/server/own-context", test_own_context);
#define ROUTE(name, fn)                                                                            \
  g_test_add("/web/server/" name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ROUTE("list", test_list);
  ROUTE("rows-and-static", test_rows_and_static);
  ROUTE("message", test_message_page);
  ROUTE("trace", test_trace_page);
  ROUTE("raw", test_raw);
  ROUTE("parts", test_parts);
  ROUTE("mail-frame", test_mail_frame);
  ROUTE("api", test_api);
  ROUTE("not-found", test_not_found);
  ROUTE("traversal", test_traversal);
  ROUTE("refusals", test_refusals);
  ROUTE("vanished", test_vanished);
  ROUTE("events", test_events);
#undef ROUTE
  return g_test_run();
}
