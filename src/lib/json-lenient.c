/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: reading JSON people wrote by hand (farceur_json_parse_lenient()).
 *
 * Students' programs read their JSON with Gson in lenient mode, which takes
 * keys without quotes ({subject: "x"}), ';' between members and a comma
 * before a closing bracket; json-glib is strict (it only takes single
 * quotes).  So a file json-glib refuses gets one pass of repair, outside
 * strings only, and each repair becomes a warning with its lines.  The
 * repair is hand-written because json-glib has no lenient mode. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <farceur/error.h>
#include <farceur/json.h>
#include <farceur/read-report.h>

typedef struct {
  GString *out;
  GArray *unquoted, *semicolons, *commas; /* guint lines */
} JsonRepair;

static gboolean
json_is_ident_start(char c)
{
  return g_ascii_isalpha(c) || c == '_' || c == '$';
}

/* The first character after blanks (and the line count on the way). */
static const char *
json_skip_blanks(const char *p, guint *line)
{
  for (; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
    if (*p == '\n')
      (*line)++;
  return p;
}

/* Copies a "..." or '...' string; returns the character after it. */
static const char *
json_copy_string(JsonRepair *r, const char *p, guint *line)
{
  char quote = *p;

  g_string_append_c(r->out, *p++);
  for (; *p && *p != quote; p++) {
    if (*p == '\\' && p[1] != '\0')
      g_string_append_c(r->out, *p++);
    else if (*p == '\n')
      (*line)++;
    g_string_append_c(r->out, *p);
  }
  if (*p)
    g_string_append_c(r->out, *p++);
  return p;
}

/* A bare identifier: a key when a ':' follows (quoted then), else a
 * literal such as true, copied as it is. */
static const char *
json_copy_ident(JsonRepair *r, const char *p, guint line, char last)
{
  const char *start = p;
  guint ignored = line;

  while (g_ascii_isalnum(*p) || *p == '_' || *p == '$')
    p++;
  if ((last == '{' || last == ',') && *json_skip_blanks(p, &ignored) == ':') {
    g_string_append_printf(r->out, "\"%.*s\"", (int)(p - start), start);
    g_array_append_val(r->unquoted, line);
  } else {
    g_string_append_len(r->out, start, p - start);
  }
  return p;
}

static void
json_repair_text(JsonRepair *r, const char *text)
{
  guint line = 1, ahead;
  char last = '\0'; /* the last significant character copied */

  for (const char *p = text; *p;) {
    if (*p == '"' || *p == '\'') {
      p = json_copy_string(r, p, &line), last = '"';
    } else if (json_is_ident_start(*p)) {
      p = json_copy_ident(r, p, line, last), last = 'a';
    } else if (*p == ';' || *p == ',') {
      const char *next;
      ahead = line;
      next = json_skip_blanks(p + 1, &ahead);
      if (*next == '}' || *next == ']') {
        g_array_append_val(r->commas, line); /* dropped */
      } else {
        if (*p == ';')
          g_array_append_val(r->semicolons, line);
        g_string_append_c(r->out, ',');
        last = ',';
      }
      p++;
    } else {
      if (*p == '\n')
        line++;
      if (!g_ascii_isspace(*p))
        last = *p;
      g_string_append_c(r->out, *p++);
    }
  }
}

static char *
json_lines_text(GArray *lines)
{
  GString *out = g_string_new(NULL);

  for (guint i = 0; i < lines->len && i < 5; i++)
    g_string_append_printf(out, "%s%u", i ? ", " : "", g_array_index(lines, guint, i));
  if (lines->len > 5)
    g_string_append(out, ", ...");
  return g_string_free(out, FALSE);
}

static void
json_repair_warn(FarceurReadFile *file, GArray *lines, const char *what)
{
  g_autofree char *shown = NULL;

  if (lines->len == 0)
    return;
  shown = json_lines_text(lines);
  farceur_read_file_warn(file, g_array_index(lines, guint, 0),
                         "%s (line%s %s); strict JSON readers refuse this file", what,
                         lines->len > 1 ? "s" : "", shown);
}

/* "<data>:3:7: Parse error: unexpected character" -> "line 3 column 7: unexpected character" */
static void
json_set_parse_error(GError **error, const GError *local)
{
  guint line = 0, column = 0;
  const char *what = strstr(local->message, ": Parse error: ");

  if (what && sscanf(local->message, "<data>:%u:%u:", &line, &column) == 2)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "line %u column %u: %s", line, column,
                what + strlen(": Parse error: "));
  else
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, local->message);
}

static JsonNode *
json_parse(const char *text, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonNode *root;

  if (!json_parser_load_from_data(parser, text, -1, error))
    return NULL;
  root = json_parser_steal_root(parser);
  if (root == NULL)
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "line 1 column 1: no JSON value");
  return root;
}

/**
 * farceur_json_parse_lenient:
 * @text: JSON text, UTF-8, NUL-terminated
 * @file: (nullable): where to record the repairs as warnings
 * @error: return location for a %FARCEUR_ERROR_DATA error "line L column C:
 *   what", about the text as written
 *
 * Parses @text; when json-glib refuses it, repairs what lenient readers
 * (Gson) accept (unquoted keys, ';' between members, a trailing comma) and
 * tries once more.
 *
 * Returns: (transfer full): the root node
 */
JsonNode *
farceur_json_parse_lenient(const char *text, FarceurReadFile *file, GError **error)
{
  g_autoptr(GError) strict = NULL;
  JsonRepair r;
  JsonNode *root;

  g_return_val_if_fail(text != NULL, NULL);
  root = json_parse(text, &strict);
  if (root != NULL)
    return root;
  r.out = g_string_new(NULL);
  r.unquoted = g_array_new(FALSE, FALSE, sizeof(guint));
  r.semicolons = g_array_new(FALSE, FALSE, sizeof(guint));
  r.commas = g_array_new(FALSE, FALSE, sizeof(guint));
  json_repair_text(&r, text);
  root = json_parse(r.out->str, NULL);
  if (root == NULL)
    json_set_parse_error(error, strict);
  else {
    json_repair_warn(file, r.unquoted, "keys without quotes read as strings");
    json_repair_warn(file, r.semicolons, "';' between members read as ','");
    json_repair_warn(file, r.commas, "a comma before a closing bracket ignored");
  }
  g_string_free(r.out, TRUE);
  g_array_unref(r.unquoted);
  g_array_unref(r.semicolons);
  g_array_unref(r.commas);
  return root;
}
