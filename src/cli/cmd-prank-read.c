/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur prank: what it reads (farceur-prank(1), FILES): the configuration
 * given or found in a lab folder, the victims and messages files it names
 * or that have the usual names, and the report of what was read from each,
 * printed before the plan so that a student sees at once when the reading
 * is not what they meant.  The delivery side of prank is cmd-prank-deliver.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli-output.h"
#include "cmd-prank-read.h"

/**
 * prank_read_config:
 * @path: (nullable): --config, else the file is looked for
 * @report: where to record what was read
 * @error: return location for an error
 *
 * Returns: (transfer full): the configuration, empty when there is no file
 */
FarceurCampaignConfig *
prank_read_config(const char *path, FarceurReadReport *report, GError **error)
{
  g_autoptr(FarceurCampaignConfig) config = farceur_campaign_config_new();
  g_autofree char *found = NULL;
  g_autofree char *file = path ? g_strdup(path) : farceur_campaign_config_discover(".", &found);
  FarceurReadFile *note;

  if (file == NULL)
    return g_steal_pointer(&config);
  if (g_str_has_prefix(file, "./"))
    memmove(file, file + 2, strlen(file + 2) + 1);
  note = farceur_read_report_add(report, "config", file);
  farceur_read_file_set(&note->found, found);
  if (!farceur_campaign_config_read(config, file, note, error))
    return NULL;
  return g_steal_pointer(&config);
}

/* "UTF-8" is the rule; anything else is worth saying. */
static const char *
prank_read_encoding(const FarceurReadFile *file)
{
  return file->encoding && strcmp(file->encoding, "UTF-8") != 0 ? file->encoding : NULL;
}

static void
prank_read_print_file(const FarceurReadFile *file)
{
  const char *encoding = prank_read_encoding(file);
  g_autoptr(GString) how = g_string_new(NULL);

  if (file->found)
    g_string_append(how, file->found);
  if (encoding)
    g_string_append_printf(how, "%s%s", how->len ? ", " : "", encoding);
  printf("  %-9s %s%s%s%s: %s\n", file->role, file->path, how->len ? " (" : "", how->str,
         how->len ? ")" : "", file->summary ? file->summary : "not read");
}

/* Warnings and the entries left out, each with its file and line, on
 * standard error: "farceur prank: warning: victims.txt line 5: ...". */
static void
prank_read_warnings(const FarceurReadReport *report)
{
  for (guint f = 0; f < report->files->len; f++) {
    const FarceurReadFile *file = report->files->pdata[f];
    for (guint k = 0; k < 2; k++) {
      GPtrArray *notes = k ? file->skipped : file->warnings;
      for (guint i = 0; i < notes->len; i++) {
        const FarceurReadNote *note = notes->pdata[i];
        g_autofree char *line = note->line ? g_strdup_printf(" line %u", note->line) : g_strdup("");
        g_printerr("farceur prank: warning: %s%s: %s%s\n", file->path, line,
                   k && strcmp(file->role, "victims") == 0 ? "skipped: " : "", note->text);
      }
    }
  }
}

/**
 * prank_read_print:
 * @report: what was read
 * @campaign: (nullable): the campaign, %NULL when preparing it failed
 * @json: print the JSON record rather than lines for people
 *
 * The report of what was read, before the plan: on standard output (a
 * JSON record with --json), its warnings on standard error.
 */
void
prank_read_print(const FarceurReadReport *report, const FarceurCampaign *campaign, gboolean json)
{
  prank_read_warnings(report);
  if (json) {
    cli_output_json(farceur_campaign_read_to_json(report, campaign));
    return;
  }
  if (report->files->len == 0)
    return;
  printf("farceur prank: what was read\n");
  for (guint i = 0; i < report->files->len; i++)
    prank_read_print_file(report->files->pdata[i]);
  if (campaign != NULL) {
    g_autofree char *plan = farceur_campaign_describe_plan(campaign);
    printf("  %-9s %s\n", "plan", plan);
  }
  printf("\n");
}

/**
 * prank_read_needs_rail:
 * @url: the delivery target
 * @dry_run: whether nothing will be delivered
 *
 * The safety rail (data/doc/formats.md, Delivery targets) applies only
 * where a connection would be made: not with --dry-run, not to a local
 * target.
 *
 * Returns: whether @url must be checked for a remote server
 */
gboolean
prank_read_needs_rail(const FarceurTargetUrl *url, gboolean dry_run)
{
  return !dry_run && farceur_target_url_is_remote(url);
}
