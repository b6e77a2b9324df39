/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur prank: the report (farceur-prank(1); data/doc/json.md, prank
 * --json): the plan line, then per group the sender, recipients, each
 * message's header addresses next to its envelope, the flags where they
 * differ, and the result; with --json one object per group. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli-output.h"
#include "cmd-prank-report.h"

static char *
prank_list(InternetAddressList *list)
{
  if (list == NULL || internet_address_list_length(list) == 0)
    return g_strdup("(none)");
  return internet_address_list_to_string(list, NULL, FALSE);
}

static char *
prank_rcpts(const FarceurEnvelope *envelope)
{
  GString *out = g_string_new(NULL);

  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    g_string_append_printf(out, "%s<%s>", i ? " " : "", (char *)envelope->rcpt_to->pdata[i]);
  return g_string_free(out, FALSE);
}

static void
prank_print_headers(const FarceurPrankMessage *m)
{
  g_autofree char *from = prank_list(m->from);
  g_autofree char *to = prank_list(m->to);
  g_autofree char *cc = prank_list(m->cc);
  g_autofree char *bcc = prank_list(m->bcc);
  g_autofree char *rcpts = prank_rcpts(m->envelope);

  printf("    header    From: %s\n", from);
  printf("              To:   %s\n", to);
  if (internet_address_list_length(m->cc))
    printf("              Cc:   %s\n", cc);
  if (internet_address_list_length(m->bcc))
    printf("              Bcc:  %s  (removed before delivery)\n", bcc);
  printf("    envelope  MAIL FROM:<%s>\n", m->envelope->mail_from);
  printf("              RCPT TO:%s\n", rcpts);
}

/* One "! ..." line; the first one carries the "flags" label. */
static void G_GNUC_PRINTF(2, 3) prank_flag(gboolean *first, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start(args, format);
  text = g_strdup_vprintf(format, args);
  va_end(args);
  printf("    %-10s! %s\n", *first ? "flags" : "", text);
  *first = FALSE;
}

/* Each flag says what the headers and the envelope actually hold: the
 * forged victim in From, or a From (the template's own) that is not the
 * envelope sender. */
static void
prank_print_flags(const FarceurPrankGroup *group, const FarceurPrankMessage *m)
{
  gboolean first = TRUE;

  if (m->from_forged)
    prank_flag(&first,
               "forged From: <%s> is a victim who never wrote this; the envelope sender is "
               "forged too",
               group->sender->addr);
  if (m->from_mismatch) {
    g_autofree char *from = prank_list(m->from);
    prank_flag(&first,
               "the From header (%s) differs from the envelope sender <%s>, the forged victim",
               from, m->envelope->mail_from);
  }
  for (guint i = 0; i < m->envelope_only->len; i++)
    prank_flag(&first, "<%s> only in the envelope (blind copy: no header names it)",
               (char *)m->envelope_only->pdata[i]);
  for (guint i = 0; i < m->header_only->len; i++)
    prank_flag(&first, "<%s> in the headers but not in the envelope: gets no copy",
               (char *)m->header_only->pdata[i]);
}

/* The recipients that did not get the message, with the reply that says
 * why; a recipient's line that would only repeat the message's error is
 * left out. */
static void
prank_print_outcomes(const FarceurPrankMessage *m)
{
  for (guint i = 0; i < m->delivery->rcpts->len; i++) {
    const FarceurRcptOutcome *r = m->delivery->rcpts->pdata[i];
    if (r->status == FARCEUR_RCPT_ACCEPTED
        || (r->code == 0 && m->error != NULL && g_strcmp0(r->text, m->error->message) == 0))
      continue;
    printf("              <%s> %s:", r->addr, farceur_rcpt_status_to_string(r->status));
    if (r->code != 0)
      printf(" %u", r->code);
    if (r->enhanced != NULL)
      printf(" %s", r->enhanced);
    printf(" %s\n", r->text ? r->text : "");
  }
}

static void
prank_print_result(const FarceurPrankMessage *m, gboolean dry_run)
{
  guint accepted, n;
  const char *where;

  if (!m->settled) {
    if (dry_run)
      printf("    result    not delivered (--dry-run)\n");
    return;
  }
  accepted = farceur_delivery_count(m->delivery, FARCEUR_RCPT_ACCEPTED);
  n = m->delivery->rcpts->len;
  where = m->delivery->location ? m->delivery->location : "";
  printf("    result    ");
  if (m->state == FARCEUR_BATCH_DELIVERED)
    printf("delivered to %u of %u recipients: %s", accepted, n, where);
  else if (m->state == FARCEUR_BATCH_PARTIAL)
    printf("partly delivered to %u of %u recipients: %s", accepted, n, where);
  else if (m->state == FARCEUR_BATCH_SKIPPED)
    printf("skipped: settled by an earlier run (journal), %u of %u recipients accepted", accepted,
           n);
  else
    printf("FAILED: %s", m->error ? m->error->message : farceur_batch_state_to_string(m->state));
  if (m->attempts > 1)
    printf(" (%u attempts)", m->attempts);
  if (g_strcmp0(m->delivery->tls, "unverified") == 0)
    printf(" [TLS unverified]");
  printf("\n");
  prank_print_outcomes(m);
}

static void
prank_print_group(const FarceurPrankGroup *group, guint n_groups, gboolean dry_run)
{
  g_autofree char *template_name = g_path_get_basename(group->tmpl->file);
  g_autofree char *sender = farceur_victim_to_mailbox(group->sender);

  printf("\ngroup %u of %u: template %s", group->index, n_groups, template_name);
  if (group->tmpl->index)
    printf(" #%u", group->tmpl->index);
  printf(", %u victims%s\n", group->recipients->len + 1,
         group->per_recipient ? ", one message per recipient" : "");
  printf("  sender      %s (forged)\n", sender);
  for (guint i = 0; i < group->recipients->len; i++) {
    g_autofree char *r = farceur_victim_to_mailbox(group->recipients->pdata[i]);
    printf("  %s  %s\n", i ? "          " : "recipients", r);
  }
  for (guint i = 0; i < group->messages->len; i++) {
    const FarceurPrankMessage *m = group->messages->pdata[i];
    printf("  message %u/%u: \"%s\"\n", i + 1, group->messages->len, m->subject ? m->subject : "");
    prank_print_headers(m);
    prank_print_flags(group, m);
    prank_print_result(m, dry_run);
  }
}

/**
 * prank_report_group:
 * @campaign: the campaign
 * @group: one of its groups, planned or settled
 * @json: one JSON object instead of the text
 * @dry_run: nothing was delivered
 *
 * Prints the group and flushes standard output.
 */
void
prank_report_group(const FarceurCampaign *campaign, const FarceurPrankGroup *group, gboolean json,
                   gboolean dry_run)
{
  GPtrArray *groups = farceur_campaign_get_groups(campaign);

  if (json)
    cli_output_json(farceur_prank_group_to_json(campaign, group));
  else
    prank_print_group(group, groups->len, dry_run);
  cli_output_flush();
}

/**
 * prank_report_intro:
 * @campaign: the campaign
 * @config: its configuration
 * @json: --json: only the seed, on standard error, when it was not given
 * @dry_run: nothing will be delivered
 */
void
prank_report_intro(const FarceurCampaign *campaign, const FarceurCampaignConfig *config,
                   gboolean json, gboolean dry_run)
{
  guint32 seed = farceur_campaign_get_seed(campaign);
  guint n_templates = farceur_campaign_get_n_templates(campaign);
  guint n_groups = farceur_campaign_get_groups(campaign)->len;

  if (json) {
    if (!config->has_seed)
      g_printerr("farceur prank: seed %u (--seed %u replays this plan)\n", seed, seed);
    return;
  }

  printf("farceur prank: %u victims from %s, %u template%s, %u group%s, seed %u%s\n",
         farceur_campaign_get_n_victims(campaign), config->victims, n_templates,
         n_templates == 1 ? "" : "s", n_groups, n_groups == 1 ? "" : "s", seed,
         config->has_seed ? "" : " (chosen at random; --seed replays this plan)");
  printf("target: %s%s\n", config->via, dry_run ? " (dry run: nothing is delivered)" : "");
}

/**
 * prank_report_summary:
 * @campaign: the campaign, delivered
 * @summary: the batch's counts
 * @target: what the messages were delivered to
 *
 * The closing lines of the text report: the groups delivered, and the
 * messages an earlier run settled (the journal) or whose fate is unknown.
 */
void
prank_report_summary(const FarceurCampaign *campaign, const FarceurBatchSummary *summary,
                     const char *target)
{
  GPtrArray *groups = farceur_campaign_get_groups(campaign);
  guint delivered = 0;

  for (guint i = 0; i < groups->len; i++)
    if (farceur_prank_group_is_delivered(groups->pdata[i]))
      delivered++;
  printf("\n%u of %u groups delivered to %s\n", delivered, groups->len, target);
  if (summary->skipped)
    printf("%u of %u message%s settled by an earlier run (journal), not sent again\n",
           summary->skipped, summary->total, summary->total == 1 ? "" : "s");
  if (summary->unknown)
    printf("%u message%s got no reply after the final dot: may or may not have arrived\n",
           summary->unknown, summary->unknown == 1 ? "" : "s");
}
