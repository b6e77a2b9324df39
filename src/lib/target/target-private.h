/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the delivery backend interface (not installed).
 *
 * To add a backend (SMTP, LMTP, exec):
 *   1. write src/lib/target-NAME.c defining a `const FarceurTargetBackend
 *      farceur_target_NAME_backend` with the schemes it serves;
 *   2. declare it below and list it in target_backends[] in target.c.
 *
 * farceur_target_open() finds the backend by URL scheme, allocates the
 * FarceurTarget and calls ->open, which may store its state in ->priv.  The
 * generic layer (target.c) has already checked the envelope with
 * farceur_envelope_validate() and removed the header fields that never leave
 * (farceur_envelope_strip_withheld(): Bcc, Resent-Bcc, Return-Path) before
 * ->deliver or ->deliver_async is called (a stream given to
 * ->deliver_stream_async has them removed by its caller).
 *
 * A backend implements ->deliver (blocking), ->deliver_async/_finish, or
 * both.  Every delivery is asynchronous (farceur_target_deliver_async()):
 * target.c completes a blocking-only backend's call at once in the caller's
 * thread.  The local backends implement only ->deliver_async: a delivery
 * goes through the writers' group commit (farceur_target_local_deliver_async()
 * below), so that many in flight share their syncs.  There is no blocking
 * delivery in the public API: the batch drives every delivery.
 *
 * Delivery contract: return TRUE when at least one recipient accepted the
 * message, FALSE with @error otherwise.  Fill *delivery (one outcome per
 * envelope recipient, in order) whenever per-recipient outcomes are known,
 * on failure too; leave it NULL when failing before any recipient was tried.
 */
#pragma once

#include <farceur/target.h>

typedef struct _FarceurTargetBackend FarceurTargetBackend;

struct _FarceurTargetBackend {
  const char *name;
  const char *const *schemes; /* NULL-terminated, lower case */

  /* Prepare @target (target->url is set).  Network backends must not connect here. */
  gboolean (*open)(FarceurTarget *target, GError **error);

  gboolean (*deliver)(FarceurTarget *target, const FarceurEnvelope *envelope, GMimeObject *message,
                      FarceurDelivery **delivery, GCancellable *cancellable, GError **error);

  void (*deliver_async)(FarceurTarget *target, const FarceurEnvelope *envelope,
                        GMimeObject *message, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data);
  gboolean (*deliver_finish)(FarceurTarget *target, GAsyncResult *result,
                             FarceurDelivery **delivery, GError **error);

  /* Optional: a stored message's octets, sent as they are (see
   * farceur_target_deliver_stream_async()); finished by ->deliver_finish.
   * Without it, target.c parses the stream and calls the above. */
  void (*deliver_stream_async)(FarceurTarget *target, const FarceurEnvelope *envelope,
                               GMimeStream *stream, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);

  /* Optional: end the session (QUIT), flush, release locks. */
  gboolean (*close)(FarceurTarget *target, GCancellable *cancellable, GError **error);

  /* Optional: free ->priv.  Called once, after ->close when it was not called yet. */
  void (*finalize)(FarceurTarget *target);

  /* Optional: store an incoming message as its octets arrive (target-writer.c;
   * farceur catch).  ->writer_open makes the file the message is written to
   * (writer->fd, open for reading and writing; writer->path when it has a
   * name).  ->writer_commit makes the written file durable and visible and
   * returns @task (transfer full) with the location (a string) or an error;
   * the writer stays untouched by its caller until then.  ->writer_discard
   * removes what ->writer_open made, for a writer never committed. */
  gboolean (*writer_open)(FarceurTarget *target, FarceurTargetWriter *writer, GError **error);
  void (*writer_commit)(FarceurTargetWriter *writer, GTask *task);
  void (*writer_discard)(FarceurTargetWriter *writer);
};

struct _FarceurTarget {
  const FarceurTargetBackend *backend;
  FarceurTargetUrl *url;
  char *description; /* set by ->open, else target.c makes one from the URL */
  gpointer priv;     /* backend state */
  gboolean closed;
};

/* One incoming message on its way into a local target (target-writer.c). */
struct _FarceurTargetWriter {
  FarceurTarget *target;
  char *mail_from;       /* the envelope sender (mbox: the From line) */
  int fd;                /* the file written, -1 once closed */
  char *path;            /* its name, when it has one (Maildir: tmp/NAME) */
  char *name;            /* Maildir: the unique file name */
  GMimeStream *file;     /* over fd, not owning it */
  GMimeStream *filtered; /* LF line ends, the message's own trace fields removed */
  GError *error;         /* the first failure: later writes do nothing */
  gboolean finished;     /* flushed: nothing more is written */
  gboolean committed;    /* handed to ->writer_commit */
  /* A delivery (farceur_target_local_deliver_async()): a parsed message
   * stored through the writers' group commit; NULL for farceur catch. */
  FarceurEnvelope *envelope;
  GMimeObject *message;      /* mbox: appended by the commit; Maildir: written, then dropped */
  GCancellable *cancellable; /* stops the write of the message */
};

extern const FarceurTargetBackend farceur_target_maildir_backend;
extern const FarceurTargetBackend farceur_target_mbox_backend;
/* The session backends, in target-smtp.c. */
extern const FarceurTargetBackend farceur_target_smtp_backend; /* smtp, smtp+starttls, smtps */
extern const FarceurTargetBackend farceur_target_lmtp_backend; /* lmtp */
extern const FarceurTargetBackend farceur_target_exec_backend; /* exec */

/* Shared by the local backends (target-local.c).  write_envelope first
 * removes the message's own Return-Path, Envelope-to, Delivered-To and
 * X-Original-To: the stored copy names only the real envelope.  @where
 * names the file in errors ("mbox 'PATH'"); every failure is
 * FARCEUR_ERROR_IO, a full disk too (farceur_target_local_fail()). */
gboolean farceur_target_write_envelope(GMimeStream *stream, const FarceurEnvelope *envelope,
                                       GMimeObject *message, const char *where, GError **error);
gboolean farceur_target_write_message(GMimeStream *stream, GMimeObject *message, GMimeFilter *extra,
                                      const char *where, GError **error);
FarceurDelivery *farceur_target_local_delivery(const FarceurEnvelope *envelope,
                                               const char *location);
int farceur_target_errno_code(int err);
/* The stream a local backend writes a message to (over @fd): its writes
 * fail once @cancellable is cancelled; and the error that says so. */
GMimeStream *farceur_target_guard_stream_new(int fd, GCancellable *cancellable);
gboolean farceur_target_local_cancelled(GCancellable *cancellable, const char *undone,
                                        GError **error);
/* Deliveries into a local target go through the writers' group commit
 * (->writer_commit): each becomes a writer carrying the envelope and the
 * message, which the commit writes (Maildir: into tmp/; mbox: appended
 * under the lock), in the order given; a delivery completes once its
 * message is durable.  Many deliveries in flight share their syncs
 * (data/doc/formats.md; target-local.c). */
/* What the group commits of the backends share: one outcome per commit
 * task (a GError, NULL when stored), and the completion of every task. */
GPtrArray *farceur_target_local_group_errors_new(guint count);
void farceur_target_local_group_return(GPtrArray *tasks, GPtrArray *errors, const char *location);
/* The error code of a failed sync or write in a commit: a delivery's is
 * always FARCEUR_ERROR_IO (a batch does not retry a full disk), a writer's
 * farceur_target_errno_code(). */
int farceur_target_writer_errno_code(const FarceurTargetWriter *writer, int err);
/* ->deliver_async / ->deliver_finish of the local backends. */
void farceur_target_local_deliver_async(FarceurTarget *target, const FarceurEnvelope *envelope,
                                        GMimeObject *message, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);
gboolean farceur_target_local_deliver_finish(FarceurTarget *target, GAsyncResult *result,
                                             FarceurDelivery **delivery, GError **error);
gboolean farceur_target_local_fail(GError **error, const char *what);

/* The writer's shared part (target-local.c): the streams over writer->fd,
 * the envelope lines and @trace first; then the message's octets as they
 * arrive (CRLF or LF line ends), stored with LF line ends and without the
 * message's own Return-Path, Envelope-to, Delivered-To and X-Original-To. */
gboolean farceur_target_local_writer_begin(FarceurTargetWriter *writer,
                                           const FarceurEnvelope *envelope, const char *trace,
                                           GError **error);
gboolean farceur_target_local_writer_put(FarceurTargetWriter *writer, const char *data, gsize len,
                                         GError **error);
gboolean farceur_target_local_writer_finish(FarceurTargetWriter *writer, GError **error);
void farceur_target_local_writer_close(FarceurTargetWriter *writer);
void farceur_target_local_writer_free(FarceurTargetWriter *writer);

/* The filter that removes those fields from a message's header, as LF text
 * (target-local.c; exposed for its tests). */
GMimeFilter *farceur_target_strip_filter_new(void);

/* The mboxrd quoting filter of target-mbox.c (exposed for its tests). */
GMimeFilter *farceur_mbox_filter_rd_new(void);
/* How long an mbox: append waits for other programs' locks (10 s unless a
 * test sets less). */
void farceur_target_mbox_set_lock_timeout(FarceurTarget *target, guint ms);
