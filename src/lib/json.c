/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the JSON writer of the --json records, small JsonBuilder
 * helpers, and the lists of the JSON input files people write
 * (json-lenient.c parses them).
 *
 * The per-message records (inspect, trace) are written by a streaming
 * writer over one buffer reused for every record: json-glib builds a tree
 * of JsonNode/JsonObject per record (a hash table per object, a copy of
 * every member name and value) and then walks it to print it, which at tens
 * of thousands of records a second costs more than everything else trace
 * does (tools/bench/json-writers: the figures are in its header).  The text
 * is byte for byte what json_to_string (root, FALSE) prints for the same
 * record: the same separators, integers in decimal, and the
 * escaping rules of json-glib's generator (json_strescape: '"' and '\\'
 * escaped; \b \f \n \r \t; other bytes 0x01-0x1e and 0x7f as \u00xx; every
 * other byte as it is).  tests/test-json.c compares the two.
 */
#include "config.h"

#include <string.h>

#include <farceur/json.h>

struct _FarceurJsonWriter {
  char *buf; /* NUL-terminated */
  gsize len;
  gsize size;     /* allocated */
  gboolean comma; /* a value came before: the next one needs a ',' */
};

/* 1 for the bytes json-glib escapes, and for NUL, which ends the scan */
static const guint8 json_escaped[256] = {
  [0] = 1,  [1] = 1,  [2] = 1,  [3] = 1,  [4] = 1,   [5] = 1,    [6] = 1,    [7] = 1,  [8] = 1,
  [9] = 1,  [10] = 1, [11] = 1, [12] = 1, [13] = 1,  [14] = 1,   [15] = 1,   [16] = 1, [17] = 1,
  [18] = 1, [19] = 1, [20] = 1, [21] = 1, [22] = 1,  [23] = 1,   [24] = 1,   [25] = 1, [26] = 1,
  [27] = 1, [28] = 1, [29] = 1, [30] = 1, ['"'] = 1, ['\\'] = 1, [0x7f] = 1,
};

/* Room for @more bytes and the NUL after them. */
static inline char *
json_reserve(FarceurJsonWriter *w, gsize more)
{
  if (G_UNLIKELY(w->len + more + 1 > w->size)) {
    w->size = MAX(w->size * 2, w->len + more + 1);
    w->buf = g_realloc(w->buf, w->size);
  }
  return w->buf + w->len;
}

static inline void
json_put(FarceurJsonWriter *w, const char *bytes, gsize n)
{
  memcpy(json_reserve(w, n), bytes, n);
  w->len += n;
  w->buf[w->len] = '\0';
}

static inline void
json_put_c(FarceurJsonWriter *w, char c)
{
  *json_reserve(w, 1) = c;
  w->buf[++w->len] = '\0';
}

/* One escaped byte at @out, as json_strescape writes it; returns the end. */
static char *
json_escape(char *out, guchar c)
{
  static const char hex[] = "0123456789abcdef";
  static const char letters[32]
      = { ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't' };

  *out++ = '\\';
  if (c == '"' || c == '\\') {
    *out++ = (char)c;
  } else if (c < 32 && letters[c]) {
    *out++ = letters[c];
  } else {
    memcpy(out, "u00", 3);
    out[3] = hex[c >> 4];
    out[4] = hex[c & 15];
    out += 5;
  }
  return out;
}

#define JSON_ONES G_GUINT64_CONSTANT(0x0101010101010101)
#define JSON_HIGH G_GUINT64_CONSTANT(0x8080808080808080)

/* Whether 8 bytes may hold one json-glib escapes (a byte under 0x20, '"',
 * '\\', 0x7f); never FALSE when they do (a false TRUE only costs a look). */
static inline gboolean
json_word_suspect(guint64 x)
{
  guint64 quote = x ^ (JSON_ONES * '"');
  guint64 backslash = x ^ (JSON_ONES * '\\');
  guint64 del = x ^ (JSON_ONES * 0x7f);

  return (((x - JSON_ONES * 0x20) | (quote - JSON_ONES) | (backslash - JSON_ONES)
           | (del - JSON_ONES))
          & ~x & JSON_HIGH)
         != 0;
}

/* "TEXT" at @out (room for 6 * @len + 2 bytes) with json-glib's escapes:
 * runs of plain bytes are found eight bytes at a time and copied whole.
 * Returns the end. */
static char *
json_quote(char *out, const char *text, gsize len)
{
  gsize run = 0;
  gsize i = 0;

  *out++ = '"';
  while (i < len) {
    gsize end = len;

    if (i + 8 <= len) {
      guint64 word;

      memcpy(&word, text + i, 8);
      if (!json_word_suspect(word)) {
        i += 8;
        continue;
      }
      end = i + 8; /* a suspect word: its bytes one by one */
    }
    for (; i < end; i++) {
      if (json_escaped[(guchar)text[i]]) {
        memcpy(out, text + run, i - run);
        out = json_escape(out + (i - run), (guchar)text[i]);
        run = i + 1;
      }
    }
  }
  memcpy(out, text + run, len - run);
  out += len - run;
  *out++ = '"';
  return out;
}

static inline void
json_writer_separate(FarceurJsonWriter *writer)
{
  if (writer->comma)
    json_put_c(writer, ',');
}

/* [,]"TEXT"[:] in one reservation */
static void
json_put_quoted(FarceurJsonWriter *w, const char *text, gboolean member)
{
  gsize len = strlen(text);
  char *out = json_reserve(w, 6 * len + 4);

  if (w->comma)
    *out++ = ',';
  out = json_quote(out, text, len);
  if (member)
    *out++ = ':';
  *out = '\0';
  w->len = (gsize)(out - w->buf);
  w->comma = !member;
}

/**
 * farceur_json_writer_new:
 *
 * A writer of one JSON text at a time, to be reused record after record
 * (farceur_json_writer_reset()).
 *
 * Returns: (transfer full): the writer
 */
FarceurJsonWriter *
farceur_json_writer_new(void)
{
  FarceurJsonWriter *writer = g_new0(FarceurJsonWriter, 1);

  writer->size = 4096;
  writer->buf = g_malloc(writer->size);
  writer->buf[0] = '\0';
  return writer;
}

/**
 * farceur_json_writer_free:
 * @writer: (nullable): a writer
 */
void
farceur_json_writer_free(FarceurJsonWriter *writer)
{
  if (writer == NULL)
    return;
  g_free(writer->buf);
  g_free(writer);
}

/**
 * farceur_json_writer_reset:
 * @writer: a writer
 *
 * Forgets the text written so far (its buffer is kept).
 */
void
farceur_json_writer_reset(FarceurJsonWriter *writer)
{
  g_return_if_fail(writer != NULL);
  writer->len = 0;
  writer->buf[0] = '\0';
  writer->comma = FALSE;
}

/**
 * farceur_json_writer_get_text:
 * @writer: a writer
 * @length: (out) (optional): its length in bytes
 *
 * Returns: (transfer none): the text written since the last reset, valid
 *   until the next call on @writer
 */
const char *
farceur_json_writer_get_text(const FarceurJsonWriter *writer, gsize *length)
{
  g_return_val_if_fail(writer != NULL, NULL);
  if (length)
    *length = writer->len;
  return writer->buf;
}

/**
 * farceur_json_writer_to_node:
 * @writer: a writer holding one complete JSON value
 *
 * The text read back into a tree, for callers that want a #JsonNode.
 *
 * Returns: (transfer full): the node
 */
JsonNode *
farceur_json_writer_to_node(const FarceurJsonWriter *writer)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  g_return_val_if_fail(writer != NULL, NULL);
  node = json_from_string(writer->buf, &error);
  g_assert_no_error(error); /* the writer wrote it: it is valid JSON */
  return node;
}

/* '{' or '[' where a value may go, and ']' or '}' after the last one. */
static void
json_writer_open(FarceurJsonWriter *writer, char bracket)
{
  json_writer_separate(writer);
  json_put_c(writer, bracket);
  writer->comma = FALSE;
}

static void
json_writer_close(FarceurJsonWriter *writer, char bracket)
{
  json_put_c(writer, bracket);
  writer->comma = TRUE;
}

/**
 * farceur_json_writer_begin_object:
 * @writer: a writer, where a value may go
 */
void
farceur_json_writer_begin_object(FarceurJsonWriter *writer)
{
  g_return_if_fail(writer != NULL);
  json_writer_open(writer, '{');
}

/**
 * farceur_json_writer_end_object:
 * @writer: a writer inside an object
 */
void
farceur_json_writer_end_object(FarceurJsonWriter *writer)
{
  g_return_if_fail(writer != NULL);
  json_writer_close(writer, '}');
}

/**
 * farceur_json_writer_begin_array:
 * @writer: a writer, where a value may go
 */
void
farceur_json_writer_begin_array(FarceurJsonWriter *writer)
{
  g_return_if_fail(writer != NULL);
  json_writer_open(writer, '[');
}

/**
 * farceur_json_writer_end_array:
 * @writer: a writer inside an array
 */
void
farceur_json_writer_end_array(FarceurJsonWriter *writer)
{
  g_return_if_fail(writer != NULL);
  json_writer_close(writer, ']');
}

/**
 * farceur_json_writer_member:
 * @writer: a writer inside an object
 * @name: the member's name; its value is the next thing written
 */
void
farceur_json_writer_member(FarceurJsonWriter *writer, const char *name)
{
  g_return_if_fail(writer != NULL);
  g_return_if_fail(name != NULL);
  json_put_quoted(writer, name, TRUE);
}

/**
 * farceur_json_writer_string:
 * @writer: a writer, where a value may go
 * @value: (nullable): a UTF-8 string; %NULL writes null
 */
void
farceur_json_writer_string(FarceurJsonWriter *writer, const char *value)
{
  g_return_if_fail(writer != NULL);
  if (value != NULL) {
    json_put_quoted(writer, value, FALSE);
    return;
  }
  json_writer_separate(writer);
  writer->comma = TRUE;
  json_put(writer, "null", 4);
}

/**
 * farceur_json_writer_int:
 * @writer: a writer, where a value may go
 * @value: a number
 */
void
farceur_json_writer_int(FarceurJsonWriter *writer, gint64 value)
{
  char digits[24];
  char *p = digits + sizeof digits;
  guint64 rest = value < 0 ? (guint64)0 - (guint64)value : (guint64)value;

  g_return_if_fail(writer != NULL);
  json_writer_separate(writer);
  writer->comma = TRUE;
  do {
    *--p = (char)('0' + rest % 10);
    rest /= 10;
  } while (rest != 0);
  if (value < 0)
    *--p = '-';
  json_put(writer, p, (gsize)(digits + sizeof digits - p));
}

/**
 * farceur_json_writer_boolean:
 * @writer: a writer, where a value may go
 * @value: true or false
 */
void
farceur_json_writer_boolean(FarceurJsonWriter *writer, gboolean value)
{
  g_return_if_fail(writer != NULL);
  json_writer_separate(writer);
  writer->comma = TRUE;
  if (value)
    json_put(writer, "true", 4);
  else
    json_put(writer, "false", 5);
}

/**
 * farceur_json_writer_null:
 * @writer: a writer, where a value may go
 */
void
farceur_json_writer_null(FarceurJsonWriter *writer)
{
  farceur_json_writer_string(writer, NULL);
}

/* @value in decimal at @p, at least @width digits; returns the end */
static char *
json_number(char *p, guint value, guint width)
{
  char digits[16];
  guint n = 0;

  do {
    digits[n++] = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0 && n < sizeof digits);
  while (n < width && n < sizeof digits)
    digits[n++] = '0';
  while (n > 0)
    *p++ = digits[--n];
  return p;
}

/**
 * farceur_json_writer_date:
 * @writer: a writer, where a value may go
 * @date: (nullable): a date, in UTC; %NULL writes null
 * @year_digits: the year's digits at least (zeros before)
 *
 * Writes "YYYY-MM-DDTHH:MM:SSZ" (month to second on 2 digits).
 */
void
farceur_json_writer_date(FarceurJsonWriter *writer, GDateTime *date, guint year_digits)
{
  char text[48];
  char *p = text;
  int y, m, d;

  g_return_if_fail(writer != NULL);
  if (date == NULL) {
    farceur_json_writer_null(writer);
    return;
  }
  g_date_time_get_ymd(date, &y, &m, &d);
  p = json_number(p, (guint)y, year_digits);
  *p++ = '-';
  p = json_number(p, (guint)m, 2);
  *p++ = '-';
  p = json_number(p, (guint)d, 2);
  *p++ = 'T';
  p = json_number(p, (guint)g_date_time_get_hour(date), 2);
  *p++ = ':';
  p = json_number(p, (guint)g_date_time_get_minute(date), 2);
  *p++ = ':';
  p = json_number(p, (guint)g_date_time_get_second(date), 2);
  *p++ = 'Z';
  *p = '\0';
  farceur_json_writer_string(writer, text);
}

/**
 * farceur_json_writer_string_member_len:
 * @writer: a writer inside an object
 * @name: the member's name
 * @name_len: strlen(@name)
 * @value: (nullable): its value; %NULL becomes JSON null
 *
 * farceur_json_writer_string_member() with the name's length given: the
 * inline wrapper of json.h passes it, known at compile time for a literal.
 */
void
farceur_json_writer_string_member_len(FarceurJsonWriter *writer, const char *name, gsize name_len,
                                      const char *value)
{
  gsize value_len;
  char *out;

  g_return_if_fail(writer != NULL);
  g_return_if_fail(name != NULL);
  /* ,"NAME":"VALUE" or ,"NAME":null in one reservation: the records'
   * commonest member */
  value_len = value ? strlen(value) : 0;
  out = json_reserve(writer, 6 * (name_len + value_len) + 10);
  if (writer->comma)
    *out++ = ',';
  out = json_quote(out, name, name_len);
  *out++ = ':';
  if (value) {
    out = json_quote(out, value, value_len);
  } else {
    memcpy(out, "null", 4);
    out += 4;
  }
  *out = '\0';
  writer->len = (gsize)(out - writer->buf);
  writer->comma = TRUE;
}

/**
 * farceur_json_writer_strings_member:
 * @writer: a writer inside an object
 * @name: the member's name
 * @values: (nullable) (element-type utf8): its values; %NULL is an empty array
 */
void
farceur_json_writer_strings_member(FarceurJsonWriter *writer, const char *name, GPtrArray *values)
{
  farceur_json_writer_member(writer, name);
  farceur_json_writer_begin_array(writer);
  for (guint i = 0; values != NULL && i < values->len; i++)
    farceur_json_writer_string(writer, values->pdata[i]);
  farceur_json_writer_end_array(writer);
}

/**
 * farceur_json_add_string_member:
 * @builder: a builder inside an object
 * @name: the member's name
 * @value: (nullable): its value; %NULL becomes JSON null
 */
void
farceur_json_add_string_member(JsonBuilder *builder, const char *name, const char *value)
{
  g_return_if_fail(JSON_IS_BUILDER(builder));
  g_return_if_fail(name != NULL);

  json_builder_set_member_name(builder, name);
  if (value != NULL)
    json_builder_add_string_value(builder, value);
  else
    json_builder_add_null_value(builder);
}

/**
 * farceur_json_add_strings_member:
 * @builder: a builder inside an object
 * @name: the member's name
 * @values: (nullable) (element-type utf8): its values; %NULL is an empty array
 */
void
farceur_json_add_strings_member(JsonBuilder *builder, const char *name, GPtrArray *values)
{
  g_return_if_fail(JSON_IS_BUILDER(builder));
  g_return_if_fail(name != NULL);

  json_builder_set_member_name(builder, name);
  json_builder_begin_array(builder);
  for (guint i = 0; values != NULL && i < values->len; i++)
    json_builder_add_string_value(builder, values->pdata[i]);
  json_builder_end_array(builder);
}

/* ---- lists in the JSON people wrote ---- */

/**
 * farceur_json_elements:
 * @node: an array or an object
 *
 * Returns: (transfer container) (element-type JsonNode): an array's
 *   elements, or an object's member values in file order
 */
GPtrArray *
farceur_json_elements(JsonNode *node)
{
  GPtrArray *out = g_ptr_array_new();

  g_return_val_if_fail(node != NULL, out);
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    JsonArray *array = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(array); i++)
      g_ptr_array_add(out, json_array_get_element(array, i));
  } else if (JSON_NODE_HOLDS_OBJECT(node)) {
    JsonObject *object = json_node_get_object(node);
    g_autoptr(GList) members = json_object_get_members(object);
    for (GList *m = members; m != NULL; m = m->next)
      g_ptr_array_add(out, json_object_get_member(object, m->data));
  }
  return out;
}

/**
 * farceur_json_pick_member:
 * @object: a top-level object
 * @holds: whether a member's value is the kind of list wanted
 * @words: (array zero-terminated=1): words a member's name may hold to be
 *   chosen among several ("message", "victim")
 *
 * Which member holds the list: the only one @holds accepts, else the first
 * whose name holds one of @words (without case).
 *
 * Returns: (transfer none) (nullable): its name
 */
const char *
farceur_json_pick_member(JsonObject *object, gboolean (*holds)(JsonNode *node),
                         const char *const *words)
{
  g_autoptr(GList) members = NULL;
  const char *only = NULL;
  guint candidates = 0;

  g_return_val_if_fail(object != NULL && holds != NULL && words != NULL, NULL);
  members = json_object_get_members(object);
  for (GList *m = members; m != NULL; m = m->next)
    if (holds(json_object_get_member(object, m->data)))
      only = m->data, candidates++;
  if (candidates == 1)
    return only;
  for (GList *m = members; m != NULL; m = m->next) {
    g_autofree char *lower = g_ascii_strdown(m->data, -1);
    for (gsize w = 0; words[w] != NULL; w++)
      if (strstr(lower, words[w]) && holds(json_object_get_member(object, m->data)))
        return m->data;
  }
  return NULL;
}
