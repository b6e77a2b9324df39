/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the maildir: target.  One file per message, written into tmp/,
 * synced, then renamed into new/, as the Maildir specification says
 * (https://cr.yp.to/proto/maildir.html); new/ is synced so that the rename
 * lasts.
 *
 * The writer (farceur catch) does the same with a group commit, for many
 * sessions storing at once: each file is synced on a worker thread, where
 * concurrent syncs share the file system's journal commits, then renamed
 * into new/ back in the caller's context; one sync of new/ covers every
 * rename made while the previous one ran, and only then are the messages
 * reported stored.  Deliveries (send, prank) go the same way, their messages
 * written into tmp/ first (data/doc/formats.md). */
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
  /* the writers' group commit: commit tasks renamed into new/ and waiting
   * for the next sync of new/, and those the sync under way covers (NULL:
   * none under way) */
  GPtrArray *waiting;
  GPtrArray *syncing;
  /* deliveries: waiting to be written into tmp/, one at a time and in
   * order, and whether one is being written */
  GQueue writes;
  gboolean writing;
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

/* Moves tmp/NAME into new/; *new_path is where it is now. */
static gboolean
maildir_publish(MaildirTarget *md, const char *name, const char *tmp_path, char **new_path,
                GError **error)
{
  *new_path = g_build_filename(md->new_dir, name, NULL);
  if (g_rename(tmp_path, *new_path) != 0)
    return maildir_fail(error, FARCEUR_ERROR_CANTCREAT, "move message into", md->new_dir, errno);
  return TRUE;
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

/* On a worker thread: task data is the writer, left alone by its owner. */
static void
maildir_fsync_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  FarceurTargetWriter *writer = data;
  GError *error = NULL;

  if (fsync(writer->fd) != 0) {
    maildir_fail(&error, farceur_target_writer_errno_code(writer, errno), "sync", writer->path,
                 errno);
    g_task_return_error(task, error);
    return;
  }
  g_task_return_boolean(task, TRUE);
}

/* On a worker thread: task data is the folder. */
static void
maildir_dir_sync_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GError *error = NULL;

  if (maildir_sync_dir(data, &error))
    g_task_return_boolean(task, TRUE);
  else
    g_task_return_error(task, error);
}

static void maildir_dir_synced_cb(GObject *source, GAsyncResult *result, gpointer user_data);

/* Starts the sync of new/ that covers every rename waiting for one. */
static void
maildir_dir_sync_start(FarceurTarget *target)
{
  MaildirTarget *md = target->priv;
  g_autoptr(GTask) task = g_task_new(NULL, NULL, maildir_dir_synced_cb, target);

  md->syncing = g_steal_pointer(&md->waiting);
  md->waiting = g_ptr_array_new();
  g_task_set_task_data(task, g_strdup(md->new_dir), g_free);
  g_task_run_in_thread(task, maildir_dir_sync_thread);
}

/* The rename into new/ did not last: the message is not there for the
 * client, who will send it again; take it out. */
static void
maildir_commit_return(GTask *task, const GError *error)
{
  FarceurTargetWriter *writer = g_task_get_task_data(task);

  if (error != NULL) {
    g_unlink(writer->path);
    g_task_return_error(task, g_error_copy(error));
  } else {
    g_task_return_pointer(task, g_strdup(writer->path), g_free);
  }
  g_object_unref(task);
}

static void
maildir_dir_synced_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  FarceurTarget *target = user_data;
  MaildirTarget *md = target->priv;
  g_autoptr(GPtrArray) done = g_steal_pointer(&md->syncing);
  g_autoptr(GError) error = NULL;

  g_task_propagate_boolean(G_TASK(result), &error);
  if (md->waiting->len > 0)
    maildir_dir_sync_start(target);
  for (guint i = 0; i < done->len; i++)
    maildir_commit_return(done->pdata[i], error);
}

/* The file is synced: close it, move it into new/, and wait for a sync of new/. */
static void
maildir_file_synced_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data; /* the commit */
  FarceurTargetWriter *writer = g_task_get_task_data(task);
  MaildirTarget *md = writer->target->priv;
  g_autofree char *new_path = NULL;
  GError *error = NULL;
  int fd = writer->fd;

  writer->fd = -1;
  farceur_target_local_writer_close(writer);
  if (!g_task_propagate_boolean(G_TASK(result), &error)
      || (close(fd) != 0 && !maildir_fail(&error, FARCEUR_ERROR_IO, "close", writer->path, errno))
      || !maildir_publish(md, writer->name, writer->path, &new_path, &error)) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  g_free(writer->path);
  writer->path = g_steal_pointer(&new_path);
  g_ptr_array_add(md->waiting, task);
  if (md->syncing == NULL)
    maildir_dir_sync_start(writer->target);
}

static void
maildir_writer_commit(FarceurTargetWriter *writer, GTask *task)
{
  g_autoptr(GTask) sync = g_task_new(NULL, NULL, maildir_file_synced_cb, task);

  g_task_set_task_data(sync, writer, NULL);
  g_task_run_in_thread(sync, maildir_fsync_thread);
}

/* ---- deliveries ----
 *
 * Each message is written into tmp/ on a worker thread, one at a time and in
 * order, then committed as a writer's: deliveries in flight together share the syncs of new/. */

/* On a worker thread: task data is the delivery's writer.  A cancellation
 * stops the write at the next buffer. */
static void
maildir_write_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  FarceurTargetWriter *writer = data;
  MaildirTarget *md = writer->target->priv;
  g_autofree char *where = g_strdup_printf("Maildir '%s'", md->dir);
  g_autoptr(GMimeStream) stream = NULL;
  GError *error = NULL;

  if (!maildir_writer_open(writer->target, writer, &error)) {
    g_task_return_error(task, error);
    return;
  }
  stream = farceur_target_guard_stream_new(writer->fd, writer->cancellable);
  if (!farceur_target_write_envelope(stream, writer->envelope, writer->message, where, &error)
      || !farceur_target_write_message(stream, writer->message, NULL, where, &error)) {
    g_task_return_error(task, error);
    return;
  }
  g_task_return_boolean(task, TRUE);
}

static void maildir_write_next(MaildirTarget *md);

static void
maildir_written_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data; /* the delivery */
  FarceurTargetWriter *writer = g_task_get_task_data(task);
  MaildirTarget *md = writer->target->priv;
  GError *error = NULL;

  md->writing = FALSE;
  maildir_write_next(md);
  if (!g_task_propagate_boolean(G_TASK(result), &error)) {
    /* a message not written whole leaves nothing: its file in tmp/ goes */
    farceur_target_local_delivery_fail(task, error, "the partial file in tmp/ was removed");
    return;
  }
  g_clear_object(&writer->message); /* in the file now */
  farceur_target_local_delivery_commit(task);
}

/* Starts writing the next delivery waiting, if none is being written. */
static void
maildir_write_next(MaildirTarget *md)
{
  GTask *task;
  g_autoptr(GTask) write = NULL;

  if (md->writing || (task = g_queue_pop_head(&md->writes)) == NULL)
    return;
  md->writing = TRUE;
  write = g_task_new(NULL, NULL, maildir_written_cb, task);
  g_task_set_task_data(write, g_task_get_task_data(task), NULL);
  g_task_run_in_thread(write, maildir_write_thread);
}

static void
maildir_deliver_async(FarceurTarget *target, const FarceurEnvelope *envelope, GMimeObject *message,
                      GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  MaildirTarget *md = target->priv;

  g_queue_push_tail(&md->writes, farceur_target_local_delivery_new(
                                     target, envelope, message, cancellable, callback, user_data));
  maildir_write_next(md);
}

static void
maildir_finalize(FarceurTarget *target)
{
  MaildirTarget *md = target->priv;

  if (md == NULL)
    return;
  /* no commit outlives its target */
  g_assert(md->syncing == NULL && md->waiting->len == 0 && !md->writing);
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
  .deliver_async = maildir_deliver_async,
  .deliver_finish = farceur_target_local_deliver_finish,
  .finalize = maildir_finalize,
  .writer_open = maildir_writer_open,
  .writer_commit = maildir_writer_commit,
  .writer_discard = maildir_writer_discard,
};
