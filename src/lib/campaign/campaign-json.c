/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: one prank group as a JSON object (prank --json). */
#include "config.h"

#include <farceur/campaign.h>
#include "gmime-autoptr.h"
#include <farceur/json.h>

static void
campaign_json_mailbox(JsonBuilder *b, const char *name, const char *addr)
{
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "name");
  if (name && name[0])
    json_builder_add_string_value(b, name);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "addr");
  json_builder_add_string_value(b, addr);
  json_builder_end_object(b);
}

static void
campaign_json_list(JsonBuilder *b, const char *member, InternetAddressList *list)
{
  int n = list ? internet_address_list_length(list) : 0;

  json_builder_set_member_name(b, member);
  json_builder_begin_array(b);
  for (int i = 0; i < n; i++) {
    InternetAddress *ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(ia))
      campaign_json_mailbox(b, internet_address_get_name(ia),
                            internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
  }
  json_builder_end_array(b);
}

static void
campaign_json_flags(JsonBuilder *b, const FarceurPrankMessage *m)
{
  json_builder_set_member_name(b, "flags");
  json_builder_begin_array(b);
  if (m->from_forged)
    json_builder_add_string_value(b, "forged-from");
  if (m->from_mismatch)
    json_builder_add_string_value(b, "from-mismatch");
  if (m->envelope_only->len)
    json_builder_add_string_value(b, "envelope-only-recipient");
  if (m->header_only->len)
    json_builder_add_string_value(b, "header-only-recipient");
  json_builder_end_array(b);
  farceur_json_add_strings_member(b, "envelope_only", m->envelope_only);
  farceur_json_add_strings_member(b, "header_only", m->header_only);
}

/* planned (not sent: --dry-run), delivered, partial, skipped (settled by
 * an earlier run, by the journal) or failed (refused, deferred, unknown). */
static const char *
campaign_json_result(const FarceurPrankMessage *m)
{
  if (!m->settled)
    return "planned";
  switch (m->state) {
    case FARCEUR_BATCH_DELIVERED:
      return "delivered";
    case FARCEUR_BATCH_PARTIAL:
      return "partial";
    case FARCEUR_BATCH_SKIPPED:
      return "skipped";
    default:
      return "failed";
  }
}

static void
campaign_json_message(JsonBuilder *b, const FarceurPrankMessage *m)
{
  json_builder_begin_object(b);
  farceur_json_add_string_member(b, "source", m->source);
  farceur_json_add_string_member(b, "subject", m->subject);
  farceur_json_add_string_member(b, "message_id", g_mime_message_get_message_id(m->message));
  json_builder_set_member_name(b, "header");
  json_builder_begin_object(b);
  campaign_json_list(b, "from", m->from);
  campaign_json_list(b, "to", m->to);
  campaign_json_list(b, "cc", m->cc);
  campaign_json_list(b, "bcc", m->bcc);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "envelope");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "mail_from");
  json_builder_add_string_value(b, m->envelope->mail_from);
  farceur_json_add_strings_member(b, "rcpt_to", m->envelope->rcpt_to);
  json_builder_end_object(b);
  campaign_json_flags(b, m);
  json_builder_set_member_name(b, "result");
  json_builder_add_string_value(b, campaign_json_result(m));
  farceur_json_add_string_member(b, "state",
                                 m->settled ? farceur_batch_state_to_string(m->state) : NULL);
  json_builder_set_member_name(b, "attempts");
  json_builder_add_int_value(b, m->attempts);
  farceur_json_add_string_member(b, "location", m->delivery ? m->delivery->location : NULL);
  json_builder_set_member_name(b, "rcpts");
  json_builder_add_value(b, farceur_delivery_rcpts_to_json(m->delivery));
  farceur_json_add_string_member(b, "error", m->error ? m->error->message : NULL);
  json_builder_end_object(b);
}

static void
campaign_json_victim(JsonBuilder *b, const FarceurVictim *v)
{
  campaign_json_mailbox(b, v->name, v->addr);
}

/**
 * farceur_prank_group_to_json:
 * @campaign: the campaign
 * @group: one of its groups, delivered or not
 *
 * Returns: (transfer full): {"group", "seed", "template", "sender",
 *   "recipients", "per_recipient", "messages": [{"source" (its name in the
 *   journal), "subject", "message_id",
 *   "header": {"from", "to", "cc", "bcc"}, "envelope": {"mail_from",
 *   "rcpt_to"}, "flags", "envelope_only", "header_only", "result"
 *   (planned|delivered|partial|skipped|failed), "state" (the batch's, as
 *   in `send --json`; null when planned), "attempts", "location", "rcpts"
 *   (see farceur_rcpt_outcome_to_json()), "error"}]}
 */
JsonNode *
farceur_prank_group_to_json(const FarceurCampaign *campaign, const FarceurPrankGroup *group)
{
  g_autoptr(JsonBuilder) b = NULL;
  g_autofree char *template_name = NULL;

  g_return_val_if_fail(campaign != NULL, NULL);
  g_return_val_if_fail(group != NULL, NULL);

  b = json_builder_new();
  template_name = g_path_get_basename(group->tmpl->file);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "group");
  json_builder_add_int_value(b, group->index);
  json_builder_set_member_name(b, "seed");
  json_builder_add_int_value(b, farceur_campaign_get_seed(campaign));
  json_builder_set_member_name(b, "template");
  json_builder_add_string_value(b, template_name);
  json_builder_set_member_name(b, "template_index");
  json_builder_add_int_value(b, group->tmpl->index);
  json_builder_set_member_name(b, "sender");
  campaign_json_victim(b, group->sender);
  json_builder_set_member_name(b, "recipients");
  json_builder_begin_array(b);
  for (guint i = 0; i < group->recipients->len; i++)
    campaign_json_victim(b, group->recipients->pdata[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "per_recipient");
  json_builder_add_boolean_value(b, group->per_recipient);
  json_builder_set_member_name(b, "messages");
  json_builder_begin_array(b);
  for (guint i = 0; i < group->messages->len; i++)
    campaign_json_message(b, group->messages->pdata[i]);
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* ---- what was read ---- */

static char *
campaign_json_sizes(const FarceurCampaignPlan *plan)
{
  GString *out = g_string_new(NULL);

  for (guint g = 0; g < plan->groups->len; g++)
    g_string_append_printf(out, "%s%u", g ? ", " : "", ((GArray *)plan->groups->pdata[g])->len);
  return g_string_free(out, FALSE);
}

/**
 * farceur_campaign_describe_plan:
 * @campaign: a prepared campaign
 *
 * Returns: (transfer full): the plan in a few words: "3 groups (4, 3, 3),
 *   every victim in one" or "2 groups picked from 13 victims (3, 5), 5 unused"
 */
char *
farceur_campaign_describe_plan(const FarceurCampaign *campaign)
{
  const FarceurCampaignPlan *plan;
  g_autofree char *sizes = NULL;
  guint n;

  g_return_val_if_fail(campaign != NULL, NULL);
  plan = farceur_campaign_get_plan(campaign);
  sizes = campaign_json_sizes(plan);
  n = plan->groups->len;
  if (!plan->picked)
    return g_strdup_printf("%u group%s (%s), every victim in one", n, n == 1 ? "" : "s", sizes);
  return g_strdup_printf("%u group%s picked at random from %u victims (%s), %u unused", n,
                         n == 1 ? "" : "s", farceur_campaign_get_n_victims(campaign), sizes,
                         plan->unused->len);
}

static void
campaign_json_plan(JsonBuilder *b, const FarceurCampaign *campaign)
{
  const FarceurCampaignPlan *plan = farceur_campaign_get_plan(campaign);
  g_autofree char *summary = farceur_campaign_describe_plan(campaign);

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "victims");
  json_builder_add_int_value(b, farceur_campaign_get_n_victims(campaign));
  json_builder_set_member_name(b, "messages");
  json_builder_add_int_value(b, farceur_campaign_get_n_templates(campaign));
  json_builder_set_member_name(b, "groups");
  json_builder_add_int_value(b, plan->groups->len);
  json_builder_set_member_name(b, "sizes");
  json_builder_begin_array(b);
  for (guint g = 0; g < plan->groups->len; g++)
    json_builder_add_int_value(b, ((GArray *)plan->groups->pdata[g])->len);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "rule");
  json_builder_add_string_value(b, plan->picked ? "picked" : "all");
  json_builder_set_member_name(b, "unused");
  json_builder_add_int_value(b, plan->unused->len);
  json_builder_set_member_name(b, "seed");
  json_builder_add_int_value(b, plan->seed);
  farceur_json_add_string_member(b, "summary", summary);
  json_builder_end_object(b);
}

/**
 * farceur_campaign_read_to_json:
 * @report: what was read
 * @campaign: (nullable): the campaign made of it, %NULL when it failed
 *
 * The record prank --json writes before the groups (data/doc/json.md;
 * data/schema/prank-read.schema.json).
 *
 * Returns: (transfer full): {"read": [files], "plan": {...} or null}
 */
JsonNode *
farceur_campaign_read_to_json(const FarceurReadReport *report, const FarceurCampaign *campaign)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  g_return_val_if_fail(report != NULL, NULL);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "read");
  json_builder_add_value(b, farceur_read_report_to_json(report));
  json_builder_set_member_name(b, "plan");
  if (campaign != NULL)
    campaign_json_plan(b, campaign);
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
