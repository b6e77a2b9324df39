/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SMTP client against the scripted in-process server: exact client
 * transcripts, and the faults a real server or network produces. */
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

#include "scripted-server.h"

#define GREETING "220 mx.test ESMTP\r\n"
#define EHLO_LOCKSTEP "250-mx.test\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
#define EHLO_PIPELINING                                                                            \
  "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10000000\r\n250-8BITMIME\r\n"                         \
  "250 ENHANCEDSTATUSCODES\r\n"
#define OK "250 2.0.0 ok\r\n"
#define GO "354 go ahead\r\n"
#define BYE "221 2.0.0 bye\r\n"

#define SIMPLE_MESSAGE "From: a@a.test\nTo: b@b.test\nSubject: hi\n\nHello.\n"
#define SIMPLE_WIRE "From: a@a.test\r\nTo: b@b.test\r\nSubject: hi\r\n\r\nHello.\r\n"

typedef struct {
  FarceurSmtpClient *client;
  ScriptedServer *server;
  GString *transcript; /* the client's own transcript signal */
  guint commits;
  gboolean ready_in_callback; /* is_ready() seen from the last send's callback */
  GAsyncResult *send_result;
} Fixture;

static void
transcript_cb(FarceurSmtpClient *client, const char *line, gpointer data)
{
  g_string_append_printf(data, "%s\n", line);
}

static void
fixture_init(Fixture *f, const ScriptedStep *steps, gsize n_steps)
{
  memset(f, 0, sizeof *f);
  f->server = scripted_server_new(steps, n_steps);
  f->client = farceur_smtp_client_new();
  f->transcript = g_string_new(NULL);
  farceur_smtp_client_set_helo(f->client, "farceur.test");
  farceur_smtp_client_set_timeout(f->client, 5000);
  g_signal_connect(f->client, "transcript", G_CALLBACK(transcript_cb), f->transcript);
}

static void
fixture_clear(Fixture *f)
{
  g_object_unref(f->client);
  scripted_server_free(f->server);
  g_string_free(f->transcript, TRUE);
}

static void
store_result_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  *(GAsyncResult **)data = g_object_ref(res);
}

static GAsyncResult *
wait_result(GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration(NULL, TRUE);
  return *slot;
}

static gboolean
do_connect(Fixture *f, GError **error)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GSocketConnectable) address = scripted_server_get_address(f->server);

  farceur_smtp_client_connect_async(f->client, address, NULL, store_result_cb, &res);
  return farceur_smtp_client_connect_finish(f->client, wait_result(&res), error);
}

static gboolean
count_commit(FarceurSmtpClient *client, const FarceurEnvelope *envelope, gpointer data,
             GError **error)
{
  ((Fixture *)data)->commits++;
  return TRUE;
}

static GMimeMessage *
message_new(const char *text)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);

  return g_mime_parser_construct_message(parser, NULL);
}

static FarceurEnvelope *
envelope_new(const char *from, ...)
{
  FarceurEnvelope *env = farceur_envelope_new(from);
  va_list args;

  va_start(args, from);
  for (const char *rcpt = va_arg(args, const char *); rcpt; rcpt = va_arg(args, const char *))
    farceur_envelope_add_rcpt(env, rcpt);
  va_end(args);
  return env;
}

static void
send_result_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  Fixture *f = data;

  f->ready_in_callback = farceur_smtp_client_is_ready(FARCEUR_SMTP_CLIENT(source));
  f->send_result = g_object_ref(res);
}

static FarceurSmtpResult *
do_send_message(Fixture *f, FarceurEnvelope *env, const char *text, GError **error)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GMimeMessage) msg = message_new(text);

  f->send_result = NULL;
  farceur_smtp_client_send_async(f->client, env, GMIME_OBJECT(msg), count_commit, f, NULL,
                                 send_result_cb, f);
  res = wait_result(&f->send_result);
  f->send_result = NULL;
  return farceur_smtp_client_send_finish(f->client, res, error);
}

static FarceurSmtpResult *
do_send_stream(Fixture *f, FarceurEnvelope *env, const char *text, GError **error)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));

  f->send_result = NULL;
  g_mime_stream_seek(stream, 0, GMIME_STREAM_SEEK_END); /* read from its start anyway */
  farceur_smtp_client_send_stream_async(f->client, env, stream, count_commit, f, NULL,
                                        send_result_cb, f);
  res = wait_result(&f->send_result);
  f->send_result = NULL;
  return farceur_smtp_client_send_finish(f->client, res, error);
}

static FarceurSmtpResult *
do_send(Fixture *f, GError **error)
{
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);

  return do_send_message(f, env, SIMPLE_MESSAGE, error);
}

static void
do_quit(Fixture *f)
{
  g_autoptr(GAsyncResult) res = NULL;

  farceur_smtp_client_quit_async(f->client, NULL, store_result_cb, &res);
  g_assert_true(farceur_smtp_client_quit_finish(f->client, wait_result(&res), NULL));
}

static void
assert_message(Fixture *f, guint index, const char *expected)
{
  GBytes *wire = scripted_server_get_message(f->server, index);
  g_autoptr(GBytes) plain = NULL;
  g_autofree char *text = NULL;

  g_assert_nonnull(wire);
  plain = scripted_server_unstuff(wire);
  text = g_strndup(g_bytes_get_data(plain, NULL), g_bytes_get_size(plain));
  g_assert_cmpstr(text, ==, expected);
}

/* --- the plain paths ---------------------------------------------------- */

static void
test_lockstep(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_LOCKSTEP }, { OK }, { OK }, { GO }, { "250 2.0.0 queued as X\r\n" },
    { BYE },
  };
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, &error));
  g_assert_no_error(error);
  g_assert_true(farceur_smtp_client_has_extension(f.client, "8bitmime"));
  g_assert_false(farceur_smtp_client_has_extension(f.client, "PIPELINING"));
  result = do_send(&f, &error);
  g_assert_no_error(error);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  g_assert_null(result->error);
  g_assert_cmpuint(result->final_reply->code, ==, 250);
  g_assert_cmpstr(result->final_reply->enhanced, ==, "2.0.0");
  g_assert_cmpstr(result->final_reply->text, ==, "queued as X");
  g_assert_cmpuint(result->n_accepted, ==, 1);
  g_assert_cmpuint(f.commits, ==, 1);
  g_assert_true(f.ready_in_callback); /* the connection can be reused from there */
  do_quit(&f);
  g_assert_cmpstr(scripted_server_wait(f.server), ==,
                  "C: EHLO farceur.test\n"
                  "C: MAIL FROM:<a@a.test>\n"
                  "C: RCPT TO:<b@b.test>\n"
                  "C: DATA\n"
                  "C: <data>\n"
                  "C: QUIT\n");
  assert_message(&f, 0, SIMPLE_WIRE);
  g_assert_cmpstr(f.transcript->str, ==,
                  "S: 220 mx.test ESMTP\n"
                  "C: EHLO farceur.test\n"
                  "S: 250-mx.test\nS: 250-8BITMIME\nS: 250 ENHANCEDSTATUSCODES\n"
                  "C: MAIL FROM:<a@a.test>\nS: 250 2.0.0 ok\n"
                  "C: RCPT TO:<b@b.test>\nS: 250 2.0.0 ok\n"
                  "C: DATA\nS: 354 go ahead\n"
                  "C: <53 octets of content>\nC: .\nS: 250 2.0.0 queued as X\n"
                  "C: QUIT\nS: 221 2.0.0 bye\n");
  fixture_clear(&f);
}

/* RFC 2920: MAIL, every RCPT and DATA in one write; content only after 354. */
static void
test_pipelining(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_PIPELINING },         { OK }, { OK },
    { OK },       { GO, SCRIPTED_CHECK_IDLE }, { OK }, { BYE },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", "c@c.test", NULL);
  g_autofree char *expected = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send_message(&f, env, SIMPLE_MESSAGE, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  g_assert_cmpuint(result->n_accepted, ==, 2);
  do_quit(&f);
  expected = g_strdup_printf("C: EHLO farceur.test\n"
                             "C: MAIL FROM:<a@a.test> SIZE=%zu\n"
                             "C+ RCPT TO:<b@b.test>\n"
                             "C+ RCPT TO:<c@c.test>\n"
                             "C+ DATA\n"
                             "C: <data>\n"
                             "C: QUIT\n",
                             result->size);
  g_assert_cmpstr(scripted_server_wait(f.server), ==, expected);
  assert_message(&f, 0, SIMPLE_WIRE);
  fixture_clear(&f);
}

typedef struct {
  GString *order;
  guint pending;
} QueueLog;

static void
queued_send_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  QueueLog *log = data;
  g_autoptr(FarceurSmtpResult) result
      = farceur_smtp_client_send_finish(FARCEUR_SMTP_CLIENT(source), res, NULL);

  g_string_append_printf(log->order, "%s ", farceur_smtp_outcome_to_string(result->outcome));
  log->pending--;
}

static void
queued_quit_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  QueueLog *log = data;

  g_assert_true(farceur_smtp_client_quit_finish(FARCEUR_SMTP_CLIENT(source), res, NULL));
  g_string_append(log->order, "quit");
  log->pending--;
}

/* Two messages and QUIT asked for at once: with PIPELINING the second
 * MAIL/RCPT/DATA and then QUIT go out in the same write as the final dot
 * before them; results come back in order. */
static void
run_queued(const ScriptedStep *steps, gsize n_steps, const char *expected)
{
  Fixture f;
  QueueLog log = { g_string_new(NULL), 3 };
  g_autoptr(GMimeMessage) one = message_new(SIMPLE_MESSAGE);
  g_autoptr(GMimeMessage) two = message_new(SIMPLE_MESSAGE);
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);

  fixture_init(&f, steps, n_steps);
  g_assert_true(do_connect(&f, NULL));
  farceur_smtp_client_send_async(f.client, env, GMIME_OBJECT(one), count_commit, &f, NULL,
                                 queued_send_cb, &log);
  farceur_smtp_client_send_async(f.client, env, GMIME_OBJECT(two), count_commit, &f, NULL,
                                 queued_send_cb, &log);
  farceur_smtp_client_quit_async(f.client, NULL, queued_quit_cb, &log);
  while (log.pending > 0)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpstr(log.order->str, ==, "delivered delivered quit");
  g_assert_cmpuint(f.commits, ==, 2);
  g_assert_cmpstr(scripted_server_wait(f.server), ==, expected);
  g_assert_cmpuint(scripted_server_get_n_messages(f.server), ==, 2);
  g_string_free(log.order, TRUE);
  fixture_clear(&f);
}

static void
test_pipelining_behind_dot(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_PIPELINING },
    { OK },       { OK },
    { GO },       { OK },
    { OK },       { OK },
    { GO },       { OK },
    { BYE },
  };

  run_queued(steps, G_N_ELEMENTS(steps),
             "C: EHLO farceur.test\n"
             "C: MAIL FROM:<a@a.test> SIZE=53\n"
             "C+ RCPT TO:<b@b.test>\n"
             "C+ DATA\n"
             "C: <data>\n"
             "C+ MAIL FROM:<a@a.test> SIZE=53\n"
             "C+ RCPT TO:<b@b.test>\n"
             "C+ DATA\n"
             "C: <data>\n"
             "C+ QUIT\n");
}

/* The same without PIPELINING: queued, but each command waits its turn. */
static void
test_queued_lockstep(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_LOCKSTEP }, { OK }, { OK }, { GO }, { OK }, { OK }, { OK }, { GO },
    { OK },       { BYE },
  };

  run_queued(steps, G_N_ELEMENTS(steps),
             "C: EHLO farceur.test\n"
             "C: MAIL FROM:<a@a.test>\n"
             "C: RCPT TO:<b@b.test>\n"
             "C: DATA\n"
             "C: <data>\n"
             "C: MAIL FROM:<a@a.test>\n"
             "C: RCPT TO:<b@b.test>\n"
             "C: DATA\n"
             "C: <data>\n"
             "C: QUIT\n");
}

/* LMTP (RFC 2033): LHLO, and after the dot one reply per accepted recipient. */
static void
test_lmtp(void)
{
  static const ScriptedStep steps[] = {
    { "220 lmtp.test LMTP\r\n" },
    { "250-lmtp.test\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n" },
    { OK },
    { OK },
    { "550 5.1.1 no such user\r\n" },
    { OK },
    { GO },
    { "250 2.0.0 b ok\r\n452 4.2.2 d over quota\r\n" },
    { BYE },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(FarceurEnvelope) env
      = envelope_new("a@a.test", "b@b.test", "c@c.test", "d@d.test", NULL);
  FarceurSmtpRecipient *b, *c, *d;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  farceur_smtp_client_set_lmtp(f.client, TRUE);
  g_assert_true(do_connect(&f, NULL));
  result = do_send_message(&f, env, SIMPLE_MESSAGE, NULL);
  b = result->recipients->pdata[0], c = result->recipients->pdata[1];
  d = result->recipients->pdata[2];
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  g_assert_cmpuint(result->n_accepted, ==, 1);
  g_assert_cmpuint(b->data_reply->code, ==, 250);
  g_assert_null(c->data_reply);
  g_assert_cmpuint(c->reply->code, ==, 550);
  g_assert_cmpuint(d->data_reply->code, ==, 452);
  g_assert_cmpstr(d->data_reply->enhanced, ==, "4.2.2");
  do_quit(&f);
  g_assert_cmpstr(scripted_server_wait(f.server), ==,
                  "C: LHLO farceur.test\n"
                  "C: MAIL FROM:<a@a.test>\n"
                  "C+ RCPT TO:<b@b.test>\n"
                  "C+ RCPT TO:<c@c.test>\n"
                  "C+ RCPT TO:<d@d.test>\n"
                  "C+ DATA\n"
                  "C: <data>\n"
                  "C: QUIT\n");
  fixture_clear(&f);
}

/* Lines over 998 octets are re-encoded (quoted-printable), not cut. */
static void
test_long_line_reencoded(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_LOCKSTEP }, { OK }, { OK }, { GO }, { OK }, { BYE },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);
  g_autofree char *line = g_strnfill(3000, 'x');
  g_autofree char *text = g_strdup_printf("Subject: long\n\n%s\n", line);
  g_autofree char *wire = NULL;
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  g_autoptr(GMimeMessage) back = NULL;
  g_autofree char *body = NULL;
  g_auto(GStrv) lines = NULL;
  GBytes *got;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send_message(&f, env, text, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  do_quit(&f);
  scripted_server_wait(f.server);
  got = scripted_server_get_message(f.server, 0);
  wire = g_strndup(g_bytes_get_data(got, NULL), g_bytes_get_size(got));
  lines = g_strsplit(wire, "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_cmpuint(strlen(lines[i]), <=, 998);
  /* and the text is intact once decoded */
  stream = g_mime_stream_mem_new_with_buffer(wire, strlen(wire));
  parser = g_mime_parser_new_with_stream(stream);
  back = g_mime_parser_construct_message(parser, NULL);
  body = g_mime_text_part_get_text(GMIME_TEXT_PART(g_mime_message_get_body(back)));
  g_assert_cmpstr(g_strchomp(body), ==, line);
  fixture_clear(&f);
}

/* Non-ASCII addresses with SMTPUTF8 offered: MAIL says SMTPUTF8 (and 8BITMIME). */
static void
test_smtputf8(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { "250-mx.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n" },
    { OK },       { OK },
    { GO },       { OK },
    { BYE },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(FarceurEnvelope) env = envelope_new("j\xc3\xa9r\xc3\xb4me@a.test", "b@b.test", NULL);

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send_message(&f, env, "Subject: caf\xc3\xa9\n\nx\n", NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  do_quit(&f);
  g_assert_nonnull(strstr(scripted_server_wait(f.server),
                          "C: MAIL FROM:<j\xc3\xa9r\xc3\xb4me@a.test> BODY=8BITMIME SMTPUTF8\n"));
  fixture_clear(&f);
}

/* A stream the caller connected (what exec: and lmtp: unix sockets use). */
static void
test_connect_stream(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_PIPELINING }, { OK }, { OK }, { GO }, { OK }, { BYE },
  };
  Fixture f;
  g_autoptr(GSocketClient) sc = g_socket_client_new();
  g_autoptr(GSocketConnectable) address = NULL;
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  address = scripted_server_get_address(f.server);
  conn = g_socket_client_connect(sc, address, NULL, NULL);
  g_assert_nonnull(conn);
  farceur_smtp_client_connect_stream_async(f.client, G_IO_STREAM(conn), NULL, NULL, store_result_cb,
                                           &res);
  g_assert_true(farceur_smtp_client_connect_finish(f.client, wait_result(&res), NULL));
  result = do_send(&f, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  do_quit(&f);
  scripted_server_wait(f.server);
  assert_message(&f, 0, SIMPLE_WIRE);
  fixture_clear(&f);
}

/* --- faults ------------------------------------------------------------- */

static void
test_greeting_421(void)
{
  static const ScriptedStep steps[] = { { "421 4.3.2 too busy\r\n", SCRIPTED_CLOSE } };
  Fixture f;
  g_autoptr(GError) error = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_false(do_connect(&f, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL);
  g_assert_nonnull(strstr(error->message, "421 too busy"));
  g_assert_cmpstr(scripted_server_wait(f.server), ==, "");
  g_assert_false(farceur_smtp_client_is_ready(f.client));
  fixture_clear(&f);
}

/* 4xx on MAIL: deferred, RSET, and the retry on the same connection works. */
static void
test_mail_tempfail_then_retry(void)
{
  static const ScriptedStep steps[] = {
    { GREETING },
    { EHLO_LOCKSTEP },
    { "451 4.3.0 try again later\r\n" },
    { OK },
    { OK },
    { OK },
    { GO },
    { OK },
    { BYE },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) first = NULL;
  g_autoptr(FarceurSmtpResult) second = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  first = do_send(&f, NULL);
  g_assert_cmpint(first->outcome, ==, FARCEUR_SMTP_OUTCOME_DEFERRED);
  g_assert_error(first->error, FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL);
  g_assert_cmpstr(first->mail_reply->enhanced, ==, "4.3.0");
  g_assert_true(farceur_smtp_client_is_ready(f.client));
  second = do_send(&f, NULL);
  g_assert_cmpint(second->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  do_quit(&f);
  g_assert_cmpstr(scripted_server_wait(f.server), ==,
                  "C: EHLO farceur.test\n"
                  "C: MAIL FROM:<a@a.test>\n"
                  "C: RSET\n"
                  "C: MAIL FROM:<a@a.test>\n"
                  "C: RCPT TO:<b@b.test>\n"
                  "C: DATA\n"
                  "C: <data>\n"
                  "C: QUIT\n");
  g_assert_cmpuint(f.commits, ==, 1);
  fixture_clear(&f);
}

/* Some recipients refused: reported one by one; the others get the message. */
static void
test_some_rcpt_refused(void)
{
  static const ScriptedStep steps[] = {
    { GREETING },
    { EHLO_PIPELINING },
    { OK },
    { OK },
    { "550 5.1.1 <c@c.test>: no such user\r\n" },
    { OK },
    { GO },
    { OK },
    { BYE },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(FarceurEnvelope) env
      = envelope_new("a@a.test", "b@b.test", "c@c.test", "d@d.test", NULL);
  FarceurSmtpRecipient *refused;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send_message(&f, env, SIMPLE_MESSAGE, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  g_assert_cmpuint(result->n_accepted, ==, 2);
  g_assert_cmpuint(result->recipients->len, ==, 3);
  refused = result->recipients->pdata[1];
  g_assert_cmpstr(refused->address, ==, "c@c.test");
  g_assert_cmpuint(refused->reply->code, ==, 550);
  g_assert_cmpstr(refused->reply->enhanced, ==, "5.1.1");
  g_assert_cmpuint(((FarceurSmtpRecipient *)result->recipients->pdata[2])->reply->code, ==, 250);
  do_quit(&f);
  scripted_server_wait(f.server);
  assert_message(&f, 0, SIMPLE_WIRE);
  fixture_clear(&f);
}

static void
test_every_rcpt_refused(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_LOCKSTEP }, { OK }, { "550 5.1.1 no\r\n" }, { "450 4.2.1 later\r\n" },
    { OK },       { BYE },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", "c@c.test", NULL);

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send_message(&f, env, SIMPLE_MESSAGE, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DEFERRED); /* one 4xx: retry */
  g_assert_cmpuint(result->n_accepted, ==, 0);
  do_quit(&f);
  g_assert_cmpstr(scripted_server_wait(f.server), ==,
                  "C: EHLO farceur.test\n"
                  "C: MAIL FROM:<a@a.test>\n"
                  "C: RCPT TO:<b@b.test>\n"
                  "C: RCPT TO:<c@c.test>\n"
                  "C: RSET\n"
                  "C: QUIT\n");
  g_assert_cmpuint(f.commits, ==, 0);
  fixture_clear(&f);
}

static void
test_data_552(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_LOCKSTEP }, { OK }, { OK }, { GO }, { "552 5.3.4 message too big\r\n" },
    { BYE },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send(&f, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_REFUSED);
  g_assert_error(result->error, FARCEUR_ERROR, FARCEUR_ERROR_UNAVAILABLE);
  g_assert_cmpstr(result->final_reply->enhanced, ==, "5.3.4");
  g_assert_cmpuint(result->n_accepted, ==, 0);
  do_quit(&f);
  g_assert_cmpstr(scripted_server_wait(f.server), ==,
                  "C: EHLO farceur.test\n"
                  "C: MAIL FROM:<a@a.test>\n"
                  "C: RCPT TO:<b@b.test>\n"
                  "C: DATA\n"
                  "C: <data>\n"
                  "C: QUIT\n");
  fixture_clear(&f);
}

/* 421 in the middle: the transaction is deferred, the session is over. */
static void
test_421_mid_session(void)
{
  static const ScriptedStep steps[] = {
    { GREETING },
    { EHLO_LOCKSTEP },
    { "421 4.3.2 shutting down\r\n", SCRIPTED_CLOSE },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send(&f, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DEFERRED);
  g_assert_error(result->error, FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL);
  g_assert_false(farceur_smtp_client_is_ready(f.client));
  do_quit(&f);
  g_assert_cmpstr(scripted_server_wait(f.server), ==,
                  "C: EHLO farceur.test\nC: MAIL FROM:<a@a.test>\n");
  fixture_clear(&f);
}

/* The dot went out, no reply came: nobody knows whether it was delivered. */
static void
test_drop_after_dot(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_LOCKSTEP }, { OK }, { OK }, { GO }, { NULL, SCRIPTED_CLOSE },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send(&f, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_UNKNOWN);
  g_assert_nonnull(result->error);
  g_assert_null(result->final_reply);
  g_assert_cmpuint(f.commits, ==, 1);
  g_assert_false(f.ready_in_callback);
  g_assert_false(farceur_smtp_client_is_ready(f.client));
  do_quit(&f); /* just closes a broken connection */
  scripted_server_wait(f.server);
  g_assert_cmpuint(scripted_server_get_n_messages(f.server), ==, 1);
  fixture_clear(&f);
}

/* The connection drops while the content is being written: not delivered,
 * and the commit hook was never called, so a journal says nothing is in doubt. */
static void
test_drop_mid_data(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_LOCKSTEP }, { OK }, { OK }, { GO, SCRIPTED_DROP_IN_DATA },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);
  GString *big = g_string_new("From: a@a.test\nTo: b@b.test\nSubject: big\n\n");
  g_autofree char *text = NULL;

  for (guint i = 0; i < 400000; i++) /* 32 MB: more than loopback buffers hold */
    g_string_append(big, "0123456789012345678901234567890123456789012345678901234567890123456789"
                         "012345678\n");
  text = g_string_free(big, FALSE);
  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send_message(&f, env, text, NULL);
  g_test_message("size %zu: %s", result->size, result->error ? result->error->message : "");
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DEFERRED);
  g_assert_nonnull(result->error);
  g_assert_cmpuint(f.commits, ==, 0);
  scripted_server_wait(f.server);
  g_assert_cmpuint(scripted_server_get_n_messages(f.server), ==, 0);
  fixture_clear(&f);
}

static void
waiting_cb(FarceurSmtpClient *client, const char *text, gpointer data)
{
  g_string_append_printf(data, "%s\n", text);
}

/* A port that accepts and never greets is no SMTP server (69), and the
 * error says what to check; a wait that lasts is announced ("waiting"),
 * once, with the time it may take. */
static void
test_silent_server(void)
{
  static const ScriptedStep steps[] = { { NULL, SCRIPTED_HANG } };
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) waiting = g_string_new(NULL);
  g_autofree char *expected = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  farceur_smtp_client_set_timeout(f.client, 1500);
  g_signal_connect(f.client, "waiting", G_CALLBACK(waiting_cb), waiting);
  g_assert_false(do_connect(&f, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_UNAVAILABLE);
  g_assert_nonnull(strstr(error->message, "connected, but no greeting in 1.5 s: check that this "
                                          "port speaks SMTP"));
  expected = g_strdup_printf("waiting for the greeting from 127.0.0.1:%u, 1.5 s\u2026\n",
                             scripted_server_get_port(f.server));
  g_assert_cmpstr(waiting->str, ==, expected);
  g_assert_cmpstr(scripted_server_wait(f.server), ==, "");
  fixture_clear(&f);
}

/* A 200-line EHLO reply with over-long and binary lines: junk is ignored,
 * real keywords are kept. */
static void
test_ehlo_junk(void)
{
  g_autoptr(GString) ehlo = g_string_new("250-mx.test\r\n");
  g_autofree char *longer = g_strnfill(3000, 'X');
  Fixture f;
  ScriptedStep steps[] = { { GREETING }, { NULL }, { BYE } };

  for (guint i = 0; i < 197; i++)
    g_string_append_printf(ehlo, "250-%s\r\n",
                           i % 3 == 0   ? "X-BIN\x01\x02\xfe\xff junk"
                           : i % 3 == 1 ? longer
                                        : "\x1b[2J\xc3\x28");
  g_string_append(ehlo, "250-PIPELINING\r\n250 SIZE 1000\r\n");
  steps[1].reply = ehlo->str;
  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  g_assert_true(farceur_smtp_client_has_extension(f.client, "PIPELINING"));
  g_assert_cmpuint(farceur_smtp_client_get_max_size(f.client), ==, 1000);
  g_assert_false(farceur_smtp_client_has_extension(f.client, "X-BIN"));
  do_quit(&f);
  g_assert_cmpstr(scripted_server_wait(f.server), ==, "C: EHLO farceur.test\nC: QUIT\n");
  g_assert_null(strchr(f.transcript->str, '\x1b')); /* nothing reaches a terminal raw */
  fixture_clear(&f);
}

static void
test_ehlo_line_too_long(void)
{
  g_autofree char *huge = g_strnfill(5000, 'X');
  g_autofree char *ehlo = g_strdup_printf("250-mx.test\r\n250-%s\r\n250 8BITMIME\r\n", huge);
  ScriptedStep steps[] = { { GREETING }, { NULL, SCRIPTED_CLOSE } };
  Fixture f;
  g_autoptr(GError) error = NULL;

  steps[1].reply = ehlo;
  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_false(do_connect(&f, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL);
  scripted_server_wait(f.server);
  fixture_clear(&f);
}

static void
test_lf_only_replies(void)
{
  static const ScriptedStep steps[] = {
    { "220 mx.test\n" }, { "250-mx.test\n250 PIPELINING\n" },
    { "250 ok\n" },      { "250 ok\n" },
    { "354 go\n" },      { "250 ok\n" },
    { "221 bye\n" },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send(&f, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  do_quit(&f);
  scripted_server_wait(f.server);
  assert_message(&f, 0, SIMPLE_WIRE);
  fixture_clear(&f);
}

/* Lines that cannot start a reply, between replies (what `exim -bh` writes
 * around its replies): each one a protocol warning in the transcript, in the
 * server's order, and the replies around them are used; the blank line after
 * the final 250 in the same segment does not make the message unknown. */
static void
test_junk_between_replies(void)
{
  static const ScriptedStep steps[] = {
    { "\n**** SMTP testing session as if from host 127.0.0.1\n**** This is not for real!\n\n"
      "220 mx.test ESMTP\r\n" },
    { EHLO_LOCKSTEP },
    { OK },
    { OK },
    { GO },
    { "250 OK id=1\r\n\n**** SMTP testing: that is not a real message id!\n\n" },
    { BYE },
  };
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, &error));
  g_assert_no_error(error);
  result = do_send(&f, &error);
  g_assert_no_error(error);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  g_assert_cmpstr(result->final_reply->text, ==, "OK id=1");
  do_quit(&f);
  scripted_server_wait(f.server);
  assert_message(&f, 0, SIMPLE_WIRE);
  g_assert_cmpstr(f.transcript->str, ==,
                  "* protocol warning: reply line 1: blank line, ignored\n"
                  "* protocol warning: reply line 2: no reply code, ignored: "
                  "'**** SMTP testing session as if from hos...'\n"
                  "* protocol warning: reply line 3: no reply code, ignored: "
                  "'**** This is not for real!'\n"
                  "* protocol warning: reply line 4: blank line, ignored\n"
                  "S: 220 mx.test ESMTP\n"
                  "C: EHLO farceur.test\n"
                  "S: 250-mx.test\nS: 250-8BITMIME\nS: 250 ENHANCEDSTATUSCODES\n"
                  "C: MAIL FROM:<a@a.test>\nS: 250 2.0.0 ok\n"
                  "C: RCPT TO:<b@b.test>\nS: 250 2.0.0 ok\n"
                  "C: DATA\nS: 354 go ahead\n"
                  "C: <53 octets of content>\nC: .\nS: 250 OK id=1\n"
                  "* protocol warning: reply line 13: blank line, ignored\n"
                  "* protocol warning: reply line 14: no reply code, ignored: "
                  "'**** SMTP testing: that is not a real me...'\n"
                  "* protocol warning: reply line 15: blank line, ignored\n"
                  "C: QUIT\nS: 221 2.0.0 bye\n");
  fixture_clear(&f);
}

/* A reply broken inside (its code changes between lines) still fails the
 * connection, but only after the complete reply before it was used: the
 * message is delivered, not unknown. */
static void
test_broken_after_reply(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_LOCKSTEP },
    { OK },       { OK },
    { GO },       { "250 2.0.0 queued\r\n250-a\r\n251 b\r\n", SCRIPTED_CLOSE },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send(&f, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  g_assert_true(f.ready_in_callback);
  scripted_server_wait(f.server);
  fixture_clear(&f);
}

/* Opportunistic STARTTLS refused (454): the session goes on in plaintext,
 * as RFC 7435 says; smtp+starttls:// would fail (see starttls-required). */
static void
test_starttls_refused_opportunistic(void)
{
  static const ScriptedStep steps[] = {
    { GREETING },
    { "250-mx.test\r\n250 STARTTLS\r\n" },
    { "454 4.7.0 TLS not available\r\n" },
    { OK },
    { OK },
    { GO },
    { OK },
    { BYE },
  };
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  farceur_smtp_client_set_security(f.client, FARCEUR_SMTP_SECURITY_OPPORTUNISTIC);
  g_assert_true(do_connect(&f, &error));
  g_assert_no_error(error);
  g_assert_false(farceur_smtp_client_is_tls(f.client));
  result = do_send(&f, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  do_quit(&f);
  g_assert_cmpstr(scripted_server_wait(f.server), ==,
                  "C: EHLO farceur.test\nC: STARTTLS\nC: MAIL FROM:<a@a.test>\n"
                  "C: RCPT TO:<b@b.test>\nC: DATA\nC: <data>\nC: QUIT\n");
  g_assert_nonnull(strstr(f.transcript->str, "* STARTTLS refused: going on in plaintext"));
  fixture_clear(&f);
}

/* Bytes after the STARTTLS 220 were sent in plaintext: abort, send nothing more. */
static void
test_starttls_injection(void)
{
  static const ScriptedStep steps[] = {
    { GREETING },
    { "250-mx.test\r\n250 STARTTLS\r\n" },
    { "220 2.0.0 go ahead\r\n250-injected\r\n250 AUTH PLAIN\r\n" },
  };
  Fixture f;
  g_autoptr(GError) error = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_false(do_connect(&f, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL);
  g_assert_cmpstr(scripted_server_wait(f.server), ==, "C: EHLO farceur.test\nC: STARTTLS\n");
  fixture_clear(&f);
}

static void
test_starttls_required_missing(void)
{
  static const ScriptedStep steps[] = { { GREETING }, { EHLO_PIPELINING } };
  Fixture f;
  g_autoptr(GError) error = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  farceur_smtp_client_set_security(f.client, FARCEUR_SMTP_SECURITY_STARTTLS);
  farceur_smtp_client_set_auth(f.client, "user", "secret", NULL);
  g_assert_false(do_connect(&f, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOPERM);
  g_assert_cmpstr(scripted_server_wait(f.server), ==, "C: EHLO farceur.test\n");
  fixture_clear(&f);
}

/* EHLO refused: HELO, and then no ESMTP parameter (SIZE, BODY) is used. */
static void
test_helo_fallback(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { "502 5.5.1 what?\r\n" }, { "250 mx.test\r\n" }, { OK }, { OK }, { GO }, { OK },
    { BYE },
  };
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send_message(&f, env, "From: a@a.test\nSubject: caf\xc3\xa9?\n\ncaf\xc3\xa9\n", NULL);
  g_assert_null(result); /* an 8-bit header needs SMTPUTF8 */
  result = do_send_message(&f, env, "From: a@a.test\nSubject: x\n\ncaf\xc3\xa9\n", NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  do_quit(&f);
  g_assert_cmpstr(scripted_server_wait(f.server), ==,
                  "C: EHLO farceur.test\n"
                  "C: HELO farceur.test\n"
                  "C: MAIL FROM:<a@a.test>\n"
                  "C: RCPT TO:<b@b.test>\n"
                  "C: DATA\n"
                  "C: <data>\n"
                  "C: QUIT\n");
  {
    GBytes *wire = scripted_server_get_message(f.server, 0);
    gsize len;
    const guint8 *p = g_bytes_get_data(wire, &len);

    for (gsize i = 0; i < len; i++) /* no 8BITMIME: re-encoded to 7 bit */
      g_assert_cmpuint(p[i], <, 0x80);
  }
  fixture_clear(&f);
}

/* With 8BITMIME, 8-bit content goes as it is, declared: a message object,
 * then the same message stored. */
static void
test_eightbit_declared(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_LOCKSTEP }, { OK }, { OK }, { GO }, { OK }, { OK }, { OK }, { GO },
    { OK },       { BYE },
  };
  static const char *const text = "Subject: x\n\ncaf\xc3\xa9\n";
  Fixture f;
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);
  const char *transcript;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  for (int stored = 0; stored < 2; stored++) {
    g_autoptr(FarceurSmtpResult) result
        = stored ? do_send_stream(&f, env, text, NULL) : do_send_message(&f, env, text, NULL);
    g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  }
  do_quit(&f);
  transcript = scripted_server_wait(f.server);
  transcript = strstr(transcript, "C: MAIL FROM:<a@a.test> BODY=8BITMIME\n");
  g_assert_nonnull(transcript);
  g_assert_nonnull(strstr(transcript + 1, "C: MAIL FROM:<a@a.test> BODY=8BITMIME\n"));
  for (guint m = 0; m < 2; m++)
    assert_message(&f, m, "Subject: x\r\n\r\ncaf\xc3\xa9\r\n");
  fixture_clear(&f);
}

/* 8-bit bytes GMime cannot re-encode (the raw header of an attached message)
 * and no 8BITMIME: refused before any command. */
static void
test_eightbit_unencodable(void)
{
  static const ScriptedStep steps[] = { { GREETING }, { "250 mx.test\r\n" }, { BYE } };
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send_message(&f, env,
                           "Subject: outer\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n"
                           "Subject: caf\xc3\xa9\n\ninner\n",
                           &error);
  g_assert_null(result);
  g_assert_nonnull(strstr(error->message, "8BITMIME"));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  do_quit(&f);
  g_assert_cmpstr(scripted_server_wait(f.server), ==, "C: EHLO farceur.test\nC: QUIT\n");
  fixture_clear(&f);
}

/* A stored message goes out as it is, but for CRLF and dot-stuffing; one
 * with 8-bit content for a server without 8BITMIME, or a line over 998
 * octets, is parsed and re-encoded by GMime (with 8BITMIME the 8-bit one
 * goes as it is: test_eightbit_declared). */
static void
test_stream_as_stored(void)
{
  static const ScriptedStep steps[] = {
    { GREETING },
    { "502 5.5.1 what?\r\n" },
    { "250 mx.test\r\n" },
    { OK },
    { OK },
    { GO },
    { OK },
    { OK },
    { OK },
    { GO },
    { OK },
    { OK },
    { OK },
    { GO },
    { OK },
    { BYE },
  };
  static const char *const stored = "From: a@a.test\nSubject:  odd\n\tfolding\nX-No-Space:x\n\n"
                                    ".leading dot\r\nCRLF line\n";
  Fixture f;
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);
  g_autofree char *line = g_strnfill(3000, 'y');
  g_autofree char *long_text = g_strdup_printf("Subject: long\n\n%s\n", line);

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  for (guint i = 0; i < 3; i++) {
    const char *text = i == 0 ? stored : i == 1 ? "Subject: x\n\ncaf\xc3\xa9\n" : long_text;
    g_autoptr(FarceurSmtpResult) result = do_send_stream(&f, env, text, NULL);
    g_assert_nonnull(result);
    g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  }
  do_quit(&f);
  scripted_server_wait(f.server);
  assert_message(&f, 0,
                 "From: a@a.test\r\nSubject:  odd\r\n\tfolding\r\nX-No-Space:x\r\n\r\n"
                 ".leading dot\r\nCRLF line\r\n");
  for (guint m = 1; m < 3; m++) {
    GBytes *wire = scripted_server_get_message(f.server, m);
    g_autofree char *text = g_strndup(g_bytes_get_data(wire, NULL), g_bytes_get_size(wire));
    g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
    g_autoptr(GMimeMessage) back = message_new(text);
    g_autofree char *body
        = g_mime_text_part_get_text(GMIME_TEXT_PART(g_mime_message_get_body(back)));
    for (guint i = 0; lines[i] != NULL; i++) {
      g_assert_cmpuint(strlen(lines[i]), <=, 998);
      for (const char *p = lines[i]; *p; p++)
        g_assert_cmpuint((guint8)*p, <, 0x80);
    }
    g_assert_cmpstr(g_strchomp(body), ==, m == 1 ? "caf\xc3\xa9" : line);
  }
  fixture_clear(&f);
}

/* A lone CR in the header would split a field on the wire ("Subject: x\rBcc:
 * y" is one Subject to GMime, two fields to the server): refused before any
 * command, stored or composed alike; in the body it is only a line end. */
static void
test_header_lone_cr(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_LOCKSTEP }, { OK }, { OK }, { GO }, { OK }, { BYE },
  };
  static const char *const bad = "From: a@a.test\nSubject: hi\rBcc: eve@e.test\nTo: b@b.test\n\n"
                                 "body\n";
  Fixture f;
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  for (int stored = 0; stored < 2; stored++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(FarceurSmtpResult) refused
        = stored ? do_send_stream(&f, env, bad, &error) : do_send_message(&f, env, bad, &error);
    g_assert_null(refused);
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
    g_assert_nonnull(strstr(error->message, "line 2: a lone CR in the header"));
  }
  result = do_send_stream(&f, env, "From: a@a.test\nTo: b@b.test\n\nlone\rCR\n", NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  do_quit(&f);
  scripted_server_wait(f.server);
  assert_message(&f, 0, "From: a@a.test\r\nTo: b@b.test\r\n\r\nlone\r\nCR\r\n");
  fixture_clear(&f);
}

static void
test_size_refused_early(void)
{
  static const ScriptedStep steps[] = {
    { GREETING },
    { "250-mx.test\r\n250 SIZE 20\r\n" },
    { BYE },
  };
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send(&f, &error);
  g_assert_null(result);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_true(farceur_smtp_client_is_ready(f.client));
  do_quit(&f);
  g_assert_cmpstr(scripted_server_wait(f.server), ==, "C: EHLO farceur.test\nC: QUIT\n");
  fixture_clear(&f);
}

/* Addresses are checked before they reach a command. */
static void
test_bad_address(void)
{
  static const ScriptedStep steps[] = { { GREETING }, { EHLO_PIPELINING }, { BYE } };
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(FarceurEnvelope) env
      = envelope_new("a@a.test", "b@b.test>\r\nRCPT TO:<evil@x.test", NULL);

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send_message(&f, env, SIMPLE_MESSAGE, &error);
  g_assert_null(result);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  do_quit(&f);
  g_assert_cmpstr(scripted_server_wait(f.server), ==, "C: EHLO farceur.test\nC: QUIT\n");
  fixture_clear(&f);
}

/* SMTP smuggling: whatever line ends and dots the input holds, the server
 * sees exactly one message, with CRLF line ends, dots unstuffed back. */
static void
test_smuggling(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_PIPELINING }, { OK }, { OK }, { GO }, { OK }, { BYE },
  };
  static const char input[] = "Subject: s\n\n"
                              "bare lf\n.\nlone cr\r.\rcrlf\r\n.\r\n"
                              "MAIL FROM:<x@evil.test>\r\n"
                              "..two dots\n.one dot\r\n\r.\n\n.\r"
                              "end";
  static const char expected[] = "Subject: s\r\n\r\n"
                                 "bare lf\r\n.\r\nlone cr\r\n.\r\ncrlf\r\n.\r\n"
                                 "MAIL FROM:<x@evil.test>\r\n"
                                 "..two dots\r\n.one dot\r\n\r\n.\r\n\r\n.\r\n"
                                 "end\r\n";
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);
  g_autofree char *transcript = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send_message(&f, env, input, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  do_quit(&f);
  transcript = g_strdup_printf("C: EHLO farceur.test\n"
                               "C: MAIL FROM:<a@a.test> SIZE=%zu\n"
                               "C+ RCPT TO:<b@b.test>\n"
                               "C+ DATA\n"
                               "C: <data>\n"
                               "C: QUIT\n",
                               result->size);
  g_assert_cmpstr(scripted_server_wait(f.server), ==, transcript);
  g_assert_cmpuint(scripted_server_get_n_messages(f.server), ==, 1);
  assert_message(&f, 0, expected);
  fixture_clear(&f);
}

/* Over 1 MiB the wire form is spooled to a temporary file and sent in
 * 64 KiB writes: the server still gets exactly the message, its line ends
 * made CRLF and its dots stuffed across every chunk boundary. */
static void
test_spooled(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_PIPELINING }, { OK }, { OK }, { GO }, { OK }, { BYE },
  };
  static const char body_in[]
      = "bare lf\n.\nlone cr\r.\rcrlf\r\n.\r\n..two dots\n.one dot\r\n\r.\n";
  static const char body_out[]
      = "bare lf\r\n.\r\nlone cr\r\n.\r\ncrlf\r\n.\r\n..two dots\r\n.one dot\r\n\r\n.\r\n";
  Fixture f;
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);
  GString *input = g_string_new("Subject: spooled\n\n");
  GString *expected = g_string_new("Subject: spooled\r\n\r\n");
  g_autofree char *in = NULL;
  g_autofree char *out = NULL;

  for (guint i = 0; i < 30000; i++) { /* about 1.8 MB */
    g_string_append(input, body_in);
    g_string_append(expected, body_out);
  }
  in = g_string_free(input, FALSE);
  out = g_string_free(expected, FALSE);
  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  result = do_send_message(&f, env, in, NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  g_assert_cmpuint(result->size, >, 1024 * 1024);
  g_assert_cmpuint(f.commits, ==, 1);
  do_quit(&f);
  scripted_server_wait(f.server);
  g_assert_cmpuint(scripted_server_get_n_messages(f.server), ==, 1);
  g_assert_cmpuint(g_bytes_get_size(scripted_server_get_message(f.server, 0)), ==,
                   result->size); /* what SIZE declared */
  assert_message(&f, 0, out);
  fixture_clear(&f);
}

static gboolean
cancel_cb(gpointer data)
{
  g_cancellable_cancel(data);
  return G_SOURCE_REMOVE;
}

/* The caller cancels while the client waits for the 354: deferred, and the
 * connection is given up. */
static void
test_cancelled(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_LOCKSTEP }, { OK }, { OK }, { NULL, SCRIPTED_HANG },
  };
  Fixture f;
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GMimeMessage) msg = message_new(SIMPLE_MESSAGE);
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  farceur_smtp_client_send_async(f.client, env, GMIME_OBJECT(msg), NULL, NULL, cancellable,
                                 store_result_cb, &res);
  g_timeout_add(100, cancel_cb, cancellable);
  result = farceur_smtp_client_send_finish(f.client, wait_result(&res), NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DEFERRED);
  g_assert_error(result->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false(farceur_smtp_client_is_ready(f.client));
  g_assert_cmpstr(scripted_server_wait(f.server), ==,
                  "C: EHLO farceur.test\n"
                  "C: MAIL FROM:<a@a.test>\n"
                  "C: RCPT TO:<b@b.test>\n"
                  "C: DATA\n");
  fixture_clear(&f);
}

static void
quit_on_private_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  GError **error = data;

  farceur_smtp_client_quit_finish(FARCEUR_SMTP_CLIENT(source), res, error);
  if (*error == NULL)
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, "quit succeeded");
}

/* QUIT waited for on a private main context (as a synchronous close does):
 * the server never answers, the timer still fires there. */
static void
test_quit_timeout_private_context(void)
{
  static const ScriptedStep steps[] = {
    { GREETING },
    { EHLO_LOCKSTEP },
    { NULL, SCRIPTED_HANG },
  };
  Fixture f;
  g_autoptr(GMainContext) context = g_main_context_new();
  g_autoptr(GError) error = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  farceur_smtp_client_set_timeout(f.client, 300);
  g_main_context_push_thread_default(context);
  farceur_smtp_client_quit_async(f.client, NULL, quit_on_private_cb, &error);
  while (error == NULL)
    g_main_context_iteration(context, TRUE);
  g_main_context_pop_thread_default(context);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL);
  g_assert_cmpstr(scripted_server_wait(f.server), ==, "C: EHLO farceur.test\nC: QUIT\n");
  fixture_clear(&f);
}

/* --- AUTH over loopback plaintext (allowed there), payloads redacted ----- */

static void
test_auth(gconstpointer data)
{
  const char *mech = data;
  g_autofree char *ehlo = g_strdup_printf("250-mx.test\r\n250 AUTH %s\r\n", mech);
  ScriptedStep plain[] = { { GREETING }, { ehlo }, { "235 2.7.0 ok\r\n" }, { BYE } };
  ScriptedStep login[]
      = { { GREETING },           { ehlo }, { "334 VXNlcm5hbWU6\r\n" }, { "334 UGFzc3dvcmQ6\r\n" },
          { "235 2.7.0 ok\r\n" }, { BYE } };
  ScriptedStep cram[] = { { GREETING },
                          { ehlo },
                          { "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n" },
                          { "235 2.7.0 ok\r\n" },
                          { BYE } };
  gboolean is_plain = strcmp(mech, "PLAIN") == 0, is_login = strcmp(mech, "LOGIN") == 0;
  Fixture f;
  const char *expected;

  if (is_plain)
    fixture_init(&f, plain, G_N_ELEMENTS(plain));
  else if (is_login)
    fixture_init(&f, login, G_N_ELEMENTS(login));
  else
    fixture_init(&f, cram, G_N_ELEMENTS(cram));
  /* the RFC 2195 example */
  farceur_smtp_client_set_auth(f.client, "tim", "tanstaaftanstaaf", NULL);
  g_assert_true(do_connect(&f, NULL));
  g_assert_true(farceur_smtp_client_is_authenticated(f.client));
  do_quit(&f);
  if (is_plain)
    expected = "C: EHLO farceur.test\nC: AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\nC: QUIT\n";
  else if (is_login)
    expected = "C: EHLO farceur.test\nC: AUTH LOGIN\nC: dGlt\nC: dGFuc3RhYWZ0YW5zdGFhZg==\n"
               "C: QUIT\n";
  else
    expected = "C: EHLO farceur.test\nC: AUTH CRAM-MD5\n"
               "C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\nC: QUIT\n";
  g_assert_cmpstr(scripted_server_wait(f.server), ==, expected);
  g_assert_null(strstr(f.transcript->str, "dGlt"));
  g_assert_null(strstr(f.transcript->str, "AHRpbQ"));
  g_assert_nonnull(strstr(f.transcript->str, "***"));
  fixture_clear(&f);
}

static void
test_auth_failed(void)
{
  static const ScriptedStep steps[] = {
    { GREETING },
    { "250-mx.test\r\n250 AUTH PLAIN\r\n" },
    { "535 5.7.8 bad credentials\r\n" },
  };
  Fixture f;
  g_autoptr(GError) error = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  farceur_smtp_client_set_auth(f.client, "tim", "wrong", NULL);
  g_assert_false(do_connect(&f, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOPERM);
  scripted_server_wait(f.server);
  fixture_clear(&f);
}

static gboolean
refuse_commit(FarceurSmtpClient *client, const FarceurEnvelope *envelope, gpointer data,
              GError **error)
{
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT, "journal: disk full");
  return FALSE;
}

/* A failing commit hook (journal not written) means no dot is sent. */
static void
test_commit_refused(void)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO_LOCKSTEP }, { OK }, { OK }, { GO }, { NULL },
  };
  Fixture f;
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GMimeMessage) msg = message_new(SIMPLE_MESSAGE);
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", NULL);
  g_autoptr(FarceurSmtpResult) result = NULL;

  fixture_init(&f, steps, G_N_ELEMENTS(steps));
  g_assert_true(do_connect(&f, NULL));
  farceur_smtp_client_send_async(f.client, env, GMIME_OBJECT(msg), refuse_commit, NULL, NULL,
                                 store_result_cb, &res);
  result = farceur_smtp_client_send_finish(f.client, wait_result(&res), NULL);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DEFERRED);
  g_assert_error(result->error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT);
  scripted_server_wait(f.server);
  g_assert_cmpuint(scripted_server_get_n_messages(f.server), ==, 0);
  fixture_clear(&f);
}

/* --- a real server: aiosmtpd, started here ------------------------------ */

typedef struct {
  GSubprocess *proc;
  char *dir;
  guint16 port;
  char *ca;
} RealServer;

static gboolean
real_server_read_banner(RealServer *rs, GError **error)
{
  g_autoptr(GDataInputStream) out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(rs->proc));
  g_autofree char *line = g_data_input_stream_read_line(out, NULL, NULL, error);
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *obj;

  if (line == NULL) {
    if (error != NULL && *error == NULL)
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                  "tests/servers/aiosmtpd-server.py did not start (is python3-aiosmtpd "
                  "installed? its stderr is above)");
    return FALSE;
  }
  if (!json_parser_load_from_data(parser, line, -1, error))
    return FALSE;
  obj = json_node_get_object(json_parser_get_root(parser));
  rs->port = (guint16)json_object_get_int_member(obj, "port");
  rs->ca = g_strdup(json_object_get_string_member(obj, "ca"));
  return TRUE;
}

static gboolean
real_server_start(RealServer *rs, const char *tls, gboolean auth, gboolean stall, GError **error)
{
  g_autofree char *script
      = g_test_build_filename(G_TEST_DIST, "servers", "aiosmtpd-server.py", NULL);
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new();
  g_auto(GStrv) args = NULL;

  memset(rs, 0, sizeof *rs);
  if ((rs->dir = g_dir_make_tmp("farceur-aiosmtpd-XXXXXX", error)) == NULL)
    return FALSE;
  g_strv_builder_add_many(argv, "/usr/bin/python3", script, rs->dir, "--tls", tls, NULL);
  if (auth)
    g_strv_builder_add(argv, "--auth");
  if (stall)
    g_strv_builder_add(argv, "--stall-after-tls");
  args = g_strv_builder_end(argv);
  rs->proc
      = g_subprocess_newv((const char *const *)args,
                          G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, error);
  return rs->proc != NULL && real_server_read_banner(rs, error);
}

static void
real_server_stop(RealServer *rs)
{
  g_autoptr(GDir) dir = rs->dir ? g_dir_open(rs->dir, 0, NULL) : NULL;
  const char *name;

  if (rs->proc != NULL) {
    g_output_stream_close(g_subprocess_get_stdin_pipe(rs->proc), NULL, NULL);
    g_subprocess_wait(rs->proc, NULL, NULL);
    g_clear_object(&rs->proc);
  }
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *path = g_build_filename(rs->dir, name, NULL);

    g_unlink(path);
  }
  if (rs->dir != NULL)
    g_rmdir(rs->dir);
  g_clear_pointer(&rs->dir, g_free);
  g_clear_pointer(&rs->ca, g_free);
}

static char *
real_server_file(RealServer *rs, const char *name)
{
  g_autofree char *path = g_build_filename(rs->dir, name, NULL);
  char *text = NULL;

  g_file_get_contents(path, &text, NULL, NULL);
  return text;
}

static gboolean
real_connect(FarceurSmtpClient *client, RealServer *rs, GError **error)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GSocketConnectable) address = g_network_address_new("localhost", rs->port);

  farceur_smtp_client_connect_async(client, address, NULL, store_result_cb, &res);
  return farceur_smtp_client_connect_finish(client, wait_result(&res), error);
}

static FarceurSmtpResult *
real_send(FarceurSmtpClient *client, const char *text)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GMimeMessage) msg = message_new(text);
  g_autoptr(FarceurEnvelope) env = envelope_new("a@a.test", "b@b.test", "c@c.test", NULL);
  g_autoptr(GError) error = NULL;
  FarceurSmtpResult *result;

  farceur_smtp_client_send_async(client, env, GMIME_OBJECT(msg), NULL, NULL, NULL, store_result_cb,
                                 &res);
  result = farceur_smtp_client_send_finish(client, wait_result(&res), &error);
  g_assert_no_error(error);
  return result;
}

static void
real_quit(FarceurSmtpClient *client)
{
  g_autoptr(GAsyncResult) res = NULL;

  farceur_smtp_client_quit_async(client, NULL, store_result_cb, &res);
  g_assert_true(farceur_smtp_client_quit_finish(client, wait_result(&res), NULL));
}

#define REAL_MESSAGE                                                                               \
  "From: a@a.test\nTo: b@b.test\nSubject: real\n\n.leading dot\n..two\nlone\rcr\n.\nend\n"
#define REAL_WIRE                                                                                  \
  "From: a@a.test\r\nTo: b@b.test\r\nSubject: real\r\n\r\n.leading dot\r\n..two\r\n"               \
  "lone\r\ncr\r\n.\r\nend\r\n"

/* STARTTLS on the throwaway CA, AUTH, two messages on one connection; the
 * server stores exactly what was meant, byte for byte. */
static void
test_real_starttls_auth(gconstpointer data)
{
  const char *mech = data;
  RealServer rs;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurSmtpClient) client = farceur_smtp_client_new();
  g_autoptr(FarceurSmtpResult) first = NULL;
  g_autoptr(FarceurSmtpResult) second = NULL;
  g_autofree char *stored = NULL;
  g_autofree char *stored2 = NULL;
  g_autofree char *envelope = NULL;

  if (!real_server_start(&rs, "starttls", TRUE, FALSE, &error)) {
    g_test_fail_printf("aiosmtpd server: %s", error->message);
    real_server_stop(&rs);
    return;
  }
  farceur_smtp_client_set_security(client, FARCEUR_SMTP_SECURITY_STARTTLS);
  g_assert_true(farceur_smtp_client_set_tls_ca_file(client, rs.ca, NULL));
  farceur_smtp_client_set_auth(client, "tim", "tanstaaf", mech);
  g_assert_true(real_connect(client, &rs, &error));
  g_assert_no_error(error);
  g_assert_true(farceur_smtp_client_is_tls(client));
  g_assert_false(farceur_smtp_client_is_tls_unverified(client)); /* the private CA */
  g_assert_true(farceur_smtp_client_is_authenticated(client));
  first = real_send(client, REAL_MESSAGE);
  second = real_send(client, "Subject: two\n\nsecond\n");
  g_assert_cmpint(first->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  g_assert_cmpint(second->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  g_assert_cmpstr(second->final_reply->text, ==, "stored as 2");
  real_quit(client);
  stored = real_server_file(&rs, "1.eml");
  stored2 = real_server_file(&rs, "2.eml");
  envelope = real_server_file(&rs, "1.json");
  real_server_stop(&rs);
  g_assert_cmpstr(stored, ==, REAL_WIRE);
  g_assert_cmpstr(stored2, ==, "Subject: two\r\n\r\nsecond\r\n");
  g_assert_nonnull(strstr(envelope, "\"rcpt_tos\": [\"b@b.test\", \"c@c.test\"]"));
  g_assert_nonnull(strstr(envelope, "\"tls\": true, \"auth\": true"));
}

/* Without the private CA the certificate is refused when STARTTLS is
 * required; --insecure accepts it, and so does opportunistic STARTTLS
 * (RFC 7435), marking the session unverified and saying so in the
 * transcript. */
static void
test_real_untrusted(void)
{
  RealServer rs;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurSmtpClient) strict = farceur_smtp_client_new();
  g_autoptr(FarceurSmtpClient) insecure = farceur_smtp_client_new();
  g_autoptr(FarceurSmtpClient) loopback = farceur_smtp_client_new();
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(GString) transcript = g_string_new(NULL);

  if (!real_server_start(&rs, "starttls", FALSE, FALSE, &error)) {
    g_test_fail_printf("aiosmtpd server: %s", error->message);
    real_server_stop(&rs);
    return;
  }
  farceur_smtp_client_set_security(strict, FARCEUR_SMTP_SECURITY_STARTTLS);
  g_assert_false(real_connect(strict, &rs, &error));
  g_assert_true(error->domain == G_TLS_ERROR);
  g_assert_cmpint(farceur_error_classify(error), ==, FARCEUR_ERROR_NOPERM);
  farceur_smtp_client_set_tls_insecure(insecure, TRUE);
  g_assert_true(real_connect(insecure, &rs, NULL));
  result = real_send(insecure, REAL_MESSAGE);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  real_quit(insecure);
  g_signal_connect(loopback, "transcript", G_CALLBACK(transcript_cb), transcript);
  g_assert_true(real_connect(loopback, &rs, NULL));
  g_assert_true(farceur_smtp_client_is_tls(loopback));
  g_assert_true(farceur_smtp_client_is_tls_unverified(loopback));
  g_assert_nonnull(strstr(transcript->str, "* TLS unverified: the certificate of "));
  real_quit(loopback);
  real_server_stop(&rs);
}

static void
test_real_implicit_tls(void)
{
  RealServer rs;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurSmtpClient) client = farceur_smtp_client_new();
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autofree char *stored = NULL;

  if (!real_server_start(&rs, "implicit", TRUE, FALSE, &error)) {
    g_test_fail_printf("aiosmtpd server: %s", error->message);
    real_server_stop(&rs);
    return;
  }
  farceur_smtp_client_set_security(client, FARCEUR_SMTP_SECURITY_TLS);
  g_assert_true(farceur_smtp_client_set_tls_ca_file(client, rs.ca, NULL));
  farceur_smtp_client_set_auth(client, "tim", "tanstaaf", NULL);
  g_assert_true(real_connect(client, &rs, &error));
  g_assert_no_error(error);
  result = real_send(client, REAL_MESSAGE);
  g_assert_cmpint(result->outcome, ==, FARCEUR_SMTP_OUTCOME_DELIVERED);
  real_quit(client);
  stored = real_server_file(&rs, "1.eml");
  real_server_stop(&rs);
  g_assert_cmpstr(stored, ==, REAL_WIRE);
}

/* The server goes silent once TLS is up: the client's timer still fires. */
static void
test_real_timeout_under_tls(void)
{
  RealServer rs;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurSmtpClient) client = farceur_smtp_client_new();

  if (!real_server_start(&rs, "starttls", FALSE, TRUE, &error)) {
    g_test_fail_printf("aiosmtpd server: %s", error->message);
    real_server_stop(&rs);
    return;
  }
  farceur_smtp_client_set_security(client, FARCEUR_SMTP_SECURITY_STARTTLS);
  g_assert_true(farceur_smtp_client_set_tls_ca_file(client, rs.ca, NULL));
  farceur_smtp_client_set_timeout(client, 500);
  g_assert_false(real_connect(client, &rs, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL);
  g_assert_true(farceur_smtp_client_is_tls(client));
  real_server_stop(&rs);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  /* g_test_init() turns debug output on; the server thread's GIO debug lines
   * would interleave with the main thread's and break the TAP stream. */
  if (g_getenv("G_MESSAGES_DEBUG") == NULL)
    g_log_set_debug_enabled(FALSE);
  farceur_init();
  g_test_add_func("/smtp-client/lockstep", test_lockstep);
  g_test_add_func("/smtp-client/pipelining", test_pipelining);
  g_test_add_func("/smtp-client/pipelining/behind-dot", test_pipelining_behind_dot);
  g_test_add_func("/smtp-client/queued-lockstep", test_queued_lockstep);
  g_test_add_func("/smtp-client/lmtp", test_lmtp);
  g_test_add_func("/smtp-client/connect-stream", test_connect_stream);
  g_test_add_func("/smtp-client/long-line-reencoded", test_long_line_reencoded);
  g_test_add_func("/smtp-client/smtputf8", test_smtputf8);
  g_test_add_func("/smtp-client/fault/greeting-421", test_greeting_421);
  g_test_add_func("/smtp-client/fault/mail-4xx-retry", test_mail_tempfail_then_retry);
  g_test_add_func("/smtp-client/fault/some-rcpt-550", test_some_rcpt_refused);
  g_test_add_func("/smtp-client/fault/every-rcpt-refused", test_every_rcpt_refused);
  g_test_add_func("/smtp-client/fault/data-552", test_data_552);
  g_test_add_func("/smtp-client/fault/421-mid-session", test_421_mid_session);
  g_test_add_func("/smtp-client/fault/drop-after-dot", test_drop_after_dot);
  g_test_add_func("/smtp-client/fault/drop-mid-data", test_drop_mid_data);
  g_test_add_func("/smtp-client/fault/silent-server", test_silent_server);
  g_test_add_func("/smtp-client/fault/ehlo-200-lines", test_ehlo_junk);
  g_test_add_func("/smtp-client/fault/ehlo-line-too-long", test_ehlo_line_too_long);
  g_test_add_func("/smtp-client/fault/lf-only-replies", test_lf_only_replies);
  g_test_add_func("/smtp-client/fault/junk-between-replies", test_junk_between_replies);
  g_test_add_func("/smtp-client/fault/broken-after-reply", test_broken_after_reply);
  g_test_add_func("/smtp-client/fault/starttls-injection", test_starttls_injection);
  g_test_add_func("/smtp-client/fault/starttls-required", test_starttls_required_missing);
  g_test_add_func("/smtp-client/fault/starttls-refused-opportunistic",
                  test_starttls_refused_opportunistic);
  g_test_add_func("/smtp-client/helo-fallback", test_helo_fallback);
  g_test_add_func("/smtp-client/8bitmime", test_eightbit_declared);
  g_test_add_func("/smtp-client/8bit-unencodable", test_eightbit_unencodable);
  g_test_add_func("/smtp-client/stream-as-stored", test_stream_as_stored);
  g_test_add_func("/smtp-client/header-lone-cr", test_header_lone_cr);
  g_test_add_func("/smtp-client/size-refused-early", test_size_refused_early);
  g_test_add_func("/smtp-client/bad-address", test_bad_address);
  g_test_add_func("/smtp-client/smuggling", test_smuggling);
  g_test_add_func("/smtp-client/spooled", test_spooled);
  g_test_add_data_func("/smtp-client/auth/plain", "PLAIN", test_auth);
  g_test_add_data_func("/smtp-client/auth/login", "LOGIN", test_auth);
  g_test_add_data_func("/smtp-client/auth/cram-md5", "CRAM-MD5", test_auth);
  g_test_add_func("/smtp-client/auth/failed", test_auth_failed);
  g_test_add_func("/smtp-client/commit-refused", test_commit_refused);
  g_test_add_func("/smtp-client/cancelled", test_cancelled);
  g_test_add_func("/smtp-client/quit-timeout-private-context", test_quit_timeout_private_context);
  g_test_add_data_func("/smtp-client/aiosmtpd/starttls-auth-plain", "PLAIN",
                       test_real_starttls_auth);
  g_test_add_data_func("/smtp-client/aiosmtpd/starttls-auth-login", "LOGIN",
                       test_real_starttls_auth);
  g_test_add_func("/smtp-client/aiosmtpd/untrusted-certificate", test_real_untrusted);
  g_test_add_func("/smtp-client/aiosmtpd/implicit-tls", test_real_implicit_tls);
  g_test_add_func("/smtp-client/aiosmtpd/timeout-under-tls", test_real_timeout_under_tls);
  return g_test_run();
}
