/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: messages files as the course lab's students wrote them
 * (data/doc/formats.md, Messages files): which file holds which messages.
 * A folder holds *.tmpl templates or one message per file; a file is a
 * template (.tmpl), JSON (template-json.c) or a text messages file
 * (template-text.c); --messages-format forces a reading. */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include <farceur/suggest.h>
#include <farceur/template.h>

#include "error-text.h"
#include "template-private.h"

/* ---- files and folders ---- */

static gboolean
messages_looks_json(const char *path, const char *text)
{
  g_autofree char *lower = g_ascii_strdown(path, -1);
  const char *p = text + strspn(text, " \t\r\n");

  return g_str_has_suffix(lower, ".json") || *p == '[' || *p == '{';
}

static char *
messages_read_decoded(const char *path, FarceurReadFile *file, GError **error)
{
  gsize length = 0;
  g_autofree char *bytes = template_read_file(path, &length, error);

  if (bytes == NULL)
    return NULL;
  return farceur_read_file_decode(file, "messages", path, bytes, length, FALSE, FARCEUR_ERROR_DATA,
                                  error);
}

static GPtrArray *
messages_read_file(const char *path, const FarceurMessagesFormat *format, FarceurReadFile *file,
                   GError **error)
{
  g_autofree char *text = messages_read_decoded(path, file, error);

  if (text == NULL)
    return NULL;
  if (format->kind == FARCEUR_MESSAGES_JSON
      || (format->kind == FARCEUR_MESSAGES_AUTO && messages_looks_json(path, text)))
    return template_read_json(path, text, file, error);
  return template_read_text(path, text, format, file, error);
}

/* One message file of a folder: a template when it starts with a Subject
 * line, else its first line (or its name) is the subject. */
static FarceurTemplate *
messages_one_file(const char *path, FarceurSubjectRule rule, FarceurSubjectRule *used,
                  GError **error)
{
  g_autofree char *text = messages_read_decoded(path, NULL, error);
  g_autofree char *dir = g_path_get_dirname(path);
  g_autofree char *base = g_filename_display_basename(path);
  const char *start;
  TemplateContext ctx = { path, dir, TRUE };

  if (text == NULL)
    return NULL;
  start = text + strspn(text, " \t\r\n");
  if (rule == FARCEUR_SUBJECT_AUTO)
    rule = template_is_subject_line(start) ? FARCEUR_SUBJECT_HEADER : FARCEUR_SUBJECT_FIRST_LINE;
  *used = rule;
  if (rule == FARCEUR_SUBJECT_HEADER)
    return template_parse_with(text, strlen(text), &ctx, 1, error);
  if (rule == FARCEUR_SUBJECT_FILE_NAME) {
    char *dot = strrchr(base, '.');
    if (dot != NULL && dot != base)
      *dot = '\0';
    return template_new_message(&ctx, base, start, 0, 1, error);
  } else {
    const char *eol = start + strcspn(start, "\r\n");
    g_autofree char *subject = g_strstrip(g_strndup(start, eol - start));
    const char *body = eol + strspn(eol, "\r\n");
    return template_new_message(&ctx, rule == FARCEUR_SUBJECT_NONE ? "" : subject,
                                rule == FARCEUR_SUBJECT_NONE ? start : body, 1, 2, error);
  }
}

static gint
messages_compare_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The regular, visible files of @path sorted by name; only *.tmpl when
 * @tmpl_only. */
static GPtrArray *
messages_list_dir(const char *path, gboolean tmpl_only, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GDir) dir = g_dir_open(path, 0, &local);
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  const char *name;

  if (dir == NULL) {
    g_autofree char *why = farceur_file_error_text(local);
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT, "cannot read messages folder '%s': %s",
                path, why);
    g_ptr_array_unref(names);
    return NULL;
  }
  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *full = g_build_filename(path, name, NULL);
    if (name[0] == '.' || g_str_has_suffix(name, "~") || !g_file_test(full, G_FILE_TEST_IS_REGULAR))
      continue;
    if (!tmpl_only || g_str_has_suffix(name, ".tmpl"))
      g_ptr_array_add(names, g_steal_pointer(&full));
  }
  g_ptr_array_sort(names, messages_compare_names);
  return names;
}

static GPtrArray *
messages_read_templates(GPtrArray *names, FarceurReadFile *file, GError **error)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_template_free);

  for (guint i = 0; i < names->len; i++) {
    FarceurTemplate *tmpl = farceur_template_load(names->pdata[i], error);
    if (tmpl == NULL)
      return NULL;
    g_ptr_array_add(all, tmpl);
  }
  if (file != NULL) {
    farceur_read_file_set(&file->format, "templates");
    farceur_read_file_set(&file->subject, "'Subject:' lines");
    file->count = all->len;
    for (guint i = 0; i < all->len; i++)
      g_ptr_array_add(file->subjects,
                      g_strdup(farceur_template_get_header(all->pdata[i], "Subject")));
    file->summary = g_strdup_printf("%u template%s (*.tmpl)", all->len, all->len == 1 ? "" : "s");
  }
  return g_steal_pointer(&all);
}

static void
messages_describe_files(FarceurReadFile *file, GPtrArray *all, guint rules)
{
  const char *subject = rules == (1u << FARCEUR_SUBJECT_HEADER)       ? "'Subject:' lines"
                        : rules == (1u << FARCEUR_SUBJECT_FIRST_LINE) ? "the first line"
                        : rules == (1u << FARCEUR_SUBJECT_FILE_NAME)  ? "the file name"
                        : rules == (1u << FARCEUR_SUBJECT_NONE)
                            ? "nowhere (no subject)"
                            : "'Subject:' lines or the first line";

  if (file == NULL)
    return;
  farceur_read_file_set(&file->format, "files");
  farceur_read_file_set(&file->subject, subject);
  file->count = all->len;
  for (guint i = 0; i < all->len; i++)
    g_ptr_array_add(file->subjects,
                    g_strdup(farceur_template_get_header(all->pdata[i], "Subject")));
  file->summary = g_strdup_printf("%u message%s, one per file, subject from %s", all->len,
                                  all->len == 1 ? "" : "s", subject);
}

static GPtrArray *
messages_read_dir(const char *path, const FarceurMessagesFormat *format, FarceurReadFile *file,
                  GError **error)
{
  g_autoptr(GPtrArray) names = messages_list_dir(path, TRUE, error);
  g_autoptr(GPtrArray) all = NULL;
  guint rules = 0;

  if (names == NULL)
    return NULL;
  if (names->len > 0 && format->kind != FARCEUR_MESSAGES_FILES)
    return messages_read_templates(names, file, error);
  g_ptr_array_unref(names);
  names = messages_list_dir(path, FALSE, error);
  if (names == NULL)
    return NULL;
  if (names->len == 0) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT,
                "no message file in the folder '%s': put one message per file there, or "
                "*.tmpl templates",
                path);
    return NULL;
  }
  all = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_template_free);
  for (guint i = 0; i < names->len; i++) {
    FarceurSubjectRule used;
    FarceurTemplate *tmpl = messages_one_file(names->pdata[i], format->subject, &used, error);
    if (tmpl == NULL)
      return NULL;
    rules |= 1u << used;
    g_ptr_array_add(all, tmpl);
  }
  messages_describe_files(file, all, rules);
  return g_steal_pointer(&all);
}

/**
 * farceur_template_read_messages:
 * @path: a template (`*.tmpl`), a folder of templates or of message files,
 *   or a messages file (text or JSON)
 * @format: (nullable): how to read it; %NULL decides from the file
 * @file: (nullable): where to record what was read (format, separator,
 *   subjects, warnings)
 * @error: return location for an error naming the file and line
 *
 * Reads the messages of a prank campaign in any of the formats of
 * data/doc/formats.md (Messages files).
 *
 * Returns: (transfer full) (element-type FarceurTemplate): the templates,
 *   in file order
 */
GPtrArray *
farceur_template_read_messages(const char *path, const FarceurMessagesFormat *format,
                               FarceurReadFile *file, GError **error)
{
  static const FarceurMessagesFormat automatic = { 0 };
  GPtrArray *all;

  g_return_val_if_fail(path != NULL, NULL);
  if (format == NULL)
    format = &automatic;
  if (g_file_test(path, G_FILE_TEST_IS_DIR))
    return messages_read_dir(path, format, file, error);
  if (format->kind == FARCEUR_MESSAGES_FILES) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "--messages-format files: '%s' is not a folder", path);
    return NULL;
  }
  if (format->kind == FARCEUR_MESSAGES_TEMPLATE
      || (format->kind == FARCEUR_MESSAGES_AUTO && g_str_has_suffix(path, ".tmpl"))) {
    FarceurTemplate *tmpl = farceur_template_load(path, error);
    if (tmpl == NULL)
      return NULL;
    all = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_template_free);
    g_ptr_array_add(all, tmpl);
    if (file != NULL) {
      farceur_read_file_set(&file->format, "template");
      farceur_read_file_set(&file->subject, "'Subject:' lines");
      farceur_read_file_set(&file->summary, "1 template");
      file->count = 1;
      g_ptr_array_add(file->subjects, g_strdup(farceur_template_get_header(tmpl, "Subject")));
    }
    return all;
  }
  return messages_read_file(path, format, file, error);
}

/**
 * farceur_template_load_all:
 * @path: a template file (`*.tmpl`), a folder, or a messages file
 * @error: return location for an error
 *
 * farceur_template_read_messages() deciding the format from the file.
 *
 * Returns: (transfer full) (element-type FarceurTemplate): the templates
 */
GPtrArray *
farceur_template_load_all(const char *path, GError **error)
{
  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  return farceur_template_read_messages(path, NULL, NULL, error);
}

/* ---- --messages-format ---- */

static const char *const messages_format_words[] = {
  "auto",
  "template",
  "blocks",
  "json",
  "lines",
  "files",
  "subject=header",
  "subject=first-line",
  "subject=file-name",
  "subject=none",
  NULL,
};

static gboolean
messages_format_word(const char *word, FarceurMessagesFormat *format)
{
  static const struct {
    const char *name;
    FarceurMessagesKind kind;
  } kinds[] = {
    { "auto", FARCEUR_MESSAGES_AUTO },     { "template", FARCEUR_MESSAGES_TEMPLATE },
    { "blocks", FARCEUR_MESSAGES_BLOCKS }, { "json", FARCEUR_MESSAGES_JSON },
    { "lines", FARCEUR_MESSAGES_LINES },   { "files", FARCEUR_MESSAGES_FILES },
  };
  static const struct {
    const char *name;
    FarceurSubjectRule rule;
  } subjects[] = {
    { "subject=auto", FARCEUR_SUBJECT_AUTO },
    { "subject=header", FARCEUR_SUBJECT_HEADER },
    { "subject=first-line", FARCEUR_SUBJECT_FIRST_LINE },
    { "subject=file-name", FARCEUR_SUBJECT_FILE_NAME },
    { "subject=none", FARCEUR_SUBJECT_NONE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++)
    if (strcmp(word, kinds[i].name) == 0)
      return format->kind = kinds[i].kind, TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS(subjects); i++)
    if (strcmp(word, subjects[i].name) == 0)
      return format->subject = subjects[i].rule, TRUE;
  if (g_str_has_prefix(word, "separator=") && word[10] != '\0') {
    g_free(format->separator);
    format->separator = g_strdup(word + 10);
    if (format->kind == FARCEUR_MESSAGES_AUTO)
      format->kind = FARCEUR_MESSAGES_BLOCKS;
    return TRUE;
  }
  return FALSE;
}

/**
 * farceur_messages_format_parse:
 * @text: words separated by commas: a kind (`auto`, `template`, `blocks`,
 *   `json`, `lines`, `files`), `subject=header|first-line|file-name|none`,
 *   `separator=LINE`
 * @format: (out caller-allocates): the format; clear it with
 *   farceur_messages_format_clear()
 * @error: return location for a %FARCEUR_ERROR_USAGE error
 *
 * Returns: %TRUE when @text is valid
 */
gboolean
farceur_messages_format_parse(const char *text, FarceurMessagesFormat *format, GError **error)
{
  g_auto(GStrv) words = NULL;

  g_return_val_if_fail(text != NULL && format != NULL, FALSE);
  memset(format, 0, sizeof *format);
  words = g_strsplit(text, ",", -1);
  for (guint i = 0; words[i] != NULL; i++) {
    g_strstrip(words[i]);
    if (!messages_format_word(words[i], format)) {
      const char *near = farceur_suggest_closest(words[i], messages_format_words, NULL);
      farceur_messages_format_clear(format);
      if (near != NULL)
        g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                    "messages format '%s': unknown word '%s' (did you mean '%s'?)", text, words[i],
                    near);
      else
        g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                    "messages format '%s': unknown word '%s' (expected auto, template, blocks, "
                    "json, lines, files, subject=header|first-line|file-name|none, "
                    "separator=LINE)",
                    text, words[i]);
      return FALSE;
    }
  }
  return TRUE;
}

/**
 * farceur_messages_format_clear:
 * @format: a format filled by farceur_messages_format_parse()
 */
void
farceur_messages_format_clear(FarceurMessagesFormat *format)
{
  g_return_if_fail(format != NULL);
  g_clear_pointer(&format->separator, g_free);
  memset(format, 0, sizeof *format);
}
