/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: what the campaign files share (not installed).
 *
 * Calls run one way (tests/layout checks it):
 *   campaign.c -> victims.c -> victims-csv.c, victims-json.c -> victims-entry.c
 *     -> victims-mailbox.c
 *   campaign.c -> campaign-plan.c
 *   campaign-config.c -> campaign-lab.c -> campaign-keys.c, campaign-properties.c
 *   campaign-config.c, campaign-lab.c -> campaign-discover.c, victims-mailbox.c
 *   campaign.c -> campaign-replay.c (Date and Message-ID under a seed)
 *   campaign-batch.c -> campaign.c (feeding the delivery engine, taking its outcomes)
 *   campaign-json.c (the JSON records) */
#pragma once

#include <farceur/campaign.h>
#include <farceur/read-report.h>

/* ---- victims-mailbox.c: one mailbox ---- */

FarceurVictim *victims_parse_mailbox(const char *text, GError **error);
gboolean victims_set_name(FarceurVictim *victim, const char *name, GError **error);
gboolean victims_has_control(const char *text);

/* ---- victims-entry.c: the file's rules on repeats and invalid entries ---- */

typedef struct {
  const char *file;
  guint line;
  gboolean strict;
  GPtrArray *victims;    /* FarceurVictim */
  GHashTable *seen;      /* lower-cased address -> GUINT_TO_POINTER(index in repeats + 1) or 0 */
  GPtrArray *repeats;    /* VictimsRepeat */
  GPtrArray *invalid;    /* FarceurReadNote */
  FarceurReadFile *note; /* (nullable) */
  const char *text;      /* JSON: the text, to find an entry's line */
  gsize cursor;
  char *detail; /* how the format was read, for the summary */
} VictimsParser;

void victims_parser_init(VictimsParser *p, const char *file, gboolean strict,
                         FarceurReadFile *note);
void victims_parser_clear(VictimsParser *p);
gboolean victims_fail(const VictimsParser *p, GError **error, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
void victims_invalid(VictimsParser *p, const char *entry, const char *why);
FarceurVictim *victims_add_text(VictimsParser *p, const char *text);
gboolean victims_set_display_name(VictimsParser *p, FarceurVictim *victim, const char *name);
char *victims_column_name(const char *raw);
gboolean victims_finish(VictimsParser *p, GError **error);

/* ---- victims-csv.c, victims-json.c ---- */

char victims_csv_separator(const char *line);
gboolean victims_read_csv(VictimsParser *p, char **lines, GError **error);
gboolean victims_read_json(VictimsParser *p, const char *text, GError **error);

/* ---- campaign-properties.c: java.util.Properties syntax ---- */

typedef struct {
  char *key;
  char *value;
  guint line;
} ConfigEntry;

void config_entry_free(gpointer entry);
GPtrArray *config_properties_parse(const char *text, GPtrArray *problems);

/* ---- campaign-keys.c: the keys every edition of the lab used ---- */

typedef enum {
  CONFIG_KEY_UNKNOWN,
  CONFIG_KEY_HOST,
  CONFIG_KEY_PORT,
  CONFIG_KEY_GROUPS,
  CONFIG_KEY_GROUP_SIZE, /* people per group, or MIN-MAX */
  CONFIG_KEY_GROUP_MIN,
  CONFIG_KEY_GROUP_MAX,
  CONFIG_KEY_WITNESSES,
  CONFIG_KEY_BCC,
  CONFIG_KEY_VICTIMS,
  CONFIG_KEY_MESSAGES,
  CONFIG_KEY_SEPARATOR,
  CONFIG_KEY_MESSAGES_FORMAT,
  CONFIG_KEY_SEED,
  CONFIG_KEY_VIA,
  CONFIG_KEY_HELO,
  CONFIG_KEY_USER,
  CONFIG_KEY_PASSWORD_COMMAND,
  CONFIG_KEY_TLS_CA,
  CONFIG_KEY_IGNORED,
} ConfigKey;

typedef struct {
  ConfigKey key;
  const char *canonical; /* the spelling shown: "smtpServerAddress" */
  const char *meant;     /* (nullable) the known spelling a near miss was read as */
  const char *why;       /* (nullable) CONFIG_KEY_IGNORED: why farceur has no use for it */
  const char *closest;   /* (nullable) CONFIG_KEY_UNKNOWN: the nearest known spellings */
} ConfigKeyMatch;

void config_key_match(const char *spelling, ConfigKeyMatch *match);
const char *config_key_describe(ConfigKey key);

/* ---- campaign-discover.c: the files a lab folder holds ---- */

char *campaign_discover_config(const char *dir, char **found);
char *campaign_discover_input(const char *const *dirs, gboolean victims, char **found);
char *campaign_discover_lab_path(const char *config_dir, const char *value, char **found);

/* ---- campaign-lab.c: a lab configuration's keys and values ---- */

typedef struct {
  FarceurCampaignConfig *config;
  const char *file;
  gboolean lab; /* a lab file (properties, .env, JSON), not INI */
  char *dir;
  FarceurReadFile *note;
  GPtrArray *problems; /* char *: "WHERE: what" */
  GHashTable *lines;   /* ConfigKey -> line it was last set on */
  char *host;          /* the server, combined at the end */
  guint host_port;     /* a port written with the host, 0 if none */
  char *port;
  guint host_line, port_line;
  guint used; /* keys used, for the summary */
  GString *ignored;
} ConfigLoader;

void config_problem(ConfigLoader *l, const char *where, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
void config_lab_entry(ConfigLoader *l, const char *key, const char *value, guint line);
void config_lab_finish(ConfigLoader *l);
gboolean config_ini_entry(ConfigLoader *l, const char *section, const char *key, const char *value);

/* ---- campaign-plan.c ---- */

FarceurCampaignPlan *campaign_plan_for(const FarceurCampaignConfig *config, guint n_victims,
                                       guint n_templates, guint32 seed, FarceurReadFile *note,
                                       GError **error);

/* ---- shared ---- */

gboolean farceur_campaign_read_file(const char *what, const char *path, char **text, gsize *length,
                                    GError **error);
FarceurVictim *farceur_campaign_parse_mailbox(const char *text, GError **error);
GPtrArray *campaign_split_addresses(const char *value, gboolean blanks);

/* ---- campaign-replay.c: the same seed and files, the same octets ---- */

typedef struct {
  guint32 seed;
  GDateTime *date;
  GHashTable *vars; /* the campaign's variables */
} CampaignReplay;

GDateTime *campaign_files_date(const FarceurCampaignConfig *config, GPtrArray *templates);
char *campaign_message_id(const CampaignReplay *replay, const FarceurPrankGroup *group, guint n,
                          GPtrArray *to, const FarceurEnvelope *envelope);

/* ---- campaign.c, for campaign-batch.c ---- */

FarceurPrankMessage *campaign_find_source(FarceurCampaign *campaign, const char *source,
                                          FarceurPrankGroup **group);
