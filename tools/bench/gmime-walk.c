/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The floor farceur inspect is built on: walk an mbox with GMime's parser
 * (persistent stream, mbox mode) and decode every leaf part into a null
 * stream.  Nothing else.  With --warnings, parser options with a warning
 * callback, as farceur sets to report GMime's warnings: GMime then decodes
 * every header value while it parses, to find invalid RFC 2047 words.
 * Built by meson for tools/bench/inspect, not installed.
 *   gmime-walk [--warnings] MBOX */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <gmime/gmime.h>

static void
walk_leaf(GMimeObject *parent, GMimeObject *part, gpointer user_data)
{
  GMimeStream *null = user_data;

  if (GMIME_IS_PART(part) && g_mime_part_get_content(GMIME_PART(part)))
    g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(part)), null);
}

static void
count_warning(gint64 offset, GMimeParserWarning code, const char *item, gpointer user_data)
{
  (*(guint *)user_data)++;
}

int
main(int argc, char **argv)
{
  GMimeStream *stream, *null;
  GMimeParser *parser;
  GMimeParserOptions *options = NULL;
  guint messages = 0, warnings = 0;
  gboolean warn = argc == 3 && strcmp(argv[1], "--warnings") == 0;

  if (argc != 2 && !warn) {
    fprintf(stderr, "usage: gmime-walk [--warnings] MBOX\n");
    return 64;
  }
  g_mime_init();
  if (warn) {
    options = g_mime_parser_options_new();
    g_mime_parser_options_set_warning_callback(options, count_warning, &warnings);
  }
  stream = g_mime_stream_fs_open(argv[argc - 1], O_RDONLY, 0, NULL);
  if (stream == NULL) {
    perror(argv[argc - 1]);
    return 66;
  }
  parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_format(parser, GMIME_FORMAT_MBOX);
  null = g_mime_stream_null_new();
  while (!g_mime_parser_eos(parser)) {
    GMimeMessage *message = g_mime_parser_construct_message(parser, options);

    if (message == NULL)
      break;
    g_mime_message_foreach(message, walk_leaf, null);
    g_object_unref(message);
    messages++;
  }
  printf("%u messages, %u warnings\n", messages, warnings);
  if (options)
    g_mime_parser_options_free(options);
  g_object_unref(null);
  g_object_unref(parser);
  g_object_unref(stream);
  return 0;
}
