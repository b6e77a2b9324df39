/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the JSON writer of the --json records, and small JsonBuilder
 * helpers.
 *
 * The per-message records (inspect, trace) are written by a streaming
 * writer over one GString reused for every record: json-glib builds a tree
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
  GString *out;
  gboolean comma; /* a value came before: the next one needs a ',' */
};

/* 0: copied as is; 1: backslash + the byte; 2: its short escape; 3: \u00xx */
static const guint8 json_escape_kind[128] = {
  ['\b'] = 2, ['\f'] = 2, ['\n'] = 2, ['\r'] = 2, ['\t'] = 2, [1] = 3,  [2] = 3,
  [3] = 3,    [4] = 3,    [5] = 3,    [6] = 3,    [7] = 3,    [11] = 3, [14] = 3,
  [15] = 3,   [16] = 3,   [17] = 3,   [18] = 3,   [19] = 3,   [20] = 3, [21] = 3,
  [22] = 3,   [23] = 3,   [24] = 3,   [25] = 3,   [26] = 3,   [27] = 3, [28] = 3,
  [29] = 3,   [30] = 3,   [0x7f] = 3, ['"'] = 1,  ['\\'] = 1,
};

static guint8
json_escape_of(guchar c)
{
  return c < 128 ? json_escape_kind[c] : 0;
}

static void
json_append_escaped(GString *out, const char *text)
{
  static const char hex[] = "0123456789abcdef";
  const char *run = text;
  const char *p;

  for (p = text; *p; p++) {
    guchar c = (guchar)*p;
    guint8 kind = json_escape_of(c);

    if (G_LIKELY(kind == 0))
      continue;
    g_string_append_len(out, run, p - run);
    run = p + 1;
    if (kind == 1) {
      g_string_append_c(out, '\\');
      g_string_append_c(out, c);
    } else if (kind == 2) {
      g_string_append_c(out, '\\');
      g_string_append_c(out, c == '\b'   ? 'b'
                             : c == '\f' ? 'f'
                             : c == '\n' ? 'n'
                             : c == '\r' ? 'r'
                                         : 't');
    } else {
      char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

      g_string_append_len(out, u, sizeof u);
    }
  }
  g_string_append_len(out, run, p - run);
}

static void
json_writer_separate(FarceurJsonWriter *writer)
{
  if (writer->comma)
    g_string_append_c(writer->out, ',');
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

  writer->out = g_string_sized_new(4096);
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
  g_string_free(writer->out, TRUE);
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
  g_string_truncate(writer->out, 0);
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
    *length = writer->out->len;
  return writer->out->str;
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
  node = json_from_string(writer->out->str, &error);
  g_assert_no_error(error); /* the writer wrote it: it is valid JSON */
  return node;
}

/**
 * farceur_json_writer_begin_object:
 * @writer: a writer, where a value may go
 */
void
farceur_json_writer_begin_object(FarceurJsonWriter *writer)
{
  g_return_if_fail(writer != NULL);
  json_writer_separate(writer);
  g_string_append_c(writer->out, '{');
  writer->comma = FALSE;
}

/**
 * farceur_json_writer_end_object:
 * @writer: a writer inside an object
 */
void
farceur_json_writer_end_object(FarceurJsonWriter *writer)
{
  g_return_if_fail(writer != NULL);
  g_string_append_c(writer->out, '}');
  writer->comma = TRUE;
}

/**
 * farceur_json_writer_begin_array:
 * @writer: a writer, where a value may go
 */
void
farceur_json_writer_begin_array(FarceurJsonWriter *writer)
{
  g_return_if_fail(writer != NULL);
  json_writer_separate(writer);
  g_string_append_c(writer->out, '[');
  writer->comma = FALSE;
}

/**
 * farceur_json_writer_end_array:
 * @writer: a writer inside an array
 */
void
farceur_json_writer_end_array(FarceurJsonWriter *writer)
{
  g_return_if_fail(writer != NULL);
  g_string_append_c(writer->out, ']');
  writer->comma = TRUE;
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
  json_writer_separate(writer);
  g_string_append_c(writer->out, '"');
  json_append_escaped(writer->out, name);
  g_string_append_len(writer->out, "\":", 2);
  writer->comma = FALSE;
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
  json_writer_separate(writer);
  writer->comma = TRUE;
  if (value == NULL) {
    g_string_append_len(writer->out, "null", 4);
    return;
  }
  g_string_append_c(writer->out, '"');
  json_append_escaped(writer->out, value);
  g_string_append_c(writer->out, '"');
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
  g_string_append_len(writer->out, p, digits + sizeof digits - p);
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
    g_string_append_len(writer->out, "true", 4);
  else
    g_string_append_len(writer->out, "false", 5);
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

/**
 * farceur_json_writer_string_member:
 * @writer: a writer inside an object
 * @name: the member's name
 * @value: (nullable): its value; %NULL becomes JSON null
 */
void
farceur_json_writer_string_member(FarceurJsonWriter *writer, const char *name, const char *value)
{
  farceur_json_writer_member(writer, name);
  farceur_json_writer_string(writer, value);
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
  json_builder_set_member_name(builder, name);
  json_builder_begin_array(builder);
  for (guint i = 0; values != NULL && i < values->len; i++)
    json_builder_add_string_value(builder, values->pdata[i]);
  json_builder_end_array(builder);
}
