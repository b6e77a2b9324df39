/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for victims files: a y_/n_ corpus under tests/data/campaign/victims,
 * each file stating what it expects in a "# expect: ..." comment (comments
 * are ignored by the parser), plus a few field-level checks. */
#include <string.h>

#include <farceur/farceur.h>

static char *
corpus_path(const char *name)
{
  return g_test_build_filename(G_TEST_DIST, "data", "campaign", "victims", name, NULL);
}

/* The text after "# expect: " on the file's first expect line. */
static char *
corpus_expect(const char *path)
{
  g_autofree char *text = NULL;
  const char *start, *end;

  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  start = strstr(text, "# expect: ");
  g_assert_nonnull(start);
  start += strlen("# expect: ");
  end = start + strcspn(start, "\r\n");
  return g_strndup(start, end - start);
}

static void
test_corpus_file(gconstpointer data)
{
  const char *name = data;
  g_autofree char *path = corpus_path(name);
  g_autofree char *expect = corpus_expect(path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) victims = farceur_campaign_load_victims(path, &error);

  if (name[0] == 'y') {
    g_assert_no_error(error);
    g_assert_cmpuint(victims->len, ==, atoi(expect));
    return;
  }
  g_assert_null(victims);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_test_message("%s", error->message);
  g_assert_true(g_str_has_prefix(error->message, "victims '"));
  g_assert_nonnull(strstr(error->message, path));
  g_assert_nonnull(strstr(error->message, expect));
}

static FarceurVictim *
victim_at(GPtrArray *victims, guint i)
{
  g_assert_cmpuint(i, <, victims->len);
  return victims->pdata[i];
}

static void
test_plain_fields(void)
{
  g_autofree char *path = corpus_path("y_plain.txt");
  g_autoptr(GPtrArray) v = farceur_campaign_load_victims(path, NULL);

  g_assert_nonnull(v);
  g_assert_null(victim_at(v, 0)->name);
  g_assert_cmpstr(victim_at(v, 0)->addr, ==, "alice@example.org");
  g_assert_cmpuint(victim_at(v, 0)->line, ==, 2);
  g_assert_cmpstr(victim_at(v, 1)->name, ==, "Bob Martin");
  g_assert_cmpstr(victim_at(v, 2)->name, ==, "Doe, Jane");
  g_assert_cmpuint(victim_at(v, 2)->line, ==, 5);
  g_assert_cmpstr(victim_at(v, 3)->addr, ==, "carol+pranks@example.net");
  g_assert_cmpstr(victim_at(v, 4)->name, ==, "Zoé");
  {
    g_autofree char *mailbox = farceur_victim_to_mailbox(victim_at(v, 2));
    g_assert_cmpstr(mailbox, ==, "\"Doe, Jane\" <jane.doe@example.org>");
  }
}

static void
test_csv_fields(void)
{
  g_autofree char *path = corpus_path("y_people.csv");
  g_autoptr(GPtrArray) v = farceur_campaign_load_victims(path, NULL);
  FarceurVictim *bob, *carol;

  g_assert_nonnull(v);
  g_assert_cmpstr(victim_at(v, 0)->name, ==, "Alice Martin");
  g_assert_cmpstr(g_hash_table_lookup(victim_at(v, 0)->vars, "team"), ==, "blue");
  g_assert_cmpstr(g_hash_table_lookup(victim_at(v, 0)->vars, "favourite_food"), ==, "croissants");
  g_assert_cmpuint(g_hash_table_size(victim_at(v, 0)->vars), ==, 2);
  bob = victim_at(v, 1);
  g_assert_null(bob->name);
  g_assert_cmpstr(g_hash_table_lookup(bob->vars, "favourite_food"), ==,
                  "pain au chocolat, obviously");
  carol = victim_at(v, 2);
  g_assert_cmpstr(carol->name, ==, "Carol");
  g_assert_cmpstr(carol->addr, ==, "carol@example.net");
  g_assert_cmpstr(g_hash_table_lookup(carol->vars, "favourite_food"), ==, "the \"good\" cheese");
  g_assert_cmpstr(g_hash_table_lookup(victim_at(v, 3)->vars, "favourite_food"), ==, "");
  g_assert_cmpuint(victim_at(v, 3)->line, ==, 6);
}

static void
test_semicolon_csv(void)
{
  g_autofree char *path = corpus_path("y_semicolon.csv");
  g_autoptr(GPtrArray) v = farceur_campaign_load_victims(path, NULL);

  g_assert_nonnull(v);
  g_assert_cmpstr(victim_at(v, 0)->name, ==, "Zoé");
  g_assert_cmpstr(victim_at(v, 1)->addr, ==, "hugo@example.com");
}

static void
test_forms_fields(void)
{
  g_autofree char *path = corpus_path("y_forms.txt");
  g_autoptr(GPtrArray) v = farceur_campaign_load_victims(path, NULL);

  g_assert_nonnull(v);
  g_assert_null(victim_at(v, 0)->name);
  g_assert_cmpstr(victim_at(v, 0)->addr, ==, "c@x.org");
  g_assert_cmpstr(victim_at(v, 1)->name, ==, "Bob");
  g_assert_cmpstr(victim_at(v, 1)->addr, ==, "b@y.org");
  /* the name the composed message will show, not the raw encoded word */
  g_assert_cmpstr(victim_at(v, 2)->name, ==, "Zoé");
}

static void
test_bom_csv(void)
{
  g_autofree char *path = corpus_path("y_bom.csv");
  g_autoptr(GPtrArray) v = farceur_campaign_load_victims(path, NULL);

  g_assert_nonnull(v);
  g_assert_cmpstr(victim_at(v, 0)->addr, ==, "c@x.org");
  g_assert_cmpstr(victim_at(v, 0)->name, ==, "Carol");
  g_assert_cmpuint(victim_at(v, 0)->line, ==, 2);
  g_assert_cmpuint(g_hash_table_size(victim_at(v, 0)->vars), ==, 0);
}

static void
test_missing_file(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) v = farceur_campaign_load_victims("/nonexistent/victims.txt", &error);

  g_assert_null(v);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT);
  g_assert_nonnull(strstr(error->message, "/nonexistent/victims.txt"));
}

static void
test_nul_byte(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) v = farceur_campaign_parse_victims("a@example.org\n\0b@example.org\n", 29,
                                                          "x.txt", FALSE, &error);

  g_assert_null(v);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
  g_autofree char *dir = NULL;
  g_autoptr(GDir) d = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *name;

  g_test_init(&argc, &argv, NULL);
  farceur_init();
  dir = g_test_build_filename(G_TEST_DIST, "data", "campaign", "victims", NULL);
  d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  while ((name = g_dir_read_name(d)) != NULL)
    if (name[0] == 'y' || name[0] == 'n')
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, compare_names);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *test = g_strdup_printf("/victims/corpus/%s", (char *)names->pdata[i]);
    g_test_add_data_func(test, names->pdata[i], test_corpus_file);
  }
  g_test_add_func("/victims/fields/plain", test_plain_fields);
  g_test_add_func("/victims/fields/csv", test_csv_fields);
  g_test_add_func("/victims/fields/semicolon", test_semicolon_csv);
  g_test_add_func("/victims/fields/forms", test_forms_fields);
  g_test_add_func("/victims/fields/bom-csv", test_bom_csv);
  g_test_add_func("/victims/missing", test_missing_file);
  g_test_add_func("/victims/nul", test_nul_byte);
  return g_test_run();
}
