/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: finding a campaign's files in a lab folder (farceur-prank(1),
 * FILES), so that `farceur prank` run bare where a student's project
 * lives finds what the student's own program read.
 *
 * The configuration: ./farceur.conf, then config.properties (or the only
 * *.properties file) in the folder, config/, configs/, configuration/,
 * cfg/, conf/, resources/, src/main/resources/ or
 * src/main/resources/config/ (names compared without case, as Windows
 * students saw them), then ./.env, then
 * $XDG_CONFIG_HOME/farceur/farceur.conf.  Victims and messages the
 * configuration does not name: the usual names (victims.*, emails.*,
 * messages.*, pranks.*) beside the configuration, then in those folders.
 * A path a lab configuration names is looked for where the student's
 * program looked: beside the file, in the project folder above it, or in
 * the current folder. */
#include "config.h"

#include <string.h>

#include "campaign-private.h"

static const char *const discover_dirs[] = {
  ".",
  "config",
  "configs",
  "configuration",
  "cfg",
  "conf",
  "resources",
  "src/main/resources",
  "src/main/resources/config",
  NULL,
};

/* @parent/@name, the name compared without case when it does not exist as
 * written; NULL when there is none. */
static char *
discover_child(const char *parent, const char *name)
{
  g_autofree char *exact = g_build_filename(parent, name, NULL);
  g_autoptr(GDir) dir = NULL;
  const char *entry;

  if (strcmp(name, ".") == 0)
    return g_strdup(parent);
  if (g_file_test(exact, G_FILE_TEST_EXISTS))
    return g_steal_pointer(&exact);
  if ((dir = g_dir_open(parent, 0, NULL)) == NULL)
    return NULL;
  while ((entry = g_dir_read_name(dir)) != NULL)
    if (g_ascii_strcasecmp(entry, name) == 0)
      return g_build_filename(parent, entry, NULL);
  return NULL;
}

/* @base/@relative, each component found without case. */
static char *
discover_path(const char *base, const char *relative)
{
  g_auto(GStrv) parts = g_strsplit(relative, "/", -1);
  g_autofree char *path = g_strdup(base);

  for (guint i = 0; parts[i] != NULL && path != NULL; i++) {
    char *next = discover_child(path, parts[i]);
    g_free(path);
    path = next;
  }
  return path != NULL && g_file_test(path, G_FILE_TEST_IS_DIR) ? g_steal_pointer(&path) : NULL;
}

static char *
discover_properties_in(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_autofree char *only = NULL;
  char *exact = discover_child(dir, "config.properties");
  const char *entry;
  guint count = 0;

  if (exact != NULL && g_file_test(exact, G_FILE_TEST_IS_REGULAR))
    return exact;
  g_free(exact);
  while (d != NULL && (entry = g_dir_read_name(d)) != NULL) {
    g_autofree char *lower = g_ascii_strdown(entry, -1);
    g_autofree char *full = g_build_filename(dir, entry, NULL);
    if (g_str_has_suffix(lower, ".properties") && g_file_test(full, G_FILE_TEST_IS_REGULAR)) {
      g_free(only);
      only = g_steal_pointer(&full);
      count++;
    }
  }
  return count == 1 ? g_steal_pointer(&only) : NULL;
}

static char *
discover_where(const char *base, const char *path)
{
  g_autofree char *dir = g_path_get_dirname(path);

  if (strcmp(dir, base) == 0)
    return g_strdup("found in the current folder");
  if (g_str_has_prefix(dir, base) && dir[strlen(base)] == G_DIR_SEPARATOR)
    return g_strdup_printf("found in ./%s", dir + strlen(base) + 1);
  return g_strdup_printf("found in %s", dir);
}

/**
 * campaign_discover_config:
 * @dir: the folder to search, normally "."
 * @found: (out) (optional) (nullable): how it was found, for the report
 *
 * Returns: (transfer full) (nullable): the configuration file, or %NULL
 */
char *
campaign_discover_config(const char *dir, char **found)
{
  g_autofree char *xdg = g_build_filename(g_get_user_config_dir(), "farceur", "farceur.conf", NULL);
  g_autofree char *conf = g_build_filename(dir, "farceur.conf", NULL);
  char *path = NULL;

  if (g_file_test(conf, G_FILE_TEST_IS_REGULAR))
    path = g_steal_pointer(&conf);
  for (guint i = 0; path == NULL && discover_dirs[i] != NULL; i++) {
    g_autofree char *candidate = discover_path(dir, discover_dirs[i]);
    if (candidate != NULL)
      path = discover_properties_in(candidate);
  }
  if (path == NULL) {
    g_autofree char *env = g_build_filename(dir, ".env", NULL);
    if (g_file_test(env, G_FILE_TEST_IS_REGULAR))
      path = g_steal_pointer(&env);
  }
  if (path == NULL && g_file_test(xdg, G_FILE_TEST_IS_REGULAR)) {
    if (found)
      *found = g_strdup("found in $XDG_CONFIG_HOME/farceur");
    return g_steal_pointer(&xdg);
  }
  if (found)
    *found = path ? discover_where(dir, path) : NULL;
  return path;
}

/* ---- victims and messages files ---- */

static const char *const discover_victims_names[] = { "victims", "victimes", "emails", NULL };
static const char *const discover_messages_names[] = { "messages", "pranks", NULL };
static const char *const discover_extensions[] = { "utf8", "txt", "csv", "json", "list", "", NULL };

/* How much @name is a usual name: 0 when not at all, else higher is better. */
static guint
discover_rank(const char *name, const char *const *stems)
{
  g_autofree char *lower = g_ascii_strdown(name, -1);
  char *dot = strchr(lower, '.');
  const char *ext = dot ? dot + 1 : "";
  guint rank = 0;

  if (dot != NULL)
    *dot = '\0';
  if (lower[0] == '\0' || !g_strv_contains(stems, lower))
    return 0;
  for (guint i = 0; discover_extensions[i] != NULL; i++)
    if (strcmp(ext, discover_extensions[i]) == 0)
      rank = 100 - i;
  return MAX(rank, 1);
}

/* The best usual name in @dir; the others found there go in @others. */
static char *
discover_input_in(const char *dir, gboolean victims, GString *others)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *const *stems = victims ? discover_victims_names : discover_messages_names;
  g_autofree char *best = NULL;
  guint best_rank = 0;
  const char *entry;

  while (d != NULL && (entry = g_dir_read_name(d)) != NULL) {
    g_autofree char *full
        = strcmp(dir, ".") == 0 ? g_strdup(entry) : g_build_filename(dir, entry, NULL);
    guint rank = discover_rank(entry, stems);
    if (rank == 0 || (victims && !g_file_test(full, G_FILE_TEST_IS_REGULAR)))
      continue;
    if (rank > best_rank) {
      if (best != NULL)
        g_string_append_printf(others, "%s%s", others->len ? ", " : "", best);
      g_free(best);
      best = g_steal_pointer(&full), best_rank = rank;
    } else {
      g_string_append_printf(others, "%s%s", others->len ? ", " : "", full);
    }
  }
  return g_steal_pointer(&best);
}

/**
 * campaign_discover_input:
 * @dirs: (array zero-terminated=1): the folders to look in, in order
 * @victims: victims (else messages)
 * @found: (out) (nullable): how it was found
 *
 * Returns: (transfer full) (nullable): the file with a usual name
 */
char *
campaign_discover_input(const char *const *dirs, gboolean victims, char **found)
{
  for (guint i = 0; dirs[i] != NULL; i++) {
    g_autoptr(GString) others = g_string_new(NULL);
    char *path = discover_input_in(dirs[i], victims, others);
    if (path == NULL)
      continue;
    const char *where = strcmp(dirs[i], ".") == 0 ? "the current folder" : dirs[i];
    *found = others->len ? g_strdup_printf("usual name, in %s (not used: %s)", where, others->str)
                         : g_strdup_printf("usual name, in %s", where);
    return path;
  }
  *found = NULL;
  return NULL;
}

/**
 * campaign_discover_lab_path:
 * @config_dir: the folder of the configuration file
 * @value: the path a key gives
 * @found: (out) (nullable): where it was found, when not beside the configuration
 *
 * Java programs opened these paths relative to where they ran, usually the
 * project folder above the configuration; "/assets/x" was glued to that
 * folder; Windows paths use '\'.
 *
 * Returns: (transfer full): the path to use (beside the configuration when
 *   it exists nowhere)
 */
char *
campaign_discover_lab_path(const char *config_dir, const char *value, char **found)
{
  g_autofree char *relative = g_strdelimit(g_strdup(value), "\\", '/');
  g_autofree char *parent = g_path_get_dirname(config_dir);
  g_autofree char *grandparent = g_path_get_dirname(parent);
  const char *bases[] = { config_dir, parent, grandparent, ".", NULL };
  const char *names[] = { "beside the configuration", "in the folder above it",
                          "two folders above it", "in the current folder" };
  char *trimmed;

  *found = NULL;
  if (g_path_is_absolute(relative) && g_file_test(relative, G_FILE_TEST_EXISTS))
    return g_steal_pointer(&relative);
  if (g_str_has_prefix(relative, "~/"))
    return g_steal_pointer(&relative);
  for (trimmed = relative; *trimmed == '/' || g_str_has_prefix(trimmed, "./");)
    trimmed += *trimmed == '/' ? 1 : 2;
  for (guint i = 0; bases[i] != NULL; i++) {
    char *path = strcmp(bases[i], ".") == 0 ? g_strdup(trimmed)
                                            : g_build_filename(bases[i], trimmed, NULL);
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
      if (i > 0 || trimmed != relative)
        *found = g_strdup(names[i]);
      return path;
    }
    g_free(path);
  }
  return g_build_filename(config_dir, trimmed, NULL);
}

/**
 * farceur_campaign_config_find_inputs:
 * @config: a configuration, its file read
 * @dir: the folder farceur runs in, normally "."
 *
 * Sets the victims and messages files @config does not name to the files
 * with usual names (victims.*, emails.*, messages.*, pranks.*) beside its
 * configuration file, else in @dir and the folders a lab project keeps
 * them in; @victims_found and @messages_found say which was used.
 */
void
farceur_campaign_config_find_inputs(FarceurCampaignConfig *config, const char *dir)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);

  g_return_if_fail(config != NULL && dir != NULL);
  if (config->victims != NULL && config->messages != NULL)
    return;
  if (config->file != NULL)
    g_ptr_array_add(dirs, g_path_get_dirname(config->file));
  for (guint i = 0; discover_dirs[i] != NULL; i++) {
    char *candidate = discover_path(dir, discover_dirs[i]);
    if (candidate != NULL)
      g_ptr_array_add(dirs, candidate);
  }
  g_ptr_array_add(dirs, NULL);
  if (config->victims == NULL)
    config->victims
        = campaign_discover_input((const char *const *)dirs->pdata, TRUE, &config->victims_found);
  if (config->messages == NULL)
    config->messages
        = campaign_discover_input((const char *const *)dirs->pdata, FALSE, &config->messages_found);
}
