/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <farceur/error.h>
#include <farceur/journal.h>

#include "error-text.h"

struct _FarceurJournal {
  char *path;
  int fd;
  GHashTable *states; /* journal_key() -> GINT_TO_POINTER (FarceurJournalState) */
  GHashTable *legacy; /* journal_key() with no MAIL FROM: records of the first format */
  guint legacy_lines; /* how many such records were read */
  guint dropped;      /* torn last line found on load, and cut off */
};

static const char *journal_state_names[]
    = { "none", "delivered", "refused", "deferred", "unknown", "forgotten" };

/**
 * farceur_journal_state_to_string:
 * @state: a journal state
 *
 * Returns: (transfer none): its name in the journal: "none", "delivered",
 *   "refused", "deferred", "unknown" or "forgotten"
 */
const char *
farceur_journal_state_to_string(FarceurJournalState state)
{
  if ((guint)state >= G_N_ELEMENTS(journal_state_names))
    return "none";
  return journal_state_names[state];
}

/**
 * farceur_journal_state_from_string:
 * @name: (nullable): a state's name, as farceur_journal_state_to_string()
 *   writes it
 *
 * Returns: the state, %FARCEUR_JOURNAL_NONE for %NULL or an unknown name
 */
FarceurJournalState
farceur_journal_state_from_string(const char *name)
{
  for (guint i = 1; name && i < G_N_ELEMENTS(journal_state_names); i++)
    if (g_strcmp0(name, journal_state_names[i]) == 0)
      return (FarceurJournalState)i;
  return FARCEUR_JOURNAL_NONE;
}

/* The key of one delivery: the octets as sent and the envelope (data/doc/
 * formats.md, The journal); where the message was read from is no part of
 * it.  Addresses are compared case-insensitively, as
 * farceur_envelope_add_rcpt does: treating two spellings as one mailbox
 * errs towards not resending.  @mail_from NULL is the key of a record of
 * the first format, which did not write MAIL FROM. */
static char *
journal_key(const char *sha256, const char *mail_from, const char *rcpt)
{
  g_autofree char *from = mail_from ? g_ascii_strdown(mail_from, -1) : NULL;
  g_autofree char *to = g_ascii_strdown(rcpt ? rcpt : "", -1);

  if (from == NULL)
    return g_strdup_printf("%s\n%s", sha256 ? sha256 : "", to);
  return g_strdup_printf("%s\n%s\n%s", sha256 ? sha256 : "", from, to);
}

static void
journal_remember(FarceurJournal *journal, const char *sha256, const char *mail_from,
                 FarceurJournalState state, const char *rcpt)
{
  GHashTable *table = mail_from ? journal->states : journal->legacy;

  g_hash_table_insert(table, journal_key(sha256, mail_from, rcpt), GINT_TO_POINTER(state));
}

static gboolean
journal_fail(GError **error, const char *path, guint line, const char *why)
{
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "journal '%s' line %u: %s", path, line,
              why);
  return FALSE;
}

/* Applies one parsed line; FALSE (no error set) when it is not a record. */
static gboolean
journal_apply(FarceurJournal *journal, JsonNode *root)
{
  JsonObject *obj = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  JsonArray *rcpts;
  FarceurJournalState state;
  const char *source, *sha256, *mail_from;

  if (obj == NULL || !json_object_has_member(obj, "rcpt"))
    return FALSE;
  source = json_object_get_string_member_with_default(obj, "source", NULL);
  sha256 = json_object_get_string_member_with_default(obj, "sha256", NULL);
  /* A record without "mail_from" was written by the first format (keyed on
   * the source too): it is read as settling the recipient for that content
   * whatever the MAIL FROM, and whatever the path. */
  mail_from = json_object_get_string_member_with_default(obj, "mail_from", NULL);
  state = farceur_journal_state_from_string(
      json_object_get_string_member_with_default(obj, "state", NULL));
  rcpts = json_object_get_array_member(obj, "rcpt");
  if (source == NULL || sha256 == NULL || state == FARCEUR_JOURNAL_NONE || rcpts == NULL)
    return FALSE;
  for (guint i = 0; i < json_array_get_length(rcpts); i++) {
    const char *rcpt = json_node_get_string(json_array_get_element(rcpts, i));
    if (rcpt == NULL)
      return FALSE;
    journal_remember(journal, sha256, mail_from, state, rcpt);
  }
  if (mail_from == NULL)
    journal->legacy_lines++;
  return TRUE;
}

/* A complete line that is not a record means the file is not a journal, or
 * was edited by hand: an error rather than a guess. */
static gboolean
journal_load_line(FarceurJournal *journal, const char *text, guint lineno, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new();

  if (*text == '\0')
    return TRUE;
  if (json_parser_load_from_data(parser, text, -1, NULL)
      && journal_apply(journal, json_parser_get_root(parser)))
    return TRUE;
  return journal_fail(error, journal->path, lineno, "not a journal record");
}

static gboolean
journal_truncate(FarceurJournal *journal, gsize length, GError **error)
{
  if (ftruncate(journal->fd, (off_t)length) < 0 || fsync(journal->fd) < 0) {
    farceur_set_errno_error(error, FARCEUR_ERROR_IO, errno, "journal '%s': cannot cut torn line",
                            journal->path);
    return FALSE;
  }
  return TRUE;
}

static gboolean
journal_load(FarceurJournal *journal, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) lines = NULL;
  gsize length = 0;
  guint n;

  if (!g_file_get_contents(journal->path, &text, &length, &local)) {
    g_autofree char *why = farceur_file_error_text(local);
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_IO, "journal '%s': %s", journal->path, why);
    return FALSE;
  }
  if (memchr(text, '\0', length) != NULL)
    return journal_fail(error, journal->path, 1, "NUL byte in journal");
  lines = g_strsplit(text, "\n", -1);
  n = g_strv_length(lines);
  for (guint i = 0; i + 1 < n; i++)
    if (!journal_load_line(journal, lines[i], i + 1, error))
      return FALSE;
  /* What follows the last '\n' is a write a crash cut short: it never
   * counted, so it is cut off and the next record starts a clean line. */
  if (n > 0 && *lines[n - 1] != '\0') {
    journal->dropped++;
    return journal_truncate(journal, length - strlen(lines[n - 1]), error);
  }
  return TRUE;
}

static gboolean
journal_open_fd(FarceurJournal *journal, GError **error)
{
  journal->fd = g_open(journal->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (journal->fd < 0) {
    farceur_set_errno_error(error, FARCEUR_ERROR_CANTCREAT, errno, "journal '%s'", journal->path);
    return FALSE;
  }
  /* Two runs appending to one journal would each resend what the other is
   * sending: refuse rather than interleave. */
  if (flock(journal->fd, LOCK_EX | LOCK_NB) < 0) {
    int saved = errno;
    if (saved == EWOULDBLOCK)
      g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL,
                  "journal '%s': in use by another farceur", journal->path);
    else
      farceur_set_errno_error(error, FARCEUR_ERROR_IO, saved, "journal '%s'", journal->path);
    return FALSE;
  }
  return TRUE;
}

/**
 * farceur_journal_open:
 * @path: the journal file; created when missing
 * @error: return location for an error
 *
 * Opens @path for appending, takes an exclusive lock on it (a second run on
 * the same journal fails with %FARCEUR_ERROR_TEMPFAIL) and loads what it
 * records.  A torn last line, as a crash mid-write leaves, is cut off and
 * counted (farceur_journal_get_dropped_lines()).
 *
 * Returns: (transfer full) (nullable): the journal, or %NULL on error
 */
FarceurJournal *
farceur_journal_open(const char *path, GError **error)
{
  FarceurJournal *journal;

  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  journal = g_new0(FarceurJournal, 1);
  journal->path = g_strdup(path);
  journal->fd = -1;
  journal->states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  journal->legacy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  if (!journal_open_fd(journal, error) || !journal_load(journal, error)) {
    farceur_journal_free(journal);
    return NULL;
  }
  return journal;
}

/**
 * farceur_journal_free:
 * @journal: (nullable): a journal
 */
void
farceur_journal_free(FarceurJournal *journal)
{
  if (journal == NULL)
    return;
  if (journal->fd >= 0)
    close(journal->fd);
  g_hash_table_unref(journal->states);
  g_hash_table_unref(journal->legacy);
  g_free(journal->path);
  g_free(journal);
}

static char *
journal_format(const char *source, const char *sha256, const char *mail_from,
               FarceurJournalState state, const char *const *rcpts, const char *reply)
{
  g_autoptr(JsonBuilder) builder = json_builder_new();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *time = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "time");
  json_builder_add_string_value(builder, time);
  json_builder_set_member_name(builder, "source");
  json_builder_add_string_value(builder, source);
  json_builder_set_member_name(builder, "sha256");
  json_builder_add_string_value(builder, sha256);
  json_builder_set_member_name(builder, "mail_from");
  json_builder_add_string_value(builder, mail_from);
  json_builder_set_member_name(builder, "state");
  json_builder_add_string_value(builder, farceur_journal_state_to_string(state));
  json_builder_set_member_name(builder, "rcpt");
  json_builder_begin_array(builder);
  for (guint i = 0; rcpts && rcpts[i]; i++)
    json_builder_add_string_value(builder, rcpts[i]);
  json_builder_end_array(builder);
  json_builder_set_member_name(builder, "reply");
  if (reply)
    json_builder_add_string_value(builder, reply);
  else
    json_builder_add_null_value(builder);
  json_builder_end_object(builder);
  root = json_builder_get_root(builder);
  return json_to_string(root, FALSE);
}

static gboolean
journal_write_all(FarceurJournal *journal, const char *data, gsize length, GError **error)
{
  while (length > 0) {
    gssize n = write(journal->fd, data, length);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      farceur_set_errno_error(error, FARCEUR_ERROR_IO, errno, "journal '%s': cannot write",
                              journal->path);
      return FALSE;
    }
    data += n;
    length -= (gsize)n;
  }
  return TRUE;
}

/**
 * farceur_journal_record:
 * @journal: a journal
 * @source: where the message came from ("path", "path#N", "-"): for
 *   people reading the journal; no part of the key
 * @sha256: hex SHA-256 of the message bytes as sent
 * @mail_from: the envelope sender ("" for the null sender)
 * @state: what happened
 * @rcpts: (array zero-terminated=1): the recipients @state applies to
 * @reply: (nullable): the server's reply, one line
 * @error: return location for a %FARCEUR_ERROR_IO error
 *
 * Appends one line and waits until it is on disk (fsync) before returning,
 * so a record of %FARCEUR_JOURNAL_UNKNOWN made before the final dot is sent
 * survives a crash while the dot is in flight.
 *
 * Returns: %TRUE when the record is durable
 */
gboolean
farceur_journal_record(FarceurJournal *journal, const char *source, const char *sha256,
                       const char *mail_from, FarceurJournalState state, const char *const *rcpts,
                       const char *reply, GError **error)
{
  g_autofree char *json = NULL;
  g_autoptr(GString) line = NULL;

  g_return_val_if_fail(journal != NULL, FALSE);
  g_return_val_if_fail(source != NULL, FALSE);
  g_return_val_if_fail(sha256 != NULL, FALSE);
  g_return_val_if_fail(mail_from != NULL, FALSE);
  g_return_val_if_fail(state != FARCEUR_JOURNAL_NONE, FALSE);
  g_return_val_if_fail(rcpts != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  json = journal_format(source, sha256, mail_from, state, rcpts, reply);
  line = g_string_new(json);
  g_string_append_c(line, '\n');
  if (!journal_write_all(journal, line->str, line->len, error))
    return FALSE;
  if (fsync(journal->fd) < 0) {
    farceur_set_errno_error(error, FARCEUR_ERROR_IO, errno, "journal '%s': cannot sync",
                            journal->path);
    return FALSE;
  }
  for (guint i = 0; rcpts && rcpts[i]; i++)
    journal_remember(journal, sha256, mail_from, state, rcpts[i]);
  return TRUE;
}

/**
 * farceur_journal_lookup:
 * @journal: a journal
 * @sha256: hex SHA-256 of the message bytes as sent
 * @mail_from: the envelope sender ("" for the null sender)
 * @rcpt: one envelope recipient
 *
 * What the journal says of one delivery: these octets from @mail_from to
 * @rcpt, whatever file they were read from.  A record of the first format
 * (no MAIL FROM) answers for any sender when no newer record does.
 *
 * Returns: the latest state recorded for it, or %FARCEUR_JOURNAL_NONE
 */
FarceurJournalState
farceur_journal_lookup(FarceurJournal *journal, const char *sha256, const char *mail_from,
                       const char *rcpt)
{
  g_autofree char *key = NULL;
  g_autofree char *legacy = NULL;
  gpointer state;

  g_return_val_if_fail(journal != NULL, FARCEUR_JOURNAL_NONE);
  g_return_val_if_fail(sha256 != NULL, FARCEUR_JOURNAL_NONE);
  g_return_val_if_fail(mail_from != NULL, FARCEUR_JOURNAL_NONE);
  g_return_val_if_fail(rcpt != NULL, FARCEUR_JOURNAL_NONE);

  key = journal_key(sha256, mail_from, rcpt);
  if (g_hash_table_lookup_extended(journal->states, key, NULL, &state))
    return (FarceurJournalState)GPOINTER_TO_INT(state);
  legacy = journal_key(sha256, NULL, rcpt);
  return (FarceurJournalState)GPOINTER_TO_INT(g_hash_table_lookup(journal->legacy, legacy));
}

/**
 * farceur_journal_is_settled:
 * @journal: a journal
 * @sha256: hex SHA-256 of the message bytes as sent
 * @mail_from: the envelope sender
 * @rcpt: one envelope recipient
 * @resend_unknown: whether an %FARCEUR_JOURNAL_UNKNOWN outcome should be sent again
 *
 * Returns: %TRUE when a re-run must not send the message to @rcpt again:
 *   it was delivered, refused for good, forgotten by the user's decision,
 *   or (unless @resend_unknown) its outcome is unknown
 */
gboolean
farceur_journal_is_settled(FarceurJournal *journal, const char *sha256, const char *mail_from,
                           const char *rcpt, gboolean resend_unknown)
{
  g_return_val_if_fail(journal != NULL, FALSE);
  g_return_val_if_fail(sha256 != NULL, FALSE);
  g_return_val_if_fail(mail_from != NULL, FALSE);
  g_return_val_if_fail(rcpt != NULL, FALSE);

  switch (farceur_journal_lookup(journal, sha256, mail_from, rcpt)) {
    case FARCEUR_JOURNAL_DELIVERED:
    case FARCEUR_JOURNAL_REFUSED:
    case FARCEUR_JOURNAL_FORGOTTEN:
      return TRUE;
    case FARCEUR_JOURNAL_UNKNOWN:
      return !resend_unknown;
    default:
      return FALSE;
  }
}

/**
 * farceur_journal_get_dropped_lines:
 * @journal: a journal
 *
 * Returns: 1 when the journal ended with a torn line (a crash mid-write),
 *   which was ignored; 0 otherwise
 */
guint
farceur_journal_get_dropped_lines(FarceurJournal *journal)
{
  g_return_val_if_fail(journal != NULL, 0);

  return journal->dropped;
}

/**
 * farceur_journal_get_legacy_records:
 * @journal: a journal
 *
 * Returns: how many records of the first format (keyed on the file's path,
 *   without MAIL FROM) were read; they are honoured for any path and sender
 */
guint
farceur_journal_get_legacy_records(FarceurJournal *journal)
{
  g_return_val_if_fail(journal != NULL, 0);

  return journal->legacy_lines;
}
