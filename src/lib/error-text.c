/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the house wording of file and errno errors.
 *
 * GLib's texts ("Failed to open file “x”: No such file or directory") repeat
 * the path and read differently from the rest of farceur's messages, which
 * name the file themselves and give the failure in a few lower-case words.
 */
#include "config.h"

#include <errno.h>

#include "error-text.h"

char *
farceur_errno_text(int err)
{
  g_autofree char *text = NULL;

  switch (err) {
    case ENOENT:
      return g_strdup("no such file");
    case EACCES:
    case EPERM:
      return g_strdup("permission denied");
    case EISDIR:
      return g_strdup("is a folder");
    case ENOTDIR:
      return g_strdup("a component of the path is not a folder");
    default:
      text = g_strdup(g_strerror(err));
      text[0] = g_ascii_tolower(text[0]);
      return g_steal_pointer(&text);
  }
}

/* The errno behind a GFileError (g_file_error_from_errno() the other way),
 * 0 for G_FILE_ERROR_FAILED. */
static int
error_text_file_errno(GFileError code)
{
  static const struct {
    GFileError code;
    int err;
  } map[] = {
    { G_FILE_ERROR_EXIST, EEXIST }, { G_FILE_ERROR_ISDIR, EISDIR },
    { G_FILE_ERROR_ACCES, EACCES }, { G_FILE_ERROR_NAMETOOLONG, ENAMETOOLONG },
    { G_FILE_ERROR_NOENT, ENOENT }, { G_FILE_ERROR_NOTDIR, ENOTDIR },
    { G_FILE_ERROR_NXIO, ENXIO },   { G_FILE_ERROR_NODEV, ENODEV },
    { G_FILE_ERROR_ROFS, EROFS },   { G_FILE_ERROR_TXTBSY, ETXTBSY },
    { G_FILE_ERROR_FAULT, EFAULT }, { G_FILE_ERROR_LOOP, ELOOP },
    { G_FILE_ERROR_NOSPC, ENOSPC }, { G_FILE_ERROR_NOMEM, ENOMEM },
    { G_FILE_ERROR_MFILE, EMFILE }, { G_FILE_ERROR_NFILE, ENFILE },
    { G_FILE_ERROR_BADF, EBADF },   { G_FILE_ERROR_INVAL, EINVAL },
    { G_FILE_ERROR_PIPE, EPIPE },   { G_FILE_ERROR_AGAIN, EAGAIN },
    { G_FILE_ERROR_INTR, EINTR },   { G_FILE_ERROR_IO, EIO },
    { G_FILE_ERROR_PERM, EPERM },   { G_FILE_ERROR_NOSYS, ENOSYS },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(map); i++)
    if (map[i].code == code)
      return map[i].err;
  return 0;
}

char *
farceur_file_error_text(const GError *error)
{
  int err = error->domain == G_FILE_ERROR ? error_text_file_errno(error->code) : 0;

  return err ? farceur_errno_text(err) : g_strdup("read error");
}

void
farceur_set_errno_error(GError **error, FarceurError code, int saved_errno, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;
  g_autofree char *why = farceur_errno_text(saved_errno);

  va_start(args, format);
  what = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error(error, FARCEUR_ERROR, code, "%s: %s", what, why);
}
