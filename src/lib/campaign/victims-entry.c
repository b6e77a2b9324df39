/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: one victim and the rules of a victims file (data/doc/formats.md,
 * Victims files), whatever its format.
 *
 * A victim is one mailbox, "addr" or "Name <addr>", parsed by GMime in
 * strict mode and then held to what an SMTP command needs.  An address
 * listed again is kept once; every repeat is named in one warning.  An
 * entry that is not a usable address is left out and named, with its line,
 * in the report; with --strict every such entry is an error instead, all of
 * them in one message.  The leaf of the victims readers. */
#include "config.h"

#include <string.h>

#include <farceur/campaign.h>
#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/init.h>

#include "campaign-private.h"
#include "error-text.h"

typedef struct {
  char *addr;
  GArray *lines; /* guint */
} VictimsRepeat;

static void
victims_repeat_free(gpointer data)
{
  VictimsRepeat *r = data;

  g_free(r->addr);
  g_array_unref(r->lines);
  g_free(r);
}

static void
victims_note_free(gpointer data)
{
  FarceurReadNote *note = data;

  g_free(note->text);
  g_free(note);
}

void
victims_parser_init(VictimsParser *p, const char *file, gboolean strict, FarceurReadFile *note)
{
  memset(p, 0, sizeof *p);
  p->file = file;
  p->strict = strict;
  p->note = note;
  p->victims = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_victim_free);
  p->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  p->repeats = g_ptr_array_new_with_free_func(victims_repeat_free);
  p->invalid = g_ptr_array_new_with_free_func(victims_note_free);
}

void
victims_parser_clear(VictimsParser *p)
{
  g_clear_pointer(&p->victims, g_ptr_array_unref);
  g_clear_pointer(&p->seen, g_hash_table_unref);
  g_clear_pointer(&p->repeats, g_ptr_array_unref);
  g_clear_pointer(&p->invalid, g_ptr_array_unref);
  g_clear_pointer(&p->detail, g_free);
}

gboolean
victims_fail(const VictimsParser *p, GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start(ap, format);
  message = g_strdup_vprintf(format, ap);
  va_end(ap);
  if (p == NULL) /* farceur_campaign_parse_mailbox(): the caller names the place */
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, message);
  else if (p->line == 0)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "victims '%s': %s", p->file, message);
  else
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "victims '%s' line %u: %s", p->file,
                p->line, message);
  return FALSE;
}

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

/* ---- one mailbox ---- */

/* Domain labels as RFC 1035 host names have them: 1-63 octets, no leading
 * or trailing '-' (envelope.c has checked the characters and dots). */
static gboolean
victims_check_domain(const char *addr, GError **error)
{
  const char *domain = strrchr(addr, '@') + 1;
  g_auto(GStrv) labels = NULL;

  if (domain[0] == '[')
    return TRUE;
  labels = g_strsplit(domain, ".", -1);
  for (guint i = 0; labels[i]; i++) {
    gsize len = strlen(labels[i]);
    if (len > 63)
      return victims_fail(NULL, error, "invalid address '%s': domain label longer than 63 octets",
                          addr);
    if (labels[i][0] == '-' || labels[i][len - 1] == '-')
      return victims_fail(NULL, error,
                          "invalid address '%s': domain label '%s' starts or ends with '-'", addr,
                          labels[i]);
  }
  return TRUE;
}

/* GMime's address parser skips what it cannot use ("a@x; b@y" gives a@x,
 * a trailing "# note" vanishes), so the text itself must be exactly "addr"
 * or "NAME <addr>" around the one mailbox GMime found. */
static gboolean
victims_text_is_mailbox(const char *text, const char *addr)
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
victims_fail_form(const char *text, GError **error)
{
  if (text[0] != '\0' && strchr(text, '@') == NULL)
    return victims_fail(NULL, error, "invalid address '%s': no '@'", text);
  return victims_fail(
      NULL, error, "expected one address, 'addr' or 'Name <addr>', got '%s'%s", text,
      strchr(text, '#') ? " ('#' starts a comment only at the start of a line)" : "");
}

/* Whether the angle brackets outside quotes pair up, one level deep, with
 * no ',' or ';' between them and no '@' in the name before them.  GMime
 * 3.2.13's strict address parser leaks what it read of a mailbox whose
 * bracket is stray ("c@x.org>"), never closed ("A <c@x.org"), holds a list
 * separator ("A <a,b@x.org>") or follows an address ("a@x b <c@y>"): none
 * is one address, and they are refused here, before GMime sees them
 * (tests/valgrind.supp; found by tests/fuzz/fuzz-lab.c). */
static gboolean
victims_brackets_pair(const char *text)
{
  gboolean quoted = FALSE, open = FALSE;
  const char *lt = strchr(text, '<');

  for (const char *c = text; *c; c++) {
    if (!quoted && !open && *c == '@' && lt != NULL && c < lt)
      return FALSE;
    else if (*c == '\\' && c[1] != '\0')
      c++;
    else if (*c == '"')
      quoted = !quoted;
    else if (!quoted && *c == '<') {
      if (open)
        return FALSE;
      open = TRUE;
    } else if (!quoted && *c == '>') {
      if (!open)
        return FALSE;
      open = FALSE;
    } else if (!quoted && open && (*c == ',' || *c == ';')) {
      return FALSE;
    }
  }
  return !open;
}

static InternetAddress *
victims_parse_strict(const char *text, InternetAddressList **list, GError **error)
{
  g_autoptr(GMimeParserOptions) options = NULL;
  InternetAddress *ia;

  *list = NULL;
  if (!victims_brackets_pair(text)) {
    victims_fail_form(text, error);
    return NULL;
  }
  options = g_mime_parser_options_new();

  g_mime_parser_options_set_address_compliance_mode(options, GMIME_RFC_COMPLIANCE_STRICT);
  g_mime_parser_options_set_rfc2047_compliance_mode(options, GMIME_RFC_COMPLIANCE_STRICT);
  *list = internet_address_list_parse(options, text);
  if (*list == NULL || internet_address_list_length(*list) != 1) {
    victims_fail_form(text, error);
    return NULL;
  }
  ia = internet_address_list_get_address(*list, 0);
  if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) {
    victims_fail(NULL, error, "'%s' is a group, not an address", text);
    return NULL;
  }
  if (!victims_text_is_mailbox(text,
                               internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)))) {
    victims_fail_form(text, error);
    return NULL;
  }
  return ia;
}

static gboolean
victims_check_name(const char *name, GError **error)
{
  for (const guchar *c = (const guchar *)name; *c; c++)
    if ((*c < 0x20 && *c != '\t') || *c == 0x7f) {
      g_autofree char *shown = g_strescape(name, NULL);
      return victims_fail(NULL, error, "display name '%s' decodes to control character 0x%02x",
                          shown, *c);
    }
  return TRUE;
}

/* Sets the display name to what a reader of the composed message will see:
 * the composer re-parses "Name <addr>" leniently, which decodes RFC 2047
 * words even inside quotes, so the name is checked after that round trip
 * (a name decoding to CR LF must fail here, with its line, not later). */
static gboolean
victims_set_name(FarceurVictim *victim, const char *name, GError **error)
{
  g_autofree char *mailbox = NULL;
  g_autoptr(InternetAddressList) list = NULL;
  const char *seen;

  g_free(victim->name);
  victim->name = name && name[0] ? g_strdup(name) : NULL;
  if (victim->name == NULL)
    return TRUE;
  if (!victims_check_name(victim->name, error))
    return FALSE;
  mailbox = farceur_victim_to_mailbox(victim);
  list = internet_address_list_parse(NULL, mailbox);
  if (list == NULL || internet_address_list_length(list) != 1)
    return victims_fail(NULL, error, "display name '%s' does not survive quoting", victim->name);
  seen = internet_address_get_name(internet_address_list_get_address(list, 0));
  if (seen && !victims_check_name(seen, error))
    return FALSE;
  g_free(victim->name);
  victim->name = seen && seen[0] ? g_strdup(seen) : NULL;
  return TRUE;
}

/* "addr" or "Name <addr>" with GMime in strict mode, then held to the rules
 * an SMTP command needs. */
static FarceurVictim *
victims_parse_mailbox(const char *text, GError **error)
{
  g_autoptr(InternetAddressList) list = NULL;
  g_autoptr(GError) local = NULL;
  InternetAddress *ia = victims_parse_strict(text, &list, error);
  g_autoptr(FarceurVictim) victim = NULL;
  const char *addr;

  if (ia == NULL)
    return NULL;
  addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
  if (!farceur_envelope_check_address(addr, &local)) {
    victims_fail(NULL, error, "%s", local->message);
    return NULL;
  }
  if (!victims_check_domain(addr, error))
    return NULL;
  victim = g_new0(FarceurVictim, 1);
  victim->addr = g_strdup(addr);
  victim->vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (!victims_set_name(victim, internet_address_get_name(ia), error))
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
  g_return_val_if_fail(text != NULL, NULL);
  return victims_parse_mailbox(text, error);
}

gboolean
victims_has_control(const char *text)
{
  for (const char *c = text; *c; c++)
    if (((guchar)*c < 0x20 && *c != '\t') || *c == 0x7f)
      return TRUE;
  return FALSE;
}

/* ---- the file's rules ---- */

/**
 * victims_invalid:
 * @p: the parser, at the entry's line
 * @entry: the entry as written
 * @why: what is wrong with it
 *
 * Leaves the entry out (named in the report); with --strict it will make
 * victims_finish() fail.
 */
void
victims_invalid(VictimsParser *p, const char *entry, const char *why)
{
  FarceurReadNote *note = g_new0(FarceurReadNote, 1);

  (void)entry; /* every reason quotes the entry */
  note->line = p->line;
  note->text = g_strdup(why);
  g_ptr_array_add(p->invalid, note);
  farceur_read_file_skip(p->note, p->line, "%s", why);
}

static FarceurVictim *
victims_add(VictimsParser *p, FarceurVictim *victim)
{
  g_autofree char *key = g_ascii_strdown(victim->addr, -1);
  gpointer value;

  victim->line = p->line;
  if (g_hash_table_lookup_extended(p->seen, key, NULL, &value)) {
    guint r = GPOINTER_TO_UINT(value);
    if (r == 0) {
      VictimsRepeat *repeat = g_new0(VictimsRepeat, 1);
      repeat->lines = g_array_new(FALSE, FALSE, sizeof(guint));
      for (guint i = 0; i < p->victims->len && repeat->addr == NULL; i++) {
        const FarceurVictim *first = p->victims->pdata[i];
        if (g_ascii_strcasecmp(first->addr, victim->addr) == 0) {
          repeat->addr = g_strdup(first->addr); /* as first written */
          g_array_append_val(repeat->lines, first->line);
        }
      }
      g_ptr_array_add(p->repeats, repeat);
      r = p->repeats->len;
      g_hash_table_insert(p->seen, g_strdup(key), GUINT_TO_POINTER(r));
    }
    g_array_append_val(((VictimsRepeat *)p->repeats->pdata[r - 1])->lines, p->line);
    farceur_victim_free(victim);
    return NULL;
  }
  g_hash_table_insert(p->seen, g_steal_pointer(&key), GUINT_TO_POINTER(0));
  g_ptr_array_add(p->victims, victim);
  return victim;
}

/* An Internet address: its domain has a dot ("localhost" is not one a
 * classmate reads mail at). */
static gboolean
victims_check_internet(const FarceurVictim *victim, GError **error)
{
  const char *domain = strrchr(victim->addr, '@') + 1;

  if (domain[0] != '[' && strchr(domain, '.') == NULL)
    return victims_fail(NULL, error, "invalid address '%s': the domain '%s' has no dot",
                        victim->addr, domain);
  return TRUE;
}

/**
 * victims_add_text:
 * @p: the parser, at the entry's line
 * @text: "addr" or "Name <addr>"
 *
 * Returns: (transfer none) (nullable): the new victim, %NULL when the entry
 *   was invalid (recorded) or a repeat (kept once)
 */
FarceurVictim *
victims_add_text(VictimsParser *p, const char *text)
{
  g_autoptr(GError) local = NULL;
  FarceurVictim *victim;

  if (victims_has_control(text)) {
    g_autofree char *shown = g_strescape(text, NULL);
    const char *c = text;
    g_autofree char *why = NULL;
    while (!(((guchar)*c < 0x20 && *c != '\t') || *c == 0x7f))
      c++;
    why = g_strdup_printf("control character 0x%02x in '%s'", (guchar)*c, shown);
    victims_invalid(p, text, why);
    return NULL;
  }
  victim = victims_parse_mailbox(text, &local);
  if (victim != NULL && !victims_check_internet(victim, &local))
    g_clear_pointer(&victim, farceur_victim_free);
  if (victim == NULL) {
    victims_invalid(p, text, local->message);
    return NULL;
  }
  return victims_add(p, victim);
}

/**
 * victims_set_display_name:
 * @p: the parser, at the entry's line
 * @victim: a victim just added
 * @name: (nullable): the name another column or member gives
 *
 * Returns: %FALSE when the name is unusable (recorded as an invalid entry,
 *   and the victim removed)
 */
gboolean
victims_set_display_name(VictimsParser *p, FarceurVictim *victim, const char *name)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *key = NULL;

  if (name == NULL || name[0] == '\0' || victims_set_name(victim, name, &local))
    return TRUE;
  victims_invalid(p, name, local->message);
  key = g_ascii_strdown(victim->addr, -1);
  g_hash_table_remove(p->seen, key);
  g_ptr_array_remove(p->victims, victim);
  return FALSE;
}

/* "First Name" -> "first_name", "Prénom" -> "prenom": a column or member
 * must make a usable placeholder; NULL when it cannot. */
char *
victims_column_name(const char *raw)
{
  g_autofree char *ascii = g_str_to_ascii(raw, "C");
  g_autofree char *name = g_ascii_strdown(g_strstrip(ascii), -1);

  for (char *c = name; *c; c++) {
    if (*c == ' ' || *c == '-')
      *c = '_';
    else if (!g_ascii_isalnum(*c) && *c != '_')
      return NULL;
  }
  return name[0] ? g_steal_pointer(&name) : NULL;
}

static char *
victims_lines_text(GArray *lines)
{
  GString *out = g_string_new(NULL);

  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf(out, "%s%u", i ? ", " : "", g_array_index(lines, guint, i));
  return g_string_free(out, FALSE);
}

static void
victims_warn_repeats(VictimsParser *p)
{
  g_autoptr(GString) list = g_string_new(NULL);

  for (guint i = 0; i < p->repeats->len; i++) {
    VictimsRepeat *r = p->repeats->pdata[i];
    g_autofree char *lines = victims_lines_text(r->lines);
    g_string_append_printf(list, "%s%s (lines %s)", i ? ", " : "", r->addr, lines);
    if (p->note)
      g_ptr_array_add(p->note->repeated, g_strdup(r->addr));
  }
  if (p->repeats->len > 0)
    farceur_read_file_warn(p->note, 0, "%u repeated address%s kept once: %s", p->repeats->len,
                           p->repeats->len == 1 ? "" : "es", list->str);
}

static gboolean
victims_fail_strict(VictimsParser *p, GError **error)
{
  g_autoptr(GString) all = g_string_new(NULL);

  for (guint i = 0; i < p->invalid->len; i++) {
    const FarceurReadNote *note = p->invalid->pdata[i];
    g_string_append_printf(all, "%sline %u: %s", i ? "; " : "", note->line, note->text);
  }
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
              "victims '%s' %s (--strict refuses invalid entries: fix %s, or leave out --strict "
              "to skip %s with a warning)",
              p->file, all->str, p->invalid->len == 1 ? "it" : "them",
              p->invalid->len == 1 ? "it" : "them");
  return FALSE;
}

/**
 * victims_finish:
 * @p: the parser, after the last entry
 * @error: return location for the error of --strict, or of a file without
 *   any victim
 *
 * Returns: %TRUE when the victims can be used
 */
gboolean
victims_finish(VictimsParser *p, GError **error)
{
  p->line = 0;
  if (p->strict && p->invalid->len > 0)
    return victims_fail_strict(p, error);
  victims_warn_repeats(p);
  if (p->victims->len == 0)
    return victims_fail(p, error, "no victim in the file%s",
                        p->invalid->len ? " (every entry is invalid)" : "");
  if (p->note != NULL)
    p->note->count = p->victims->len;
  return TRUE;
}

/* Splits "a@x, \"Doe, J\" <b@y>" at the commas and semicolons outside
 * quotes, comments and angle brackets (and at blanks there too when
 * @blanks).  Hand written: GMime's list parser drops what it cannot read
 * ("a@x; b@y" gives a@x alone), and each piece must be checked whole. */
GPtrArray *
campaign_split_addresses(const char *value, gboolean blanks)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  const char *start = value;
  gboolean quoted = FALSE;
  int depth = 0; /* ( ) comments and < > */

  for (const char *c = value;; c++) {
    gboolean cut = !quoted && depth == 0
                   && (*c == ',' || *c == ';' || (blanks && (*c == ' ' || *c == '\t')));
    if (*c == '\0' || cut) {
      char *piece = g_strstrip(g_strndup(start, c - start));
      if (piece[0] != '\0' || !blanks)
        g_ptr_array_add(out, piece);
      else
        g_free(piece);
      if (*c == '\0')
        return out;
      start = c + 1;
    } else if (*c == '\\' && c[1] != '\0') {
      c++;
    } else if (*c == '"') {
      quoted = !quoted;
    } else if (!quoted && (*c == '(' || *c == '<')) {
      depth++;
    } else if (!quoted && (*c == ')' || *c == '>') && depth > 0) {
      depth--;
    }
  }
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
