/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: what was read from each input file (prank's "what was read"
 * report): its format, encoding, what it held, and the warnings about it,
 * each with its line.  The readers fill it; the command shows it.  Also the
 * one decoder of input text files (UTF-8, a byte order mark, ISO-8859-1). */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>
#include <json-glib/json-glib.h>

#include <farceur/error.h>
#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * FarceurReadNote:
 * @line: the 1-based line it is about, 0 when none
 * @text: what it says, lower case, without the file name
 */
typedef struct {
  guint line;
  char *text;
} FarceurReadNote;

/**
 * FarceurReadFile:
 * @role: "config", "victims" or "messages"
 * @path: the file (or folder) read
 * @found: (nullable): how it was chosen when not given on the command line
 *   ("found in ./config", "config key 'EMAILS_FILEPATH'", "usual name")
 * @format: the format it was read as (see data/doc/json.md)
 * @encoding: (nullable): "UTF-8", "UTF-8 with BOM", "ISO-8859-1" or "windows-1252"
 * @count: keys used, victims kept, or messages read
 * @summary: (nullable): one line for people
 * @separator: (nullable): messages: the line that separates them
 * @subject: (nullable): messages: where subjects come from
 * @subjects: (element-type utf8): messages: each one's subject, in order
 * @warnings: (element-type FarceurReadNote): what was read in a way the
 *   reader should know about
 * @skipped: (element-type FarceurReadNote): entries left out: invalid
 *   victims, ignored configuration keys
 * @repeated: (element-type utf8): victims listed more than once, kept once
 */
typedef struct {
  char *role;
  char *path;
  char *found;
  char *format;
  char *encoding;
  guint count;
  char *summary;
  char *separator;
  char *subject;
  GPtrArray *subjects;
  GPtrArray *warnings;
  GPtrArray *skipped;
  GPtrArray *repeated;
} FarceurReadFile;

/**
 * FarceurReadReport:
 * @files: (element-type FarceurReadFile): in the order they were read
 */
typedef struct {
  GPtrArray *files;
} FarceurReadReport;

FARCEUR_API FarceurReadReport *farceur_read_report_new(void);
FARCEUR_API void farceur_read_report_free(FarceurReadReport *report);
FARCEUR_API FarceurReadFile *farceur_read_report_add(FarceurReadReport *report, const char *role,
                                                     const char *path);
FARCEUR_API FarceurReadFile *farceur_read_report_find(const FarceurReadReport *report,
                                                      const char *role);
FARCEUR_API JsonNode *farceur_read_report_to_json(const FarceurReadReport *report);

FARCEUR_API FarceurReadFile *farceur_read_file_new(const char *role, const char *path);
FARCEUR_API void farceur_read_file_free(FarceurReadFile *file);
FARCEUR_API void farceur_read_file_warn(FarceurReadFile *file, guint line, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
FARCEUR_API void farceur_read_file_skip(FarceurReadFile *file, guint line, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
FARCEUR_API void farceur_read_file_set(char **slot, const char *value);
FARCEUR_API char **farceur_read_file_lines(const char *text, gssize length, guint *n_lines);
FARCEUR_API char *farceur_read_file_decode(FarceurReadFile *file, const char *what,
                                           const char *path, const char *bytes, gsize length,
                                           gboolean latin1_expected, FarceurError code,
                                           GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurReadReport, farceur_read_report_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurReadFile, farceur_read_file_free)

G_END_DECLS
