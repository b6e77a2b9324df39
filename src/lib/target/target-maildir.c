/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the maildir: target.  One file per message, written into tmp/,
 * synced, then renamed into new/, as the Maildir specification says
 * (https://cr.yp.to/proto/maildir.html). */
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
  char *host; /* this host's name with '/' and ':' escaped */
  guint seq;  /* deliveries through this target, the Q part of the name */
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
                            (int)(now % G_USEC_PER_SEC), (int)getpid(), ++md->seq, md->host);
    *tmp_path = g_build_filename(md->dir, "tmp", *name, NULL);
    fd = open(*tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
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

/* Writes the envelope lines and the message to @fd, then fsync()s it. */
static gboolean
maildir_write(int fd, const char *path, const FarceurEnvelope *envelope, GMimeObject *message,
              GError **error)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_fs_new(fd);

  g_mime_stream_fs_set_owner(GMIME_STREAM_FS(stream), FALSE);
  if (!farceur_target_write_envelope(stream, envelope, message, error)
      || !farceur_target_write_message(stream, message, NULL, error))
    return FALSE;
  if (fsync(fd) != 0)
    return maildir_fail(error, FARCEUR_ERROR_IO, "sync", path, errno);
  return TRUE;
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

static gboolean
maildir_deliver(FarceurTarget *target, const FarceurEnvelope *envelope, GMimeObject *message,
                FarceurDelivery **delivery, GCancellable *cancellable, GError **error)
{
  MaildirTarget *md = target->priv;
  g_autofree char *name = NULL, *tmp_path = NULL, *new_path = NULL, *new_dir = NULL;
  int fd = maildir_create_tmp(md, &name, &tmp_path, error);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = maildir_write(fd, tmp_path, envelope, message, error);
  if (close(fd) != 0 && ok)
    ok = maildir_fail(error, FARCEUR_ERROR_IO, "close", tmp_path, errno);
  new_dir = g_build_filename(md->dir, "new", NULL);
  new_path = g_build_filename(new_dir, name, NULL);
  if (ok && g_rename(tmp_path, new_path) != 0)
    ok = maildir_fail(error, FARCEUR_ERROR_CANTCREAT, "move message into", new_dir, errno);
  if (!ok) {
    g_unlink(tmp_path);
    return FALSE;
  }
  if (!maildir_sync_dir(new_dir, error))
    return FALSE;
  *delivery = farceur_target_local_delivery(envelope, new_path);
  return TRUE;
}

static void
maildir_finalize(FarceurTarget *target)
{
  MaildirTarget *md = target->priv;

  if (md == NULL)
    return;
  g_free(md->dir);
  g_free(md->host);
  g_free(md);
}

const FarceurTargetBackend farceur_target_maildir_backend = {
  .name = "maildir",
  .schemes = maildir_schemes,
  .open = maildir_open,
  .deliver = maildir_deliver,
  .finalize = maildir_finalize,
};
