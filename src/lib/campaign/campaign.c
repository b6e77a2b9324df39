/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: a prank campaign (farceur-prank(1); data/doc/envelope.md, How prank chooses it).
 *
 * farceur_campaign_prepare() does everything that can fail on bad input:
 * it reads the victims and templates, checks the witnesses, makes the plan
 * and composes every message, so nothing is delivered unless all of it
 * works.  campaign-batch.c then hands the messages to the delivery engine.
 * The same seed and files compose the same octets (campaign-replay.c).
 *
 * A template that uses recipient.* is personal: its group gets one message
 * per recipient (To: that recipient) instead of one message to all. */
#include "config.h"

#include <string.h>

#include <farceur/campaign.h>
#include <farceur/compose.h>
#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/init.h>

#include "campaign-private.h"

struct _FarceurCampaign {
  GPtrArray *victims;   /* FarceurVictim */
  GPtrArray *templates; /* FarceurTemplate */
  FarceurCampaignPlan *plan;
  GPtrArray *groups; /* FarceurPrankGroup */
  GPtrArray *witnesses;
  GPtrArray *bcc_witnesses;
  GHashTable *vars;
  GDateTime *date;       /* of every message */
  GHashTable *by_source; /* a message's source -> its group (transfer none) */
};

static void
campaign_message_free(gpointer data)
{
  FarceurPrankMessage *m = data;

  g_clear_object(&m->message);
  farceur_envelope_free(m->envelope);
  g_free(m->subject);
  g_clear_object(&m->from);
  g_clear_object(&m->to);
  g_clear_object(&m->cc);
  g_clear_object(&m->bcc);
  g_ptr_array_unref(m->envelope_only);
  g_ptr_array_unref(m->header_only);
  farceur_delivery_free(m->delivery);
  g_clear_error(&m->error);
  g_free(m->source);
  g_free(m);
}

static void
campaign_group_free(gpointer data)
{
  FarceurPrankGroup *group = data;

  g_ptr_array_unref(group->recipients);
  g_ptr_array_unref(group->messages);
  g_free(group);
}

void
farceur_campaign_free(FarceurCampaign *campaign)
{
  if (campaign == NULL)
    return;
  g_clear_pointer(&campaign->groups, g_ptr_array_unref);
  g_clear_pointer(&campaign->victims, g_ptr_array_unref);
  g_clear_pointer(&campaign->templates, g_ptr_array_unref);
  farceur_campaign_plan_free(campaign->plan);
  g_clear_pointer(&campaign->witnesses, g_ptr_array_unref);
  g_clear_pointer(&campaign->bcc_witnesses, g_ptr_array_unref);
  g_clear_pointer(&campaign->vars, g_hash_table_unref);
  g_clear_pointer(&campaign->date, g_date_time_unref);
  g_clear_pointer(&campaign->by_source, g_hash_table_unref);
  g_free(campaign);
}

/* ---- inputs ---- */

static GPtrArray *
campaign_copy_strings(GPtrArray *in)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

  for (guint i = 0; i < in->len; i++)
    g_ptr_array_add(out, g_strdup(in->pdata[i]));
  return out;
}

/* A witness must be one mailbox usable in an SMTP command, held to the
 * rules of a victims line (nothing silently dropped). */
static char *
campaign_witness_addr(const char *witness, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(FarceurVictim) mailbox = farceur_campaign_parse_mailbox(witness, &local);

  if (mailbox == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "witness '%s': %s", witness,
                local->message);
    return NULL;
  }
  return g_strdup(mailbox->addr);
}

static gboolean
campaign_check_witnesses(GPtrArray *witnesses, GError **error)
{
  for (guint i = 0; i < witnesses->len; i++) {
    g_autofree char *addr = campaign_witness_addr(witnesses->pdata[i], error);
    if (addr == NULL)
      return FALSE;
  }
  return TRUE;
}

static void
campaign_note_found(FarceurReadFile *note, const char *found)
{
  if (note != NULL)
    farceur_read_file_set(&note->found, found);
}

static gboolean
campaign_load_inputs(FarceurCampaign *campaign, const FarceurCampaignConfig *config,
                     FarceurReadReport *report, GError **error)
{
  FarceurReadFile *note;

  if (config->victims == NULL || config->messages == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "no %s: give --%s, name it in the configuration, or put a %s file here",
                config->victims ? "messages" : "victims file",
                config->victims ? "messages" : "victims",
                config->victims ? "messages.*" : "victims.*");
    return FALSE;
  }
  note = farceur_read_report_add(report, "victims", config->victims);
  campaign_note_found(note, config->victims_found);
  campaign->victims = farceur_campaign_read_victims(config->victims, config->strict, note, error);
  if (campaign->victims == NULL)
    return FALSE;
  note = farceur_read_report_add(report, "messages", config->messages);
  campaign_note_found(note, config->messages_found);
  campaign->templates
      = farceur_template_read_messages(config->messages, &config->messages_format, note, error);
  if (campaign->templates == NULL)
    return FALSE;
  if (!campaign_check_witnesses(config->witnesses, error)
      || !campaign_check_witnesses(config->bcc_witnesses, error))
    return FALSE;
  campaign->witnesses = campaign_copy_strings(config->witnesses);
  campaign->bcc_witnesses = campaign_copy_strings(config->bcc_witnesses);
  return TRUE;
}

/* ---- personal templates ---- */

static gboolean
campaign_text_is_personal(const char *text)
{
  return text != NULL && g_regex_match_simple("\\{\\{\\s*recipient\\.", text, 0, 0);
}

static gboolean
campaign_template_is_personal(const FarceurTemplate *tmpl)
{
  g_autofree char *html = NULL;

  for (guint i = 0; i < tmpl->headers->len; i++) {
    const FarceurTemplateHeader *h = tmpl->headers->pdata[i];
    if (campaign_text_is_personal(h->value))
      return TRUE;
  }
  if (campaign_text_is_personal(tmpl->body))
    return TRUE;
  /* An unreadable Html: file is reported by the composer. */
  return tmpl->html_path && g_file_get_contents(tmpl->html_path, &html, NULL, NULL)
         && campaign_text_is_personal(html);
}

/* ---- composing ---- */

static void
campaign_add_victim_vars(GHashTable *vars, const char *prefix, const FarceurVictim *victim)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init(&iter, victim->vars);
  while (g_hash_table_iter_next(&iter, &key, &value))
    g_hash_table_replace(vars, g_strconcat(prefix, ".", key, NULL), g_strdup(value));
}

static GHashTable *
campaign_vars(const FarceurCampaign *campaign, const FarceurPrankGroup *group,
              const FarceurVictim *first_recipient)
{
  GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init(&iter, campaign->vars);
  while (g_hash_table_iter_next(&iter, &key, &value))
    g_hash_table_replace(vars, g_strdup(key), g_strdup(value));
  g_hash_table_replace(vars, g_strdup("group.index"), g_strdup_printf("%u", group->index));
  g_hash_table_replace(vars, g_strdup("group.size"),
                       g_strdup_printf("%u", group->recipients->len + 1));
  campaign_add_victim_vars(vars, "sender", group->sender);
  campaign_add_victim_vars(vars, "recipient", first_recipient);
  return vars;
}

static InternetAddressList *
campaign_copy_list(InternetAddressList *list)
{
  InternetAddressList *copy = internet_address_list_new();

  if (list)
    internet_address_list_append(copy, list);
  return copy;
}

static gboolean
campaign_list_has(InternetAddressList *list, const char *addr)
{
  int n = internet_address_list_length(list);

  for (int i = 0; i < n; i++) {
    InternetAddress *ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(ia)
        && g_ascii_strcasecmp(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)), addr)
               == 0)
      return TRUE;
  }
  return FALSE;
}

static gboolean
campaign_envelope_has(const FarceurEnvelope *envelope, const char *addr)
{
  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    if (g_ascii_strcasecmp(envelope->rcpt_to->pdata[i], addr) == 0)
      return TRUE;
  return FALSE;
}

static void
campaign_header_only(FarceurPrankMessage *m, InternetAddressList *list)
{
  int n = internet_address_list_length(list);

  for (int i = 0; i < n; i++) {
    InternetAddress *ia = internet_address_list_get_address(list, i);
    const char *addr;
    if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
      continue;
    addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    if (!campaign_envelope_has(m->envelope, addr))
      g_ptr_array_add(m->header_only, g_strdup(addr));
  }
}

/* Records the header addresses (before delivery strips Bcc) and where they
 * and the envelope disagree. */
static void
campaign_compare(FarceurPrankMessage *m)
{
  GMimeMessage *msg = m->message;

  m->subject = g_strdup(g_mime_message_get_subject(msg));
  m->from = campaign_copy_list(g_mime_message_get_from(msg));
  m->to = campaign_copy_list(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO));
  m->cc = campaign_copy_list(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC));
  m->bcc = campaign_copy_list(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_BCC));
  m->from_mismatch = !campaign_list_has(m->from, m->envelope->mail_from);
  m->envelope_only = g_ptr_array_new_with_free_func(g_free);
  m->header_only = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < m->envelope->rcpt_to->len; i++) {
    const char *rcpt = m->envelope->rcpt_to->pdata[i];
    if (!campaign_list_has(m->to, rcpt) && !campaign_list_has(m->cc, rcpt))
      g_ptr_array_add(m->envelope_only, g_strdup(rcpt));
  }
  campaign_header_only(m, m->to);
  campaign_header_only(m, m->cc);
}

static FarceurEnvelope *
campaign_envelope(const FarceurCampaign *campaign, const FarceurPrankGroup *group, GPtrArray *to)
{
  FarceurEnvelope *envelope = farceur_envelope_new(group->sender->addr);
  GPtrArray *lists[] = { campaign->witnesses, campaign->bcc_witnesses };

  for (guint i = 0; i < to->len; i++)
    farceur_envelope_add_rcpt(envelope, ((FarceurVictim *)to->pdata[i])->addr);
  for (gsize l = 0; l < G_N_ELEMENTS(lists); l++)
    for (guint i = 0; i < lists[l]->len; i++) {
      g_autofree char *addr = campaign_witness_addr(lists[l]->pdata[i], NULL);
      farceur_envelope_add_rcpt(envelope, addr);
    }
  return envelope;
}

static GPtrArray *
campaign_mailboxes(GPtrArray *victims)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

  for (guint i = 0; i < victims->len; i++)
    g_ptr_array_add(out, farceur_victim_to_mailbox(victims->pdata[i]));
  g_ptr_array_add(out, NULL);
  return out;
}

static GPtrArray *
campaign_null_terminated(GPtrArray *strings)
{
  GPtrArray *out = g_ptr_array_new();

  for (guint i = 0; i < strings->len; i++)
    g_ptr_array_add(out, strings->pdata[i]);
  g_ptr_array_add(out, NULL);
  return out;
}

/* The name of message @n (from 0) of @group in the batch and the journal. */
static char *
campaign_source(const FarceurPrankGroup *group, guint n)
{
  if (!group->per_recipient)
    return g_strdup_printf("group %u", group->index);
  return g_strdup_printf("group %u#%u", group->index, n + 1);
}

/* Composes message @n (from 0) of @group, addressed to the victims in @to,
 * with the campaign's date and a Message-ID (hence MIME boundaries) that
 * the same seed and files give again. */
static FarceurPrankMessage *
campaign_compose(const FarceurCampaign *campaign, const FarceurPrankGroup *group, guint n,
                 GPtrArray *to, GError **error)
{
  g_autofree char *from = farceur_victim_to_mailbox(group->sender);
  g_autoptr(GPtrArray) to_boxes = campaign_mailboxes(to);
  g_autoptr(GPtrArray) cc = campaign_null_terminated(campaign->witnesses);
  g_autoptr(GPtrArray) bcc = campaign_null_terminated(campaign->bcc_witnesses);
  g_autoptr(GHashTable) vars = campaign_vars(campaign, group, to->pdata[0]);
  g_autoptr(FarceurEnvelope) envelope = campaign_envelope(campaign, group, to);
  CampaignReplay replay = { campaign->plan->seed, campaign->date, campaign->vars };
  g_autofree char *message_id = campaign_message_id(&replay, group, n, to, envelope);
  FarceurComposeRequest request = {
    .from = from,
    .to = (const char *const *)to_boxes->pdata,
    .cc = (const char *const *)cc->pdata,
    .bcc = (const char *const *)bcc->pdata,
    .vars = vars,
    .date = campaign->date,
    .message_id = message_id,
  };
  GMimeMessage *message = farceur_compose_message(group->tmpl, &request, error);
  FarceurPrankMessage *m;

  if (message == NULL)
    return NULL;
  m = g_new0(FarceurPrankMessage, 1);
  m->message = message;
  m->envelope = g_steal_pointer(&envelope);
  m->source = campaign_source(group, n);
  campaign_compare(m);
  m->from_forged = campaign_list_has(m->from, group->sender->addr);
  return m;
}

static gboolean
campaign_compose_group(const FarceurCampaign *campaign, FarceurPrankGroup *group, GError **error)
{
  FarceurPrankMessage *m;

  if (!group->per_recipient) {
    m = campaign_compose(campaign, group, 0, group->recipients, error);
    if (m)
      g_ptr_array_add(group->messages, m);
    return m != NULL;
  }
  for (guint i = 0; i < group->recipients->len; i++) {
    g_autoptr(GPtrArray) one = g_ptr_array_new();
    g_ptr_array_add(one, group->recipients->pdata[i]);
    m = campaign_compose(campaign, group, i, one, error);
    if (m == NULL)
      return FALSE;
    g_ptr_array_add(group->messages, m);
  }
  return TRUE;
}

static FarceurPrankGroup *
campaign_make_group(FarceurCampaign *campaign, guint g)
{
  GArray *members = campaign->plan->groups->pdata[g];
  FarceurPrankGroup *group = g_new0(FarceurPrankGroup, 1);

  group->index = g + 1;
  group->sender = campaign->victims->pdata[g_array_index(members, guint, 0)];
  group->recipients = g_ptr_array_new();
  for (guint i = 1; i < members->len; i++)
    g_ptr_array_add(group->recipients, campaign->victims->pdata[g_array_index(members, guint, i)]);
  group->tmpl = campaign->templates->pdata[g_array_index(campaign->plan->templates, guint, g)];
  group->per_recipient = campaign_template_is_personal(group->tmpl);
  group->messages = g_ptr_array_new_with_free_func(campaign_message_free);
  return group;
}

/* Composes @tmpl, which no group uses, as if it were the first group's, and
 * throws the result away: a template is checked (placeholders, Attach, Html)
 * whether or not the seed picks it. */
static gboolean
campaign_check_unused(const FarceurCampaign *campaign, const FarceurTemplate *tmpl, GError **error)
{
  FarceurPrankGroup probe = *(FarceurPrankGroup *)campaign->groups->pdata[0];
  gboolean ok;

  probe.tmpl = tmpl;
  probe.per_recipient = campaign_template_is_personal(tmpl);
  probe.messages = g_ptr_array_new_with_free_func(campaign_message_free);
  ok = campaign_compose_group(campaign, &probe, error);
  g_ptr_array_unref(probe.messages);
  return ok;
}

/* Template by template in file order, so that the first bad template is the
 * one reported whatever the seed: its groups, or a probe when it has none. */
static gboolean
campaign_compose_all(FarceurCampaign *campaign, GError **error)
{
  for (guint t = 0; t < campaign->templates->len; t++) {
    const FarceurTemplate *tmpl = campaign->templates->pdata[t];
    gboolean used = FALSE;
    for (guint g = 0; g < campaign->groups->len; g++) {
      FarceurPrankGroup *group = campaign->groups->pdata[g];
      if (group->tmpl != tmpl)
        continue;
      used = TRUE;
      if (!campaign_compose_group(campaign, group, error))
        return FALSE;
    }
    if (!used && campaign->groups->len > 0 && !campaign_check_unused(campaign, tmpl, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
campaign_make_plan(FarceurCampaign *campaign, const FarceurCampaignConfig *config,
                   FarceurReadReport *report, GError **error)
{
  guint32 seed = config->has_seed ? config->seed : g_random_int();
  FarceurReadFile *victims = report ? farceur_read_report_find(report, "victims") : NULL;
  FarceurReadFile *note = report ? farceur_read_report_find(report, "config") : NULL;

  campaign->plan = campaign_plan_for(config, campaign->victims->len, campaign->templates->len, seed,
                                     note ? note : victims, error);
  if (campaign->plan == NULL) {
    if (victims != NULL && victims->repeated->len > 0)
      g_prefix_error(error, "victims '%s' (%u repeated address%s kept once): ", config->victims,
                     victims->repeated->len, victims->repeated->len == 1 ? "" : "es");
    else
      g_prefix_error(error, "victims '%s': ", config->victims);
    return FALSE;
  }
  return TRUE;
}

/**
 * farceur_campaign_prepare_full:
 * @config: victims, templates, groups, witnesses, seed and variables
 * @report: (nullable): where to record what was read from each file (the
 *   victims and messages files are added to it)
 * @error: return location for an error naming the file and line at fault
 *
 * Loads the inputs, makes the plan (choosing a seed when @config has none)
 * and composes every message; a template no group uses is composed once
 * for the first group and discarded, so every template is checked whatever
 * the seed.  Nothing is delivered.  What was read stays in @report when it
 * fails too.  The messages are dated @config->date, else by the newest of
 * the campaign's files, and their Message-IDs derive from the seed, so the
 * same seed and files compose the same octets (data/doc/formats.md,
 * Replaying a campaign).
 *
 * Returns: (transfer full): the campaign, or %NULL
 */
FarceurCampaign *
farceur_campaign_prepare_full(const FarceurCampaignConfig *config, FarceurReadReport *report,
                              GError **error)
{
  g_autoptr(FarceurCampaign) campaign = g_new0(FarceurCampaign, 1);
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail(config != NULL, NULL);
  farceur_init();
  campaign->vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_iter_init(&iter, config->vars);
  while (g_hash_table_iter_next(&iter, &key, &value))
    g_hash_table_replace(campaign->vars, g_strdup(key), g_strdup(value));
  if (!campaign_load_inputs(campaign, config, report, error)
      || !campaign_make_plan(campaign, config, report, error))
    return NULL;
  campaign->date = config->date ? g_date_time_ref(config->date)
                                : campaign_files_date(config, campaign->templates);
  campaign->groups = g_ptr_array_new_with_free_func(campaign_group_free);
  for (guint g = 0; g < campaign->plan->groups->len; g++)
    g_ptr_array_add(campaign->groups, campaign_make_group(campaign, g));
  if (!campaign_compose_all(campaign, error))
    return NULL;
  campaign->by_source = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint g = 0; g < campaign->groups->len; g++) {
    FarceurPrankGroup *group = campaign->groups->pdata[g];
    for (guint i = 0; i < group->messages->len; i++)
      g_hash_table_insert(campaign->by_source,
                          ((FarceurPrankMessage *)group->messages->pdata[i])->source, group);
  }
  return g_steal_pointer(&campaign);
}

/* The message named @source (its group in @group), or NULL. */
FarceurPrankMessage *
campaign_find_source(FarceurCampaign *campaign, const char *source, FarceurPrankGroup **group)
{
  *group = g_hash_table_lookup(campaign->by_source, source);
  for (guint i = 0; *group != NULL && i < (*group)->messages->len; i++) {
    FarceurPrankMessage *m = (*group)->messages->pdata[i];
    if (strcmp(m->source, source) == 0)
      return m;
  }
  return NULL;
}

/**
 * farceur_campaign_prepare:
 * @config: victims, templates, groups, witnesses, seed and variables
 * @error: return location for an error naming the file and line at fault
 *
 * farceur_campaign_prepare_full() without a report.
 *
 * Returns: (transfer full): the campaign, or %NULL
 */
FarceurCampaign *
farceur_campaign_prepare(const FarceurCampaignConfig *config, GError **error)
{
  g_return_val_if_fail(config != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  return farceur_campaign_prepare_full(config, NULL, error);
}

/**
 * farceur_campaign_get_plan:
 * @campaign: a prepared campaign
 *
 * Returns: (transfer none): its plan
 */
const FarceurCampaignPlan *
farceur_campaign_get_plan(const FarceurCampaign *campaign)
{
  g_return_val_if_fail(campaign != NULL, NULL);
  return campaign->plan;
}

guint32
farceur_campaign_get_seed(const FarceurCampaign *campaign)
{
  g_return_val_if_fail(campaign != NULL, 0);

  return campaign->plan->seed;
}

guint
farceur_campaign_get_n_victims(const FarceurCampaign *campaign)
{
  g_return_val_if_fail(campaign != NULL, 0);

  return campaign->victims->len;
}

guint
farceur_campaign_get_n_templates(const FarceurCampaign *campaign)
{
  g_return_val_if_fail(campaign != NULL, 0);

  return campaign->templates->len;
}

/**
 * farceur_campaign_get_groups:
 * @campaign: a prepared campaign
 *
 * Returns: (transfer none) (element-type FarceurPrankGroup): the groups in order
 */
GPtrArray *
farceur_campaign_get_groups(const FarceurCampaign *campaign)
{
  g_return_val_if_fail(campaign != NULL, NULL);

  return campaign->groups;
}

/**
 * farceur_campaign_get_date:
 * @campaign: a prepared campaign
 *
 * Returns: (transfer none): the Date of its messages
 */
GDateTime *
farceur_campaign_get_date(const FarceurCampaign *campaign)
{
  g_return_val_if_fail(campaign != NULL, NULL);

  return campaign->date;
}
