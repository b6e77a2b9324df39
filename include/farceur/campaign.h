/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: prank campaigns (data/doc/formats.md, Victims files and Campaign configuration): victims, the
 * configuration, the seeded plan of groups, and the campaign itself, which
 * composes every message before the first one is delivered, then hands
 * them to the delivery engine (batch.h) and takes back their outcomes. */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>
#include <gmime/gmime.h>
#include <json-glib/json-glib.h>

#include "batch.h"
#include "envelope.h"
#include "target.h"
#include "template.h"

#include <farceur/export.h>
#include <farceur/read-report.h>

G_BEGIN_DECLS

/* ---- victims (victims.c) ---- */

/**
 * FarceurVictim:
 * @name: (nullable): the display name
 * @addr: the address, validated as an envelope address
 * @vars: (element-type utf8 utf8): extra CSV columns, column -> value; they
 *   become `sender.COLUMN` or `recipient.COLUMN`
 * @line: the 1-based line of the victims file it came from
 */
typedef struct {
  char *name;
  char *addr;
  GHashTable *vars;
  guint line;
} FarceurVictim;

FARCEUR_API GPtrArray *farceur_campaign_load_victims(const char *path, GError **error);
FARCEUR_API GPtrArray *farceur_campaign_read_victims(const char *path, gboolean strict,
                                                     FarceurReadFile *note, GError **error);
FARCEUR_API GPtrArray *farceur_campaign_parse_victims(const char *text, gssize length,
                                                      const char *file, gboolean csv,
                                                      GError **error);
FARCEUR_API char *farceur_victim_to_mailbox(const FarceurVictim *victim);
FARCEUR_API void farceur_victim_free(FarceurVictim *victim);

/* ---- configuration (campaign-config.c) ---- */

/**
 * FarceurCampaignConfig:
 * @file: (nullable): the configuration file read, if any
 * @victims: (nullable): victims file, resolved against the config file's folder
 * @messages: (nullable): template folder, template or messages file, resolved likewise
 * @groups: number of groups, 0 for "as many as fit"
 * @group_min: smallest group (0: not set, the default is 3)
 * @group_max: largest group (0: no maximum)
 * @witnesses: (element-type utf8): mailboxes copied in Cc on every prank
 * @bcc_witnesses: (element-type utf8): mailboxes copied in Bcc
 * @has_seed: whether @seed was given
 * @seed: the shuffle seed
 * @via: (nullable): the delivery URL
 * @helo: (nullable): [smtp] helo
 * @user: (nullable): [smtp] user
 * @password_command: (nullable): [smtp] password-command
 * @tls_ca: (nullable): [smtp] tls-ca, resolved against the config file's folder
 * @vars: (element-type utf8 utf8): [vars] and --var
 * @group_size: people per group, as the lab's keys give it (groupSize,
 *   numberOfPeopleByGroup...): 0 when not given
 * @groups_from_file: @groups came from a configuration file, not the
 *   command line: when the victims cannot fill that many groups of 3, the
 *   groups are made smaller, or fewer, with a warning
 * @strict: an invalid entry in the victims file is an error, not skipped
 * @messages_format: how to read the messages file (--messages-format)
 * @victims_found: (nullable): how @victims was chosen, when not given
 * @messages_found: (nullable): how @messages was chosen, when not given
 * @date: (nullable): the Date of every message; %NULL for the newest
 *   modification time of the campaign's files (data/doc/formats.md,
 *   Replaying a campaign)
 */
typedef struct {
  char *file;
  char *victims;
  char *messages;
  guint groups;
  guint group_min;
  guint group_max;
  GPtrArray *witnesses;
  GPtrArray *bcc_witnesses;
  gboolean has_seed;
  guint32 seed;
  char *via;
  char *helo;
  char *user;
  char *password_command;
  char *tls_ca;
  GHashTable *vars;
  guint group_size;
  gboolean groups_from_file;
  gboolean strict;
  FarceurMessagesFormat messages_format;
  char *victims_found;
  char *messages_found;
  GDateTime *date;
} FarceurCampaignConfig;

FARCEUR_API FarceurCampaignConfig *farceur_campaign_config_new(void);
FARCEUR_API void farceur_campaign_config_free(FarceurCampaignConfig *config);
FARCEUR_API char *farceur_campaign_config_find(void);
FARCEUR_API gboolean farceur_campaign_config_load(FarceurCampaignConfig *config, const char *path,
                                                  GError **error);
FARCEUR_API gboolean farceur_campaign_config_load_data(FarceurCampaignConfig *config,
                                                       const char *data, gssize length,
                                                       const char *path, GError **error);
FARCEUR_API gboolean farceur_campaign_config_read(FarceurCampaignConfig *config, const char *path,
                                                  FarceurReadFile *note, GError **error);
FARCEUR_API gboolean farceur_campaign_config_read_data(FarceurCampaignConfig *config,
                                                       const char *data, gsize length,
                                                       const char *path, FarceurReadFile *note,
                                                       GError **error);
FARCEUR_API char *farceur_campaign_config_discover(const char *dir, char **found);
FARCEUR_API void farceur_campaign_config_find_inputs(FarceurCampaignConfig *config,
                                                     const char *dir);
FARCEUR_API gboolean farceur_campaign_parse_group_size(const char *text, guint *min, guint *max,
                                                       GError **error);
FARCEUR_API gboolean farceur_campaign_parse_seed(const char *text, guint32 *seed, GError **error);
FARCEUR_API GDateTime *farceur_campaign_parse_date(const char *text, GError **error);

/* ---- the plan (campaign-plan.c) ---- */

#define FARCEUR_CAMPAIGN_DEFAULT_GROUP_MIN 3

/**
 * FarceurCampaignPlan:
 * @seed: the seed the plan was made with
 * @groups: (element-type GArray): per group, the indices (guint) into the
 *   victims array; the first is the forged sender
 * @templates: (element-type guint): per group, the index of its template
 * @picked: the groups were picked from a larger list (more victims than
 *   the groups can hold at their largest): the rest are @unused
 * @unused: (element-type guint): the indices of the victims in no group
 */
typedef struct {
  guint32 seed;
  GPtrArray *groups;
  GArray *templates;
  gboolean picked;
  GArray *unused;
} FarceurCampaignPlan;

FARCEUR_API FarceurCampaignPlan *farceur_campaign_plan_new(guint n_victims, guint n_groups,
                                                           guint min, guint max, guint n_templates,
                                                           guint32 seed, GError **error);
FARCEUR_API void farceur_campaign_plan_free(FarceurCampaignPlan *plan);

/* ---- the campaign (campaign.c) ---- */

/**
 * FarceurPrankMessage:
 * @message: the composed message (its Bcc header goes when it is delivered)
 * @envelope: MAIL FROM the forged sender; RCPT TO the recipients and witnesses
 * @subject: (nullable): the decoded subject
 * @from: the header From mailboxes, as composed
 * @to: the header To mailboxes
 * @cc: the header Cc mailboxes
 * @bcc: the header Bcc mailboxes (never leave with the message)
 * @from_forged: the header From names the group's sender, a victim who
 *   never wrote the message
 * @from_mismatch: the header From address is not the envelope sender
 * @envelope_only: (element-type utf8): envelope recipients absent from To and Cc
 * @header_only: (element-type utf8): To/Cc addresses that get no envelope copy
 * @delivered: whether delivery was attempted and succeeded for at least one recipient
 * @delivery: (nullable): per-recipient outcomes once delivered, one per
 *   envelope recipient, in envelope order
 * @error: (nullable): why delivery failed
 * @source: its name in the batch, the journal and the transcript: "group N",
 *   or "group N#I" for the I-th message of a personal template
 * @settled: its outcome is known (farceur_campaign_take_result())
 * @state: that outcome, when @settled
 * @attempts: delivery attempts (retries after 4xx included)
 */
typedef struct {
  GMimeMessage *message;
  FarceurEnvelope *envelope;
  char *subject;
  InternetAddressList *from;
  InternetAddressList *to;
  InternetAddressList *cc;
  InternetAddressList *bcc;
  gboolean from_forged;
  gboolean from_mismatch;
  GPtrArray *envelope_only;
  GPtrArray *header_only;
  gboolean delivered;
  FarceurDelivery *delivery;
  GError *error;
  char *source;
  gboolean settled;
  FarceurBatchState state;
  guint attempts;
} FarceurPrankMessage;

/**
 * FarceurPrankGroup:
 * @index: 1-based
 * @sender: (transfer none): the victim whose name is forged
 * @recipients: (element-type FarceurVictim) (transfer none): the others
 * @tmpl: (transfer none): the template
 * @per_recipient: the template uses `recipient.*`, so each recipient gets
 *   their own message
 * @messages: (element-type FarceurPrankMessage): one, or one per recipient
 */
typedef struct {
  guint index;
  const FarceurVictim *sender;
  GPtrArray *recipients;
  const FarceurTemplate *tmpl;
  gboolean per_recipient;
  GPtrArray *messages;
} FarceurPrankGroup;

typedef struct _FarceurCampaign FarceurCampaign;

FARCEUR_API FarceurCampaign *farceur_campaign_prepare(const FarceurCampaignConfig *config,
                                                      GError **error);
FARCEUR_API FarceurCampaign *farceur_campaign_prepare_full(const FarceurCampaignConfig *config,
                                                           FarceurReadReport *report,
                                                           GError **error);
FARCEUR_API const FarceurCampaignPlan *farceur_campaign_get_plan(const FarceurCampaign *campaign);
FARCEUR_API void farceur_campaign_free(FarceurCampaign *campaign);
FARCEUR_API guint32 farceur_campaign_get_seed(const FarceurCampaign *campaign);
FARCEUR_API guint farceur_campaign_get_n_victims(const FarceurCampaign *campaign);
FARCEUR_API guint farceur_campaign_get_n_templates(const FarceurCampaign *campaign);
FARCEUR_API GPtrArray *farceur_campaign_get_groups(const FarceurCampaign *campaign);
FARCEUR_API GDateTime *farceur_campaign_get_date(const FarceurCampaign *campaign);
FARCEUR_API gboolean farceur_campaign_fill_batch(FarceurCampaign *campaign, FarceurBatch *batch,
                                                 GError **error);
FARCEUR_API FarceurPrankGroup *farceur_campaign_take_result(FarceurCampaign *campaign,
                                                            const FarceurBatchResult *result);
FARCEUR_API gboolean farceur_prank_group_is_settled(const FarceurPrankGroup *group);
FARCEUR_API gboolean farceur_prank_group_is_delivered(const FarceurPrankGroup *group);
FARCEUR_API JsonNode *farceur_prank_group_to_json(const FarceurCampaign *campaign,
                                                  const FarceurPrankGroup *group);
FARCEUR_API JsonNode *farceur_campaign_read_to_json(const FarceurReadReport *report,
                                                    const FarceurCampaign *campaign);
FARCEUR_API char *farceur_campaign_describe_plan(const FarceurCampaign *campaign);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurVictim, farceur_victim_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurCampaignConfig, farceur_campaign_config_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurCampaignPlan, farceur_campaign_plan_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurCampaign, farceur_campaign_free)

G_END_DECLS
