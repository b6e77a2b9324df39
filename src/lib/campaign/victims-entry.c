/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the rules of a victims file (data/doc/formats.md, Victims
 * files), whatever its format.
 *
 * A victim is one mailbox (victims-mailbox.c).  An address listed again is
 * kept once; every repeat is named in one warning.  An entry that is not a
 * usable address is left out and named, with its line, in the report; with
 * --strict every such entry is an error instead, all of them in one
 * message.  Under the victims readers (victims-csv.c, victims-json.c). */
#include "config.h"

#include <string.h>

#include <farceur/campaign.h>
#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/init.h>

#include "campaign-private.h"

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
  if (p->line == 0)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "victims '%s': %s", p->file, message);
  else
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "victims '%s' line %u: %s", p->file,
                p->line, message);
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

  if (domain[0] != '[' && strchr(domain, '.') == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "invalid address '%s': the domain '%s' has no dot", victim->addr, domain);
    return FALSE;
  }
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
