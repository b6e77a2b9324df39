/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for campaigns: configuration files (INI and the lab's properties),
 * group-size and seed parsing, the seeded plan's properties, delivery
 * through the batch, and the same octets from the same seed and files. */
#include <string.h>
#include <unistd.h>
#include <utime.h>

#include <glib/gstdio.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"
#include "campaign-private.h"

/* ---- configuration ---- */

static FarceurCampaignConfig *
load_config(const char *text, const char *path, GError **error)
{
  FarceurCampaignConfig *config = farceur_campaign_config_new();

  if (!farceur_campaign_config_load_data(config, text, -1, path, error)) {
    farceur_campaign_config_free(config);
    return NULL;
  }
  return config;
}

static void
test_config_ini(void)
{
  static const char ini[] = "# a prank campaign\n"
                            "[campaign]\n"
                            "victims = victims.csv\n"
                            "messages = /usr/share/farceur/templates\n"
                            "groups = 4\n"
                            "group-size = 2-5\n"
                            "witnesses = Prof <prof@example.edu>, \"Doe, J\" <j@example.edu>\n"
                            "bcc-witnesses = archive@example.edu\n"
                            "seed = 4294967295\n"
                            "[smtp]\n"
                            "via = maildir:out\n"
                            "helo = lab.example\n"
                            "user = bob\n"
                            "password-command = pass show lab\n"
                            "tls-ca = ca.pem\n"
                            "[vars]\n"
                            "team = Les Farceurs\n"
                            "prize = 1 000 000 €\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurCampaignConfig) c = load_config(ini, "/etc/lab/farceur.conf", &error);

  g_assert_no_error(error);
  g_assert_cmpstr(c->file, ==, "/etc/lab/farceur.conf");
  g_assert_cmpstr(c->victims, ==, "/etc/lab/victims.csv");
  g_assert_cmpstr(c->messages, ==, "/usr/share/farceur/templates");
  g_assert_cmpuint(c->groups, ==, 4);
  g_assert_cmpuint(c->group_min, ==, 2);
  g_assert_cmpuint(c->group_max, ==, 5);
  g_assert_cmpuint(c->witnesses->len, ==, 2);
  g_assert_cmpstr(c->witnesses->pdata[0], ==, "Prof <prof@example.edu>");
  g_assert_cmpstr(c->witnesses->pdata[1], ==, "\"Doe, J\" <j@example.edu>");
  g_assert_cmpuint(c->bcc_witnesses->len, ==, 1);
  g_assert_true(c->has_seed);
  g_assert_cmpuint(c->seed, ==, 4294967295u);
  g_assert_cmpstr(c->via, ==, "maildir:/etc/lab/out");
  g_assert_cmpstr(c->helo, ==, "lab.example");
  g_assert_cmpstr(c->user, ==, "bob");
  g_assert_cmpstr(c->password_command, ==, "pass show lab");
  g_assert_cmpstr(c->tls_ca, ==, "/etc/lab/ca.pem");
  g_assert_cmpstr(g_hash_table_lookup(c->vars, "team"), ==, "Les Farceurs");
  g_assert_cmpstr(g_hash_table_lookup(c->vars, "prize"), ==, "1 000 000 €");
}

static void
test_config_via_kept(void)
{
  g_autoptr(FarceurCampaignConfig) a
      = load_config("[smtp]\nvia = smtp://localhost:2525\n", "x/farceur.conf", NULL);
  g_autoptr(FarceurCampaignConfig) b
      = load_config("[smtp]\nvia = mbox:/tmp/p.mbox\n", "x/farceur.conf", NULL);

  g_assert_cmpstr(a->via, ==, "smtp://localhost:2525");
  g_assert_cmpstr(b->via, ==, "mbox:/tmp/p.mbox");
  g_assert_false(a->has_seed);
}

static void
test_config_properties(void)
{
  static const char props[] = "# the course lab's config.properties\n"
                              "smtpServerAddress=localhost\n"
                              "smtpServerPort = 2525\n"
                              "numberOfGroups=3\n"
                              "! Java comment style\n"
                              "witnessesToCC=teacher@heig-vd.example,assistant@heig-vd.example\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurCampaignConfig) c = load_config(props, "/nowhere/config.properties", &error);

  g_assert_no_error(error);
  g_assert_cmpstr(c->via, ==, "smtp://localhost:2525");
  g_assert_cmpuint(c->groups, ==, 3);
  g_assert_cmpuint(c->witnesses->len, ==, 2);
  g_assert_cmpstr(c->witnesses->pdata[1], ==, "assistant@heig-vd.example");
  g_assert_null(c->victims);
}

static void
test_config_properties_ipv6_and_lab_files(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("farceur-config-XXXXXX", NULL);
  g_autofree char *props = g_build_filename(dir, "config.properties", NULL);
  g_autofree char *victims = g_build_filename(dir, "victims.utf8", NULL);
  g_autoptr(FarceurCampaignConfig) c = farceur_campaign_config_new();

  g_assert_true(g_file_set_contents(props, "smtpServerAddress: ::1\n", -1, NULL));
  g_assert_true(g_file_set_contents(victims, "a@example.org\n", -1, NULL));
  g_assert_true(farceur_campaign_config_load(c, props, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(c->via, ==, "smtp://[::1]:25");
  g_assert_cmpstr(c->victims, ==, victims);
  g_assert_null(c->messages);
  g_unlink(props);
  g_unlink(victims);
  g_rmdir(dir);
}

/* The lab's files as students wrote them: their spellings, host:port,
 * quotes Java kept, witnesses separated by ';' or blanks, an unknown key:
 * each read as meant, each with a warning naming its line. */
static void
test_config_lab_keys(void)
{
  static const char props[] = "\xef\xbb\xbfstmpServerAddress = \"localhost:2526\"\n"
                              "smtpServerPort : 25\n"
                              "nbGroups 4\n"
                              "numberOfPeopleByGroup=3\n"
                              "witnessestoCC=a@example.org;b@example.org, \\\n"
                              "    T\\u00e9moin <c@example.org>\n"
                              "MAIL_BCC=d@example.org e@example.org\n"
                              "msgDelim===\n"
                              "subject=ignored\n"
                              "colour=blue\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurCampaignConfig) c = farceur_campaign_config_new();
  g_autoptr(FarceurReadFile) note = farceur_read_file_new("config", "/lab/config.properties");
  g_autoptr(GString) warnings = g_string_new(NULL);

  g_assert_true(farceur_campaign_config_read_data(c, props, strlen(props), "/lab/config.properties",
                                                  note, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(c->via, ==, "smtp://localhost:2526");
  g_assert_cmpuint(c->groups, ==, 4);
  g_assert_true(c->groups_from_file);
  g_assert_cmpuint(c->group_size, ==, 3);
  g_assert_cmpuint(c->witnesses->len, ==, 3);
  g_assert_cmpstr(c->witnesses->pdata[2], ==, "Témoin <c@example.org>");
  g_assert_cmpuint(c->bcc_witnesses->len, ==, 2);
  g_assert_cmpstr(c->messages_format.separator, ==, "==");
  g_assert_cmpstr(note->encoding, ==, "UTF-8 with BOM");
  for (guint i = 0; i < note->warnings->len; i++) {
    const FarceurReadNote *w = note->warnings->pdata[i];
    g_string_append_printf(warnings, "line %u: %s\n", w->line, w->text);
  }
  for (guint i = 0; i < note->skipped->len; i++) {
    const FarceurReadNote *w = note->skipped->pdata[i];
    g_string_append_printf(warnings, "skipped line %u: %s\n", w->line, w->text);
  }
  g_test_message("%s", warnings->str);
  g_assert_nonnull(strstr(warnings->str, "line 1: 'stmpServerAddress' read as 'smtpServerAddress' "
                                         "(did you mean 'smtpServerAddress'?)"));
  g_assert_nonnull(strstr(warnings->str, "line 1: 'stmpServerAddress': the quotes around "));
  g_assert_nonnull(strstr(warnings->str, "line 1: the port written with the address (2526) wins"));
  g_assert_nonnull(strstr(warnings->str, "skipped line 9: 'subject' ignored: "));
  g_assert_nonnull(strstr(warnings->str, "skipped line 10: unknown key 'colour' ignored"));
  g_assert_nonnull(strstr(note->summary, "server localhost:2526, 4 groups, 3 people per group"));
  g_assert_nonnull(strstr(note->summary, "ignored keys: subject, colour"));
}

/* A config naming files: found where the student's program looked (the
 * project folder above the config, a leading '/' glued to it). */
static void
test_config_lab_paths(void)
{
  g_autofree char *dir = g_dir_make_tmp("farceur-lab-XXXXXX", NULL);
  g_autofree char *configs = g_build_filename(dir, "configs", NULL);
  g_autofree char *assets = g_build_filename(dir, "assets", NULL);
  g_autofree char *props = g_build_filename(configs, "config.properties", NULL);
  g_autofree char *victims = g_build_filename(assets, "emails.utf8", NULL);
  g_autoptr(FarceurCampaignConfig) c = farceur_campaign_config_new();
  g_autoptr(GError) error = NULL;

  g_assert_cmpint(g_mkdir(configs, 0700), ==, 0);
  g_assert_cmpint(g_mkdir(assets, 0700), ==, 0);
  g_assert_true(g_file_set_contents(victims, "a@example.org\n", -1, NULL));
  g_assert_true(g_file_set_contents(props, "EMAILS_FILEPATH=/assets/emails.utf8\n", -1, NULL));
  g_assert_true(farceur_campaign_config_load(c, props, &error));
  g_assert_cmpstr(c->victims, ==, victims);
  g_assert_cmpstr(c->victims_found, ==,
                  "config key 'EMAILS_FILEPATH' (line 1), found in the folder above it");
  g_unlink(victims);
  g_unlink(props);
  g_rmdir(assets);
  g_rmdir(configs);
  g_rmdir(dir);
}

static void
test_config_errors(void)
{
  static const struct {
    const char *text, *message;
  } cases[] = {
    { "[campaign]\ngrups = 4\n", "config 'f.conf' [campaign] grups: unknown key" },
    { "[smtp]\nvictims = v.txt\n", "[smtp] victims: unknown key" },
    { "[campain]\n", "[campain]: unknown section" },
    { "[campaign]\ngroups = zero\n", "[campaign] groups: expected a positive number" },
    { "[campaign]\ngroups = 0\n", "expected a positive number" },
    { "[campaign]\ngroup-size = 1\n", "group-size: group size '1': expected MIN or MIN-MAX" },
    { "[campaign]\ngroup-size = 5-3\n", "expected MIN or MIN-MAX" },
    { "[campaign]\ngroup-size = 2-3-4\n", "expected MIN or MIN-MAX" },
    { "[campaign]\nseed = -1\n", "seed: seed '-1': expected a number" },
    { "[campaign]\nseed = 4294967296\n", "expected a number from 0 to 4294967295" },
    { "[campaign]\nwitnesses = Team: a@example.org;\n", "is a group, not an address" },
    { "[campaign]\nwitnesses = a@example.org b@example.org\n",
      "[campaign] witnesses: expected one address, 'addr' or 'Name <addr>', got 'a@example.org "
      "b@example.org'" },
    { "[campaign]\nbcc-witnesses = a@example.org,, b@example.org\n",
      "bcc-witnesses: expected one address, 'addr' or 'Name <addr>', got ''" },
    { "[campaign]\nthis is not ini\n", "config 'f.conf': " },
    { "smtpServerPort=25\n", "smtpServerPort without smtpServerAddress" },
    { "smtpServerAddress=h\nsmtpServerPort=99999\n", "expected a port from 1 to 65535" },
    { "numberOfGroups=zero\nsmtpServerAddress=a b\nwitnessesToCC=x@y, nope\n",
      "config 'f.conf' line 1 (numberOfGroups): expected a positive number, not 'zero' (write e.g. "
      "numberOfGroups=3); line 2 (smtpServerAddress): 'a b' is not a server name or address "
      "(write e.g. localhost, 127.0.0.1 or localhost:1025); line 3 (witnessesToCC): invalid "
      "address 'nope': no '@'" },
    { "smtpServerAddress=localhost:99999\n",
      "the port after ':' must be a number from 1 to 65535" },
    { "a=\\u00zz\n", "line 1: malformed \\uXXXX escape" },
    { "[campaign]\ngrups = 4\nvictim = v.txt\n",
      "[campaign] grups: unknown key (did you mean 'groups'?); [campaign] victim: unknown key "
      "(did you mean 'victims'?)" },
    { "[vars]\nteam = a\\nBcc: evil@example.org\n",
      "config 'f.conf' [vars] team: invalid value 'a\\nBcc: evil@example.org': control character "
      "0x0a" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(FarceurCampaignConfig) c = load_config(cases[i].text, "f.conf", &error);

    g_autofree char *shown = g_strescape(cases[i].text, NULL);

    g_test_message("%s -> %s", shown, error ? error->message : "(ok)");
    g_assert_null(c);
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CONFIG);
    g_assert_true(g_str_has_prefix(error->message, "config 'f.conf'"));
    g_assert_nonnull(strstr(error->message, cases[i].message));
  }
}

static void
test_config_missing(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurCampaignConfig) c = farceur_campaign_config_new();

  g_assert_false(farceur_campaign_config_load(c, "/nonexistent/farceur.conf", &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT);
}

/* --config, then ./farceur.conf, then $XDG_CONFIG_HOME/farceur/farceur.conf
 * (main() points XDG_CONFIG_HOME into a temporary folder). */
static void
test_config_search(void)
{
  g_autofree char *cwd = g_get_current_dir();
  g_autofree char *tmp = g_dir_make_tmp("farceur-search-XXXXXX", NULL);
  g_autofree char *xdg = g_build_filename(g_get_user_config_dir(), "farceur", NULL);
  g_autofree char *xdg_file = g_build_filename(xdg, "farceur.conf", NULL);
  g_autofree char *found = NULL;

  g_assert_cmpint(chdir(tmp), ==, 0);
  g_assert_null(farceur_campaign_config_find());
  g_assert_cmpint(g_mkdir_with_parents(xdg, 0700), ==, 0);
  g_assert_true(g_file_set_contents(xdg_file, "[campaign]\n", -1, NULL));
  found = farceur_campaign_config_find();
  g_assert_cmpstr(found, ==, xdg_file);
  g_clear_pointer(&found, g_free);
  g_assert_true(g_file_set_contents("farceur.conf", "[campaign]\n", -1, NULL));
  found = farceur_campaign_config_find();
  g_assert_cmpstr(found, ==, "farceur.conf");
  g_unlink("farceur.conf");
  g_unlink(xdg_file);
  g_assert_cmpint(chdir(cwd), ==, 0);
  g_rmdir(tmp);
}

static void
test_group_size(void)
{
  guint min = 0, max = 0;

  g_assert_true(farceur_campaign_parse_group_size("3", &min, &max, NULL));
  g_assert_cmpuint(min, ==, 3);
  g_assert_cmpuint(max, ==, 0);
  g_assert_true(farceur_campaign_parse_group_size("2-5", &min, &max, NULL));
  g_assert_cmpuint(min, ==, 2);
  g_assert_cmpuint(max, ==, 5);
  g_assert_true(farceur_campaign_parse_group_size("4-4", &min, &max, NULL));
  g_assert_false(farceur_campaign_parse_group_size("", &min, &max, NULL));
  g_assert_false(farceur_campaign_parse_group_size("3-", &min, &max, NULL));
  g_assert_false(farceur_campaign_parse_group_size("-3", &min, &max, NULL));
  g_assert_false(farceur_campaign_parse_group_size("x", &min, &max, NULL));
}

/* ---- the plan ---- */

static void
check_plan(const FarceurCampaignPlan *plan, guint n_victims, guint n_groups, guint min, guint max,
           guint n_templates)
{
  g_autofree guint *seen = g_new0(guint, n_victims);
  g_autofree guint *uses = g_new0(guint, n_templates);
  guint smallest = G_MAXUINT, largest = 0;

  g_assert_cmpuint(plan->groups->len, ==, n_groups);
  g_assert_cmpuint(plan->templates->len, ==, n_groups);
  for (guint g = 0; g < plan->groups->len; g++) {
    GArray *group = plan->groups->pdata[g];
    guint t = g_array_index(plan->templates, guint, g);
    smallest = MIN(smallest, group->len);
    largest = MAX(largest, group->len);
    for (guint i = 0; i < group->len; i++)
      seen[g_array_index(group, guint, i)]++;
    g_assert_cmpuint(t, <, n_templates);
    uses[t]++;
    /* rotation: no template is used k+1 times before every one is used k times */
    for (guint u = 0; u < n_templates; u++)
      g_assert_cmpuint(uses[t], <=, uses[u] + 1);
  }
  for (guint v = 0; v < n_victims; v++)
    g_assert_cmpuint(seen[v], ==, 1); /* every victim in exactly one group */
  g_assert_cmpuint(smallest, >=, min);
  if (max)
    g_assert_cmpuint(largest, <=, max);
  g_assert_cmpuint(largest - smallest, <=, 1); /* as even as possible */
}

static gboolean
plans_equal(const FarceurCampaignPlan *a, const FarceurCampaignPlan *b)
{
  if (a->groups->len != b->groups->len)
    return FALSE;
  for (guint g = 0; g < a->groups->len; g++) {
    GArray *x = a->groups->pdata[g], *y = b->groups->pdata[g];
    if (x->len != y->len || memcmp(x->data, y->data, x->len * sizeof(guint)) != 0
        || g_array_index(a->templates, guint, g) != g_array_index(b->templates, guint, g))
      return FALSE;
  }
  return TRUE;
}

static void
test_plan_properties(void)
{
  static const struct {
    guint victims, groups, min, max, templates, want_groups;
  } cases[] = {
    { 3, 0, 0, 0, 1, 1 },   { 13, 0, 3, 0, 6, 4 },     { 13, 2, 3, 0, 6, 2 },
    { 12, 4, 3, 3, 2, 4 },  { 20, 0, 2, 5, 7, 10 },    { 20, 4, 2, 5, 3, 4 },
    { 100, 7, 3, 0, 6, 7 }, { 1000, 0, 3, 4, 6, 333 }, { 7, 1, 2, 0, 9, 1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
    for (guint32 seed = 0; seed < 50; seed++) {
      g_autoptr(GError) error = NULL;
      g_autoptr(FarceurCampaignPlan) plan
          = farceur_campaign_plan_new(cases[i].victims, cases[i].groups, cases[i].min, cases[i].max,
                                      cases[i].templates, seed, &error);
      g_assert_no_error(error);
      g_assert_cmpuint(plan->seed, ==, seed);
      check_plan(plan, cases[i].victims, cases[i].want_groups, cases[i].min ? cases[i].min : 3,
                 cases[i].max, cases[i].templates);
    }
}

static void
test_plan_seeds(void)
{
  g_autoptr(FarceurCampaignPlan) a = farceur_campaign_plan_new(30, 0, 3, 0, 6, 42, NULL);
  g_autoptr(FarceurCampaignPlan) b = farceur_campaign_plan_new(30, 0, 3, 0, 6, 42, NULL);
  guint differ = 0;

  g_assert_true(plans_equal(a, b)); /* same seed, same plan */
  for (guint32 seed = 0; seed < 20; seed++) {
    g_autoptr(FarceurCampaignPlan) c = farceur_campaign_plan_new(30, 0, 3, 0, 6, seed, NULL);
    if (seed != 42 && !plans_equal(a, c))
      differ++;
  }
  g_assert_cmpuint(differ, ==, 20); /* every other seed gives another plan */
}

static void
test_plan_errors(void)
{
  static const struct {
    guint victims, groups, min, max;
    const char *message;
  } cases[] = {
    { 2, 0, 0, 0, "not enough victims: 1 group of at least 3 needs 3 victims, there are 2" },
    { 0, 0, 0, 0, "there are 0" },
    { 1, 0, 2, 0, "there is 1" },
    { 14, 5, 3, 0, "not enough victims: 5 groups of at least 3 need 15 victims, there are 14" },
    { 9, 5, 2, 5, "not enough victims: 5 groups of at least 2 need 10 victims, there are 9" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(FarceurCampaignPlan) plan = farceur_campaign_plan_new(
        cases[i].victims, cases[i].groups, cases[i].min, cases[i].max, 3, 1, &error);
    g_test_message("%s", error ? error->message : "(ok)");
    g_assert_null(plan);
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
    g_assert_nonnull(strstr(error->message, cases[i].message));
  }
}

/* The DAI rule: N groups of MIN-MAX picked from a larger list, the rest
 * unused; each victim in at most one group; the same seed, the same plan. */
static void
test_plan_picked(void)
{
  static const struct {
    guint victims, groups, min, max;
  } cases[] = {
    { 13, 2, 2, 5 }, { 20, 3, 2, 5 }, { 7, 2, 3, 3 }, { 10, 2, 4, 4 }, { 13, 0, 3, 3 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
    for (guint32 seed = 0; seed < 50; seed++) {
      g_autoptr(FarceurCampaignPlan) plan = farceur_campaign_plan_new(
          cases[i].victims, cases[i].groups, cases[i].min, cases[i].max, 3, seed, NULL);
      g_autoptr(FarceurCampaignPlan) again = farceur_campaign_plan_new(
          cases[i].victims, cases[i].groups, cases[i].min, cases[i].max, 3, seed, NULL);
      g_autofree guint *seen = g_new0(guint, cases[i].victims);
      guint used = 0;

      g_assert_true(plan->picked);
      g_assert_cmpuint(plan->groups->len, ==,
                       cases[i].groups ? cases[i].groups : cases[i].victims / cases[i].min);
      for (guint g = 0; g < plan->groups->len; g++) {
        GArray *group = plan->groups->pdata[g];
        g_assert_cmpuint(group->len, >=, cases[i].min);
        g_assert_cmpuint(group->len, <=, cases[i].max);
        for (guint k = 0; k < group->len; k++, used++)
          seen[g_array_index(group, guint, k)]++;
      }
      for (guint k = 0; k < plan->unused->len; k++)
        seen[g_array_index(plan->unused, guint, k)]++;
      for (guint v = 0; v < cases[i].victims; v++)
        g_assert_cmpuint(seen[v], ==, 1); /* in one group, or unused */
      g_assert_cmpuint(used + plan->unused->len, ==, cases[i].victims);
      g_assert_true(plans_equal(plan, again));
      g_assert_cmpmem(plan->unused->data, plan->unused->len * sizeof(guint), again->unused->data,
                      again->unused->len * sizeof(guint));
    }
}

/* What a configuration asks for: people per group, a group count from a
 * file that the victims cannot fill (softened, with a warning), the same
 * count on the command line (an error). */
static void
test_plan_for_config(void)
{
  static const struct {
    guint victims, groups, group_size;
    gboolean from_file;
    const char *sizes; /* NULL: an error */
    const char *warning;
  } cases[] = {
    { 11, 0, 4, TRUE, "4 4 3", NULL },
    { 9, 3, 3, TRUE, "3 3 3", NULL },
    { 10, 2, 4, TRUE, "4 4", NULL },
    { 10, 3, 4, TRUE, "4 3 3", "3 groups of 4 need 12 victims, there are 10" },
    { 6, 3, 0, TRUE, "2 2 2", "6 victims cannot make 3 groups of at least 3" },
    { 3, 2, 0, TRUE, "3", "3 victims cannot make the 2 groups asked for: making 1" },
    { 6, 3, 0, FALSE, NULL, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(FarceurCampaignConfig) c = farceur_campaign_config_new();
    g_autoptr(FarceurReadFile) note = farceur_read_file_new("config", "c.properties");
    g_autoptr(GError) error = NULL;
    g_autoptr(FarceurCampaignPlan) plan = NULL;
    g_autoptr(GString) sizes = g_string_new(NULL);

    c->groups = cases[i].groups;
    c->group_size = cases[i].group_size;
    c->groups_from_file = cases[i].from_file;
    plan = campaign_plan_for(c, cases[i].victims, 2, 1, note, &error);
    if (cases[i].sizes == NULL) {
      g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
      continue;
    }
    g_assert_no_error(error);
    for (guint g = 0; g < plan->groups->len; g++)
      g_string_append_printf(sizes, "%s%u", g ? " " : "", ((GArray *)plan->groups->pdata[g])->len);
    g_assert_cmpstr(sizes->str, ==, cases[i].sizes);
    if (cases[i].warning == NULL)
      g_assert_cmpuint(note->warnings->len, ==, 0);
    else
      g_assert_nonnull(
          strstr(((FarceurReadNote *)note->warnings->pdata[0])->text, cases[i].warning));
  }
}

/* ---- the campaign, end to end ---- */

static void
rm_rf(const char *path)
{
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", path);

  g_assert_cmpint(system(cmd), ==, 0);
}

static char *
write_file(const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename(dir, name, NULL);

  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

static char *
make_victims(const char *dir, guint n)
{
  g_autoptr(GString) text = g_string_new("# victims\n");

  for (guint i = 1; i <= n; i++)
    g_string_append_printf(text, "Victim %u <v%u@example.org>\n", i, i);
  return write_file(dir, "victims.txt", text->str);
}

static FarceurCampaignConfig *
make_config(const char *dir, const char *victims, const char *messages)
{
  FarceurCampaignConfig *config = farceur_campaign_config_new();

  config->victims = g_strdup(victims);
  config->messages = g_strdup(messages);
  config->has_seed = TRUE;
  config->seed = 7;
  g_ptr_array_add(config->witnesses, g_strdup("Prof <prof@example.edu>"));
  g_ptr_array_add(config->bcc_witnesses, g_strdup("archive@example.edu"));
  g_hash_table_replace(config->vars, g_strdup("course"), g_strdup("Réseaux"));
  return config;
}

static GMimeMessage *
read_message(const char *path)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_file_open(path, "r", NULL);
  g_autoptr(GMimeParser) parser = NULL;

  g_assert_nonnull(stream);
  parser = g_mime_parser_new_with_stream(stream);
  return g_mime_parser_construct_message(parser, NULL);
}

static gboolean
list_has(InternetAddressList *list, const char *addr)
{
  for (int i = 0; i < internet_address_list_length(list); i++) {
    InternetAddress *ia = internet_address_list_get_address(list, i);
    if (strcmp(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)), addr) == 0)
      return TRUE;
  }
  return FALSE;
}

static void
check_stored(const FarceurPrankGroup *group, const FarceurPrankMessage *m)
{
  g_autoptr(GMimeMessage) stored = read_message(m->delivery->location);
  g_autofree char *return_path = g_strdup_printf("<%s>", group->sender->addr);

  g_assert_nonnull(stored);
  g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(stored), "Return-Path"), ==, return_path);
  g_assert_nonnull(
      strstr(g_mime_object_get_header(GMIME_OBJECT(stored), "Envelope-to"), "archive@example.edu"));
  g_assert_null(g_mime_object_get_header(GMIME_OBJECT(stored), "Bcc"));
  g_assert_true(list_has(g_mime_message_get_from(stored), group->sender->addr));
  g_assert_true(
      list_has(g_mime_message_get_addresses(stored, GMIME_ADDRESS_TYPE_CC), "prof@example.edu"));
  g_assert_cmpstr(g_mime_message_get_subject(stored), ==, m->subject);
}

typedef struct {
  FarceurCampaign *campaign;
  guint results;
  GPtrArray *settled; /* groups, in the order they settled */
} RunData;

static void
run_result_cb(const FarceurBatchResult *result, gpointer user_data)
{
  RunData *run = user_data;
  FarceurPrankGroup *group = farceur_campaign_take_result(run->campaign, result);

  run->results++;
  if (group != NULL)
    g_ptr_array_add(run->settled, group);
}

static FarceurTarget *
run_open_target(gpointer user_data, GError **error)
{
  return farceur_target_new(user_data, error);
}

/* The campaign's messages through a batch to @url, every group settled. */
static void
run_batch_full(FarceurCampaign *campaign, const char *url, GCancellable *cancellable)
{
  g_autoptr(GPtrArray) settled = g_ptr_array_new();
  RunData run = { campaign, 0, settled };
  FarceurBatchOptions options;
  g_autoptr(FarceurBatch) batch = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *groups = farceur_campaign_get_groups(campaign);
  guint n = 0;

  farceur_batch_options_init(&options);
  options.connections = 1;
  batch = farceur_batch_new(&options);
  g_assert_true(farceur_campaign_fill_batch(campaign, batch, &error));
  g_assert_no_error(error);
  for (guint g = 0; g < groups->len; g++)
    n += ((FarceurPrankGroup *)groups->pdata[g])->messages->len;
  g_assert_cmpuint(farceur_batch_get_count(batch), ==, n);
  farceur_batch_set_result_func(batch, run_result_cb, &run);
  g_assert_true(farceur_batch_run(batch, run_open_target, (gpointer)url, cancellable, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(run.results, ==, n);
  g_assert_cmpuint(settled->len, ==, groups->len); /* each group once, when its last message is */
  for (guint g = 0; g < groups->len; g++)
    g_assert_true(farceur_prank_group_is_settled(groups->pdata[g]));
}

static void
run_batch(FarceurCampaign *campaign, const char *url)
{
  run_batch_full(campaign, url, NULL);
}

static void
test_run_maildir(void)
{
  g_autofree char *dir = g_dir_make_tmp("farceur-run-XXXXXX", NULL);
  g_autofree char *victims = make_victims(dir, 10);
  g_autofree char *tdir = g_build_filename(dir, "templates", NULL);
  g_autofree char *t1 = NULL, *t2 = NULL, *box = g_build_filename(dir, "box", NULL);
  g_autofree char *url = g_strconcat("maildir:", box, NULL);
  g_autoptr(FarceurCampaignConfig) config = NULL;
  g_autoptr(FarceurCampaign) campaign = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *groups;
  guint personal = 0, shared = 0, seen = 0;

  g_assert_cmpint(g_mkdir(tdir, 0700), ==, 0);
  t1 = write_file(tdir, "a.tmpl",
                  "Subject: group {{group.index}} of {{course}}\n\n"
                  "Hi {{recipients.names}}, from {{sender.first_name}}\n");
  t2 = write_file(tdir, "b.tmpl", "Subject: for you, {{recipient.first_name}}\n\nHello\n");
  config = make_config(dir, victims, tdir);
  campaign = farceur_campaign_prepare(config, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(farceur_campaign_get_seed(campaign), ==, 7);
  g_assert_cmpuint(farceur_campaign_get_n_victims(campaign), ==, 10);
  groups = farceur_campaign_get_groups(campaign);
  g_assert_cmpuint(groups->len, ==, 3); /* 10 victims / 3 */
  for (guint g = 0; g < groups->len; g++) {
    FarceurPrankGroup *group = groups->pdata[g];
    g_assert_cmpuint(group->index, ==, g + 1);
    seen += group->recipients->len + 1;
    if (group->per_recipient)
      personal++;
    else
      shared++;
    g_assert_cmpuint(group->messages->len, ==, group->per_recipient ? group->recipients->len : 1);
    for (guint i = 0; i < group->messages->len; i++) {
      FarceurPrankMessage *m = group->messages->pdata[i];
      g_assert_cmpstr(m->envelope->mail_from, ==, group->sender->addr);
      g_assert_false(m->from_mismatch);
      g_assert_true(m->from_forged);
      g_assert_cmpuint(m->envelope_only->len, ==, 1);
      g_assert_cmpstr(m->envelope_only->pdata[0], ==, "archive@example.edu");
      g_assert_cmpuint(m->header_only->len, ==, 0);
      g_assert_false(m->delivered);
      g_assert_false(m->settled);
      {
        g_autofree char *source = group->per_recipient
                                      ? g_strdup_printf("group %u#%u", group->index, i + 1)
                                      : g_strdup_printf("group %u", group->index);
        g_assert_cmpstr(m->source, ==, source);
      }
    }
  }
  run_batch(campaign, url);
  for (guint g = 0; g < groups->len; g++) {
    FarceurPrankGroup *group = groups->pdata[g];
    g_assert_true(farceur_prank_group_is_delivered(group));
    for (guint i = 0; i < group->messages->len; i++) {
      FarceurPrankMessage *m = group->messages->pdata[i];
      g_assert_true(m->delivered);
      g_assert_cmpint(m->state, ==, FARCEUR_BATCH_DELIVERED);
      g_assert_cmpuint(m->attempts, ==, 1);
      g_assert_null(m->error);
      g_assert_cmpuint(m->delivery->rcpts->len, ==, m->envelope->rcpt_to->len);
      check_stored(group, m);
    }
  }
  g_assert_cmpuint(seen, ==, 10);
  g_assert_cmpuint(personal, >=, 1);
  g_assert_cmpuint(shared, >=, 1);
  {
    g_autoptr(JsonNode) node = farceur_prank_group_to_json(campaign, groups->pdata[0]);
    g_autofree char *json = json_to_string(node, FALSE);
    g_assert_nonnull(strstr(json, "\"result\":\"delivered\""));
    g_assert_nonnull(strstr(json, "\"seed\":7"));
  }
  rm_rf(dir);
}

/* A template that sets From and To itself: the envelope stays the campaign's,
 * and the report says where the two disagree. */
static void
test_run_template_override(void)
{
  g_autofree char *dir = g_dir_make_tmp("farceur-run-XXXXXX", NULL);
  g_autofree char *victims = make_victims(dir, 3);
  g_autofree char *t = write_file(dir, "santa.tmpl",
                                  "From: Santa <santa@example.org>\n"
                                  "To: elves@example.org\n"
                                  "Subject: ho ho ho\n\nx\n");
  g_autoptr(FarceurCampaignConfig) config = make_config(dir, victims, t);
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurCampaign) campaign = farceur_campaign_prepare(config, &error);
  FarceurPrankGroup *group;
  FarceurPrankMessage *m;

  g_assert_no_error(error);
  group = farceur_campaign_get_groups(campaign)->pdata[0];
  m = group->messages->pdata[0];
  g_assert_true(m->from_mismatch);
  g_assert_false(m->from_forged); /* Santa is not the forged victim */
  {
    g_autoptr(JsonNode) node = farceur_prank_group_to_json(campaign, group);
    g_autofree char *json = json_to_string(node, FALSE);
    g_assert_nonnull(strstr(json, "\"flags\":[\"from-mismatch\","));
    g_assert_null(strstr(json, "forged-from"));
  }
  g_assert_cmpuint(m->header_only->len, ==, 1);
  g_assert_cmpstr(m->header_only->pdata[0], ==, "elves@example.org");
  g_assert_cmpuint(m->envelope_only->len, ==, 3); /* both recipients and the Bcc witness */
  {
    /* delivered with the campaign's envelope, not one read from the headers */
    g_autofree char *box = g_build_filename(dir, "box", NULL);
    g_autofree char *url = g_strconcat("maildir:", box, NULL);
    g_autofree char *return_path = g_strdup_printf("<%s>", group->sender->addr);
    g_autoptr(GMimeMessage) stored = NULL;
    const char *envelope_to;

    run_batch(campaign, url);
    stored = read_message(m->delivery->location);
    g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(stored), "Return-Path"), ==, return_path);
    envelope_to = g_mime_object_get_header(GMIME_OBJECT(stored), "Envelope-to");
    g_assert_null(strstr(envelope_to, "elves@example.org"));
    g_assert_null(strstr(envelope_to, "santa@example.org"));
    g_assert_nonnull(strstr(envelope_to, "archive@example.edu"));
    g_assert_cmpuint(m->delivery->rcpts->len, ==, 4); /* two victims, two witnesses */
  }
  rm_rf(dir);
}

/* A run cancelled (as a signal handler does) sends nothing more: every
 * message is settled as deferred, every recipient listed. */
static void
test_run_cancelled(void)
{
  g_autofree char *dir = g_dir_make_tmp("farceur-run-XXXXXX", NULL);
  g_autofree char *victims = make_victims(dir, 6);
  g_autofree char *t = write_file(dir, "a.tmpl", "Subject: hi\n\nx\n");
  g_autofree char *box = g_build_filename(dir, "box", NULL);
  g_autofree char *url = g_strconcat("maildir:", box, NULL);
  g_autofree char *newdir = g_build_filename(box, "new", NULL);
  g_autoptr(FarceurCampaignConfig) config = make_config(dir, victims, t);
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurCampaign) campaign = farceur_campaign_prepare(config, &error);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(GDir) folder = NULL;
  GPtrArray *groups;
  FarceurBatchResult stray = { 0 };

  g_assert_no_error(error);
  g_cancellable_cancel(cancellable);
  run_batch_full(campaign, url, cancellable);
  groups = farceur_campaign_get_groups(campaign);
  for (guint g = 0; g < groups->len; g++) {
    FarceurPrankGroup *group = groups->pdata[g];
    FarceurPrankMessage *m = group->messages->pdata[0];
    g_assert_false(farceur_prank_group_is_delivered(group));
    g_assert_cmpint(m->state, ==, FARCEUR_BATCH_DEFERRED);
    g_assert_false(m->delivered);
    g_assert_nonnull(m->error);
    g_assert_cmpuint(m->delivery->rcpts->len, ==, m->envelope->rcpt_to->len);
    g_assert_cmpint(((FarceurRcptOutcome *)m->delivery->rcpts->pdata[0])->status, ==,
                    FARCEUR_RCPT_DEFERRED);
  }
  folder = g_dir_open(newdir, 0, NULL);
  g_assert_true(folder == NULL || g_dir_read_name(folder) == NULL);
  /* a result the campaign does not know, or one it has, changes nothing */
  stray.source = "group 99";
  g_assert_null(farceur_campaign_take_result(campaign, &stray));
  stray.source = "group 1";
  stray.state = FARCEUR_BATCH_DELIVERED;
  g_assert_null(farceur_campaign_take_result(campaign, &stray));
  g_assert_cmpint(
      ((FarceurPrankMessage *)((FarceurPrankGroup *)groups->pdata[0])->messages->pdata[0])->state,
      ==, FARCEUR_BATCH_DEFERRED);
  rm_rf(dir);
}

/* The new entry points check their arguments, as tests/test-api.c does for
 * the others: a critical in the library's domain, the failure value. */
static void
test_run_preconditions(void)
{
  FarceurBatchOptions options;
  g_autoptr(FarceurBatch) batch = NULL;
  g_autoptr(GMimeMessage) message = g_mime_message_new(TRUE);
  g_autoptr(FarceurEnvelope) envelope = farceur_envelope_new("a@example.org");
  g_autoptr(GError) error = NULL;
  FarceurBatchResult result = { .source = "group 1" };

  farceur_batch_options_init(&options);
  batch = farceur_batch_new(&options);
  g_test_expect_message("farceur", G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
  g_assert_false(farceur_campaign_fill_batch(NULL, batch, &error));
  g_test_assert_expected_messages();
  g_test_expect_message("farceur", G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
  g_assert_null(farceur_campaign_take_result(NULL, &result));
  g_test_assert_expected_messages();
  g_test_expect_message("farceur", G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
  g_assert_false(farceur_batch_add_composed(batch, "x", message, NULL, &error));
  g_test_assert_expected_messages();
  g_test_expect_message("farceur", G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
  g_assert_null(farceur_campaign_parse_date(NULL, &error));
  g_test_assert_expected_messages();
  g_assert_no_error(error);
  /* an envelope without recipients is refused, naming the message */
  g_assert_false(farceur_batch_add_composed(batch, "group 1", message, envelope, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_true(g_str_has_prefix(error->message, "message 'group 1': "));
  g_assert_cmpuint(farceur_batch_get_count(batch), ==, 0);
}

/* ---- the same seed and files, the same octets ---- */

static GPtrArray *
campaign_octets(FarceurCampaign *campaign)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  GPtrArray *groups = farceur_campaign_get_groups(campaign);

  for (guint g = 0; g < groups->len; g++) {
    FarceurPrankGroup *group = groups->pdata[g];
    for (guint i = 0; i < group->messages->len; i++) {
      FarceurPrankMessage *m = group->messages->pdata[i];
      g_ptr_array_add(out, g_mime_object_to_string(GMIME_OBJECT(m->message), NULL));
    }
  }
  return out;
}

static void
set_mtime(const char *path, gint64 when)
{
  struct utimbuf times = { (time_t)when, (time_t)when };

  g_assert_cmpint(g_utime(path, &times), ==, 0);
}

static void
test_replay(void)
{
  g_autofree char *dir = g_dir_make_tmp("farceur-run-XXXXXX", NULL);
  g_autofree char *victims = make_victims(dir, 10);
  g_autofree char *tdir = g_build_filename(dir, "templates", NULL);
  g_autofree char *shared = NULL, *personal = NULL;
  g_autoptr(FarceurCampaignConfig) config = NULL;
  g_autoptr(FarceurCampaign) a = NULL, b = NULL, other = NULL, dated = NULL;
  g_autoptr(GPtrArray) octets_a = NULL, octets_b = NULL, octets_other = NULL;
  g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint(g_mkdir(tdir, 0700), ==, 0);
  g_free(write_file(tdir, "notes.txt", "attached notes\n"));
  g_free(write_file(tdir, "page.html", "<p>Hi {{recipient.first_name}}</p>\n"));
  shared
      = write_file(tdir, "a.tmpl", "Subject: for {{recipients.names}}\nAttach: notes.txt\n\nx\n");
  personal = write_file(tdir, "b.tmpl", "Subject: hi\nHtml: page.html\n\nHi {{recipient.name}}\n");
  set_mtime(victims, 1700000000);
  set_mtime(shared, 1700000300);
  set_mtime(personal, 1700000200);
  set_mtime(tdir, 1700000100);
  config = make_config(dir, victims, tdir);
  a = farceur_campaign_prepare(config, &error);
  g_assert_no_error(error);
  b = farceur_campaign_prepare(config, &error);
  g_assert_no_error(error);
  /* dated by the newest file, in UTC */
  g_assert_cmpint(g_date_time_to_unix(farceur_campaign_get_date(a)), ==, 1700000300);
  octets_a = campaign_octets(a);
  octets_b = campaign_octets(b);
  g_assert_cmpuint(octets_a->len, ==, octets_b->len);
  for (guint i = 0; i < octets_a->len; i++) {
    g_assert_cmpstr(octets_a->pdata[i], ==, octets_b->pdata[i]);
    g_assert_nonnull(strstr(octets_a->pdata[i], "Date: Tue, 14 Nov 2023 22:18:20 +0000"));
    g_assert_nonnull(strstr(octets_a->pdata[i], "boundary=")); /* multipart: boundaries too */
  }
  for (guint g = 0; g < farceur_campaign_get_groups(a)->len; g++) {
    FarceurPrankGroup *group = farceur_campaign_get_groups(a)->pdata[g];
    for (guint i = 0; i < group->messages->len; i++) {
      const char *id = g_mime_message_get_message_id(
          ((FarceurPrankMessage *)group->messages->pdata[i])->message);
      g_assert_true(g_str_has_suffix(id, "@example.org"));
      g_assert_true(g_hash_table_add(ids, (gpointer)id)); /* unique */
    }
  }
  /* another seed: other messages, other Message-IDs */
  config->seed = 8;
  other = farceur_campaign_prepare(config, &error);
  g_assert_no_error(error);
  octets_other = campaign_octets(other);
  for (guint g = 0; g < farceur_campaign_get_groups(other)->len; g++) {
    FarceurPrankGroup *group = farceur_campaign_get_groups(other)->pdata[g];
    for (guint i = 0; i < group->messages->len; i++)
      g_assert_false(g_hash_table_contains(
          ids, g_mime_message_get_message_id(
                   ((FarceurPrankMessage *)group->messages->pdata[i])->message)));
  }
  /* an explicit date wins */
  config->seed = 7;
  config->date = farceur_campaign_parse_date("2026-04-01T09:00:00Z", &error);
  g_assert_no_error(error);
  dated = farceur_campaign_prepare(config, &error);
  g_assert_no_error(error);
  g_assert_cmpint(g_date_time_to_unix(farceur_campaign_get_date(dated)), ==,
                  g_date_time_to_unix(config->date));
  g_assert_null(farceur_campaign_parse_date("yesterday", &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE);
  rm_rf(dir);
}

static void
test_run_validates_everything(void)
{
  g_autofree char *dir = g_dir_make_tmp("farceur-run-XXXXXX", NULL);
  g_autofree char *victims = make_victims(dir, 9);
  g_autofree char *tdir = g_build_filename(dir, "templates", NULL);
  g_autofree char *bad = NULL;
  g_autoptr(FarceurCampaignConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurCampaign) campaign = NULL;

  g_assert_cmpint(g_mkdir(tdir, 0700), ==, 0);
  g_free(write_file(tdir, "a.tmpl", "Subject: fine\n\nok\n"));
  g_free(write_file(tdir, "b.tmpl", "Subject: fine too\n\nok\n"));
  bad = write_file(tdir, "c.tmpl", "Subject: bad\n\n\nHello {{sender.nmae}}\n");
  config = make_config(dir, victims, tdir);
  campaign = farceur_campaign_prepare(config, &error);
  g_assert_null(campaign);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, bad));
  g_assert_nonnull(strstr(error->message, "line 4"));
  g_clear_error(&error);
  g_ptr_array_add(config->witnesses, g_strdup("Bad <bad@exa mple.org>"));
  g_unlink(bad);
  g_assert_null(farceur_campaign_prepare(config, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "witness"));
  g_clear_error(&error);
  /* a witness is one mailbox, nothing silently dropped */
  g_ptr_array_set_size(config->witnesses, 0);
  g_ptr_array_add(config->witnesses, g_strdup("a@example.org; b@example.org"));
  g_assert_null(farceur_campaign_prepare(config, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "witness 'a@example.org; b@example.org': expected one"));
  rm_rf(dir);
}

/* Every template is validated, whichever the seed picks: one group and two
 * templates leave one unused, and its error must still be reported. */
static void
test_run_validates_unused_templates(void)
{
  static const struct {
    const char *file, *text, *message;
  } cases[] = {
    { "bad.tmpl", "Subject: bad\n\n\nHello {{sender.nmae}}\n", "line 4" },
    { "bad.tmpl", "Subject: bad\nAttach: missing.pdf\n\nx\n", "line 2" },
    { "bad.tmpl", "Subject: bad\nHtml: missing.html\n\nx\n", "line 2" },
    { "page.html", "<p>\n{{sender.nmae}}</p>\n", "line 2" },
    { "page.html", "<p>{{sender.name</p>\n", "line 1" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
    for (guint32 seed = 1; seed <= 8; seed++) {
      g_autofree char *dir = g_dir_make_tmp("farceur-run-XXXXXX", NULL);
      g_autofree char *victims = make_victims(dir, 3);
      g_autofree char *tdir = g_build_filename(dir, "templates", NULL);
      g_autofree char *bad = NULL;
      g_autoptr(FarceurCampaignConfig) config = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(FarceurCampaign) campaign = NULL;

      g_assert_cmpint(g_mkdir(tdir, 0700), ==, 0);
      g_free(write_file(tdir, "a.tmpl", "Subject: fine\n\nok\n"));
      bad = write_file(tdir, cases[i].file, cases[i].text);
      if (g_str_has_suffix(cases[i].file, ".html"))
        g_free(write_file(tdir, "h.tmpl", "Subject: html\nHtml: page.html\n\nok\n"));
      config = make_config(dir, victims, tdir);
      config->seed = seed;
      campaign = farceur_campaign_prepare(config, &error);
      g_test_message("%s seed %u: %s", cases[i].file, seed, error ? error->message : "(ok)");
      g_assert_null(campaign);
      g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
      g_assert_nonnull(strstr(error->message, cases[i].file));
      g_assert_nonnull(strstr(error->message, cases[i].message));
      rm_rf(dir);
    }
}

int
main(int argc, char **argv)
{
  g_autofree char *xdg = g_dir_make_tmp("farceur-xdg-XXXXXX", NULL);
  g_autofree char *rm = NULL;
  int status;

  g_setenv("XDG_CONFIG_HOME", xdg, TRUE);
  g_test_init(&argc, &argv, NULL);
  farceur_init();
  g_test_add_func("/campaign/config/ini", test_config_ini);
  g_test_add_func("/campaign/config/via", test_config_via_kept);
  g_test_add_func("/campaign/config/properties", test_config_properties);
  g_test_add_func("/campaign/config/properties-lab-files",
                  test_config_properties_ipv6_and_lab_files);
  g_test_add_func("/campaign/config/errors", test_config_errors);
  g_test_add_func("/campaign/config/lab-keys", test_config_lab_keys);
  g_test_add_func("/campaign/config/lab-paths", test_config_lab_paths);
  g_test_add_func("/campaign/config/missing", test_config_missing);
  g_test_add_func("/campaign/config/search", test_config_search);
  g_test_add_func("/campaign/config/group-size", test_group_size);
  g_test_add_func("/campaign/plan/properties", test_plan_properties);
  g_test_add_func("/campaign/plan/seeds", test_plan_seeds);
  g_test_add_func("/campaign/plan/errors", test_plan_errors);
  g_test_add_func("/campaign/plan/picked", test_plan_picked);
  g_test_add_func("/campaign/plan/for-config", test_plan_for_config);
  g_test_add_func("/campaign/run/maildir", test_run_maildir);
  g_test_add_func("/campaign/run/template-override", test_run_template_override);
  g_test_add_func("/campaign/run/replay", test_replay);
  g_test_add_func("/campaign/run/cancelled", test_run_cancelled);
  g_test_add_func("/campaign/run/preconditions", test_run_preconditions);
  g_test_add_func("/campaign/run/validates-everything", test_run_validates_everything);
  g_test_add_func("/campaign/run/validates-unused-templates", test_run_validates_unused_templates);
  status = g_test_run();
  rm = g_strdup_printf("rm -rf '%s'", xdg);
  if (system(rm) != 0)
    return 1;
  return status;
}
