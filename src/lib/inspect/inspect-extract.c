/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: writing parts out (inspect --extract DIR, --part PATH).
 *
 * A file name in a message is chosen by whoever sent it.  Only its last
 * component is kept, made printable and portable, never hidden, never a
 * device name, never too long; files are created with openat() relative to
 * the folder, O_NOFOLLOW, and O_EXCL unless --force (then O_TRUNC), so
 * nothing lands outside the folder or goes through a planted symlink.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/inspect.h>

#include "inspect-private.h"
#include "error-text.h"

#define EXTRACT_NAME_MAX 200 /* bytes; NAME_MAX is 255, room for "-NNN" */
#define EXTRACT_EXT_MAX 16

struct _FarceurInspectExtractor {
  char *dir;
  int dirfd;
  gboolean force;
  GHashTable *used; /* case-folded names written by this extractor */
};

static const char *const extract_reserved[] = {
  "con",  "prn",  "aux",  "nul",  "com1", "com2", "com3", "com4", "com5", "com6", "com7",
  "com8", "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
};

static gboolean
extract_is_reserved(const char *name)
{
  g_autofree char *stem = g_ascii_strdown(name, strcspn(name, ". "));

  for (gsize i = 0; i < G_N_ELEMENTS(extract_reserved); i++)
    if (strcmp(stem, extract_reserved[i]) == 0)
      return TRUE;
  return FALSE;
}

/* The last component of @name, after '/' or '\\'. */
static const char *
extract_basename(const char *name)
{
  const char *base = name;

  for (const char *p = name; *p; p++)
    if (*p == '/' || *p == '\\')
      base = p + 1;
  return base;
}

static char *
extract_replace_unsafe(const char *name)
{
  GString *out = g_string_new(NULL);

  for (const char *p = name; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);

    if (inspect_text_unsafe(c) || (c < 0x80 && strchr("<>:\"|?*", (char)c)))
      g_string_append_c(out, '_');
    else
      g_string_append_unichar(out, c);
  }
  return g_string_free(out, FALSE);
}

/* Cuts @name to EXTRACT_NAME_MAX bytes on a character boundary, keeping a
 * short extension. */
static char *
extract_truncate(const char *name)
{
  const char *dot = strrchr(name, '.');
  size_t ext = dot && strlen(dot) <= EXTRACT_EXT_MAX ? strlen(dot) : 0;
  size_t keep = EXTRACT_NAME_MAX - ext;
  const char *end;

  if (strlen(name) <= EXTRACT_NAME_MAX)
    return g_strdup(name);
  end = name + keep;
  while (end > name && (*end & 0xc0) == 0x80)
    end--;
  return g_strdup_printf("%.*s%s", (int)(end - name), name, ext ? dot : "");
}

/**
 * farceur_inspect_safe_filename:
 * @name: (nullable): a file name from a message
 * @fallback: the name to use when nothing safe is left of @name
 *
 * A name that is safe to create inside a folder: the last component of
 * @name (after '/' or '\\'), control, bidi and Windows-special characters
 * replaced by '_', no leading dots or spaces, no trailing dots or spaces, not
 * a device name (CON, NUL, COM1...), at most 200 bytes.
 *
 * Returns: (transfer full): the name
 */
char *
farceur_inspect_safe_filename(const char *name, const char *fallback)
{
  g_autofree char *valid = NULL;
  g_autofree char *clean = NULL;
  char *start;
  size_t len;

  g_return_val_if_fail(fallback != NULL, NULL);

  valid = g_utf8_make_valid(name ? name : "", -1);
  clean = extract_replace_unsafe(extract_basename(valid));
  start = clean;
  while (*start == '.' || *start == ' ')
    start++;
  len = strlen(start);
  while (len > 0 && (start[len - 1] == '.' || start[len - 1] == ' '))
    start[--len] = '\0';
  if (*start == '\0')
    return g_strdup(fallback);
  if (extract_is_reserved(start)) {
    g_autofree char *prefixed = g_strconcat("_", start, NULL);

    return extract_truncate(prefixed);
  }
  return extract_truncate(start);
}

/**
 * farceur_inspect_extractor_new:
 * @dir: the folder to write into (created if missing)
 * @force: overwrite existing files (never through a symlink)
 * @error: return location for a #GError (FARCEUR_ERROR_CANTCREAT)
 *
 * Returns: (transfer full) (nullable): the extractor
 */
FarceurInspectExtractor *
farceur_inspect_extractor_new(const char *dir, gboolean force, GError **error)
{
  FarceurInspectExtractor *extractor;
  int fd;

  g_return_val_if_fail(dir != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (g_mkdir_with_parents(dir, 0777) != 0
      || (fd = g_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)) < 0) {
    farceur_set_errno_error(error, FARCEUR_ERROR_CANTCREAT, errno, "cannot use folder '%s'", dir);
    return NULL;
  }
  extractor = g_new0(FarceurInspectExtractor, 1);
  extractor->dir = g_strdup(dir);
  extractor->dirfd = fd;
  extractor->force = force;
  extractor->used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return extractor;
}

/**
 * farceur_inspect_extractor_free:
 * @extractor: (nullable): an extractor
 */
void
farceur_inspect_extractor_free(FarceurInspectExtractor *extractor)
{
  if (extractor == NULL)
    return;
  close(extractor->dirfd);
  g_hash_table_unref(extractor->used);
  g_free(extractor->dir);
  g_free(extractor);
}

static const char *
extract_extension(const char *content_type)
{
  if (g_str_equal(content_type, "text/plain"))
    return ".txt";
  if (g_str_equal(content_type, "text/html"))
    return ".html";
  if (g_str_has_prefix(content_type, "message/"))
    return ".eml";
  return ".bin";
}

/* @name, or NAME-2.EXT, NAME-3.EXT... : the first this extractor has not used. */
static char *
extract_unique(FarceurInspectExtractor *extractor, const char *name)
{
  const char *dot = strrchr(name, '.');
  int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);
  char *candidate = g_strdup(name);

  for (guint n = 2;; n++) {
    g_autofree char *key = g_utf8_casefold(candidate, -1);

    if (!g_hash_table_contains(extractor->used, key)) {
      g_hash_table_add(extractor->used, g_steal_pointer(&key));
      return candidate;
    }
    g_free(candidate);
    candidate = g_strdup_printf("%.*s-%u%s", stem, name, n, name + stem);
  }
}

static int
extract_open(FarceurInspectExtractor *extractor, const char *name, GError **error)
{
  int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  struct stat st;
  int fd;

  flags |= extractor->force ? O_TRUNC : O_EXCL;
  fd = openat(extractor->dirfd, name, flags, 0666);
  if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
    close(fd);
    fd = -1;
    errno = EINVAL;
  }
  if (fd < 0) {
    int saved = errno;
    g_autofree char *why
        = saved == ELOOP ? g_strdup("it is a symbolic link") : farceur_errno_text(saved);

    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT, "cannot create '%s/%s': %s%s",
                extractor->dir, name, why, saved == EEXIST ? " (use --force to overwrite)" : "");
  }
  return fd;
}

static ssize_t
extract_write_content(const FarceurInspectPart *part, GMimeStream *out)
{
  GMimeMessage *inner;

  if (GMIME_IS_PART(part->object)) {
    GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(part->object));

    return content ? g_mime_data_wrapper_write_to_stream(content, out) : 0;
  }
  if (!GMIME_IS_MESSAGE_PART(part->object) || inspect_needs_reserialise(part->object, 0))
    return -1;
  inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part->object));
  return inner ? g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, out) : 0;
}

/**
 * farceur_inspect_extractor_write:
 * @extractor: an extractor
 * @part: a leaf of an inspected message (still alive)
 * @error: return location for a #GError (FARCEUR_ERROR_CANTCREAT or FARCEUR_ERROR_IO)
 *
 * Writes the transfer-decoded body of @part under the extractor's folder,
 * named after its file name made safe (farceur_inspect_safe_filename()), or
 * "part-PATH.EXT"; names already written by this extractor get "-2", "-3"...
 *
 * Returns: (transfer full) (nullable): the name written, relative to the folder
 */
char *
farceur_inspect_extractor_write(FarceurInspectExtractor *extractor, const FarceurInspectPart *part,
                                GError **error)
{
  g_autofree char *fallback = NULL;
  g_autofree char *safe = NULL;
  g_autofree char *name = NULL;
  g_autoptr(GMimeStream) out = NULL;
  int fd;

  g_return_val_if_fail(extractor != NULL, NULL);
  g_return_val_if_fail(part != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  fallback = g_strdup_printf("part-%s%s", part->path, extract_extension(part->content_type));
  safe = farceur_inspect_safe_filename(part->filename, fallback);
  name = extract_unique(extractor, safe);
  if (!GMIME_IS_PART(part->object) && inspect_needs_reserialise(part->object, 0)) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "part %s (%s) cannot be written: GMime would have to rebuild its headers",
                part->path, part->content_type);
    return NULL;
  }
  fd = extract_open(extractor, name, error);
  if (fd < 0)
    return NULL;
  out = g_mime_stream_fs_new(fd);
  if (extract_write_content(part, out) < 0 || g_mime_stream_flush(out) != 0
      || g_mime_stream_close(out) != 0) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_IO, "cannot write '%s/%s' (part %s)",
                extractor->dir, name, part->path);
    return NULL;
  }
  return g_steal_pointer(&name);
}
