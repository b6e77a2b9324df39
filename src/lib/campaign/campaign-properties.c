/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the syntax of Java .properties files, as java.util.Properties.load
 * reads them (the lab's config.properties; also .env files, which are its
 * KEY=VALUE subset).
 *
 * Hand-written: GKeyFile needs [groups] and reads escapes and comments its
 * own way, and nothing else in GLib reads this format.  The rules, from the
 * specification of Properties.load(Reader):
 *   - lines end with LF, CR or CR LF; a line of blanks (space, TAB, FF) is
 *     skipped; a line whose first non-blank character is '#' or '!' is a
 *     comment;
 *   - a line ending in an odd number of backslashes continues on the next
 *     one, whose leading blanks are dropped (a comment never continues);
 *   - the key runs to the first '=', ':' or blank not escaped; blanks, then
 *     one '=' or ':', then blanks separate it from the value;
 *   - in keys and values, \t \n \r \f are those characters, \uXXXX is a
 *     UTF-16 code unit (surrogate pairs combine), a backslash before any
 *     other character stands for that character.
 * The text arrives decoded (read-report.c decides UTF-8 or ISO-8859-1 from
 * the bytes).  A malformed \u escape is a problem named with its line and
 * the line is skipped; Java would stop. */
#include "config.h"

#include <string.h>

#include "campaign-private.h"

void
config_entry_free(gpointer data)
{
  ConfigEntry *entry = data;

  g_free(entry->key);
  g_free(entry->value);
  g_free(entry);
}

static gboolean
properties_is_blank_char(char c)
{
  return c == ' ' || c == '\t' || c == '\f';
}

static void properties_problem(GPtrArray *problems, guint line, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

static void
properties_problem(GPtrArray *problems, guint line, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start(args, format);
  what = g_strdup_vprintf(format, args);
  va_end(args);
  g_ptr_array_add(problems, g_strdup_printf("line %u: %s", line, what));
}

/* \uXXXX at @p (after the 'u'); -1 when malformed. */
static int
properties_hex4(const char *p)
{
  int value = 0;

  for (int i = 0; i < 4; i++) {
    int d = g_ascii_xdigit_value(p[i]);
    if (d < 0)
      return -1;
    value = value * 16 + d;
  }
  return value;
}

/* Appends the code unit @unit, pairing a high surrogate kept in *@high
 * with the low one that follows. */
static void
properties_append_unit(GString *out, int unit, int *high)
{
  if (unit >= 0xd800 && unit < 0xdc00) {
    *high = unit;
    return;
  }
  if (unit >= 0xdc00 && unit < 0xe000 && *high) {
    g_string_append_unichar(out, 0x10000 + ((*high - 0xd800) << 10) + (unit - 0xdc00));
  } else if (unit < 0xd800 || unit >= 0xe000) {
    g_string_append_unichar(out, unit);
  } else {
    g_string_append_unichar(out, 0xfffd); /* a lone surrogate */
  }
  *high = 0;
}

/* Unescapes [@p, @end); returns FALSE on a malformed \u. */
static gboolean
properties_unescape(const char *p, const char *end, GString *out)
{
  int high = 0;

  while (p < end) {
    char c = *p++;
    if (c != '\\' || p >= end) {
      if (high)
        properties_append_unit(out, 0xfffd, &high);
      if (c != '\\')
        g_string_append_c(out, c);
      continue;
    }
    c = *p++;
    if (c == 'u') {
      int unit = end - p >= 4 ? properties_hex4(p) : -1;
      if (unit < 0)
        return FALSE;
      properties_append_unit(out, unit, &high);
      p += 4;
      continue;
    }
    if (high)
      properties_append_unit(out, 0xfffd, &high);
    g_string_append_c(out, c == 't'   ? '\t'
                           : c == 'n' ? '\n'
                           : c == 'r' ? '\r'
                           : c == 'f' ? '\f'
                                      : c);
  }
  if (high)
    properties_append_unit(out, 0xfffd, &high);
  return TRUE;
}

/* The end of the key: the first '=', ':' or blank not escaped. */
static const char *
properties_key_end(const char *p)
{
  for (; *p; p++) {
    if (*p == '\\' && p[1] != '\0')
      p++;
    else if (*p == '=' || *p == ':' || properties_is_blank_char(*p))
      return p;
  }
  return p;
}

static void
properties_logical_line(const char *line, guint number, GPtrArray *entries, GPtrArray *problems)
{
  const char *key_end = properties_key_end(line), *value = key_end;
  g_autoptr(GString) key = g_string_new(NULL);
  g_autoptr(GString) text = g_string_new(NULL);
  ConfigEntry *entry;

  while (properties_is_blank_char(*value))
    value++;
  if (*value == '=' || *value == ':')
    value++;
  while (properties_is_blank_char(*value))
    value++;
  if (!properties_unescape(line, key_end, key)
      || !properties_unescape(value, value + strlen(value), text)) {
    properties_problem(problems, number,
                       "malformed \\uXXXX escape (write four hexadecimal digits, as in \\u00e9)");
    return;
  }
  entry = g_new0(ConfigEntry, 1);
  entry->key = g_string_free(g_steal_pointer(&key), FALSE);
  entry->value = g_string_free(g_steal_pointer(&text), FALSE);
  entry->line = number;
  g_ptr_array_add(entries, entry);
}

/* The number of backslashes @line ends with. */
static gsize
properties_trailing_backslashes(const char *line)
{
  gsize n = strlen(line), count = 0;

  while (count < n && line[n - 1 - count] == '\\')
    count++;
  return count;
}

/* Lines end with LF, CR or CR LF. */
static char **
properties_natural_lines(const char *text)
{
  g_autoptr(GString) copy = g_string_new(text);

  g_string_replace(copy, "\r\n", "\n", 0);
  g_string_replace(copy, "\r", "\n", 0);
  return g_strsplit(copy->str, "\n", -1);
}

/**
 * config_properties_parse:
 * @text: the file's text, UTF-8
 * @problems: (element-type utf8): where to add "line N: what" for each
 *   line that cannot be read
 *
 * Returns: (transfer full) (element-type ConfigEntry): the key = value
 *   entries in file order, each with the line it starts on
 */
GPtrArray *
config_properties_parse(const char *text, GPtrArray *problems)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func(config_entry_free);
  g_auto(GStrv) lines = properties_natural_lines(text);
  g_autoptr(GString) logical = g_string_new(NULL);
  gboolean continued = FALSE;
  guint start = 0;

  for (guint i = 0; lines[i] != NULL; i++) {
    const char *line = lines[i];
    gsize slashes;
    while (properties_is_blank_char(*line))
      line++;
    if (!continued) {
      if (*line == '\0' || *line == '#' || *line == '!')
        continue;
      g_string_truncate(logical, 0);
      start = i + 1;
    }
    g_string_append(logical, line);
    slashes = properties_trailing_backslashes(line);
    continued = slashes % 2 == 1;
    if (continued) {
      g_string_truncate(logical, logical->len - 1);
      if (lines[i + 1] != NULL)
        continue;
    }
    properties_logical_line(logical->str, start, entries, problems);
    continued = FALSE;
  }
  return entries;
}
