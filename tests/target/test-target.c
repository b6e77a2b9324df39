/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for the delivery targets: URL parsing, the loopback rail, Maildir
 * layout and content, mbox quoting, separation and locking (fcntl, flock,
 * dotlock; waits and timeouts), async bridge. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include <glib/gstdio.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

#include "target-private.h" /* the mboxrd filter */

static GMimeMessage *
parse_message(const char *text)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);

  return g_mime_parser_construct_message(parser, NULL);
}

static FarceurEnvelope *
make_envelope(const char *from, ...)
{
  FarceurEnvelope *env = farceur_envelope_new(from);
  va_list ap;

  va_start(ap, from);
  for (const char *r = va_arg(ap, const char *); r; r = va_arg(ap, const char *))
    farceur_envelope_add_rcpt(env, r);
  va_end(ap);
  return env;
}

static char *
make_tmpdir(void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp("farceur-target-XXXXXX", &error);

  g_assert_no_error(error);
  return dir;
}

static void
rm_rf(const char *path)
{
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", path);
  g_assert_cmpint(system(cmd), ==, 0);
}

static gboolean deliver_sync(FarceurTarget *target, const FarceurEnvelope *envelope,
                             GMimeObject *message, FarceurDelivery **delivery,
                             GCancellable *cancellable, GError **error);

/* ---- URLs ---- */

typedef struct {
  const char *url, *scheme, *path, *user, *host;
  guint16 port;
} UrlCase;

static void
test_url_parse(void)
{
  static const UrlCase cases[] = {
    { "maildir:outbox", "maildir", "outbox", NULL, NULL, 0 },
    { "MAILDIR:/var/mail/x", "maildir", "/var/mail/x", NULL, NULL, 0 },
    { "mbox:pranks.mbox", "mbox", "pranks.mbox", NULL, NULL, 0 },
    { "smtp://localhost", "smtp", NULL, NULL, "localhost", 25 },
    { "smtp://bob@mail.example.org:2525", "smtp", NULL, "bob", "mail.example.org", 2525 },
    { "smtp://b%40c@h/", "smtp", NULL, "b@c", "h", 25 },
    { "smtp+starttls://h", "smtp+starttls", NULL, NULL, "h", 587 },
    { "smtps://[::1]", "smtps", NULL, NULL, "::1", 465 },
    { "lmtp://127.0.0.1:8024", "lmtp", NULL, NULL, "127.0.0.1", 8024 },
    { "lmtp://h", "lmtp", NULL, NULL, "h", 24 },
    { "lmtp:/run/dovecot/lmtp", "lmtp", "/run/dovecot/lmtp", NULL, NULL, 0 },
    { "exec:/usr/sbin/sendmail -bs", "exec", "/usr/sbin/sendmail -bs", NULL, NULL, 0 },
    { "localhost:2525", "smtp", NULL, NULL, "localhost", 2525 },
    { "[::1]:25", "smtp", NULL, NULL, "::1", 25 },
    { "192.0.2.1:25", "smtp", NULL, NULL, "192.0.2.1", 25 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(FarceurTargetUrl) url = farceur_target_url_parse(cases[i].url, &error);

    g_test_message("%s", cases[i].url);
    g_assert_no_error(error);
    g_assert_cmpstr(url->url, ==, cases[i].url);
    g_assert_cmpstr(url->scheme, ==, cases[i].scheme);
    g_assert_cmpstr(url->path, ==, cases[i].path);
    g_assert_cmpstr(url->user, ==, cases[i].user);
    g_assert_cmpstr(url->host, ==, cases[i].host);
    g_assert_cmpuint(url->port, ==, cases[i].port);
  }
}

static void
test_url_home(void)
{
  g_autoptr(FarceurTargetUrl) url = farceur_target_url_parse("mbox:~/x.mbox", NULL);
  g_autofree char *want = g_build_filename(g_get_home_dir(), "x.mbox", NULL);

  g_assert_nonnull(url);
  g_assert_cmpstr(url->path, ==, want);
}

static void
test_url_bad(void)
{
  static const struct {
    const char *url, *message;
  } cases[] = {
    { "outbox", "expected maildir:DIR" },
    { "ftp://h", "expected maildir:DIR" },
    { "maildir:", "empty path" },
    { "exec:", "empty command" },
    { "lmtp:run/sock", "must be absolute" },
    { "smtp://bob:secret@h", "password does not belong" },
    { "smtp://", "no host" },
    { "smtp://h/path", "unexpected path" },
    { "smtp://h:0", "port 0" },
    { "smtp://h:99999", "delivery target" },
    { "maildir:a\nb", "control character" },
    { "::1:25", "expected maildir:DIR" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(FarceurTargetUrl) url = farceur_target_url_parse(cases[i].url, &error);

    g_test_message("%s -> %s", cases[i].url, error ? error->message : "(ok)");
    g_assert_null(url);
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE);
    g_assert_nonnull(strstr(error->message, cases[i].message));
  }
}

static void
test_loopback(void)
{
  static const struct {
    const char *url;
    gboolean remote;
  } cases[] = {
    { "smtp://localhost:2525", FALSE },
    { "smtp://LOCALHOST.", FALSE },
    { "smtp://127.0.0.1", FALSE },
    { "smtp://127.8.9.10:25", FALSE },
    { "[::1]:2525", FALSE },
    { "smtp://mail.example.org", TRUE },
    { "smtp://192.0.2.1", TRUE },
    { "smtp://[2001:db8::1]", TRUE },
    { "smtp://localhost.example.org", TRUE },
    { "smtp://128.0.0.1", TRUE },
    { "maildir:x", FALSE },
    { "lmtp:/run/sock", FALSE },
    { "exec:sendmail -bs", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(FarceurTargetUrl) url = farceur_target_url_parse(cases[i].url, NULL);

    g_test_message("%s", cases[i].url);
    g_assert_nonnull(url);
    g_assert_cmpint(farceur_target_url_is_remote(url), ==, cases[i].remote);
  }
  g_assert_true(farceur_target_host_is_loopback("[::1]"));
  g_assert_false(farceur_target_host_is_loopback("::2"));
}

/* ---- Maildir ---- */

static const char sample[] = "From: Alice <alice@example.org>\n"
                             "To: bob@example.com\n"
                             "Bcc: hidden@example.net\n"
                             "Return-Path: <forged@example.net>\n"
                             "Subject: hello\n"
                             "\n"
                             "line one\r\n"
                             "From the desk of Alice\n";

static GPtrArray *
list_dir(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  const char *name;

  g_assert_nonnull(d);
  while ((name = g_dir_read_name(d)) != NULL)
    g_ptr_array_add(names, g_strdup(name));
  return names;
}

static void
test_maildir_layout(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *dir = g_build_filename(tmp, "a", "outbox", NULL);
  g_autofree char *url = g_strconcat("maildir:", dir, NULL);
  g_autofree char *newdir = g_build_filename(dir, "new", NULL);
  g_autofree char *tmpdir = g_build_filename(dir, "tmp", NULL);
  g_autofree char *curdir = g_build_filename(dir, "cur", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurTarget) target = farceur_target_new(url, &error);
  g_autoptr(FarceurEnvelope) env
      = make_envelope("alice@example.org", "bob@example.com", "hidden@example.net", NULL);
  g_autoptr(GPtrArray) names = NULL;

  g_assert_no_error(error);
  g_assert_true(g_file_test(curdir, G_FILE_TEST_IS_DIR));
  {
    g_autofree char *want = g_strconcat("Maildir ", dir, NULL);
    g_assert_cmpstr(farceur_target_describe(target), ==, want);
  }
  for (int i = 0; i < 3; i++) {
    g_autoptr(GMimeMessage) msg = parse_message(sample);
    g_autoptr(FarceurDelivery) delivery = NULL;

    g_assert_true(deliver_sync(target, env, GMIME_OBJECT(msg), &delivery, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(delivery->rcpts->len, ==, 2);
    g_assert_cmpuint(farceur_delivery_count(delivery, FARCEUR_RCPT_ACCEPTED), ==, 2);
    g_assert_true(g_str_has_prefix(delivery->location, newdir));
    g_assert_true(g_file_test(delivery->location, G_FILE_TEST_IS_REGULAR));
  }
  g_assert_true(farceur_target_close(target, NULL, &error));
  names = list_dir(newdir);
  g_assert_cmpuint(names->len, ==, 3);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *host = g_strdup_printf(".%s", g_get_host_name());
    g_autofree char *pid = g_strdup_printf("P%d", (int)getpid());
    g_assert_true(
        g_regex_match_simple("^[0-9]+\\.M[0-9]{6}P[0-9]+Q[0-9]+\\.", names->pdata[i], 0, 0));
    g_assert_nonnull(strstr(names->pdata[i], pid));
    if (strpbrk(g_get_host_name(), "/:") == NULL) /* else escaped as \057, \072 */
      g_assert_nonnull(strstr(names->pdata[i], host));
    for (guint j = 0; j < i; j++)
      g_assert_cmpstr(names->pdata[i], !=, names->pdata[j]);
  }
  g_clear_pointer(&names, g_ptr_array_unref);
  names = list_dir(tmpdir);
  g_assert_cmpuint(names->len, ==, 0);
  rm_rf(tmp);
}

static char *
deliver_one_maildir(const char *dir, const char *text, const FarceurEnvelope *env)
{
  g_autofree char *url = g_strconcat("maildir:", dir, NULL);
  g_autoptr(FarceurTarget) target = farceur_target_new(url, NULL);
  g_autoptr(GMimeMessage) msg = parse_message(text);
  g_autoptr(FarceurDelivery) delivery = NULL;
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_assert_nonnull(target);
  g_assert_true(deliver_sync(target, env, GMIME_OBJECT(msg), &delivery, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(g_file_get_contents(delivery->location, &contents, NULL, NULL));
  return contents;
}

static void
test_maildir_content(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autoptr(FarceurEnvelope) env
      = make_envelope("alice@example.org", "bob@example.com", "hidden@example.net", NULL);
  g_autofree char *contents = deliver_one_maildir(tmp, sample, env);

  g_assert_true(g_str_has_prefix(contents, "Return-Path: <alice@example.org>\n"
                                           "Envelope-to: bob@example.com, hidden@example.net\n"
                                           "From: Alice <alice@example.org>\n"));
  g_assert_null(strstr(contents, "Bcc:"));
  g_assert_null(strstr(contents, "forged@"));
  g_assert_null(strchr(contents, '\r'));
  g_assert_true(g_str_has_suffix(contents, "\nline one\nFrom the desk of Alice\n"));
  rm_rf(tmp);
}

/* Trace fields from the message itself (a template can set any header)
 * must not pass as the envelope in the stored copy. */
static const char forged_trace[] = "Return-Path: <forged@example.net>\n"
                                   "Envelope-to: forged@example.net\n"
                                   "Delivered-To: forged@example.net\n"
                                   "X-Original-To: forged@example.net\n"
                                   "delivered-to: forged2@example.net\n"
                                   "Subject: trace\n"
                                   "\n"
                                   "body\n";

static void
check_no_forged_trace(const char *contents)
{
  g_autofree char *lower = g_ascii_strdown(contents, -1);

  g_assert_null(strstr(lower, "forged"));
  g_assert_null(strstr(lower, "delivered-to:"));
  g_assert_null(strstr(lower, "x-original-to:"));
  g_assert_nonnull(strstr(contents, "Return-Path: <alice@example.org>\n"
                                    "Envelope-to: bob@example.com\n"
                                    "Subject: trace\n"));
  g_assert_null(strstr(strstr(lower, "envelope-to:") + 1, "envelope-to:"));
  g_assert_null(strstr(strstr(lower, "return-path:") + 1, "return-path:"));
}

static void
test_local_strip_trace(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *mbox = g_build_filename(tmp, "box.mbox", NULL);
  g_autofree char *url = g_strconcat("mbox:", mbox, NULL);
  g_autoptr(FarceurEnvelope) env = make_envelope("alice@example.org", "bob@example.com", NULL);
  g_autofree char *contents = deliver_one_maildir(tmp, forged_trace, env);
  g_autofree char *mbox_contents = NULL;

  check_no_forged_trace(contents);
  {
    g_autoptr(FarceurTarget) target = farceur_target_new(url, NULL);
    g_autoptr(GMimeMessage) msg = parse_message(forged_trace);
    g_autoptr(GError) error = NULL;

    g_assert_true(deliver_sync(target, env, GMIME_OBJECT(msg), NULL, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(farceur_target_close(target, NULL, &error));
  }
  g_assert_true(g_file_get_contents(mbox, &mbox_contents, NULL, NULL));
  check_no_forged_trace(mbox_contents);
  rm_rf(tmp);
}

static void
test_maildir_null_sender_and_folding(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autoptr(FarceurEnvelope) env = farceur_envelope_new("");
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  guint envelope_lines = 0;

  for (int i = 0; i < 20; i++) {
    g_autofree char *rcpt = g_strdup_printf("victim%02d@example.org", i);
    farceur_envelope_add_rcpt(env, rcpt);
  }
  /* no trailing newline in the input: one is added */
  contents = deliver_one_maildir(tmp, "Subject: x\n\nno newline", env);
  g_assert_true(g_str_has_prefix(contents, "Return-Path: <>\nEnvelope-to: victim00@example.org, "));
  g_assert_true(g_str_has_suffix(contents, "\nno newline\n"));
  lines = g_strsplit(contents, "\n", -1);
  for (guint i = 1; lines[i] && (i == 1 || lines[i][0] == ' '); i++) {
    g_assert_cmpuint(strlen(lines[i]), <=, 78);
    envelope_lines++;
  }
  g_assert_cmpuint(envelope_lines, >, 1);
  g_assert_nonnull(strstr(contents, "victim19@example.org\nSubject: x\n"));
  rm_rf(tmp);
}

static void
test_maildir_cantcreat(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *file = g_build_filename(tmp, "plain", NULL);
  g_autofree char *url = g_strconcat("maildir:", file, "/box", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurTarget) target = NULL;

  g_assert_true(g_file_set_contents(file, "x", 1, NULL));
  target = farceur_target_new(url, &error);
  g_assert_null(target);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT);
  g_assert_nonnull(strstr(error->message, "cannot create Maildir folder"));
  rm_rf(tmp);
}

static void
test_bad_envelope(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *url = g_strconcat("maildir:", tmp, NULL);
  g_autofree char *newdir = g_build_filename(tmp, "new", NULL);
  g_autoptr(FarceurTarget) target = farceur_target_new(url, NULL);
  g_autoptr(FarceurEnvelope) bad
      = make_envelope("a@example.org", "b@example.org\r\nRCPT TO:<c@x>", NULL);
  g_autoptr(FarceurEnvelope) empty = farceur_envelope_new("a@example.org");
  g_autoptr(GMimeMessage) msg = parse_message(sample);
  g_autoptr(FarceurDelivery) delivery = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = NULL;

  g_assert_false(deliver_sync(target, bad, GMIME_OBJECT(msg), &delivery, NULL, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_null(delivery);
  g_clear_error(&error);
  g_assert_false(deliver_sync(target, empty, GMIME_OBJECT(msg), NULL, NULL, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_clear_error(&error);
  farceur_target_close(target, NULL, NULL);
  g_assert_false(deliver_sync(target, bad, GMIME_OBJECT(msg), NULL, NULL, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE);
  names = list_dir(newdir);
  g_assert_cmpuint(names->len, ==, 0);
  rm_rf(tmp);
}

static void
async_ready_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref(result);
}

/* One delivery, waited for on the default main context (the library has
 * no blocking call: the batch drives every delivery). */
static gboolean
deliver_sync(FarceurTarget *target, const FarceurEnvelope *envelope, GMimeObject *message,
             FarceurDelivery **delivery, GCancellable *cancellable, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  farceur_target_deliver_async(target, envelope, message, cancellable, async_ready_cb, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  return farceur_target_deliver_finish(target, result, delivery, error);
}

static void
test_async(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *url = g_strconcat("maildir:", tmp, NULL);
  g_autoptr(FarceurTarget) target = farceur_target_new(url, NULL);
  g_autoptr(FarceurEnvelope) env = make_envelope("a@example.org", "b@example.org", NULL);
  g_autoptr(GMimeMessage) msg = parse_message(sample);
  g_autoptr(FarceurDelivery) delivery = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  farceur_target_deliver_async(target, env, GMIME_OBJECT(msg), NULL, async_ready_cb, &result);
  g_assert_null(result); /* never completes inside the call */
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  g_assert_true(farceur_target_deliver_finish(target, result, &delivery, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(delivery->rcpts->len, ==, 1);
  g_assert_true(g_file_test(delivery->location, G_FILE_TEST_IS_REGULAR));
  g_object_unref(result);
  rm_rf(tmp);
}

/* ---- mbox ---- */

static const char quoting_sample[] = "From: a@example.org\n"
                                     "To: b@example.org\n"
                                     "Subject: quoting\n"
                                     "\n"
                                     "From here\n"
                                     ">From there\n"
                                     ">>From everywhere\n"
                                     "Fromage\n"
                                     " From indented\n"
                                     ">>>>\n"
                                     "From";

static char *
deliver_mbox(const char *path, const char *text, const char *from)
{
  g_autofree char *url = g_strconcat("mbox:", path, NULL);
  g_autoptr(FarceurTarget) target = farceur_target_new(url, NULL);
  g_autoptr(FarceurEnvelope) env = make_envelope(from, "b@example.org", NULL);
  g_autoptr(GMimeMessage) msg = parse_message(text);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_assert_nonnull(target);
  gboolean ok = deliver_sync(target, env, GMIME_OBJECT(msg), NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_assert_true(farceur_target_close(target, NULL, &error));
  g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
  return contents;
}

static void
test_mbox_quoting(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *path = g_build_filename(tmp, "sub", "x.mbox", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GRegex) from_line
      = g_regex_new("^From a@example\\.org (Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ 1-3][0-9] "
                    "[0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$",
                    G_REGEX_MULTILINE, 0, NULL);
  const char *expected_body = "\n>From here\n"
                              ">>From there\n"
                              ">>>From everywhere\n"
                              "Fromage\n"
                              " From indented\n"
                              ">>>>\n"
                              "From\n\n";
  g_autoptr(GMatchInfo) info = NULL;
  int count = 0;

  g_free(deliver_mbox(path, quoting_sample, "a@example.org"));
  contents = deliver_mbox(path, quoting_sample, "a@example.org");
  g_assert_true(g_str_has_prefix(contents, "From a@example.org "));
  g_regex_match(from_line, contents, 0, &info);
  for (; g_match_info_matches(info); g_match_info_next(info, NULL))
    count++;
  g_assert_cmpint(count, ==, 2);
  g_assert_true(g_str_has_suffix(contents, expected_body));
  g_assert_nonnull(strstr(contents, expected_body)); /* the first one too */
  g_assert_nonnull(strstr(contents, "\nReturn-Path: <a@example.org>\nEnvelope-to: b@example.org\n"
                                    "From: a@example.org\n"));
  rm_rf(tmp);
}

static void
test_mbox_repairs_separator(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *path = g_build_filename(tmp, "x.mbox", NULL);
  g_autofree char *contents = NULL;

  g_assert_true(g_file_set_contents(path, "From x Mon Jan  1 00:00:00 2024\n\nbody", -1, NULL));
  contents = deliver_mbox(path, "Subject: y\n\nz\n", "");
  g_assert_true(g_str_has_prefix(contents, "From x Mon Jan  1 00:00:00 2024\n\nbody\n\n"
                                           "From MAILER-DAEMON "));
  g_assert_nonnull(strstr(contents, "\nReturn-Path: <>\n"));
  rm_rf(tmp);
}

static char *
filter_rd(const char *input, gsize chunk)
{
  g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
  g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new(mem);
  g_autoptr(GMimeFilter) filter = farceur_mbox_filter_rd_new();
  GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
  gsize len = strlen(input);

  g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), filter);
  for (gsize i = 0; i < len; i += chunk)
    g_assert_cmpint(g_mime_stream_write(filtered, input + i, MIN(chunk, len - i)), >=, 0);
  g_mime_stream_flush(filtered);
  return g_strndup((const char *)bytes->data, bytes->len);
}

/* The quoting filter on its own, fed from one byte per write to all at
 * once: the held-back line start must survive every buffer boundary. */
static void
test_mbox_quoting_chunks(void)
{
  const char *in = "From a\n>From b\nx From c\n>>>From d\n>>x\nFrom\nFro\n>\n\nFrom ";
  const char *want = ">From a\n>>From b\nx From c\n>>>>From d\n>>x\nFrom\nFro\n>\n\n>From ";

  for (gsize chunk = 1; chunk <= strlen(in); chunk++) {
    g_autofree char *out = filter_rd(in, chunk);
    g_assert_cmpstr(out, ==, want);
  }
}

/* A line of 100,000 '>' followed by "From ": one more '>' in front. */
static void
test_mbox_quoting_long_run(void)
{
  g_autoptr(GString) in = g_string_new(NULL);
  g_autofree char *out = NULL;

  for (int i = 0; i < 100000; i++)
    g_string_append_c(in, '>');
  g_string_append(in, "From x\n");
  out = filter_rd(in->str, 4096);
  g_assert_cmpuint(strlen(out), ==, in->len + 1);
  g_assert_true(out[0] == '>' && g_str_has_suffix(out, ">From x\n"));
}

/* Another process (Python, whose fcntl.lockf takes the same POSIX lock)
 * holds the lock and appends its own text after a pause; our delivery must
 * wait and land after it, in one piece. */
static const char locker_script[]
    = "import fcntl, sys, time\n"
      "with open(sys.argv[1], 'a') as f:\n"
      "    fcntl.lockf(f, fcntl.LOCK_EX)\n"
      "    print('locked', flush=True)\n"
      "    time.sleep(0.3)\n"
      "    f.write('From child Mon Jan  1 00:00:00 2024\\n\\nchild was here\\n\\n')\n";

static void
test_mbox_locking(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *path = g_build_filename(tmp, "locked.mbox", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *line = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) child = g_subprocess_new(
      G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "/usr/bin/python3", "-c", locker_script, path, NULL);
  g_autoptr(GDataInputStream) out = NULL;

  g_assert_no_error(error);
  out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(child));
  line = g_data_input_stream_read_line(out, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(line, ==, "locked");
  contents = deliver_mbox(path, "Subject: parent\n\nparent body\n", "a@example.org");
  g_assert_true(g_subprocess_wait_check(child, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(g_str_has_prefix(contents, "From child Mon Jan  1 00:00:00 2024\n\n"
                                           "child was here\n\nFrom a@example.org "));
  g_assert_true(g_str_has_suffix(contents, "Subject: parent\n\nparent body\n\n"));
  rm_rf(tmp);
}

/* A program that takes a lock of the mbox, says "locked", and later
 * appends a message of its own and exits (some wait for their standard
 * input to close first). */
static GSubprocess *
start_holder(const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  GSubprocess *child = g_subprocess_newv(
      argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_PIPE, &error);

  g_assert_no_error(error);
  out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(child));
  line = g_data_input_stream_read_line(out, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(line, ==, "locked");
  return child;
}

static const char child_append[]
    = "printf 'From child Mon Jan  1 00:00:00 2024\\n\\nchild was here\\n\\n' >> \"$1\"";

/* Our delivery waited for the holder and landed after its message, whole. */
static void
assert_after_child(const char *contents)
{
  g_assert_true(g_str_has_prefix(contents, "From child Mon Jan  1 00:00:00 2024\n\n"
                                           "child was here\n\nFrom a@example.org "));
  g_assert_true(g_str_has_suffix(contents, "Subject: parent\n\nparent body\n\n"));
}

/* procmail and Debian's MDAs: a dotlock (made by dotlockfile, which holds it
 * while its command runs) and nothing else. */
static void
test_mbox_dotlock_wait(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *path = g_build_filename(tmp, "dot.mbox", NULL);
  g_autofree char *dotlock = g_strconcat(path, ".lock", NULL);
  g_autofree char *script = g_strdup_printf("echo locked; sleep 0.3; %s", child_append);
  const char *argv[] = { "dotlockfile", "-p", "-l", dotlock, "sh", "-c", script, "sh", path, NULL };
  g_autoptr(GSubprocess) child = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_file_test("/usr/bin/dotlockfile", G_FILE_TEST_IS_EXECUTABLE)) {
    g_test_skip("dotlockfile (Debian's liblockfile-bin) is not installed");
    return;
  }
  child = start_holder(argv);
  contents = deliver_mbox(path, "Subject: parent\n\nparent body\n", "a@example.org");
  g_assert_true(g_subprocess_wait_check(child, NULL, &error));
  assert_after_child(contents);
  g_assert_false(g_file_test(dotlock, G_FILE_TEST_EXISTS)); /* ours is gone too */
  rm_rf(tmp);
}

/* mutt built for flock() and other programs that take only that lock
 * (argv[2] "flock"), or only fcntl()'s (Python's lockf is fcntl's F_SETLKW),
 * held for argv[3] seconds, or until standard input closes ("stdin"). */
static const char holder_script[] = "import fcntl, sys, time\n"
                                    "with open(sys.argv[1], 'a') as f:\n"
                                    "    lock = getattr(fcntl, sys.argv[2])\n"
                                    "    lock(f, fcntl.LOCK_EX)\n"
                                    "    print('locked', flush=True)\n"
                                    "    if sys.argv[3] == 'stdin':\n"
                                    "        sys.stdin.read()\n"
                                    "    else:\n"
                                    "        time.sleep(float(sys.argv[3]))\n"
                                    "    f.write('From child Mon Jan  1 00:00:00 2024\\n\\n"
                                    "child was here\\n\\n')\n";

static void
test_mbox_flock_wait(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *path = g_build_filename(tmp, "flock.mbox", NULL);
  const char *argv[] = { "/usr/bin/python3", "-c", holder_script, path, "flock", "0.3", NULL };
  g_autoptr(GSubprocess) child = start_holder(argv);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  contents = deliver_mbox(path, "Subject: parent\n\nparent body\n", "a@example.org");
  g_assert_true(g_subprocess_wait_check(child, NULL, &error));
  assert_after_child(contents);
  rm_rf(tmp);
}

/* A holder that keeps its lock past the bound: the delivery fails with a
 * temporary failure naming the file and the kind of lock, and adds nothing
 * to the mbox, which then holds the holder's message alone. */
static void
assert_lock_timeout(const char *path, const char *const *holder_argv, const char *kind)
{
  g_autofree char *url = g_strconcat("mbox:", path, NULL);
  g_autoptr(FarceurTarget) target = farceur_target_new(url, NULL);
  g_autoptr(FarceurEnvelope) env = make_envelope("a@example.org", "b@example.org", NULL);
  g_autoptr(GMimeMessage) msg = parse_message("Subject: parent\n\nparent body\n");
  g_autoptr(GSubprocess) child = start_holder(holder_argv);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gint64 start = g_get_monotonic_time();

  farceur_target_mbox_set_lock_timeout(target, 300);
  g_assert_false(deliver_sync(target, env, GMIME_OBJECT(msg), NULL, NULL, &error));
  g_assert_cmpint(g_get_monotonic_time() - start, >=, 300 * 1000);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL);
  g_assert_nonnull(strstr(error->message, path));
  g_assert_nonnull(strstr(error->message, "still held after 0.3 s by"));
  g_assert_nonnull(strstr(error->message, kind));
  g_assert_true(g_output_stream_close(g_subprocess_get_stdin_pipe(child), NULL, NULL));
  g_assert_true(g_subprocess_wait_check(child, NULL, &error));
  g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
  g_assert_cmpstr(contents, ==, "From child Mon Jan  1 00:00:00 2024\n\nchild was here\n\n");
  g_assert_true(g_file_set_contents(path, "", 0, NULL));
}

static void
test_mbox_lock_timeout(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *path = g_build_filename(tmp, "held.mbox", NULL);
  g_autofree char *dotlock = g_strconcat(path, ".lock", NULL);
  const char *flock_argv[]
      = { "/usr/bin/python3", "-c", holder_script, path, "flock", "stdin", NULL };
  const char *fcntl_argv[]
      = { "/usr/bin/python3", "-c", holder_script, path, "lockf", "stdin", NULL };
  g_autofree char *dot_script = g_strdup_printf("echo locked; cat >/dev/null; %s", child_append);
  const char *dot_argv[]
      = { "dotlockfile", "-p", "-l", dotlock, "sh", "-c", dot_script, "sh", path, NULL };
  g_autofree char *dot_kind = NULL;

  g_assert_true(g_file_set_contents(path, "", 0, NULL));
  assert_lock_timeout(path, flock_argv, "an flock() lock of another process");
  assert_lock_timeout(path, fcntl_argv, "an fcntl() lock of process ");
  if (g_file_test("/usr/bin/dotlockfile", G_FILE_TEST_IS_EXECUTABLE)) {
    dot_kind = g_strdup_printf("the dotlock '%s' of process ", dotlock);
    assert_lock_timeout(path, dot_argv, dot_kind);
    g_assert_false(g_file_test(dotlock, G_FILE_TEST_EXISTS)); /* its holder removed it */
  }
  rm_rf(tmp);
}

/* A dotlock left by a process that is gone is stale: liblockfile removes it. */
static void
test_mbox_stale_dotlock(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *path = g_build_filename(tmp, "stale.mbox", NULL);
  g_autofree char *dotlock = g_strconcat(path, ".lock", NULL);
  g_autoptr(GError) error = NULL;
  char *argv[] = { (char *)"true", NULL };
  g_autofree char *pid = NULL;
  g_autofree char *contents = NULL;
  GPid gone;

  /* a process that has exited and been reaped: its pid names no one (not
   * GSubprocess, whose worker may reap it before its pid is read) */
  g_assert_true(g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                              NULL, NULL, &gone, &error));
  g_assert_no_error(error);
  g_assert_cmpint(waitpid(gone, NULL, 0), ==, gone);
  pid = g_strdup_printf("%d", (int)gone);
  g_assert_true(g_file_set_contents(dotlock, pid, -1, NULL));
  contents = deliver_mbox(path, "Subject: parent\n\nparent body\n", "a@example.org");
  g_assert_true(g_str_has_suffix(contents, "Subject: parent\n\nparent body\n\n"));
  g_assert_false(g_file_test(dotlock, G_FILE_TEST_EXISTS));
  rm_rf(tmp);
}

/* An existing file that is not an mbox is refused, at open and (when it
 * turns into one later) at delivery; it is left untouched. */
static void
test_mbox_not_mbox(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *path = g_build_filename(tmp, "message.eml", NULL);
  g_autofree char *url = g_strconcat("mbox:", path, NULL);
  g_autoptr(FarceurEnvelope) env = make_envelope("a@example.org", "b@example.org", NULL);
  g_autoptr(GMimeMessage) msg = parse_message("Subject: parent\n\nparent body\n");
  const char *text = "Subject: not an mbox\n\nFrom here on, a body\n";
  g_autoptr(FarceurTarget) target = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  g_assert_null(farceur_target_new(url, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT);
  g_assert_nonnull(strstr(error->message, path));
  g_assert_nonnull(strstr(error->message, "is not an mbox"));
  g_clear_error(&error);

  g_assert_true(g_file_set_contents(path, "", 0, NULL)); /* empty: an mbox to be */
  target = farceur_target_new(url, &error);
  g_assert_no_error(error);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  g_assert_false(deliver_sync(target, env, GMIME_OBJECT(msg), NULL, NULL, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT);
  g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
  g_assert_cmpstr(contents, ==, text);
  rm_rf(tmp);
}

/* ---- cancellation mid-write ---- */

/* A message body source that, once @after octets have gone through, cancels
 * @cancellable itself ("source" mode) or waits, up to 10 s, for someone
 * else to ("wait" mode: the caller's main loop must be running). */
#define TEST_TYPE_CANCEL_FILTER (test_cancel_filter_get_type())
G_DECLARE_FINAL_TYPE(TestCancelFilter, test_cancel_filter, TEST, CANCEL_FILTER, GMimeFilter)

struct _TestCancelFilter {
  GMimeFilter parent;
  GCancellable *cancellable;
  gsize after, seen;
  gsize peak; /* the most octets read in one pass (GMime resets the filter after) */
  gboolean wait;
};

G_DEFINE_FINAL_TYPE(TestCancelFilter, test_cancel_filter, GMIME_TYPE_FILTER)

static void
test_cancel_filter_filter(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                          size_t *outlen, size_t *outprespace)
{
  TestCancelFilter *self = TEST_CANCEL_FILTER(filter);

  self->seen += len;
  self->peak = MAX(self->peak, self->seen);
  if (self->seen >= self->after && self->wait) {
    for (int i = 0; i < 1000 && !g_cancellable_is_cancelled(self->cancellable); i++)
      g_usleep(10000);
  } else if (self->seen >= self->after) {
    g_cancellable_cancel(self->cancellable);
  }
  *out = in;
  *outlen = len;
  *outprespace = prespace;
}

static void
test_cancel_filter_complete(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                            size_t *outlen, size_t *outprespace)
{
  test_cancel_filter_filter(filter, in, len, prespace, out, outlen, outprespace);
}

static void
test_cancel_filter_reset(GMimeFilter *filter)
{
  TEST_CANCEL_FILTER(filter)->seen = 0;
}

static GMimeFilter *
test_cancel_filter_copy(GMimeFilter *filter)
{
  return g_object_new(TEST_TYPE_CANCEL_FILTER, NULL);
}

static void
test_cancel_filter_class_init(TestCancelFilterClass *klass)
{
  GMimeFilterClass *filter_class = GMIME_FILTER_CLASS(klass);

  filter_class->filter = test_cancel_filter_filter;
  filter_class->complete = test_cancel_filter_complete;
  filter_class->reset = test_cancel_filter_reset;
  filter_class->copy = test_cancel_filter_copy;
}

static void
test_cancel_filter_init(TestCancelFilter *self)
{
}

#define BIG_BODY (4 * 1024 * 1024)

/* A message of 4 MiB of text lines whose body is read through @filter. */
static GMimeMessage *
big_message(GMimeFilter *filter)
{
  GMimeMessage *msg = g_mime_message_new(TRUE);
  g_autoptr(GMimePart) part = GMIME_PART(g_mime_text_part_new_with_subtype("plain"));
  GByteArray *body = g_byte_array_sized_new(BIG_BODY);
  g_autoptr(GMimeStream) mem = NULL;
  g_autoptr(GMimeStream) filtered = NULL;
  g_autoptr(GMimeDataWrapper) content = NULL;
  static const char line[] = "0123456789 the quick brown fox jumps over the lazy dog 0123456\n";

  while (body->len < BIG_BODY)
    g_byte_array_append(body, (const guint8 *)line, sizeof line - 1);
  mem = g_mime_stream_mem_new_with_byte_array(body);
  filtered = g_mime_stream_filter_new(mem);
  if (filter != NULL)
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), filter);
  content = g_mime_data_wrapper_new_with_stream(filtered, GMIME_CONTENT_ENCODING_7BIT);
  g_mime_part_set_content(part, content);
  g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_7BIT);
  g_mime_message_set_subject(msg, "big", NULL);
  g_mime_message_set_mime_part(msg, GMIME_OBJECT(part));
  return msg;
}

static gboolean
cancel_cb(gpointer user_data)
{
  g_cancellable_cancel(user_data);
  return G_SOURCE_REMOVE;
}

/* Delivers a big message to @url and cancels it after 1 MiB: from the
 * source in the delivering thread (@from_loop FALSE, the blocking call), or
 * from the caller's main loop while the write runs on its worker thread. */
static void
deliver_cancelled(const char *url, gboolean from_loop)
{
  g_autoptr(FarceurTarget) target = farceur_target_new(url, NULL);
  g_autoptr(FarceurEnvelope) env = make_envelope("a@example.org", "b@example.org", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  TestCancelFilter *filter = g_object_new(TEST_TYPE_CANCEL_FILTER, NULL);
  g_autoptr(GMimeMessage) msg = NULL;
  g_autoptr(FarceurDelivery) delivery = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  filter->cancellable = cancellable;
  filter->after = 1024 * 1024;
  filter->wait = from_loop;
  msg = big_message(GMIME_FILTER(filter));
  g_object_unref(filter);
  if (!from_loop) {
    g_assert_false(deliver_sync(target, env, GMIME_OBJECT(msg), &delivery, cancellable, &error));
  } else {
    farceur_target_deliver_async(target, env, GMIME_OBJECT(msg), cancellable, async_ready_cb,
                                 &result);
    g_timeout_add(100, cancel_cb, cancellable);
    while (result == NULL)
      g_main_context_iteration(NULL, TRUE);
    g_assert_false(farceur_target_deliver_finish(target, result, &delivery, &error));
    g_object_unref(result);
  }
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null(delivery);
  g_assert_true(filter->peak >= 1024 * 1024 && filter->peak < BIG_BODY); /* mid-write */
}

static void
test_cancel_mbox(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *path = g_build_filename(tmp, "x.mbox", NULL);
  g_autofree char *url = g_strconcat("mbox:", path, NULL);
  g_autofree char *before = deliver_mbox(path, "Subject: first\n\nfirst body\n", "a@example.org");
  g_autofree char *dotlock = g_strconcat(path, ".lock", NULL);

  for (int from_loop = 0; from_loop <= 1; from_loop++) {
    g_autofree char *after = NULL;
    deliver_cancelled(url, from_loop);
    g_assert_true(g_file_get_contents(path, &after, NULL, NULL));
    g_assert_cmpstr(after, ==, before); /* cut back to its size before */
    g_assert_false(g_file_test(dotlock, G_FILE_TEST_EXISTS));
  }
  rm_rf(tmp);
}

static void
test_cancel_maildir(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *url = g_strconcat("maildir:", tmp, NULL);
  g_autofree char *tmp_dir = g_build_filename(tmp, "tmp", NULL);
  g_autofree char *new_dir = g_build_filename(tmp, "new", NULL);

  for (int from_loop = 0; from_loop <= 1; from_loop++) {
    g_autoptr(GPtrArray) in_tmp = NULL;
    g_autoptr(GPtrArray) in_new = NULL;
    deliver_cancelled(url, from_loop);
    in_tmp = list_dir(tmp_dir);
    in_new = list_dir(new_dir);
    g_assert_cmpuint(in_tmp->len, ==, 0); /* the partial file was removed */
    g_assert_cmpuint(in_new->len, ==, 0);
  }
  rm_rf(tmp);
}

/* The same big message, not cancelled, is stored whole: the source works. */
static void
test_cancel_control(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *path = g_build_filename(tmp, "x.mbox", NULL);
  g_autofree char *url = g_strconcat("mbox:", path, NULL);
  g_autoptr(FarceurTarget) target = farceur_target_new(url, NULL);
  g_autoptr(FarceurEnvelope) env = make_envelope("a@example.org", "b@example.org", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(GMimeMessage) msg = big_message(NULL);
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  g_assert_true(deliver_sync(target, env, GMIME_OBJECT(msg), NULL, cancellable, &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_stat(path, &st), ==, 0);
  g_assert_cmpint(st.st_size, >, BIG_BODY);
  rm_rf(tmp);
}

/* ---- the writer (farceur catch) ---- */

/* As an SMTP server receives it (unstuffed), with trace fields of its own
 * that must not pass as the envelope, a folded one among them. */
static const char incoming[] = "Return-Path: <forged@example.net>\r\n"
                               "From: Alice <alice@example.org>\r\n"
                               "Delivered-To: forged@example.net,\r\n"
                               "\tforged2@example.net\r\n"
                               "Envelope-to : forged@example.net\r\n"
                               "To: bob@example.com\r\n"
                               "X-Original-To-Not: kept@example.org\r\n"
                               "Subject: incoming\r\n"
                               "\r\n"
                               "Return-Path: in the body stays\r\n"
                               ".leading dot, unstuffed\r\n"
                               "From the body\r\n";

static const char incoming_stored[] = "Return-Path: <alice@example.org>\n"
                                      "Envelope-to: bob@example.com, hidden@example.net\n"
                                      "Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\n"
                                      "From: Alice <alice@example.org>\n"
                                      "To: bob@example.com\n"
                                      "X-Original-To-Not: kept@example.org\n"
                                      "Subject: incoming\n"
                                      "\n"
                                      "Return-Path: in the body stays\n"
                                      ".leading dot, unstuffed\n"
                                      "From the body\n";

static const char incoming_trace[] = "Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\n";

/* Writes @text in chunks of @chunk octets. */
static FarceurTargetWriter *
writer_fill(FarceurTarget *target, const FarceurEnvelope *env, const char *text, gsize chunk)
{
  g_autoptr(GError) error = NULL;
  FarceurTargetWriter *writer = farceur_target_writer_new(target, env, incoming_trace, &error);
  gsize len = strlen(text);

  g_assert_no_error(error);
  for (gsize at = 0; at < len; at += chunk) {
    g_assert_true(farceur_target_writer_write(writer, text + at, MIN(chunk, len - at), &error));
    g_assert_no_error(error);
  }
  return writer;
}

static char *
writer_commit(FarceurTargetWriter *writer, GError **error)
{
  GAsyncResult *result = NULL;
  char *location = NULL;

  farceur_target_writer_commit_async(writer, NULL, async_ready_cb, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  farceur_target_writer_commit_finish(writer, result, &location, error);
  g_object_unref(result);
  return location;
}

static void
test_writer_maildir(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *url = g_strconcat("maildir:", tmp, NULL);
  g_autofree char *tmpdir = g_build_filename(tmp, "tmp", NULL);
  g_autoptr(FarceurTarget) target = farceur_target_new(url, NULL);
  g_autoptr(FarceurEnvelope) env
      = make_envelope("alice@example.org", "bob@example.com", "hidden@example.net", NULL);
  g_autoptr(GError) error = NULL;

  for (gsize chunk = 1; chunk <= 64; chunk *= 4) {
    g_autoptr(FarceurTargetWriter) writer = writer_fill(target, env, incoming, chunk);
    g_autoptr(GMimeStream) back = farceur_target_writer_read_back(writer, &error);
    g_autoptr(GByteArray) read = g_byte_array_new();
    g_autoptr(GMimeStream) mem = g_mime_stream_mem_new_with_byte_array(read);
    g_autofree char *location = NULL, *contents = NULL;
    g_autoptr(GPtrArray) names = list_dir(tmpdir);

    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    g_assert_no_error(error);
    g_assert_cmpint(g_mime_stream_write_to_stream(back, mem), ==, strlen(incoming_stored));
    g_assert_cmpmem(read->data, read->len, incoming_stored, strlen(incoming_stored));
    g_assert_cmpuint(names->len, ==, 1); /* in tmp/ until committed */
    location = writer_commit(writer, &error);
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(location, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, incoming_stored);
    g_clear_pointer(&names, g_ptr_array_unref);
    names = list_dir(tmpdir);
    g_assert_cmpuint(names->len, ==, 0);
  }
  rm_rf(tmp);
}

/* A writer freed before its commit leaves nothing anywhere. */
static void
test_writer_discard(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *url = g_strconcat("maildir:", tmp, NULL);
  g_autofree char *mbox = g_build_filename(tmp, "spool", "box", NULL);
  g_autofree char *mbox_url = g_strconcat("mbox:", mbox, NULL);
  g_autofree char *spool_dir = g_build_filename(tmp, "spool", NULL);
  g_autoptr(FarceurTarget) target = farceur_target_new(url, NULL);
  g_autoptr(FarceurTarget) mbox_target = farceur_target_new(mbox_url, NULL);
  g_autoptr(FarceurEnvelope) env = make_envelope("a@example.org", "b@example.org", NULL);
  const char *const subdirs[] = { "tmp", "new", "cur" };

  farceur_target_writer_free(writer_fill(target, env, incoming, 7));
  farceur_target_writer_free(writer_fill(mbox_target, env, incoming, 7));
  for (gsize i = 0; i < G_N_ELEMENTS(subdirs); i++) {
    g_autofree char *sub = g_build_filename(tmp, subdirs[i], NULL);
    g_autoptr(GPtrArray) names = list_dir(sub);
    g_assert_cmpuint(names->len, ==, 0);
  }
  {
    g_autoptr(GPtrArray) names = list_dir(spool_dir); /* the spool was never linked */
    g_assert_cmpuint(names->len, ==, 0);
  }
  rm_rf(tmp);
}

typedef struct {
  guint pending;
  GPtrArray *locations;
} WriterBatch;

static void
writer_batch_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  WriterBatch *batch = user_data;
  FarceurTargetWriter *writer = g_task_get_task_data(G_TASK(result));
  g_autoptr(GError) error = NULL;
  char *location = NULL;

  g_assert_true(farceur_target_writer_commit_finish(writer, result, &location, &error));
  g_assert_no_error(error);
  g_ptr_array_add(batch->locations, location);
  batch->pending--;
}

/* Many commits under way at once (the group commit): every message lands
 * once, under its own name. */
static void
commit_many(const char *url, guint n, GPtrArray *locations)
{
  g_autoptr(FarceurTarget) target = farceur_target_new(url, NULL);
  g_autoptr(FarceurEnvelope) env = make_envelope("a@example.org", "b@example.org", NULL);
  g_autoptr(GPtrArray) writers
      = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_target_writer_free);
  WriterBatch batch = { n, locations };

  for (guint i = 0; i < n; i++) {
    g_autofree char *text = g_strdup_printf("Subject: %u\r\n\r\nFrom body %u\r\n", i, i);
    FarceurTargetWriter *writer = writer_fill(target, env, text, 5);
    g_ptr_array_add(writers, writer);
    farceur_target_writer_commit_async(writer, NULL, writer_batch_cb, &batch);
  }
  while (batch.pending > 0)
    g_main_context_iteration(NULL, TRUE);
}

static void
test_writer_group_commit(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *url = g_strconcat("maildir:", tmp, NULL);
  g_autofree char *mbox = g_build_filename(tmp, "box.mbox", NULL);
  g_autofree char *mbox_url = g_strconcat("mbox:", mbox, NULL);
  g_autoptr(GPtrArray) locations = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  g_autofree char *contents = NULL;
  guint from_lines = 0;

  commit_many(url, 40, locations);
  g_assert_cmpuint(locations->len, ==, 40);
  for (guint i = 0; i < locations->len; i++) {
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(locations->pdata[i], &text, NULL, NULL));
    g_assert_true(g_str_has_prefix(text, "Return-Path: <a@example.org>\n"));
    g_assert_true(g_hash_table_add(seen, locations->pdata[i]));
  }
  g_ptr_array_set_size(locations, 0);
  commit_many(mbox_url, 40, locations);
  g_assert_true(g_file_get_contents(mbox, &contents, NULL, NULL));
  for (const char *p = contents; (p = strstr(p, "From ")) != NULL; p++)
    from_lines += (p == contents || p[-1] == '\n') && g_str_has_prefix(p, "From a@example.org ");
  g_assert_cmpuint(from_lines, ==, 40);
  g_assert_nonnull(strstr(contents, "\n\n>From body 39\n\n"));
  g_assert_true(g_str_has_suffix(contents, "\n\n"));
  rm_rf(tmp);
}

static void
test_writer_refused(void)
{
  g_autoptr(FarceurTarget) target = farceur_target_new("smtp://127.0.0.1:25", NULL);
  g_autoptr(FarceurEnvelope) env = make_envelope("a@example.org", "b@example.org", NULL);
  g_autoptr(FarceurEnvelope) bad = make_envelope("a@example.org", "b@x\r\nDATA", NULL);
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *url = g_strconcat("maildir:", tmp, NULL);
  g_autoptr(FarceurTarget) maildir = farceur_target_new(url, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_null(farceur_target_writer_new(target, env, NULL, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE);
  g_clear_error(&error);
  g_assert_null(farceur_target_writer_new(maildir, bad, NULL, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  rm_rf(tmp);
}

/* ---- deliveries in groups (issue 13) ---- */

typedef struct {
  FarceurTarget *target;
  guint done;
  GPtrArray *order; /* (element-type guint) the deliveries completed, in order */
  gboolean maildir;
} GroupRun;

typedef struct {
  GroupRun *run;
  guint index;
} GroupDelivery;

/* Each delivery reported stored is there already: the Maildir's file in new/
 * (not in tmp/), the mbox holding its body. */
static void
group_delivered_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GroupDelivery *d = user_data;
  g_autoptr(FarceurDelivery) delivery = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *body = g_strdup_printf("\n\ngroup body %u\n", d->index);

  g_assert_true(farceur_target_deliver_finish(d->run->target, result, &delivery, &error));
  g_assert_no_error(error);
  g_assert_true(g_file_get_contents(delivery->location, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, body));
  if (d->run->maildir)
    g_assert_nonnull(strstr(delivery->location, "/new/"));
  g_ptr_array_add(d->run->order, GUINT_TO_POINTER(d->index));
  d->run->done++;
  g_free(d);
}

/* @count deliveries given at once, all in flight together. */
static void
deliver_group(const char *url, guint count, gboolean maildir)
{
  g_autoptr(FarceurTarget) target = farceur_target_new(url, NULL);
  g_autoptr(FarceurEnvelope) env = make_envelope("a@example.org", "b@example.org", NULL);
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func(g_object_unref);
  GroupRun run = { target, 0, g_ptr_array_new(), maildir };

  for (guint i = 0; i < count; i++) {
    g_autofree char *text = g_strdup_printf("Subject: group %u\n\ngroup body %u\n", i, i);
    GroupDelivery *d = g_new0(GroupDelivery, 1);
    d->run = &run;
    d->index = i;
    g_ptr_array_add(messages, parse_message(text));
    farceur_target_deliver_async(target, env, messages->pdata[i], NULL, group_delivered_cb, d);
  }
  g_assert_cmpuint(run.done, ==, 0); /* none completes inside the call */
  while (run.done < count)
    g_main_context_iteration(NULL, TRUE);
  for (guint i = 0; i < count; i++) /* completed in the order given */
    g_assert_cmpuint(GPOINTER_TO_UINT(run.order->pdata[i]), ==, i);
  g_ptr_array_unref(run.order);
}

static void
test_deliver_groups(void)
{
  g_autofree char *tmp = make_tmpdir();
  g_autofree char *md = g_build_filename(tmp, "md", NULL);
  g_autofree char *md_url = g_strconcat("maildir:", md, NULL);
  g_autofree char *tmp_dir = g_build_filename(md, "tmp", NULL);
  g_autofree char *new_dir = g_build_filename(md, "new", NULL);
  g_autofree char *mbox = g_build_filename(tmp, "box.mbox", NULL);
  g_autofree char *mbox_url = g_strconcat("mbox:", mbox, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GPtrArray) in_tmp = NULL;
  g_autoptr(GPtrArray) in_new = NULL;
  const char *at;

  deliver_group(md_url, 50, TRUE);
  in_tmp = list_dir(tmp_dir);
  in_new = list_dir(new_dir);
  g_assert_cmpuint(in_tmp->len, ==, 0);
  g_assert_cmpuint(in_new->len, ==, 50);
  deliver_group(mbox_url, 50, FALSE);
  g_assert_true(g_file_get_contents(mbox, &contents, NULL, NULL));
  at = contents;
  for (guint i = 0; i < 50; i++) { /* appended in the order given */
    g_autofree char *subject = g_strdup_printf("\nSubject: group %u\n", i);
    at = strstr(at, subject);
    g_assert_nonnull(at);
  }
  rm_rf(tmp);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  farceur_init();
  g_test_add_func("/target/url/parse", test_url_parse);
  g_test_add_func("/target/url/home", test_url_home);
  g_test_add_func("/target/url/bad", test_url_bad);
  g_test_add_func("/target/url/loopback", test_loopback);
  g_test_add_func("/target/maildir/layout", test_maildir_layout);
  g_test_add_func("/target/maildir/content", test_maildir_content);
  g_test_add_func("/target/maildir/null-sender-folding", test_maildir_null_sender_and_folding);
  g_test_add_func("/target/maildir/cantcreat", test_maildir_cantcreat);
  g_test_add_func("/target/local/strip-trace", test_local_strip_trace);
  g_test_add_func("/target/envelope/refused", test_bad_envelope);
  g_test_add_func("/target/async/local", test_async);
  g_test_add_func("/target/mbox/quoting", test_mbox_quoting);
  g_test_add_func("/target/mbox/separator", test_mbox_repairs_separator);
  g_test_add_func("/target/mbox/quoting-chunks", test_mbox_quoting_chunks);
  g_test_add_func("/target/mbox/quoting-long-run", test_mbox_quoting_long_run);
  g_test_add_func("/target/mbox/locking", test_mbox_locking);
  g_test_add_func("/target/mbox/dotlock-wait", test_mbox_dotlock_wait);
  g_test_add_func("/target/mbox/flock-wait", test_mbox_flock_wait);
  g_test_add_func("/target/mbox/lock-timeout", test_mbox_lock_timeout);
  g_test_add_func("/target/mbox/stale-dotlock", test_mbox_stale_dotlock);
  g_test_add_func("/target/mbox/not-mbox", test_mbox_not_mbox);
  g_test_add_func("/target/cancel/control", test_cancel_control);
  g_test_add_func("/target/cancel/mbox", test_cancel_mbox);
  g_test_add_func("/target/cancel/maildir", test_cancel_maildir);
  g_test_add_func("/target/writer/maildir", test_writer_maildir);
  g_test_add_func("/target/writer/discard", test_writer_discard);
  g_test_add_func("/target/writer/group-commit", test_writer_group_commit);
  g_test_add_func("/target/writer/refused", test_writer_refused);
  g_test_add_func("/target/deliver/groups", test_deliver_groups);
  return g_test_run();
}
