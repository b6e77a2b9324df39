/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the mbox: target.  Appends "From SENDER DATE" + the message with
 * mboxrd quoting + a blank line, under an fcntl() write lock, then fsync()s;
 * a failed append is truncated away so the mbox never keeps half a message.
 *
 * The writer (farceur catch) spools a message into an unlinked file beside
 * the mbox as it arrives; commits are appended in batches on a worker
 * thread, under one lock and one fsync per batch (a group commit). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"

#include "target-private.h"
#include "error-text.h"

#define MBOX_LOCK_TRIES 100 /* ... of MBOX_LOCK_WAIT_US each: 10 s */
#define MBOX_LOCK_WAIT_US 100000

/* ---- mboxrd quoting ----
 *
 * Hand written: GMime's GMimeFilterFrom escapes only lines that begin with
 * "From " (mboxo), which is not reversible.  mboxrd adds one '>' to every
 * line matching /^>*From /, so a reader removes one from each and gets the
 * message back byte for byte. */

#define MBOX_TYPE_FILTER_RD (mbox_filter_rd_get_type())
G_DECLARE_FINAL_TYPE(MboxFilterRd, mbox_filter_rd, MBOX, FILTER_RD, GMimeFilter)

struct _MboxFilterRd {
  GMimeFilter parent;
  gboolean midline; /* past the start of the current line: copy bytes through */
  gsize gt;         /* '>' seen at the start of the line, not yet written */
  guint from;       /* bytes of "From " matched after them, not yet written */
};

G_DEFINE_FINAL_TYPE(MboxFilterRd, mbox_filter_rd, GMIME_TYPE_FILTER)

static const char mbox_from[] = "From ";

/* Writes the held-back line start, with one more '>' when it is to be quoted.
 * Holding back a count instead of backing up input keeps a line of a million
 * '>' in constant memory. */
static char *
mbox_filter_rd_release(MboxFilterRd *self, char *out, gboolean quote)
{
  if (quote)
    *out++ = '>';
  memset(out, '>', self->gt);
  out += self->gt;
  memcpy(out, mbox_from, self->from);
  out += self->from;
  self->gt = 0;
  self->from = 0;
  return out;
}

static char *
mbox_filter_rd_step(MboxFilterRd *self, char *out, char c)
{
  if (!self->midline) {
    if (self->from == 0 && c == '>') {
      self->gt++;
      return out;
    }
    if (c == mbox_from[self->from]) {
      if (++self->from == sizeof mbox_from - 1) {
        self->midline = TRUE;
        return mbox_filter_rd_release(self, out, TRUE);
      }
      return out;
    }
    out = mbox_filter_rd_release(self, out, FALSE);
  }
  *out++ = c;
  self->midline = c != '\n';
  return out;
}

static void
mbox_filter_rd_run(GMimeFilter *filter, char *inbuf, size_t inlen, size_t prespace, char **outbuf,
                   size_t *outlen, size_t *outprespace, gboolean flush)
{
  MboxFilterRd *self = MBOX_FILTER_RD(filter);
  char *out;

  g_mime_filter_set_size(filter, 2 * (inlen + self->gt) + 16, FALSE);
  out = filter->outbuf;
  for (size_t i = 0; i < inlen; i++)
    out = mbox_filter_rd_step(self, out, inbuf[i]);
  if (flush)
    out = mbox_filter_rd_release(self, out, FALSE);
  *outbuf = filter->outbuf;
  *outlen = out - filter->outbuf;
  *outprespace = filter->outpre;
}

static void
mbox_filter_rd_filter(GMimeFilter *filter, char *inbuf, size_t inlen, size_t prespace,
                      char **outbuf, size_t *outlen, size_t *outprespace)
{
  mbox_filter_rd_run(filter, inbuf, inlen, prespace, outbuf, outlen, outprespace, FALSE);
}

static void
mbox_filter_rd_complete(GMimeFilter *filter, char *inbuf, size_t inlen, size_t prespace,
                        char **outbuf, size_t *outlen, size_t *outprespace)
{
  mbox_filter_rd_run(filter, inbuf, inlen, prespace, outbuf, outlen, outprespace, TRUE);
}

static void
mbox_filter_rd_reset(GMimeFilter *filter)
{
  MboxFilterRd *self = MBOX_FILTER_RD(filter);

  self->midline = FALSE;
  self->gt = 0;
  self->from = 0;
}

static GMimeFilter *
mbox_filter_rd_copy(GMimeFilter *filter)
{
  return g_object_new(MBOX_TYPE_FILTER_RD, NULL);
}

static void
mbox_filter_rd_class_init(MboxFilterRdClass *klass)
{
  GMimeFilterClass *filter_class = GMIME_FILTER_CLASS(klass);

  filter_class->copy = mbox_filter_rd_copy;
  filter_class->filter = mbox_filter_rd_filter;
  filter_class->complete = mbox_filter_rd_complete;
  filter_class->reset = mbox_filter_rd_reset;
}

static void
mbox_filter_rd_init(MboxFilterRd *self)
{
}

GMimeFilter *
farceur_mbox_filter_rd_new(void)
{
  return g_object_new(MBOX_TYPE_FILTER_RD, NULL);
}

/* ---- the target ---- */

typedef struct {
  char *path;
  /* the writers' group commit: commit tasks waiting, and whether a batch
   * is being appended */
  GPtrArray *queued;
  gboolean appending;
} MboxTarget;

static const char *const mbox_schemes[] = { "mbox", NULL };

static gboolean
mbox_fail(GError **error, int code, const char *what, const char *path, int saved_errno)
{
  farceur_set_errno_error(error, code, saved_errno, "cannot %s mbox '%s'", what, path);
  return FALSE;
}

static gboolean
mbox_open(FarceurTarget *target, GError **error)
{
  MboxTarget *mbox = g_new0(MboxTarget, 1);
  g_autofree char *dir = NULL;

  target->priv = mbox;
  mbox->path = g_strdup(target->url->path);
  mbox->queued = g_ptr_array_new();
  dir = g_path_get_dirname(mbox->path);
  if (g_mkdir_with_parents(dir, 0700) != 0)
    return mbox_fail(error, FARCEUR_ERROR_CANTCREAT, "create the folder of", mbox->path, errno);
  target->description = g_strdup_printf("mbox %s", mbox->path);
  return TRUE;
}

/* "From SENDER Mon Nov 23 02:12:48 2026": the asctime() layout, in English
 * whatever the locale (hand written: GDateTime's %a and %b are localised). */
static char *
mbox_from_line(const char *sender)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[]
      = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();

  return g_strdup_printf(
      "From %s %s %s %2d %02d:%02d:%02d %d\n", sender[0] ? sender : "MAILER-DAEMON",
      days[g_date_time_get_day_of_week(now) - 1], months[g_date_time_get_month(now) - 1],
      g_date_time_get_day_of_month(now), g_date_time_get_hour(now), g_date_time_get_minute(now),
      g_date_time_get_second(now), g_date_time_get_year(now));
}

/* Waits for an exclusive fcntl() lock on the whole file, up to about 10 s. */
static gboolean
mbox_lock(int fd, const char *path, GCancellable *cancellable, GError **error)
{
  struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

  for (int i = 0; i < MBOX_LOCK_TRIES; i++) {
    if (fcntl(fd, F_SETLK, &lock) == 0)
      return TRUE;
    if (errno != EACCES && errno != EAGAIN)
      return mbox_fail(error, FARCEUR_ERROR_IO, "lock", path, errno);
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    g_usleep(MBOX_LOCK_WAIT_US);
  }
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL,
              "cannot lock mbox '%s': still locked by another process after 10 s", path);
  return FALSE;
}

/* A new message must follow a blank line; repairs an mbox that lacks it. */
static gboolean
mbox_separate(GMimeStream *stream, int fd, off_t size)
{
  char tail[2] = { '\n', '\n' };
  ssize_t n;

  if (size == 0)
    return TRUE;
  n = pread(fd, tail + 2 - MIN(size, 2), MIN(size, 2), size - MIN(size, 2));
  if (n < 0)
    return FALSE;
  if (tail[1] != '\n')
    return g_mime_stream_write_string(stream, "\n\n") >= 0;
  if (tail[0] != '\n')
    return g_mime_stream_write_string(stream, "\n") >= 0;
  return TRUE;
}

static gboolean
mbox_append(int fd, off_t size, const FarceurEnvelope *envelope, GMimeObject *message,
            const char *path, GError **error)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_fs_new(fd);
  g_autoptr(GMimeFilter) quote = farceur_mbox_filter_rd_new();
  g_autofree char *from_line = mbox_from_line(envelope->mail_from);

  g_mime_stream_fs_set_owner(GMIME_STREAM_FS(stream), FALSE);
  errno = 0;
  if (!mbox_separate(stream, fd, size) || g_mime_stream_write_string(stream, from_line) < 0)
    return mbox_fail(error, FARCEUR_ERROR_IO, "write", path, errno ? errno : EIO);
  if (!farceur_target_write_envelope(stream, envelope, message, error)
      || !farceur_target_write_message(stream, message, quote, error))
    return FALSE;
  if (g_mime_stream_write_string(stream, "\n") < 0)
    return mbox_fail(error, FARCEUR_ERROR_IO, "write", path, errno ? errno : EIO);
  if (fsync(fd) != 0)
    return mbox_fail(error, FARCEUR_ERROR_IO, "sync", path, errno);
  return TRUE;
}

static gboolean
mbox_deliver(FarceurTarget *target, const FarceurEnvelope *envelope, GMimeObject *message,
             FarceurDelivery **delivery, GCancellable *cancellable, GError **error)
{
  MboxTarget *mbox = target->priv;
  int fd = open(mbox->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  struct stat st;
  gboolean ok;

  if (fd < 0)
    return mbox_fail(error, FARCEUR_ERROR_CANTCREAT, "open", mbox->path, errno);
  if (!mbox_lock(fd, mbox->path, cancellable, error)) {
    close(fd);
    return FALSE;
  }
  if (fstat(fd, &st) != 0) {
    ok = mbox_fail(error, FARCEUR_ERROR_IO, "stat", mbox->path, errno);
  } else {
    ok = mbox_append(fd, st.st_size, envelope, message, mbox->path, error);
    if (!ok && ftruncate(fd, st.st_size) != 0)
      g_prefix_error(error, "(and could not remove the partial message) ");
  }
  close(fd); /* also releases the lock */
  if (ok)
    *delivery = farceur_target_local_delivery(envelope, mbox->path);
  return ok;
}

/* ---- the writer and its group commit ---- */

/* The spool: an unlinked file beside the mbox (the same file system, so a
 * full disk shows while the message arrives). */
static gboolean
mbox_writer_open(FarceurTarget *target, FarceurTargetWriter *writer, GError **error)
{
  MboxTarget *mbox = target->priv;
  g_autofree char *dir = g_path_get_dirname(mbox->path);
  g_autofree char *tmpl = g_build_filename(dir, ".farceur-spool-XXXXXX", NULL);

  writer->fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
  if (writer->fd < 0)
    return mbox_fail(error, FARCEUR_ERROR_CANTCREAT, "create a spool file beside", mbox->path,
                     errno);
  g_unlink(tmpl);
  return TRUE;
}

static void
mbox_writer_discard(FarceurTargetWriter *writer)
{
  farceur_target_local_writer_close(writer);
}

/* Appends one spooled message at the end of @fd (@size octets long). */
static gboolean
mbox_append_spool(int fd, off_t size, FarceurTargetWriter *writer, const char *path, GError **error)
{
  g_autoptr(GMimeStream) out = g_mime_stream_fs_new(fd);
  g_autoptr(GMimeStream) spool = NULL;
  g_autoptr(GMimeStream) quoted = NULL;
  g_autoptr(GMimeFilter) quote = farceur_mbox_filter_rd_new();
  g_autofree char *from_line = mbox_from_line(writer->mail_from);

  g_mime_stream_fs_set_owner(GMIME_STREAM_FS(out), FALSE);
  if (lseek(writer->fd, 0, SEEK_SET) != 0)
    return mbox_fail(error, FARCEUR_ERROR_IO, "read the spool of", path, errno);
  spool = g_mime_stream_fs_new(writer->fd);
  g_mime_stream_fs_set_owner(GMIME_STREAM_FS(spool), FALSE);
  quoted = g_mime_stream_filter_new(out);
  g_mime_stream_filter_add(GMIME_STREAM_FILTER(quoted), quote);
  errno = 0;
  if (!mbox_separate(out, fd, size) || g_mime_stream_write_string(out, from_line) < 0
      || g_mime_stream_write_to_stream(spool, quoted) < 0 || g_mime_stream_flush(quoted) < 0
      || g_mime_stream_write_string(out, "\n") < 0)
    return mbox_fail(error, farceur_target_errno_code(errno ? errno : EIO), "write", path,
                     errno ? errno : EIO);
  return TRUE;
}

typedef struct {
  char *path;
  GPtrArray *tasks;  /* the commits of this batch */
  GPtrArray *errors; /* one GError (or NULL) per task, set by the thread */
} MboxBatch;

static void
mbox_error_free(gpointer error)
{
  if (error != NULL)
    g_error_free(error);
}

static void
mbox_batch_free(gpointer data)
{
  MboxBatch *batch = data;

  g_free(batch->path);
  g_ptr_array_unref(batch->tasks);
  g_ptr_array_unref(batch->errors);
  g_free(batch);
}

/* Takes @error (nullable) as the outcome of every message from @from on
 * that has none yet. */
static void
mbox_batch_fail(MboxBatch *batch, guint from, GError *error)
{
  for (guint i = from; error != NULL && i < batch->tasks->len; i++)
    if (batch->errors->pdata[i] == NULL)
      batch->errors->pdata[i] = g_error_copy(error);
  g_clear_error(&error);
}

/* Every message of the batch, then one fsync.  A message that cannot be
 * appended is cut off again and fails with every later one; a failed fsync
 * cuts off and fails the whole batch. */
static void
mbox_batch_append(MboxBatch *batch, int fd, off_t start)
{
  off_t size = start;
  GError *error = NULL;
  struct stat st;
  guint done;

  for (done = 0; done < batch->tasks->len; done++) {
    FarceurTargetWriter *writer = g_task_get_task_data(batch->tasks->pdata[done]);

    if (!mbox_append_spool(fd, size, writer, batch->path, &error))
      break;
    if (fstat(fd, &st) != 0) {
      mbox_fail(&error, FARCEUR_ERROR_IO, "stat", batch->path, errno);
      break;
    }
    size = st.st_size;
  }
  if (error != NULL && ftruncate(fd, size) != 0)
    g_prefix_error(&error, "(and could not remove the partial message) ");
  mbox_batch_fail(batch, done, g_steal_pointer(&error));
  if (done > 0 && fsync(fd) != 0) {
    mbox_fail(&error, farceur_target_errno_code(errno), "sync", batch->path, errno);
    if (ftruncate(fd, start) != 0)
      g_prefix_error(&error, "(and could not remove the partial messages) ");
    mbox_batch_fail(batch, 0, g_steal_pointer(&error));
  }
}

/* On a worker thread: task data is the batch. */
static void
mbox_batch_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  MboxBatch *batch = data;
  int fd = open(batch->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  GError *error = NULL;
  struct stat st;

  if (fd < 0)
    mbox_fail(&error, FARCEUR_ERROR_CANTCREAT, "open", batch->path, errno);
  else if (mbox_lock(fd, batch->path, NULL, &error) && fstat(fd, &st) != 0)
    mbox_fail(&error, FARCEUR_ERROR_IO, "stat", batch->path, errno);
  if (error == NULL)
    mbox_batch_append(batch, fd, st.st_size);
  mbox_batch_fail(batch, 0, error);
  if (fd >= 0)
    close(fd); /* also releases the lock */
  g_task_return_boolean(task, TRUE);
}

static void mbox_batch_start(FarceurTarget *target);

static void
mbox_batch_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  FarceurTarget *target = user_data;
  MboxTarget *mbox = target->priv;
  MboxBatch *batch = g_task_get_task_data(G_TASK(result));

  mbox->appending = FALSE;
  if (mbox->queued->len > 0)
    mbox_batch_start(target);
  for (guint i = 0; i < batch->tasks->len; i++) {
    GTask *task = batch->tasks->pdata[i];
    FarceurTargetWriter *writer = g_task_get_task_data(task);

    farceur_target_local_writer_close(writer);
    if (batch->errors->pdata[i] != NULL)
      g_task_return_error(task, g_steal_pointer(&batch->errors->pdata[i]));
    else
      g_task_return_pointer(task, g_strdup(batch->path), g_free);
    g_object_unref(task);
  }
}

static void
mbox_batch_start(FarceurTarget *target)
{
  MboxTarget *mbox = target->priv;
  g_autoptr(GTask) task = g_task_new(NULL, NULL, mbox_batch_done_cb, target);
  MboxBatch *batch = g_new0(MboxBatch, 1);

  batch->path = g_strdup(mbox->path);
  batch->tasks = g_steal_pointer(&mbox->queued);
  batch->errors = g_ptr_array_new_full(batch->tasks->len, mbox_error_free);
  g_ptr_array_set_size(batch->errors, batch->tasks->len);
  mbox->queued = g_ptr_array_new();
  mbox->appending = TRUE;
  g_task_set_task_data(task, batch, mbox_batch_free);
  g_task_run_in_thread(task, mbox_batch_thread);
}

static void
mbox_writer_commit(FarceurTargetWriter *writer, GTask *task)
{
  MboxTarget *mbox = writer->target->priv;

  g_ptr_array_add(mbox->queued, task);
  if (!mbox->appending)
    mbox_batch_start(writer->target);
}

static void
mbox_finalize(FarceurTarget *target)
{
  MboxTarget *mbox = target->priv;

  if (mbox == NULL)
    return;
  g_assert(!mbox->appending && mbox->queued->len == 0); /* no commit outlives its target */
  g_free(mbox->path);
  g_ptr_array_unref(mbox->queued);
  g_free(mbox);
}

const FarceurTargetBackend farceur_target_mbox_backend = {
  .name = "mbox",
  .schemes = mbox_schemes,
  .open = mbox_open,
  .deliver = mbox_deliver,
  .finalize = mbox_finalize,
  .writer_open = mbox_writer_open,
  .writer_commit = mbox_writer_commit,
  .writer_discard = mbox_writer_discard,
};
