/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the campaign configuration file (data/doc/formats.md, Campaign configuration).
 *
 * Three formats, told apart by content: an INI file read by GKeyFile, with
 * sections [campaign], [smtp] and [vars]; a JSON object; or the course
 * lab's config.properties (java.util.Properties syntax, campaign-properties.c;
 * also .env files).  In the INI file, farceur's own format, an unknown
 * section or key is an error ("grups = 4" must not be silently ignored),
 * with a "did you mean"; the lab's files have many spellings
 * (campaign-keys.c), so an unknown key there is a warning.  Every problem
 * of a file is reported in one error.  Relative paths resolve against the
 * configuration file's folder. */
#include "config.h"

#include <string.h>

#include <farceur/campaign.h>
#include <farceur/compose.h>
#include <farceur/error.h>
#include <farceur/init.h>
#include <farceur/json.h>
#include <farceur/suggest.h>

#include "campaign-private.h"

FarceurCampaignConfig *
farceur_campaign_config_new(void)
{
  FarceurCampaignConfig *config = g_new0(FarceurCampaignConfig, 1);

  config->witnesses = g_ptr_array_new_with_free_func(g_free);
  config->bcc_witnesses = g_ptr_array_new_with_free_func(g_free);
  config->vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return config;
}

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
  farceur_messages_format_clear(&config->messages_format);
  g_free(config->victims_found);
  g_free(config->messages_found);
  if (config->date != NULL)
    g_date_time_unref(config->date);
  g_free(config);
}

/**
 * farceur_campaign_config_discover:
 * @dir: the folder to search, normally "."
 * @found: (out) (optional) (nullable): how it was found, for the report
 *
 * The configuration search order after --config: @dir/farceur.conf, the
 * lab's config.properties in @dir or its usual folders (config/,
 * src/main/resources/ ...), @dir/.env, then
 * $XDG_CONFIG_HOME/farceur/farceur.conf (farceur-prank(1), FILES).
 *
 * Returns: (transfer full) (nullable): the first that exists, or %NULL
 */
char *
farceur_campaign_config_discover(const char *dir, char **found)
{
  g_return_val_if_fail(dir != NULL, NULL);
  return campaign_discover_config(dir, found);
}

/**
 * farceur_campaign_config_find:
 *
 * farceur_campaign_config_discover() in the current folder.
 *
 * Returns: (transfer full) (nullable): the first that exists, or %NULL
 */
char *
farceur_campaign_config_find(void)
{
  char *path = campaign_discover_config(".", NULL);

  if (path != NULL && g_str_has_prefix(path, "./"))
    memmove(path, path + 2, strlen(path + 2) + 1);
  return path;
}

/* ---- INI ---- */

static const char *const config_sections[] = { "campaign", "smtp", "vars", NULL };
static const char *const config_ini_keys[] = {
  "victims",       "messages",   "messages-format",
  "groups",        "group-size", "witnesses",
  "bcc-witnesses", "seed",       "via",
  "helo",          "user",       "password-command",
  "tls-ca",        NULL,
};

static void
config_unknown_ini(ConfigLoader *l, const char *where, const char *name, const char *what,
                   const char *const *known)
{
  const char *near = farceur_suggest_closest(name, known, NULL);

  if (near != NULL)
    config_problem(l, where, "unknown %s (did you mean '%s'?)", what, near);
  else
    config_problem(l, where, "unknown %s", what);
}

static void
config_load_group(ConfigLoader *l, GKeyFile *kf, const char *group)
{
  g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);

  for (guint i = 0; keys && keys[i]; i++) {
    g_autofree char *where = g_strdup_printf("[%s] %s", group, keys[i]);
    g_autofree char *value = g_key_file_get_string(kf, group, keys[i], NULL);
    if (value == NULL)
      config_problem(l, where, "unreadable value");
    else if (!config_ini_entry(l, group, keys[i], g_strstrip(value)))
      config_unknown_ini(l, where, keys[i], "key", config_ini_keys);
  }
}

static void
config_load_vars(ConfigLoader *l, GKeyFile *kf)
{
  g_auto(GStrv) keys = g_key_file_get_keys(kf, "vars", NULL, NULL);

  for (guint i = 0; keys && keys[i]; i++) {
    g_autofree char *where = g_strdup_printf("[vars] %s", keys[i]);
    g_autoptr(GError) local = NULL;
    char *value = g_key_file_get_string(kf, "vars", keys[i], NULL);
    if (value == NULL) {
      config_problem(l, where, "unreadable value");
      continue;
    }
    /* Checked here, where the file and key can be named; the composer
     * would refuse it too, without saying where it came from. */
    if (!farceur_compose_check_header_value("value", value, &local)) {
      g_free(value);
      config_problem(l, where, "%s", local->message);
      continue;
    }
    l->used++;
    g_hash_table_replace(l->config->vars, g_strdup(keys[i]), value);
  }
}

static void
config_load_ini(ConfigLoader *l, const char *data)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) groups = NULL;

  if (!g_key_file_load_from_data(kf, data, strlen(data), G_KEY_FILE_NONE, &local))
    return config_problem(l, NULL, "%s", local->message);
  groups = g_key_file_get_groups(kf, NULL);
  for (guint i = 0; groups[i]; i++) {
    if (strcmp(groups[i], "vars") == 0)
      config_load_vars(l, kf);
    else if (g_strv_contains(config_sections, groups[i]))
      config_load_group(l, kf, groups[i]);
    else {
      g_autofree char *where = g_strdup_printf("[%s]", groups[i]);
      config_unknown_ini(l, where, groups[i], "section (expected campaign, smtp or vars)",
                         config_sections);
    }
  }
}

/* ---- the lab's formats ---- */

static void
config_load_properties(ConfigLoader *l, const char *data)
{
  g_autoptr(GPtrArray) entries = config_properties_parse(data, l->problems);

  for (guint i = 0; i < entries->len; i++) {
    const ConfigEntry *e = entries->pdata[i];
    config_lab_entry(l, e->key, e->value, e->line);
  }
  farceur_read_file_set(&l->note->format, "properties");
}

static char *
config_json_scalar(JsonNode *node)
{
  if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
    return g_strdup(json_node_get_string(node));
  if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_INT64)
    return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node));
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    JsonArray *array = json_node_get_array(node);
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < json_array_get_length(array); i++) {
      g_autofree char *item = config_json_scalar(json_array_get_element(array, i));
      g_string_append_printf(out, "%s%s", i ? ", " : "", item ? item : "");
    }
    return g_string_free(out, FALSE);
  }
  return NULL;
}

static void
config_load_json(ConfigLoader *l, const char *data)
{
  g_autoptr(GError) local = NULL;
  JsonNode *root = farceur_json_parse_lenient(data, l->note, &local);
  g_autoptr(GList) members = NULL;
  JsonObject *object;

  farceur_read_file_set(&l->note->format, "json");
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
    config_problem(l, NULL, "%s",
                   root ? "expected a JSON object of keys and values" : local->message);
    if (root)
      json_node_unref(root);
    return;
  }
  object = json_node_get_object(root);
  members = json_object_get_members(object);
  for (GList *m = members; m != NULL; m = m->next) {
    g_autofree char *value = config_json_scalar(json_object_get_member(object, m->data));
    if (value == NULL)
      farceur_read_file_skip(l->note, 0, "key '%s' ignored: not a string, number or list",
                             (char *)m->data);
    else
      config_lab_entry(l, m->data, value, 0);
  }
  json_node_unref(root);
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

/* ---- the report and the end ---- */

static void
config_summarise(ConfigLoader *l)
{
  const FarceurCampaignConfig *c = l->config;
  GString *s = g_string_new(NULL);

  if (c->via != NULL)
    g_string_append_printf(s, "%s %s", g_str_has_prefix(c->via, "smtp") ? "server" : "target",
                           g_str_has_prefix(c->via, "smtp://") ? c->via + 7 : c->via);
  if (c->groups)
    g_string_append_printf(s, "%s%u group%s", s->len ? ", " : "", c->groups,
                           c->groups > 1 ? "s" : "");
  if (c->group_size)
    g_string_append_printf(s, "%s%u people per group", s->len ? ", " : "", c->group_size);
  if (c->group_min)
    g_string_append_printf(s, "%sgroups of %u%s", s->len ? ", " : "", c->group_min,
                           c->group_max ? "-" : " or more");
  if (c->group_max)
    g_string_append_printf(s, "%u", c->group_max);
  for (guint w = 0; w < 2; w++) {
    GPtrArray *list = w ? c->bcc_witnesses : c->witnesses;
    for (guint i = 0; i < list->len; i++)
      g_string_append_printf(
          s, "%s%s",
          i ? ", " : (s->len ? (w ? ", Bcc " : ", witnesses ") : (w ? "Bcc " : "witnesses ")),
          (char *)list->pdata[i]);
  }
  if (c->messages_format.separator != NULL)
    g_string_append_printf(s, "%smessages separated by '%s'", s->len ? ", " : "",
                           c->messages_format.separator);
  if (s->len == 0)
    g_string_append(s, "nothing set");
  if (l->ignored->len)
    g_string_append_printf(s, "; ignored keys: %s", l->ignored->str);
  l->note->count = l->used;
  g_free(l->note->summary);
  l->note->summary = g_string_free(s, FALSE);
}

/* One error for every problem of the file: "config 'f' line 3 (key):
 * what; line 5 (key): what". */
static gboolean
config_fail_problems(ConfigLoader *l, GError **error)
{
  g_autoptr(GString) all = g_string_new(NULL);
  const char *first;

  if (l->problems->len == 0)
    return TRUE;
  for (guint i = 0; i < l->problems->len; i++)
    g_string_append_printf(all, "%s%s", i ? "; " : "", (char *)l->problems->pdata[i]);
  first = l->problems->pdata[0];
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CONFIG, "config '%s'%s%s", l->file,
              first[0] == '[' || g_str_has_prefix(first, "line ")
                      || g_str_has_prefix(first, "key '")
                  ? " "
                  : ": ",
              all->str);
  return FALSE;
}

static void
config_loader_clear(ConfigLoader *l)
{
  g_free(l->dir);
  g_ptr_array_unref(l->problems);
  g_hash_table_unref(l->lines);
  g_free(l->host);
  g_free(l->port);
  g_string_free(l->ignored, TRUE);
}

/**
 * farceur_campaign_config_read_data:
 * @config: the configuration to update
 * @data: the file's contents
 * @length: their length
 * @path: the file's path, for messages and to resolve relative paths
 * @note: (nullable): where to record what was read, with the warnings
 * @error: return location for a %FARCEUR_ERROR_CONFIG error naming every
 *   problem of the file
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_campaign_config_read_data(FarceurCampaignConfig *config, const char *data, gsize length,
                                  const char *path, FarceurReadFile *note, GError **error)
{
  g_autoptr(FarceurReadFile) own = note ? NULL : farceur_read_file_new("config", path);
  ConfigLoader l = { config, path, FALSE, g_path_get_dirname(path), note ? note : own };
  g_autofree char *text = NULL;
  const char *start;
  gboolean ok;

  g_return_val_if_fail(config != NULL && data != NULL && path != NULL, FALSE);
  farceur_init();
  l.problems = g_ptr_array_new_with_free_func(g_free);
  l.lines = g_hash_table_new(NULL, NULL);
  l.ignored = g_string_new(NULL);
  text = farceur_read_file_decode(l.note, "config", path, data, length, TRUE, FARCEUR_ERROR_CONFIG,
                                  error);
  if (text == NULL) {
    config_loader_clear(&l);
    return FALSE;
  }
  start = text + strspn(text, " \t\r\n");
  l.lab = *start == '{' || !config_is_ini(text);
  if (*start == '{')
    config_load_json(&l, text);
  else if (!l.lab)
    config_load_ini(&l, text), farceur_read_file_set(&l.note->format, "ini");
  else
    config_load_properties(&l, text);
  if (l.lab)
    config_lab_finish(&l);
  config_summarise(&l);
  ok = config_fail_problems(&l, error);
  if (ok) {
    g_free(config->file);
    config->file = g_strdup(path);
  }
  config_loader_clear(&l);
  return ok;
}

/**
 * farceur_campaign_config_load_data:
 * @config: the configuration to update
 * @data: the file's contents
 * @length: their length, or -1 when NUL-terminated
 * @path: the file's path, for messages and to resolve relative paths
 * @error: return location for a %FARCEUR_ERROR_CONFIG error
 *
 * farceur_campaign_config_read_data() without a record of what was read.
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_campaign_config_load_data(FarceurCampaignConfig *config, const char *data, gssize length,
                                  const char *path, GError **error)
{
  g_return_val_if_fail(data != NULL, FALSE);
  return farceur_campaign_config_read_data(config, data, length < 0 ? strlen(data) : (gsize)length,
                                           path, NULL, error);
}

/**
 * farceur_campaign_config_read:
 * @config: the configuration to update
 * @path: an INI file, a JSON object, or the lab's config.properties
 * @note: (nullable): where to record what was read, with the warnings
 * @error: return location for an error (%FARCEUR_ERROR_NOINPUT when it
 *   cannot be read, else %FARCEUR_ERROR_CONFIG)
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_campaign_config_read(FarceurCampaignConfig *config, const char *path, FarceurReadFile *note,
                             GError **error)
{
  g_autofree char *data = NULL;
  gsize length;

  g_return_val_if_fail(config != NULL && path != NULL, FALSE);
  if (!farceur_campaign_read_file("config", path, &data, &length, error))
    return FALSE;
  return farceur_campaign_config_read_data(config, data, length, path, note, error);
}

/**
 * farceur_campaign_config_load:
 * @config: the configuration to update
 * @path: the configuration file
 * @error: return location for an error
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_campaign_config_load(FarceurCampaignConfig *config, const char *path, GError **error)
{
  g_return_val_if_fail(config != NULL, FALSE);
  g_return_val_if_fail(path != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  return farceur_campaign_config_read(config, path, NULL, error);
}
