/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <farceur/farceur.h>

#define SHA_A "aaaa000000000000000000000000000000000000000000000000000000000000"
#define SHA_B "bbbb000000000000000000000000000000000000000000000000000000000000"
#define FROM "alice@example.org"

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp("farceur-journal-XXXXXX", NULL);
  g_assert_nonnull(f->dir);
  f->path = g_build_filename(f->dir, "journal", NULL);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_unlink(f->path);
  g_rmdir(f->dir);
  g_free(f->path);
  g_free(f->dir);
}

static void
record(FarceurJournal *journal, const char *source, const char *sha, FarceurJournalState state,
       const char *rcpt, const char *reply)
{
  const char *rcpts[] = { rcpt, NULL };
  g_autoptr(GError) error = NULL;

  g_assert_true(farceur_journal_record(journal, source, sha, FROM, state, rcpts, reply, &error));
  g_assert_no_error(error);
}

static FarceurJournal *
reopen(Fixture *f)
{
  g_autoptr(GError) error = NULL;
  FarceurJournal *journal = farceur_journal_open(f->path, &error);

  g_assert_no_error(error);
  g_assert_nonnull(journal);
  return journal;
}

static void
test_roundtrip(Fixture *f, gconstpointer data)
{
  g_autoptr(FarceurJournal) journal = reopen(f);
  const char *both[] = { "bob@example.org", "carol@example.org", NULL };

  g_assert_cmpint(farceur_journal_lookup(journal, SHA_A, FROM, "bob@example.org"), ==,
                  FARCEUR_JOURNAL_NONE);
  g_assert_true(farceur_journal_record(journal, "a.eml", SHA_A, FROM, FARCEUR_JOURNAL_DELIVERED,
                                       both, "250 2.0.0 Ok: queued as 4B2", NULL));
  record(journal, "b.eml", SHA_B, FARCEUR_JOURNAL_REFUSED, "dave@example.org",
         "550 5.1.1 no such user");
  g_clear_pointer(&journal, farceur_journal_free);

  journal = reopen(f);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_A, FROM, "bob@example.org"), ==,
                  FARCEUR_JOURNAL_DELIVERED);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_A, FROM, "carol@example.org"), ==,
                  FARCEUR_JOURNAL_DELIVERED);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_B, FROM, "dave@example.org"), ==,
                  FARCEUR_JOURNAL_REFUSED);
  /* Other bytes: a different delivery. */
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_B, FROM, "bob@example.org"), ==,
                  FARCEUR_JOURNAL_NONE);
  /* Recipients compare without case. */
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_A, FROM, "Bob@Example.ORG"), ==,
                  FARCEUR_JOURNAL_DELIVERED);
  g_assert_cmpuint(farceur_journal_get_dropped_lines(journal), ==, 0);
}

/* Each line is one JSON object with the documented members. */
static void
test_format(Fixture *f, gconstpointer data)
{
  g_autoptr(FarceurJournal) journal = reopen(f);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *obj;

  record(journal, "in/x.eml", SHA_A, FARCEUR_JOURNAL_UNKNOWN, "bob@example.org", NULL);
  g_assert_true(g_file_get_contents(f->path, &text, NULL, NULL));
  g_assert_true(g_str_has_suffix(text, "}\n"));
  lines = g_strsplit(text, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 2);
  g_assert_true(json_parser_load_from_data(parser, lines[0], -1, NULL));
  obj = json_node_get_object(json_parser_get_root(parser));
  g_assert_cmpstr(json_object_get_string_member(obj, "source"), ==, "in/x.eml");
  g_assert_cmpstr(json_object_get_string_member(obj, "sha256"), ==, SHA_A);
  g_assert_cmpstr(json_object_get_string_member(obj, "state"), ==, "unknown");
  g_assert_true(json_object_get_null_member(obj, "reply"));
  g_assert_true(g_str_has_suffix(json_object_get_string_member(obj, "time"), "Z"));
}

/* unknown is written before the final dot; the reply then supersedes it. */
static void
test_supersede(Fixture *f, gconstpointer data)
{
  g_autoptr(FarceurJournal) journal = reopen(f);

  record(journal, "a.eml", SHA_A, FARCEUR_JOURNAL_UNKNOWN, "bob@example.org", NULL);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_A, FROM, "bob@example.org"), ==,
                  FARCEUR_JOURNAL_UNKNOWN);
  record(journal, "a.eml", SHA_A, FARCEUR_JOURNAL_DELIVERED, "bob@example.org", "250 ok");
  g_clear_pointer(&journal, farceur_journal_free);
  journal = reopen(f);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_A, FROM, "bob@example.org"), ==,
                  FARCEUR_JOURNAL_DELIVERED);
}

static void
test_settled(Fixture *f, gconstpointer data)
{
  g_autoptr(FarceurJournal) journal = reopen(f);

  record(journal, "m", SHA_A, FARCEUR_JOURNAL_DELIVERED, "d@x.org", "250 ok");
  record(journal, "m", SHA_A, FARCEUR_JOURNAL_REFUSED, "r@x.org", "550 no");
  record(journal, "m", SHA_A, FARCEUR_JOURNAL_DEFERRED, "t@x.org", "451 later");
  record(journal, "m", SHA_A, FARCEUR_JOURNAL_UNKNOWN, "u@x.org", NULL);
  for (int resend = 0; resend < 2; resend++) {
    g_assert_true(farceur_journal_is_settled(journal, SHA_A, FROM, "d@x.org", resend));
    g_assert_true(farceur_journal_is_settled(journal, SHA_A, FROM, "r@x.org", resend));
    g_assert_false(farceur_journal_is_settled(journal, SHA_A, FROM, "t@x.org", resend));
    g_assert_false(farceur_journal_is_settled(journal, SHA_A, FROM, "n@x.org", resend));
  }
  g_assert_true(farceur_journal_is_settled(journal, SHA_A, FROM, "u@x.org", FALSE));
  g_assert_false(farceur_journal_is_settled(journal, SHA_A, FROM, "u@x.org", TRUE));
}

/* A crash mid-write leaves a torn last line: it is cut off, what came
 * before survives, and the next record starts on a line of its own. */
static void
test_torn(Fixture *f, gconstpointer data)
{
  g_autoptr(FarceurJournal) journal = reopen(f);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  FILE *fp;

  record(journal, "a.eml", SHA_A, FARCEUR_JOURNAL_DELIVERED, "bob@example.org", "250 ok");
  g_clear_pointer(&journal, farceur_journal_free);
  fp = g_fopen(f->path, "a");
  fputs("{\"time\":\"2026-11-23T02:00:00Z\",\"source\":\"b.eml\",\"sha256\":\"" SHA_B
        "\",\"state\":\"unkn",
        fp);
  fclose(fp);

  journal = reopen(f);
  g_assert_cmpuint(farceur_journal_get_dropped_lines(journal), ==, 1);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_A, FROM, "bob@example.org"), ==,
                  FARCEUR_JOURNAL_DELIVERED);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_B, FROM, "bob@example.org"), ==,
                  FARCEUR_JOURNAL_NONE);
  record(journal, "b.eml", SHA_B, FARCEUR_JOURNAL_DEFERRED, "bob@example.org", "421 bye");
  g_clear_pointer(&journal, farceur_journal_free);

  g_assert_true(g_file_get_contents(f->path, &text, NULL, NULL));
  lines = g_strsplit(text, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 3); /* good, good, "" */
  g_assert_null(strstr(text, "\"unkn\n"));
  g_assert_true(g_str_has_prefix(lines[1], "{"));
  journal = reopen(f);
  g_assert_cmpuint(farceur_journal_get_dropped_lines(journal), ==, 0);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_B, FROM, "bob@example.org"), ==,
                  FARCEUR_JOURNAL_DEFERRED);
}

/* The key is the delivery: the same octets and envelope read from another
 * path are settled; another MAIL FROM is another delivery; the path is
 * still written for people. */
static void
test_key_is_delivery(Fixture *f, gconstpointer data)
{
  g_autoptr(FarceurJournal) journal = reopen(f);
  const char *rcpts[] = { "bob@example.org", NULL };
  g_autofree char *text = NULL;

  record(journal, "inbox/new/1", SHA_A, FARCEUR_JOURNAL_DELIVERED, "bob@example.org", "250 ok");
  g_assert_true(farceur_journal_record(journal, "inbox/new/1", SHA_A, "", FARCEUR_JOURNAL_REFUSED,
                                       rcpts, "550 no bounces", NULL));
  g_clear_pointer(&journal, farceur_journal_free);
  journal = reopen(f);
  g_assert_true(farceur_journal_is_settled(journal, SHA_A, FROM, "bob@example.org", TRUE));
  g_assert_true(
      farceur_journal_is_settled(journal, SHA_A, "ALICE@example.org", "bob@example.org", TRUE));
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_A, "", "bob@example.org"), ==,
                  FARCEUR_JOURNAL_REFUSED);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_A, "mallory@example.org", "bob@example.org"),
                  ==, FARCEUR_JOURNAL_NONE);
  g_assert_cmpuint(farceur_journal_get_legacy_records(journal), ==, 0);
  g_assert_true(g_file_get_contents(f->path, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "\"source\":\"inbox/new/1\""));
  g_assert_nonnull(strstr(text, "\"mail_from\":\"alice@example.org\""));
}

/* A journal of the first format (no "mail_from", keyed on the path too) is
 * read: its records settle the content for any path and sender, until a
 * newer record about the same delivery says otherwise. */
static void
test_legacy_format(Fixture *f, gconstpointer data)
{
  g_autoptr(FarceurJournal) journal = NULL;

  g_assert_true(g_file_set_contents(
      f->path,
      "{\"time\":\"2026-11-23T02:40:00Z\",\"source\":\"../c/1.eml\",\"sha256\":\"" SHA_A
      "\",\"state\":\"delivered\",\"rcpt\":[\"bob@example.org\"],\"reply\":\"250 ok\"}\n"
      "{\"time\":\"2026-11-23T02:40:01Z\",\"source\":\"../c/2.eml\",\"sha256\":\"" SHA_B
      "\",\"state\":\"deferred\",\"rcpt\":[\"bob@example.org\"],\"reply\":null}\n",
      -1, NULL));
  journal = reopen(f);
  g_assert_cmpuint(farceur_journal_get_legacy_records(journal), ==, 2);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_A, FROM, "bob@example.org"), ==,
                  FARCEUR_JOURNAL_DELIVERED);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_B, "x@y.org", "bob@example.org"), ==,
                  FARCEUR_JOURNAL_DEFERRED);
  record(journal, "/abs/c/2.eml", SHA_B, FARCEUR_JOURNAL_DELIVERED, "bob@example.org", "250 ok");
  g_clear_pointer(&journal, farceur_journal_free);
  journal = reopen(f);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_B, FROM, "bob@example.org"), ==,
                  FARCEUR_JOURNAL_DELIVERED);
}

/* An unknown outcome the user chose not to resend is settled, resend or not. */
static void
test_forgotten(Fixture *f, gconstpointer data)
{
  g_autoptr(FarceurJournal) journal = reopen(f);

  record(journal, "m", SHA_A, FARCEUR_JOURNAL_UNKNOWN, "u@x.org", NULL);
  record(journal, "m", SHA_A, FARCEUR_JOURNAL_FORGOTTEN, "u@x.org", NULL);
  g_clear_pointer(&journal, farceur_journal_free);
  journal = reopen(f);
  g_assert_cmpint(farceur_journal_lookup(journal, SHA_A, FROM, "u@x.org"), ==,
                  FARCEUR_JOURNAL_FORGOTTEN);
  g_assert_true(farceur_journal_is_settled(journal, SHA_A, FROM, "u@x.org", FALSE));
  g_assert_true(farceur_journal_is_settled(journal, SHA_A, FROM, "u@x.org", TRUE));
}

static void
test_corrupt(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  FarceurJournal *journal;

  g_assert_true(g_file_set_contents(f->path, "From alice Mon Nov 23\nhello\n", -1, NULL));
  journal = farceur_journal_open(f->path, &error);
  g_assert_null(journal);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "line 1"));
}

static void
test_locked(Fixture *f, gconstpointer data)
{
  g_autoptr(FarceurJournal) first = reopen(f);
  g_autoptr(GError) error = NULL;
  FarceurJournal *second = farceur_journal_open(f->path, &error);

  g_assert_null(second);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL);
  g_clear_pointer(&first, farceur_journal_free);
  g_clear_error(&error);
  second = farceur_journal_open(f->path, &error);
  g_assert_no_error(error);
  farceur_journal_free(second);
}

static void
test_unwritable(void)
{
  g_autoptr(GError) error = NULL;
  FarceurJournal *journal = farceur_journal_open("/nonexistent-dir/journal", &error);

  g_assert_null(journal);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT);
  g_assert_nonnull(strstr(error->message, "/nonexistent-dir/journal"));
}

static void
test_state_names(void)
{
  for (int s = FARCEUR_JOURNAL_DELIVERED; s <= FARCEUR_JOURNAL_FORGOTTEN; s++)
    g_assert_cmpint(farceur_journal_state_from_string(farceur_journal_state_to_string(s)), ==, s);
  g_assert_cmpint(farceur_journal_state_from_string("sent"), ==, FARCEUR_JOURNAL_NONE);
  g_assert_cmpint(farceur_journal_state_from_string(NULL), ==, FARCEUR_JOURNAL_NONE);
}

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  ADD("/journal/roundtrip", test_roundtrip);
  ADD("/journal/format", test_format);
  ADD("/journal/supersede", test_supersede);
  ADD("/journal/settled", test_settled);
  ADD("/journal/torn-last-line", test_torn);
  ADD("/journal/key-is-delivery", test_key_is_delivery);
  ADD("/journal/legacy-format", test_legacy_format);
  ADD("/journal/forgotten", test_forgotten);
  ADD("/journal/corrupt", test_corrupt);
  ADD("/journal/locked", test_locked);
  g_test_add_func("/journal/unwritable", test_unwritable);
  g_test_add_func("/journal/state-names", test_state_names);
  return g_test_run();
}
