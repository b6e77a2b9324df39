/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: what the local targets (maildir, mbox) share: the envelope lines
 * a delivering MTA records, streaming the message out as LF text, and the
 * writer's part that does not depend on the backend: a message stored as
 * its octets arrive (farceur catch), its own trace fields filtered out. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"

#include "target-private.h"
#include "error-text.h"

#define TARGET_FOLD_WIDTH 78

/**
 * farceur_target_errno_code:
 * @err: the errno of a failed write or sync of a writer (farceur catch)
 *
 * Returns: %FARCEUR_ERROR_TEMPFAIL for a full disk or quota (the server
 *   answers 452: its client tries again later), %FARCEUR_ERROR_IO for
 *   anything else
 */
int
farceur_target_errno_code(int err)
{
  return err == ENOSPC || err == EDQUOT ? FARCEUR_ERROR_TEMPFAIL : FARCEUR_ERROR_IO;
}

static gboolean
target_local_fail_code(GError **error, int code, const char *what)
{
  int saved = errno;

  if (saved != 0)
    farceur_set_errno_error(error, code, saved, "cannot write %s", what);
  else
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_IO, "cannot write %s: short write", what);
  return FALSE;
}

/**
 * farceur_target_local_fail:
 * @error: return location for the error
 * @what: what could not be written, and where
 *
 * "cannot write WHAT: REASON" from errno, for a delivery: always
 * %FARCEUR_ERROR_IO, a full disk or quota too ("no space left on device",
 * "disk quota exceeded"): trying again in a few seconds meets the same full
 * disk, so a batch does not retry it (data/doc/formats.md).
 *
 * Returns: %FALSE
 */
gboolean
farceur_target_local_fail(GError **error, const char *what)
{
  return target_local_fail_code(error, FARCEUR_ERROR_IO, what);
}

/* The same for a writer: a full disk is %FARCEUR_ERROR_TEMPFAIL there
 * (farceur_target_errno_code()). */
static gboolean
target_local_writer_fail(GError **error, const char *what)
{
  return target_local_fail_code(error, farceur_target_errno_code(errno), what);
}

/* "Envelope-to: a, b, ..." folded before TARGET_FOLD_WIDTH columns.  Hand
 * written: GMime folds the headers it owns, and this line is written raw,
 * ahead of the message, as Exim does. */
static char *
target_local_envelope_to(const FarceurEnvelope *envelope)
{
  GString *out = g_string_new("Envelope-to: ");
  gsize line_start = 0;

  for (guint i = 0; i < envelope->rcpt_to->len; i++) {
    const char *addr = envelope->rcpt_to->pdata[i];
    if (i > 0) {
      g_string_append_c(out, ',');
      if (out->len - line_start + 1 + strlen(addr) + 1 > TARGET_FOLD_WIDTH) {
        g_string_append_c(out, '\n');
        line_start = out->len;
      }
      g_string_append_c(out, ' ');
    }
    g_string_append(out, addr);
  }
  g_string_append_c(out, '\n');
  return g_string_free(out, FALSE);
}

/* Trace fields that only the delivering MTA may write.  A message that
 * arrives with them (a template can set any header) would show a forged
 * envelope in the stored copy, so they go, as a delivering MTA drops an
 * incoming Return-Path (RFC 5321 4.4) and Exim its envelope_to_remove. */
static const char *const target_local_trace_fields[]
    = { "Return-Path", "Envelope-to", "Delivered-To", "X-Original-To" };

/* "Return-Path: <MAIL FROM>" and "Envelope-to: RCPT, ..." lines. */
static char *
target_local_envelope_lines(const FarceurEnvelope *envelope)
{
  g_autofree char *envelope_to = target_local_envelope_to(envelope);

  return g_strdup_printf("Return-Path: <%s>\n%s", envelope->mail_from, envelope_to);
}

/**
 * farceur_target_write_envelope:
 * @stream: where the stored message begins
 * @envelope: a validated envelope (no CR, LF or angle brackets)
 * @message: the message about to be written after these lines; its own
 *   Return-Path, Envelope-to, Delivered-To and X-Original-To fields are
 *   removed
 * @where: the file, for errors ("mbox 'PATH'")
 * @error: return location for a %FARCEUR_ERROR_IO error
 *
 * Writes "Return-Path: <MAIL FROM>" and "Envelope-to: RCPT, ..." lines, the
 * only envelope record the stored message keeps.
 */
gboolean
farceur_target_write_envelope(GMimeStream *stream, const FarceurEnvelope *envelope,
                              GMimeObject *message, const char *where, GError **error)
{
  g_autofree char *lines = target_local_envelope_lines(envelope);
  g_autofree char *what = NULL;
  int saved;

  for (gsize i = 0; i < G_N_ELEMENTS(target_local_trace_fields); i++)
    while (g_mime_object_remove_header(message, target_local_trace_fields[i]))
      ;
  errno = 0;
  if (g_mime_stream_write_string(stream, lines) >= 0)
    return TRUE;
  saved = errno;
  what = g_strdup_printf("the envelope lines to %s", where);
  errno = saved;
  return farceur_target_local_fail(error, what);
}

/**
 * farceur_target_write_message:
 * @stream: the output
 * @message: the message to store
 * @extra: (nullable): a filter applied after LF conversion (mboxrd quoting)
 * @where: the file, for errors ("mbox 'PATH'")
 * @error: return location for a %FARCEUR_ERROR_IO error
 *
 * Streams @message as LF text ending with a newline: local mailboxes are
 * LF files, whatever line ends the message was parsed with.
 */
gboolean
farceur_target_write_message(GMimeStream *stream, GMimeObject *message, GMimeFilter *extra,
                             const char *where, GError **error)
{
  g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new(stream);
  g_autoptr(GMimeFilter) dos2unix = g_mime_filter_dos2unix_new(TRUE);
  g_autoptr(GMimeFormatOptions) options = g_mime_format_options_new();
  g_autofree char *what = NULL;
  int saved;

  g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_UNIX);
  g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), dos2unix);
  if (extra)
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), extra);
  errno = 0;
  if (g_mime_object_write_to_stream(message, options, filtered) >= 0
      && g_mime_stream_flush(filtered) >= 0)
    return TRUE;
  saved = errno;
  what = g_strdup_printf("the message to %s", where);
  errno = saved;
  return farceur_target_local_fail(error, what);
}

/**
 * farceur_target_local_delivery:
 * @envelope: the envelope
 * @location: where the message was stored
 *
 * Returns: (transfer full): a record with every recipient accepted
 */
FarceurDelivery *
farceur_target_local_delivery(const FarceurEnvelope *envelope, const char *location)
{
  FarceurDelivery *delivery = farceur_delivery_new();

  delivery->location = g_strdup(location);
  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    farceur_delivery_add(delivery, envelope->rcpt_to->pdata[i], FARCEUR_RCPT_ACCEPTED, 0, NULL,
                         "stored");
  return delivery;
}

/* ---- cancellation ----
 *
 * Hand written: GMime writes a message to a GMimeStream and has no notion
 * of cancellation.  This stream passes writes on to the file's stream and
 * fails them (errno ECANCELED) once its cancellable is cancelled, so a long
 * message stops at the next buffer and the backend rolls the write back. */

#define TARGET_TYPE_GUARD_STREAM (target_guard_stream_get_type())
G_DECLARE_FINAL_TYPE(TargetGuardStream, target_guard_stream, TARGET, GUARD_STREAM, GMimeStream)

struct _TargetGuardStream {
  GMimeStream parent;
  GMimeStream *inner;
  GCancellable *cancellable; /* nullable */
};

G_DEFINE_FINAL_TYPE(TargetGuardStream, target_guard_stream, GMIME_TYPE_STREAM)

static ssize_t
target_guard_stream_write(GMimeStream *stream, const char *buf, size_t len)
{
  TargetGuardStream *self = TARGET_GUARD_STREAM(stream);
  ssize_t n;

  if (g_cancellable_is_cancelled(self->cancellable)) {
    errno = ECANCELED;
    return -1;
  }
  n = g_mime_stream_write(self->inner, buf, len);
  if (n > 0)
    stream->position += n;
  return n;
}

static ssize_t
target_guard_stream_read(GMimeStream *stream, char *buf, size_t len)
{
  return -1; /* write only */
}

/* Nothing to do: the inner stream does not buffer, and its flush would
 * fsync() the file; the owner syncs it, alone or in a group. */
static int
target_guard_stream_flush(GMimeStream *stream)
{
  return 0;
}

static int
target_guard_stream_close(GMimeStream *stream)
{
  return 0; /* the file is its owner's */
}

static gboolean
target_guard_stream_eos(GMimeStream *stream)
{
  return FALSE;
}

static int
target_guard_stream_reset(GMimeStream *stream)
{
  return -1;
}

static gint64
target_guard_stream_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
  return -1;
}

static gint64
target_guard_stream_tell(GMimeStream *stream)
{
  return stream->position;
}

static gint64
target_guard_stream_length(GMimeStream *stream)
{
  return -1;
}

static GMimeStream *
target_guard_stream_substream(GMimeStream *stream, gint64 start, gint64 end)
{
  return NULL;
}

static void
target_guard_stream_dispose(GObject *object)
{
  TargetGuardStream *self = TARGET_GUARD_STREAM(object);

  g_clear_object(&self->inner);
  g_clear_object(&self->cancellable);
  G_OBJECT_CLASS(target_guard_stream_parent_class)->dispose(object);
}

static void
target_guard_stream_class_init(TargetGuardStreamClass *klass)
{
  GMimeStreamClass *stream_class = GMIME_STREAM_CLASS(klass);

  G_OBJECT_CLASS(klass)->dispose = target_guard_stream_dispose;
  stream_class->read = target_guard_stream_read;
  stream_class->write = target_guard_stream_write;
  stream_class->flush = target_guard_stream_flush;
  stream_class->close = target_guard_stream_close;
  stream_class->eos = target_guard_stream_eos;
  stream_class->reset = target_guard_stream_reset;
  stream_class->seek = target_guard_stream_seek;
  stream_class->tell = target_guard_stream_tell;
  stream_class->length = target_guard_stream_length;
  stream_class->substream = target_guard_stream_substream;
}

static void
target_guard_stream_init(TargetGuardStream *self)
{
}

/**
 * farceur_target_guard_stream_new:
 * @fd: the file written, left open when the stream goes
 * @cancellable: (nullable): once cancelled, writes fail with errno ECANCELED
 *
 * Returns: (transfer full): the stream a local backend writes a message to
 */
GMimeStream *
farceur_target_guard_stream_new(int fd, GCancellable *cancellable)
{
  TargetGuardStream *self = g_object_new(TARGET_TYPE_GUARD_STREAM, NULL);

  g_mime_stream_construct(GMIME_STREAM(self), 0, -1);
  self->inner = g_mime_stream_fs_new(fd);
  g_mime_stream_fs_set_owner(GMIME_STREAM_FS(self->inner), FALSE);
  self->cancellable = cancellable != NULL ? g_object_ref(cancellable) : NULL;
  return GMIME_STREAM(self);
}

/**
 * farceur_target_local_cancelled:
 * @cancellable: (nullable): the delivery's
 * @undone: what was done about the partial write, for the message
 * @error: (inout): the failure of the write, replaced when it was the
 *   cancellation
 *
 * Returns: %TRUE when @cancellable is cancelled (@error is then
 *   %G_IO_ERROR_CANCELLED)
 */
gboolean
farceur_target_local_cancelled(GCancellable *cancellable, const char *undone, GError **error)
{
  if (!g_cancellable_is_cancelled(cancellable))
    return FALSE;
  g_clear_error(error);
  g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled while writing; %s", undone);
  return TRUE;
}

/* ---- what the group commits share ---- */

static void
target_local_error_free(gpointer error)
{
  if (error != NULL)
    g_error_free(error);
}

/**
 * farceur_target_local_group_errors_new:
 * @count: the tasks of a group commit
 *
 * Returns: (transfer full): @count outcomes, each %NULL (stored) until a
 *   GError is put there
 */
GPtrArray *
farceur_target_local_group_errors_new(guint count)
{
  GPtrArray *errors = g_ptr_array_new_full(count, target_local_error_free);

  g_ptr_array_set_size(errors, count);
  return errors;
}

/**
 * farceur_target_local_group_return:
 * @tasks: the commit tasks of a group (their data: the writers); each is
 *   completed and released
 * @errors: their outcomes (farceur_target_local_group_errors_new())
 * @location: (nullable): where the messages stored are (an mbox), else each
 *   writer's path (a Maildir's file in new/)
 */
void
farceur_target_local_group_return(GPtrArray *tasks, GPtrArray *errors, const char *location)
{
  for (guint i = 0; i < tasks->len; i++) {
    GTask *task = tasks->pdata[i];
    FarceurTargetWriter *writer = g_task_get_task_data(task);

    farceur_target_local_writer_close(writer);
    if (errors->pdata[i] != NULL)
      g_task_return_error(task, g_steal_pointer(&errors->pdata[i]));
    else
      g_task_return_pointer(task, g_strdup(location != NULL ? location : writer->path), g_free);
    g_object_unref(task);
  }
}

/* ---- deliveries through the group commit ----
 *
 * A local write may take seconds (a large message, a slow disk, a lock held
 * by another program): it runs on a thread of GLib's pool so the caller's
 * main loop goes on (a signal handler there cancels it, see
 * data/doc/formats.md).  Each delivery becomes a writer handed to the
 * backend's group commit, the one farceur catch uses: deliveries in flight
 * together share one sync of new/ (Maildir) or one append and sync (mbox),
 * and each is reported delivered only once its message is durable. */

int
farceur_target_writer_errno_code(const FarceurTargetWriter *writer, int err)
{
  return writer->envelope != NULL ? FARCEUR_ERROR_IO : farceur_target_errno_code(err);
}

/* Returns the delivery's task (transfer full); its data, the writer, holds
 * a copy of @envelope and a reference to @message. */
static GTask *
target_local_delivery_new(FarceurTarget *target, const FarceurEnvelope *envelope,
                          GMimeObject *message, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  FarceurTargetWriter *writer = g_new0(FarceurTargetWriter, 1);

  writer->target = target;
  writer->fd = -1;
  writer->mail_from = g_strdup(envelope->mail_from);
  writer->envelope = farceur_envelope_copy(envelope);
  writer->message = g_object_ref(message);
  writer->cancellable = cancellable != NULL ? g_object_ref(cancellable) : NULL;
  /* A message stored before the cancellation was seen stays reported as
   * stored: a caller told "cancelled" would send it again. */
  g_task_set_check_cancellable(task, FALSE);
  g_task_set_task_data(task, writer, (GDestroyNotify)farceur_target_local_writer_free);
  return task;
}

static void
target_local_committed_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data; /* the delivery */
  FarceurTargetWriter *writer = g_task_get_task_data(task);
  g_autofree char *location = NULL;
  GError *error = NULL;

  location = g_task_propagate_pointer(G_TASK(result), &error);
  if (location == NULL) {
    writer->committed = FALSE; /* a failed commit may leave a file in tmp/ */
    g_task_return_error(task, error);
  } else {
    g_task_return_pointer(task, farceur_target_local_delivery(writer->envelope, location),
                          (GDestroyNotify)farceur_delivery_free);
  }
  g_object_unref(task);
}

/* Hands the delivery's writer (@task: transfer full) to the backend's group
 * commit, which writes its message. */
static void
target_local_delivery_commit(GTask *task)
{
  FarceurTargetWriter *writer = g_task_get_task_data(task);
  GTask *commit = g_task_new(NULL, NULL, target_local_committed_cb, task);

  g_task_set_task_data(commit, writer, NULL);
  writer->finished = TRUE;
  writer->committed = TRUE;
  writer->target->backend->writer_commit(writer, commit);
}

/**
 * farceur_target_local_deliver_async:
 *
 * ->deliver_async of the local backends: their commit writes the message,
 * in the order the deliveries are given.
 */
void
farceur_target_local_deliver_async(FarceurTarget *target, const FarceurEnvelope *envelope,
                                   GMimeObject *message, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  target_local_delivery_commit(
      target_local_delivery_new(target, envelope, message, cancellable, callback, user_data));
}

gboolean
farceur_target_local_deliver_finish(FarceurTarget *target, GAsyncResult *result,
                                    FarceurDelivery **delivery, GError **error)
{
  *delivery = g_task_propagate_pointer(G_TASK(result), error);
  return *delivery != NULL;
}

/* ---- the trace-field filter ----
 *
 * Hand written: GMime removes header fields from a parsed object, and a
 * writer stores octets as they arrive, unparsed.  On LF text, it drops each
 * header field of the top-level header named in target_local_trace_fields
 * (continuation lines too); from the first empty line on, everything passes. */

#define TARGET_STRIP_NAME_MAX 64

typedef enum {
  TARGET_STRIP_LINE_START, /* at the start of a header line */
  TARGET_STRIP_NAME,       /* holding back what may be a field name */
  TARGET_STRIP_COPY,       /* copying the rest of a header line */
  TARGET_STRIP_DROP,       /* dropping the rest of a header line */
  TARGET_STRIP_BODY,       /* past the header */
} TargetStripState;

#define TARGET_TYPE_STRIP_FILTER (target_strip_filter_get_type())
G_DECLARE_FINAL_TYPE(TargetStripFilter, target_strip_filter, TARGET, STRIP_FILTER, GMimeFilter)

struct _TargetStripFilter {
  GMimeFilter parent;
  TargetStripState state;
  gboolean dropping; /* the current field is dropped: so are its continuation lines */
  gsize name_len;
  char name[TARGET_STRIP_NAME_MAX];
};

G_DEFINE_FINAL_TYPE(TargetStripFilter, target_strip_filter, GMIME_TYPE_FILTER)

static gboolean
target_strip_is_trace_field(const char *name, gsize len)
{
  while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
    len--; /* obsolete syntax: white space before the colon */
  for (gsize i = 0; i < G_N_ELEMENTS(target_local_trace_fields); i++)
    if (strlen(target_local_trace_fields[i]) == len
        && g_ascii_strncasecmp(name, target_local_trace_fields[i], len) == 0)
      return TRUE;
  return FALSE;
}

static char *
target_strip_release(TargetStripFilter *self, char *out)
{
  memcpy(out, self->name, self->name_len);
  out += self->name_len;
  self->name_len = 0;
  return out;
}

static char *
target_strip_line_start(TargetStripFilter *self, char *out, char c)
{
  if (c == '\n') {
    self->state = TARGET_STRIP_BODY;
    *out++ = c;
  } else if (c == ' ' || c == '\t') {
    self->state = self->dropping ? TARGET_STRIP_DROP : TARGET_STRIP_COPY;
    if (!self->dropping)
      *out++ = c;
  } else {
    self->dropping = FALSE;
    self->state = TARGET_STRIP_NAME;
    self->name[self->name_len++] = c;
  }
  return out;
}

static char *
target_strip_name(TargetStripFilter *self, char *out, char c)
{
  if (c == ':' && target_strip_is_trace_field(self->name, self->name_len)) {
    self->name_len = 0;
    self->dropping = TRUE;
    self->state = TARGET_STRIP_DROP;
    return out;
  }
  if (c == ':' || c == '\n' || self->name_len == TARGET_STRIP_NAME_MAX) {
    out = target_strip_release(self, out);
    *out++ = c;
    self->state = c == '\n' ? TARGET_STRIP_LINE_START : TARGET_STRIP_COPY;
    return out;
  }
  self->name[self->name_len++] = c;
  return out;
}

static char *
target_strip_step(TargetStripFilter *self, char *out, char c)
{
  switch (self->state) {
    case TARGET_STRIP_LINE_START:
      return target_strip_line_start(self, out, c);
    case TARGET_STRIP_NAME:
      return target_strip_name(self, out, c);
    case TARGET_STRIP_COPY:
      *out++ = c;
      break;
    case TARGET_STRIP_DROP:
      break;
    case TARGET_STRIP_BODY:
      *out++ = c;
      return out;
  }
  if (c == '\n')
    self->state = TARGET_STRIP_LINE_START;
  return out;
}

static void
target_strip_run(GMimeFilter *filter, char *inbuf, size_t inlen, size_t prespace, char **outbuf,
                 size_t *outlen, size_t *outprespace, gboolean flush)
{
  TargetStripFilter *self = TARGET_STRIP_FILTER(filter);
  char *out;

  if (self->state == TARGET_STRIP_BODY) { /* the common case: pass the buffer through */
    *outbuf = inbuf;
    *outlen = inlen;
    *outprespace = prespace;
    return;
  }
  g_mime_filter_set_size(filter, inlen + TARGET_STRIP_NAME_MAX, FALSE);
  out = filter->outbuf;
  for (size_t i = 0; i < inlen; i++) {
    if (self->state == TARGET_STRIP_BODY) { /* the header is over: the rest as it is */
      memcpy(out, inbuf + i, inlen - i);
      out += inlen - i;
      break;
    }
    out = target_strip_step(self, out, inbuf[i]);
  }
  if (flush && self->state == TARGET_STRIP_NAME)
    out = target_strip_release(self, out);
  *outbuf = filter->outbuf;
  *outlen = out - filter->outbuf;
  *outprespace = filter->outpre;
}

static void
target_strip_filter_filter(GMimeFilter *filter, char *inbuf, size_t inlen, size_t prespace,
                           char **outbuf, size_t *outlen, size_t *outprespace)
{
  target_strip_run(filter, inbuf, inlen, prespace, outbuf, outlen, outprespace, FALSE);
}

static void
target_strip_filter_complete(GMimeFilter *filter, char *inbuf, size_t inlen, size_t prespace,
                             char **outbuf, size_t *outlen, size_t *outprespace)
{
  target_strip_run(filter, inbuf, inlen, prespace, outbuf, outlen, outprespace, TRUE);
}

static void
target_strip_filter_reset(GMimeFilter *filter)
{
  TargetStripFilter *self = TARGET_STRIP_FILTER(filter);

  self->state = TARGET_STRIP_LINE_START;
  self->dropping = FALSE;
  self->name_len = 0;
}

static GMimeFilter *
target_strip_filter_copy(GMimeFilter *filter)
{
  return g_object_new(TARGET_TYPE_STRIP_FILTER, NULL);
}

static void
target_strip_filter_class_init(TargetStripFilterClass *klass)
{
  GMimeFilterClass *filter_class = GMIME_FILTER_CLASS(klass);

  filter_class->copy = target_strip_filter_copy;
  filter_class->filter = target_strip_filter_filter;
  filter_class->complete = target_strip_filter_complete;
  filter_class->reset = target_strip_filter_reset;
}

static void
target_strip_filter_init(TargetStripFilter *self)
{
}

GMimeFilter *
farceur_target_strip_filter_new(void)
{
  return g_object_new(TARGET_TYPE_STRIP_FILTER, NULL);
}

/* ---- the writer's shared part ---- */

/**
 * farceur_target_local_writer_begin:
 * @writer: a writer whose backend opened writer->fd
 * @envelope: a validated envelope
 * @trace: (nullable): header fields to write after the envelope lines, LF
 *   line ends, the last one ending in LF (a Received: field)
 * @error: return location for the error
 *
 * Sets up writer->file and writer->filtered and writes the lines that open
 * the stored message.
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_target_local_writer_begin(FarceurTargetWriter *writer, const FarceurEnvelope *envelope,
                                  const char *trace, GError **error)
{
  g_autoptr(GMimeFilter) dos2unix = g_mime_filter_dos2unix_new(FALSE);
  g_autoptr(GMimeFilter) strip = farceur_target_strip_filter_new();

  g_autofree char *lines = target_local_envelope_lines(envelope);

  writer->file = g_mime_stream_fs_new(writer->fd);
  g_mime_stream_fs_set_owner(GMIME_STREAM_FS(writer->file), FALSE);
  writer->filtered = g_mime_stream_filter_new(writer->file);
  g_mime_stream_filter_add(GMIME_STREAM_FILTER(writer->filtered), dos2unix);
  g_mime_stream_filter_add(GMIME_STREAM_FILTER(writer->filtered), strip);
  errno = 0;
  if (g_mime_stream_write_string(writer->file, lines) < 0)
    return target_local_writer_fail(error, "envelope lines");
  if (trace != NULL && g_mime_stream_write_string(writer->file, trace) < 0)
    return target_local_writer_fail(error, "trace fields");
  return TRUE;
}

static gboolean
target_local_writer_failed(FarceurTargetWriter *writer, GError **error)
{
  if (writer->error == NULL)
    return FALSE;
  if (error != NULL)
    *error = g_error_copy(writer->error);
  return TRUE;
}

/**
 * farceur_target_local_writer_put:
 * @writer: a writer
 * @data: octets of the message, in order
 * @len: their count
 * @error: return location for the error
 *
 * The first failure is kept: every later write and the commit fail with it.
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_target_local_writer_put(FarceurTargetWriter *writer, const char *data, gsize len,
                                GError **error)
{
  if (target_local_writer_failed(writer, error))
    return FALSE;
  g_return_val_if_fail(!writer->finished, FALSE);
  errno = 0;
  if (g_mime_stream_write(writer->filtered, data, len) < 0) {
    target_local_writer_fail(&writer->error, "message");
    return target_local_writer_failed(writer, error);
  }
  return TRUE;
}

/* Flushes the filters: the file holds the whole message (not yet synced). */
gboolean
farceur_target_local_writer_finish(FarceurTargetWriter *writer, GError **error)
{
  if (target_local_writer_failed(writer, error))
    return FALSE;
  if (writer->finished)
    return TRUE;
  writer->finished = TRUE;
  errno = 0;
  if (g_mime_stream_flush(writer->filtered) < 0) {
    target_local_writer_fail(&writer->error, "message");
    return target_local_writer_failed(writer, error);
  }
  return TRUE;
}

/* Drops the streams and closes the file. */
void
farceur_target_local_writer_close(FarceurTargetWriter *writer)
{
  g_clear_object(&writer->filtered);
  g_clear_object(&writer->file);
  if (writer->fd >= 0)
    close(writer->fd);
  writer->fd = -1;
}

/* Frees @writer; a message not committed is removed (->writer_discard). */
void
farceur_target_local_writer_free(FarceurTargetWriter *writer)
{
  if (!writer->committed)
    writer->target->backend->writer_discard(writer);
  farceur_target_local_writer_close(writer);
  g_clear_error(&writer->error);
  g_free(writer->mail_from);
  g_free(writer->path);
  g_free(writer->name);
  g_clear_pointer(&writer->envelope, farceur_envelope_free);
  g_clear_object(&writer->message);
  g_clear_object(&writer->cancellable);
  g_free(writer);
}
