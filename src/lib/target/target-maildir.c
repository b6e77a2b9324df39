/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the maildir: target.  One file per message, written into tmp/,
 * synced, then renamed into new/, as the Maildir specification says
 * (https://cr.yp.to/proto/maildir.html); new/ is synced so that the rename
 * lasts.
 *
 * Every message goes through one group commit: the writers of farceur
 * catch (a message stored as it arrives) and the deliveries of send and
 * prank (a parsed message, written into tmp/ by the commit).  The commits
 * asked for while a group is under way form the next group; on a worker
 * thread, its deliveries are written in order, every file is synced, all
 * are renamed into new/ and new/ is synced once; only then are they
 * reported stored (data/doc/formats.md). */
#define _GNU_SOURCE /* syncfs() */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"

#include "target-private.h"
#include "error-text.h"

typedef struct {
  char *dir;
  char *new_dir; /* DIR/new */
  char *host;    /* this host's name with '/' and ':' escaped */
  gint seq;      /* deliveries through this target, the Q part of the name (atomic:
                  * deliveries run on a worker thread, writers in the caller's) */
  /* the writers' group commit: commit tasks waiting for the next group, and
   * whether a group is being committed */
  GPtrArray *waiting;
  gboolean syncing;
} MaildirTarget;

static const char *const maildir_schemes[] = { "maildir", NULL };

static gboolean
maildir_fail(GError **error, int code, const char *what, const char *path, int saved_errno)
{
  farceur_set_errno_error(error, code, saved_errno, "cannot %s '%s'", what, path);
  return FALSE;
}

/* The spec asks for '/' and ':' in the host name to become \057 and \072. */
static char *
maildir_escape_host(const char *host)
{
  GString *out = g_string_new(NULL);

  for (const char *p = host; *p; p++) {
    if (*p == '/')
      g_string_append(out, "\\057");
    else if (*p == ':')
      g_string_append(out, "\\072");
    else
      g_string_append_c(out, *p);
  }
  return g_string_free(out, FALSE);
}

static gboolean
maildir_open(FarceurTarget *target, GError **error)
{
  static const char *const subdirs[] = { "tmp", "new", "cur" };
  MaildirTarget *md = g_new0(MaildirTarget, 1);

  target->priv = md;
  md->dir = g_strdup(target->url->path);
  md->new_dir = g_build_filename(md->dir, "new", NULL);
  md->waiting = g_ptr_array_new();
  md->host = maildir_escape_host(g_get_host_name());
  for (gsize i = 0; i < G_N_ELEMENTS(subdirs); i++) {
    g_autofree char *sub = g_build_filename(md->dir, subdirs[i], NULL);
    if (g_mkdir_with_parents(sub, 0700) != 0)
      return maildir_fail(error, FARCEUR_ERROR_CANTCREAT, "create Maildir folder", sub, errno);
  }
  target->description = g_strdup_printf("Maildir %s", md->dir);
  return TRUE;
}

/* Creates tmp/TIME.MusecPpidQseq.HOST exclusively; a clash (same microsecond,
 * another target in this process) moves on to the next sequence number. */
static int
maildir_create_tmp(MaildirTarget *md, char **name, char **tmp_path, GError **error)
{
  for (int attempt = 0; attempt < 100; attempt++) {
    gint64 now = g_get_real_time();
    int fd;
    *name = g_strdup_printf("%" G_GINT64_FORMAT ".M%06dP%dQ%u.%s", now / G_USEC_PER_SEC,
                            (int)(now % G_USEC_PER_SEC), (int)getpid(),
                            (guint)g_atomic_int_add(&md->seq, 1) + 1, md->host);
    *tmp_path = g_build_filename(md->dir, "tmp", *name, NULL);
    fd = open(*tmp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
      return fd;
    if (errno != EEXIST) {
      maildir_fail(error, FARCEUR_ERROR_CANTCREAT, "create", *tmp_path, errno);
      return -1;
    }
    g_clear_pointer(name, g_free);
    g_clear_pointer(tmp_path, g_free);
  }
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT,
              "cannot find a unique file name in '%s/tmp'", md->dir);
  return -1;
}

/* Makes the rename into new/ durable. */
static gboolean
maildir_sync_dir(const char *dir, GError **error)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int saved;

  if (fd < 0)
    return maildir_fail(error, FARCEUR_ERROR_IO, "open", dir, errno);
  if (fsync(fd) == 0) {
    close(fd);
    return TRUE;
  }
  saved = errno;
  close(fd);
  return maildir_fail(error, FARCEUR_ERROR_IO, "sync", dir, saved);
}

/* ---- the writer and its group commit ---- */

static gboolean
maildir_writer_open(FarceurTarget *target, FarceurTargetWriter *writer, GError **error)
{
  writer->fd = maildir_create_tmp(target->priv, &writer->name, &writer->path, error);
  return writer->fd >= 0;
}

static void
maildir_writer_discard(FarceurTargetWriter *writer)
{
  farceur_target_local_writer_close(writer);
  if (writer->path != NULL)
    g_unlink(writer->path);
}

/* One group commit: the writers' commit tasks, and the outcome of each
 * (NULL: stored; set by the thread). */
typedef struct {
  MaildirTarget *md; /* only what stays put: dir, host, seq (atomic) */
  char *new_dir;
  GPtrArray *tasks;
  GPtrArray *errors;
} MaildirGroup;

static void
maildir_group_free(gpointer data)
{
  MaildirGroup *group = data;

  g_free(group->new_dir);
  g_ptr_array_unref(group->tasks);
  g_ptr_array_unref(group->errors);
  g_free(group);
}

static FarceurTargetWriter *
maildir_group_writer(MaildirGroup *group, guint i)
{
  return g_task_get_task_data(group->tasks->pdata[i]);
}

/* A delivery's message written into tmp/ (not synced).  A cancellation
 * stops the write at the next buffer; a message not written whole leaves
 * nothing: its file in tmp/ goes. */
static gboolean
maildir_write_delivery(MaildirTarget *md, FarceurTargetWriter *writer, GError **error)
{
  g_autofree char *where = g_strdup_printf("Maildir '%s'", md->dir);
  g_autoptr(GMimeStream) guard = NULL;
  g_autoptr(GMimeStream) stream = NULL;

  writer->fd = maildir_create_tmp(md, &writer->name, &writer->path, error);
  if (writer->fd < 0)
    return FALSE;
  /* GMime writes a message in many small pieces: in blocks, a few calls */
  guard = farceur_target_guard_stream_new(writer->fd, writer->cancellable);
  stream = g_mime_stream_buffer_new(guard, GMIME_STREAM_BUFFER_BLOCK_WRITE);
  errno = 0;
  if (farceur_target_write_envelope(stream, writer->envelope, writer->message, where, error)
      && farceur_target_write_message(stream, writer->message, NULL, where, error)
      && (g_mime_stream_flush(stream) == 0 || farceur_target_local_fail(error, where)))
    return TRUE;
  farceur_target_local_writer_close(writer);
  g_unlink(writer->path);
  g_clear_pointer(&writer->path, g_free);
  farceur_target_local_cancelled(writer->cancellable, "the partial file in tmp/ was removed",
                                 error);
  return FALSE;
}

/* Writes the group's deliveries, in order. */
static void
maildir_group_write(MaildirGroup *group)
{
  for (guint i = 0; i < group->tasks->len; i++) {
    FarceurTargetWriter *writer = maildir_group_writer(group, i);
    GError *error = NULL;

    if (writer->message == NULL)
      continue; /* farceur catch's: written as it arrived */
    if (!maildir_write_delivery(group->md, writer, &error))
      group->errors->pdata[i] = error;
    g_clear_object(&writer->message); /* in the file now, or failed */
  }
}

/* The first file of the group still to sync, and how many there are. */
static FarceurTargetWriter *
maildir_group_first(MaildirGroup *group, guint *count)
{
  FarceurTargetWriter *first = NULL;

  *count = 0;
  for (guint i = 0; i < group->tasks->len; i++)
    if (group->errors->pdata[i] == NULL && (*count)++ == 0)
      first = maildir_group_writer(group, i);
  return first;
}

/* Syncs every file of the group: one file, with fsync(); several, with one
 * syncfs() of their file system, which writes them all, commits the journal
 * once and flushes the disk's cache once, where an fsync() per file flushes
 * the cache for each (1,333 files of 4 KB on ext4 in groups of 32, measured
 * with tools/bench/bulk's machine busy: 5.3 s with an fsync() per file,
 * 0.48 s with syncfs(); 9.9 s with one fsync() per message and its own sync
 * of new/).  syncfs() reports the writeback errors of the file system
 * since Linux 5.8: one fails the whole group.  Hand written for want of a
 * GLib call: GIO has no sync of a group or of a file system. */
static void
maildir_group_sync_files(MaildirGroup *group)
{
  guint count;
  FarceurTargetWriter *first = maildir_group_first(group, &count);
  int fs_errno = count > 1 && syncfs(first->fd) != 0 ? errno : 0;

  for (guint i = 0; i < group->tasks->len; i++) {
    FarceurTargetWriter *writer = maildir_group_writer(group, i);
    GError *error = NULL;
    int fd = writer->fd;

    if (group->errors->pdata[i] != NULL)
      continue;
    writer->fd = -1;
    if (fs_errno != 0)
      maildir_fail(&error, farceur_target_writer_errno_code(writer, fs_errno),
                   "sync the file system of", writer->path, fs_errno);
    else if (count == 1 && fsync(fd) != 0)
      maildir_fail(&error, farceur_target_writer_errno_code(writer, errno), "sync", writer->path,
                   errno);
    if (close(fd) != 0 && error == NULL)
      maildir_fail(&error, FARCEUR_ERROR_IO, "close", writer->path, errno);
    group->errors->pdata[i] = error;
  }
}

/* Moves every synced file into new/ (writer->path follows it); returns
 * whether any moved. */
static gboolean
maildir_group_publish(MaildirGroup *group)
{
  gboolean moved = FALSE;

  for (guint i = 0; i < group->tasks->len; i++) {
    FarceurTargetWriter *writer = maildir_group_writer(group, i);
    g_autofree char *new_path = g_build_filename(group->new_dir, writer->name, NULL);
    GError *error = NULL;

    if (group->errors->pdata[i] != NULL)
      continue;
    if (g_rename(writer->path, new_path) != 0) {
      maildir_fail(&error, FARCEUR_ERROR_CANTCREAT, "move message into", group->new_dir, errno);
      group->errors->pdata[i] = error;
      continue;
    }
    g_free(writer->path);
    writer->path = g_steal_pointer(&new_path);
    moved = TRUE;
  }
  return moved;
}

/* On a worker thread: the deliveries' files written, every file synced,
 * their renames into new/, one sync of new/.
 * The rename into new/ that did not last leaves the message not there for
 * the client, who will send it again: it is taken out. */
static void
maildir_group_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  MaildirGroup *group = data;
  GError *error = NULL;

  maildir_group_write(group);
  maildir_group_sync_files(group);
  if (maildir_group_publish(group) && !maildir_sync_dir(group->new_dir, &error)) {
    for (guint i = 0; i < group->tasks->len; i++) {
      if (group->errors->pdata[i] != NULL)
        continue;
      g_unlink(maildir_group_writer(group, i)->path);
      group->errors->pdata[i] = g_error_copy(error);
    }
    g_error_free(error);
  }
  g_task_return_boolean(task, TRUE);
}

static void maildir_group_start(FarceurTarget *target);

static void
maildir_group_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  FarceurTarget *target = user_data;
  MaildirTarget *md = target->priv;
  MaildirGroup *group = g_task_get_task_data(G_TASK(result));

  md->syncing = FALSE;
  farceur_target_local_group_return(group->tasks, group->errors, NULL);
  if (md->waiting->len > 0 && !md->syncing)
    maildir_group_start(target);
}

/* Commits the writers waiting, up to MAILDIR_GROUP_MAX, as one group: the
 * rest wait for the next, and the caller meanwhile hands out more (the
 * batch keeps twice as many in flight), so that its work and the group's
 * overlap. */
#define MAILDIR_GROUP_MAX 32

static void
maildir_group_start(FarceurTarget *target)
{
  MaildirTarget *md = target->priv;
  g_autoptr(GTask) task = g_task_new(NULL, NULL, maildir_group_done_cb, target);
  MaildirGroup *group = g_new0(MaildirGroup, 1);
  guint take = MIN(md->waiting->len, MAILDIR_GROUP_MAX);

  group->md = md;
  group->new_dir = g_strdup(md->new_dir);
  group->tasks = g_ptr_array_new();
  for (guint i = 0; i < take; i++)
    g_ptr_array_add(group->tasks, md->waiting->pdata[i]);
  g_ptr_array_remove_range(md->waiting, 0, take);
  group->errors = farceur_target_local_group_errors_new(group->tasks->len);
  md->syncing = TRUE;
  g_task_set_task_data(task, group, maildir_group_free);
  g_task_run_in_thread(task, maildir_group_thread);
}

static void
maildir_writer_commit(FarceurTargetWriter *writer, GTask *task)
{
  MaildirTarget *md = writer->target->priv;

  g_ptr_array_add(md->waiting, task);
  if (!md->syncing)
    maildir_group_start(writer->target);
}

static void
maildir_finalize(FarceurTarget *target)
{
  MaildirTarget *md = target->priv;

  if (md == NULL)
    return;
  /* no commit outlives its target */
  g_assert(!md->syncing && md->waiting->len == 0);
  g_free(md->dir);
  g_free(md->new_dir);
  g_free(md->host);
  g_ptr_array_unref(md->waiting);
  g_free(md);
}

const FarceurTargetBackend farceur_target_maildir_backend = {
  .name = "maildir",
  .schemes = maildir_schemes,
  .open = maildir_open,
  .deliver_async = farceur_target_local_deliver_async,
  .deliver_finish = farceur_target_local_deliver_finish,
  .finalize = maildir_finalize,
  .writer_open = maildir_writer_open,
  .writer_commit = maildir_writer_commit,
  .writer_discard = maildir_writer_discard,
};
