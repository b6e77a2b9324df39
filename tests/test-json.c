/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON writer (src/lib/json.c) against json-glib's generator: the same
 * record written both ways must be the same bytes, for every byte value in
 * strings and member names, every integer edge and every nesting shape. */
#include <string.h>

#include <farceur/farceur.h>

/* Builds the same value in a JsonBuilder and a FarceurJsonWriter. */
typedef struct {
  JsonBuilder *builder;
  FarceurJsonWriter *writer;
} Both;

static void
both_member(Both *b, const char *name)
{
  json_builder_set_member_name(b->builder, name);
  farceur_json_writer_member(b->writer, name);
}

static void
both_string(Both *b, const char *value)
{
  if (value)
    json_builder_add_string_value(b->builder, value);
  else
    json_builder_add_null_value(b->builder);
  farceur_json_writer_string(b->writer, value);
}

static void
both_int(Both *b, gint64 value)
{
  json_builder_add_int_value(b->builder, value);
  farceur_json_writer_int(b->writer, value);
}

static void
both_begin(Both *b, gboolean object)
{
  if (object) {
    json_builder_begin_object(b->builder);
    farceur_json_writer_begin_object(b->writer);
  } else {
    json_builder_begin_array(b->builder);
    farceur_json_writer_begin_array(b->writer);
  }
}

static void
both_end(Both *b, gboolean object)
{
  if (object) {
    json_builder_end_object(b->builder);
    farceur_json_writer_end_object(b->writer);
  } else {
    json_builder_end_array(b->builder);
    farceur_json_writer_end_array(b->writer);
  }
}

static void
both_check(Both *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root(b->builder);
  g_autofree char *expected = json_to_string(root, FALSE);
  gsize length = 0;
  const char *text = farceur_json_writer_get_text(b->writer, &length);

  g_assert_cmpstr(text, ==, expected);
  g_assert_cmpuint(length, ==, strlen(expected));
  g_clear_object(&b->builder);
  b->builder = json_builder_new();
  farceur_json_writer_reset(b->writer);
}

static void
both_init(Both *b)
{
  b->builder = json_builder_new();
  b->writer = farceur_json_writer_new();
}

static void
both_clear(Both *b)
{
  g_clear_object(&b->builder);
  g_clear_pointer(&b->writer, farceur_json_writer_free);
}

/* Every byte from 1 to 255, alone and between letters, as a value and as a
 * member name: json-glib's escaping rules, including its quirks (0x1f
 * unescaped, 0x7f as \u007f, bytes over 0x7f as they are). */
static void
test_bytes(void)
{
  Both b;

  both_init(&b);
  for (int c = 1; c < 256; c++) {
    char alone[2] = { (char)c, 0 };
    char between[4] = { 'a', (char)c, 'b', 0 };
    char long_text[41];

    /* in a long text too, where the writer looks 8 bytes at a time */
    memset(long_text, 'x', 40);
    long_text[40] = '\0';
    long_text[(c * 7) % 40] = (char)c;
    long_text[(c * 13 + 5) % 40] = (char)c;
    both_begin(&b, TRUE);
    both_member(&b, alone);
    both_string(&b, alone);
    both_member(&b, between);
    both_string(&b, between);
    both_member(&b, "long");
    both_string(&b, long_text);
    /* the one-reservation member of the records */
    json_builder_set_member_name(b.builder, long_text);
    json_builder_add_string_value(b.builder, between);
    farceur_json_writer_string_member(b.writer, long_text, between);
    json_builder_set_member_name(b.builder, "null");
    json_builder_add_null_value(b.builder);
    farceur_json_writer_string_member(b.writer, "null", NULL);
    both_end(&b, TRUE);
    both_check(&b);
  }
  both_clear(&b);
}

static void
test_text(void)
{
  static const char *const texts[] = {
    "",
    "plain",
    "\"quoted\" \\ back\\slash",
    "été",
    "€ and 🙂",
    "tab\there\r\nnew line\f\b",
    "\x1f\x7f\x01",
    "a\\\"b",
    "<ends with a quote\"",
  };
  Both b;

  both_init(&b);
  for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
    both_begin(&b, FALSE);
    both_string(&b, texts[i]);
    both_string(&b, NULL);
    both_end(&b, FALSE);
    both_check(&b);
  }
  both_clear(&b);
}

static void
test_numbers(void)
{
  static const gint64 numbers[] = { 0, 1, -1, 9, 10, -10, 1234567890123, G_MAXINT64, G_MININT64 };
  Both b;

  both_init(&b);
  both_begin(&b, FALSE);
  for (gsize i = 0; i < G_N_ELEMENTS(numbers); i++)
    both_int(&b, numbers[i]);
  both_end(&b, FALSE);
  both_check(&b);
  both_clear(&b);
}

static void
test_shapes(void)
{
  Both b;

  both_init(&b);
  both_begin(&b, TRUE);
  both_end(&b, TRUE);
  both_check(&b);
  both_begin(&b, FALSE);
  both_end(&b, FALSE);
  both_check(&b);

  both_begin(&b, TRUE);
  both_member(&b, "a");
  both_begin(&b, FALSE);
  both_begin(&b, TRUE);
  both_end(&b, TRUE);
  both_begin(&b, FALSE);
  both_end(&b, FALSE);
  both_int(&b, 3);
  both_begin(&b, TRUE);
  both_member(&b, "x");
  both_string(&b, NULL);
  both_member(&b, "t");
  json_builder_add_boolean_value(b.builder, TRUE);
  farceur_json_writer_boolean(b.writer, TRUE);
  both_member(&b, "f");
  json_builder_add_boolean_value(b.builder, FALSE);
  farceur_json_writer_boolean(b.writer, FALSE);
  both_end(&b, TRUE);
  both_end(&b, FALSE);
  both_member(&b, "b");
  json_builder_add_null_value(b.builder);
  farceur_json_writer_null(b.writer);
  both_member(&b, "c");
  both_string(&b, "d");
  both_end(&b, TRUE);
  both_check(&b);
  both_clear(&b);
}

/* Dates as trace (year on 4 digits) and inspect (as g_date_time_format's
 * %Y) wrote them with GLib. */
static void
test_dates(void)
{
  static const int years[] = { 1, 50, 999, 1000, 2026, 9999 };
  g_autoptr(FarceurJsonWriter) writer = farceur_json_writer_new();

  for (gsize i = 0; i < G_N_ELEMENTS(years); i++) {
    g_autoptr(GDateTime) date = g_date_time_new_utc(years[i], 3, 4, 5, 6, 7);
    g_autofree char *inspect = g_date_time_format(date, "\"%Y-%m-%dT%H:%M:%SZ\"");
    g_autofree char *trace = g_strdup_printf("\"%04d-03-04T05:06:07Z\"", years[i]);

    farceur_json_writer_date(writer, date, 1);
    g_assert_cmpstr(farceur_json_writer_get_text(writer, NULL), ==, inspect);
    farceur_json_writer_reset(writer);
    farceur_json_writer_date(writer, date, 4);
    g_assert_cmpstr(farceur_json_writer_get_text(writer, NULL), ==, trace);
    farceur_json_writer_reset(writer);
  }
  farceur_json_writer_date(writer, NULL, 4);
  g_assert_cmpstr(farceur_json_writer_get_text(writer, NULL), ==, "null");
}

/* The helpers and the node read back. */
static void
test_helpers(void)
{
  g_autoptr(FarceurJsonWriter) writer = farceur_json_writer_new();
  g_autoptr(GPtrArray) values = g_ptr_array_new();
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *again = NULL;

  g_ptr_array_add(values, (gpointer) "x");
  g_ptr_array_add(values, (gpointer) "y\n");
  farceur_json_writer_begin_object(writer);
  farceur_json_writer_string_member(writer, "s", "v");
  farceur_json_writer_string_member(writer, "n", NULL);
  farceur_json_writer_strings_member(writer, "l", values);
  farceur_json_writer_strings_member(writer, "e", NULL);
  farceur_json_writer_end_object(writer);
  g_assert_cmpstr(farceur_json_writer_get_text(writer, NULL), ==,
                  "{\"s\":\"v\",\"n\":null,\"l\":[\"x\",\"y\\n\"],\"e\":[]}");
  node = farceur_json_writer_to_node(writer);
  again = json_to_string(node, FALSE);
  g_assert_cmpstr(again, ==, farceur_json_writer_get_text(writer, NULL));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/json/writer/bytes", test_bytes);
  g_test_add_func("/json/writer/text", test_text);
  g_test_add_func("/json/writer/numbers", test_numbers);
  g_test_add_func("/json/writer/shapes", test_shapes);
  g_test_add_func("/json/writer/dates", test_dates);
  g_test_add_func("/json/writer/helpers", test_helpers);
  return g_test_run();
}
