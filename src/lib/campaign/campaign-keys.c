/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the keys of the lab's configuration files, as every edition
 * spelled them (tests/data/lab/README.md lists where each was seen).
 *
 * Keys are compared without case and without '_', '.', '-' and blanks, so
 * SMTP_DEFAULT_SERVER, app.server.ip and witnessestoCC need no entry of
 * their own.  A key within two edits of a known spelling (one for short
 * keys; farceur_suggest_distance(), a Damerau-Levenshtein distance) is read
 * as that key, with a "did you mean" warning: smtpServerAdress,
 * stmpServerAddress.  Anything else is an unknown key, which the caller
 * reports and ignores. */
#include "config.h"

#include <string.h>

#include <farceur/suggest.h>

#include "campaign-private.h"

typedef struct {
  const char *spelling;
  ConfigKey key;
  const char *why; /* CONFIG_KEY_IGNORED only */
} ConfigSpelling;

/* The first spelling of each key is the one shown. */
static const ConfigSpelling config_spellings[] = {
  { "smtpServerAddress", CONFIG_KEY_HOST, NULL },
  { "smtpAddressOfServer", CONFIG_KEY_HOST, NULL },
  { "SMTP_DEFAULT_SERVER", CONFIG_KEY_HOST, NULL },
  { "SMTP_SERVER", CONFIG_KEY_HOST, NULL },
  { "SMTP_HOST", CONFIG_KEY_HOST, NULL },
  { "SMTP_ADDRESS", CONFIG_KEY_HOST, NULL },
  { "serverHost", CONFIG_KEY_HOST, NULL },
  { "serverAddress", CONFIG_KEY_HOST, NULL },
  { "server", CONFIG_KEY_HOST, NULL },
  { "host", CONFIG_KEY_HOST, NULL },
  { "app.server.ip", CONFIG_KEY_HOST, NULL },
  { "app.server.host", CONFIG_KEY_HOST, NULL },
  { "mail.smtp.host", CONFIG_KEY_HOST, NULL },
  { "smtpServerPort", CONFIG_KEY_PORT, NULL },
  { "smtpPortNumber", CONFIG_KEY_PORT, NULL },
  { "smtpPortOfServer", CONFIG_KEY_PORT, NULL },
  { "SMTP_DEFAULT_PORT", CONFIG_KEY_PORT, NULL },
  { "SMTP_PORT", CONFIG_KEY_PORT, NULL },
  { "serverPort", CONFIG_KEY_PORT, NULL },
  { "port", CONFIG_KEY_PORT, NULL },
  { "app.server.port", CONFIG_KEY_PORT, NULL },
  { "mail.smtp.port", CONFIG_KEY_PORT, NULL },
  { "numberOfGroups", CONFIG_KEY_GROUPS, NULL },
  { "numberOfGroup", CONFIG_KEY_GROUPS, NULL },
  { "NUMBER_GROUPS", CONFIG_KEY_GROUPS, NULL },
  { "nbGroups", CONFIG_KEY_GROUPS, NULL },
  { "nbOfGroups", CONFIG_KEY_GROUPS, NULL },
  { "groupCount", CONFIG_KEY_GROUPS, NULL },
  { "groupNumber", CONFIG_KEY_GROUPS, NULL },
  { "groups", CONFIG_KEY_GROUPS, NULL },
  { "app.victims.groupCount", CONFIG_KEY_GROUPS, NULL },
  { "nombreDeGroupes", CONFIG_KEY_GROUPS, NULL },
  { "groupSize", CONFIG_KEY_GROUP_SIZE, NULL },
  { "sizeForGroup", CONFIG_KEY_GROUP_SIZE, NULL },
  { "numberOfPeopleByGroup", CONFIG_KEY_GROUP_SIZE, NULL },
  { "numberOfPeoplePerGroup", CONFIG_KEY_GROUP_SIZE, NULL },
  { "numberOfPersonPerGroup", CONFIG_KEY_GROUP_SIZE, NULL },
  { "numberOfPersonsPerGroup", CONFIG_KEY_GROUP_SIZE, NULL },
  { "peoplePerGroup", CONFIG_KEY_GROUP_SIZE, NULL },
  { "victimsPerGroup", CONFIG_KEY_GROUP_SIZE, NULL },
  { "membersPerGroup", CONFIG_KEY_GROUP_SIZE, NULL },
  { "minimumGroupSize", CONFIG_KEY_GROUP_MIN, NULL },
  { "minGroupSize", CONFIG_KEY_GROUP_MIN, NULL },
  { "maximumGroupSize", CONFIG_KEY_GROUP_MAX, NULL },
  { "maxGroupSize", CONFIG_KEY_GROUP_MAX, NULL },
  { "witnessesToCC", CONFIG_KEY_WITNESSES, NULL },
  { "witnessToCC", CONFIG_KEY_WITNESSES, NULL },
  { "witnesses", CONFIG_KEY_WITNESSES, NULL },
  { "witness", CONFIG_KEY_WITNESSES, NULL },
  { "personToCC", CONFIG_KEY_WITNESSES, NULL },
  { "peopleToCC", CONFIG_KEY_WITNESSES, NULL },
  { "MAIL_CC", CONFIG_KEY_WITNESSES, NULL },
  { "cc", CONFIG_KEY_WITNESSES, NULL },
  { "MAIL_BCC", CONFIG_KEY_BCC, NULL },
  { "bcc", CONFIG_KEY_BCC, NULL },
  { "bcc-witnesses", CONFIG_KEY_BCC, NULL },
  { "witnessesToBCC", CONFIG_KEY_BCC, NULL },
  { "victims", CONFIG_KEY_VICTIMS, NULL },
  { "victimsFile", CONFIG_KEY_VICTIMS, NULL },
  { "victimsList", CONFIG_KEY_VICTIMS, NULL },
  { "victimsListPath", CONFIG_KEY_VICTIMS, NULL },
  { "victimsPath", CONFIG_KEY_VICTIMS, NULL },
  { "victimsFilePath", CONFIG_KEY_VICTIMS, NULL },
  { "EMAILS_FILEPATH", CONFIG_KEY_VICTIMS, NULL },
  { "emailsFile", CONFIG_KEY_VICTIMS, NULL },
  { "app.file.victims.location", CONFIG_KEY_VICTIMS, NULL },
  { "messages", CONFIG_KEY_MESSAGES, NULL },
  { "messagesFile", CONFIG_KEY_MESSAGES, NULL },
  { "messagesList", CONFIG_KEY_MESSAGES, NULL },
  { "messagesListPath", CONFIG_KEY_MESSAGES, NULL },
  { "messagesPath", CONFIG_KEY_MESSAGES, NULL },
  { "messagesFilePath", CONFIG_KEY_MESSAGES, NULL },
  { "PRANKS_FILEPATH", CONFIG_KEY_MESSAGES, NULL },
  { "pranksFile", CONFIG_KEY_MESSAGES, NULL },
  { "app.file.pranks.location", CONFIG_KEY_MESSAGES, NULL },
  { "msgDelim", CONFIG_KEY_SEPARATOR, NULL },
  { "messageSeparator", CONFIG_KEY_SEPARATOR, NULL },
  { "separator", CONFIG_KEY_SEPARATOR, NULL },
  { "messages-format", CONFIG_KEY_MESSAGES_FORMAT, NULL },
  { "seed", CONFIG_KEY_SEED, NULL },
  { "via", CONFIG_KEY_VIA, NULL },
  { "helo", CONFIG_KEY_HELO, NULL },
  { "myHostName", CONFIG_KEY_HELO, NULL },
  { "myLocalhostName", CONFIG_KEY_HELO, NULL },
  { "user", CONFIG_KEY_USER, NULL },
  { "username", CONFIG_KEY_USER, NULL },
  { "password-command", CONFIG_KEY_PASSWORD_COMMAND, NULL },
  { "tls-ca", CONFIG_KEY_TLS_CA, NULL },
  { "thresholdPerGroup", CONFIG_KEY_IGNORED, "farceur checks group sizes itself" },
  { "subject", CONFIG_KEY_IGNORED, "each message has its own subject" },
  { "password", CONFIG_KEY_IGNORED,
    "farceur never reads a password from a file: use --password-command or FARCEUR_PASSWORD" },
  { "auth", CONFIG_KEY_IGNORED, "farceur authenticates when a user is set" },
  { "timeout", CONFIG_KEY_IGNORED, "delivery timeouts are farceur's own" },
};

#define CONFIG_KEY_MAX 64 /* longer keys match nothing */

/* Lower case without '_', '.', '-' and blanks, into @out (CONFIG_KEY_MAX
 * bytes); FALSE when it does not fit. */
static gboolean
config_key_normalise(const char *spelling, char *out)
{
  gsize n = 0;

  for (const char *c = spelling; *c; c++) {
    if (strchr("_.- \t", *c) != NULL)
      continue;
    if (n + 1 >= CONFIG_KEY_MAX)
      return FALSE;
    out[n++] = g_ascii_tolower(*c);
  }
  out[n] = '\0';
  return TRUE;
}

static const ConfigSpelling *
config_key_first_of(ConfigKey key)
{
  for (gsize i = 0; i < G_N_ELEMENTS(config_spellings); i++)
    if (config_spellings[i].key == key)
      return &config_spellings[i];
  return NULL;
}

static void
config_key_set(ConfigKeyMatch *match, const ConfigSpelling *s)
{
  match->key = s->key;
  match->why = s->why;
  match->canonical
      = s->key == CONFIG_KEY_IGNORED ? s->spelling : config_key_first_of(s->key)->spelling;
}

/* The nearest spellings of other keys; NULL when none is near enough, or
 * when two different keys are equally near. */
static const ConfigSpelling *
config_key_nearest(const char *normal, gboolean *ambiguous)
{
  const ConfigSpelling *best = NULL;
  guint max = farceur_suggest_max_distance(normal), best_distance = max + 1;
  gsize length = strlen(normal);

  *ambiguous = FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS(config_spellings); i++) {
    char other[CONFIG_KEY_MAX];
    guint d;
    config_key_normalise(config_spellings[i].spelling, other);
    if (strlen(other) + max < length || length + max < strlen(other))
      continue; /* too far in length alone */
    d = farceur_suggest_distance(normal, other);
    if (d < best_distance)
      best = &config_spellings[i], best_distance = d, *ambiguous = FALSE;
    else if (d == best_distance && best != NULL && best->key != config_spellings[i].key)
      *ambiguous = TRUE;
  }
  return best;
}

/**
 * config_key_match:
 * @spelling: a key as the file writes it
 * @match: (out caller-allocates): what it means
 */
void
config_key_match(const char *spelling, ConfigKeyMatch *match)
{
  char normal[CONFIG_KEY_MAX];
  const ConfigSpelling *near;
  gboolean ambiguous;

  memset(match, 0, sizeof *match);
  if (!config_key_normalise(spelling, normal) || normal[0] == '\0')
    return;
  for (gsize i = 0; i < G_N_ELEMENTS(config_spellings); i++) {
    char known[CONFIG_KEY_MAX];
    config_key_normalise(config_spellings[i].spelling, known);
    if (strcmp(normal, known) == 0) {
      config_key_set(match, &config_spellings[i]);
      return;
    }
  }
  near = config_key_nearest(normal, &ambiguous);
  if (near == NULL)
    return;
  if (ambiguous) {
    match->closest = near->spelling;
    return;
  }
  config_key_set(match, near);
  match->meant = near->spelling;
}

/**
 * config_key_describe:
 * @key: a key
 *
 * Returns: what @key sets, for the report ("server address")
 */
const char *
config_key_describe(ConfigKey key)
{
  switch (key) {
    case CONFIG_KEY_HOST:
      return "server address";
    case CONFIG_KEY_PORT:
      return "server port";
    case CONFIG_KEY_GROUPS:
      return "number of groups";
    case CONFIG_KEY_GROUP_SIZE:
      return "people per group";
    case CONFIG_KEY_GROUP_MIN:
      return "smallest group";
    case CONFIG_KEY_GROUP_MAX:
      return "largest group";
    case CONFIG_KEY_WITNESSES:
      return "witnesses (Cc)";
    case CONFIG_KEY_BCC:
      return "witnesses (Bcc)";
    case CONFIG_KEY_VICTIMS:
      return "victims file";
    case CONFIG_KEY_MESSAGES:
      return "messages file";
    case CONFIG_KEY_SEPARATOR:
      return "message separator";
    default:
      return "setting";
  }
}
