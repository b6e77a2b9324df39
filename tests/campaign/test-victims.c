/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for victims files: a y_/n_ corpus under tests/data/campaign/victims,
 * each file stating what it expects in a "# expect: ..." comment (comments
 * are ignored by the parser), plus a few field-level checks. */
#include <string.h>

#include <glib/gstdio.h>

#include <farceur/farceur.h>

#include "test-corpus.h"

static char *
corpus_path(const char *name)
{
  return g_test_build_filename(G_TEST_DIST, "data", "campaign", "victims", name, NULL);
}

/* The text after "# KEY: " on the file's first such line (JSON files have
 * it in NAME.expect beside them); NULL when there is none. */
static char *
corpus_field(const char *path, const char *key)
{
  g_autofree char *sidecar = g_strconcat(path, ".expect", NULL);
  g_autofree char *text = NULL;
  g_autofree char *marker = g_strdup_printf("# %s: ", key);
  const char *start, *end;

  g_assert_true(g_file_get_contents(g_file_test(sidecar, G_FILE_TEST_EXISTS) ? sidecar : path,
                                    &text, NULL, NULL));
  start = strstr(text, marker);
  if (start == NULL)
    return NULL;
  start += strlen(marker);
  end = start + strcspn(start, "\r\n");
  return g_strndup(start, end - start);
}

/* Whether one of @notes, written "line N: text" (or "text" without a
 * line), holds @expect. */
static gboolean
notes_hold(GPtrArray *notes, const char *expect)
{
  for (guint i = 0; i < notes->len; i++) {
    const FarceurReadNote *note = notes->pdata[i];
    g_autofree char *shown = note->line ? g_strdup_printf("line %u: %s", note->line, note->text)
                                        : g_strdup(note->text);
    g_test_message("note: %s", shown);
    if (strstr(shown, expect) != NULL)
      return TRUE;
  }
  return FALSE;
}

/* y_: read whole (--strict too), with the warning it names.  n_: --strict
 * refuses it with the message it names; without --strict the entry is
 * skipped with that message, or the whole file is refused with it. */
static void
test_corpus_file(gconstpointer data)
{
  const char *name = data;
  g_autofree char *path = corpus_path(name);
  g_autofree char *expect = corpus_field(path, "expect");
  g_autofree char *warning = corpus_field(path, "warning");
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurReadFile) note = farceur_read_file_new("victims", path);
  g_autoptr(GPtrArray) strict = farceur_campaign_load_victims(path, &error);
  g_autoptr(GPtrArray) lenient = NULL;

  g_assert_nonnull(expect);
  if (name[0] == 'y') {
    g_assert_no_error(error);
    g_assert_cmpuint(strict->len, ==, atoi(expect));
    lenient = farceur_campaign_read_victims(path, FALSE, note, NULL);
    g_assert_cmpuint(lenient->len, ==, atoi(expect));
    g_assert_cmpuint(note->skipped->len, ==, 0);
    g_assert_true(warning == NULL || notes_hold(note->warnings, warning));
    return;
  }
  g_assert_null(strict);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_test_message("%s", error->message);
  g_assert_true(g_str_has_prefix(error->message, "victims '"));
  g_assert_nonnull(strstr(error->message, path));
  g_assert_nonnull(strstr(error->message, expect));
  g_clear_error(&error);
  lenient = farceur_campaign_read_victims(path, FALSE, note, &error);
  if (lenient == NULL) /* a file refused whole, or left with no victim */
    g_assert_true(strstr(error->message, expect) != NULL || notes_hold(note->skipped, expect));
  else
    g_assert_true(notes_hold(note->skipped, expect));
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

/* Without a header row the address is found in its column and the other
 * columns, in order, make the name (the lab had Last,First,email and
 * First,Last,email); they are variables column1, column2 too. */
static void
test_csv_no_header(void)
{
  g_autofree char *path = corpus_path("y_csv_no_header.txt");
  g_autoptr(FarceurReadFile) note = farceur_read_file_new("victims", path);
  g_autoptr(GPtrArray) v = farceur_campaign_read_victims(path, FALSE, note, NULL);

  g_assert_nonnull(v);
  g_assert_cmpstr(victim_at(v, 0)->name, ==, "Dupont Jean");
  g_assert_cmpstr(victim_at(v, 1)->name, ==, "Martin Zoé");
  g_assert_cmpstr(victim_at(v, 2)->name, ==, "Doe, Jr John");
  g_assert_cmpstr(victim_at(v, 2)->addr, ==, "john.doe@example.org");
  g_assert_cmpstr(g_hash_table_lookup(victim_at(v, 0)->vars, "column2"), ==, "Jean");
  g_assert_cmpstr(note->format, ==, "csv");
  g_assert_nonnull(strstr(note->summary, "no header, address in column 3"));
}

/* A header row in French with ';': the address column is "Courriel", the
 * name "Prénom Nom", "Équipe" a variable "equipe". */
static void
test_csv_header_fr(void)
{
  g_autofree char *path = corpus_path("y_csv_header_fr.csv");
  g_autoptr(GPtrArray) v = farceur_campaign_load_victims(path, NULL);

  g_assert_nonnull(v);
  g_assert_cmpstr(victim_at(v, 0)->name, ==, "Jean Dupont");
  g_assert_cmpstr(victim_at(v, 1)->addr, ==, "zoe.martin@example.org");
  g_assert_cmpstr(g_hash_table_lookup(victim_at(v, 1)->vars, "equipe"), ==, "rouge");
}

static void
test_json_objects(void)
{
  g_autofree char *path = corpus_path("y_json_objects.json");
  g_autoptr(FarceurReadFile) note = farceur_read_file_new("victims", path);
  g_autoptr(GPtrArray) v = farceur_campaign_read_victims(path, FALSE, note, NULL);

  g_assert_nonnull(v);
  g_assert_cmpstr(victim_at(v, 0)->name, ==, "Aurélie Bovet");
  g_assert_cmpstr(victim_at(v, 0)->addr, ==, "aurelie@example.org");
  g_assert_cmpstr(g_hash_table_lookup(victim_at(v, 0)->vars, "team"), ==, "A");
  g_assert_cmpuint(victim_at(v, 0)->line, ==, 3);
  g_assert_cmpstr(victim_at(v, 1)->name, ==, "Bob");
  g_assert_null(victim_at(v, 2)->name);
  g_assert_cmpstr(g_hash_table_lookup(victim_at(v, 2)->vars, "age"), ==, "42");
  g_assert_cmpstr(note->summary, ==, "3 victims (JSON, under 'victims')");
}

/* --strict names every invalid entry in one error; without it each is
 * skipped and recorded with its line. */
static void
test_invalid_entries(void)
{
  static const char text[] = "a@example.org\nnot-an-address\nb@example.org\nc@x@y\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) strict = farceur_campaign_parse_victims(text, -1, "v.txt", FALSE, &error);
  g_autofree char *dir = g_dir_make_tmp("farceur-victims-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "v.txt", NULL);
  g_autoptr(FarceurReadFile) note = farceur_read_file_new("victims", path);
  g_autoptr(GPtrArray) lenient = NULL;

  g_assert_null(strict);
  g_assert_cmpstr(error->message, ==,
                  "victims 'v.txt' line 2: invalid address 'not-an-address': no '@'; line 4: "
                  "expected one address, 'addr' or 'Name <addr>', got 'c@x@y' (--strict refuses "
                  "invalid entries: fix them, or leave out --strict to skip them with a warning)");
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  lenient = farceur_campaign_read_victims(path, FALSE, note, NULL);
  g_assert_cmpuint(lenient->len, ==, 2);
  g_assert_cmpuint(note->skipped->len, ==, 2);
  g_assert_cmpuint(((FarceurReadNote *)note->skipped->pdata[1])->line, ==, 4);
  g_assert_nonnull(strstr(note->summary, "2 invalid entries skipped"));
  g_unlink(path);
  g_rmdir(dir);
}

static gboolean
is_victims(const char *name)
{
  return (name[0] == 'y' || name[0] == 'n') && !g_str_has_suffix(name, ".expect");
}

int
main(int argc, char **argv)
{
  g_autoptr(GPtrArray) names = NULL;

  g_test_init(&argc, &argv, NULL);
  farceur_init();
  names = test_corpus_add("campaign/victims", "/victims/corpus", is_victims, test_corpus_file);
  g_test_add_func("/victims/fields/plain", test_plain_fields);
  g_test_add_func("/victims/fields/csv", test_csv_fields);
  g_test_add_func("/victims/fields/semicolon", test_semicolon_csv);
  g_test_add_func("/victims/fields/forms", test_forms_fields);
  g_test_add_func("/victims/fields/bom-csv", test_bom_csv);
  g_test_add_func("/victims/fields/csv-no-header", test_csv_no_header);
  g_test_add_func("/victims/fields/csv-header-fr", test_csv_header_fr);
  g_test_add_func("/victims/fields/json-objects", test_json_objects);
  g_test_add_func("/victims/invalid-entries", test_invalid_entries);
  g_test_add_func("/victims/missing", test_missing_file);
  g_test_add_func("/victims/nul", test_nul_byte);
  return g_test_run();
}
