/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SMTP client: one connection, an explicit state machine on GIO.
 *
 * This file is the FarceurSmtpClient object itself: its GObject parts, its
 * configuration, and the public operations (connect, send, quit, each an
 * _async/_finish pair), which start work in the files below it:
 *
 *   smtp-client-transaction.c  MAIL..RSET, LMTP, pipelining, the send queue
 *   smtp-client-session.c      connecting, TLS, greeting, EHLO/HELO,
 *                              STARTTLS, QUIT; the server's extensions
 *   smtp-client-auth.c         AUTH
 *   smtp-client-io.c           the I/O core: queue, write, read, timer,
 *                              failure, and the dispatch of each reply to the
 *                              handler of the current state
 *   smtp-client-data.c         the message's wire form
 *
 * Calls run one way, down that list (ARCHITECTURE.md: an I/O core under
 * the protocol files, which hand it their reply handlers).  Every state
 * has a send step (the commands it queues, then smtp_io_send()) and one
 * reply handler; the states are listed in smtp-client-private.h.
 */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include <farceur/smtp-client.h>

#include "smtp-client-private.h"

G_DEFINE_FINAL_TYPE(FarceurSmtpClient, farceur_smtp_client, G_TYPE_OBJECT)

/* --- GObject ------------------------------------------------------------ */

static void
farceur_smtp_client_finalize(GObject *object)
{
  FarceurSmtpClient *self = FARCEUR_SMTP_CLIENT(object);

  /* every operation's task holds a reference: none can be running */
  g_assert(self->op == NULL && self->quit == NULL && self->tx == NULL);
  g_assert(g_queue_is_empty(&self->queue));
  smtp_io_stop_timer(self);
  smtp_io_stop_notice(self);
  g_clear_object(&self->stream);
  g_clear_object(&self->identity);
  g_clear_object(&self->address);
  g_clear_object(&self->io_cancellable);
  g_clear_object(&self->tls_database);
  g_clear_pointer(&self->parser, farceur_smtp_reply_parser_free);
  g_clear_error(&self->read_error);
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
  smtp_io_class_init(G_OBJECT_CLASS(klass)); /* the "transcript" signal */
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
  /* the handler table: each protocol file hands the core its rows */
  smtp_session_register(self);
  smtp_auth_register(self);
  smtp_tx_register(self);
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
  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));

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
  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));

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
  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));
  g_return_if_fail(name != NULL);

  g_free(client->helo);
  client->helo = g_strdup(name);
}

/**
 * farceur_smtp_client_set_server_name:
 * @client: a client, before connecting
 * @name: (nullable): how errors and notes name the server; %NULL: the
 *   address connected to, or "stream" for a given stream
 *
 * For a session over a stream the caller made ("exec:sendmail -bs").
 */
void
farceur_smtp_client_set_server_name(FarceurSmtpClient *client, const char *name)
{
  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));
  g_return_if_fail(client->state == SMTP_STATE_DISCONNECTED);

  g_free(client->server_name);
  client->server_name = g_strdup(name);
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
  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));

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
  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));

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
  g_autofree char *absolute = NULL;
  GTlsDatabase *database;

  g_return_val_if_fail(FARCEUR_IS_SMTP_CLIENT(client), FALSE);
  g_return_val_if_fail(path != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  /* GTlsFileDatabase takes only an absolute path (a relative one loads, then
   * trusts nothing): --tls-ca is relative to the current folder. */
  absolute = g_canonicalize_filename(path, NULL);
  database = g_tls_file_database_new(absolute, &local);
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
  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));

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
  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));

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
  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));

  client->pipelining_allowed = allowed;
}

/* --- connecting --------------------------------------------------------- */

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
  GTask *task;

  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));
  g_return_if_fail(G_IS_SOCKET_CONNECTABLE(address));
  g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

  task = g_task_new(client, cancellable, callback, user_data);
  g_task_set_source_tag(task, farceur_smtp_client_connect_async);
  smtp_session_connect(client, task, address);
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
  GTask *task;

  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));
  g_return_if_fail(G_IS_IO_STREAM(stream));
  g_return_if_fail(server_identity == NULL || G_IS_SOCKET_CONNECTABLE(server_identity));
  g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

  task = g_task_new(client, cancellable, callback, user_data);
  g_task_set_source_tag(task, farceur_smtp_client_connect_stream_async);
  smtp_session_connect_stream(client, task, stream, server_identity);
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
  g_return_val_if_fail(FARCEUR_IS_SMTP_CLIENT(client), FALSE);
  g_return_val_if_fail(g_task_is_valid(result, client), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean(G_TASK(result), error);
}

/* --- transactions ------------------------------------------------------ */

/**
 * farceur_smtp_client_send_async:
 * @client: a connected client
 * @envelope: MAIL FROM and RCPT TO; every address is checked first
 * @message: the message; re-encoded in place to 7 bit when it holds 8-bit
 *   content and the server lacks 8BITMIME, or holds lines over 998 octets
 * @commit: (nullable) (scope async): called once, right before the final dot
 * @commit_data: data for @commit
 * @cancellable: (nullable): a #GCancellable; cancelling kills the connection
 * @callback: called when the transaction is over
 * @user_data: data for @callback
 *
 * One mail transaction: MAIL, RCPT per recipient, DATA, content, dot (with
 * PIPELINING, MAIL + RCPTs + DATA in one write), RSET when it failed before
 * the dot.  Asked for while another transaction runs, it is queued (and,
 * with PIPELINING, sent right behind that one's final dot).  The message is
 * serialised, checked and measured now, against the extensions of the
 * current session, without holding it whole in memory: a wire form over
 * 1 MiB waits in an unlinked file of g_get_tmp_dir() (the attachments
 * themselves are read from where GMime finds them, once per pass).
 */
void
farceur_smtp_client_send_async(FarceurSmtpClient *client, const FarceurEnvelope *envelope,
                               GMimeObject *message, FarceurSmtpCommitFunc commit,
                               gpointer commit_data, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));
  g_return_if_fail(envelope != NULL);
  g_return_if_fail(GMIME_IS_OBJECT(message));
  g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

  task = g_task_new(client, cancellable, callback, user_data);
  g_task_set_source_tag(task, farceur_smtp_client_send_async);
  smtp_tx_submit(client, envelope, message, NULL, commit, commit_data, task);
}

/**
 * farceur_smtp_client_send_stream_async:
 * @client: a connected client
 * @envelope: MAIL FROM and RCPT TO; every address is checked first
 * @stream: a stored message, read from its start (g_mime_stream_reset):
 *   sent as it is but for line ends and dot-stuffing, as `sendmail -i`
 *   does; parsed and re-encoded by GMime only when it holds a line over 998
 *   octets, or 8-bit content and the server lacks 8BITMIME.  Nothing is
 *   removed from it: Bcc and Return-Path are the caller's business
 * @commit: (nullable) (scope async): as for farceur_smtp_client_send_async()
 * @commit_data: data for @commit
 * @cancellable: (nullable): as for farceur_smtp_client_send_async()
 * @callback: called when the transaction is over
 * @user_data: data for @callback
 *
 * farceur_smtp_client_send_async() for a message kept as octets: no GMime
 * serialisation, and signatures over the header (DKIM) stay valid.
 * Finish with farceur_smtp_client_send_finish().
 */
void
farceur_smtp_client_send_stream_async(FarceurSmtpClient *client, const FarceurEnvelope *envelope,
                                      GMimeStream *stream, FarceurSmtpCommitFunc commit,
                                      gpointer commit_data, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));
  g_return_if_fail(envelope != NULL);
  g_return_if_fail(GMIME_IS_STREAM(stream));
  g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

  task = g_task_new(client, cancellable, callback, user_data);
  g_task_set_source_tag(task, farceur_smtp_client_send_stream_async);
  smtp_tx_submit(client, envelope, NULL, stream, commit, commit_data, task);
}

/**
 * farceur_smtp_client_send_finish:
 * @client: a client
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full) (nullable): the transaction's result whenever it
 *   was accepted for sending, whatever the outcome (its @error says why it
 *   was not delivered, connection failures included); %NULL with @error
 *   only when refused at once: the client was not connected or quitting
 *   (%FARCEUR_ERROR_USAGE), an address was invalid, the message needs
 *   SMTPUTF8 or is over SIZE or cannot be made 7-bit clean
 *   (%FARCEUR_ERROR_DATA)
 */
FarceurSmtpResult *
farceur_smtp_client_send_finish(FarceurSmtpClient *client, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(FARCEUR_IS_SMTP_CLIENT(client), NULL);
  g_return_val_if_fail(g_task_is_valid(result, client), NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer(G_TASK(result), error);
}

/* --- QUIT -------------------------------------------------------------- */

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
  GTask *task;

  g_return_if_fail(FARCEUR_IS_SMTP_CLIENT(client));
  g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

  task = g_task_new(client, cancellable, callback, user_data);
  g_task_set_source_tag(task, farceur_smtp_client_quit_async);
  if (client->op != NULL || client->quit != NULL) {
    g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_PENDING,
                            "smtp client: connect or quit already in progress");
    g_object_unref(task);
    return;
  }
  client->quit = smtp_op_new(client, task);
  smtp_session_quit(client);
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
  g_return_val_if_fail(FARCEUR_IS_SMTP_CLIENT(client), FALSE);
  g_return_val_if_fail(g_task_is_valid(result, client), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean(G_TASK(result), error);
}

/* --- state ------------------------------------------------------------- */

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
  g_return_val_if_fail(FARCEUR_IS_SMTP_CLIENT(client), FALSE);

  return (client->state == SMTP_STATE_READY || smtp_io_is_busy(client)) && client->closing == NULL
         && client->quit == NULL;
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
  g_return_val_if_fail(FARCEUR_IS_SMTP_CLIENT(client), FALSE);
  g_return_val_if_fail(keyword != NULL, FALSE);

  return smtp_session_has_extension(client, keyword);
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
  g_return_val_if_fail(FARCEUR_IS_SMTP_CLIENT(client), 0);

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
  g_return_val_if_fail(FARCEUR_IS_SMTP_CLIENT(client), FALSE);

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
  g_return_val_if_fail(FARCEUR_IS_SMTP_CLIENT(client), FALSE);

  return client->conn.authenticated;
}

/**
 * farceur_smtp_client_is_tls_unverified:
 * @client: a client
 *
 * Returns: %TRUE when the session runs over TLS whose certificate could not
 *   be verified: opportunistic STARTTLS (smtp://) went on anyway, as
 *   data/doc/smtp.md (TLS) says, or --insecure asked for it
 */
gboolean
farceur_smtp_client_is_tls_unverified(FarceurSmtpClient *client)
{
  g_return_val_if_fail(FARCEUR_IS_SMTP_CLIENT(client), FALSE);

  return client->conn.tls && client->conn.tls_unverified;
}

/**
 * farceur_smtp_client_has_timed_out:
 * @client: a client
 *
 * Returns: %TRUE when the connection failed because the server made no
 *   progress in time (a wait ran out), not because it closed or refused
 */
gboolean
farceur_smtp_client_has_timed_out(FarceurSmtpClient *client)
{
  g_return_val_if_fail(FARCEUR_IS_SMTP_CLIENT(client), FALSE);

  return client->timed_out;
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
  g_return_val_if_fail(FARCEUR_IS_SMTP_CLIENT(client), NULL);

  return client->conn.greeting;
}
