/* The SMTP client: one connection, an explicit state machine on GIO.
 *
 * Shape (ARCHITECTURE.md §5): every state has a send step (the commands it
 * queues, then smtp_client_send()) and a reply handler (smtp_client_handlers[]).
 * Replies come from FarceurSmtpReplyParser, fed by reads of our own buffer
 * (no GBufferedInputStream: after STARTTLS we must see every byte the server
 * sent).  Commands are queued in one output buffer and written with one
 * write, so PIPELINING groups MAIL, RCPT and DATA in one segment and lockstep
 * mode costs one write per command.  A timer per wait cancels the
 * connection's I/O when the server is silent, TLS or not.
 *
 * This file: the object, configuration, I/O, TLS, connecting and session
 * setup (greeting, EHLO/HELO, STARTTLS, AUTH), QUIT and reply dispatch.
 * smtp-client-transaction.c: mail transactions and their queue;
 * smtp-client-data.c: the message's wire form; smtp-client-auth.c: SASL.
 * The states are listed in smtp-client-private.h.
 */
#include "config.h"

#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <farceur/error.h>
#include <farceur/smtp-client.h>

#include "smtp-client-private.h"

static const char *const smtp_state_names[SMTP_N_STATES] = {
  "disconnected", "connecting", "tls-handshake", "greeting", "ehlo",   "helo",
  "starttls",     "auth",       "ready",         "mail",     "rcpt",   "data",
  "content",      "dot",        "rset",          "quit",     "closed", "failed",
};

const char *
smtp_client_state_name(SmtpState state)
{
  return smtp_state_names[state];
}

/* RFC 5321 4.5.3.2, in seconds; commands it does not name get 5 minutes. */
static const guint smtp_state_timeouts[SMTP_N_STATES] = {
  [SMTP_STATE_CONNECTING] = 300, [SMTP_STATE_TLS_HANDSHAKE] = 300, [SMTP_STATE_GREETING] = 300,
  [SMTP_STATE_EHLO] = 300,       [SMTP_STATE_HELO] = 300,          [SMTP_STATE_STARTTLS] = 300,
  [SMTP_STATE_AUTH] = 300,       [SMTP_STATE_MAIL] = 300,          [SMTP_STATE_RCPT] = 300,
  [SMTP_STATE_DATA] = 120,       [SMTP_STATE_CONTENT] = 180,       [SMTP_STATE_DOT] = 600,
  [SMTP_STATE_RSET] = 300,       [SMTP_STATE_QUIT] = 300,
};

G_DEFINE_FINAL_TYPE(FarceurSmtpClient, farceur_smtp_client, G_TYPE_OBJECT)

enum { SIGNAL_TRANSCRIPT, N_SIGNALS };
static guint smtp_client_signals[N_SIGNALS];

typedef void (*SmtpReplyHandler)(FarceurSmtpClient *self, FarceurSmtpReply *reply);

static void smtp_client_dispatch(FarceurSmtpClient *self, FarceurSmtpReply *reply);
static void smtp_client_send_ehlo(FarceurSmtpClient *self);

/* --- GObject ------------------------------------------------------------ */

static void
smtp_client_forget_connection(FarceurSmtpClient *self)
{
  g_hash_table_remove_all(self->conn.extensions);
  self->conn.max_size = 0;
}

static void
farceur_smtp_client_finalize(GObject *object)
{
  FarceurSmtpClient *self = FARCEUR_SMTP_CLIENT(object);

  /* every operation's task holds a reference: none can be running */
  g_assert(self->op == NULL && self->quit == NULL && self->tx == NULL);
  g_assert(g_queue_is_empty(&self->queue));
  if (self->timer != NULL)
    g_source_destroy(self->timer);
  g_clear_pointer(&self->timer, g_source_unref);
  g_clear_object(&self->stream);
  g_clear_object(&self->identity);
  g_clear_object(&self->io_cancellable);
  g_clear_object(&self->tls_database);
  g_clear_pointer(&self->parser, farceur_smtp_reply_parser_free);
  g_clear_pointer(&self->outbuf, g_byte_array_unref);
  g_clear_pointer(&self->conn.extensions, g_hash_table_unref);
  g_clear_pointer(&self->conn.greeting, farceur_smtp_reply_free);
  g_clear_error(&self->closing);
  g_free(self->server_name);
  g_free(self->helo);
  g_free(self->user);
  if (self->password != NULL)
    memset(self->password, 0, strlen(self->password));
  g_free(self->password);
  g_free(self->mechanism);
  G_OBJECT_CLASS(farceur_smtp_client_parent_class)->finalize(object);
}

static void
farceur_smtp_client_class_init(FarceurSmtpClientClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = farceur_smtp_client_finalize;

  /**
   * FarceurSmtpClient::transcript:
   * @client: the client
   * @line: "C: MAIL FROM:<a@b>" or "S: 250 ok", no line end; AUTH payloads
   *   are "***" and the message content is one "C: <N octets of content>"
   *
   * Emitted for every line sent or received.
   */
  smtp_client_signals[SIGNAL_TRANSCRIPT]
      = g_signal_new("transcript", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
farceur_smtp_client_init(FarceurSmtpClient *self)
{
  self->helo = g_strdup("localhost");
  g_queue_init(&self->queue);
  self->pipelining_allowed = TRUE;
  self->parser = farceur_smtp_reply_parser_new();
  self->outbuf = g_byte_array_new();
  self->io_cancellable = g_cancellable_new();
  self->conn.extensions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * farceur_smtp_client_new:
 *
 * Returns: (transfer full): a client, not connected, with the defaults:
 *   opportunistic STARTTLS, "localhost" as EHLO name, certificates verified
 *   against the system store, RFC 5321 timeouts, PIPELINING when offered
 */
FarceurSmtpClient *
farceur_smtp_client_new(void)
{
  return g_object_new(FARCEUR_TYPE_SMTP_CLIENT, NULL);
}

/* --- configuration ------------------------------------------------------ */

/**
 * farceur_smtp_client_set_security:
 * @client: a client
 * @security: TLS policy (default %FARCEUR_SMTP_SECURITY_OPPORTUNISTIC)
 */
void
farceur_smtp_client_set_security(FarceurSmtpClient *client, FarceurSmtpSecurity security)
{
  client->security = security;
}

/**
 * farceur_smtp_client_set_lmtp:
 * @client: a client
 * @lmtp: speak LMTP (RFC 2033): LHLO, and one reply per recipient after the dot
 */
void
farceur_smtp_client_set_lmtp(FarceurSmtpClient *client, gboolean lmtp)
{
  client->lmtp = lmtp;
}

/**
 * farceur_smtp_client_set_helo:
 * @client: a client
 * @name: the name given in EHLO/HELO/LHLO (default "localhost")
 */
void
farceur_smtp_client_set_helo(FarceurSmtpClient *client, const char *name)
{
  g_free(client->helo);
  client->helo = g_strdup(name);
}

/**
 * farceur_smtp_client_set_auth:
 * @client: a client
 * @user: (nullable): the user name, %NULL for no AUTH
 * @password: (nullable): the password (copied, wiped on finalize)
 * @mechanism: (nullable): "PLAIN", "LOGIN" or "CRAM-MD5"; %NULL picks the
 *   best one the server offers (CRAM-MD5, then PLAIN, then LOGIN)
 */
void
farceur_smtp_client_set_auth(FarceurSmtpClient *client, const char *user, const char *password,
                             const char *mechanism)
{
  g_free(client->user);
  g_free(client->password);
  g_free(client->mechanism);
  client->user = g_strdup(user);
  client->password = g_strdup(password ? password : "");
  client->mechanism = mechanism ? g_ascii_strup(mechanism, -1) : NULL;
}

/**
 * farceur_smtp_client_set_allow_plaintext_auth:
 * @client: a client
 * @allow: send AUTH without TLS to a server that is not on loopback
 */
void
farceur_smtp_client_set_allow_plaintext_auth(FarceurSmtpClient *client, gboolean allow)
{
  client->allow_plaintext_auth = allow;
}

/**
 * farceur_smtp_client_set_tls_ca_file:
 * @client: a client
 * @path: a PEM file of trusted CA certificates, used instead of the system store
 * @error: return location for a %FARCEUR_ERROR_CONFIG error
 *
 * Returns: %FALSE when @path cannot be loaded
 */
gboolean
farceur_smtp_client_set_tls_ca_file(FarceurSmtpClient *client, const char *path, GError **error)
{
  g_autoptr(GError) local = NULL;
  GTlsDatabase *database = g_tls_file_database_new(path, &local);

  if (database == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CONFIG, "tls ca file '%s': %s", path,
                local->message);
    return FALSE;
  }
  g_clear_object(&client->tls_database);
  client->tls_database = database;
  return TRUE;
}

/**
 * farceur_smtp_client_set_tls_insecure:
 * @client: a client
 * @insecure: accept any certificate (the caller warns the user)
 */
void
farceur_smtp_client_set_tls_insecure(FarceurSmtpClient *client, gboolean insecure)
{
  client->tls_insecure = insecure;
}

/**
 * farceur_smtp_client_set_timeout:
 * @client: a client
 * @timeout_ms: how long to wait for each reply or write, in milliseconds;
 *   0 restores the RFC 5321 4.5.3.2 defaults (5 min, DATA 2, dot 10)
 */
void
farceur_smtp_client_set_timeout(FarceurSmtpClient *client, guint timeout_ms)
{
  client->timeout_ms = timeout_ms;
}

/**
 * farceur_smtp_client_set_pipelining:
 * @client: a client
 * @allowed: use PIPELINING (RFC 2920) when the server offers it (default %TRUE)
 */
void
farceur_smtp_client_set_pipelining(FarceurSmtpClient *client, gboolean allowed)
{
  client->pipelining_allowed = allowed;
}

/* --- state, transcript, timer ------------------------------------------- */

void
smtp_client_set_state(FarceurSmtpClient *self, SmtpState state)
{
  if (self->state == state)
    return;
  g_debug("smtp %s: %s -> %s", self->server_name ? self->server_name : "?",
          smtp_state_names[self->state], smtp_state_names[state]);
  self->state = state;
}

/* A transaction is under way: sends and QUIT asked for now are queued. */
gboolean
smtp_client_is_busy(FarceurSmtpClient *self)
{
  return self->state >= SMTP_STATE_MAIL && self->state <= SMTP_STATE_RSET;
}

void
smtp_client_transcript(FarceurSmtpClient *self, const char *prefix, const char *line)
{
  g_autofree char *full = NULL;

  if (!g_signal_has_handler_pending(self, smtp_client_signals[SIGNAL_TRANSCRIPT], 0, FALSE))
    return;
  full = g_strconcat(prefix, line, NULL);
  g_signal_emit(self, smtp_client_signals[SIGNAL_TRANSCRIPT], 0, full);
}

static void
smtp_client_transcript_reply(FarceurSmtpClient *self, const FarceurSmtpReply *reply)
{
  g_autofree char *text = farceur_smtp_reply_to_string(reply);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    smtp_client_transcript(self, "S: ", lines[i]);
}

static gboolean
smtp_client_timeout_cb(gpointer data)
{
  FarceurSmtpClient *self = data;

  self->timed_out = TRUE;
  g_clear_pointer(&self->timer, g_source_unref);
  g_cancellable_cancel(self->io_cancellable);
  return G_SOURCE_REMOVE;
}

void
smtp_client_stop_timer(FarceurSmtpClient *self)
{
  if (self->timer == NULL)
    return;
  g_source_destroy(self->timer);
  g_clear_pointer(&self->timer, g_source_unref);
}

static guint
smtp_client_timeout_ms(FarceurSmtpClient *self)
{
  return self->timeout_ms ? self->timeout_ms : smtp_state_timeouts[self->state] * 1000;
}

/* The timer runs while we wait on the server in the current state. */
void
smtp_client_start_timer(FarceurSmtpClient *self)
{
  smtp_client_stop_timer(self);
  self->timer = g_timeout_source_new(smtp_client_timeout_ms(self));
  g_source_set_callback(self->timer, smtp_client_timeout_cb, self, NULL);
  g_source_set_static_name(self->timer, "farceur smtp timeout");
  /* where the I/O it guards was started: GIO dispatches there too */
  g_source_attach(self->timer, g_main_context_get_thread_default());
}

/* An I/O error, rewritten when it was our timer that cancelled. */
GError *
smtp_client_io_error(FarceurSmtpClient *self, GError *error, const char *doing)
{
  GError *out;

  if (self->timed_out)
    out = g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL,
                      "smtp server '%s': no progress in %u ms while %s (%s state)",
                      self->server_name, smtp_client_timeout_ms(self), doing,
                      smtp_state_names[self->state]);
  else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    out = g_error_copy(error);
  else
    out = g_error_new(error->domain, error->code, "smtp server '%s': %s while %s",
                      self->server_name, error->message, doing);
  g_error_free(error);
  return out;
}

/* --- task bookkeeping --------------------------------------------------- */

static void
smtp_client_cancelled_cb(GCancellable *cancellable, gpointer data)
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
    op->cancel_id = g_cancellable_connect(cancellable, G_CALLBACK(smtp_client_cancelled_cb),
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

static void
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
smtp_client_return_boolean(FarceurSmtpClient *self)
{
  smtp_client_stop_timer(self);
  smtp_op_return_boolean(g_steal_pointer(&self->op));
}

void
smtp_client_close_stream(FarceurSmtpClient *self)
{
  if (self->stream == NULL)
    return;
  g_cancellable_cancel(self->io_cancellable);
  g_io_stream_close_async(self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object(&self->stream);
}

/* Connection-level failure: the connection is unusable from here on.
 * Takes @error.  Every operation gets its answer, in the order asked:
 * transactions their results, a pending QUIT success (the connection is
 * closed, as asked), a connect or QUIT in progress the error. */
void
smtp_client_fail(FarceurSmtpClient *self, GError *error)
{
  g_autoptr(FarceurSmtpClient) keep = g_object_ref(self);
  g_autoptr(GError) owned = error;
  SmtpTransaction *tx = g_steal_pointer(&self->tx);
  GQueue queued = self->queue;
  SmtpOp *op = g_steal_pointer(&self->op);
  SmtpOp *quit = g_steal_pointer(&self->quit);

  g_queue_init(&self->queue);
  smtp_client_stop_timer(self);
  smtp_client_set_state(self, SMTP_STATE_FAILED);
  smtp_client_close_stream(self);
  if (tx != NULL)
    smtp_client_tx_abandon(tx, error);
  while ((tx = g_queue_pop_head(&queued)) != NULL)
    smtp_client_tx_abandon(tx, error);
  if (quit != NULL)
    smtp_op_return_boolean(quit);
  if (op != NULL)
    smtp_op_return_error(op, error);
}

static void
smtp_client_fail_reply(FarceurSmtpClient *self, int code, const char *what,
                       const FarceurSmtpReply *reply)
{
  g_autofree char *flat = g_strdelimit(g_strdup(reply->text), "\n", ' ');

  smtp_client_fail(self, g_error_new(FARCEUR_ERROR, code, "smtp server '%s': %s: %u %s",
                                     self->server_name, what, reply->code, flat));
}

/* The session ends once the current reply is handled; queued work fails
 * with @what.  A server that cannot RSET is not to be trusted further. */
void
smtp_client_set_closing(FarceurSmtpClient *self, int code, const char *what,
                        const FarceurSmtpReply *reply)
{
  g_autofree char *flat = g_strdelimit(g_strdup(reply->text), "\n", ' ');

  if (self->closing == NULL)
    self->closing = g_error_new(FARCEUR_ERROR, code, "smtp server '%s': %s: %u %s",
                                self->server_name, what, reply->code, flat);
}

int
smtp_client_reply_error_code(const FarceurSmtpReply *reply)
{
  return reply->code / 100 == 4 ? FARCEUR_ERROR_TEMPFAIL : FARCEUR_ERROR_UNAVAILABLE;
}

/* --- writing and reading ------------------------------------------------ */

void
smtp_client_queue(FarceurSmtpClient *self, const char *line, const char *shown)
{
  g_byte_array_append(self->outbuf, (const guint8 *)line, (guint)strlen(line));
  g_byte_array_append(self->outbuf, (const guint8 *)"\r\n", 2);
  smtp_client_transcript(self, "C: ", shown ? shown : line);
}

void
smtp_client_write_ready_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  FarceurSmtpClient *self = data;
  GError *error = NULL;

  smtp_client_stop_timer(self);
  if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error)) {
    smtp_client_fail(self, smtp_client_io_error(self, error, "writing"));
    return;
  }
  g_byte_array_set_size(self->outbuf, 0);
  smtp_client_wait(self);
}

/* The send step's end: write what was queued in one write, then wait for
 * the next reply. */
void
smtp_client_send(FarceurSmtpClient *self)
{
  GOutputStream *out = g_io_stream_get_output_stream(self->stream);

  smtp_client_start_timer(self);
  g_output_stream_write_all_async(out, self->outbuf->data, self->outbuf->len, G_PRIORITY_DEFAULT,
                                  self->io_cancellable, smtp_client_write_ready_cb, self);
}

static void
smtp_client_read_ready_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  FarceurSmtpClient *self = data;
  GError *error = NULL;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);

  smtp_client_stop_timer(self);
  if (n < 0) {
    smtp_client_fail(self, smtp_client_io_error(self, error, "reading a reply"));
    return;
  }
  if (n == 0 && self->state == SMTP_STATE_QUIT) {
    smtp_client_set_state(self, SMTP_STATE_CLOSED);
    smtp_client_close_stream(self);
    smtp_client_return_boolean(self);
    return;
  }
  if (n == 0) {
    smtp_client_fail(self, g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL,
                                       "smtp server '%s': connection closed in %s state",
                                       self->server_name, smtp_state_names[self->state]));
    return;
  }
  if (!farceur_smtp_reply_parser_feed(self->parser, self->inbuf, (gsize)n, &error)) {
    smtp_client_fail(self, error);
    return;
  }
  smtp_client_wait(self);
}

/* Hand the next complete reply to the current state's handler, reading
 * more from the server when none is buffered. */
void
smtp_client_wait(FarceurSmtpClient *self)
{
  FarceurSmtpReply *reply = farceur_smtp_reply_parser_pop(self->parser);
  GInputStream *in;

  if (reply != NULL) {
    smtp_client_dispatch(self, reply);
    return;
  }
  in = g_io_stream_get_input_stream(self->stream);
  smtp_client_start_timer(self);
  g_input_stream_read_async(in, self->inbuf, sizeof self->inbuf, G_PRIORITY_DEFAULT,
                            self->io_cancellable, smtp_client_read_ready_cb, self);
}

/* --- TLS ---------------------------------------------------------------- */

static gboolean
smtp_client_accept_certificate_cb(GTlsConnection *conn, GTlsCertificate *cert,
                                  GTlsCertificateFlags errors, gpointer data)
{
  return TRUE; /* connected only when --insecure was given */
}

static void
smtp_client_handshake_ready_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  FarceurSmtpClient *self = data;
  GError *error = NULL;

  smtp_client_stop_timer(self);
  if (!g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, &error)) {
    g_object_unref(source);
    smtp_client_fail(self, smtp_client_io_error(self, error, "negotiating TLS"));
    return;
  }
  g_clear_object(&self->stream);
  self->stream = G_IO_STREAM(source);
  self->conn.tls = TRUE;
  if (self->conn.greeting == NULL) { /* implicit TLS: the greeting comes now */
    smtp_client_set_state(self, SMTP_STATE_GREETING);
    smtp_client_wait(self);
    return;
  }
  smtp_client_forget_connection(self);
  smtp_client_send_ehlo(self);
}

static void
smtp_client_start_tls(FarceurSmtpClient *self)
{
  GError *error = NULL;
  GIOStream *tls = g_tls_client_connection_new(self->stream, self->identity, &error);

  if (tls == NULL) {
    smtp_client_fail(self, smtp_client_io_error(self, error, "starting TLS"));
    return;
  }
  if (self->tls_database != NULL)
    g_tls_connection_set_database(G_TLS_CONNECTION(tls), self->tls_database);
  if (self->tls_insecure)
    g_signal_connect(tls, "accept-certificate", G_CALLBACK(smtp_client_accept_certificate_cb),
                     NULL);
  smtp_client_set_state(self, SMTP_STATE_TLS_HANDSHAKE);
  smtp_client_start_timer(self);
  g_tls_connection_handshake_async(G_TLS_CONNECTION(tls), G_PRIORITY_DEFAULT, self->io_cancellable,
                                   smtp_client_handshake_ready_cb, self);
}

/* --- connecting --------------------------------------------------------- */

static gboolean
smtp_client_is_loopback(GSocketConnection *conn)
{
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(conn, NULL);

  if (G_IS_INET_SOCKET_ADDRESS(remote))
    return g_inet_address_get_is_loopback(
        g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
  return remote != NULL && !G_IS_INET_SOCKET_ADDRESS(remote); /* a unix socket is local */
}

/* After the TCP connect (or with a given stream): TLS first, or the greeting. */
static void
smtp_client_connected(FarceurSmtpClient *self)
{
  if (self->security == FARCEUR_SMTP_SECURITY_TLS) {
    smtp_client_start_tls(self);
    return;
  }
  smtp_client_set_state(self, SMTP_STATE_GREETING);
  smtp_client_wait(self);
}

static void
smtp_client_connect_ready_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  FarceurSmtpClient *self = data;
  GError *error = NULL;
  GSocketConnection *conn;

  smtp_client_stop_timer(self);
  conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &error);
  if (conn == NULL) {
    smtp_client_fail(self, smtp_client_io_error(self, error, "connecting"));
    return;
  }
  self->stream = G_IO_STREAM(conn);
  self->conn.loopback = smtp_client_is_loopback(conn);
  if (G_IS_TCP_CONNECTION(conn)) /* our writes are whole commands or whole messages */
    g_socket_set_option(g_socket_connection_get_socket(conn), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  smtp_client_connected(self);
}

static gboolean
smtp_client_begin_connect(FarceurSmtpClient *self, GTask *task, GSocketConnectable *identity)
{
  if (self->state != SMTP_STATE_DISCONNECTED) {
    g_task_return_new_error(task, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                            "smtp client: connect called twice");
    g_object_unref(task);
    return FALSE;
  }
  self->op = smtp_op_new(self, task);
  self->identity = identity ? g_object_ref(identity) : NULL;
  self->server_name = identity ? g_socket_connectable_to_string(identity) : g_strdup("stream");
  return TRUE;
}

/**
 * farceur_smtp_client_connect_async:
 * @client: a client, not connected yet
 * @address: the server (a #GNetworkAddress, #GInetSocketAddress or
 *   #GUnixSocketAddress); also the identity its certificate must match
 * @cancellable: (nullable): a #GCancellable; cancelling kills the connection
 * @callback: called when the client is ready for transactions or failed
 * @user_data: data for @callback
 *
 * Connect, read the greeting, EHLO (HELO if refused), STARTTLS and EHLO
 * again as the security setting asks, AUTH when credentials were set.
 */
void
farceur_smtp_client_connect_async(FarceurSmtpClient *client, GSocketConnectable *address,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  GTask *task = g_task_new(client, cancellable, callback, user_data);
  g_autoptr(GSocketClient) socket_client = g_socket_client_new();

  g_task_set_source_tag(task, farceur_smtp_client_connect_async);
  if (!smtp_client_begin_connect(client, task, address))
    return;
  g_socket_client_set_enable_proxy(socket_client, FALSE); /* an HTTP proxy is no SMTP relay */
  smtp_client_set_state(client, SMTP_STATE_CONNECTING);
  smtp_client_start_timer(client);
  g_socket_client_connect_async(socket_client, address, client->io_cancellable,
                                smtp_client_connect_ready_cb, client);
}

/**
 * farceur_smtp_client_connect_stream_async:
 * @client: a client, not connected yet
 * @stream: a connected stream (a subprocess's stdio, a socket) that counts
 *   as local for the plaintext-AUTH rule
 * @server_identity: (nullable): the identity for TLS certificate checks
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when ready or failed
 * @user_data: data for @callback
 *
 * As farceur_smtp_client_connect_async(), over a stream made by the caller.
 */
void
farceur_smtp_client_connect_stream_async(FarceurSmtpClient *client, GIOStream *stream,
                                         GSocketConnectable *server_identity,
                                         GCancellable *cancellable, GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  GTask *task = g_task_new(client, cancellable, callback, user_data);

  g_task_set_source_tag(task, farceur_smtp_client_connect_stream_async);
  if (!smtp_client_begin_connect(client, task, server_identity))
    return;
  client->stream = g_object_ref(stream);
  client->conn.loopback = TRUE;
  smtp_client_connected(client);
}

/**
 * farceur_smtp_client_connect_finish:
 * @client: a client
 * @result: the result given to the callback
 * @error: return location for an error: %FARCEUR_ERROR_TEMPFAIL (4xx
 *   greeting, timeout, connection lost), %FARCEUR_ERROR_UNAVAILABLE (5xx),
 *   %FARCEUR_ERROR_NOPERM (TLS required and not offered, AUTH failed or
 *   refused over plaintext), %FARCEUR_ERROR_PROTOCOL, or a GIO/TLS error
 *
 * Returns: %TRUE when the client is ready for farceur_smtp_client_send_async()
 */
gboolean
farceur_smtp_client_connect_finish(FarceurSmtpClient *client, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, client), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

/* --- greeting, EHLO, HELO, STARTTLS ------------------------------------- */

static void
smtp_client_on_greeting(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  self->conn.greeting = farceur_smtp_reply_copy(reply);
  if (!FARCEUR_SMTP_REPLY_IS_POSITIVE(reply)) {
    smtp_client_fail_reply(self, smtp_client_reply_error_code(reply), "greeting refused", reply);
    return;
  }
  smtp_client_send_ehlo(self);
}

static void
smtp_client_send_ehlo(FarceurSmtpClient *self)
{
  g_autofree char *line = g_strdup_printf("%s %s", self->lmtp ? "LHLO" : "EHLO", self->helo);

  smtp_client_set_state(self, SMTP_STATE_EHLO);
  smtp_client_queue(self, line, NULL);
  smtp_client_send(self);
}

/* EHLO lines after the first: "KEYWORD params"; lines that are not a
 * keyword (binary junk, over-long garbage) are ignored. */
static void
smtp_client_parse_extensions(FarceurSmtpClient *self, const FarceurSmtpReply *reply)
{
  for (guint i = 1; reply->lines[i] != NULL; i++) {
    const char *line = reply->lines[i];
    gsize klen = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-");
    const char *params = line + klen;

    if (klen == 0 || (*params != '\0' && *params != ' '))
      continue;
    while (*params == ' ')
      params++;
    g_hash_table_replace(self->conn.extensions, g_ascii_strup(line, (gssize)klen),
                         g_strdup(params));
  }
  if (g_hash_table_contains(self->conn.extensions, "SIZE"))
    self->conn.max_size
        = g_ascii_strtoull(g_hash_table_lookup(self->conn.extensions, "SIZE"), NULL, 10);
}

static const char *const smtp_auth_names[] = { "PLAIN", "LOGIN", "CRAM-MD5" };

static gboolean
smtp_client_offers_auth(FarceurSmtpClient *self, const char *mech)
{
  const char *list = g_hash_table_lookup(self->conn.extensions, "AUTH");
  g_auto(GStrv) mechs = list ? g_strsplit(list, " ", -1) : NULL;

  for (guint i = 0; mechs != NULL && mechs[i] != NULL; i++)
    if (g_ascii_strcasecmp(mechs[i], mech) == 0)
      return TRUE;
  return FALSE;
}

static void smtp_client_auth_begin(FarceurSmtpClient *self);

static void
smtp_client_ready(FarceurSmtpClient *self)
{
  smtp_client_set_state(self, SMTP_STATE_READY);
  smtp_client_return_boolean(self);
}

static void
smtp_client_after_hello(FarceurSmtpClient *self)
{
  gboolean offered = g_hash_table_contains(self->conn.extensions, "STARTTLS");
  gboolean want = self->security == FARCEUR_SMTP_SECURITY_STARTTLS
                  || (self->security == FARCEUR_SMTP_SECURITY_OPPORTUNISTIC && offered);

  if (!self->conn.tls && want && !offered) {
    smtp_client_fail(self, g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_NOPERM,
                                       "smtp server '%s': STARTTLS required but not offered",
                                       self->server_name));
    return;
  }
  if (!self->conn.tls && want) {
    smtp_client_set_state(self, SMTP_STATE_STARTTLS);
    smtp_client_queue(self, "STARTTLS", NULL);
    smtp_client_send(self);
    return;
  }
  if (self->user != NULL && !self->conn.authenticated) {
    smtp_client_auth_begin(self);
    return;
  }
  smtp_client_ready(self);
}

static void
smtp_client_on_ehlo(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  if (FARCEUR_SMTP_REPLY_IS_POSITIVE(reply)) {
    smtp_client_parse_extensions(self, reply);
    smtp_client_after_hello(self);
    return;
  }
  if (!FARCEUR_SMTP_REPLY_IS_PERMANENT(reply) || self->lmtp) {
    smtp_client_fail_reply(self, smtp_client_reply_error_code(reply),
                           self->lmtp ? "LHLO refused" : "EHLO refused", reply);
    return;
  }
  g_autofree char *line = g_strdup_printf("HELO %s", self->helo);

  smtp_client_set_state(self, SMTP_STATE_HELO);
  smtp_client_queue(self, line, NULL);
  smtp_client_send(self);
}

static void
smtp_client_on_helo(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  if (!FARCEUR_SMTP_REPLY_IS_POSITIVE(reply)) {
    smtp_client_fail_reply(self, smtp_client_reply_error_code(reply), "HELO refused", reply);
    return;
  }
  smtp_client_forget_connection(self); /* no ESMTP: no extension, no parameter */
  smtp_client_after_hello(self);
}

static void
smtp_client_on_starttls(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  if (reply->code != 220) {
    smtp_client_fail_reply(self, FARCEUR_ERROR_NOPERM, "STARTTLS refused", reply);
    return;
  }
  /* Anything the server sent after its 220 was sent in plaintext and would
   * be read as if it came over TLS (CVE-2011-0411 and kin): abort. */
  if (!farceur_smtp_reply_parser_is_empty(self->parser)) {
    smtp_client_fail(self, g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL,
                                       "smtp server '%s': data after the STARTTLS 220 reply "
                                       "(command injection?); aborting",
                                       self->server_name));
    return;
  }
  smtp_client_start_tls(self);
}

/* --- AUTH --------------------------------------------------------------- */

static gboolean
smtp_client_pick_auth(FarceurSmtpClient *self, GError **error)
{
  static const SmtpAuthMech preference[] = { SMTP_AUTH_CRAM_MD5, SMTP_AUTH_PLAIN, SMTP_AUTH_LOGIN };

  for (guint i = 0; i < G_N_ELEMENTS(preference); i++) {
    const char *name = smtp_auth_names[preference[i]];

    if (self->mechanism != NULL && strcmp(self->mechanism, name) != 0)
      continue;
    if (smtp_client_offers_auth(self, name)) {
      self->auth_mech = preference[i];
      return TRUE;
    }
  }
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOPERM,
              "smtp server '%s': no usable AUTH mechanism (wanted %s, offered '%s')",
              self->server_name, self->mechanism ? self->mechanism : "PLAIN, LOGIN or CRAM-MD5",
              (char *)g_hash_table_lookup(self->conn.extensions, "AUTH") ?: "");
  return FALSE;
}

static void
smtp_client_auth_begin(FarceurSmtpClient *self)
{
  GError *error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *shown = NULL;

  if (!self->conn.tls && !self->conn.loopback && !self->allow_plaintext_auth) {
    smtp_client_fail(self, g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_NOPERM,
                                       "smtp server '%s': refusing AUTH over an unencrypted "
                                       "connection to a remote server",
                                       self->server_name));
    return;
  }
  if (!smtp_client_pick_auth(self, &error)) {
    smtp_client_fail(self, error);
    return;
  }
  smtp_client_set_state(self, SMTP_STATE_AUTH);
  self->auth_step = 0;
  if (self->auth_mech == SMTP_AUTH_PLAIN) {
    g_autofree char *payload = farceur_smtp_auth_plain(self->user, self->password);

    line = g_strdup_printf("AUTH PLAIN %s", payload);
    shown = g_strdup("AUTH PLAIN ***");
    self->auth_step = 1;
  } else {
    line = g_strdup_printf("AUTH %s", smtp_auth_names[self->auth_mech]);
  }
  smtp_client_queue(self, line, shown);
  smtp_client_send(self);
}

/* The answer to a 334 challenge, or NULL with @error. */
static char *
smtp_client_auth_response(FarceurSmtpClient *self, const FarceurSmtpReply *reply, GError **error)
{
  switch (self->auth_mech) {
    case SMTP_AUTH_PLAIN:
      return farceur_smtp_auth_plain(self->user, self->password);
    case SMTP_AUTH_LOGIN:
      if (self->auth_step < 2)
        return farceur_smtp_auth_base64(self->auth_step == 0 ? self->user : self->password);
      break;
    case SMTP_AUTH_CRAM_MD5:
      if (self->auth_step == 0)
        return farceur_smtp_auth_cram_md5(self->user, self->password, reply->lines[0], error);
      break;
  }
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL,
              "smtp server '%s': AUTH %s: unexpected challenge", self->server_name,
              smtp_auth_names[self->auth_mech]);
  return NULL;
}

static void
smtp_client_on_auth(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  GError *error = NULL;
  g_autofree char *response = NULL;

  if (FARCEUR_SMTP_REPLY_IS_POSITIVE(reply)) {
    self->conn.authenticated = TRUE;
    smtp_client_ready(self);
    return;
  }
  if (reply->code != 334) {
    smtp_client_fail_reply(self,
                           reply->code / 100 == 4 ? FARCEUR_ERROR_TEMPFAIL : FARCEUR_ERROR_NOPERM,
                           "authentication failed", reply);
    return;
  }
  if ((response = smtp_client_auth_response(self, reply, &error)) == NULL) {
    smtp_client_fail(self, error);
    return;
  }
  self->auth_step++;
  smtp_client_queue(self, response, "***");
  smtp_client_send(self);
}

/* --- QUIT --------------------------------------------------------------- */

static void
smtp_client_on_quit(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  smtp_client_set_state(self, SMTP_STATE_CLOSED);
  smtp_client_close_stream(self);
  smtp_client_return_boolean(self);
}

/**
 * farceur_smtp_client_quit_async:
 * @client: a client
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the connection is closed
 * @user_data: data for @callback
 *
 * Say QUIT when the connection is usable, then close it; asked for while
 * transactions run, after them.  A broken or unconnected client is just
 * closed (success).
 */
void
farceur_smtp_client_quit_async(FarceurSmtpClient *client, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(client, cancellable, callback, user_data);

  g_task_set_source_tag(task, farceur_smtp_client_quit_async);
  if (client->op != NULL || client->quit != NULL) {
    g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_PENDING,
                            "smtp client: connect or quit already in progress");
    g_object_unref(task);
    return;
  }
  client->quit = smtp_op_new(client, task);
  if (smtp_client_is_busy(client))
    return; /* after the transactions asked for before */
  if (client->state == SMTP_STATE_READY) {
    smtp_client_start_quit(client);
    return;
  }
  smtp_client_close_stream(client); /* never connected, or broken: just close */
  smtp_client_set_state(client, SMTP_STATE_CLOSED);
  smtp_op_return_boolean(g_steal_pointer(&client->quit));
}

/**
 * farceur_smtp_client_quit_finish:
 * @client: a client
 * @result: the result given to the callback
 * @error: return location for an error (a QUIT that failed on the wire;
 *   the connection is closed all the same)
 *
 * Returns: %TRUE when the connection ended cleanly
 */
gboolean
farceur_smtp_client_quit_finish(FarceurSmtpClient *client, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, client), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

/* --- dispatch ----------------------------------------------------------- */

static const SmtpReplyHandler smtp_client_handlers[SMTP_N_STATES] = {
  [SMTP_STATE_GREETING] = smtp_client_on_greeting, [SMTP_STATE_EHLO] = smtp_client_on_ehlo,
  [SMTP_STATE_HELO] = smtp_client_on_helo,         [SMTP_STATE_STARTTLS] = smtp_client_on_starttls,
  [SMTP_STATE_AUTH] = smtp_client_on_auth,         [SMTP_STATE_MAIL] = smtp_client_on_mail,
  [SMTP_STATE_RCPT] = smtp_client_on_rcpt,         [SMTP_STATE_DATA] = smtp_client_on_data,
  [SMTP_STATE_DOT] = smtp_client_on_dot,           [SMTP_STATE_RSET] = smtp_client_on_rset,
  [SMTP_STATE_QUIT] = smtp_client_on_quit,
};

static void
smtp_client_dispatch(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  g_autoptr(FarceurSmtpReply) owned = reply;
  SmtpReplyHandler handler = smtp_client_handlers[self->state];

  smtp_client_transcript_reply(self, reply);
  if (reply->code == 421)
    smtp_client_set_closing(self, FARCEUR_ERROR_TEMPFAIL, "closing the connection", reply);
  if (reply->code == 421 && self->state >= SMTP_STATE_MAIL && self->state <= SMTP_STATE_DATA) {
    smtp_client_tx_failed(self, "server closing the connection", reply);
    smtp_client_tx_return(self);
    return;
  }
  if (handler == NULL) {
    smtp_client_fail(self,
                     g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL,
                                 "smtp server '%s': unexpected reply %u in %s state",
                                 self->server_name, reply->code, smtp_state_names[self->state]));
    return;
  }
  handler(self, reply);
}

/* --- getters ------------------------------------------------------------ */

/**
 * farceur_smtp_client_is_ready:
 * @client: a client
 *
 * Returns: %TRUE when the connection is usable: a send asked for now runs
 *   at once, or after those already queued (also from a send's callback);
 *   %FALSE before connecting, after a failure, a 421 or a QUIT
 */
gboolean
farceur_smtp_client_is_ready(FarceurSmtpClient *client)
{
  return (client->state == SMTP_STATE_READY || smtp_client_is_busy(client))
         && client->closing == NULL && client->quit == NULL;
}

/**
 * farceur_smtp_client_has_extension:
 * @client: a client
 * @keyword: an EHLO keyword ("PIPELINING", "SIZE", ...), any case
 *
 * Returns: %TRUE when the server's last EHLO offered @keyword
 */
gboolean
farceur_smtp_client_has_extension(FarceurSmtpClient *client, const char *keyword)
{
  g_autofree char *upper = g_ascii_strup(keyword, -1);

  return g_hash_table_contains(client->conn.extensions, upper);
}

/**
 * farceur_smtp_client_get_max_size:
 * @client: a client
 *
 * Returns: the SIZE the server announced, 0 when none
 */
guint64
farceur_smtp_client_get_max_size(FarceurSmtpClient *client)
{
  return client->conn.max_size;
}

/**
 * farceur_smtp_client_is_tls:
 * @client: a client
 *
 * Returns: %TRUE once TLS is up (implicit or after STARTTLS)
 */
gboolean
farceur_smtp_client_is_tls(FarceurSmtpClient *client)
{
  return client->conn.tls;
}

/**
 * farceur_smtp_client_is_authenticated:
 * @client: a client
 *
 * Returns: %TRUE once AUTH succeeded
 */
gboolean
farceur_smtp_client_is_authenticated(FarceurSmtpClient *client)
{
  return client->conn.authenticated;
}

/**
 * farceur_smtp_client_get_greeting:
 * @client: a client
 *
 * Returns: (transfer none) (nullable): the server's greeting
 */
const FarceurSmtpReply *
farceur_smtp_client_get_greeting(FarceurSmtpClient *client)
{
  return client->conn.greeting;
}
