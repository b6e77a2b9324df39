/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur prank: run a prank campaign (farceur-prank(1); data/doc/formats.md, Campaign configuration).
 *
 * Configuration file, then command-line options on top; the whole campaign
 * is prepared (victims, plan, every message composed) before the target is
 * even opened; then each group is delivered and reported. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli-output.h"
#include "cli-secret.h"
#include "cli-status.h"
#include "cmd-prank-read.h"
#include "commands.h"

typedef struct {
  char *config;
  char *victims;
  char *messages;
  int groups;
  char *group_size;
  char **witnesses;
  char **bcc_witnesses;
  char *seed;
  char *via;
  gboolean allow_remote;
  char **vars;
  char *helo;
  char *user;
  char *password_command;
  char *tls_ca;
  gboolean dry_run;
  gboolean json;
  char *messages_format;
  gboolean strict;
} PrankOptions;

static void
prank_options_clear(PrankOptions *o)
{
  g_free(o->config);
  g_free(o->victims);
  g_free(o->messages);
  g_free(o->group_size);
  g_strfreev(o->witnesses);
  g_strfreev(o->bcc_witnesses);
  g_free(o->seed);
  g_free(o->via);
  g_strfreev(o->vars);
  g_free(o->helo);
  g_free(o->user);
  g_free(o->password_command);
  g_free(o->tls_ca);
  g_free(o->messages_format);
}

static GOptionContext *
prank_context_new(PrankOptions *o)
{
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config,
      "Configuration file (default: ./farceur.conf, the lab's config.properties here or in "
      "config/ or src/main/resources/, then $XDG_CONFIG_HOME/farceur/farceur.conf)",
      "FILE" },
    { "victims", 0, 0, G_OPTION_ARG_FILENAME, &o->victims,
      "Victims file: one address per line, CSV or JSON", "FILE" },
    { "messages", 0, 0, G_OPTION_ARG_FILENAME, &o->messages,
      "Messages: a lab messages file (text or JSON), a .tmpl, or a folder", "DIR|FILE" },
    { "messages-format", 0, 0, G_OPTION_ARG_STRING, &o->messages_format,
      "How to read --messages: auto, blocks, json, lines, files or template, and "
      "subject=header|first-line|file-name|none, separator=LINE (comma-separated)",
      "auto|blocks|json|lines|files|template" },
    { "strict", 0, 0, G_OPTION_ARG_NONE, &o->strict,
      "An invalid entry in the victims file is an error (default: skipped with a warning)", NULL },
    { "groups", 'g', 0, G_OPTION_ARG_INT, &o->groups, "Number of groups (default: as many as fit)",
      "N" },
    { "group-size", 0, 0, G_OPTION_ARG_STRING, &o->group_size,
      "Members per group, sender included (default 3)", "MIN[-MAX]" },
    { "witness", 'w', 0, G_OPTION_ARG_STRING_ARRAY, &o->witnesses,
      "Copy every prank to ADDR in Cc (repeatable)", "ADDR" },
    { "bcc-witness", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->bcc_witnesses,
      "Copy every prank to ADDR in Bcc (repeatable)", "ADDR" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &o->seed, "Shuffle seed (default: a random one, printed)",
      "N" },
    { "via", 0, 0, G_OPTION_ARG_STRING, &o->via, "Delivery target (default maildir:outbox)",
      "URL" },
    { "allow-remote", 0, 0, G_OPTION_ARG_NONE, &o->allow_remote,
      "Allow an SMTP server that is not on a loopback address", NULL },
    { "var", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->vars, "Set {{KEY}} (repeatable; wins)",
      "KEY=VALUE" },
    { "helo", 0, 0, G_OPTION_ARG_STRING, &o->helo, "SMTP: the EHLO/HELO name", "NAME" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &o->user, "SMTP: authenticate as NAME", "NAME" },
    { "password-command", 0, 0, G_OPTION_ARG_STRING, &o->password_command,
      "SMTP: run CMD to get the password (or set FARCEUR_PASSWORD)", "CMD" },
    { "tls-ca", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_ca, "SMTP: trust the CAs in FILE", "FILE" },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &o->dry_run,
      "Compose and print the plan; deliver nothing", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o->json, "One JSON object per group per line", NULL },
    { NULL },
  };
  GOptionContext *context = cli_context_new("prank", NULL,
                                            "Run a prank campaign: victims, groups, templates, "
                                            "witnesses, delivery.");

  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_set_description(
      context,
      "Victims are shuffled (--seed replays a plan) and split into groups as evenly as\n"
      "possible.  In each group the first member is the forged sender (From and MAIL FROM),\n"
      "the others are the recipients.  Templates are shuffled with the same seed and dealt\n"
      "in turn, so each is used before any repeats.\n"
      "A template using {{recipient.*}} sends each recipient their own message.\n"
      "Everything is composed before anything is delivered.  SMTP targets must be on a\n"
      "loopback address unless --allow-remote: prank mail belongs on a mock server.\n\n"
      "Exit status: 0 every group delivered, 64 usage, 65 bad victims/template/data,\n"
      "66 missing input, 73 cannot create the target, 78 bad configuration, or the\n"
      "delivery failure (69, 74, 75, 76, 77) of a group.");
  return context;
}

static gboolean G_GNUC_PRINTF(2, 3) prank_usage(GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, message);
  return FALSE;
}

static void
prank_replace(char **slot, const char *value)
{
  if (value == NULL)
    return;
  g_free(*slot);
  *slot = g_strdup(value);
}

static void
prank_replace_list(GPtrArray *list, char **values)
{
  if (values == NULL)
    return;
  g_ptr_array_set_size(list, 0);
  for (gsize i = 0; values[i]; i++)
    g_ptr_array_add(list, g_strdup(values[i]));
}

static gboolean
prank_apply_numbers(const PrankOptions *o, FarceurCampaignConfig *config, GError **error)
{
  if (o->groups < 0)
    return prank_usage(error, "--groups %d: expected a positive number", o->groups);
  if (o->groups > 0)
    config->groups = o->groups;
  if (o->group_size
      && !farceur_campaign_parse_group_size(o->group_size, &config->group_min, &config->group_max,
                                            error))
    return FALSE;
  if (o->seed) {
    if (!farceur_campaign_parse_seed(o->seed, &config->seed, error))
      return FALSE;
    config->has_seed = TRUE;
  }
  return TRUE;
}

/* Command-line options win over the configuration file. */
static gboolean
prank_apply_options(const PrankOptions *o, FarceurCampaignConfig *config, GError **error)
{
  prank_replace(&config->victims, o->victims);
  prank_replace(&config->messages, o->messages);
  prank_replace(&config->via, o->via);
  prank_replace(&config->helo, o->helo);
  prank_replace(&config->user, o->user);
  prank_replace(&config->password_command, o->password_command);
  prank_replace(&config->tls_ca, o->tls_ca);
  prank_replace_list(config->witnesses, o->witnesses);
  prank_replace_list(config->bcc_witnesses, o->bcc_witnesses);
  if (!cli_parse_vars(o->vars, config->vars, error))
    return FALSE;
  if (o->messages_format != NULL) {
    farceur_messages_format_clear(&config->messages_format);
    if (!farceur_messages_format_parse(o->messages_format, &config->messages_format, error))
      return FALSE;
  }
  if (o->victims)
    g_clear_pointer(&config->victims_found, g_free);
  if (o->messages)
    g_clear_pointer(&config->messages_found, g_free);
  config->strict = config->strict || o->strict;
  if (config->via == NULL)
    config->via = g_strdup("maildir:outbox");
  return prank_apply_numbers(o, config, error);
}

static FarceurCampaignConfig *
prank_load_config(const PrankOptions *o, FarceurReadReport *report, GError **error)
{
  g_autoptr(FarceurCampaignConfig) config = prank_read_config(o->config, report, error);

  if (config == NULL || !prank_apply_options(o, config, error))
    return NULL;
  farceur_campaign_config_find_inputs(config, ".");
  return g_steal_pointer(&config);
}

/* The safety rail (data/doc/formats.md, Delivery targets): pranks go to
 * loopback servers unless asked; it applies where a connection would be made. */
static FarceurTargetUrl *
prank_check_target(const FarceurCampaignConfig *config, const PrankOptions *o, GError **error)
{
  g_autoptr(FarceurTargetUrl) url = farceur_target_url_parse(config->via, error);

  if (url == NULL)
    return NULL;
  if (prank_read_needs_rail(url, o->dry_run)) {
    if (!o->allow_remote) {
      prank_usage(error,
                  "refusing to send pranks to '%s:%u', which is not a loopback address: "
                  "prank mail belongs on a mock server (--allow-remote if you really mean it)",
                  url->host, url->port);
      return NULL;
    }
    g_printerr("farceur prank: warning: delivering pranks to the remote server '%s:%u' "
               "(--allow-remote)\n",
               url->host, url->port);
  }
  return g_steal_pointer(&url);
}

/* ---- the human report ---- */

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

static void
prank_print_result(const FarceurPrankMessage *m, gboolean dry_run)
{
  if (dry_run) {
    printf("    result    not delivered (--dry-run)\n");
    return;
  }
  if (m->delivery) {
    guint accepted = farceur_delivery_count(m->delivery, FARCEUR_RCPT_ACCEPTED);
    printf("    result    %s to %u of %u recipients: %s\n",
           m->error ? "partly delivered" : "delivered", accepted, m->delivery->rcpts->len,
           m->delivery->location ? m->delivery->location : "");
    for (guint i = 0; i < m->delivery->rcpts->len; i++) {
      const FarceurRcptOutcome *r = m->delivery->rcpts->pdata[i];
      if (r->status != FARCEUR_RCPT_ACCEPTED)
        printf("              <%s> %s: %u %s\n", r->addr, farceur_rcpt_status_to_string(r->status),
               r->code, r->text ? r->text : "");
    }
  } else if (m->error) {
    printf("    result    FAILED: %s\n", m->error->message);
  }
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

static void
prank_report(const FarceurCampaign *campaign, const FarceurPrankGroup *group, const PrankOptions *o)
{
  GPtrArray *groups = farceur_campaign_get_groups(campaign);

  if (o->json)
    cli_output_json(farceur_prank_group_to_json(campaign, group));
  else
    prank_print_group(group, groups->len, o->dry_run);
  cli_output_flush();
}

/* ---- running ---- */

static gboolean
prank_deliver(FarceurCampaign *campaign, FarceurTarget *target, const PrankOptions *o,
              GError **error)
{
  GPtrArray *groups = farceur_campaign_get_groups(campaign);
  CliWorst worst = { 0 };
  guint delivered = 0;

  for (guint i = 0; i < groups->len; i++) {
    g_autoptr(GError) local = NULL;
    if (farceur_campaign_deliver_group(campaign, groups->pdata[i], target, NULL, &local))
      delivered++;
    else
      cli_worst_note(&worst, local, NULL);
    prank_report(campaign, groups->pdata[i], o);
  }
  if (!o->json)
    printf("\n%u of %u groups delivered to %s\n", delivered, groups->len,
           farceur_target_describe(target));
  if (worst.error == NULL)
    return TRUE;
  g_propagate_prefixed_error(error, g_steal_pointer(&worst.error),
                             "%u of %u groups not delivered: ", groups->len - delivered,
                             groups->len);
  cli_worst_clear(&worst);
  return FALSE;
}

static void
prank_print_intro(const FarceurCampaign *campaign, const FarceurCampaignConfig *config,
                  const PrankOptions *o)
{
  guint32 seed = farceur_campaign_get_seed(campaign);
  guint n_templates = farceur_campaign_get_n_templates(campaign);
  guint n_groups = farceur_campaign_get_groups(campaign)->len;

  if (o->json) {
    if (!config->has_seed)
      g_printerr("farceur prank: seed %u (--seed %u replays this plan)\n", seed, seed);
    return;
  }

  printf("farceur prank: %u victims from %s, %u template%s, %u group%s, seed %u%s\n",
         farceur_campaign_get_n_victims(campaign), config->victims, n_templates,
         n_templates == 1 ? "" : "s", n_groups, n_groups == 1 ? "" : "s", seed,
         config->has_seed ? "" : " (chosen at random; --seed replays this plan)");
  printf("target: %s%s\n", config->via, o->dry_run ? " (dry run: nothing is delivered)" : "");
}

/* [smtp] helo, user, password-command and tls-ca for an SMTP target,
 * before its first delivery; local targets ignore them. */
static gboolean
prank_smtp_options(const FarceurCampaignConfig *config, FarceurTarget *target, GError **error)
{
  FarceurSmtpOptions smtp = { 0 };
  g_autoptr(CliSecret) password = NULL;

  if (!farceur_target_is_session(target))
    return TRUE;
  if ((config->user != NULL || farceur_target_get_url(target)->user != NULL)
      && (password = cli_secret_get_password(config->password_command, error)) == NULL)
    return FALSE;
  smtp.helo = config->helo;
  smtp.user = config->user;
  smtp.password = password;
  smtp.tls_ca_file = config->tls_ca;
  return farceur_target_set_smtp_options(target, &smtp, error);
}

static gboolean
prank_run(const PrankOptions *o, GError **error)
{
  g_autoptr(FarceurReadReport) report = farceur_read_report_new();
  g_autoptr(FarceurCampaignConfig) config = prank_load_config(o, report, error);
  g_autoptr(FarceurTargetUrl) url = NULL;
  g_autoptr(FarceurCampaign) campaign = NULL;
  g_autoptr(FarceurTarget) target = NULL;
  GPtrArray *groups;
  gboolean ok;

  if (config == NULL || (url = prank_check_target(config, o, error)) == NULL) {
    prank_read_print(report, NULL, o->json);
    return FALSE;
  }
  campaign = farceur_campaign_prepare_full(config, report, error);
  prank_read_print(report, campaign, o->json);
  if (campaign == NULL)
    return FALSE;
  prank_print_intro(campaign, config, o);
  groups = farceur_campaign_get_groups(campaign);
  if (o->dry_run) {
    for (guint i = 0; i < groups->len; i++)
      prank_report(campaign, groups->pdata[i], o);
    return TRUE;
  }
  target = farceur_target_open(url, error);
  if (target == NULL || !prank_smtp_options(config, target, error))
    return FALSE;
  ok = prank_deliver(campaign, target, o, error);
  if (!farceur_target_close(target, NULL, ok ? error : NULL))
    return FALSE;
  return ok;
}

int
cli_cmd_prank(int argc, char **argv)
{
  PrankOptions o = { 0 };
  g_autoptr(GOptionContext) context = prank_context_new(&o);
  GError *error = NULL;
  gboolean ok;
  int status;

  if (!cli_parse(context, "prank", &argc, &argv, &status)) {
    prank_options_clear(&o);
    return status;
  }
  if (argc != 1) {
    prank_options_clear(&o);
    g_set_error(&error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "unexpected argument '%s' (see farceur prank --help)", argv[1]);
    return cli_report_error("prank", error);
  }
  ok = prank_run(&o, &error);
  prank_options_clear(&o);
  return ok ? 0 : cli_report_error("prank", error);
}
