/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: delivery targets behind one interface (data/doc/formats.md, Delivery targets).
 *
 * A target is opened from a URL and then takes one message at a time with
 * its envelope:
 *
 *   maildir:DIR                 a Maildir, created if missing
 *   mbox:FILE                   an mbox (mboxrd quoting, fcntl-locked)
 *   smtp://[USER@]HOST[:PORT]   SMTP (25), STARTTLS when offered
 *   smtp+starttls://...         SMTP that requires STARTTLS (587)
 *   smtps://...                 SMTP over implicit TLS (465)
 *   lmtp://HOST[:PORT]          LMTP over TCP (24)
 *   lmtp:/path/to/socket        LMTP over a Unix socket
 *   exec:COMMAND                SMTP on a subprocess's stdin/stdout
 *   HOST:PORT                   short for smtp://HOST:PORT
 *
 * Opening a network target does no I/O: the connection is made by the first
 * delivery, so a caller can check farceur_target_is_remote() first.
 */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <gio/gio.h>
#include <glib.h>
#include <gmime/gmime.h>
#include <json-glib/json-glib.h>

#include "envelope.h"

#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * FarceurTargetUrl:
 * @url: the URL as given
 * @scheme: lower-case scheme: "maildir", "mbox", "smtp", "smtp+starttls",
 *   "smtps", "lmtp" or "exec" (a bare HOST:PORT becomes "smtp")
 * @path: (nullable): the folder, file, Unix socket or command; %NULL for TCP
 * @user: (nullable): the user name of an SMTP URL, percent-decoded
 * @host: (nullable): the host of a TCP target, without IPv6 brackets
 * @port: the TCP port, the scheme's default when not given; 0 without a host
 *
 * A parsed delivery URL.  Passwords in URLs are refused (they would end up
 * in argv and shell history); use --password-command or FARCEUR_PASSWORD.
 */
typedef struct {
  char *url;
  char *scheme;
  char *path;
  char *user;
  char *host;
  guint16 port;
} FarceurTargetUrl;

FARCEUR_API FarceurTargetUrl *farceur_target_url_parse(const char *url, GError **error);
FARCEUR_API void farceur_target_url_free(FarceurTargetUrl *url);
FARCEUR_API gboolean farceur_target_url_is_remote(const FarceurTargetUrl *url);
FARCEUR_API gboolean farceur_target_url_is_smtp(const FarceurTargetUrl *url);

FARCEUR_API gboolean farceur_target_host_is_loopback(const char *host);

/**
 * FarceurRcptStatus:
 * @FARCEUR_RCPT_ACCEPTED: the recipient got the message (stored, or 2xx)
 * @FARCEUR_RCPT_REFUSED: permanent refusal (5xx): do not retry
 * @FARCEUR_RCPT_DEFERRED: temporary refusal (4xx): retry later
 * @FARCEUR_RCPT_UNKNOWN: no reply came; the message may or may not have arrived
 */
typedef enum {
  FARCEUR_RCPT_ACCEPTED,
  FARCEUR_RCPT_REFUSED,
  FARCEUR_RCPT_DEFERRED,
  FARCEUR_RCPT_UNKNOWN,
} FarceurRcptStatus;

/**
 * FarceurRcptOutcome:
 * @addr: the envelope recipient
 * @status: what happened to it
 * @code: the SMTP/LMTP reply code, 0 for local targets
 * @enhanced: (nullable): the enhanced status code ("5.1.1"), when given
 * @text: (nullable): the reply text, or a local detail
 */
typedef struct {
  char *addr;
  FarceurRcptStatus status;
  guint code;
  char *enhanced;
  char *text;
} FarceurRcptOutcome;

/**
 * FarceurDelivery:
 * @rcpts: (element-type FarceurRcptOutcome): one outcome per envelope
 *   recipient, in envelope order
 * @location: (nullable): where the message went: the file written for a
 *   Maildir, "FILE" for an mbox, the final reply ("250 2.0.0 queued as X")
 *   for SMTP
 * @tls: (nullable): for a session over TLS, "verified", or "unverified"
 *   when its certificate could not be verified (opportunistic STARTTLS,
 *   data/doc/smtp.md, TLS); %NULL without TLS.  A static string.
 */
typedef struct {
  GPtrArray *rcpts;
  char *location;
  const char *tls;
} FarceurDelivery;

FARCEUR_API FarceurDelivery *farceur_delivery_new(void);
FARCEUR_API void farceur_delivery_free(FarceurDelivery *delivery);
FARCEUR_API FarceurRcptOutcome *farceur_delivery_add(FarceurDelivery *delivery, const char *addr,
                                                     FarceurRcptStatus status, guint code,
                                                     const char *enhanced, const char *text);
FARCEUR_API guint farceur_delivery_count(const FarceurDelivery *delivery, FarceurRcptStatus status);
FARCEUR_API const char *farceur_rcpt_status_to_string(FarceurRcptStatus status);
FARCEUR_API JsonNode *farceur_rcpt_outcome_to_json(const FarceurRcptOutcome *outcome);
FARCEUR_API JsonNode *farceur_delivery_rcpts_to_json(const FarceurDelivery *delivery);

typedef struct _FarceurTarget FarceurTarget;

FARCEUR_API FarceurTarget *farceur_target_new(const char *url, GError **error);
FARCEUR_API FarceurTarget *farceur_target_open(const FarceurTargetUrl *url, GError **error);

FARCEUR_API void farceur_target_deliver_async(FarceurTarget *target,
                                              const FarceurEnvelope *envelope, GMimeObject *message,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback, gpointer user_data);
FARCEUR_API void farceur_target_deliver_stream_async(FarceurTarget *target,
                                                     const FarceurEnvelope *envelope,
                                                     GMimeStream *stream, GCancellable *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer user_data);
FARCEUR_API gboolean farceur_target_deliver_finish(FarceurTarget *target, GAsyncResult *result,
                                                   FarceurDelivery **delivery, GError **error);

FARCEUR_API gboolean farceur_target_close(FarceurTarget *target, GCancellable *cancellable,
                                          GError **error);
FARCEUR_API void farceur_target_free(FarceurTarget *target);

/**
 * FarceurTargetWriter:
 *
 * One incoming message stored by a local target (maildir:, mbox:) as its
 * octets arrive, the way `farceur catch` stores what it receives: the
 * envelope lines and the caller's trace fields first, then the message as
 * received, with LF line ends and without its own Return-Path, Envelope-to,
 * Delivered-To and X-Original-To (data/doc/envelope.md).  Nothing shows in
 * the mailbox until farceur_target_writer_commit_async() reports it durably
 * stored; a writer freed before that leaves nothing behind.
 */
typedef struct _FarceurTargetWriter FarceurTargetWriter;

FARCEUR_API FarceurTargetWriter *farceur_target_writer_new(FarceurTarget *target,
                                                           const FarceurEnvelope *envelope,
                                                           const char *trace, GError **error);
FARCEUR_API gboolean farceur_target_writer_write(FarceurTargetWriter *writer, const char *data,
                                                 gsize len, GError **error);
FARCEUR_API GMimeStream *farceur_target_writer_read_back(FarceurTargetWriter *writer,
                                                         GError **error);
FARCEUR_API void farceur_target_writer_commit_async(FarceurTargetWriter *writer,
                                                    GCancellable *cancellable,
                                                    GAsyncReadyCallback callback,
                                                    gpointer user_data);
FARCEUR_API gboolean farceur_target_writer_commit_finish(FarceurTargetWriter *writer,
                                                         GAsyncResult *result, char **location,
                                                         GError **error);
FARCEUR_API void farceur_target_writer_free(FarceurTargetWriter *writer);

FARCEUR_API const char *farceur_target_describe(const FarceurTarget *target);
FARCEUR_API const FarceurTargetUrl *farceur_target_get_url(const FarceurTarget *target);
FARCEUR_API gboolean farceur_target_is_remote(const FarceurTarget *target);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurTargetUrl, farceur_target_url_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurDelivery, farceur_delivery_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurTarget, farceur_target_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurTargetWriter, farceur_target_writer_free)

G_END_DECLS
