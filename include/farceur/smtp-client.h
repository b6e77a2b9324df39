/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: an asynchronous SMTP/LMTP client on GIO (RFC 5321, 3207, 4954,
 * 2920, 1870, 6152, 6531, 2034, 2033).
 *
 * One FarceurSmtpClient is one connection.  Configure it, connect (greeting,
 * EHLO, STARTTLS, EHLO again, AUTH), then send any number of messages on it,
 * then quit.  Every operation is an _async/_finish pair; its I/O, timer
 * and callback run on the thread-default main context current when it
 * starts (use the client from one thread).
 * Sends and QUIT may be asked for while a transaction runs: they are queued
 * and run in order, and with PIPELINING the next transaction's MAIL, RCPTs
 * and DATA (or the QUIT) go out in the same write as the previous final
 * dot.  Keep one send queued per connection for the fewest round trips.
 */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gmime/gmime.h>

#include <farceur/envelope.h>
#include <farceur/smtp-reply.h>

#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * FarceurSmtpSecurity:
 * @FARCEUR_SMTP_SECURITY_OPPORTUNISTIC: STARTTLS when offered, else plain
 *   (smtp://), as RFC 7435: a certificate that cannot be verified is taken
 *   (farceur_smtp_client_is_tls_unverified(); no AUTH to a remote server
 *   over it), a refused STARTTLS goes on in plaintext, a failed handshake
 *   goes on in plaintext on a new connection (not with a given stream)
 * @FARCEUR_SMTP_SECURITY_NONE: never TLS
 * @FARCEUR_SMTP_SECURITY_STARTTLS: STARTTLS required; fail before any
 *   envelope command when not offered (smtp+starttls://)
 * @FARCEUR_SMTP_SECURITY_TLS: TLS from the first byte (smtps://)
 */
typedef enum {
  FARCEUR_SMTP_SECURITY_OPPORTUNISTIC,
  FARCEUR_SMTP_SECURITY_NONE,
  FARCEUR_SMTP_SECURITY_STARTTLS,
  FARCEUR_SMTP_SECURITY_TLS,
} FarceurSmtpSecurity;

/**
 * FarceurSmtpOutcome:
 * @FARCEUR_SMTP_OUTCOME_DELIVERED: the final reply was 2xx (for LMTP: at
 *   least one recipient's); refused recipients are listed in the result
 * @FARCEUR_SMTP_OUTCOME_REFUSED: a 5xx made delivery impossible
 * @FARCEUR_SMTP_OUTCOME_DEFERRED: a 4xx, or the connection failed before the
 *   final dot: nothing was delivered, retry later
 * @FARCEUR_SMTP_OUTCOME_UNKNOWN: the final dot was sent but no reply came:
 *   the message may or may not have been delivered
 */
typedef enum {
  FARCEUR_SMTP_OUTCOME_DELIVERED,
  FARCEUR_SMTP_OUTCOME_REFUSED,
  FARCEUR_SMTP_OUTCOME_DEFERRED,
  FARCEUR_SMTP_OUTCOME_UNKNOWN,
} FarceurSmtpOutcome;

FARCEUR_API const char *farceur_smtp_outcome_to_string(FarceurSmtpOutcome outcome);
FARCEUR_API gboolean farceur_smtp_check_stream(GMimeStream *stream, GError **error);

/**
 * FarceurSmtpRecipient:
 * @address: the forward path, without angle brackets
 * @reply: (nullable): the reply to its RCPT TO, %NULL if none came
 * @data_reply: (nullable): LMTP only: its own reply after the final dot
 *
 * Accepted when @reply is 2xx (and, for LMTP, @data_reply too).
 */
typedef struct {
  char *address;
  FarceurSmtpReply *reply;
  FarceurSmtpReply *data_reply;
} FarceurSmtpRecipient;

/**
 * FarceurSmtpResult:
 * @outcome: what happened to the message
 * @mail_reply: (nullable): the reply to MAIL FROM
 * @recipients: (element-type FarceurSmtpRecipient): one per envelope
 *   recipient, in envelope order
 * @data_reply: (nullable): the reply to DATA (354 when the content went out)
 * @final_reply: (nullable): the reply after the final dot (SMTP), or the
 *   first recipient's (LMTP)
 * @error: (nullable): why the message was not delivered (server reply
 *   text, connection failure, timeout); %NULL when delivered (recipients
 *   refused one by one are in @recipients)
 * @n_accepted: how many recipients got the message
 * @size: octets of content sent (after CRLF conversion and dot-stuffing)
 *
 * The result of one mail transaction.
 */
typedef struct {
  FarceurSmtpOutcome outcome;
  FarceurSmtpReply *mail_reply;
  GPtrArray *recipients;
  FarceurSmtpReply *data_reply;
  FarceurSmtpReply *final_reply;
  GError *error;
  guint n_accepted;
  gsize size;
} FarceurSmtpResult;

FARCEUR_API void farceur_smtp_result_free(FarceurSmtpResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurSmtpResult, farceur_smtp_result_free)

#define FARCEUR_TYPE_SMTP_CLIENT (farceur_smtp_client_get_type())
FARCEUR_API G_DECLARE_FINAL_TYPE(FarceurSmtpClient, farceur_smtp_client, FARCEUR, SMTP_CLIENT,
                                 GObject)

    /**
 * FarceurSmtpCommitFunc:
 * @client: the client
 * @envelope: the envelope of the transaction
 * @user_data: the data given with the function
 * @error: return location for an error
 *
 * Called right before the final dot is written, when the server has
 * accepted the content so far: the last moment to record durably that the
 * message's fate will be unknown if the connection dies now.  Returning
 * %FALSE aborts: the connection is closed without the dot (the server
 * discards the message) and the outcome is %FARCEUR_SMTP_OUTCOME_DEFERRED.
 *
 * Returns: %TRUE to send the dot
 */
    typedef gboolean (*FarceurSmtpCommitFunc)(FarceurSmtpClient *client,
                                              const FarceurEnvelope *envelope, gpointer user_data,
                                              GError **error);

FARCEUR_API FarceurSmtpClient *farceur_smtp_client_new(void);

/* Configuration: before connecting. */
FARCEUR_API void farceur_smtp_client_set_security(FarceurSmtpClient *client,
                                                  FarceurSmtpSecurity security);
FARCEUR_API void farceur_smtp_client_set_lmtp(FarceurSmtpClient *client, gboolean lmtp);
FARCEUR_API void farceur_smtp_client_set_helo(FarceurSmtpClient *client, const char *name);
FARCEUR_API void farceur_smtp_client_set_server_name(FarceurSmtpClient *client, const char *name);
FARCEUR_API void farceur_smtp_client_set_auth(FarceurSmtpClient *client, const char *user,
                                              const char *password, const char *mechanism);
FARCEUR_API void farceur_smtp_client_set_allow_plaintext_auth(FarceurSmtpClient *client,
                                                              gboolean allow);
FARCEUR_API gboolean farceur_smtp_client_set_tls_ca_file(FarceurSmtpClient *client,
                                                         const char *path, GError **error);
FARCEUR_API void farceur_smtp_client_set_tls_insecure(FarceurSmtpClient *client, gboolean insecure);
FARCEUR_API void farceur_smtp_client_set_timeout(FarceurSmtpClient *client, guint timeout_ms);
FARCEUR_API void farceur_smtp_client_set_pipelining(FarceurSmtpClient *client, gboolean allowed);

/* Connection. */
FARCEUR_API void farceur_smtp_client_connect_async(FarceurSmtpClient *client,
                                                   GSocketConnectable *address,
                                                   GCancellable *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer user_data);
FARCEUR_API void farceur_smtp_client_connect_stream_async(
    FarceurSmtpClient *client, GIOStream *stream, GSocketConnectable *server_identity,
    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
FARCEUR_API gboolean farceur_smtp_client_connect_finish(FarceurSmtpClient *client,
                                                        GAsyncResult *result, GError **error);

/* Transactions. */
FARCEUR_API void farceur_smtp_client_send_async(FarceurSmtpClient *client,
                                                const FarceurEnvelope *envelope,
                                                GMimeObject *message, FarceurSmtpCommitFunc commit,
                                                gpointer commit_data, GCancellable *cancellable,
                                                GAsyncReadyCallback callback, gpointer user_data);
FARCEUR_API void
farceur_smtp_client_send_stream_async(FarceurSmtpClient *client, const FarceurEnvelope *envelope,
                                      GMimeStream *stream, FarceurSmtpCommitFunc commit,
                                      gpointer commit_data, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
FARCEUR_API FarceurSmtpResult *
farceur_smtp_client_send_finish(FarceurSmtpClient *client, GAsyncResult *result, GError **error);

FARCEUR_API void farceur_smtp_client_quit_async(FarceurSmtpClient *client,
                                                GCancellable *cancellable,
                                                GAsyncReadyCallback callback, gpointer user_data);
FARCEUR_API gboolean farceur_smtp_client_quit_finish(FarceurSmtpClient *client,
                                                     GAsyncResult *result, GError **error);

/* State, after connecting. */
FARCEUR_API gboolean farceur_smtp_client_is_ready(FarceurSmtpClient *client);
FARCEUR_API gboolean farceur_smtp_client_has_extension(FarceurSmtpClient *client,
                                                       const char *keyword);
FARCEUR_API guint64 farceur_smtp_client_get_max_size(FarceurSmtpClient *client);
FARCEUR_API gboolean farceur_smtp_client_is_tls(FarceurSmtpClient *client);
FARCEUR_API gboolean farceur_smtp_client_is_authenticated(FarceurSmtpClient *client);
FARCEUR_API gboolean farceur_smtp_client_is_tls_unverified(FarceurSmtpClient *client);
FARCEUR_API gboolean farceur_smtp_client_has_timed_out(FarceurSmtpClient *client);
FARCEUR_API const FarceurSmtpReply *farceur_smtp_client_get_greeting(FarceurSmtpClient *client);

G_END_DECLS
