/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur prank: run a prank campaign (farceur-prank(1); data/doc/formats.md, Campaign configuration).
 *
 * Configuration file, then command-line options on top; the whole campaign
 * is prepared (victims, plan, every message composed) before the target is
 * even opened; then the messages go through the delivery engine
 * (cmd-prank-deliver.c) and each group is reported (cmd-prank-report.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli-status.h"
#include "cmd-prank-deliver.h"
#include "cmd-prank-read.h"
#include "cmd-prank-report.h"
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
  char *date;
  int connections;
  int retries;
  double retry_delay;
  double timeout;
  char *transcript;
  char *journal;
  gboolean resend_unknown;
  gboolean forget_unknown;
  int max_per_session;
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
  g_free(o->date);
  g_free(o->transcript);
  g_free(o->journal);
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
    { "date", 0, 0, G_OPTION_ARG_STRING, &o->date,
      "Date of every message, ISO 8601 or RFC 5322 (default: $SOURCE_DATE_EPOCH, else the "
      "newest modification time of the campaign's files)",
      "DATE" },
    { "connections", 0, 0, G_OPTION_ARG_INT, &o->connections, "Parallel sessions (default 1)",
      "N" },
    { "retries", 0, 0, G_OPTION_ARG_INT, &o->retries,
      "Retries after a 4xx, with doubling back-off (default 3)", "N" },
    { "retry-delay", 0, 0, G_OPTION_ARG_DOUBLE, &o->retry_delay,
      "First back-off in seconds (default 1)", "SECONDS" },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o->timeout,
      "SMTP: per-reply timeout (default: RFC 5321 4.5.3.2)", "SECONDS" },
    { "transcript", 0, 0, G_OPTION_ARG_FILENAME, &o->transcript,
      "SMTP: write the dialogue to FILE (C:/S: lines, AUTH hidden; #N before each line names "
      "the session when there are several)",
      "FILE" },
    { "journal", 0, 0, G_OPTION_ARG_FILENAME, &o->journal,
      "Record each outcome in FILE; a re-run with the same seed sends only what is missing",
      "FILE" },
    { "max-per-session", 0, 0, G_OPTION_ARG_INT, &o->max_per_session,
      "SMTP: end each session after N messages and open a new one (default: no limit)", "N" },
    { "resend-unknown", 0, 0, G_OPTION_ARG_NONE, &o->resend_unknown,
      "Also resend messages whose final dot got no reply", NULL },
    { "forget-unknown", 0, 0, G_OPTION_ARG_NONE, &o->forget_unknown,
      "Record in the journal that messages whose final dot got no reply must not be resent", NULL },
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
      "loopback address unless --allow-remote: prank mail belongs on a mock server.\n"
      "The same seed and files compose the same octets (Date, Message-ID, boundaries),\n"
      "so with --journal a campaign cut short resumes and sends only what is missing.\n\n"
      "Exit status: 0 every group delivered, 64 usage, 65 bad victims/template/data,\n"
      "66 missing input, 73 cannot create the target, 78 bad configuration, or the\n"
      "most serious delivery outcome of a message (69 refused, 75 deferred or unknown,\n"
      "74, 76, 77).");
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

/* --date, else $SOURCE_DATE_EPOCH (reproducible-builds.org), as compose
 * reads them; else the campaign dates its messages by its files. */
static gboolean
prank_apply_date(const PrankOptions *o, FarceurCampaignConfig *config, GError **error)
{
  const char *epoch = g_getenv("SOURCE_DATE_EPOCH");
  guint64 secs;

  if (o->date != NULL)
    return (config->date = farceur_campaign_parse_date(o->date, error)) != NULL;
  if (epoch == NULL || *epoch == '\0')
    return TRUE;
  if (!g_ascii_string_to_unsigned(epoch, 10, 0, G_MAXINT64, &secs, NULL)
      || (config->date = g_date_time_new_from_unix_utc((gint64)secs)) == NULL)
    return prank_usage(error, "bad SOURCE_DATE_EPOCH '%s': expected seconds", epoch);
  return TRUE;
}

static gboolean
prank_apply_numbers(const PrankOptions *o, FarceurCampaignConfig *config, GError **error)
{
  if (o->connections < 1 || o->connections > 256 || o->retries < 0 || o->retry_delay < 0
      || o->timeout < 0 || o->max_per_session < 0)
    return prank_usage(error, "--connections must be 1 to 256; --retries, --retry-delay, "
                              "--timeout and --max-per-session must not be negative");
  if (o->resend_unknown && o->forget_unknown)
    return prank_usage(error, "--resend-unknown and --forget-unknown exclude each other");
  if (o->forget_unknown && o->journal == NULL)
    return prank_usage(error, "--forget-unknown needs --journal, where the decision is recorded");
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
  return prank_apply_numbers(o, config, error) && prank_apply_date(o, config, error);
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

/* ---- running ---- */

static gboolean
prank_deliver_campaign(FarceurCampaign *campaign, const FarceurCampaignConfig *config,
                       const FarceurTargetUrl *url, const PrankOptions *o, int *signal_status,
                       GError **error)
{
  PrankDeliverOptions deliver = {
    .url = url,
    .helo = config->helo,
    .user = config->user,
    .password_command = config->password_command,
    .tls_ca = config->tls_ca,
    .timeout_ms = (guint)(o->timeout * 1000),
    .connections = o->connections,
    .max_per_session = (guint)o->max_per_session,
    .retries = o->retries,
    .retry_delay_ms = (guint)(o->retry_delay * 1000),
    .journal = o->journal,
    .resend_unknown = o->resend_unknown,
    .forget_unknown = o->forget_unknown,
    .transcript = o->transcript,
    .json = o->json,
  };

  return prank_deliver(campaign, &deliver, signal_status, error);
}

static gboolean
prank_run(const PrankOptions *o, int *signal_status, GError **error)
{
  g_autoptr(FarceurReadReport) report = farceur_read_report_new();
  g_autoptr(FarceurCampaignConfig) config = prank_load_config(o, report, error);
  g_autoptr(FarceurTargetUrl) url = NULL;
  g_autoptr(FarceurCampaign) campaign = NULL;
  GPtrArray *groups;

  if (config == NULL || (url = prank_check_target(config, o, error)) == NULL) {
    prank_read_print(report, NULL, o->json);
    return FALSE;
  }
  campaign = farceur_campaign_prepare_full(config, report, error);
  prank_read_print(report, campaign, o->json);
  if (campaign == NULL)
    return FALSE;
  prank_report_intro(campaign, config, o->json, o->dry_run);
  groups = farceur_campaign_get_groups(campaign);
  if (o->dry_run) {
    for (guint i = 0; i < groups->len; i++)
      prank_report_group(campaign, groups->pdata[i], o->json, TRUE);
    return TRUE;
  }
  return prank_deliver_campaign(campaign, config, url, o, signal_status, error);
}

int
cli_cmd_prank(int argc, char **argv)
{
  PrankOptions o = { 0 };
  g_autoptr(GOptionContext) context = prank_context_new(&o);
  GError *error = NULL;
  gboolean ok;
  int status, signal_status = 0;

  o.connections = 1;
  o.retries = 3;
  o.retry_delay = 1.0;
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
  ok = prank_run(&o, &signal_status, &error);
  prank_options_clear(&o);
  status = ok ? 0 : cli_report_error("prank", error);
  return signal_status != 0 ? signal_status : status; /* 128 + the signal's number */
}
