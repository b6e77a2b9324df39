/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* header-blocks: the Received: and Date: fields of every message of an mbox,
 * three ways, to choose how trace reads them:
 *
 *   message   GMime's parser in mbox mode builds each message (no warning
 *             callback), its fields are read from the message's header list
 *   part      each header block, cut out of the mbox here, parsed by GMime
 *             as a part (g_mime_parser_construct_part on a memory stream)
 *   farceur   farceur_input_next_headers(): the block scanner of input.c
 *             and its own split of the header block into fields
 *
 * Prints the messages and Received: fields seen and the CPU time; run under
 * `valgrind --tool=callgrind` for instructions.  The figures are in the
 * README's benchmark table.
 *   header-blocks WAY MBOX
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <sys/resource.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

typedef struct {
  guint messages;
  guint received;
  guint dates;
} Seen;

static void
seen_list(Seen *seen, GMimeHeaderList *list)
{
  int count = list ? g_mime_header_list_get_count(list) : 0;

  for (int i = 0; i < count; i++) {
    GMimeHeader *header = g_mime_header_list_get_header_at(list, i);
    const char *name = g_mime_header_get_name(header);

    seen->received += g_ascii_strcasecmp(name, "Received") == 0;
    seen->dates += g_ascii_strcasecmp(name, "Date") == 0;
  }
  seen->messages++;
}

static void
way_message(const char *path, Seen *seen)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_fs_open(path, O_RDONLY, 0, NULL);
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);

  g_mime_parser_set_format(parser, GMIME_FORMAT_MBOX);
  while (!g_mime_parser_eos(parser)) {
    g_autoptr(GMimeMessage) message = g_mime_parser_construct_message(parser, NULL);

    if (message == NULL)
      break;
    seen_list(seen, g_mime_object_get_header_list(GMIME_OBJECT(message)));
  }
}

/* The mbox in memory, cut at its "From " lines and blank lines (no edge
 * cases: the benchmark corpus has none), each header block to GMime. */
static void
way_part(const char *path, Seen *seen)
{
  g_autofree char *text = NULL;
  g_autoptr(GMimeParser) parser = g_mime_parser_new();
  gsize len;
  char *p;

  if (!g_file_get_contents(path, &text, &len, NULL))
    return;
  for (p = strstr(text, "From "); p != NULL; p = strstr(p, "\nFrom ")) {
    char *begin = strchr(p + 1, '\n');
    char *end;
    g_autoptr(GMimeStream) block = NULL;
    g_autoptr(GMimeObject) part = NULL;

    if (begin == NULL)
      break;
    begin++;
    end = strstr(begin, "\n\n");
    if (end == NULL)
      break;
    block = g_mime_stream_mem_new_with_buffer(begin, end + 2 - begin);
    g_mime_parser_init_with_stream(parser, block);
    part = g_mime_parser_construct_part(parser, NULL);
    if (part)
      seen_list(seen, g_mime_object_get_header_list(part));
    p = end;
  }
}

static void
way_farceur(const char *path, Seen *seen)
{
  g_autoptr(FarceurInput) input = farceur_input_open(path, NULL);
  const FarceurInputHeaders *headers;

  while (input && (headers = farceur_input_next_headers(input, NULL)) != NULL) {
    for (guint i = 0; i < headers->n_fields; i++) {
      seen->received += g_ascii_strcasecmp(headers->fields[i].name, "Received") == 0;
      seen->dates += g_ascii_strcasecmp(headers->fields[i].name, "Date") == 0;
    }
    seen->messages++;
  }
}

int
main(int argc, char **argv)
{
  Seen seen = { 0 };
  struct rusage ru;

  if (argc != 3) {
    fprintf(stderr, "usage: header-blocks message|part|farceur MBOX\n");
    return 64;
  }
  farceur_init();
  if (strcmp(argv[1], "message") == 0)
    way_message(argv[2], &seen);
  else if (strcmp(argv[1], "part") == 0)
    way_part(argv[2], &seen);
  else
    way_farceur(argv[2], &seen);
  getrusage(RUSAGE_SELF, &ru);
  printf("%s: %u messages, %u Received:, %u Date:, %.2f s CPU\n", argv[1], seen.messages,
         seen.received, seen.dates,
         ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
             + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
  return 0;
}
