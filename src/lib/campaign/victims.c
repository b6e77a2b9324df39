/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: victims files (data/doc/formats.md, Victims files): which format
 * a file is in, and the one-mailbox-per-line format.
 *
 * JSON when it looks like JSON (victims-json.c); CSV when its name ends in
 * .csv or its first line holds a ',', ';' or TAB outside a mailbox
 * (victims-csv.c); else one mailbox per line, "addr", "<addr>" or
 * "Name <addr>", '#' comments and blank lines skipped.  The text is UTF-8
 * (a byte order mark skipped), else read as ISO-8859-1 with a warning.
 * What happens to repeats and invalid entries: victims-entry.c. */
#include "config.h"

#include <string.h>

#include <farceur/campaign.h>
#include <farceur/error.h>
#include <farceur/init.h>

#include "campaign-private.h"

typedef enum { VICTIMS_AUTO, VICTIMS_TEXT, VICTIMS_CSV, VICTIMS_JSON } VictimsFormat;

static void
victims_read_text(VictimsParser *p, char **lines)
{
  for (guint i = 0; lines[i] != NULL; i++) {
    char *line = g_strstrip(lines[i]);
    p->line = i + 1;
    if (line[0] != '\0' && line[0] != '#')
      victims_add_text(p, line);
  }
  p->detail = g_strdup("one address per line");
}

static const char *
victims_first_line(char **lines)
{
  for (guint i = 0; lines[i] != NULL; i++) {
    const char *line = lines[i] + strspn(lines[i], " \t");
    if (line[0] != '\0' && line[0] != '#')
      return line;
  }
  return "";
}

/* CSV without a .csv name: a first line with a separator that is not one
 * mailbox ("Doe, Jane" <j@x> is one). */
static gboolean
victims_looks_csv(char **lines)
{
  g_autofree char *first = g_strstrip(g_strdup(victims_first_line(lines)));
  g_autoptr(FarceurVictim) one = NULL;
  gsize n = strlen(first);

  while (n > 0 && strchr(",; \t", first[n - 1]) != NULL) /* "a@x;" is no table */
    first[--n] = '\0';
  if (victims_csv_separator(first) == '\0')
    return FALSE;
  one = farceur_campaign_parse_mailbox(first, NULL);
  return one == NULL;
}

static VictimsFormat
victims_detect(const char *file, const char *text, char **lines, VictimsFormat format)
{
  g_autofree char *lower = g_ascii_strdown(file, -1);
  const char *start = text + strspn(text, " \t\r\n");

  if (format != VICTIMS_AUTO)
    return format;
  if (g_str_has_suffix(lower, ".json") || *start == '[' || *start == '{')
    return VICTIMS_JSON;
  if (g_str_has_suffix(lower, ".csv") || victims_looks_csv(lines))
    return VICTIMS_CSV;
  return VICTIMS_TEXT;
}

static void
victims_describe(const VictimsParser *p, VictimsFormat format)
{
  static const char *const names[] = { "auto", "text", "csv", "json" };
  FarceurReadFile *note = p->note;
  GString *summary;

  if (note == NULL)
    return;
  farceur_read_file_set(&note->format, names[format]);
  summary = g_string_new(NULL);
  g_string_append_printf(summary, "%u victim%s (%s", p->victims->len,
                         p->victims->len == 1 ? "" : "s", p->detail ? p->detail : names[format]);
  if (p->repeats->len > 0)
    g_string_append_printf(summary, "; %u repeated address%s kept once", p->repeats->len,
                           p->repeats->len == 1 ? "" : "es");
  if (p->invalid->len > 0)
    g_string_append_printf(summary, "; %u invalid entr%s skipped", p->invalid->len,
                           p->invalid->len == 1 ? "y" : "ies");
  g_string_append_c(summary, ')');
  g_free(note->summary);
  note->summary = g_string_free(summary, FALSE);
}

static GPtrArray *
victims_parse(const char *bytes, gsize length, const char *file, VictimsFormat format,
              gboolean strict, FarceurReadFile *note, GError **error)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  VictimsParser p;
  gboolean ok;
  GPtrArray *victims = NULL;

  farceur_init();
  text = farceur_read_file_decode(note, "victims", file, bytes, length, FALSE, FARCEUR_ERROR_DATA,
                                  error);
  if (text == NULL)
    return NULL;
  lines = farceur_read_file_lines(text, -1, NULL);
  format = victims_detect(file, text, lines, format);
  victims_parser_init(&p, file, strict, note);
  if (format == VICTIMS_JSON)
    ok = victims_read_json(&p, text, error);
  else if (format == VICTIMS_CSV)
    ok = victims_read_csv(&p, lines, error);
  else
    victims_read_text(&p, lines), ok = TRUE;
  if (ok && victims_finish(&p, error)) {
    victims_describe(&p, format);
    victims = g_steal_pointer(&p.victims);
  }
  victims_parser_clear(&p);
  return victims;
}

/**
 * farceur_campaign_parse_victims:
 * @text: the file's contents
 * @length: its length, or -1 when NUL-terminated
 * @file: the file name, for error messages (".json" and ".csv" choose the format)
 * @csv: whether @text is CSV (else the format is decided from the text)
 * @error: return location for a %FARCEUR_ERROR_DATA error naming file and line
 *
 * Strict: an invalid entry is an error (farceur_campaign_read_victims()
 * can skip them instead).
 *
 * Returns: (transfer full) (element-type FarceurVictim): the victims in file
 *   order, a repeated address once
 */
GPtrArray *
farceur_campaign_parse_victims(const char *text, gssize length, const char *file, gboolean csv,
                               GError **error)
{
  g_return_val_if_fail(text != NULL && file != NULL, NULL);
  return victims_parse(text, length < 0 ? strlen(text) : (gsize)length, file,
                       csv ? VICTIMS_CSV : VICTIMS_AUTO, TRUE, NULL, error);
}

/**
 * farceur_campaign_read_victims:
 * @path: a victims file in any format of data/doc/formats.md
 * @strict: whether an invalid entry is an error rather than skipped
 * @note: (nullable): where to record what was read, the entries skipped
 *   and the addresses kept once
 * @error: return location for an error: %FARCEUR_ERROR_NOINPUT when it
 *   cannot be read, %FARCEUR_ERROR_DATA for a bad file (or entry, when @strict)
 *
 * Returns: (transfer full) (element-type FarceurVictim): the victims
 */
GPtrArray *
farceur_campaign_read_victims(const char *path, gboolean strict, FarceurReadFile *note,
                              GError **error)
{
  g_autofree char *text = NULL;
  gsize length;

  g_return_val_if_fail(path != NULL, NULL);
  if (!farceur_campaign_read_file("victims file", path, &text, &length, error))
    return NULL;
  return victims_parse(text, length, path, VICTIMS_AUTO, strict, note, error);
}

/**
 * farceur_campaign_load_victims:
 * @path: a victims file
 * @error: return location for an error
 *
 * farceur_campaign_read_victims(), strict.
 *
 * Returns: (transfer full) (element-type FarceurVictim): the victims
 */
GPtrArray *
farceur_campaign_load_victims(const char *path, GError **error)
{
  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  return farceur_campaign_read_victims(path, TRUE, NULL, error);
}
