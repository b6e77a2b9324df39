/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the values of a campaign configuration, and the lab's keys
 * (data/doc/formats.md, Campaign configuration).
 *
 * The course lab's config.properties (and .env, and a JSON config) name the
 * same things with many spellings (campaign-keys.c).  Each entry is read as
 * its student meant it: "localhost:1025" is a host and a port; a value in
 * double quotes loses them (java.util.Properties kept them and the host
 * could not be resolved); a trailing "// comment" is a comment; witnesses
 * are separated by ',', ';' or blanks; a path is looked for where the
 * student's program looked.  Each of these is a warning naming the line.
 * An unknown key is a warning; a bad value is a problem, and every problem
 * of the file is reported in one error at the end (campaign-config.c). */
#include "config.h"

#include <string.h>

#include <farceur/campaign.h>
#include <farceur/error.h>
#include "gmime-autoptr.h"

#include "campaign-private.h"

#define CONFIG_MAX_GROUP 100000

void
config_problem(ConfigLoader *l, const char *where, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start(args, format);
  what = g_strdup_vprintf(format, args);
  va_end(args);
  g_ptr_array_add(l->problems,
                  where ? g_strdup_printf("%s: %s", where, what) : g_steal_pointer(&what));
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

static void
config_replace(char **slot, char *value)
{
  g_free(*slot);
  *slot = value;
}

static char *
config_resolve(const ConfigLoader *l, const char *path)
{
  if (g_path_is_absolute(path) || g_str_has_prefix(path, "~/") || strcmp(l->dir, ".") == 0)
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

static void
config_set_number(ConfigLoader *l, guint *out, const char *where, const char *value, guint min,
                  const char *example)
{
  guint64 n = 0;

  if (!g_ascii_string_to_unsigned(value, 10, min, CONFIG_MAX_GROUP, &n, NULL) && min == 1)
    config_problem(l, where, "expected a positive number, not '%s' (write e.g. %s)", value,
                   example);
  else if (n < min || n > CONFIG_MAX_GROUP)
    config_problem(l, where, "expected a number of at least %u, not '%s' (write e.g. %s)", min,
                   value, example);
  else
    *out = n;
}

/* One witness item: a mailbox, or (lab files) addresses separated by blanks. */
static void
config_add_witness(ConfigLoader *l, GPtrArray *out, const char *item, const char *where)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(FarceurVictim) mailbox = farceur_campaign_parse_mailbox(item, &local);
  g_autoptr(GPtrArray) words = NULL;

  if (mailbox != NULL) {
    g_ptr_array_add(out, g_strdup(item));
    return;
  }
  if (l->lab && strpbrk(item, " \t") != NULL && strpbrk(item, "<\"(") == NULL) {
    words = campaign_split_addresses(item, TRUE);
    for (guint i = 0; i < words->len; i++) {
      g_autoptr(FarceurVictim) one = farceur_campaign_parse_mailbox(words->pdata[i], NULL);
      if (one == NULL)
        break;
      if (i + 1 == words->len) {
        for (guint j = 0; j < words->len; j++)
          g_ptr_array_add(out, g_strdup(words->pdata[j]));
        return;
      }
    }
  }
  config_problem(l, where, "%s", local->message);
}

/* "a@x, Bob <b@y>; c@z" -> one string per mailbox, each held to the rules
 * of a victims line. */
static void
config_set_addresses(ConfigLoader *l, GPtrArray *out, const char *value, const char *where)
{
  g_autoptr(GPtrArray) items = NULL;

  g_ptr_array_set_size(out, 0);
  if (value[0] == '\0')
    return;
  items = campaign_split_addresses(value, FALSE);
  for (guint i = 0; i < items->len; i++)
    config_add_witness(l, out, items->pdata[i], where);
}

/* HOST, HOST:PORT, [IPV6]:PORT, IPV6, or a URL. */
static void
config_set_host(ConfigLoader *l, const char *value, const char *where, guint line)
{
  const char *colon = strrchr(value, ':');
  g_autofree char *host = NULL;
  guint64 port = 0;

  l->host_line = line;
  if (strstr(value, "://") != NULL) {
    config_replace(&l->config->via, config_resolve_via(l, value));
    return;
  }
  if (value[0] == '[' && strchr(value, ']') != NULL) {
    host = g_strndup(value + 1, strchr(value, ']') - value - 1);
    colon = strchr(value, ']')[1] == ':' ? strchr(value, ']') + 1 : NULL;
  } else if (colon != NULL && strchr(value, ':') == colon) {
    host = g_strndup(value, colon - value);
  } else {
    host = g_strdup(value), colon = NULL;
  }
  if (colon != NULL && !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL))
    return config_problem(l, where, "'%s': the port after ':' must be a number from 1 to 65535",
                          value);
  if (host[0] == '\0' || strpbrk(host, " \t\"'<>/\\@") != NULL)
    return config_problem(l, where,
                          "'%s' is not a server name or address (write e.g. localhost, "
                          "127.0.0.1 or localhost:1025)",
                          value);
  config_replace(&l->host, g_steal_pointer(&host));
  l->host_port = port;
}

/* A path a lab file names, looked for where the student's program looked. */
static void
config_set_path(ConfigLoader *l, char **slot, char **found, const char *key, const char *value,
                guint line)
{
  g_autofree char *where = NULL;

  if (l->lab)
    config_replace(slot, campaign_discover_lab_path(l->dir, value, &where));
  else
    config_replace(slot, config_resolve(l, value));
  if (line > 0)
    config_replace(found, g_strdup_printf("config key '%s' (line %u)%s%s", key, line,
                                          where ? ", found " : "", where ? where : ""));
  else
    config_replace(found, g_strdup_printf("config key '%s'%s%s", key, where ? ", found " : "",
                                          where ? where : ""));
}

static void
config_set_group_size(ConfigLoader *l, const char *value, const char *where)
{
  FarceurCampaignConfig *c = l->config;
  g_autoptr(GError) local = NULL;
  guint64 n;

  if (l->lab && g_ascii_string_to_unsigned(value, 10, 2, CONFIG_MAX_GROUP, &n, NULL)) {
    c->group_size = n; /* the lab's keys give people per group */
    return;
  }
  if (!farceur_campaign_parse_group_size(value, &c->group_min, &c->group_max, &local))
    config_problem(l, where, "%s", local->message);
}

static void
config_set_separator(ConfigLoader *l, const char *value, const char *where)
{
  FarceurMessagesFormat *f = &l->config->messages_format;

  if (value[0] == '\0' || strpbrk(value, " \t") != NULL)
    return config_problem(l, where, "'%s' is not a separator line (write e.g. ==)", value);
  config_replace(&f->separator, g_strdup(value));
  if (f->kind == FARCEUR_MESSAGES_AUTO)
    f->kind = FARCEUR_MESSAGES_BLOCKS;
}

static void
config_set_format(ConfigLoader *l, const char *value, const char *where)
{
  g_autoptr(GError) local = NULL;
  FarceurMessagesFormat format;

  if (!farceur_messages_format_parse(value, &format, &local))
    return config_problem(l, where, "%s", local->message);
  farceur_messages_format_clear(&l->config->messages_format);
  l->config->messages_format = format;
}

/**
 * config_set_value:
 * @l: the loader
 * @key: what the entry sets
 * @spelling: the key as written
 * @value: its value, cleaned
 * @where: "line N (key)" or "[section] key", for problems
 * @line: its line, 0 when unknown
 */
static void
config_set_value(ConfigLoader *l, ConfigKey key, const char *spelling, const char *value,
                 const char *where, guint line)
{
  FarceurCampaignConfig *c = l->config;
  g_autoptr(GError) local = NULL;

  switch (key) {
    case CONFIG_KEY_HOST:
      return config_set_host(l, value, where, line);
    case CONFIG_KEY_PORT:
      l->port_line = line;
      return config_replace(&l->port, g_strdup(value));
    case CONFIG_KEY_GROUPS:
      c->groups_from_file = TRUE;
      return config_set_number(l, &c->groups, where, value, 1, l->lab ? "numberOfGroups=3" : "3");
    case CONFIG_KEY_GROUP_SIZE:
      return config_set_group_size(l, value, where);
    case CONFIG_KEY_GROUP_MIN:
      return config_set_number(l, &c->group_min, where, value, 2, "3");
    case CONFIG_KEY_GROUP_MAX:
      return config_set_number(l, &c->group_max, where, value, 2, "5");
    case CONFIG_KEY_WITNESSES:
      return config_set_addresses(l, c->witnesses, value, where);
    case CONFIG_KEY_BCC:
      return config_set_addresses(l, c->bcc_witnesses, value, where);
    case CONFIG_KEY_VICTIMS:
      return config_set_path(l, &c->victims, &c->victims_found, spelling, value, line);
    case CONFIG_KEY_MESSAGES:
      return config_set_path(l, &c->messages, &c->messages_found, spelling, value, line);
    case CONFIG_KEY_SEPARATOR:
      return config_set_separator(l, value, where);
    case CONFIG_KEY_MESSAGES_FORMAT:
      return config_set_format(l, value, where);
    case CONFIG_KEY_SEED:
      if (!farceur_campaign_parse_seed(value, &c->seed, &local))
        return config_problem(l, where, "%s", local->message);
      c->has_seed = TRUE;
      return;
    case CONFIG_KEY_VIA:
      return config_replace(&c->via, config_resolve_via(l, value));
    case CONFIG_KEY_HELO:
      return config_replace(&c->helo, g_strdup(value));
    case CONFIG_KEY_USER:
      return config_replace(&c->user, g_strdup(value));
    case CONFIG_KEY_PASSWORD_COMMAND:
      return config_replace(&c->password_command, g_strdup(value));
    case CONFIG_KEY_TLS_CA:
      return config_replace(&c->tls_ca, config_resolve(l, value));
    default:
      return;
  }
}

/* "\"127.0.0.1\"" -> 127.0.0.1, "localhost   // mock" -> localhost: what
 * the student meant, said in a warning. */
static char *
config_clean_value(ConfigLoader *l, const char *key, const char *raw, guint line)
{
  g_autofree char *value = g_strstrip(g_strdup(raw));
  gsize n = strlen(value);
  const char *comment;

  for (comment = value; (comment = strpbrk(comment, " \t")) != NULL; comment++) {
    const char *p = comment + strspn(comment, " \t");
    if (g_str_has_prefix(p, "//") || *p == '#') {
      farceur_read_file_warn(l->note, line,
                             "'%s': '%s' read as a comment (a .properties value runs to the end "
                             "of the line)",
                             key, p);
      value[comment - value] = '\0';
      g_strchomp(value);
      n = strlen(value);
      break;
    }
  }
  if (n >= 2
      && ((value[0] == '"' && value[n - 1] == '"') || (value[0] == '\'' && value[n - 1] == '\''))) {
    farceur_read_file_warn(l->note, line,
                           "'%s': the quotes around %s are not part of a .properties value "
                           "(Java keeps them); read without them",
                           key, value);
    return g_strndup(value + 1, n - 2);
  }
  return g_steal_pointer(&value);
}

static void
config_note_line(ConfigLoader *l, ConfigKey key, const char *spelling, guint line)
{
  gpointer before = g_hash_table_lookup(l->lines, GUINT_TO_POINTER(key));

  if (before != NULL && line > 0)
    farceur_read_file_warn(l->note, line, "'%s' sets the %s again (line %u did): the last one wins",
                           spelling, config_key_describe(key), GPOINTER_TO_UINT(before));
  g_hash_table_replace(l->lines, GUINT_TO_POINTER(key), GUINT_TO_POINTER(line));
}

static void
config_unknown(ConfigLoader *l, const char *key, const ConfigKeyMatch *m, guint line)
{
  g_string_append_printf(l->ignored, "%s%s", l->ignored->len ? ", " : "", key);
  if (m->closest != NULL)
    farceur_read_file_skip(l->note, line, "unknown key '%s' ignored (did you mean '%s'?)", key,
                           m->closest);
  else
    farceur_read_file_skip(l->note, line, "unknown key '%s' ignored", key);
}

/**
 * config_lab_entry:
 * @l: the loader
 * @key: the key as written
 * @value: its value as written (unescaped)
 * @line: its line, 0 in a JSON file
 */
void
config_lab_entry(ConfigLoader *l, const char *key, const char *value, guint line)
{
  ConfigKeyMatch m;
  g_autofree char *where
      = line ? g_strdup_printf("line %u (%s)", line, key) : g_strdup_printf("key '%s'", key);
  g_autofree char *clean = NULL;

  config_key_match(key, &m);
  if (m.key == CONFIG_KEY_UNKNOWN)
    return config_unknown(l, key, &m, line);
  if (m.meant != NULL)
    farceur_read_file_warn(l->note, line, "'%s' read as '%s' (did you mean '%s'?)", key, m.meant,
                           m.meant);
  if (m.key == CONFIG_KEY_IGNORED) {
    g_string_append_printf(l->ignored, "%s%s", l->ignored->len ? ", " : "", key);
    farceur_read_file_skip(l->note, line, "'%s' ignored: %s", key, m.why);
    return;
  }
  config_note_line(l, m.key, key, line);
  l->used++;
  clean = config_clean_value(l, key, value, line);
  config_set_value(l, m.key, key, clean, where, line);
}

/* The server: smtpServerAddress and smtpServerPort (or their other
 * spellings) make smtp://HOST:PORT. */
static void
config_lab_server(ConfigLoader *l)
{
  guint64 port = 25;

  if (l->host == NULL && l->port == NULL)
    return;
  if (l->port && !g_ascii_string_to_unsigned(l->port, 10, 1, 65535, &port, NULL)) {
    g_autofree char *where = g_strdup_printf("line %u", l->port_line);
    return config_problem(l, where, "port '%s': expected a port from 1 to 65535", l->port);
  }
  if (l->host == NULL) {
    g_autofree char *where = g_strdup_printf("line %u", l->port_line);
    if (l->host_line == 0) /* else the address was refused, and said so */
      config_problem(l, where,
                     "smtpServerPort without smtpServerAddress (add smtpServerAddress=localhost)");
    return;
  }
  if (l->host_port != 0 && l->port != NULL && port != l->host_port)
    farceur_read_file_warn(l->note, l->host_line,
                           "the port written with the address (%u) wins over the port key "
                           "(line %u: %u)",
                           l->host_port, l->port_line, (guint)port);
  if (l->host_port != 0)
    port = l->host_port;
  config_replace(&l->config->via,
                 g_strdup_printf(strchr(l->host, ':') ? "smtp://[%s]:%u" : "smtp://%s:%u", l->host,
                                 (guint)port));
}

/* The usual names beside a lab file: victims.utf8, messages.utf8 ... */
static void
config_lab_defaults(ConfigLoader *l)
{
  FarceurCampaignConfig *c = l->config;
  const char *dirs[] = { l->dir, NULL };

  if (c->victims == NULL)
    c->victims = campaign_discover_input(dirs, TRUE, &c->victims_found);
  if (c->messages == NULL)
    c->messages = campaign_discover_input(dirs, FALSE, &c->messages_found);
}

/**
 * config_lab_finish:
 * @l: the loader, after the last entry of a lab file
 */
void
config_lab_finish(ConfigLoader *l)
{
  config_lab_server(l);
  config_lab_defaults(l);
}

/* ---- the INI format's keys, by their names ---- */

/**
 * config_ini_entry:
 * @l: the loader
 * @section: "campaign" or "smtp"
 * @key: the key as written
 * @value: its value
 *
 * Returns: %FALSE when @key is not a key of @section
 */
gboolean
config_ini_entry(ConfigLoader *l, const char *section, const char *key, const char *value)
{
  static const struct {
    const char *section, *name;
    ConfigKey key;
  } keys[] = {
    { "campaign", "victims", CONFIG_KEY_VICTIMS },
    { "campaign", "messages", CONFIG_KEY_MESSAGES },
    { "campaign", "messages-format", CONFIG_KEY_MESSAGES_FORMAT },
    { "campaign", "groups", CONFIG_KEY_GROUPS },
    { "campaign", "group-size", CONFIG_KEY_GROUP_SIZE },
    { "campaign", "witnesses", CONFIG_KEY_WITNESSES },
    { "campaign", "bcc-witnesses", CONFIG_KEY_BCC },
    { "campaign", "seed", CONFIG_KEY_SEED },
    { "smtp", "via", CONFIG_KEY_VIA },
    { "smtp", "helo", CONFIG_KEY_HELO },
    { "smtp", "user", CONFIG_KEY_USER },
    { "smtp", "password-command", CONFIG_KEY_PASSWORD_COMMAND },
    { "smtp", "tls-ca", CONFIG_KEY_TLS_CA },
  };
  g_autofree char *where = g_strdup_printf("[%s] %s", section, key);

  for (gsize i = 0; i < G_N_ELEMENTS(keys); i++)
    if (strcmp(section, keys[i].section) == 0 && strcmp(key, keys[i].name) == 0) {
      l->used++;
      config_set_value(l, keys[i].key, key, value, where, 0);
      return TRUE;
    }
  return FALSE;
}
