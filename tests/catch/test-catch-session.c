/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whole sessions against a catch server running in its own thread (its
 * own GMainContext), over loopback sockets, with blocking clients: the
 * protocol, pipelining and smuggling rules, STARTTLS, AUTH, rules, LMTP,
 * timeouts and stopping, under valgrind and the sanitizers too. */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <farceur/farceur.h>

#include "catch-private.h"
#include "test-catch.h"

typedef struct {
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  FarceurCatchServer *server;
  char *dir;
  guint16 port;
  GMutex lock;
  GPtrArray *records; /* JSON text of each message stored */
  GString *transcript;
} TestServer;

static void
test_message_cb(const FarceurCatchMessage *message, gpointer user_data)
{
  TestServer *ts = user_data;
  g_autoptr(JsonNode) node = farceur_catch_message_to_json(message);

  g_mutex_lock(&ts->lock);
  g_ptr_array_add(ts->records, json_to_string(node, FALSE));
  g_mutex_unlock(&ts->lock);
}

static void
test_transcript_cb(guint session, const char *line, gpointer user_data)
{
  TestServer *ts = user_data;

  g_mutex_lock(&ts->lock);
  g_string_append_printf(ts->transcript, "#%u %s\n", session, line);
  g_mutex_unlock(&ts->lock);
}

static void
test_stopped_cb(gpointer user_data)
{
  TestServer *ts = user_data;

  g_main_loop_quit(ts->loop);
}

static gpointer
test_server_thread(gpointer data)
{
  TestServer *ts = data;

  g_main_context_push_thread_default(ts->context);
  g_assert_true(farceur_catch_server_start(ts->server, ts->context, NULL));
  g_main_loop_run(ts->loop);
  g_main_context_pop_thread_default(ts->context);
  return NULL;
}

/* Starts a server storing into a fresh Maildir; @options may set more. */
static TestServer *
test_server_start(FarceurCatchOptions *options)
{
  TestServer *ts = g_new0(TestServer, 1);
  static const char *const listen[] = { "127.0.0.1:0", NULL };
  g_autofree char *store = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *addresses;

  g_mutex_init(&ts->lock);
  ts->records = g_ptr_array_new_with_free_func(g_free);
  ts->transcript = g_string_new(NULL);
  ts->dir = g_dir_make_tmp("farceur-catch-XXXXXX", NULL);
  store = g_strconcat("maildir:", ts->dir, "/box", NULL);
  options->listen = listen;
  options->store = store;
  options->hostname = "catch.test";
  options->message_func = test_message_cb;
  options->message_data = ts;
  options->transcript_func = test_transcript_cb;
  options->transcript_data = ts;
  options->stopped_func = test_stopped_cb;
  options->stopped_data = ts;
  ts->server = farceur_catch_server_new(options, &error);
  g_assert_no_error(error);
  addresses = farceur_catch_server_get_addresses(ts->server);
  g_assert_cmpuint(addresses->len, ==, 1);
  ts->port = (guint16)atoi(strrchr(addresses->pdata[0], ':') + 1);
  ts->context = g_main_context_new();
  ts->loop = g_main_loop_new(ts->context, FALSE);
  ts->thread = g_thread_new("catch", test_server_thread, ts);
  return ts;
}

static gboolean
test_stop_cb(gpointer data)
{
  TestServer *ts = data;

  farceur_catch_server_stop(ts->server, FALSE);
  return G_SOURCE_REMOVE;
}

static void
test_server_stop(TestServer *ts)
{
  if (ts->thread != NULL) {
    g_main_context_invoke(ts->context, test_stop_cb, ts);
    g_thread_join(ts->thread);
  }
  g_assert_true(farceur_catch_server_is_stopped(ts->server));
  farceur_catch_server_free(ts->server);
  g_main_loop_unref(ts->loop);
  g_main_context_unref(ts->context);
  g_ptr_array_unref(ts->records);
  g_string_free(ts->transcript, TRUE);
  g_mutex_clear(&ts->lock);
  {
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", ts->dir);
    g_assert_cmpint(system(cmd), ==, 0);
  }
  g_free(ts->dir);
  g_free(ts);
}

/* Files in box/SUB. */
static guint
test_count(TestServer *ts, const char *sub)
{
  g_autofree char *path = g_build_filename(ts->dir, "box", sub, NULL);
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  guint n = 0;

  while (dir && g_dir_read_name(dir))
    n++;
  return n;
}

static char *
test_stored(TestServer *ts)
{
  g_autofree char *path = g_build_filename(ts->dir, "box", "new", NULL);
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const char *name = dir ? g_dir_read_name(dir) : NULL;
  g_autofree char *file = name ? g_build_filename(path, name, NULL) : NULL;
  char *text = NULL;

  g_assert_nonnull(file);
  g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
  return text;
}

static gboolean
test_transcript_has(TestServer *ts, const char *what)
{
  gboolean found;

  g_mutex_lock(&ts->lock);
  found = strstr(ts->transcript->str, what) != NULL;
  g_mutex_unlock(&ts->lock);
  return found;
}

/* ---- a blocking client ---- */

typedef struct {
  GSocketConnection *connection;
  GIOStream *stream;
  GDataInputStream *in;
} Client;

static Client *
client_connect(TestServer *ts)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new();
  g_autoptr(GError) error = NULL;
  Client *c = g_new0(Client, 1);

  g_socket_client_set_enable_proxy(socket_client, FALSE);
  c->connection
      = g_socket_client_connect_to_host(socket_client, "127.0.0.1", ts->port, NULL, &error);
  g_assert_no_error(error);
  c->stream = g_object_ref(G_IO_STREAM(c->connection));
  c->in = g_data_input_stream_new(g_io_stream_get_input_stream(c->stream));
  g_filter_input_stream_set_close_base_stream(G_FILTER_INPUT_STREAM(c->in), FALSE);
  return c;
}

static void
client_free(Client *c)
{
  g_object_unref(c->in);
  g_io_stream_close(c->stream, NULL, NULL);
  g_object_unref(c->stream);
  g_object_unref(c->connection);
  g_free(c);
}

static void
client_send(Client *c, const char *text)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all(g_io_stream_get_output_stream(c->stream), text, strlen(text), NULL,
                            NULL, &error);
  g_assert_no_error(error);
}

/* The next reply: its code, its last line in *text (or -1 at EOF). */
static int
client_reply(Client *c, char **text)
{
  for (;;) {
    g_autoptr(GError) error = NULL;
    gsize len = 0;
    g_autofree char *line = g_data_input_stream_read_line(c->in, &len, NULL, &error);

    if (line == NULL)
      return -1;
    g_assert_true(len >= 4 && line[len - 1] == '\r');
    if (line[3] == ' ') {
      if (text)
        *text = g_strndup(line, len - 1);
      return atoi(line);
    }
  }
}

static void
client_expect(Client *c, int code)
{
  g_autofree char *text = NULL;
  int got = client_reply(c, &text);

  if (got != code)
    g_error("expected %d, got %d: %s", code, got, text ? text : "(connection closed)");
}

/* Sends @text and expects one reply of @code. */
static void
client_say(Client *c, const char *text, int code)
{
  client_send(c, text);
  client_expect(c, code);
}

/* MAIL, RCPT and DATA in one group: 250, 250, 354. */
static void
client_open_data(Client *c)
{
  client_send(c, "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");
  client_expect(c, 250);
  client_expect(c, 250);
  client_expect(c, 354);
}

static Client *
client_hello(TestServer *ts)
{
  Client *c = client_connect(ts);

  client_expect(c, 220);
  client_say(c, "EHLO client.test\r\n", 250);
  return c;
}

/* ---- the tests ---- */

static void
test_session_basic(void)
{
  FarceurCatchOptions options;
  TestServer *ts;
  Client *c;
  g_autofree char *stored = NULL;

  farceur_catch_options_init(&options);
  ts = test_server_start(&options);
  c = client_hello(ts);
  client_say(c, "MAIL FROM:<alice@example.org>\r\n", 250);
  client_say(c, "RCPT TO:<bob@example.com>\r\n", 250);
  client_say(c, "RCPT TO:<witness@example.edu>\r\n", 250);
  client_say(c, "DATA\r\n", 354);
  client_send(c, "From: alice@example.org\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\n..dot\r\n");
  client_say(c, "last\r\n.\r\n", 250);
  client_say(c, "QUIT\r\n", 221);
  client_free(c);
  stored = test_stored(ts);
  g_assert_true(g_str_has_prefix(stored, "Return-Path: <alice@example.org>\n"
                                         "Envelope-to: bob@example.com, witness@example.edu\n"
                                         "Received: from client.test ([127.0.0.1])\n"));
  g_assert_true(g_str_has_suffix(stored, "\nSubject: hi\n\n.dot\nlast\n"));
  g_assert_cmpuint(ts->records->len, ==, 1);
  g_assert_nonnull(strstr(ts->records->pdata[0], "\"envelope_only\":[\"witness@example.edu\"]"));
  g_assert_nonnull(strstr(ts->records->pdata[0], "\"protocol\":\"ESMTP\""));
  test_server_stop(ts);
}

static void
test_session_pipelining(void)
{
  FarceurCatchOptions options;
  TestServer *ts;
  Client *c;

  farceur_catch_options_init(&options);
  ts = test_server_start(&options);
  c = client_hello(ts);
  /* allowed: MAIL RCPT DATA in one group, the dot and QUIT in another */
  client_open_data(c);
  client_say(c, "Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n", 250);
  client_expect(c, 221);
  client_free(c);
  /* not allowed: anything after DATA before its 354 */
  c = client_hello(ts);
  client_say(c, "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: x\r\n",
             250);
  client_expect(c, 250);
  client_expect(c, 554);
  g_assert_cmpint(client_reply(c, NULL), ==, -1);
  client_free(c);
  /* nor after EHLO, nor before the greeting when it waits */
  c = client_connect(ts);
  client_expect(c, 220);
  client_say(c, "EHLO x\r\nMAIL FROM:<a@example.org>\r\n", 554);
  client_free(c);
  g_assert_cmpuint(test_count(ts, "new"), ==, 1);
  g_assert_true(test_transcript_has(ts, "after DATA: not allowed (RFC 2920)"));
  test_server_stop(ts);
}

static void
test_session_pregreet(void)
{
  FarceurCatchOptions options;
  g_autoptr(GPtrArray) rules
      = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_catch_rule_free);
  TestServer *ts;
  Client *c;

  g_ptr_array_add(rules, farceur_catch_rule_parse(FARCEUR_CATCH_DELAY, "greeting=300ms", NULL));
  farceur_catch_options_init(&options);
  options.rules = rules;
  ts = test_server_start(&options);
  c = client_connect(ts);
  client_say(c, "EHLO early\r\n", 554);
  client_free(c);
  g_assert_true(test_transcript_has(ts, "before the greeting"));
  test_server_stop(ts);
}

static void
test_session_smuggling(void)
{
  FarceurCatchOptions options;
  TestServer *ts;
  Client *c;

  farceur_catch_options_init(&options);
  ts = test_server_start(&options);
  c = client_hello(ts);
  client_say(c, "NOOP\n", 550);
  client_say(c, "NO\rOP\r\n", 550);
  client_say(c, "MAIL FROM:<a@example.org>\r\n", 250);
  client_say(c, "RCPT TO:<b@example.org>\r\n", 250);
  client_say(c, "DATA\r\n", 354);
  /* what a lenient server would take for the end and a second message */
  client_send(c, "Subject: one\r\n\r\nx\n.\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<b@example.org>"
                 "\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n");
  client_expect(c, 550);
  client_say(c, "RSET\r\n", 250);
  client_free(c);
  g_assert_cmpuint(test_count(ts, "new"), ==, 0);
  g_assert_cmpuint(test_count(ts, "tmp"), ==, 0);
  g_assert_cmpuint(ts->records->len, ==, 0);
  test_server_stop(ts);
}

static void
test_session_limits(void)
{
  FarceurCatchOptions options;
  TestServer *ts;
  Client *c;
  g_autofree char *long_line = g_strnfill(3000, 'x');
  g_autofree char *noop = g_strdup_printf("NOOP %s\r\n", long_line);
  g_autofree char *data = g_strdup_printf("Subject: l\r\n\r\n%s\r\n.\r\n", long_line);

  farceur_catch_options_init(&options);
  options.max_size = 2000;
  ts = test_server_start(&options);
  c = client_hello(ts);
  client_send(c, noop);
  client_expect(c, 500);
  client_say(c, "MAIL FROM:<a@example.org> SIZE=5000\r\n", 552);
  client_open_data(c);
  client_send(c, data);
  client_expect(c, 500); /* the line breaks RFC 5321 before the size does */
  client_open_data(c);
  for (int i = 0; i < 40; i++)
    client_send(c, "a line of sixty-odd octets, again and again, to pass the SIZE\r\n");
  client_say(c, ".\r\n", 552);
  client_free(c);
  g_assert_cmpuint(test_count(ts, "new") + test_count(ts, "tmp"), ==, 0);
  test_server_stop(ts);
}

static gboolean
accept_any_cb(GTlsConnection *conn, GTlsCertificate *cert, GTlsCertificateFlags errors,
              gpointer data)
{
  return TRUE;
}

static void
test_session_starttls(void)
{
  FarceurCatchOptions options;
  TestServer *ts;
  Client *c;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) tls = NULL;

  farceur_catch_options_init(&options);
  ts = test_server_start(&options);
  c = client_hello(ts);
  /* a MAIL injected after STARTTLS in clear must not count once encrypted */
  client_say(c, "STARTTLS\r\nMAIL FROM:<evil@example.org>\r\n", 220);
  tls = g_tls_client_connection_new(G_IO_STREAM(c->connection), NULL, &error);
  g_assert_no_error(error);
  g_signal_connect(tls, "accept-certificate", G_CALLBACK(accept_any_cb), NULL);
  g_assert_true(g_tls_connection_handshake(G_TLS_CONNECTION(tls), NULL, &error));
  g_assert_no_error(error);
  g_object_unref(c->in);
  g_object_unref(c->stream);
  c->stream = g_object_ref(tls);
  c->in = g_data_input_stream_new(g_io_stream_get_input_stream(tls));
  client_send(c, "RCPT TO:<b@example.org>\r\n");
  client_expect(c, 503); /* no HELO: the session began again */
  client_send(c, "EHLO client.test\r\nRCPT TO:<b@example.org>\r\n");
  client_expect(c, 554); /* and a pipelined EHLO is still refused */
  client_free(c);
  g_assert_true(test_transcript_has(ts, "sent in clear after STARTTLS discarded"));
  g_assert_true(test_transcript_has(ts, "* TLS: TLSv1."));
  test_server_stop(ts);
}

static void
test_session_auth(void)
{
  FarceurCatchOptions options;
  g_autofree char *dir = g_dir_make_tmp("farceur-users-XXXXXX", NULL);
  g_autofree char *users = g_build_filename(dir, "users", NULL);
  TestServer *ts;
  Client *c;

  g_assert_true(g_file_set_contents(users, "tim:tanstaafl\n", -1, NULL));
  farceur_catch_options_init(&options);
  options.users_file = users;
  ts = test_server_start(&options);
  c = client_hello(ts);
  client_send(c, "AUTH PLAIN AHRpbQB3cm9uZw==\r\n"); /* tim / wrong */
  client_expect(c, 535);
  client_say(c, "AUTH LOGIN\r\n", 334);
  client_say(c, "dGlt\r\n", 334);
  client_say(c, "dGFuc3RhYWZs\r\n", 235);
  client_say(c, "AUTH PLAIN\r\n", 503);
  client_say(c, "MAIL FROM:<tim@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n", 250);
  client_expect(c, 250);
  client_expect(c, 354);
  client_say(c, "Subject: a\r\n\r\nx\r\n.\r\n", 250);
  client_free(c);
  c = client_hello(ts);
  client_say(c, "AUTH PLAIN\r\n", 334);
  client_say(c, "*\r\n", 501);
  client_say(c, "AUTH CRAM-MD5\r\n", 504);
  client_free(c);
  g_assert_cmpuint(ts->records->len, ==, 1);
  g_assert_nonnull(strstr(ts->records->pdata[0], "\"user\":\"tim\""));
  g_assert_nonnull(strstr(ts->records->pdata[0], "\"protocol\":\"ESMTPA\""));
  g_assert_false(test_transcript_has(ts, "dGFuc3RhYWZs"));
  g_assert_false(test_transcript_has(ts, "tanstaafl"));
  g_assert_false(test_transcript_has(ts, "AHRpbQB3cm9uZw"));
  test_server_stop(ts);
  g_unlink(users);
  g_rmdir(dir);
}

static GPtrArray *
parse_rules(FarceurCatchAction action, const char *spec, ...)
{
  GPtrArray *rules = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_catch_rule_free);
  va_list ap;

  va_start(ap, spec);
  for (; spec; spec = va_arg(ap, const char *)) {
    g_ptr_array_add(rules, farceur_catch_rule_parse(action, spec, NULL));
    action = va_arg(ap, FarceurCatchAction);
  }
  va_end(ap);
  return rules;
}

static void
test_session_rules(void)
{
  FarceurCatchOptions options;
  g_autoptr(GPtrArray) rules = parse_rules(
      FARCEUR_CATCH_FAIL, "rcpt:bad*=550", FARCEUR_CATCH_FAIL, "mail=451x1", FARCEUR_CATCH_DROP,
      "after-dot", FARCEUR_CATCH_DELAY, "rcpt:slow*=100ms", (FarceurCatchAction)0, NULL);
  TestServer *ts;
  Client *c;
  g_autofree char *text = NULL;

  farceur_catch_options_init(&options);
  options.rules = rules;
  ts = test_server_start(&options);
  c = client_hello(ts);
  client_say(c, "MAIL FROM:<a@example.org>\r\n", 451);
  client_say(c, "MAIL FROM:<a@example.org>\r\n", 250);
  client_send(c, "RCPT TO:<bad1@example.org>\r\nRCPT TO:<slow@example.org>\r\nDATA\r\n");
  g_assert_cmpint(client_reply(c, &text), ==, 550);
  g_assert_cmpstr(text, ==, "550 5.0.0 failure injected by farceur catch");
  client_expect(c, 250);
  client_expect(c, 354);
  client_send(c, "Subject: r\r\n\r\nx\r\n.\r\n");
  g_assert_cmpint(client_reply(c, NULL), ==, -1); /* dropped after the dot ... */
  client_free(c);
  g_assert_cmpuint(test_count(ts, "new"), ==, 1); /* ... once stored */
  g_assert_cmpuint(ts->records->len, ==, 1);
  g_assert_cmpuint(farceur_catch_rule_get_fired(rules->pdata[0]), ==, 1);
  g_assert_cmpuint(farceur_catch_rule_get_fired(rules->pdata[3]), ==, 1);
  test_server_stop(ts);
}

static void
test_session_lmtp(void)
{
  FarceurCatchOptions options;
  g_autoptr(GPtrArray) rules
      = parse_rules(FARCEUR_CATCH_FAIL, "dot:full*=452", (FarceurCatchAction)0, NULL);
  TestServer *ts;
  Client *c;
  g_autofree char *stored = NULL;

  farceur_catch_options_init(&options);
  options.lmtp = TRUE;
  options.rules = rules;
  ts = test_server_start(&options);
  c = client_connect(ts);
  client_expect(c, 220);
  client_say(c, "EHLO x\r\n", 500);
  client_say(c, "LHLO client.test\r\n", 250);
  client_send(c, "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
                 "RCPT TO:<full@example.org>\r\nDATA\r\n");
  client_expect(c, 250);
  client_expect(c, 250);
  client_expect(c, 250);
  client_expect(c, 354);
  client_say(c, "Subject: l\r\n\r\nx\r\n.\r\n", 250);
  client_expect(c, 452);
  client_free(c);
  stored = test_stored(ts);
  g_assert_true(g_str_has_prefix(stored, "Return-Path: <a@example.org>\nEnvelope-to: "
                                         "b@example.org\n"));
  g_assert_nonnull(strstr(stored, "with LMTP id"));
  test_server_stop(ts);
}

static void
test_session_timeout_and_cut(void)
{
  FarceurCatchOptions options;
  TestServer *ts;
  Client *c;

  farceur_catch_options_init(&options);
  options.timeout_ms = 300;
  ts = test_server_start(&options);
  c = client_hello(ts);
  client_open_data(c);
  client_say(c, "Subject: never ends\r\n\r\nno dot\r\n", 421);
  client_free(c);
  c = client_hello(ts);
  client_open_data(c);
  client_send(c, "Subject: cut\r\n\r\nhalf");
  client_free(c); /* gone in the middle */
  g_usleep(200000);
  g_assert_cmpuint(test_count(ts, "new") + test_count(ts, "tmp"), ==, 0);
  g_assert_cmpuint(ts->records->len, ==, 0);
  test_server_stop(ts);
}

static void
test_session_stop(void)
{
  FarceurCatchOptions options;
  TestServer *ts;
  Client *idle, *busy, *extra;

  farceur_catch_options_init(&options);
  options.max_connections = 2;
  ts = test_server_start(&options);
  idle = client_hello(ts);
  busy = client_hello(ts);
  extra = client_connect(ts);
  client_expect(extra, 421); /* over the connection limit */
  client_free(extra);
  client_open_data(busy);
  client_send(busy, "Subject: in flight\r\n\r\n");
  g_main_context_invoke(ts->context, test_stop_cb, ts);
  client_expect(idle, 421);
  client_say(busy, "the end\r\n.\r\n", 250);
  client_say(busy, "QUIT\r\n", 221);
  client_free(idle);
  client_free(busy);
  g_thread_join(g_steal_pointer(&ts->thread)); /* the server stopped once both sessions ended */
  g_assert_cmpuint(test_count(ts, "new"), ==, 1);
  test_server_stop(ts);
}

void
catch_add_session_tests(void)
{
  g_test_add_func("/catch/session/basic", test_session_basic);
  g_test_add_func("/catch/session/pipelining", test_session_pipelining);
  g_test_add_func("/catch/session/pregreet", test_session_pregreet);
  g_test_add_func("/catch/session/smuggling", test_session_smuggling);
  g_test_add_func("/catch/session/limits", test_session_limits);
  g_test_add_func("/catch/session/starttls", test_session_starttls);
  g_test_add_func("/catch/session/auth", test_session_auth);
  g_test_add_func("/catch/session/rules", test_session_rules);
  g_test_add_func("/catch/session/lmtp", test_session_lmtp);
  g_test_add_func("/catch/session/timeout-and-cut", test_session_timeout_and_cut);
  g_test_add_func("/catch/session/stop", test_session_stop);
}
