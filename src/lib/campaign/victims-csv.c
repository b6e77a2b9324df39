/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: CSV victims files (data/doc/formats.md, Victims files).
 *
 * Hand written (GLib has no CSV reader): RFC 4180 fields, quoted with '"'
 * and '""' for a quote; no line breaks inside fields.  The separator is
 * the first of ',', ';' and TAB the first row holds (spreadsheets in French
 * locales write ';').  A first row holding an address is data, not a
 * header: the lab's files had none ("Last,First,email"); then the column
 * with the address is found in it and the other columns, in order, make the
 * display name.  With a header row, the address column is the one named
 * email (or mail, address, courriel...), the name comes from a name
 * column or from first and last name columns, and every column becomes a
 * sender.COLUMN and recipient.COLUMN variable. */
#include "config.h"

#include <string.h>

#include <farceur/campaign.h>
#include <farceur/error.h>

#include "campaign-private.h"

static const char *const csv_address_names[]
    = { "email",   "e_mail",        "mail",          "address",      "addr", "courriel",
        "adresse", "email_address", "adresse_email", "adresse_mail", NULL };
static const char *const csv_name_names[]
    = { "name", "full_name", "fullname", "display_name", "nom_complet", NULL };
static const char *const csv_first_names[]
    = { "first_name", "firstname", "prenom", "given_name", "first", NULL };
static const char *const csv_last_names[]
    = { "last_name", "lastname", "nom", "surname", "family_name", "last", NULL };

typedef struct {
  char sep;
  gboolean header;
  GPtrArray *columns; /* normalised names, or column1..N */
  int email, name, first, last;
} VictimsCsv;

/* One row; NULL with *@problem set when it cannot be split. */
static GPtrArray *
csv_split(const char *line, char sep, const char **problem)
{
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GString) field = g_string_new(NULL);
  const char *c = line;

  for (;;) {
    g_string_truncate(field, 0);
    if (*c == '"') {
      for (c++; !(*c == '"' && c[1] != '"'); c++) {
        if (*c == '\0')
          return *problem = "unterminated quoted field", NULL;
        if (*c == '"')
          c++;
        g_string_append_c(field, *c);
      }
      c++;
      if (*c != sep && *c != '\0')
        return *problem = "text after a quoted field", NULL;
    } else {
      while (*c != sep && *c != '\0')
        g_string_append_c(field, *c++);
    }
    g_ptr_array_add(fields, g_strstrip(g_strdup(field->str)));
    if (*c == '\0')
      return g_steal_pointer(&fields);
    c++;
  }
}

/**
 * victims_csv_separator:
 * @line: the first row
 *
 * Returns: the separator of the file: the first of ',', ';' and TAB that
 *   @line holds outside quotes and angle brackets, or '\0'
 */
char
victims_csv_separator(const char *line)
{
  static const char seps[] = { ',', ';', '\t' };
  gboolean quoted = FALSE;
  int depth = 0;
  gboolean found[3] = { FALSE, FALSE, FALSE };

  for (const char *c = line; *c; c++) {
    if (*c == '"')
      quoted = !quoted;
    else if (!quoted && *c == '<')
      depth++;
    else if (!quoted && *c == '>' && depth > 0)
      depth--;
    for (guint i = 0; i < 3; i++)
      found[i] = found[i] || (!quoted && depth == 0 && *c == seps[i]);
  }
  for (guint i = 0; i < 3; i++)
    if (found[i])
      return seps[i];
  return '\0';
}

static int
csv_find(const VictimsCsv *csv, const char *const *names)
{
  for (gsize n = 0; names[n] != NULL; n++)
    for (guint i = 0; i < csv->columns->len; i++)
      if (strcmp(csv->columns->pdata[i], names[n]) == 0)
        return i;
  return -1;
}

static gboolean
csv_header(VictimsParser *p, VictimsCsv *csv, GPtrArray *raw, GError **error)
{
  for (guint i = 0; i < raw->len; i++) {
    char *column = victims_column_name(raw->pdata[i]);
    if (column == NULL)
      return victims_fail(p, error,
                          "column '%s': name columns with letters, digits, '_', '-' or "
                          "spaces",
                          (char *)raw->pdata[i]);
    for (guint j = 0; j < csv->columns->len; j++)
      if (strcmp(csv->columns->pdata[j], column) == 0) {
        g_free(column);
        return victims_fail(p, error, "column '%s' appears twice in the header row",
                            (char *)raw->pdata[i]);
      }
    g_ptr_array_add(csv->columns, column);
  }
  csv->email = csv_find(csv, csv_address_names);
  csv->name = csv_find(csv, csv_name_names);
  csv->first = csv_find(csv, csv_first_names);
  csv->last = csv_find(csv, csv_last_names);
  if (csv->email < 0)
    return victims_fail(p, error,
                        "the header row has no 'email' column: name the column of addresses "
                        "email (or mail, address, courriel)");
  p->detail
      = g_strdup_printf("CSV, header row, address in column '%s'", (char *)raw->pdata[csv->email]);
  return TRUE;
}

/* No header: the first row holds data; its one field with an '@' is the
 * address column. */
static gboolean
csv_no_header(VictimsParser *p, VictimsCsv *csv, GPtrArray *first, GError **error)
{
  int email = -1;

  for (guint i = 0; i < first->len; i++) {
    if (strchr(first->pdata[i], '@') == NULL)
      continue;
    if (email >= 0)
      return victims_fail(p, error,
                          "two addresses on one line ('%s' and '%s'): put one victim per line",
                          (char *)first->pdata[email], (char *)first->pdata[i]);
    email = i;
  }
  csv->email = email;
  csv->name = csv->first = csv->last = -1;
  for (guint i = 0; i < first->len; i++)
    g_ptr_array_add(csv->columns, g_strdup_printf("column%u", i + 1));
  if (first->len > 1)
    p->detail = g_strdup_printf("CSV, no header, address in column %d, name from the other "
                                "column%s",
                                email + 1, first->len > 2 ? "s" : "");
  else
    p->detail = g_strdup("CSV, no header");
  return TRUE;
}

static char *
csv_name_of(const VictimsCsv *csv, GPtrArray *fields)
{
  GString *name = g_string_new(NULL);

  if (csv->header && csv->name >= 0)
    g_string_append(name, fields->pdata[csv->name]);
  else if (csv->header && (csv->first >= 0 || csv->last >= 0)) {
    if (csv->first >= 0)
      g_string_append(name, fields->pdata[csv->first]);
    if (csv->last >= 0 && ((char *)fields->pdata[csv->last])[0] != '\0')
      g_string_append_printf(name, "%s%s", name->len ? " " : "", (char *)fields->pdata[csv->last]);
  } else if (!csv->header) {
    for (guint i = 0; i < fields->len; i++)
      if ((int)i != csv->email && ((char *)fields->pdata[i])[0] != '\0')
        g_string_append_printf(name, "%s%s", name->len ? " " : "", (char *)fields->pdata[i]);
  }
  return g_string_free(name, FALSE);
}

static void
csv_row(VictimsParser *p, const VictimsCsv *csv, const char *line, GPtrArray *fields)
{
  g_autofree char *name = NULL;
  FarceurVictim *victim;

  if (fields->len != csv->columns->len) {
    g_autofree char *why
        = g_strdup_printf("%u fields, the %s has %u: '%s'", fields->len,
                          csv->header ? "header row" : "first row", csv->columns->len, line);
    victims_invalid(p, line, why);
    return;
  }
  victim = victims_add_text(p, fields->pdata[csv->email]);
  if (victim == NULL)
    return;
  name = csv_name_of(csv, fields);
  if (!victims_set_display_name(p, victim, name))
    return;
  for (guint i = 0; i < fields->len; i++)
    if ((int)i != csv->email && (int)i != csv->name)
      g_hash_table_insert(victim->vars, g_strdup(csv->columns->pdata[i]),
                          g_strdup(fields->pdata[i]));
}

static gboolean
csv_first_row(VictimsParser *p, VictimsCsv *csv, const char *line, GError **error)
{
  const char *problem = NULL;
  g_autoptr(GPtrArray) fields = NULL;

  csv->sep = victims_csv_separator(line);
  if (csv->sep == '\0')
    csv->sep = ',';
  fields = csv_split(line, csv->sep, &problem);
  if (fields == NULL)
    return victims_fail(p, error, "%s", problem);
  csv->columns = g_ptr_array_new_with_free_func(g_free);
  csv->header = TRUE;
  for (guint i = 0; i < fields->len; i++)
    if (strchr(fields->pdata[i], '@') != NULL)
      csv->header = FALSE;
  if (csv->header)
    return csv_header(p, csv, fields, error);
  if (!csv_no_header(p, csv, fields, error))
    return FALSE;
  csv_row(p, csv, line, fields);
  return TRUE;
}

/**
 * victims_read_csv:
 * @p: the parser
 * @lines: the file's lines (CR of CRLF removed)
 * @error: return location for an error about the file as a whole
 *
 * Returns: %FALSE on a header or first row that cannot be used
 */
gboolean
victims_read_csv(VictimsParser *p, char **lines, GError **error)
{
  VictimsCsv csv = { 0 };
  gboolean ok = TRUE;

  for (guint i = 0; ok && lines[i] != NULL; i++) {
    char *line = g_strstrip(lines[i]);
    const char *problem = NULL;
    g_autoptr(GPtrArray) fields = NULL;
    p->line = i + 1;
    if (line[0] == '\0' || line[0] == '#')
      continue;
    if (csv.columns == NULL) {
      ok = csv_first_row(p, &csv, line, error);
      continue;
    }
    fields = csv_split(line, csv.sep, &problem);
    if (fields == NULL) {
      g_autofree char *why = g_strdup_printf("%s: '%s'", problem, line);
      victims_invalid(p, line, why);
    } else
      csv_row(p, &csv, line, fields);
  }
  if (ok && csv.columns == NULL)
    ok = victims_fail(p, error, "no header row, and no victim");
  g_clear_pointer(&csv.columns, g_ptr_array_unref);
  return ok;
}
