/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the campaign configuration file (data/doc/formats.md, Campaign configuration).
 *
 * Two formats, told apart by content: an INI file read by GKeyFile, with
 * sections [campaign], [smtp] and [vars]; or the course lab's
 * config.properties (key=value lines, no sections).  Unknown sections and
 * keys are errors: a misspelt "grups = 4" must not be silently ignored.
 * Relative paths resolve against the configuration file's folder. */
#include "config.h"

#include <string.h>

#include <farceur/campaign.h>
#include <farceur/compose.h>
#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/init.h>

#include "campaign-private.h"

#define CONFIG_MAX_GROUP 100000

typedef struct {
  FarceurCampaignConfig *config;
  const char *file;
  char *dir;
  char *lab_host; /* smtpServerAddress / smtpServerPort, combined at the end */
  char *lab_port;
} ConfigLoader;

static gboolean
config_fail(const ConfigLoader *l, GError **error, const char *where, const char *message)
{
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CONFIG, "config '%s'%s%s: %s", l->file,
              where ? " " : "", where ? where : "", message);
  return FALSE;
}

/**
 * farceur_campaign_config_new:
 *
 * Returns: (transfer full): an empty configuration
 */
FarceurCampaignConfig *
farceur_campaign_config_new(void)
{
  FarceurCampaignConfig *config = g_new0(FarceurCampaignConfig, 1);

  config->witnesses = g_ptr_array_new_with_free_func(g_free);
  config->bcc_witnesses = g_ptr_array_new_with_free_func(g_free);
  config->vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return config;
}

/**
 * farceur_campaign_config_free:
 * @config: (nullable): a configuration
 */
void
farceur_campaign_config_free(FarceurCampaignConfig *config)
{
  if (config == NULL)
    return;
  g_free(config->file);
  g_free(config->victims);
  g_free(config->messages);
  g_ptr_array_unref(config->witnesses);
  g_ptr_array_unref(config->bcc_witnesses);
  g_free(config->via);
  g_free(config->helo);
  g_free(config->user);
  g_free(config->password_command);
  g_free(config->tls_ca);
  g_hash_table_unref(config->vars);
  g_free(config);
}

/**
 * farceur_campaign_config_find:
 *
 * The configuration search order after --config: ./farceur.conf, then
 * $XDG_CONFIG_HOME/farceur/farceur.conf.
 *
 * Returns: (transfer full) (nullable): the first that exists, or %NULL
 */
char *
farceur_campaign_config_find(void)
{
  g_autofree char *user
      = g_build_filename(g_get_user_config_dir(), "farceur", "farceur.conf", NULL);

  if (g_file_test("farceur.conf", G_FILE_TEST_IS_REGULAR))
    return g_strdup("farceur.conf");
  if (g_file_test(user, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer(&user);
  return NULL;
}

/**
 * farceur_campaign_parse_group_size:
 * @text: "MIN" or "MIN-MAX"
 * @min: (out): the smallest group, at least 2 (a sender and a recipient)
 * @max: (out): the largest, 0 when not given
 * @error: return location for a %FARCEUR_ERROR_USAGE error
 *
 * Returns: %TRUE when @text is valid
 */
gboolean
farceur_campaign_parse_group_size(const char *text, guint *min, guint *max, GError **error)
{
  g_auto(GStrv) parts = NULL;
  guint64 lo = 0, hi = 0;

  g_return_val_if_fail(text != NULL, FALSE);
  g_return_val_if_fail(min != NULL, FALSE);
  g_return_val_if_fail(max != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  parts = g_strsplit(text, "-", 3);
  if (parts[0] == NULL || g_strv_length(parts) > 2
      || !g_ascii_string_to_unsigned(parts[0], 10, 2, CONFIG_MAX_GROUP, &lo, NULL)
      || (parts[1] && !g_ascii_string_to_unsigned(parts[1], 10, lo, CONFIG_MAX_GROUP, &hi, NULL))) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "group size '%s': expected MIN or MIN-MAX with 2 <= MIN <= MAX", text);
    return FALSE;
  }
  *min = lo;
  *max = hi;
  return TRUE;
}

/**
 * farceur_campaign_parse_seed:
 * @text: a decimal number from 0 to 4294967295
 * @seed: (out): the seed
 * @error: return location for a %FARCEUR_ERROR_USAGE error
 *
 * Returns: %TRUE when @text is valid
 */
gboolean
farceur_campaign_parse_seed(const char *text, guint32 *seed, GError **error)
{
  guint64 value;

  g_return_val_if_fail(text != NULL, FALSE);
  g_return_val_if_fail(seed != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, &value, NULL)) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "seed '%s': expected a number from 0 to 4294967295", text);
    return FALSE;
  }
  *seed = value;
  return TRUE;
}

static char *
config_resolve(const ConfigLoader *l, const char *path)
{
  if (g_path_is_absolute(path) || g_str_has_prefix(path, "~/"))
    return g_strdup(path);
  return g_build_filename(l->dir, path, NULL);
}

/* maildir:DIR and mbox:FILE in a config file are relative to it, too. */
static char *
config_resolve_via(const ConfigLoader *l, const char *via)
{
  static const char *const local[] = { "maildir:", "mbox:" };

  for (gsize i = 0; i < G_N_ELEMENTS(local); i++) {
    gsize n = strlen(local[i]);
    if (g_ascii_strncasecmp(via, local[i], n) == 0 && via[n] != '\0') {
      g_autofree char *path = config_resolve(l, via + n);
      return g_strconcat(local[i], path, NULL);
    }
  }
  return g_strdup(via);
}

/* Splits "a@x, \"Doe, J\" <b@y>" at the commas outside quotes, comments
 * and angle brackets.  Hand written: GMime's list parser drops what it
 * cannot read ("a@x; b@y" gives a@x alone), and each piece must be checked
 * whole. */
static GPtrArray *
config_split_addresses(const char *value)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  const char *start = value;
  gboolean quoted = FALSE;
  int depth = 0; /* ( ) comments and < > */

  for (const char *c = value;; c++) {
    if (*c == '\0' || (*c == ',' && !quoted && depth == 0)) {
      g_ptr_array_add(out, g_strstrip(g_strndup(start, c - start)));
      if (*c == '\0')
        return out;
      start = c + 1;
    } else if (*c == '\\' && c[1] != '\0') {
      c++;
    } else if (*c == '"') {
      quoted = !quoted;
    } else if (!quoted && (*c == '(' || *c == '<')) {
      depth++;
    } else if (!quoted && (*c == ')' || *c == '>') && depth > 0) {
      depth--;
    }
  }
}

/* "a@x, Bob <b@y>" -> one string per mailbox, each held to the rules of a
 * victims line. */
static gboolean
config_set_addresses(const ConfigLoader *l, GPtrArray *out, const char *key, const char *value,
                     GError **error)
{
  g_autoptr(GPtrArray) items = NULL;

  g_ptr_array_set_size(out, 0);
  if (value[0] == '\0')
    return TRUE;
  items = config_split_addresses(value);
  for (guint i = 0; i < items->len; i++) {
    g_autoptr(GError) local = NULL;
    g_autoptr(FarceurVictim) mailbox = farceur_campaign_parse_mailbox(items->pdata[i], &local);
    if (mailbox == NULL)
      return config_fail(l, error, key, local->message);
    g_ptr_array_add(out, g_strdup(items->pdata[i]));
  }
  return TRUE;
}

static gboolean
config_set_number(const ConfigLoader *l, guint *out, const char *key, const char *value,
                  GError **error)
{
  guint64 n;

  if (!g_ascii_string_to_unsigned(value, 10, 1, CONFIG_MAX_GROUP, &n, NULL))
    return config_fail(l, error, key, "expected a positive number");
  *out = n;
  return TRUE;
}

static gboolean
config_recode(const ConfigLoader *l, GError **error, const char *key, GError *local)
{
  config_fail(l, error, key, local->message);
  g_error_free(local);
  return FALSE;
}

static void
config_replace(char **slot, char *value)
{
  g_free(*slot);
  *slot = value;
}

/* One [campaign] or [smtp] key (or its lab spelling), by canonical name. */
static gboolean
config_set(ConfigLoader *l, const char *key, const char *value, const char *where, GError **error)
{
  FarceurCampaignConfig *c = l->config;
  GError *local = NULL;

  if (strcmp(key, "victims") == 0)
    config_replace(&c->victims, config_resolve(l, value));
  else if (strcmp(key, "messages") == 0)
    config_replace(&c->messages, config_resolve(l, value));
  else if (strcmp(key, "groups") == 0 || strcmp(key, "numberOfGroups") == 0)
    return config_set_number(l, &c->groups, where, value, error);
  else if (strcmp(key, "group-size") == 0) {
    if (!farceur_campaign_parse_group_size(value, &c->group_min, &c->group_max, &local))
      return config_recode(l, error, where, local);
  } else if (strcmp(key, "witnesses") == 0 || strcmp(key, "witnessesToCC") == 0)
    return config_set_addresses(l, c->witnesses, where, value, error);
  else if (strcmp(key, "bcc-witnesses") == 0)
    return config_set_addresses(l, c->bcc_witnesses, where, value, error);
  else if (strcmp(key, "seed") == 0) {
    if (!farceur_campaign_parse_seed(value, &c->seed, &local))
      return config_recode(l, error, where, local);
    c->has_seed = TRUE;
  } else if (strcmp(key, "via") == 0)
    config_replace(&c->via, config_resolve_via(l, value));
  else if (strcmp(key, "helo") == 0)
    config_replace(&c->helo, g_strdup(value));
  else if (strcmp(key, "user") == 0)
    config_replace(&c->user, g_strdup(value));
  else if (strcmp(key, "password-command") == 0)
    config_replace(&c->password_command, g_strdup(value));
  else if (strcmp(key, "tls-ca") == 0)
    config_replace(&c->tls_ca, config_resolve(l, value));
  else if (strcmp(key, "smtpServerAddress") == 0)
    config_replace(&l->lab_host, g_strdup(value));
  else if (strcmp(key, "smtpServerPort") == 0)
    config_replace(&l->lab_port, g_strdup(value));
  else
    return config_fail(l, error, where, "unknown key");
  return TRUE;
}

static const char *const config_campaign_keys[] = {
  "victims", "messages", "groups", "group-size", "witnesses", "bcc-witnesses", "seed", NULL,
};
static const char *const config_smtp_keys[] = {
  "via", "helo", "user", "password-command", "tls-ca", NULL,
};
static const char *const config_lab_keys[] = {
  "smtpServerAddress", "smtpServerPort", "numberOfGroups", "witnessesToCC", NULL,
};

static gboolean
config_load_group(ConfigLoader *l, GKeyFile *kf, const char *group, const char *const *allowed,
                  GError **error)
{
  g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);

  for (guint i = 0; keys && keys[i]; i++) {
    g_autofree char *where = g_strdup_printf("[%s] %s", group, keys[i]);
    g_autofree char *value = NULL;
    if (!g_strv_contains(allowed, keys[i]))
      return config_fail(l, error, where, "unknown key");
    value = g_key_file_get_string(kf, group, keys[i], NULL);
    if (value == NULL)
      return config_fail(l, error, where, "unreadable value");
    if (!config_set(l, keys[i], g_strstrip(value), where, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
config_load_vars(ConfigLoader *l, GKeyFile *kf, GError **error)
{
  g_auto(GStrv) keys = g_key_file_get_keys(kf, "vars", NULL, NULL);

  for (guint i = 0; keys && keys[i]; i++) {
    g_autofree char *where = g_strdup_printf("[vars] %s", keys[i]);
    g_autoptr(GError) local = NULL;
    char *value = g_key_file_get_string(kf, "vars", keys[i], NULL);
    if (value == NULL)
      return config_fail(l, error, where, "unreadable value");
    /* Checked here, where the file and key can be named; the composer
     * would refuse it too, without saying where it came from. */
    if (!farceur_compose_check_header_value("value", value, &local)) {
      g_free(value);
      return config_fail(l, error, where, local->message);
    }
    g_hash_table_replace(l->config->vars, g_strdup(keys[i]), value);
  }
  return TRUE;
}

static gboolean
config_load_ini(ConfigLoader *l, const char *data, gsize length, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) groups = NULL;

  if (!g_key_file_load_from_data(kf, data, length, G_KEY_FILE_NONE, &local))
    return config_fail(l, error, NULL, local->message);
  groups = g_key_file_get_groups(kf, NULL);
  for (guint i = 0; groups[i]; i++) {
    gboolean ok;
    if (strcmp(groups[i], "campaign") == 0)
      ok = config_load_group(l, kf, "campaign", config_campaign_keys, error);
    else if (strcmp(groups[i], "smtp") == 0)
      ok = config_load_group(l, kf, "smtp", config_smtp_keys, error);
    else if (strcmp(groups[i], "vars") == 0)
      ok = config_load_vars(l, kf, error);
    else {
      g_autofree char *where = g_strdup_printf("[%s]", groups[i]);
      ok = config_fail(l, error, where, "unknown section (expected campaign, smtp or vars)");
    }
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

/* Hand written: Java's .properties format (key=value or key: value, '#' and
 * '!' comments), in the subset the lab's config.properties uses. */
static gboolean
config_load_properties(ConfigLoader *l, const char *data, GError **error)
{
  g_auto(GStrv) lines = g_strsplit(data, "\n", -1);

  for (guint i = 0; lines[i]; i++) {
    char *line = g_strstrip(lines[i]);
    g_autofree char *where = NULL;
    char *sep;
    if (line[0] == '\0' || line[0] == '#' || line[0] == '!')
      continue;
    sep = strpbrk(line, "=:");
    where = g_strdup_printf("line %u", i + 1);
    if (sep == NULL)
      return config_fail(l, error, where, "expected key=value");
    *sep = '\0';
    g_strstrip(line);
    g_free(where);
    where = g_strdup_printf("line %u (%s)", i + 1, line);
    if (!g_strv_contains(config_lab_keys, line) && !g_strv_contains(config_campaign_keys, line)
        && !g_strv_contains(config_smtp_keys, line)) {
      return config_fail(l, error, where, "unknown key");
    }
    if (!config_set(l, line, g_strstrip(sep + 1), where, error))
      return FALSE;
  }
  return TRUE;
}

/* The lab keeps victims.utf8 and messages.utf8 next to config.properties. */
static void
config_lab_defaults(ConfigLoader *l)
{
  g_autofree char *victims = g_build_filename(l->dir, "victims.utf8", NULL);
  g_autofree char *messages = g_build_filename(l->dir, "messages.utf8", NULL);

  if (l->config->victims == NULL && g_file_test(victims, G_FILE_TEST_IS_REGULAR))
    l->config->victims = g_steal_pointer(&victims);
  if (l->config->messages == NULL && g_file_test(messages, G_FILE_TEST_IS_REGULAR))
    l->config->messages = g_steal_pointer(&messages);
}

static gboolean
config_finish_lab_server(ConfigLoader *l, GError **error)
{
  guint64 port = 25;

  if (l->lab_host == NULL && l->lab_port == NULL)
    return TRUE;
  if (l->lab_host == NULL)
    return config_fail(l, error, NULL, "smtpServerPort without smtpServerAddress");
  if (l->lab_port && !g_ascii_string_to_unsigned(l->lab_port, 10, 1, 65535, &port, NULL))
    return config_fail(l, error, "smtpServerPort", "expected a port from 1 to 65535");
  config_replace(&l->config->via,
                 g_strdup_printf(strchr(l->lab_host, ':') ? "smtp://[%s]:%u" : "smtp://%s:%u",
                                 l->lab_host, (guint)port));
  return TRUE;
}

static gboolean
config_is_ini(const char *data)
{
  g_auto(GStrv) lines = g_strsplit(data, "\n", -1);

  for (guint i = 0; lines[i]; i++)
    if (g_strstrip(lines[i])[0] == '[')
      return TRUE;
  return FALSE;
}

/**
 * farceur_campaign_config_load_data:
 * @config: the configuration to update
 * @data: the file's contents
 * @length: their length, or -1 when NUL-terminated
 * @path: the file's path, for messages and to resolve relative paths
 * @error: return location for a %FARCEUR_ERROR_CONFIG error
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_campaign_config_load_data(FarceurCampaignConfig *config, const char *data, gssize length,
                                  const char *path, GError **error)
{
  g_autofree char *text = NULL;
  ConfigLoader l = { config, path, NULL, NULL, NULL };
  gboolean ok;

  g_return_val_if_fail(config != NULL, FALSE);
  g_return_val_if_fail(data != NULL, FALSE);
  g_return_val_if_fail(path != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  text = length < 0 ? g_strdup(data) : g_strndup(data, length);
  l.dir = g_path_get_dirname(path);
  farceur_init();
  if (!g_utf8_validate(text, -1, NULL))
    ok = config_fail(&l, error, NULL, "not valid UTF-8");
  else if (config_is_ini(text))
    ok = config_load_ini(&l, text, strlen(text), error);
  else
    ok = config_load_properties(&l, text, error) && (config_lab_defaults(&l), TRUE);
  ok = ok && config_finish_lab_server(&l, error);
  if (ok)
    config_replace(&config->file, g_strdup(path));
  g_free(l.dir);
  g_free(l.lab_host);
  g_free(l.lab_port);
  return ok;
}

/**
 * farceur_campaign_config_load:
 * @config: the configuration to update
 * @path: an INI file or the lab's config.properties
 * @error: return location for an error (%FARCEUR_ERROR_NOINPUT when it
 *   cannot be read, else %FARCEUR_ERROR_CONFIG)
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_campaign_config_load(FarceurCampaignConfig *config, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize length;

  g_return_val_if_fail(config != NULL, FALSE);
  g_return_val_if_fail(path != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (!farceur_campaign_read_file("config", path, &data, &length, error))
    return FALSE;
  return farceur_campaign_config_load_data(config, data, length, path, error);
}
