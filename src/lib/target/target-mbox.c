/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the mbox: target.  Appends "From SENDER DATE" + the message with
 * mboxrd quoting + a blank line, under the locks Debian's MDAs take (a
 * dotlock, fcntl() and flock(): see "locking" below), then fsync()s; a
 * failed or cancelled append is truncated away so the mbox never keeps half
 * a message.
 * An existing file that is not an mbox is refused.
 *
 * The writer (farceur catch) spools a message into an unlinked file beside
 * the mbox as it arrives; commits are appended in batches on a worker
 * thread, under one lock and one fsync per batch (a group commit).
 * Deliveries (send, prank) join the same batches, their parsed messages
 * written straight into the mbox, in the order given. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <lockfile.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"

#include "target-private.h"
#include "error-text.h"

#define MBOX_LOCK_TIMEOUT_MS 10000 /* the bound on waiting for another program's locks */
#define MBOX_LOCK_STEP_US 100000   /* between two rounds of tries */
#define MBOX_NFS_SUPER_MAGIC 0x6969

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
  guint lock_timeout_ms;
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

/* A file of @size octets open as @fd is an mbox when it is empty or starts
 * with a "From " line; anything else (a message file, a database) would be
 * damaged by an append, so it is refused. */
static gboolean
mbox_check_format(int fd, off_t size, const char *path, GError **error)
{
  char start[5];

  if (size == 0)
    return TRUE;
  if (pread(fd, start, sizeof start, 0) == (ssize_t)sizeof start
      && memcmp(start, "From ", sizeof start) == 0)
    return TRUE;
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT,
              "'%s' is not an mbox (its first line does not start with \"From \"): "
              "not appending to it",
              path);
  return FALSE;
}

/* Refuses at once an existing file that is not an mbox, before any delivery
 * (each append checks again under the lock). */
static gboolean
mbox_check_existing(const char *path, GError **error)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  gboolean ok;

  if (fd < 0)
    return TRUE; /* missing, or unreadable: the append will say */
  ok = fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)
       || mbox_check_format(fd, st.st_size, path, error);
  close(fd);
  return ok;
}

static gboolean
mbox_open(FarceurTarget *target, GError **error)
{
  MboxTarget *mbox = g_new0(MboxTarget, 1);
  g_autofree char *dir = NULL;

  target->priv = mbox;
  mbox->path = g_strdup(target->url->path);
  mbox->lock_timeout_ms = MBOX_LOCK_TIMEOUT_MS;
  mbox->queued = g_ptr_array_new();
  dir = g_path_get_dirname(mbox->path);
  if (g_mkdir_with_parents(dir, 0700) != 0)
    return mbox_fail(error, FARCEUR_ERROR_CANTCREAT, "create the folder of", mbox->path, errno);
  if (!mbox_check_existing(mbox->path, error))
    return FALSE;
  target->description = g_strdup_printf("mbox %s", mbox->path);
  return TRUE;
}

/**
 * farceur_target_mbox_set_lock_timeout:
 * @target: an mbox: target
 * @ms: how long an append waits for other programs' locks
 *
 * For the tests: the bound is 10 s otherwise.
 */
void
farceur_target_mbox_set_lock_timeout(FarceurTarget *target, guint ms)
{
  g_return_if_fail(target != NULL && target->backend == &farceur_target_mbox_backend);

  ((MboxTarget *)target->priv)->lock_timeout_ms = ms;
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

/* ---- locking ----
 *
 * An append holds three locks at once, as Debian's policy asks of every
 * program that touches a mailbox, and as mutt, procmail and Exim take them:
 * an fcntl() lock on the whole file; an flock() lock (programs that take
 * only that one; skipped on NFS, where Linux emulates it with an fcntl()
 * lock that would conflict with our own); the dotlock PATH.lock, made by
 * liblockfile (NFS-safe creation with link(), stale locks of dead
 * processes removed, its setgid helper where the folder is the mail
 * group's).  A round tries the three without blocking and gives back what it
 * got when one is held, so a program taking them in another order cannot
 * deadlock with us; rounds repeat until the target's bound. */

typedef enum {
  MBOX_LOCK_TAKEN,
  MBOX_LOCK_BUSY,
  MBOX_LOCK_FAILED,
} MboxLockState;

typedef struct {
  const char *path;
  char *dotlock; /* PATH.lock */
  int fd;        /* the mbox, open for appending; -1 when closed */
  gboolean use_flock;
  gboolean fcntl_held, flock_held, dotlock_held;
  char *holder; /* the lock found held last, in words, for the error */
} MboxLock;

static gboolean
mbox_lock_open(MboxLock *lock, GError **error)
{
  struct statfs fs;

  lock->fd = open(lock->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (lock->fd < 0)
    return mbox_fail(error, FARCEUR_ERROR_CANTCREAT, "open", lock->path, errno);
  lock->use_flock = fstatfs(lock->fd, &fs) != 0 || fs.f_type != MBOX_NFS_SUPER_MAGIC;
  return TRUE;
}

static void
mbox_lock_init(MboxLock *lock, const char *path)
{
  memset(lock, 0, sizeof *lock);
  lock->path = path;
  lock->dotlock = g_strconcat(path, ".lock", NULL);
  lock->fd = -1;
}

static void
mbox_set_holder(MboxLock *lock, char *holder)
{
  g_free(lock->holder);
  lock->holder = holder;
}

static MboxLockState
mbox_take_fcntl(MboxLock *lock, GError **error)
{
  struct flock want = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
  struct flock held = want;

  if (fcntl(lock->fd, F_SETLK, &want) == 0) {
    lock->fcntl_held = TRUE;
    return MBOX_LOCK_TAKEN;
  }
  if (errno != EACCES && errno != EAGAIN) {
    mbox_fail(error, FARCEUR_ERROR_IO, "lock (fcntl)", lock->path, errno);
    return MBOX_LOCK_FAILED;
  }
  if (fcntl(lock->fd, F_GETLK, &held) == 0 && held.l_type != F_UNLCK)
    mbox_set_holder(lock, g_strdup_printf("an fcntl() lock of process %d", (int)held.l_pid));
  else
    mbox_set_holder(lock, g_strdup("an fcntl() lock"));
  return MBOX_LOCK_BUSY;
}

static MboxLockState
mbox_take_flock(MboxLock *lock, GError **error)
{
  if (!lock->use_flock)
    return MBOX_LOCK_TAKEN;
  if (flock(lock->fd, LOCK_EX | LOCK_NB) == 0) {
    lock->flock_held = TRUE;
    return MBOX_LOCK_TAKEN;
  }
  if (errno != EWOULDBLOCK) {
    mbox_fail(error, FARCEUR_ERROR_IO, "lock (flock)", lock->path, errno);
    return MBOX_LOCK_FAILED;
  }
  mbox_set_holder(lock, g_strdup("an flock() lock of another process"));
  return MBOX_LOCK_BUSY;
}

/* "the dotlock 'PATH.lock' of process N": the process id, when the holder
 * wrote one, from the lock's contents. */
static char *
mbox_dotlock_holder(const char *dotlock)
{
  g_autofree char *text = NULL;
  guint64 pid;

  if (g_file_get_contents(dotlock, &text, NULL, NULL)
      && g_ascii_string_to_unsigned(g_strstrip(text), 10, 1, G_MAXINT, &pid, NULL))
    return g_strdup_printf("the dotlock '%s' of process %" G_GUINT64_FORMAT, dotlock, pid);
  return g_strdup_printf("the dotlock '%s'", dotlock);
}

static MboxLockState
mbox_take_dotlock(MboxLock *lock, GError **error)
{
  g_autofree char *dir = NULL;
  int rc = lockfile_create(lock->dotlock, 0, L_PID); /* one try: the rounds are ours */
  int saved = errno;

  if (rc == L_SUCCESS) {
    lock->dotlock_held = TRUE;
    return MBOX_LOCK_TAKEN;
  }
  if (rc == L_MAXTRYS) {
    mbox_set_holder(lock, mbox_dotlock_holder(lock->dotlock));
    return MBOX_LOCK_BUSY;
  }
  /* liblockfile's errno after its helper is not always the cause: a folder
   * we cannot write is the usual one, and says more. */
  dir = g_path_get_dirname(lock->dotlock);
  if (g_access(dir, W_OK) != 0)
    saved = errno;
  farceur_set_errno_error(error, FARCEUR_ERROR_CANTCREAT, saved ? saved : EIO,
                          "cannot lock mbox '%s': cannot create its dotlock '%s'", lock->path,
                          lock->dotlock);
  return MBOX_LOCK_FAILED;
}

/* Gives back every lock held (the dotlock first, the fcntl() lock last). */
static void
mbox_unlock(MboxLock *lock)
{
  struct flock unlock = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

  if (lock->dotlock_held)
    lockfile_remove(lock->dotlock);
  if (lock->flock_held)
    flock(lock->fd, LOCK_UN);
  if (lock->fcntl_held)
    fcntl(lock->fd, F_SETLK, &unlock);
  lock->dotlock_held = lock->flock_held = lock->fcntl_held = FALSE;
}

/* Unlocks, closes and frees. */
static void
mbox_lock_clear(MboxLock *lock)
{
  mbox_unlock(lock);
  if (lock->fd >= 0)
    close(lock->fd);
  lock->fd = -1;
  g_clear_pointer(&lock->dotlock, g_free);
  g_clear_pointer(&lock->holder, g_free);
}

/* The locked file must still be the one at the path: a program that
 * replaced the mbox while we waited (a rewrite renamed over it) would make
 * our append land in a file nobody reads. */
static MboxLockState
mbox_check_same_file(MboxLock *lock, GError **error)
{
  struct stat here, there;

  if (fstat(lock->fd, &here) != 0) {
    mbox_fail(error, FARCEUR_ERROR_IO, "stat", lock->path, errno);
    return MBOX_LOCK_FAILED;
  }
  if (g_stat(lock->path, &there) == 0 && here.st_dev == there.st_dev && here.st_ino == there.st_ino)
    return MBOX_LOCK_TAKEN;
  mbox_unlock(lock);
  close(lock->fd);
  mbox_set_holder(lock, g_strdup("another program replacing the file"));
  return mbox_lock_open(lock, error) ? MBOX_LOCK_BUSY : MBOX_LOCK_FAILED;
}

/* One round: all three locks, or none. */
static MboxLockState
mbox_lock_round(MboxLock *lock, GError **error)
{
  MboxLockState state = mbox_take_fcntl(lock, error);

  if (state == MBOX_LOCK_TAKEN)
    state = mbox_take_flock(lock, error);
  if (state == MBOX_LOCK_TAKEN)
    state = mbox_take_dotlock(lock, error);
  if (state == MBOX_LOCK_TAKEN)
    state = mbox_check_same_file(lock, error);
  if (state != MBOX_LOCK_TAKEN)
    mbox_unlock(lock);
  return state;
}

/* Opens the mbox and takes its locks, waiting up to @timeout_ms for other
 * programs to give theirs back. */
static gboolean
mbox_lock(MboxLock *lock, guint timeout_ms, GCancellable *cancellable, GError **error)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

  if (!mbox_lock_open(lock, error))
    return FALSE;
  for (;;) {
    switch (mbox_lock_round(lock, error)) {
      case MBOX_LOCK_TAKEN:
        return TRUE;
      case MBOX_LOCK_FAILED:
        return FALSE;
      case MBOX_LOCK_BUSY:
        break;
    }
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    if (g_get_monotonic_time() >= deadline) {
      g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL,
                  "cannot lock mbox '%s': still held after %u.%u s by %s", lock->path,
                  timeout_ms / 1000, timeout_ms % 1000 / 100, lock->holder);
      return FALSE;
    }
    g_usleep(MBOX_LOCK_STEP_US);
  }
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

/* Writes a delivery's message at the end of @fd (@size octets long), not
 * synced yet (mbox_batch_append()); a cancellation stops the write at the
 * next buffer. */
static gboolean
mbox_append(int fd, off_t size, const FarceurEnvelope *envelope, GMimeObject *message,
            const char *path, GCancellable *cancellable, GError **error)
{
  g_autoptr(GMimeStream) stream = farceur_target_guard_stream_new(fd, cancellable);
  g_autoptr(GMimeFilter) quote = farceur_mbox_filter_rd_new();
  g_autofree char *from_line = mbox_from_line(envelope->mail_from);
  g_autofree char *where = g_strdup_printf("mbox '%s'", path);

  errno = 0;
  if (!mbox_separate(stream, fd, size) || g_mime_stream_write_string(stream, from_line) < 0)
    return mbox_fail(error, FARCEUR_ERROR_IO, "write", path, errno ? errno : EIO);
  if (!farceur_target_write_envelope(stream, envelope, message, where, error)
      || !farceur_target_write_message(stream, message, quote, where, error))
    return FALSE;
  if (g_mime_stream_write_string(stream, "\n") < 0)
    return mbox_fail(error, FARCEUR_ERROR_IO, "write", path, errno ? errno : EIO);
  return TRUE;
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
  guint lock_timeout_ms;
  GCancellable *cancellable; /* (nullable) stops waiting for the lock: the first delivery's */
  GPtrArray *tasks;          /* the commits of this batch */
  GPtrArray *errors;         /* one GError (or NULL) per task, set by the thread */
} MboxBatch;

static void
mbox_batch_free(gpointer data)
{
  MboxBatch *batch = data;

  g_free(batch->path);
  g_clear_object(&batch->cancellable);
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

/* Appends one message of the batch: a delivery's, or a writer's spool. */
static gboolean
mbox_batch_append_one(MboxBatch *batch, FarceurTargetWriter *writer, int fd, off_t size,
                      GError **error)
{
  if (writer->envelope == NULL)
    return mbox_append_spool(fd, size, writer, batch->path, error);
  if (mbox_append(fd, size, writer->envelope, writer->message, batch->path, writer->cancellable,
                  error))
    return TRUE;
  farceur_target_local_cancelled(writer->cancellable, "the mbox was cut back to its size before",
                                 error);
  return FALSE;
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

    if (!mbox_batch_append_one(batch, writer, fd, size, &error))
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
    FarceurTargetWriter *first = g_task_get_task_data(batch->tasks->pdata[0]);
    mbox_fail(&error, farceur_target_writer_errno_code(first, errno), "sync", batch->path, errno);
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
  MboxLock lock;
  GError *error = NULL;
  struct stat st;

  mbox_lock_init(&lock, batch->path);
  if (mbox_lock(&lock, batch->lock_timeout_ms, batch->cancellable, &error)) {
    if (fstat(lock.fd, &st) != 0)
      mbox_fail(&error, FARCEUR_ERROR_IO, "stat", batch->path, errno);
    else if (mbox_check_format(lock.fd, st.st_size, batch->path, &error))
      mbox_batch_append(batch, lock.fd, st.st_size);
  }
  mbox_batch_fail(batch, 0, error);
  mbox_lock_clear(&lock);
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
  farceur_target_local_group_return(batch->tasks, batch->errors, batch->path);
}

static void
mbox_batch_start(FarceurTarget *target)
{
  MboxTarget *mbox = target->priv;
  g_autoptr(GTask) task = g_task_new(NULL, NULL, mbox_batch_done_cb, target);
  MboxBatch *batch = g_new0(MboxBatch, 1);

  batch->path = g_strdup(mbox->path);
  batch->lock_timeout_ms = mbox->lock_timeout_ms;
  batch->tasks = g_steal_pointer(&mbox->queued);
  batch->errors = farceur_target_local_group_errors_new(batch->tasks->len);
  for (guint i = 0; i < batch->tasks->len && batch->cancellable == NULL; i++) {
    FarceurTargetWriter *writer = g_task_get_task_data(batch->tasks->pdata[i]);
    if (writer->cancellable != NULL)
      batch->cancellable = g_object_ref(writer->cancellable);
  }
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
  .deliver_async = farceur_target_local_deliver_async,
  .deliver_finish = farceur_target_local_deliver_finish,
  .finalize = mbox_finalize,
  .writer_open = mbox_writer_open,
  .writer_commit = mbox_writer_commit,
  .writer_discard = mbox_writer_discard,
};
