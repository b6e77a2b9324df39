/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SMTP client's I/O core: the connection's stream, the output queue and
 * its write, the read loop feeding the reply parser, the timer per wait,
 * cancellation and failure, and the dispatch of each complete reply.
 *
 * The core knows states, not protocol: the reply to the current state goes
 * to the handler the protocol files registered for that state
 * (smtp_io_register(); curl's lib/pingpong.c keeps the same split), and a
 * connection failure gives the pending transactions to the hook the
 * transaction file set (smtp_io_set_abandon()).  Nothing here calls up into
 * the files that drive it; they are smtp-client-session.c,
 * smtp-client-auth.c and smtp-client-transaction.c.
 *
 * Replies come from FarceurSmtpReplyParser, fed by reads of our own buffer
 * (no GBufferedInputStream: after STARTTLS we must see every byte the server
 * sent).  Commands are queued in one output buffer and written with one
 * write, so PIPELINING groups MAIL, RCPT and DATA in one segment and lockstep
 * mode costs one write per command.  A timer per wait cancels the
 * connection's I/O when the server is silent, TLS or not.
 */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include <farceur/smtp-client.h>

#include "smtp-client-private.h"

static const char *const smtp_state_names[SMTP_N_STATES] = {
  "disconnected", "connecting", "tls-handshake", "greeting", "ehlo",   "helo",
  "starttls",     "auth",       "ready",         "mail",     "rcpt",   "data",
  "content",      "dot",        "rset",          "quit",     "closed", "failed",
};

/* The waits without --timeout, in seconds (data/doc/smtp.md, Timeouts).
 * First contact is a command-line tool's: 10 s to connect, 30 s for the TLS
 * handshake and the greeting (RFC 5321 4.5.3.2.1 gives the greeting 5
 * minutes, a daemon's patience); the rest is RFC 5321 4.5.3.2, and the
 * commands it does not name get 5 minutes. */
static const guint smtp_state_timeouts[SMTP_N_STATES] = {
  [SMTP_STATE_CONNECTING] = 10, [SMTP_STATE_TLS_HANDSHAKE] = 30, [SMTP_STATE_GREETING] = 30,
  [SMTP_STATE_EHLO] = 300,      [SMTP_STATE_HELO] = 300,         [SMTP_STATE_STARTTLS] = 300,
  [SMTP_STATE_AUTH] = 300,      [SMTP_STATE_MAIL] = 300,         [SMTP_STATE_RCPT] = 300,
  [SMTP_STATE_DATA] = 120,      [SMTP_STATE_CONTENT] = 180,      [SMTP_STATE_DOT] = 600,
  [SMTP_STATE_RSET] = 300,      [SMTP_STATE_QUIT] = 300,
};

/* A wait at first contact longer than this is announced ("waiting"). */
#define SMTP_NOTICE_DELAY_MS 1000

enum { SIGNAL_TRANSCRIPT, SIGNAL_WAITING, N_SIGNALS };
static guint smtp_io_signals[N_SIGNALS];

/* --- the handler table -------------------------------------------------- */

/* A protocol file hands in its rows: the reply handler of each state it
 * drives.  A state has at most one handler. */
void
smtp_io_register(FarceurSmtpClient *self, const SmtpHandlerRow *rows, gsize n_rows)
{
  for (gsize i = 0; i < n_rows; i++) {
    g_assert(rows[i].state < SMTP_N_STATES && self->handlers[rows[i].state] == NULL);
    self->handlers[rows[i].state] = rows[i].handler;
  }
}

/* Who answers the transactions a failed connection leaves behind. */
void
smtp_io_set_abandon(FarceurSmtpClient *self, SmtpAbandonFunc abandon)
{
  self->abandon = abandon;
}

/* --- state, transcript -------------------------------------------------- */

const char *
smtp_io_state_name(SmtpState state)
{
  return smtp_state_names[state];
}

void
smtp_io_set_state(FarceurSmtpClient *self, SmtpState state)
{
  if (self->state == state)
    return;
  g_debug("smtp %s: %s -> %s", self->server_name ? self->server_name : "?",
          smtp_state_names[self->state], smtp_state_names[state]);
  self->state = state;
}

/* A transaction is under way: sends and QUIT asked for now are queued. */
gboolean
smtp_io_is_busy(FarceurSmtpClient *self)
{
  return self->state >= SMTP_STATE_MAIL && self->state <= SMTP_STATE_RSET;
}

/* The client's class_init installs the signal the core emits. */
void
smtp_io_class_init(GObjectClass *klass)
{
  /**
   * FarceurSmtpClient::transcript:
   * @client: the client
   * @line: "C: MAIL FROM:<a@b>" or "S: 250 ok", no line end; AUTH payloads
   *   are "***" and the message content is one "C: <N octets of content>"
   *
   * Emitted for every line sent or received.
   */
  smtp_io_signals[SIGNAL_TRANSCRIPT]
      = g_signal_new("transcript", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * FarceurSmtpClient::waiting:
   * @client: the client
   * @text: what it waits for, for a person: "waiting for the greeting from
   *   127.0.0.1:1080, 30 s…"
   *
   * Emitted when connecting, the implicit TLS handshake or the greeting
   * has taken over a second: first contact with a port that may not speak
   * SMTP.  A command-line tool shows it on a terminal.
   */
  smtp_io_signals[SIGNAL_WAITING]
      = g_signal_new("waiting", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 1, G_TYPE_STRING);
}

void
smtp_io_transcript(FarceurSmtpClient *self, const char *prefix, const char *line)
{
  g_autofree char *full = NULL;

  if (!g_signal_has_handler_pending(self, smtp_io_signals[SIGNAL_TRANSCRIPT], 0, FALSE))
    return;
  full = g_strconcat(prefix, line, NULL);
  g_signal_emit(self, smtp_io_signals[SIGNAL_TRANSCRIPT], 0, full);
}

static void
smtp_io_transcript_reply(FarceurSmtpClient *self, const FarceurSmtpReply *reply)
{
  g_autofree char *text = farceur_smtp_reply_to_string(reply);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    smtp_io_transcript(self, "S: ", lines[i]);
}

/* --- timer -------------------------------------------------------------- */

static gboolean
smtp_io_timeout_cb(gpointer data)
{
  FarceurSmtpClient *self = data;

  self->timed_out = TRUE;
  g_clear_pointer(&self->timer, g_source_unref);
  g_cancellable_cancel(self->io_cancellable);
  return G_SOURCE_REMOVE;
}

void
smtp_io_stop_timer(FarceurSmtpClient *self)
{
  if (self->timer == NULL)
    return;
  g_source_destroy(self->timer);
  g_clear_pointer(&self->timer, g_source_unref);
}

static guint
smtp_io_timeout_ms(FarceurSmtpClient *self)
{
  return self->timeout_ms ? self->timeout_ms : smtp_state_timeouts[self->state] * 1000;
}

/* "30 s", "0.3 s": a wait for a person. */
static char *
smtp_io_seconds(guint ms)
{
  return g_strdup_printf("%g s", ms / 1000.0);
}

/* Before the greeting is read: the first contact with the server. */
static gboolean
smtp_io_first_contact(FarceurSmtpClient *self)
{
  return self->conn.greeting == NULL
         && (self->state == SMTP_STATE_CONNECTING || self->state == SMTP_STATE_GREETING
             || self->state == SMTP_STATE_TLS_HANDSHAKE);
}

static gboolean
smtp_io_notice_cb(gpointer data)
{
  FarceurSmtpClient *self = data;
  g_autofree char *wait = smtp_io_seconds(smtp_io_timeout_ms(self));
  g_autofree char *text = NULL;

  g_clear_pointer(&self->notice, g_source_unref);
  if (!smtp_io_first_contact(self))
    return G_SOURCE_REMOVE;
  text = g_strdup_printf(self->state == SMTP_STATE_CONNECTING      ? "connecting to %s, %s\u2026"
                         : self->state == SMTP_STATE_TLS_HANDSHAKE ? "waiting for the TLS "
                                                                     "handshake with %s, %s\u2026"
                                                                   : "waiting for the greeting "
                                                                     "from %s, %s\u2026",
                         self->server_name, wait);
  g_signal_emit(self, smtp_io_signals[SIGNAL_WAITING], 0, text);
  return G_SOURCE_REMOVE;
}

void
smtp_io_stop_notice(FarceurSmtpClient *self)
{
  if (self->notice == NULL)
    return;
  g_source_destroy(self->notice);
  g_clear_pointer(&self->notice, g_source_unref);
}

/* A first-contact wait begins: announced if it lasts (SMTP_NOTICE_DELAY_MS). */
static void
smtp_io_start_notice(FarceurSmtpClient *self)
{
  smtp_io_stop_notice(self);
  if (!smtp_io_first_contact(self))
    return;
  self->notice = g_timeout_source_new(SMTP_NOTICE_DELAY_MS);
  g_source_set_callback(self->notice, smtp_io_notice_cb, self, NULL);
  g_source_set_static_name(self->notice, "farceur smtp notice");
  g_source_attach(self->notice, g_main_context_get_thread_default());
}

/* The timer runs while we wait on the server in the current state. */
void
smtp_io_start_timer(FarceurSmtpClient *self)
{
  smtp_io_stop_timer(self);
  if (smtp_io_first_contact(self) && self->notice == NULL && !self->noticed[self->state]) {
    self->noticed[self->state] = TRUE;
    smtp_io_start_notice(self);
  }
  self->timer = g_timeout_source_new(smtp_io_timeout_ms(self));
  g_source_set_callback(self->timer, smtp_io_timeout_cb, self, NULL);
  g_source_set_static_name(self->timer, "farceur smtp timeout");
  /* where the I/O it guards was started: GIO dispatches there too */
  g_source_attach(self->timer, g_main_context_get_thread_default());
}

/* Our timer ran out at first contact: say what to check.  A port that
 * accepts and never greets is no SMTP server (69): a web or IMAP port, or
 * a TLS port given without smtps://, waits for the client to speak. */
static GError *
smtp_io_first_contact_error(FarceurSmtpClient *self)
{
  g_autofree char *wait = smtp_io_seconds(smtp_io_timeout_ms(self));

  if (self->state == SMTP_STATE_CONNECTING)
    return g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL,
                       "smtp server '%s': no connection in %s: is the host up and the port "
                       "open? (--timeout waits longer)",
                       self->server_name, wait);
  if (self->state == SMTP_STATE_TLS_HANDSHAKE)
    return g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_UNAVAILABLE,
                       "smtp server '%s': connected, but no TLS handshake in %s: check that "
                       "this port speaks SMTP over TLS (smtps://)",
                       self->server_name, wait);
  return g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_UNAVAILABLE,
                     "smtp server '%s': connected, but no greeting in %s: check that this port "
                     "speaks SMTP: a web or IMAP port stays silent, and so does one that "
                     "expects TLS at once (smtps://); --timeout waits longer",
                     self->server_name, wait);
}

/* An I/O error, rewritten when it was our timer that cancelled. */
GError *
smtp_io_error(FarceurSmtpClient *self, GError *error, const char *doing)
{
  GError *out;

  if (self->timed_out && smtp_io_first_contact(self))
    out = smtp_io_first_contact_error(self);
  else if (self->timed_out)
    out = g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL,
                      "smtp server '%s': no progress in %u ms while %s (%s state)",
                      self->server_name, smtp_io_timeout_ms(self), doing,
                      smtp_state_names[self->state]);
  else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    out = g_error_copy(error);
  else
    out = g_error_new(error->domain, error->code, "smtp server '%s': %s while %s",
                      self->server_name, error->message, doing);
  g_error_free(error);
  return out;
}

/* --- operations --------------------------------------------------------- */

static void
smtp_io_cancelled_cb(GCancellable *cancellable, gpointer data)
{
  g_cancellable_cancel(G_CANCELLABLE(data));
}

SmtpOp *
smtp_op_new(FarceurSmtpClient *self, GTask *task)
{
  SmtpOp *op = g_new0(SmtpOp, 1);
  GCancellable *cancellable = g_task_get_cancellable(task);

  op->task = task;
  if (cancellable != NULL) {
    op->cancellable = g_object_ref(cancellable);
    op->cancel_id = g_cancellable_connect(cancellable, G_CALLBACK(smtp_io_cancelled_cb),
                                          g_object_ref(self->io_cancellable), g_object_unref);
  }
  return op;
}

/* Free @op; its task (transfer full) is then ready to be returned. */
GTask *
smtp_op_finish(SmtpOp *op)
{
  GTask *task = op->task;

  if (op->cancellable != NULL) {
    g_cancellable_disconnect(op->cancellable, op->cancel_id);
    g_object_unref(op->cancellable);
  }
  g_free(op);
  return task;
}

void
smtp_op_return_boolean(SmtpOp *op)
{
  g_autoptr(GTask) task = smtp_op_finish(op);

  g_task_return_boolean(task, TRUE);
}

static void
smtp_op_return_error(SmtpOp *op, const GError *error)
{
  g_autoptr(GTask) task = smtp_op_finish(op);

  g_task_return_error(task, g_error_copy(error));
}

/* The connect or QUIT in progress is over. */
static void
smtp_io_op_done(FarceurSmtpClient *self)
{
  smtp_io_stop_timer(self);
  smtp_op_return_boolean(g_steal_pointer(&self->op));
}

/* The session is set up: the connect succeeds. */
void
smtp_io_ready(FarceurSmtpClient *self)
{
  smtp_io_set_state(self, SMTP_STATE_READY);
  smtp_io_op_done(self);
}

void
smtp_io_close_stream(FarceurSmtpClient *self)
{
  if (self->stream == NULL)
    return;
  g_cancellable_cancel(self->io_cancellable);
  g_io_stream_close_async(self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object(&self->stream);
}

/* The session ended as QUIT asked (its reply, or the server hung up). */
void
smtp_io_closed(FarceurSmtpClient *self)
{
  smtp_io_set_state(self, SMTP_STATE_CLOSED);
  smtp_io_close_stream(self);
  smtp_io_op_done(self);
}

/* --- failure ------------------------------------------------------------ */

/* Connection-level failure: the connection is unusable from here on.
 * Takes @error.  Every operation gets its answer, in the order asked:
 * transactions their results (through the abandon hook), a pending QUIT
 * success (the connection is closed, as asked), a connect or QUIT in
 * progress the error. */
void
smtp_io_fail(FarceurSmtpClient *self, GError *error)
{
  g_autoptr(FarceurSmtpClient) keep G_GNUC_UNUSED = g_object_ref(self); /* alive to the end */
  g_autoptr(GError) owned G_GNUC_UNUSED = error;                        /* freed on return */
  SmtpTransaction *tx = g_steal_pointer(&self->tx);
  GQueue queued = self->queue;
  SmtpOp *op = g_steal_pointer(&self->op);
  SmtpOp *quit = g_steal_pointer(&self->quit);

  g_queue_init(&self->queue);
  smtp_io_stop_timer(self);
  smtp_io_stop_notice(self);
  smtp_io_set_state(self, SMTP_STATE_FAILED);
  smtp_io_close_stream(self);
  g_assert(self->abandon != NULL || (tx == NULL && g_queue_is_empty(&queued)));
  if (self->abandon != NULL)
    self->abandon(tx, &queued, error);
  if (quit != NULL)
    smtp_op_return_boolean(quit);
  if (op != NULL)
    smtp_op_return_error(op, error);
}

/* The one wording of an error built from a server's reply:
 * "smtp server 'NAME': WHAT: CODE TEXT", the reply's lines joined by spaces. */
GError *
smtp_io_reply_error(FarceurSmtpClient *self, int code, const char *what,
                    const FarceurSmtpReply *reply)
{
  g_autofree char *flat = g_strdelimit(g_strdup(reply->text), "\n", ' ');

  return g_error_new(FARCEUR_ERROR, code, "smtp server '%s': %s: %u %s", self->server_name, what,
                     reply->code, flat);
}

/* The error code a refusal gets by its class: 4xx retry later, else not. */
int
smtp_io_reply_error_code(const FarceurSmtpReply *reply)
{
  return reply->code / 100 == 4 ? FARCEUR_ERROR_TEMPFAIL : FARCEUR_ERROR_UNAVAILABLE;
}

void
smtp_io_fail_reply(FarceurSmtpClient *self, int code, const char *what,
                   const FarceurSmtpReply *reply)
{
  smtp_io_fail(self, smtp_io_reply_error(self, code, what, reply));
}

/* The session ends once the current reply is handled; queued work fails
 * with @what.  A server that cannot RSET is not to be trusted further. */
void
smtp_io_set_closing(FarceurSmtpClient *self, int code, const char *what,
                    const FarceurSmtpReply *reply)
{
  if (self->closing == NULL)
    self->closing = smtp_io_reply_error(self, code, what, reply);
}

/* --- writing ------------------------------------------------------------ */

void
smtp_io_queue(FarceurSmtpClient *self, const char *line, const char *shown)
{
  g_byte_array_append(self->outbuf, (const guint8 *)line, (guint)strlen(line));
  g_byte_array_append(self->outbuf, (const guint8 *)"\r\n", 2);
  smtp_io_transcript(self, "C: ", shown ? shown : line);
}

static void
smtp_io_send_ready_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  FarceurSmtpClient *self = data;
  GError *error = NULL;

  smtp_io_stop_timer(self);
  if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error)) {
    smtp_io_fail(self, smtp_io_error(self, error, "writing"));
    return;
  }
  g_byte_array_set_size(self->outbuf, 0);
  smtp_io_wait(self);
}

/* The send step's end: write what was queued in one write, then wait for
 * the next reply. */
void
smtp_io_send(FarceurSmtpClient *self)
{
  GOutputStream *out = g_io_stream_get_output_stream(self->stream);

  smtp_io_start_timer(self);
  g_output_stream_write_all_async(out, self->outbuf->data, self->outbuf->len, G_PRIORITY_DEFAULT,
                                  self->io_cancellable, smtp_io_send_ready_cb, self);
}

static void
smtp_io_write_ready_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  FarceurSmtpClient *self = data;
  GError *error = NULL;

  smtp_io_stop_timer(self);
  if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error)) {
    smtp_io_fail(self, smtp_io_error(self, error, self->write_doing));
    return;
  }
  self->write_done(self);
}

/* Write @len octets of @data (kept valid by the caller until then) past
 * the output queue, then call @done; a failure fails the connection
 * "while @doing" (a static string).  The message content goes out so. */
void
smtp_io_write(FarceurSmtpClient *self, const guint8 *data, gsize len, const char *doing,
              SmtpIoFunc done)
{
  self->write_done = done;
  self->write_doing = doing;
  smtp_io_start_timer(self);
  g_output_stream_write_all_async(g_io_stream_get_output_stream(self->stream), data, len,
                                  G_PRIORITY_DEFAULT, self->io_cancellable, smtp_io_write_ready_cb,
                                  self);
}

/* --- reading and dispatch ----------------------------------------------- */

/* Lines the parser skipped between replies, in the server's order: a
 * protocol warning each in the transcript (data/doc/smtp.md, Replies). */
static void
smtp_io_transcript_warnings(FarceurSmtpClient *self)
{
  char *warning;

  while ((warning = farceur_smtp_reply_parser_pop_warning(self->parser)) != NULL) {
    g_autofree char *owned = warning;

    smtp_io_transcript(self, "* protocol warning: ", owned);
  }
}

static void
smtp_io_dispatch(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  g_autoptr(FarceurSmtpReply) owned G_GNUC_UNUSED = reply; /* freed on return */
  SmtpReplyHandler handler = self->handlers[self->state];

  smtp_io_transcript_reply(self, reply);
  smtp_io_transcript_warnings(self);
  if (reply->code == 421)
    smtp_io_set_closing(self, FARCEUR_ERROR_TEMPFAIL, "closing the connection", reply);
  if (handler == NULL) {
    smtp_io_fail(self, g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL,
                                   "smtp server '%s': unexpected reply %u in %s state",
                                   self->server_name, reply->code, smtp_state_names[self->state]));
    return;
  }
  handler(self, reply);
}

static void
smtp_io_read_ready_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  FarceurSmtpClient *self = data;
  GError *error = NULL;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);

  smtp_io_stop_timer(self);
  if (n < 0) {
    smtp_io_fail(self, smtp_io_error(self, error, "reading a reply"));
    return;
  }
  if (n == 0 && self->state == SMTP_STATE_QUIT) {
    smtp_io_closed(self);
    return;
  }
  if (n == 0) {
    smtp_io_fail(self, g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL,
                                   "smtp server '%s': connection closed in %s state",
                                   self->server_name, smtp_state_names[self->state]));
    return;
  }
  /* A broken line fails the connection, but only once the replies complete
   * before it are handled: they may be the ones we wait for. */
  if (!farceur_smtp_reply_parser_feed(self->parser, self->inbuf, (gsize)n, &error))
    self->read_error = error;
  smtp_io_wait(self);
}

/* Hand the next complete reply to the current state's handler, reading
 * more from the server when none is buffered. */
void
smtp_io_wait(FarceurSmtpClient *self)
{
  FarceurSmtpReply *reply;
  GInputStream *in;

  smtp_io_transcript_warnings(self);
  reply = farceur_smtp_reply_parser_pop(self->parser);
  if (reply != NULL) {
    smtp_io_dispatch(self, reply);
    return;
  }
  if (self->read_error != NULL) {
    smtp_io_fail(self, g_steal_pointer(&self->read_error));
    return;
  }
  in = g_io_stream_get_input_stream(self->stream);
  smtp_io_start_timer(self);
  g_input_stream_read_async(in, self->inbuf, sizeof self->inbuf, G_PRIORITY_DEFAULT,
                            self->io_cancellable, smtp_io_read_ready_cb, self);
}
