/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the "what was read" report (read-report.h) and the decoder of
 * input text files.
 *
 * Decoding decides from the bytes, as people save these files: a UTF-8 byte
 * order mark is dropped; valid UTF-8 is UTF-8; anything else is
 * ISO-8859-1 (the encoding java.util.Properties reads), or windows-1252
 * when it holds bytes 0x80-0x9f, which are controls in ISO-8859-1 but
 * curly quotes and the euro sign in the Windows code page.  UTF-16 is
 * refused with what to do about it.  GLib converts (g_convert()). */
#include "config.h"

#include <string.h>

#include <farceur/json.h>
#include <farceur/read-report.h>

static void
read_note_free(gpointer data)
{
  FarceurReadNote *note = data;

  g_free(note->text);
  g_free(note);
}

/**
 * farceur_read_file_new:
 * @role: "config", "victims" or "messages"
 * @path: the file read
 *
 * Returns: (transfer full): an empty record of @path
 */
FarceurReadFile *
farceur_read_file_new(const char *role, const char *path)
{
  FarceurReadFile *file = g_new0(FarceurReadFile, 1);

  g_return_val_if_fail(role != NULL && path != NULL, NULL);
  file->role = g_strdup(role);
  file->path = g_strdup(path);
  file->subjects = g_ptr_array_new_with_free_func(g_free);
  file->warnings = g_ptr_array_new_with_free_func(read_note_free);
  file->skipped = g_ptr_array_new_with_free_func(read_note_free);
  file->repeated = g_ptr_array_new_with_free_func(g_free);
  return file;
}

void
farceur_read_file_free(FarceurReadFile *file)
{
  if (file == NULL)
    return;
  g_free(file->role);
  g_free(file->path);
  g_free(file->found);
  g_free(file->format);
  g_free(file->encoding);
  g_free(file->summary);
  g_free(file->separator);
  g_free(file->subject);
  g_ptr_array_unref(file->subjects);
  g_ptr_array_unref(file->warnings);
  g_ptr_array_unref(file->skipped);
  g_ptr_array_unref(file->repeated);
  g_free(file);
}

/**
 * farceur_read_file_set:
 * @slot: a string member of a #FarceurReadFile
 * @value: (nullable): its new value, copied
 */
void
farceur_read_file_set(char **slot, const char *value)
{
  g_return_if_fail(slot != NULL);
  g_free(*slot);
  *slot = g_strdup(value);
}

static void read_file_note(GPtrArray *notes, guint line, const char *format, va_list args)
    G_GNUC_PRINTF(3, 0);

static void
read_file_note(GPtrArray *notes, guint line, const char *format, va_list args)
{
  FarceurReadNote *note = g_new0(FarceurReadNote, 1);

  note->line = line;
  note->text = g_strdup_vprintf(format, args);
  g_ptr_array_add(notes, note);
}

/**
 * farceur_read_file_warn:
 * @file: (nullable): the record; nothing happens when %NULL
 * @line: the line, 0 for none
 * @format: printf() format of the warning
 * @...: its arguments
 */
void
farceur_read_file_warn(FarceurReadFile *file, guint line, const char *format, ...)
{
  va_list args;

  if (file == NULL)
    return;
  va_start(args, format);
  read_file_note(file->warnings, line, format, args);
  va_end(args);
}

/**
 * farceur_read_file_skip:
 * @file: (nullable): the record; nothing happens when %NULL
 * @line: the line of the entry left out, 0 for none
 * @format: printf() format of what it was and why it was left out
 * @...: its arguments
 */
void
farceur_read_file_skip(FarceurReadFile *file, guint line, const char *format, ...)
{
  va_list args;

  if (file == NULL)
    return;
  va_start(args, format);
  read_file_note(file->skipped, line, format, args);
  va_end(args);
}

FarceurReadReport *
farceur_read_report_new(void)
{
  FarceurReadReport *report = g_new0(FarceurReadReport, 1);

  report->files = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_read_file_free);
  return report;
}

void
farceur_read_report_free(FarceurReadReport *report)
{
  if (report == NULL)
    return;
  g_ptr_array_unref(report->files);
  g_free(report);
}

/**
 * farceur_read_report_add:
 * @report: (nullable): a report; nothing is recorded when %NULL
 * @role: "config", "victims" or "messages"
 * @path: the file read
 *
 * Returns: (transfer none) (nullable): the new record, at the end of
 *   @report; %NULL when @report is %NULL
 */
FarceurReadFile *
farceur_read_report_add(FarceurReadReport *report, const char *role, const char *path)
{
  FarceurReadFile *file;

  if (report == NULL)
    return NULL;
  file = farceur_read_file_new(role, path);
  g_ptr_array_add(report->files, file);
  return file;
}

/**
 * farceur_read_report_find:
 * @report: a report
 * @role: "config", "victims" or "messages"
 *
 * Returns: (transfer none) (nullable): the last record of @role
 */
FarceurReadFile *
farceur_read_report_find(const FarceurReadReport *report, const char *role)
{
  g_return_val_if_fail(report != NULL && role != NULL, NULL);
  for (guint i = report->files->len; i > 0; i--) {
    FarceurReadFile *file = report->files->pdata[i - 1];
    if (strcmp(file->role, role) == 0)
      return file;
  }
  return NULL;
}

/* ---- JSON ---- */

static void
read_json_notes(JsonBuilder *b, const char *name, GPtrArray *notes)
{
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  for (guint i = 0; i < notes->len; i++) {
    const FarceurReadNote *note = notes->pdata[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "line");
    if (note->line > 0)
      json_builder_add_int_value(b, note->line);
    else
      json_builder_add_null_value(b);
    farceur_json_add_string_member(b, "text", note->text);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

static void
read_json_file(JsonBuilder *b, const FarceurReadFile *file)
{
  json_builder_begin_object(b);
  farceur_json_add_string_member(b, "role", file->role);
  farceur_json_add_string_member(b, "path", file->path);
  farceur_json_add_string_member(b, "found", file->found);
  farceur_json_add_string_member(b, "format", file->format);
  farceur_json_add_string_member(b, "encoding", file->encoding);
  json_builder_set_member_name(b, "count");
  json_builder_add_int_value(b, file->count);
  farceur_json_add_string_member(b, "summary", file->summary);
  farceur_json_add_string_member(b, "separator", file->separator);
  farceur_json_add_string_member(b, "subject", file->subject);
  farceur_json_add_strings_member(b, "subjects", file->subjects);
  read_json_notes(b, "warnings", file->warnings);
  read_json_notes(b, "skipped", file->skipped);
  farceur_json_add_strings_member(b, "repeated", file->repeated);
  json_builder_end_object(b);
}

/**
 * farceur_read_report_to_json:
 * @report: a report
 *
 * The JSON form of every file record (data/doc/json.md, "read"; schema
 * data/schema/prank-read.schema.json, `$defs/file`).
 *
 * Returns: (transfer full): an array of objects
 */
JsonNode *
farceur_read_report_to_json(const FarceurReadReport *report)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  g_return_val_if_fail(report != NULL, NULL);
  json_builder_begin_array(b);
  for (guint i = 0; i < report->files->len; i++)
    read_json_file(b, report->files->pdata[i]);
  json_builder_end_array(b);
  return json_builder_get_root(b);
}

/* ---- decoding ---- */

/**
 * farceur_read_file_lines:
 * @text: a text
 * @length: its length, or -1 when NUL-terminated
 * @n_lines: (out) (optional): how many lines, without the empty one after
 *   a final line end
 *
 * Returns: (transfer full): its lines, split at LF, the CR of a CR LF removed
 */
char **
farceur_read_file_lines(const char *text, gssize length, guint *n_lines)
{
  g_autofree char *copy = NULL;
  char **lines;
  guint n;

  g_return_val_if_fail(text != NULL, NULL);
  copy = length < 0 ? g_strdup(text) : g_strndup(text, length);
  lines = g_strsplit(copy, "\n", -1);
  for (n = 0; lines[n] != NULL; n++) {
    gsize len = strlen(lines[n]);
    if (len > 0 && lines[n][len - 1] == '\r')
      lines[n][len - 1] = '\0';
  }
  if (n_lines != NULL)
    *n_lines = n > 0 && lines[n - 1][0] == '\0' ? n - 1 : n;
  return lines;
}

static guint
read_line_at(const char *text, const char *at)
{
  guint line = 1;

  for (const char *p = text; p < at; p++)
    line += *p == '\n';
  return line;
}

static gboolean
read_has_c1(const char *bytes, gsize length)
{
  for (gsize i = 0; i < length; i++)
    if ((guchar)bytes[i] >= 0x80 && (guchar)bytes[i] < 0xa0)
      return TRUE;
  return FALSE;
}

/* Not UTF-8: windows-1252 when it has bytes 0x80-0x9f, else ISO-8859-1. */
static char *
read_from_8bit(const char *bytes, gsize length, const char **charset)
{
  char *text = NULL;

  if (read_has_c1(bytes, length)) {
    *charset = "windows-1252";
    text = g_convert(bytes, length, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
  }
  if (text == NULL) {
    *charset = "ISO-8859-1";
    text = g_convert(bytes, length, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
  }
  return text;
}

/**
 * farceur_read_file_decode:
 * @file: (nullable): the record whose @encoding (and warnings) to set
 * @what: what the file is, for messages ("victims", "config")
 * @path: the file, for messages
 * @bytes: its contents
 * @length: their length
 * @latin1_expected: the format's own encoding is ISO-8859-1 (Java
 *   .properties), so reading it that way deserves no warning
 * @code: the #FarceurError code of a failure
 * @error: return location for a failure naming the file (and line)
 *
 * Returns: (transfer full): the text in UTF-8, without a byte order mark
 */
char *
farceur_read_file_decode(FarceurReadFile *file, const char *what, const char *path,
                         const char *bytes, gsize length, gboolean latin1_expected,
                         FarceurError code, GError **error)
{
  const char *end = NULL, *charset = "UTF-8";
  gboolean bom = length >= 3 && memcmp(bytes, "\xef\xbb\xbf", 3) == 0;
  char *text;

  g_return_val_if_fail(what != NULL && path != NULL && bytes != NULL, NULL);
  if (length >= 2 && ((guchar)bytes[0] == 0xff || (guchar)bytes[0] == 0xfe)
      && ((guchar)bytes[1] == 0xfe || (guchar)bytes[1] == 0xff)) {
    g_set_error(error, FARCEUR_ERROR, code,
                "%s '%s': saved as UTF-16; save it as UTF-8 (or ISO-8859-1)", what, path);
    return NULL;
  }
  if ((end = memchr(bytes, '\0', length)) != NULL) {
    g_set_error(error, FARCEUR_ERROR, code, "%s '%s' line %u: NUL byte (is it a text file?)", what,
                path, read_line_at(bytes, end));
    return NULL;
  }
  if (bom)
    bytes += 3, length -= 3;
  if (g_utf8_validate_len(bytes, length, &end)) {
    text = g_strndup(bytes, length);
  } else {
    guint line = read_line_at(bytes, end);
    text = read_from_8bit(bytes, length, &charset);
    if (!latin1_expected)
      farceur_read_file_warn(file, line,
                             "not UTF-8: read as %s; save the file as UTF-8 if accents look wrong",
                             charset);
  }
  if (file != NULL)
    farceur_read_file_set(&file->encoding, bom ? "UTF-8 with BOM" : charset);
  return text;
}
