/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SMTP session, above the I/O core: connecting (TCP, a given stream,
 * implicit TLS), the greeting, EHLO/LHLO (HELO when refused), STARTTLS and
 * its handshake, handing over to AUTH (smtp-client-auth.c), QUIT; and what
 * the server said about the connection (its extensions, SIZE, TLS, AUTH).
 *
 * Each waiting state has a send step (queue its command, smtp_io_send())
 * and a reply handler, registered with the core by smtp_session_register().
 */
#include "config.h"

#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <farceur/error.h>
#include <farceur/smtp-client.h>

#include "smtp-client-private.h"

/* --- connection state --------------------------------------------------- */

static void
smtp_session_forget(FarceurSmtpClient *self)
{
  g_hash_table_remove_all(self->conn.extensions);
  self->conn.max_size = 0;
}

/* EHLO lines after the first: "KEYWORD params"; lines that are not a
 * keyword (binary junk, over-long garbage) are ignored. */
static void
smtp_session_parse_extensions(FarceurSmtpClient *self, const FarceurSmtpReply *reply)
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

/* Whether the server's last EHLO offered @keyword (any case): what the
 * transaction asks before SMTPUTF8, 8BITMIME, SIZE and PIPELINING, and what
 * farceur_smtp_client_has_extension() answers. */
gboolean
smtp_session_has_extension(FarceurSmtpClient *self, const char *keyword)
{
  g_autofree char *upper = g_ascii_strup(keyword, -1);

  return g_hash_table_contains(self->conn.extensions, upper);
}

/* --- greeting, EHLO, HELO ----------------------------------------------- */

static void
smtp_session_send_ehlo(FarceurSmtpClient *self)
{
  g_autofree char *line = g_strdup_printf("%s %s", self->lmtp ? "LHLO" : "EHLO", self->helo);

  smtp_io_set_state(self, SMTP_STATE_EHLO);
  smtp_io_queue(self, line, NULL);
  smtp_io_send(self);
}

static void
smtp_session_on_greeting(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  smtp_io_stop_notice(self);
  self->conn.greeting = farceur_smtp_reply_copy(reply);
  if (!FARCEUR_SMTP_REPLY_IS_POSITIVE(reply)) {
    smtp_io_fail_reply(self, smtp_io_reply_error_code(reply), "greeting refused", reply);
    return;
  }
  smtp_session_send_ehlo(self);
}

/* After EHLO or HELO: STARTTLS as the security setting asks, else AUTH
 * when credentials were set, else the session is ready. */
static void
smtp_session_after_hello(FarceurSmtpClient *self)
{
  gboolean offered = g_hash_table_contains(self->conn.extensions, "STARTTLS");
  gboolean want
      = self->security == FARCEUR_SMTP_SECURITY_STARTTLS
        || (self->security == FARCEUR_SMTP_SECURITY_OPPORTUNISTIC && offered && !self->tls_failed);

  if (!self->conn.tls && want && !offered) {
    smtp_io_fail(self, g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_NOPERM,
                                   "smtp server '%s': STARTTLS required but not offered",
                                   self->server_name));
    return;
  }
  if (!self->conn.tls && want) {
    smtp_io_set_state(self, SMTP_STATE_STARTTLS);
    smtp_io_queue(self, "STARTTLS", NULL);
    smtp_io_send(self);
    return;
  }
  if (self->user != NULL && !self->conn.authenticated) {
    smtp_auth_begin(self);
    return;
  }
  smtp_io_ready(self);
}

static void
smtp_session_on_ehlo(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  if (FARCEUR_SMTP_REPLY_IS_POSITIVE(reply)) {
    smtp_session_parse_extensions(self, reply);
    smtp_session_after_hello(self);
    return;
  }
  if (!FARCEUR_SMTP_REPLY_IS_PERMANENT(reply) || self->lmtp) {
    smtp_io_fail_reply(self, smtp_io_reply_error_code(reply),
                       self->lmtp ? "LHLO refused" : "EHLO refused", reply);
    return;
  }
  g_autofree char *line = g_strdup_printf("HELO %s", self->helo);

  smtp_io_set_state(self, SMTP_STATE_HELO);
  smtp_io_queue(self, line, NULL);
  smtp_io_send(self);
}

static void
smtp_session_on_helo(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  if (!FARCEUR_SMTP_REPLY_IS_POSITIVE(reply)) {
    smtp_io_fail_reply(self, smtp_io_reply_error_code(reply), "HELO refused", reply);
    return;
  }
  smtp_session_forget(self); /* no ESMTP: no extension, no parameter */
  smtp_session_after_hello(self);
}

/* --- TLS ---------------------------------------------------------------- */

/* What GIO found wrong with a certificate, in words. */
static char *
smtp_session_certificate_problems(GTlsCertificateFlags errors)
{
  static const struct {
    GTlsCertificateFlags flag;
    const char *words;
  } names[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA, "signed by an unknown authority" },
    { G_TLS_CERTIFICATE_BAD_IDENTITY, "issued for another name" },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, "not valid yet" },
    { G_TLS_CERTIFICATE_EXPIRED, "expired" },
    { G_TLS_CERTIFICATE_REVOKED, "revoked" },
    { G_TLS_CERTIFICATE_INSECURE, "insecure" },
  };
  g_autoptr(GPtrArray) words = g_ptr_array_new();

  for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
    if (errors & names[i].flag)
      g_ptr_array_add(words, (gpointer)names[i].words);
  if (words->len == 0)
    g_ptr_array_add(words, (gpointer) "not verifiable");
  g_ptr_array_add(words, NULL);
  return g_strjoinv(", ", (char **)words->pdata);
}

static void
smtp_session_mark_unverified(FarceurSmtpClient *self, GTlsCertificateFlags errors)
{
  g_autofree char *problems = smtp_session_certificate_problems(errors);
  g_autofree char *note = NULL;

  self->conn.tls_unverified = TRUE;
  note = g_strdup_printf("TLS unverified: the certificate of '%s' is %s; the session is "
                         "encrypted, the server not authenticated (%s)",
                         self->server_name, problems,
                         self->tls_insecure ? "--insecure" : "smtp://, opportunistic TLS");
  smtp_io_transcript(self, "* ", note);
}

/* Called only when the certificate failed verification, and only on the
 * sessions smtp_session_trust_any() names. */
static gboolean
smtp_session_accept_certificate_cb(GTlsConnection *conn, GTlsCertificate *cert,
                                   GTlsCertificateFlags errors, gpointer data)
{
  smtp_session_mark_unverified(data, errors);
  return TRUE;
}

/* Opportunistic STARTTLS (smtp://) takes a certificate that cannot be
 * verified, as RFC 7435 and Postfix's "may" level do: encryption against a
 * listener is better than none; the session is marked unverified and no
 * password goes over it to a remote server (smtp-client-auth.c).
 * smtp+starttls:// and smtps:// always verify, unless --insecure. */
static gboolean
smtp_session_trust_any(FarceurSmtpClient *self)
{
  return self->tls_insecure || self->security == FARCEUR_SMTP_SECURITY_OPPORTUNISTIC;
}

static void smtp_session_open(FarceurSmtpClient *self);

/* Opportunistic STARTTLS whose handshake failed outright: the connection is
 * in an unknown state, so a new one is made to the same address, where the
 * session goes on in plaintext.  Returns %FALSE when that does not apply
 * (strict security, a given stream, a timeout, a cancellation). */
static gboolean
smtp_session_fall_back(FarceurSmtpClient *self, const GError *error)
{
  g_autofree char *note = NULL;

  if (self->security != FARCEUR_SMTP_SECURITY_OPPORTUNISTIC || self->address == NULL
      || self->timed_out || g_cancellable_is_cancelled(self->io_cancellable))
    return FALSE;
  note = g_strdup_printf("TLS handshake failed (%s): going on in plaintext on a new session "
                         "(smtp://, opportunistic TLS)",
                         error->message);
  smtp_io_transcript(self, "* ", note);
  self->tls_failed = TRUE;
  g_io_stream_close_async(self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object(&self->stream);
  g_hash_table_remove_all(self->conn.extensions);
  self->conn.max_size = 0;
  self->conn.tls_unverified = FALSE;
  g_clear_pointer(&self->conn.greeting, farceur_smtp_reply_free);
  farceur_smtp_reply_parser_reset(self->parser);
  g_clear_error(&self->read_error);
  smtp_session_open(self);
  return TRUE;
}

static void
smtp_session_handshake_ready_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  FarceurSmtpClient *self = data;
  GError *error = NULL;
  GTlsCertificateFlags errors;

  smtp_io_stop_timer(self);
  if (!g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, &error)) {
    g_object_unref(source);
    if (self->conn.greeting != NULL && smtp_session_fall_back(self, error)) {
      g_error_free(error);
      return;
    }
    smtp_io_fail(self, smtp_io_error(self, error, "negotiating TLS"));
    return;
  }
  g_clear_object(&self->stream);
  self->stream = G_IO_STREAM(source);
  self->conn.tls = TRUE;
  /* A resumed TLS session (glib-networking keeps session tickets for the
   * process: a retry's new session) does not emit accept-certificate, but
   * still reports the certificate's errors. */
  errors = g_tls_connection_get_peer_certificate_errors(G_TLS_CONNECTION(source));
  if (errors != 0 && !self->conn.tls_unverified)
    smtp_session_mark_unverified(self, errors);
  if (self->conn.greeting == NULL) { /* implicit TLS: the greeting comes now */
    smtp_io_set_state(self, SMTP_STATE_GREETING);
    smtp_io_wait(self);
    return;
  }
  smtp_session_forget(self);
  smtp_session_send_ehlo(self);
}

static void
smtp_session_start_tls(FarceurSmtpClient *self)
{
  GError *error = NULL;
  GIOStream *tls = g_tls_client_connection_new(self->stream, self->identity, &error);

  if (tls == NULL) {
    smtp_io_fail(self, smtp_io_error(self, error, "starting TLS"));
    return;
  }
  if (self->tls_database != NULL)
    g_tls_connection_set_database(G_TLS_CONNECTION(tls), self->tls_database);
  if (smtp_session_trust_any(self))
    g_signal_connect(tls, "accept-certificate", G_CALLBACK(smtp_session_accept_certificate_cb),
                     self);
  smtp_io_set_state(self, SMTP_STATE_TLS_HANDSHAKE);
  smtp_io_start_timer(self);
  g_tls_connection_handshake_async(G_TLS_CONNECTION(tls), G_PRIORITY_DEFAULT, self->io_cancellable,
                                   smtp_session_handshake_ready_cb, self);
}

static void
smtp_session_on_starttls(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  if (reply->code != 220 && self->security == FARCEUR_SMTP_SECURITY_OPPORTUNISTIC
      && reply->code != 421) {
    smtp_io_transcript(self, "* ",
                       "STARTTLS refused: going on in plaintext (smtp://, opportunistic TLS)");
    self->tls_failed = TRUE;
    smtp_session_after_hello(self);
    return;
  }
  if (reply->code != 220) {
    smtp_io_fail_reply(self, FARCEUR_ERROR_NOPERM, "STARTTLS refused", reply);
    return;
  }
  /* Anything the server sent after its 220 was sent in plaintext and would
   * be read as if it came over TLS (CVE-2011-0411 and kin): abort. */
  if (!farceur_smtp_reply_parser_is_empty(self->parser)) {
    smtp_io_fail(self, g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL,
                                   "smtp server '%s': data after the STARTTLS 220 reply "
                                   "(command injection?); aborting",
                                   self->server_name));
    return;
  }
  smtp_session_start_tls(self);
}

/* --- connecting --------------------------------------------------------- */

static gboolean
smtp_session_is_loopback(GSocketConnection *conn)
{
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(conn, NULL);

  if (G_IS_INET_SOCKET_ADDRESS(remote))
    return g_inet_address_get_is_loopback(
        g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
  return remote != NULL && !G_IS_INET_SOCKET_ADDRESS(remote); /* a unix socket is local */
}

/* After the TCP connect (or with a given stream): TLS first, or the greeting. */
static void
smtp_session_connected(FarceurSmtpClient *self)
{
  if (self->security == FARCEUR_SMTP_SECURITY_TLS) {
    smtp_session_start_tls(self);
    return;
  }
  smtp_io_set_state(self, SMTP_STATE_GREETING);
  smtp_io_wait(self);
}

static void
smtp_session_connect_ready_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  FarceurSmtpClient *self = data;
  GError *error = NULL;
  GSocketConnection *conn;

  smtp_io_stop_timer(self);
  conn = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &error);
  if (conn == NULL) {
    smtp_io_fail(self, smtp_io_error(self, error, "connecting"));
    return;
  }
  self->stream = G_IO_STREAM(conn);
  self->conn.loopback = smtp_session_is_loopback(conn);
  if (G_IS_TCP_CONNECTION(conn)) /* our writes are whole commands or whole messages */
    g_socket_set_option(g_socket_connection_get_socket(conn), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  smtp_session_connected(self);
}

/* The connect operation @task starts, or is refused (and returned). */
static gboolean
smtp_session_begin(FarceurSmtpClient *self, GTask *task, GSocketConnectable *identity)
{
  if (self->state != SMTP_STATE_DISCONNECTED) {
    g_task_return_new_error(task, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                            "smtp client: connect called twice");
    g_object_unref(task);
    return FALSE;
  }
  self->op = smtp_op_new(self, task);
  self->identity = identity ? g_object_ref(identity) : NULL;
  self->address = identity ? g_object_ref(identity) : NULL; /* cleared for a given stream */
  if (self->server_name == NULL) /* farceur_smtp_client_set_server_name() wins */
    self->server_name = identity ? g_socket_connectable_to_string(identity) : g_strdup("stream");
  return TRUE;
}

/* The TCP connect to self->address; the session follows. */
static void
smtp_session_open(FarceurSmtpClient *self)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new();

  g_socket_client_set_enable_proxy(socket_client, FALSE); /* an HTTP proxy is no SMTP relay */
  smtp_io_set_state(self, SMTP_STATE_CONNECTING);
  smtp_io_start_timer(self);
  g_socket_client_connect_async(socket_client, self->address, self->io_cancellable,
                                smtp_session_connect_ready_cb, self);
}

/* Connect to @address for @task (transfer full); the session follows. */
void
smtp_session_connect(FarceurSmtpClient *self, GTask *task, GSocketConnectable *address)
{
  if (!smtp_session_begin(self, task, address))
    return;
  smtp_session_open(self);
}

/* The session over a stream the caller connected; it counts as local. */
void
smtp_session_connect_stream(FarceurSmtpClient *self, GTask *task, GIOStream *stream,
                            GSocketConnectable *identity)
{
  if (!smtp_session_begin(self, task, identity))
    return;
  g_clear_object(&self->address); /* nowhere to reconnect to */
  self->stream = g_object_ref(stream);
  self->conn.loopback = TRUE;
  smtp_session_connected(self);
}

/* --- QUIT --------------------------------------------------------------- */

/* The send step of the QUIT state, for the QUIT asked for (self->quit). */
void
smtp_session_start_quit(FarceurSmtpClient *self)
{
  self->op = g_steal_pointer(&self->quit);
  smtp_io_set_state(self, SMTP_STATE_QUIT);
  if (self->quit_sent_ahead) { /* it went out behind the last dot */
    smtp_io_wait(self);
    return;
  }
  smtp_io_queue(self, "QUIT", NULL);
  smtp_io_send(self);
}

/* The QUIT asked for (self->quit): now when the session is ready, after
 * the transactions asked for before it, or, never connected or broken,
 * just close (success). */
void
smtp_session_quit(FarceurSmtpClient *self)
{
  if (smtp_io_is_busy(self))
    return; /* smtp-client-transaction.c starts it when they are over */
  if (self->state == SMTP_STATE_READY) {
    smtp_session_start_quit(self);
    return;
  }
  smtp_io_close_stream(self);
  smtp_io_set_state(self, SMTP_STATE_CLOSED);
  smtp_op_return_boolean(g_steal_pointer(&self->quit));
}

static void
smtp_session_on_quit(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  smtp_io_closed(self);
}

/* --- the rows handed to the core ---------------------------------------- */

static const SmtpHandlerRow smtp_session_handlers[] = {
  { SMTP_STATE_GREETING, smtp_session_on_greeting },
  { SMTP_STATE_EHLO, smtp_session_on_ehlo },
  { SMTP_STATE_HELO, smtp_session_on_helo },
  { SMTP_STATE_STARTTLS, smtp_session_on_starttls },
  { SMTP_STATE_QUIT, smtp_session_on_quit },
};

void
smtp_session_register(FarceurSmtpClient *self)
{
  smtp_io_register(self, smtp_session_handlers, G_N_ELEMENTS(smtp_session_handlers));
}
