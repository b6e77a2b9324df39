/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* compose-bench: composes N messages with one attachment and writes each to
 * a null stream (every byte is still encoded), in one of two modes:
 *
 *   compose-bench farceur N TEMPLATE   the library: bind variables, expand,
 *                                      compose, verify (re-parse), write
 *   compose-bench gmime N ATTACHMENT   the same message built with GMime
 *                                      alone: the floor farceur is measured
 *                                      against
 *
 * Prints "MODE N WALL-SECONDS CPU-SECONDS" (CPU = user + system time of
 * the process, steadier than wall time on a shared machine).  Run by
 * tools/bench/compose.sh.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include <sys/resource.h>

#include <glib/gstdio.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

static const char body[]
    = "Dear Bob Durand,\n\nyou won a prize: see the attachment.\n\n-- \nAlice\n";

static void
bench_farceur_one(const FarceurTemplate *tmpl, guint i)
{
  static const char *const to[] = { "Bob Durand <bob@example.org>", NULL };
  g_autoptr(GHashTable) vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  FarceurComposeRequest request = { .from = "Alice <alice@example.com>", .to = to, .vars = vars };
  g_autoptr(GError) error = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GMimeStream) out = g_mime_stream_null_new();

  g_hash_table_insert(vars, g_strdup("group.index"), g_strdup_printf("%u", i));
  message = farceur_compose_message(tmpl, &request, &error);
  if (message == NULL || !farceur_compose_write_message(GMIME_OBJECT(message), out, &error))
    g_error("compose: %s", error->message);
}

static GMimeObject *
bench_attachment(const char *path)
{
  int fd = g_open(path, O_RDONLY, 0);
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeDataWrapper) content = NULL;
  GMimePart *part = g_mime_part_new_with_type("application", "octet-stream");

  if (fd < 0)
    g_error("cannot open %s", path);
  stream = g_mime_stream_fs_new(fd);
  content = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content(part, content);
  g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
  g_mime_part_set_filename(part, "blob.bin");
  return GMIME_OBJECT(part);
}

static void
bench_gmime_one(const char *attachment, guint i)
{
  g_autoptr(GMimeMessage) message = g_mime_message_new(FALSE);
  g_autoptr(GMimeStream) out = g_mime_stream_null_new();
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree char *id = g_mime_utils_generate_message_id("example.com");
  g_autofree char *subject = g_strdup_printf("Hello Bob %u", i);
  GMimeTextPart *text = g_mime_text_part_new_with_subtype("plain");
  GMimeObject *file = bench_attachment(attachment);
  GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");

  g_mime_message_add_mailbox(message, GMIME_ADDRESS_TYPE_FROM, "Alice", "alice@example.com");
  g_mime_message_add_mailbox(message, GMIME_ADDRESS_TYPE_TO, "Bob Durand", "bob@example.org");
  g_mime_message_set_subject(message, subject, "utf-8");
  g_mime_message_set_date(message, now);
  g_mime_message_set_message_id(message, id);
  g_mime_text_part_set_text(text, body);
  g_mime_multipart_add(mixed, GMIME_OBJECT(text));
  g_mime_multipart_add(mixed, file);
  g_mime_message_set_mime_part(message, GMIME_OBJECT(mixed));
  g_object_unref(text);
  g_object_unref(file);
  g_object_unref(mixed);
  if (g_mime_object_write_to_stream(GMIME_OBJECT(message), NULL, out) == -1)
    g_error("write failed");
}

static double
bench_cpu_seconds(void)
{
  struct rusage usage;

  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec
         + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int
main(int argc, char **argv)
{
  g_autoptr(FarceurTemplate) tmpl = NULL;
  g_autoptr(GError) error = NULL;
  gboolean farceur;
  guint n;
  gint64 start;
  double cpu;

  if (argc != 4 || (g_strcmp0(argv[1], "farceur") != 0 && g_strcmp0(argv[1], "gmime") != 0)) {
    fprintf(stderr, "usage: compose-bench farceur|gmime N TEMPLATE|ATTACHMENT\n");
    return 64;
  }
  farceur_init();
  farceur = g_strcmp0(argv[1], "farceur") == 0;
  n = (guint)atoi(argv[2]);
  if (farceur && (tmpl = farceur_template_load(argv[3], &error)) == NULL)
    g_error("%s", error->message);
  if (farceur)
    bench_farceur_one(tmpl, 0); /* warm up: GIO modules, MIME database */
  else
    bench_gmime_one(argv[3], 0);
  start = g_get_monotonic_time();
  cpu = bench_cpu_seconds();
  for (guint i = 0; i < n; i++) {
    if (farceur)
      bench_farceur_one(tmpl, i);
    else
      bench_gmime_one(argv[3], i);
  }
  printf("%s %u %.3f %.3f\n", argv[1], n, (g_get_monotonic_time() - start) / 1e6,
         bench_cpu_seconds() - cpu);
  return 0;
}
