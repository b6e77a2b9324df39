/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: victims files (data/doc/formats.md, Victims files).
 *
 * A text file holds one mailbox per line, exactly "addr" or "Name <addr>"
 * (anything else on the line is an error, a trailing "# note" included),
 * with blank lines and lines starting with "#" ignored; a leading UTF-8 BOM
 * is skipped.  A .csv file has a header row
 * with an "email" column (and optionally "name"); every other column becomes
 * a variable.  A duplicated address is an error naming both lines: one
 * victim in two groups, or twice in one, spoils the prank. */
#include "config.h"

#include <string.h>

#include <farceur/campaign.h>
#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/init.h>

#include "campaign-private.h"
#include "error-text.h"

typedef struct {
  const char *file;
  guint line;
  GPtrArray *victims;
  GHashTable *seen; /* lower-cased address -> line (GUINT_TO_POINTER) */
} VictimsParser;

static gboolean victims_fail(const VictimsParser *p, GError **error, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

static gboolean
victims_fail(const VictimsParser *p, GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start(ap, format);
  message = g_strdup_vprintf(format, ap);
  va_end(ap);
  if (p == NULL) /* farceur_campaign_parse_mailbox(): the caller names the place */
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, message);
  else
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "victims '%s' line %u: %s", p->file,
                p->line, message);
  return FALSE;
}

/**
 * farceur_victim_free:
 * @victim: (nullable): a victim
 */
void
farceur_victim_free(FarceurVictim *victim)
{
  if (victim == NULL)
    return;
  g_free(victim->name);
  g_free(victim->addr);
  g_hash_table_unref(victim->vars);
  g_free(victim);
}

/**
 * farceur_victim_to_mailbox:
 * @victim: a victim
 *
 * Returns: (transfer full): "Name <addr>" with the name quoted as RFC 5322
 *   needs (not RFC 2047-encoded), or the bare address
 */
char *
farceur_victim_to_mailbox(const FarceurVictim *victim)
{
  g_autoptr(InternetAddress) ia = NULL;

  g_return_val_if_fail(victim != NULL, NULL);

  ia = internet_address_mailbox_new(victim->name, victim->addr);
  return internet_address_to_string(ia, NULL, FALSE);
}

/* Domain labels as RFC 1035 host names have them: 1-63 octets, no leading
 * or trailing '-' (envelope.c has checked the characters and dots). */
static gboolean
victims_check_domain(const VictimsParser *p, const char *addr, GError **error)
{
  const char *domain = strrchr(addr, '@') + 1;
  g_auto(GStrv) labels = NULL;

  if (domain[0] == '[')
    return TRUE;
  labels = g_strsplit(domain, ".", -1);
  for (guint i = 0; labels[i]; i++) {
    gsize len = strlen(labels[i]);
    if (len > 63)
      return victims_fail(p, error, "invalid address '%s': domain label longer than 63 octets",
                          addr);
    if (labels[i][0] == '-' || labels[i][len - 1] == '-')
      return victims_fail(p, error,
                          "invalid address '%s': domain label '%s' starts or ends with '-'", addr,
                          labels[i]);
  }
  return TRUE;
}

/* GMime's address parser skips what it cannot use ("a@x; b@y" gives a@x,
 * a trailing "# note" vanishes), so the line itself must be exactly "addr"
 * or "NAME <addr>" around the one mailbox GMime found. */
static gboolean
victims_line_is_mailbox(const char *text, const char *addr)
{
  gsize len = strlen(text);
  const char *lt;
  g_autofree char *inner = NULL;

  if (strcmp(text, addr) == 0)
    return TRUE;
  if (len == 0 || text[len - 1] != '>' || (lt = strrchr(text, '<')) == NULL)
    return FALSE;
  inner = g_strstrip(g_strndup(lt + 1, text + len - 1 - (lt + 1)));
  return strcmp(inner, addr) == 0;
}

static gboolean
victims_fail_form(const VictimsParser *p, const char *text, GError **error)
{
  return victims_fail(p, error, "expected one address, 'addr' or 'Name <addr>', got '%s'%s", text,
                      strchr(text, '#') ? " ('#' starts a comment only at the start of a line)"
                                        : "");
}

static InternetAddress *
victims_parse_strict(const VictimsParser *p, const char *text, InternetAddressList **list,
                     GError **error)
{
  g_autoptr(GMimeParserOptions) options = g_mime_parser_options_new();
  InternetAddress *ia;

  g_mime_parser_options_set_address_compliance_mode(options, GMIME_RFC_COMPLIANCE_STRICT);
  g_mime_parser_options_set_rfc2047_compliance_mode(options, GMIME_RFC_COMPLIANCE_STRICT);
  *list = internet_address_list_parse(options, text);
  if (*list == NULL || internet_address_list_length(*list) != 1) {
    victims_fail_form(p, text, error);
    return NULL;
  }
  ia = internet_address_list_get_address(*list, 0);
  if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) {
    victims_fail(p, error, "'%s' is a group, not an address", text);
    return NULL;
  }
  if (!victims_line_is_mailbox(text,
                               internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)))) {
    victims_fail_form(p, text, error);
    return NULL;
  }
  return ia;
}

static gboolean
victims_check_name(const VictimsParser *p, const char *name, GError **error)
{
  for (const guchar *c = (const guchar *)name; *c; c++)
    if ((*c < 0x20 && *c != '\t') || *c == 0x7f) {
      g_autofree char *shown = g_strescape(name, NULL);
      return victims_fail(p, error, "display name '%s' decodes to control character 0x%02x", shown,
                          *c);
    }
  return TRUE;
}

/* Sets the display name to what a reader of the composed message will see:
 * the composer re-parses "Name <addr>" leniently, which decodes RFC 2047
 * words even inside quotes, so the name is checked after that round trip
 * (a name decoding to CR LF must fail here, with its line, not later). */
static gboolean
victims_set_name(const VictimsParser *p, FarceurVictim *victim, const char *name, GError **error)
{
  g_autofree char *mailbox = NULL;
  g_autoptr(InternetAddressList) list = NULL;
  const char *seen;

  g_free(victim->name);
  victim->name = name && name[0] ? g_strdup(name) : NULL;
  if (victim->name == NULL)
    return TRUE;
  if (!victims_check_name(p, victim->name, error))
    return FALSE;
  mailbox = farceur_victim_to_mailbox(victim);
  list = internet_address_list_parse(NULL, mailbox);
  if (list == NULL || internet_address_list_length(list) != 1)
    return victims_fail(p, error, "display name '%s' does not survive quoting", victim->name);
  seen = internet_address_get_name(internet_address_list_get_address(list, 0));
  if (seen && !victims_check_name(p, seen, error))
    return FALSE;
  g_free(victim->name);
  victim->name = seen && seen[0] ? g_strdup(seen) : NULL;
  return TRUE;
}

/* Parses "addr" or "Name <addr>" with GMime in strict mode, then holds the
 * result to the rules an SMTP command needs. */
static FarceurVictim *
victims_parse_mailbox(const VictimsParser *p, const char *text, GError **error)
{
  g_autoptr(InternetAddressList) list = NULL;
  g_autoptr(GError) local = NULL;
  InternetAddress *ia = victims_parse_strict(p, text, &list, error);
  g_autoptr(FarceurVictim) victim = NULL;
  const char *addr;

  if (ia == NULL)
    return NULL;
  addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
  if (!farceur_envelope_check_address(addr, &local)) {
    victims_fail(p, error, "%s", local->message);
    return NULL;
  }
  if (!victims_check_domain(p, addr, error))
    return NULL;
  victim = g_new0(FarceurVictim, 1);
  victim->addr = g_strdup(addr);
  victim->vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  victim->line = p ? p->line : 0;
  if (!victims_set_name(p, victim, internet_address_get_name(ia), error))
    return NULL;
  return g_steal_pointer(&victim);
}

/**
 * farceur_campaign_parse_mailbox:
 * @text: exactly "addr" or "Name <addr>"
 * @error: return location for a %FARCEUR_ERROR_DATA error that does not
 *   name a place (the caller adds it)
 *
 * The victims-line rules for one mailbox given elsewhere (a witness).
 *
 * Returns: (transfer full): the mailbox as a victim (line 0, no variables)
 */
FarceurVictim *
farceur_campaign_parse_mailbox(const char *text, GError **error)
{
  return victims_parse_mailbox(NULL, text, error);
}

static gboolean
victims_check_text(const VictimsParser *p, const char *text, GError **error)
{
  for (const char *c = text; *c; c++)
    if (((guchar)*c < 0x20 && *c != '\t') || *c == 0x7f)
      return victims_fail(p, error, "control character 0x%02x", (guchar)*c);
  if (!g_utf8_validate(text, -1, NULL))
    return victims_fail(p, error, "not valid UTF-8");
  return TRUE;
}

static gboolean
victims_add(VictimsParser *p, FarceurVictim *victim, GError **error)
{
  g_autofree char *key = g_ascii_strdown(victim->addr, -1);
  gpointer first = g_hash_table_lookup(p->seen, key);

  if (first != NULL) {
    victims_fail(p, error, "duplicate address '%s' (already on line %u)", victim->addr,
                 GPOINTER_TO_UINT(first));
    farceur_victim_free(victim);
    return FALSE;
  }
  g_hash_table_insert(p->seen, g_steal_pointer(&key), GUINT_TO_POINTER(victim->line));
  g_ptr_array_add(p->victims, victim);
  return TRUE;
}

/* ---- CSV ----
 *
 * Hand written (GLib has no CSV reader): RFC 4180 fields, quoted with '"'
 * and '""' for a quote; no line breaks inside fields.  The separator is ','
 * unless the header row has none and has ';' (spreadsheets in French
 * locales write ';'). */

static GPtrArray *
victims_csv_split(const VictimsParser *p, const char *line, char sep, GError **error)
{
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GString) field = g_string_new(NULL);
  const char *c = line;

  for (;;) {
    g_string_truncate(field, 0);
    if (*c == '"') {
      for (c++; !(*c == '"' && c[1] != '"'); c++) {
        if (*c == '\0') {
          victims_fail(p, error, "unterminated quoted field");
          return NULL;
        }
        if (*c == '"')
          c++;
        g_string_append_c(field, *c);
      }
      c++;
      if (*c != sep && *c != '\0') {
        victims_fail(p, error, "text after a quoted field");
        return NULL;
      }
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

typedef struct {
  char sep;
  GPtrArray *columns; /* normalised names */
  int email;
  int name;
} VictimsCsv;

/* "First Name" -> "first_name": a column must make a usable placeholder. */
static char *
victims_csv_column(const VictimsParser *p, const char *raw, GError **error)
{
  g_autofree char *name = g_ascii_strdown(raw, -1);

  for (char *c = name; *c; c++) {
    if (*c == ' ' || *c == '-')
      *c = '_';
    else if (!g_ascii_isalnum(*c) && *c != '_') {
      victims_fail(p, error, "column '%s': use letters, digits, '_', '-' or spaces", raw);
      return NULL;
    }
  }
  if (name[0] == '\0') {
    victims_fail(p, error, "empty column name in the header row");
    return NULL;
  }
  return g_steal_pointer(&name);
}

static gboolean
victims_csv_header(const VictimsParser *p, VictimsCsv *csv, const char *line, GError **error)
{
  g_autoptr(GPtrArray) raw = NULL;

  csv->sep = strchr(line, ',') == NULL && strchr(line, ';') != NULL ? ';' : ',';
  raw = victims_csv_split(p, line, csv->sep, error);
  if (raw == NULL)
    return FALSE;
  csv->columns = g_ptr_array_new_with_free_func(g_free);
  csv->email = csv->name = -1;
  for (guint i = 0; i < raw->len; i++) {
    char *column = victims_csv_column(p, raw->pdata[i], error);
    if (column == NULL)
      return FALSE;
    for (guint j = 0; j < csv->columns->len; j++)
      if (strcmp(csv->columns->pdata[j], column) == 0) {
        g_free(column);
        return victims_fail(p, error, "column '%s' appears twice", (char *)raw->pdata[i]);
      }
    if (strcmp(column, "email") == 0)
      csv->email = i;
    else if (strcmp(column, "name") == 0)
      csv->name = i;
    g_ptr_array_add(csv->columns, column);
  }
  if (csv->email < 0)
    return victims_fail(p, error, "the header row has no 'email' column");
  return TRUE;
}

static gboolean
victims_csv_row(VictimsParser *p, const VictimsCsv *csv, const char *line, GError **error)
{
  g_autoptr(GPtrArray) fields = victims_csv_split(p, line, csv->sep, error);
  FarceurVictim *victim;

  if (fields == NULL)
    return FALSE;
  if (fields->len != csv->columns->len)
    return victims_fail(p, error, "%u fields, the header row has %u", fields->len,
                        csv->columns->len);
  victim = victims_parse_mailbox(p, fields->pdata[csv->email], error);
  if (victim == NULL)
    return FALSE;
  if (csv->name >= 0 && ((char *)fields->pdata[csv->name])[0] != '\0'
      && !victims_set_name(p, victim, fields->pdata[csv->name], error)) {
    farceur_victim_free(victim);
    return FALSE;
  }
  for (guint i = 0; i < fields->len; i++)
    if ((int)i != csv->email && (int)i != csv->name)
      g_hash_table_insert(victim->vars, g_strdup(csv->columns->pdata[i]),
                          g_strdup(fields->pdata[i]));
  return victims_add(p, victim, error);
}

static gboolean
victims_parse_line(VictimsParser *p, VictimsCsv *csv, gboolean is_csv, const char *line,
                   GError **error)
{
  FarceurVictim *victim;

  if (!victims_check_text(p, line, error))
    return FALSE;
  if (!is_csv) {
    victim = victims_parse_mailbox(p, line, error);
    return victim != NULL && victims_add(p, victim, error);
  }
  if (csv->columns == NULL)
    return victims_csv_header(p, csv, line, error);
  return victims_csv_row(p, csv, line, error);
}

/**
 * farceur_campaign_parse_victims:
 * @text: the file's contents
 * @length: its length, or -1 when NUL-terminated
 * @file: the file name, for error messages
 * @csv: whether @text is CSV (else one mailbox per line)
 * @error: return location for a %FARCEUR_ERROR_DATA error naming file and line
 *
 * Returns: (transfer full) (element-type FarceurVictim) (nullable): the
 *   victims in file order, or %NULL on the first bad line
 */
GPtrArray *
farceur_campaign_parse_victims(const char *text, gssize length, const char *file, gboolean csv,
                               GError **error)
{
  g_autofree char *copy = NULL;
  g_autoptr(GPtrArray) victims = NULL;
  g_autoptr(GHashTable) seen = NULL;
  VictimsParser p = { file, 0, NULL, NULL };
  VictimsCsv csv_state = { 0 };
  g_auto(GStrv) lines = NULL;
  gboolean ok = TRUE;

  g_return_val_if_fail(text != NULL, NULL);
  g_return_val_if_fail(file != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  copy = length < 0 ? g_strdup(text) : g_strndup(text, length);
  p.victims = victims = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_victim_free);
  p.seen = seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  farceur_init();
  if (length >= 0 && memchr(text, '\0', length) != NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "victims '%s': NUL byte", file);
    return NULL;
  }
  /* Excel's "CSV UTF-8" and some editors start the file with a BOM. */
  lines = g_strsplit(g_str_has_prefix(copy, "\xef\xbb\xbf") ? copy + 3 : copy, "\n", -1);
  for (guint i = 0; ok && lines[i] != NULL; i++) {
    char *line = g_strstrip(lines[i]); /* also drops the CR of CRLF files */
    p.line = i + 1;
    if (line[0] != '\0' && line[0] != '#')
      ok = victims_parse_line(&p, &csv_state, csv, line, error);
  }
  if (ok && csv && csv_state.columns == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "victims '%s': no header row", file);
    ok = FALSE;
  }
  g_clear_pointer(&csv_state.columns, g_ptr_array_unref);
  return ok ? g_steal_pointer(&victims) : NULL;
}

/**
 * farceur_campaign_read_file:
 * @what: what the file is, for the message ("victims file")
 * @path: the file
 * @text: (out): its contents
 * @length: (out): their length
 * @error: return location for a %FARCEUR_ERROR_NOINPUT error
 *
 * g_file_get_contents() with a message in the house style:
 * "cannot read victims file 'x.txt': no such file".
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_campaign_read_file(const char *what, const char *path, char **text, gsize *length,
                           GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *why = NULL;

  if (g_file_get_contents(path, text, length, &local))
    return TRUE;
  why = farceur_file_error_text(local);
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT, "cannot read %s '%s': %s", what, path,
              why);
  return FALSE;
}

/**
 * farceur_campaign_load_victims:
 * @path: a victims file; CSV when its name ends in ".csv"
 * @error: return location for an error: %FARCEUR_ERROR_NOINPUT when it
 *   cannot be read, %FARCEUR_ERROR_DATA for a bad line
 *
 * Returns: (transfer full) (element-type FarceurVictim) (nullable): the
 *   victims, or %NULL on error
 */
GPtrArray *
farceur_campaign_load_victims(const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autofree char *lower = NULL;
  gsize length;

  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  lower = g_ascii_strdown(path, -1);
  if (!farceur_campaign_read_file("victims file", path, &text, &length, error))
    return NULL;
  return farceur_campaign_parse_victims(text, length, path, g_str_has_suffix(lower, ".csv"), error);
}
