/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for the lab's configuration files: the java.util.Properties syntax
 * (a y_/n_ corpus under tests/data/campaign/properties, each NAME.properties
 * beside NAME.expect: "LINE<TAB>KEY<TAB>VALUE" per entry, C escapes in the
 * value, and "problem: TEXT" per line that cannot be read), and the keys of
 * every edition with their near misses. */
#include <string.h>

#include <farceur/farceur.h>

#include "campaign-private.h"
#include "test-corpus.h"

static char *
corpus_path(const char *name)
{
  return g_test_build_filename(G_TEST_DIST, "data", "campaign", "properties", name, NULL);
}

static void
check_entries(GPtrArray *entries, GPtrArray *problems, char **expect)
{
  guint e = 0, p = 0;

  for (guint i = 0; expect[i] != NULL; i++) {
    g_auto(GStrv) fields = NULL;
    const ConfigEntry *entry;
    g_autofree char *value = NULL;
    if (expect[i][0] == '\0')
      continue;
    if (g_str_has_prefix(expect[i], "problem: ")) {
      g_assert_cmpuint(p, <, problems->len);
      g_test_message("problem: %s", (char *)problems->pdata[p]);
      g_assert_true(g_str_has_prefix(problems->pdata[p++], expect[i] + strlen("problem: ")));
      continue;
    }
    fields = g_strsplit(expect[i], "\t", 3);
    g_assert_cmpuint(e, <, entries->len);
    entry = entries->pdata[e++];
    value = g_strcompress(fields[2]);
    g_test_message("line %u: '%s' = '%s'", entry->line, entry->key, entry->value);
    g_assert_cmpuint(entry->line, ==, atoi(fields[0]));
    g_assert_cmpstr(entry->key, ==, fields[1]);
    g_assert_cmpstr(entry->value, ==, value);
  }
  g_assert_cmpuint(e, ==, entries->len);
  g_assert_cmpuint(p, ==, problems->len);
}

static void
test_corpus_file(gconstpointer data)
{
  const char *name = data;
  g_autofree char *path = corpus_path(name);
  g_autofree char *stem = g_strndup(name, strlen(name) - strlen(".properties"));
  g_autofree char *expect_name = g_strconcat(stem, ".expect", NULL);
  g_autofree char *expect_path = corpus_path(expect_name);
  g_autofree char *bytes = NULL, *expect = NULL, *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) entries = NULL;
  gsize length;

  g_assert_true(g_file_get_contents(path, &bytes, &length, NULL));
  g_assert_true(g_file_get_contents(expect_path, &expect, NULL, NULL));
  text = farceur_read_file_decode(NULL, "config", path, bytes, length, TRUE, FARCEUR_ERROR_CONFIG,
                                  NULL);
  g_assert_nonnull(text);
  entries = config_properties_parse(text, problems);
  lines = g_strsplit(expect, "\n", -1);
  check_entries(entries, problems, lines);
  g_assert_true(name[0] == 'y' ? problems->len == 0 : problems->len > 0);
}

/* The spellings of every edition, the near misses read with a warning,
 * the keys farceur has no use for, and the unknown ones. */
static void
test_keys(void)
{
  static const struct {
    const char *spelling;
    ConfigKey key;
    const char *meant; /* a near miss: the known spelling */
  } cases[] = {
    { "smtpServerAddress", CONFIG_KEY_HOST, NULL },
    { "SmtpServerAddress", CONFIG_KEY_HOST, NULL },
    { "smtpserveraddress", CONFIG_KEY_HOST, NULL },
    { "serverhost", CONFIG_KEY_HOST, NULL },
    { "SMTP_DEFAULT_SERVER", CONFIG_KEY_HOST, NULL },
    { "app.server.ip", CONFIG_KEY_HOST, NULL },
    { "smtpServerAdress", CONFIG_KEY_HOST, "smtpServerAddress" },
    { "stmpServerAddress", CONFIG_KEY_HOST, "smtpServerAddress" },
    { "smtpAdressOfServer", CONFIG_KEY_HOST, "smtpAddressOfServer" },
    { "serverport", CONFIG_KEY_PORT, NULL },
    { "smtpPortNumber", CONFIG_KEY_PORT, NULL },
    { "nbgroups", CONFIG_KEY_GROUPS, NULL },
    { "groupcount", CONFIG_KEY_GROUPS, NULL },
    { "NUMBER_OF_GROUPS", CONFIG_KEY_GROUPS, NULL },
    { "numberOfGroup", CONFIG_KEY_GROUPS, NULL },
    { "numberOfGorups", CONFIG_KEY_GROUPS, "numberOfGroups" },
    { "numberOfPeopleByGroup", CONFIG_KEY_GROUP_SIZE, NULL },
    { "groupSize", CONFIG_KEY_GROUP_SIZE, NULL },
    { "witness", CONFIG_KEY_WITNESSES, NULL },
    { "witnessToCC", CONFIG_KEY_WITNESSES, NULL },
    { "witnessestoCC", CONFIG_KEY_WITNESSES, NULL },
    { "WitnessToCC", CONFIG_KEY_WITNESSES, NULL },
    { "witnesessToCC", CONFIG_KEY_WITNESSES, "witnessesToCC" },
    { "personToCC", CONFIG_KEY_WITNESSES, NULL },
    { "MAIL_BCC", CONFIG_KEY_BCC, NULL },
    { "EMAILS_FILEPATH", CONFIG_KEY_VICTIMS, NULL },
    { "victimsListPath", CONFIG_KEY_VICTIMS, NULL },
    { "PRANKS_FILEPATH", CONFIG_KEY_MESSAGES, NULL },
    { "msgDelim", CONFIG_KEY_SEPARATOR, NULL },
    { "myLocalhostName", CONFIG_KEY_HELO, NULL },
    { "thresholdPerGroup", CONFIG_KEY_IGNORED, NULL },
    { "subject", CONFIG_KEY_IGNORED, NULL },
    { "numberOfWitnesses", CONFIG_KEY_UNKNOWN, NULL },
    { "-", CONFIG_KEY_UNKNOWN, NULL },
    { "post", CONFIG_KEY_UNKNOWN, NULL }, /* one edit from port and from host */
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    ConfigKeyMatch m;
    config_key_match(cases[i].spelling, &m);
    g_test_message("%s -> %d (%s, meant %s)", cases[i].spelling, m.key, m.canonical, m.meant);
    g_assert_cmpint(m.key, ==, cases[i].key);
    g_assert_cmpstr(m.meant, ==, cases[i].meant);
  }
}

static void
test_suggest_distance(void)
{
  g_assert_cmpuint(farceur_suggest_distance("smtpServerAddress", "smtpServerAddress"), ==, 0);
  g_assert_cmpuint(farceur_suggest_distance("smtpServerAdress", "smtpServerAddress"), ==, 1);
  g_assert_cmpuint(farceur_suggest_distance("stmp", "smtp"), ==, 1); /* a transposition */
  g_assert_cmpuint(farceur_suggest_distance("--vicitms", "--victims"), ==, 1);
  g_assert_cmpuint(farceur_suggest_distance("ABC", "abc"), ==, 0);
  g_assert_cmpuint(farceur_suggest_distance("", "abc"), ==, 3);
  {
    const char *names[] = { "--victims", "--via", "--var", NULL };
    gboolean ambiguous = TRUE;
    g_assert_cmpstr(farceur_suggest_closest("--vicitms", names, &ambiguous), ==, "--victims");
    g_assert_false(ambiguous);
    g_assert_null(farceur_suggest_closest("--zzzzzz", names, NULL));
  }
}

static gboolean
is_properties(const char *name)
{
  return g_str_has_suffix(name, ".properties");
}

int
main(int argc, char **argv)
{
  g_autoptr(GPtrArray) names = NULL;

  g_test_init(&argc, &argv, NULL);
  farceur_init();
  names = test_corpus_add("campaign/properties", "/properties/corpus", is_properties,
                          test_corpus_file);
  g_test_add_func("/properties/keys", test_keys);
  g_test_add_func("/properties/suggest-distance", test_suggest_distance);
  return g_test_run();
}
