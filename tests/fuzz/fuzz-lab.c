/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the readers of the lab's input files: the same bytes
 * are read as a configuration (.properties, INI or JSON), as a victims file
 * (text, CSV or JSON) and as a messages file (separators, subjects, JSON),
 * each recording what it read.  Every string they give back must be valid
 * UTF-8, every subject free of line breaks; a failure must say why. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <farceur/farceur.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_note(const FarceurReadFile *note)
{
  g_autoptr(FarceurReadReport) report = farceur_read_report_new();
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *json = NULL;

  g_ptr_array_add(report->files, (gpointer)note);
  node = farceur_read_report_to_json(report);
  json = json_to_string(node, FALSE);
  g_ptr_array_steal_index(report->files, 0);
  g_assert_true(g_utf8_validate(json, -1, NULL));
}

static void
fuzz_config(const char *text, size_t size)
{
  g_autoptr(FarceurCampaignConfig) config = farceur_campaign_config_new();
  g_autoptr(FarceurReadFile) note = farceur_read_file_new("config", "/nonexistent/c.properties");
  g_autoptr(GError) error = NULL;

  if (!farceur_campaign_config_read_data(config, text, size, "/nonexistent/c.properties", note,
                                         &error))
    g_assert_nonnull(error);
  fuzz_check_note(note);
}

static void
fuzz_victims(const char *text, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) victims = farceur_campaign_parse_victims(text, size, "v.txt", FALSE, &error);

  g_assert_true(victims != NULL || error != NULL);
  for (guint i = 0; victims && i < victims->len; i++)
    g_assert_true(g_utf8_validate(((FarceurVictim *)victims->pdata[i])->addr, -1, NULL));
}

static void
fuzz_messages(const uint8_t *data, size_t size)
{
  int fd = memfd_create("fuzz-messages", 0);
  g_autofree char *path = NULL;
  g_autoptr(FarceurReadFile) note = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = NULL;

  if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
    if (fd >= 0)
      close(fd);
    return;
  }
  path = g_strdup_printf("/proc/self/fd/%d", fd);
  note = farceur_read_file_new("messages", path);
  all = farceur_template_read_messages(path, NULL, note, &error);
  g_assert_true(all != NULL || error != NULL);
  for (guint i = 0; all && i < all->len; i++) {
    const char *subject = farceur_template_get_header(all->pdata[i], "Subject");
    g_assert_true(g_utf8_validate(subject, -1, NULL));
    g_assert_null(strpbrk(subject, "\r\n"));
  }
  fuzz_check_note(note);
  close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);

  farceur_init();
  if (memchr(data, '\0', size) == NULL)
    fuzz_config(text, size);
  fuzz_victims((const char *)data, size);
  fuzz_messages(data, size);
  return 0;
}
