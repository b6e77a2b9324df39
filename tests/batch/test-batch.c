/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The batch: real targets (a Maildir; the scripted SMTP server on loopback)
 * and a real journal; re-runs after the faults the journal exists for. */
#include <string.h>

#include <glib/gstdio.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

#include "scripted-server.h"

#define GREETING "220 mx.test ESMTP\r\n"
#define EHLO "250-mx.test\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
#define OK "250 2.0.0 ok\r\n"
#define GO "354 go ahead\r\n"
#define BYE "221 2.0.0 bye\r\n"

#define MESSAGE                                                                                    \
  "From: Alice <alice@a.test>\nTo: bob@b.test\nBcc: eve@e.test\nSubject: hi %u\n\nHello %u.\n"

#define SIMPLE "From: a@a.test\nTo: b@b.test\nSubject: hi\n\nHello.\n"

typedef struct {
  char *dir;
  char *url;
  GPtrArray *states;  /* FarceurBatchState of each result, as GINT */
  GPtrArray *errors;  /* (element-type utf8) error message or "" */
  GArray *categories; /* (element-type int) FarceurError of each result, -1 for none */
  guint attempts;
  guint timeout_ms;
  char *sha256;    /* of the last result */
  char *mail_from; /* of the last result */
  char *outcomes;  /* of the last result: "addr status code;..." */
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp("farceur-batch-XXXXXX", NULL);
  f->timeout_ms = 5000;
  f->states = g_ptr_array_new();
  f->errors = g_ptr_array_new_with_free_func(g_free);
  f->categories = g_array_new(FALSE, FALSE, sizeof(int));
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

  g_assert_cmpint(system(cmd), ==, 0);
  g_free(f->dir);
  g_free(f->url);
  g_free(f->sha256);
  g_free(f->mail_from);
  g_free(f->outcomes);
  g_ptr_array_unref(f->states);
  g_ptr_array_unref(f->errors);
  g_array_unref(f->categories);
}

static GMimeMessage *
message_new(const char *text)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);

  farceur_init();
  return g_mime_parser_construct_message(parser, NULL);
}

static void
add_message(FarceurBatch *batch, const char *source, const char *text)
{
  g_autoptr(GMimeMessage) message = message_new(text);
  g_autoptr(GError) error = NULL;

  g_assert_true(farceur_batch_add_message(batch, source, message, &error));
  g_assert_no_error(error);
}

static void
add_numbered(FarceurBatch *batch, guint n)
{
  for (guint i = 1; i <= n; i++) {
    g_autofree char *source = g_strdup_printf("m%u", i);
    g_autofree char *text = g_strdup_printf(MESSAGE, i, i);
    add_message(batch, source, text);
  }
}

static char *
outcomes_text(const FarceurDelivery *delivery)
{
  GString *out = g_string_new(NULL);

  for (guint i = 0; delivery && i < delivery->rcpts->len; i++) {
    const FarceurRcptOutcome *o = delivery->rcpts->pdata[i];
    g_string_append_printf(out, "%s %s %u;", o->addr, farceur_rcpt_status_to_string(o->status),
                           o->code);
  }
  return g_string_free(out, FALSE);
}

static void
result_cb(const FarceurBatchResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add(f->states, GINT_TO_POINTER(result->state));
  int category = result->error ? (int)farceur_error_classify(result->error) : -1;

  g_ptr_array_add(f->errors, g_strdup(result->error ? result->error->message : ""));
  g_array_append_val(f->categories, category);
  f->attempts += result->attempts;
  g_free(f->sha256);
  f->sha256 = g_strdup(result->sha256);
  g_free(f->mail_from);
  f->mail_from = g_strdup(result->envelope->mail_from);
  g_free(f->outcomes);
  f->outcomes = outcomes_text(result->delivery);
}

static FarceurTarget *
open_target(gpointer user_data, GError **error)
{
  Fixture *f = user_data;
  g_autoptr(FarceurTarget) target = farceur_target_new(f->url, error);
  FarceurSmtpOptions options = { .helo = "farceur.test", .timeout_ms = f->timeout_ms };

  if (target && !farceur_target_set_smtp_options(target, &options, error))
    return NULL;
  return g_steal_pointer(&target);
}

static void
run(Fixture *f, FarceurBatch *batch)
{
  g_autoptr(GError) error = NULL;

  g_ptr_array_set_size(f->states, 0);
  g_ptr_array_set_size(f->errors, 0);
  g_array_set_size(f->categories, 0);
  f->attempts = 0;
  farceur_batch_set_result_func(batch, result_cb, f);
  g_assert_true(farceur_batch_run(batch, open_target, f, NULL, &error));
  g_assert_no_error(error);
}

static FarceurBatchState
state_of(Fixture *f, guint i)
{
  g_assert_cmpuint(i, <, f->states->len);
  return (FarceurBatchState)GPOINTER_TO_INT(f->states->pdata[i]);
}

/* The category of result @i's error, -1 when it has none. */
static int
category_of(Fixture *f, guint i)
{
  g_assert_cmpuint(i, <, f->categories->len);
  return g_array_index(f->categories, int, i);
}

static guint
count_files(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  guint n = 0;

  while (d && g_dir_read_name(d))
    n++;
  return n;
}

static FarceurJournal *
journal_open(Fixture *f)
{
  g_autofree char *path = g_build_filename(f->dir, "journal", NULL);
  g_autoptr(GError) error = NULL;
  FarceurJournal *journal = farceur_journal_open(path, &error);

  g_assert_no_error(error);
  return journal;
}

static void
use_server(Fixture *f, ScriptedServer *server)
{
  g_free(f->url);
  f->url = g_strdup_printf("127.0.0.1:%u", scripted_server_get_port(server));
}

/* A loopback port nobody listens on: a re-run that connects fails loudly. */
static void
use_server_port_closed(Fixture *f)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new();
  guint16 port = g_socket_listener_add_any_inet_port(listener, NULL, NULL);

  g_socket_listener_close(listener);
  g_free(f->url);
  f->url = g_strdup_printf("127.0.0.1:%u", port);
}

/* Three messages into a Maildir; a re-run with the journal sends nothing. */
static void
test_maildir_and_journal(Fixture *f, gconstpointer data)
{
  g_autofree char *maildir = g_build_filename(f->dir, "out", NULL);
  g_autofree char *newdir = g_build_filename(maildir, "new", NULL);
  g_autoptr(FarceurJournal) journal = journal_open(f);
  FarceurBatchOptions options;

  f->url = g_strconcat("maildir:", maildir, NULL);
  farceur_batch_options_init(&options);
  options.journal = journal;
  for (int pass = 0; pass < 2; pass++) {
    g_autoptr(FarceurBatch) batch = farceur_batch_new(&options);
    add_numbered(batch, 3);
    run(f, batch);
    g_assert_cmpuint(f->states->len, ==, 3);
    for (guint i = 0; i < 3; i++)
      g_assert_cmpint(state_of(f, i), ==,
                      (pass == 0 ? FARCEUR_BATCH_DELIVERED : FARCEUR_BATCH_SKIPPED));
    for (guint i = 0; i < 3; i++)
      g_assert_cmpint(category_of(f, i), ==, -1);
    g_assert_cmpuint(count_files(newdir), ==, 3);
  }
}

/* The envelope: headers by default (Bcc included, then stripped), --rcpt
 * replaces them, -t adds them back, --from replaces MAIL FROM. */
static void
envelope_cb(const char *source, const FarceurEnvelope *envelope, FarceurBatchEnvelopeOrigin origin,
            GMimeMessage *message, GMimeStream *stored, gpointer user_data)
{
  GString *out = user_data;

  g_string_append_printf(out, "%s <%s>", source, envelope->mail_from);
  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    g_string_append_printf(out, " %s", (char *)envelope->rcpt_to->pdata[i]);
  g_string_append_printf(out, " bcc=%s\n",
                         g_mime_object_get_header(GMIME_OBJECT(message), "Bcc") ? "yes" : "no");
}

static void
test_envelope_options(Fixture *f, gconstpointer data)
{
  const char *rcpts[] = { "carol@c.test", NULL };
  const char *expected[] = {
    "m1 <alice@a.test> bob@b.test eve@e.test bcc=no\n",
    "m1 <alice@a.test> carol@c.test bcc=no\n",
    "m1 <bounce@a.test> bob@b.test eve@e.test carol@c.test bcc=no\n",
  };

  for (int i = 0; i < 3; i++) {
    FarceurBatchOptions options;
    g_autoptr(FarceurBatch) batch = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    farceur_batch_options_init(&options);
    options.rcpts = i > 0 ? rcpts : NULL;
    options.rcpts_from_headers = i == 2;
    options.mail_from = i == 2 ? "bounce@a.test" : NULL;
    batch = farceur_batch_new(&options);
    add_numbered(batch, 1);
    g_assert_true(farceur_batch_foreach(batch, envelope_cb, out, NULL));
    g_assert_cmpstr(out->str, ==, expected[i]);
  }
}

/* A message without a usable envelope is refused when added, naming it. */
static void
test_invalid_envelope(Fixture *f, gconstpointer data)
{
  FarceurBatchOptions options;
  g_autoptr(FarceurBatch) batch = NULL;
  g_autoptr(GMimeMessage) message = message_new("From: a@a.test\nTo: nobody\n\nhi\n");
  g_autoptr(GError) error = NULL;

  farceur_batch_options_init(&options);
  batch = farceur_batch_new(&options);
  g_assert_false(farceur_batch_add_message(batch, "bad.eml", message, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "bad.eml"));
  g_assert_nonnull(strstr(error->message, "nobody"));
}

/* The connection dies after the final dot: the journal says unknown; a
 * re-run does not send it again (it connects to nothing) but reports it
 * unknown, as every run does until the user decides; --forget-unknown
 * records the decision (nothing sent, reported no more); --resend-unknown
 * sends it again, exactly once. */
static void
test_unknown_not_resent(Fixture *f, gconstpointer data)
{
  static const ScriptedStep drop[] = {
    { GREETING }, { EHLO }, { OK }, { OK }, { GO }, { NULL, SCRIPTED_CLOSE },
  };
  static const ScriptedStep accept[] = {
    { GREETING }, { EHLO }, { OK }, { OK }, { GO }, { OK }, { BYE },
  };
  g_autoptr(FarceurJournal) journal = journal_open(f);
  FarceurBatchOptions options;

  farceur_batch_options_init(&options);
  options.journal = journal;
  options.retry_delay_ms = 10;
  /* passes 0-2 decide to resend; 3-6 (another message) to forget */
  for (int pass = 0; pass < 7; pass++) {
    g_autoptr(ScriptedServer) server = NULL;
    g_autoptr(FarceurBatch) batch = NULL;
    options.resend_unknown = pass == 2 || pass == 6;
    options.forget_unknown = pass == 5;
    if (pass == 0 || pass == 3 || pass == 2)
      use_server(f, server = scripted_server_new(pass == 2 ? accept : drop, pass == 2 ? 7 : 6));
    else
      use_server_port_closed(f);
    batch = farceur_batch_new(&options);
    add_message(batch, "m1", pass < 3 ? SIMPLE : SIMPLE "Another.\n");
    run(f, batch);
    g_assert_cmpuint(f->states->len, ==, 1);
    if (pass == 0 || pass == 3) {
      g_assert_cmpint(state_of(f, 0), ==, FARCEUR_BATCH_UNKNOWN);
      g_assert_cmpint(category_of(f, 0), ==, FARCEUR_ERROR_TEMPFAIL);
      g_assert_cmpuint(f->attempts, ==, 1); /* unknown is never retried */
      g_assert_cmpint(farceur_journal_lookup(journal, f->sha256, f->mail_from, "b@b.test"), ==,
                      FARCEUR_JOURNAL_UNKNOWN);
    } else if (pass == 1 || pass == 4) {
      g_assert_cmpint(state_of(f, 0), ==, FARCEUR_BATCH_UNKNOWN);
      g_assert_cmpint(category_of(f, 0), ==, FARCEUR_ERROR_TEMPFAIL);
      g_assert_nonnull(strstr(g_ptr_array_index(f->errors, 0), "earlier run"));
      g_assert_cmpuint(f->attempts, ==, 0);
      g_assert_cmpuint(farceur_batch_get_summary(batch)->earlier_unknown, ==, 1);
    } else if (pass >= 5) { /* forgotten: settled, even with --resend-unknown */
      g_assert_cmpint(state_of(f, 0), ==, FARCEUR_BATCH_SKIPPED);
      g_assert_cmpint(category_of(f, 0), ==, -1);
      g_assert_cmpuint(f->attempts, ==, 0);
      g_assert_cmpuint(farceur_batch_get_summary(batch)->earlier_unknown, ==, 0);
      g_assert_cmpint(farceur_journal_lookup(journal, f->sha256, f->mail_from, "b@b.test"), ==,
                      FARCEUR_JOURNAL_FORGOTTEN);
    } else {
      g_assert_cmpint(state_of(f, 0), ==, FARCEUR_BATCH_DELIVERED);
    }
    if (server != NULL) {
      scripted_server_wait(server);
      g_assert_cmpuint(scripted_server_get_n_messages(server), ==, 1);
    }
  }
}

/* The connection dies while the content is written (32 MB, more than the
 * loopback buffers hold): no dot went out, the journal says deferred, and a
 * re-run delivers it exactly once. */
static void
test_drop_mid_data(Fixture *f, gconstpointer data)
{
  static const ScriptedStep drop[] = {
    { GREETING }, { EHLO }, { OK }, { OK }, { GO, SCRIPTED_DROP_IN_DATA },
  };
  static const ScriptedStep accept[] = {
    { GREETING }, { EHLO }, { OK }, { OK }, { GO }, { OK }, { BYE },
  };
  g_autoptr(FarceurJournal) journal = journal_open(f);
  GString *big = g_string_new("From: a@a.test\nTo: b@b.test\nSubject: big\n\n");
  g_autofree char *text = NULL;
  FarceurBatchOptions options;

  for (guint i = 0; i < 400000; i++)
    g_string_append(big, "0123456789012345678901234567890123456789012345678901234567890123456789"
                         "012345678\n");
  text = g_string_free(big, FALSE);
  f->timeout_ms = 120000; /* the scripted server reads 32 MB slowly */
  farceur_batch_options_init(&options);
  options.journal = journal;
  options.retries = 0;
  for (int pass = 0; pass < 2; pass++) {
    g_autoptr(ScriptedServer) server
        = scripted_server_new(pass == 0 ? drop : accept, pass == 0 ? 5 : 7);
    g_autoptr(FarceurBatch) batch = farceur_batch_new(&options);
    use_server(f, server);
    add_message(batch, "big.eml", text);
    run(f, batch);
    g_assert_cmpuint(f->states->len, ==, 1);
    g_test_message("pass %d: %s", pass, (char *)f->errors->pdata[0]);
    g_assert_cmpint(state_of(f, 0), ==,
                    (pass == 0 ? FARCEUR_BATCH_DEFERRED : FARCEUR_BATCH_DELIVERED));
    scripted_server_wait(server);
    g_assert_cmpuint(scripted_server_get_n_messages(server), ==, (pass == 0 ? 0u : 1u));
    g_assert_cmpint(farceur_journal_lookup(journal, f->sha256, f->mail_from, "b@b.test"), ==,
                    (pass == 0 ? FARCEUR_JOURNAL_DEFERRED : FARCEUR_JOURNAL_DELIVERED));
  }
}

static guint
count_lines(const char *text, const char *line)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i]; i++)
    n += g_str_has_prefix(lines[i], line);
  return n;
}

/* 4xx on MAIL: retried after the back-off, on the same connection while
 * other messages keep it busy.  (A retry that comes after the session was
 * told nothing follows -- QUIT queued behind the last dot -- gets a new one.) */
static void
test_tempfail_retried(Fixture *f, gconstpointer data)
{
  static const ScriptedStep steps[] = {
    { GREETING },
    { EHLO },
    { "451 4.3.0 try again later\r\n" },
    { OK } /* RSET */,
    { OK },
    { OK },
    { GO },
    { OK },
    { OK },
    { OK },
    { GO },
    { OK },
    { OK },
    { OK },
    { GO },
    { OK },
    { BYE },
  };
  g_autoptr(ScriptedServer) server = scripted_server_new(steps, G_N_ELEMENTS(steps));
  g_autoptr(FarceurBatch) batch = NULL;
  FarceurBatchOptions options;
  const char *transcript;

  farceur_batch_options_init(&options);
  options.retry_delay_ms = 10;
  options.connections = 1;
  use_server(f, server);
  batch = farceur_batch_new(&options);
  for (int i = 0; i < 3; i++)
    add_message(batch, i == 0 ? "m1" : i == 1 ? "m2" : "m3", SIMPLE);
  run(f, batch);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint(state_of(f, i), ==, FARCEUR_BATCH_DELIVERED);
  g_assert_cmpuint(f->attempts, ==, 4);
  transcript = scripted_server_wait(server);
  g_test_message("%s", transcript);
  g_assert_cmpuint(count_lines(transcript, "C: EHLO"), ==, 1);
  g_assert_cmpuint(count_lines(transcript, "C: MAIL FROM:<a@a.test>"), ==, 4);
  g_assert_cmpuint(count_lines(transcript, "C: RSET"), ==, 1);
  g_assert_cmpuint(count_lines(transcript, "C: <data>"), ==, 3);
  g_assert_cmpuint(count_lines(transcript, "C: QUIT"), ==, 1);
  g_assert_cmpuint(scripted_server_get_n_messages(server), ==, 3);
}

/* 5xx is final: no retry; a refused recipient is reported by itself while
 * the other gets the message; the journal settles both. */
static void
test_some_refused(Fixture *f, gconstpointer data)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO }, { OK },  { OK }, { "550 5.1.1 no such user\r\n" },
    { GO },       { OK },   { BYE },
  };
  g_autoptr(ScriptedServer) server = scripted_server_new(steps, G_N_ELEMENTS(steps));
  g_autoptr(FarceurJournal) journal = journal_open(f);
  g_autoptr(FarceurBatch) batch = NULL;
  FarceurBatchOptions options;
  farceur_batch_options_init(&options);
  options.retry_delay_ms = 10;
  options.journal = journal;
  use_server(f, server);
  batch = farceur_batch_new(&options);
  add_message(batch, "m", "From: a@a.test\nTo: b@b.test, c@c.test\nSubject: hi\n\nHello.\n");
  run(f, batch);
  g_assert_cmpint(state_of(f, 0), ==, FARCEUR_BATCH_PARTIAL);
  g_assert_cmpuint(f->attempts, ==, 1);
  g_assert_cmpuint(farceur_batch_get_summary(batch)->rcpt_refused, ==, 1);
  g_assert_cmpint(category_of(f, 0), ==, FARCEUR_ERROR_UNAVAILABLE);
  g_assert_cmpint(farceur_journal_lookup(journal, f->sha256, f->mail_from, "b@b.test"), ==,
                  FARCEUR_JOURNAL_DELIVERED);
  g_assert_cmpint(farceur_journal_lookup(journal, f->sha256, f->mail_from, "c@c.test"), ==,
                  FARCEUR_JOURNAL_REFUSED);
  scripted_server_wait(server);
  g_assert_cmpuint(scripted_server_get_n_messages(server), ==, 1);
}

/* 4xx to one recipient while the other is accepted (issue 10, finding 7):
 * with no retry left the deferred one is in the result, with its reply, the
 * message is partial and its error temporary (75, not 69); the journal says
 * deferred, so a re-run sends to it alone. */
static void
test_some_deferred(Fixture *f, gconstpointer data)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO }, { OK },  { OK }, { "451 4.7.1 greylisted, try later\r\n" },
    { GO },       { OK },   { BYE },
  };
  g_autoptr(ScriptedServer) server = scripted_server_new(steps, G_N_ELEMENTS(steps));
  g_autoptr(FarceurJournal) journal = journal_open(f);
  g_autoptr(FarceurBatch) batch = NULL;
  FarceurBatchOptions options;

  farceur_batch_options_init(&options);
  options.retries = 0;
  options.journal = journal;
  use_server(f, server);
  batch = farceur_batch_new(&options);
  add_message(batch, "m", "From: a@a.test\nTo: b@b.test, c@c.test\nSubject: hi\n\nHello.\n");
  run(f, batch);
  g_assert_cmpint(state_of(f, 0), ==, FARCEUR_BATCH_PARTIAL);
  g_assert_cmpint(category_of(f, 0), ==, FARCEUR_ERROR_TEMPFAIL);
  g_assert_cmpstr(f->outcomes, ==, "b@b.test accepted 250;c@c.test deferred 451;");
  g_assert_cmpuint(farceur_batch_get_summary(batch)->partial, ==, 1);
  g_assert_cmpint(farceur_journal_lookup(journal, f->sha256, f->mail_from, "b@b.test"), ==,
                  FARCEUR_JOURNAL_DELIVERED);
  g_assert_cmpint(farceur_journal_lookup(journal, f->sha256, f->mail_from, "c@c.test"), ==,
                  FARCEUR_JOURNAL_DEFERRED);
  scripted_server_wait(server);
}

/* A server's limit of recipients in one transaction (452 4.5.3 to the RCPTs
 * past it, RFC 5321 4.5.3.1.10): the rest go at once in new transactions,
 * not counted as retries (here none are allowed); every recipient gets the
 * message once.  A 452 to every recipient is a deferral as any other. */
#define LIMIT "452 4.5.3 Error: too many recipients\r\n"

static void
test_recipient_limit(Fixture *f, gconstpointer data)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO }, { OK },    { OK }, { LIMIT }, { LIMIT }, { GO }, { OK }, /* b */
    { OK },       { OK },   { LIMIT }, { GO }, { OK },                               /* c */
    { OK },       { OK },   { GO },    { OK }, { BYE },                              /* d */
  };
  static const ScriptedStep none[] = {
    { GREETING }, { EHLO }, { OK }, { LIMIT }, { "250 2.0.0 reset\r\n" }, { BYE },
  };
  g_autoptr(ScriptedServer) server = scripted_server_new(steps, G_N_ELEMENTS(steps));
  g_autoptr(ScriptedServer) refusing = NULL;
  g_autoptr(FarceurBatch) batch = NULL;
  g_autoptr(FarceurBatch) again = NULL;
  FarceurBatchOptions options;
  const char *transcript;

  farceur_batch_options_init(&options);
  options.retries = 0;
  use_server(f, server);
  batch = farceur_batch_new(&options);
  add_message(batch, "m", "From: a@a.test\nTo: b@b.test, c@c.test, d@d.test\nSubject: hi\n\nHi.\n");
  run(f, batch);
  transcript = scripted_server_wait(server);
  g_test_message("%s", transcript);
  g_assert_cmpuint(f->states->len, ==, 1);
  g_assert_cmpint(state_of(f, 0), ==, FARCEUR_BATCH_DELIVERED);
  g_assert_cmpuint(f->attempts, ==, 1); /* the splits are not retries */
  g_assert_cmpstr(f->outcomes, ==,
                  "b@b.test accepted 250;c@c.test accepted 250;d@d.test accepted 250;");
  g_assert_cmpuint(scripted_server_get_n_messages(server), ==, 3);
  g_assert_cmpuint(count_lines(transcript, "C: RCPT TO:<b@b.test>"), ==, 1);
  g_assert_cmpuint(count_lines(transcript, "C: RCPT TO:<c@c.test>"), ==, 2);
  g_assert_cmpuint(count_lines(transcript, "C: RCPT TO:<d@d.test>"), ==, 3);
  g_assert_cmpuint(count_lines(transcript, "C: <data>"), ==, 3);

  refusing = scripted_server_new(none, G_N_ELEMENTS(none));
  use_server(f, refusing);
  again = farceur_batch_new(&options);
  add_message(again, "n", "From: a@a.test\nTo: e@e.test\nSubject: hi\n\nHi.\n");
  run(f, again);
  g_assert_cmpint(state_of(f, 0), ==, FARCEUR_BATCH_DEFERRED);
  g_assert_cmpuint(f->attempts, ==, 1);
  g_assert_cmpstr(f->outcomes, ==, "e@e.test deferred 452;");
  g_assert_cmpuint(scripted_server_get_n_messages(refusing), ==, 0);
  scripted_server_wait(refusing);
}

static gboolean
cancel_cb(gpointer user_data)
{
  g_cancellable_cancel(user_data);
  return G_SOURCE_REMOVE;
}

/* Cancelled while a retry waits for its 60 s back-off: the run ends at once,
 * the message deferred with its 4xx, nothing more sent. */
static void
test_cancel_during_backoff(Fixture *f, gconstpointer data)
{
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO }, { OK }, { "451 4.7.1 later\r\n" }, { "250 2.0.0 reset\r\n" }, { BYE },
  };
  g_autoptr(ScriptedServer) server = scripted_server_new(steps, G_N_ELEMENTS(steps));
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(FarceurBatch) batch = NULL;
  g_autoptr(GError) error = NULL;
  FarceurBatchOptions options;
  gint64 start;

  farceur_batch_options_init(&options);
  options.retry_delay_ms = 60000;
  options.connections = 1;
  use_server(f, server);
  batch = farceur_batch_new(&options);
  add_message(batch, "m1", SIMPLE);
  farceur_batch_set_result_func(batch, result_cb, f);
  g_timeout_add(300, cancel_cb, cancellable);
  start = g_get_monotonic_time();
  g_assert_true(farceur_batch_run(batch, open_target, f, cancellable, &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpuint(f->states->len, ==, 1);
  g_assert_cmpint(state_of(f, 0), ==, FARCEUR_BATCH_DEFERRED);
  g_assert_cmpint(category_of(f, 0), ==, FARCEUR_ERROR_TEMPFAIL);
  g_assert_cmpstr(f->outcomes, ==, "b@b.test deferred 451;");
  g_assert_cmpuint(scripted_server_get_n_messages(server), ==, 0);
}

/* Pass 2 re-reads files: one unchanged since pass 1 goes (without being
 * hashed again when it was older than the run), one rewritten in between,
 * same size or not, is refused; old and fresh files alike. */
static void
count_cb(const char *source, const FarceurEnvelope *envelope, FarceurBatchEnvelopeOrigin origin,
         GMimeMessage *message, GMimeStream *stored, gpointer user_data)
{
  (*(guint *)user_data)++;
}

static void
test_changed_between_passes(Fixture *f, gconstpointer data)
{
  const char *edits[] = { NULL, "From: a@a.test\nTo: b@b.test\nSubject: hi\n\nHELLO.\n",
                          "From: a@a.test\nTo: b@b.test\nSubject: hi\n\nHello, Bob.\n" };
  g_autofree char *path = g_build_filename(f->dir, "m.eml", NULL);

  for (int old = 0; old < 2; old++)
    for (guint i = 0; i < G_N_ELEMENTS(edits); i++) {
      FarceurBatchOptions options;
      g_autoptr(FarceurBatch) batch = NULL;
      g_autoptr(GError) error = NULL;
      guint seen = 0;
      g_assert_true(g_file_set_contents(path, SIMPLE, -1, NULL));
      if (old)
        g_usleep(300000); /* older than the run: the stamp is trusted */
      farceur_batch_options_init(&options);
      batch = farceur_batch_new(&options);
      g_assert_true(farceur_batch_add_input(batch, path, &error));
      g_assert_no_error(error);
      if (edits[i] != NULL)
        g_assert_true(g_file_set_contents(path, edits[i], -1, NULL));
      g_assert_cmpint(farceur_batch_foreach(batch, count_cb, &seen, &error), ==, edits[i] == NULL);
      g_assert_cmpuint(seen, ==, edits[i] == NULL ? 1 : 0);
      if (edits[i] != NULL)
        g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
    }
}

/* Writes @text over the start of @path, in place: the same inode, the
 * same size (as a mail client setting a status flag), only its times move. */
static void
overwrite_in_place(const char *path, const char *text)
{
  FILE *f = fopen(path, "r+");

  g_assert_nonnull(f);
  g_assert_cmpuint(fwrite(text, 1, strlen(text), f), ==, strlen(text));
  g_assert_cmpint(fclose(f), ==, 0);
}

/* The messages of an mbox share the stamp of their file: unchanged since
 * pass 1 opened it, they are read again without being hashed again; once
 * the file is written (replaced, or in place), each is checked by its hash:
 * a message changed is not sent, the one before it is. */
static void
test_mbox_changed_between_passes(Fixture *f, gconstpointer data)
{
  static const char *const mbox
      = "From a@a.test Mon Jan  1 00:00:00 2024\nFrom: a@a.test\nTo: b@b.test\nSubject: "
        "one\n\n1\n\n"
        "From a@a.test Mon Jan  1 00:00:00 2024\nFrom: a@a.test\nTo: b@b.test\nSubject: two\n\n2\n";
  g_autofree char *path = g_build_filename(f->dir, "box", NULL);
  g_autofree char *edited = g_strdup(mbox);

  edited[strlen(edited) - 2] = '3';   /* the second body, same length */
  for (int how = 0; how < 3; how++) { /* unchanged, replaced, written in place */
    FarceurBatchOptions options;
    g_autoptr(FarceurBatch) batch = NULL;
    g_autoptr(GError) error = NULL;
    guint seen = 0;
    g_assert_true(g_file_set_contents(path, mbox, -1, NULL));
    g_usleep(300000); /* older than the run: its stamp is trusted */
    farceur_batch_options_init(&options);
    batch = farceur_batch_new(&options);
    g_assert_true(farceur_batch_add_input(batch, path, &error));
    g_assert_no_error(error);
    if (how == 1)
      g_assert_true(g_file_set_contents(path, edited, -1, NULL));
    else if (how == 2)
      overwrite_in_place(path, edited);
    g_assert_cmpint(farceur_batch_foreach(batch, count_cb, &seen, &error), ==, how == 0);
    g_assert_cmpuint(seen, ==, how == 0 ? 2 : 1);
    if (how == 0)
      continue;
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
    g_assert_nonnull(strstr(error->message, "box#2"));
  }
}

/* A field too long to be located with certainty (a Bcc folded over 1 MiB)
 * makes its message go out as GMime writes it, read again by a parser kept
 * per file: here the 2nd and 3rd messages of an mbox whose 1st goes out as
 * stored.  None keeps its Bcc. */
static void
test_mbox_gmime_fallback(Fixture *f, gconstpointer data)
{
  g_autofree char *maildir = g_build_filename(f->dir, "out", NULL);
  g_autofree char *newdir = g_build_filename(maildir, "new", NULL);
  g_autofree char *path = g_build_filename(f->dir, "box", NULL);
  g_autofree char *fold = g_strnfill(1100000, ' ');
  GString *box = g_string_new(NULL);
  FarceurBatchOptions options;
  g_autoptr(FarceurBatch) batch = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint bodies = 0;

  for (guint i = 1; i <= 3; i++) {
    g_string_append_printf(box, "From a@a.test Mon Jan  1 00:00:00 2024\nFrom: a@a.test\n"
                                "To: b@b.test\n");
    if (i > 1)
      g_string_append_printf(box, "Bcc: z@z.test,\n%s\n", fold);
    g_string_append_printf(box, "Subject: m%u\n\nbody %u\n\n", i, i);
  }
  g_assert_true(g_file_set_contents(path, box->str, (gssize)box->len, NULL));
  g_string_free(box, TRUE);
  f->url = g_strconcat("maildir:", maildir, NULL);
  farceur_batch_options_init(&options);
  batch = farceur_batch_new(&options);
  g_assert_true(farceur_batch_add_input(batch, path, &error));
  g_assert_no_error(error);
  run(f, batch);
  g_assert_cmpuint(f->states->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint(state_of(f, i), ==, FARCEUR_BATCH_DELIVERED);
  dir = g_dir_open(newdir, 0, NULL);
  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *file = g_build_filename(newdir, name, NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
    g_assert_null(strstr(text, "Bcc"));
    bodies += strstr(text, "\nbody ") != NULL;
  }
  g_assert_cmpuint(bodies, ==, 3);
}

/* LMTP: the connection drops after the first of two per-recipient replies.
 * The first recipient is delivered, the second unknown (partial); a re-run
 * sends nothing and reports the message unknown (an earlier run's); with
 * --resend-unknown it sends to the second alone. */
static void
test_lmtp_drop_between_replies(Fixture *f, gconstpointer data)
{
  static const ScriptedStep drop[] = {
    { "220 lmtp.test LMTP\r\n" }, { "250 lmtp.test\r\n" }, { OK }, { OK }, { OK }, { GO },
    { OK, SCRIPTED_CLOSE },
  };
  static const ScriptedStep accept[] = {
    { "220 lmtp.test LMTP\r\n" }, { "250 lmtp.test\r\n" }, { OK }, { OK }, { GO }, { OK }, { BYE },
  };
  static const char *const text = "From: a@a.test\nTo: b@b.test, c@c.test\nSubject: hi\n\nHi.\n";
  g_autoptr(FarceurJournal) journal = journal_open(f);
  FarceurBatchOptions options;

  farceur_batch_options_init(&options);
  options.journal = journal;
  for (int pass = 0; pass < 3; pass++) {
    g_autoptr(ScriptedServer) server = NULL;
    g_autoptr(FarceurBatch) batch = NULL;
    options.resend_unknown = pass == 2;
    if (pass == 1) {
      use_server_port_closed(f);
    } else {
      server = pass == 0 ? scripted_server_new(drop, G_N_ELEMENTS(drop))
                         : scripted_server_new(accept, G_N_ELEMENTS(accept));
      use_server(f, server);
    }
    g_autofree char *url = g_strconcat("lmtp://", f->url, NULL);
    g_free(f->url);
    f->url = g_steal_pointer(&url);
    batch = farceur_batch_new(&options);
    add_message(batch, "m1", text);
    run(f, batch);
    g_assert_cmpuint(f->states->len, ==, 1);
    g_assert_cmpint(state_of(f, 0), ==,
                    pass == 0   ? FARCEUR_BATCH_PARTIAL
                    : pass == 1 ? FARCEUR_BATCH_UNKNOWN
                                : FARCEUR_BATCH_DELIVERED);
    g_assert_cmpint(farceur_journal_lookup(journal, f->sha256, f->mail_from, "b@b.test"), ==,
                    FARCEUR_JOURNAL_DELIVERED);
    g_assert_cmpint(farceur_journal_lookup(journal, f->sha256, f->mail_from, "c@c.test"), ==,
                    pass < 2 ? FARCEUR_JOURNAL_UNKNOWN : FARCEUR_JOURNAL_DELIVERED);
    if (server != NULL) {
      const char *transcript = scripted_server_wait(server);
      g_assert_cmpuint(scripted_server_get_n_messages(server), ==, 1);
      if (pass == 2) /* only the recipient whose fate was unknown */
        g_assert_null(strstr(transcript, "RCPT TO:<b@b.test>"));
    }
  }
}

/* Messages go out as stored: their own octets (folding, spacing, a "Bcc:"
 * line in the body, a ">From" line in an mbox) less the Bcc, Resent-Bcc and
 * Return-Path fields, wherever they stand, in files and in an mbox alike; a
 * re-run with the journal connects to nothing. */
typedef struct {
  const char *name;
  const char *text;
} StoredCase;

static const StoredCase stored_cases[] = {
  { "1-folded.eml",
    "From: a@a.test\r\nTo: b@b.test\r\nBcc: c@c.test,\r\n d@d.test\r\nSubject:  odd  "
    "spacing\r\n\tfolded\r\n\r\nBcc: stays in the body\r\n.leading dot\r\n" },
  { "2-ends.eml", "Return-Path: <x@x.test>\nFrom: a@a.test\nTo: b@b.test\nResent-From: a@a.test\n"
                  "Resent-Bcc: z@z.test\n\nbody\n" },
  { "3-mbox",
    "From a@a.test Mon Jan  1 00:00:00 2024\nFrom: a@a.test\nTo: b@b.test\nSubject: one\n\n1\n"
    ">From here\n\nFrom a@a.test Mon Jan  1 00:00:00 2024\nFrom: a@a.test\nTo: b@b.test\n"
    "Bcc: z@z.test\nSubject: two\n\n2\n" },
  { "4-headers-only.eml", "From: a@a.test\nTo: b@b.test\nBCC : e@e.test" },
  /* GMime would write one more line end after each of these two */
  { "5-no-boundary.eml", "From: a@a.test\nTo: b@b.test\nContent-Type: multipart/mixed\n\nno "
                         "boundary\n" },
};

/* What the server gets, after dot-unstuffing. */
static const char *const stored_expect[] = {
  ("=From: a@a.test\r\nTo: b@b.test\r\nSubject:  odd  spacing\r\n\tfolded\r\n\r\nBcc: stays in "
   "the body\r\n.leading dot\r\n"),
  "=From: a@a.test\r\nTo: b@b.test\r\nResent-From: a@a.test\r\n\r\nbody\r\n",
  "=From: a@a.test\r\nTo: b@b.test\r\nSubject: one\r\n\r\n1\r\n>From here\r\n",
  "=From: a@a.test\r\nTo: b@b.test\r\nSubject: two\r\n\r\n2\r\n",
  "=From: a@a.test\r\nTo: b@b.test\r\n",
  "=From: a@a.test\r\nTo: b@b.test\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n",
};

static void
test_stored_as_sent(Fixture *f, gconstpointer data)
{
  /* 1: b, c, d; 2: z (its Resent- block); 3#1: b; 3#2: b, z; 4: b, e; 5: b */
  static const ScriptedStep steps[] = {
    { GREETING }, { EHLO }, { OK }, { OK }, { OK }, { OK }, { GO }, { OK }, /* 1 */
    { OK },       { OK },   { GO }, { OK },                                 /* 2 */
    { OK },       { OK },   { GO }, { OK },                                 /* 3#1 */
    { OK },       { OK },   { OK }, { GO }, { OK },                         /* 3#2 */
    { OK },       { OK },   { OK }, { GO }, { OK },                         /* 4 */
    { OK },       { OK },   { GO }, { OK },                                 /* 5 */
    { BYE },
  };
  g_autofree char *in = g_build_filename(f->dir, "in", NULL);
  g_autoptr(FarceurJournal) journal = journal_open(f);
  FarceurBatchOptions options;

  g_assert_cmpint(g_mkdir(in, 0700), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS(stored_cases); i++) {
    g_autofree char *path = g_build_filename(in, stored_cases[i].name, NULL);
    g_assert_true(g_file_set_contents(path, stored_cases[i].text, -1, NULL));
  }
  farceur_batch_options_init(&options);
  options.connections = 1;
  options.journal = journal;
  for (int pass = 0; pass < 2; pass++) {
    g_autoptr(ScriptedServer) server
        = pass == 0 ? scripted_server_new(steps, G_N_ELEMENTS(steps)) : NULL;
    g_autoptr(FarceurBatch) batch = farceur_batch_new(&options);
    g_autoptr(GError) error = NULL;
    if (server != NULL)
      use_server(f, server);
    else
      use_server_port_closed(f);
    g_assert_true(farceur_batch_add_input(batch, in, &error));
    g_assert_no_error(error);
    run(f, batch);
    g_assert_cmpuint(f->states->len, ==, G_N_ELEMENTS(stored_expect));
    for (guint i = 0; i < G_N_ELEMENTS(stored_expect); i++)
      g_assert_cmpint(state_of(f, i), ==,
                      pass == 0 ? FARCEUR_BATCH_DELIVERED : FARCEUR_BATCH_SKIPPED);
    if (server == NULL)
      continue;
    scripted_server_wait(server);
    g_assert_cmpuint(scripted_server_get_n_messages(server), ==, G_N_ELEMENTS(stored_expect));
    for (guint m = 0; m < G_N_ELEMENTS(stored_expect); m++) {
      g_autoptr(GBytes) got = scripted_server_unstuff(scripted_server_get_message(server, m));
      g_autofree char *text = g_strndup(g_bytes_get_data(got, NULL), g_bytes_get_size(got));
      g_assert_cmpstr(text, ==, stored_expect[m] + 1);
    }
  }
}

/* Runs @inputs (NULL-terminated) into the Maildir of f->url with @journal;
 * returns how many messages were delivered (not skipped). */
static guint
run_inputs(Fixture *f, FarceurJournal *journal, const char *const *inputs)
{
  FarceurBatchOptions options;
  g_autoptr(FarceurBatch) batch = NULL;
  guint delivered = 0;

  farceur_batch_options_init(&options);
  options.journal = journal;
  batch = farceur_batch_new(&options);
  for (guint i = 0; inputs[i]; i++) {
    g_autoptr(GError) error = NULL;
    g_assert_true(farceur_batch_add_input(batch, inputs[i], &error));
    g_assert_no_error(error);
  }
  run(f, batch);
  for (guint i = 0; i < f->states->len; i++)
    delivered += state_of(f, i) == FARCEUR_BATCH_DELIVERED;
  return delivered;
}

/* The journal knows a delivery by its content and envelope, not its path
 * (issue 10, finding 1): files moved new/ -> cur/ with flags, the same
 * files by another path, an mbox with a message inserted before the others,
 * one file named twice in a run: nothing goes out twice, and only the new
 * message goes out. */
static void
test_journal_key_not_path(Fixture *f, gconstpointer data)
{
  g_autofree char *box = g_build_filename(f->dir, "box", NULL);
  g_autofree char *out = g_build_filename(f->dir, "out", NULL);
  g_autofree char *outnew = g_build_filename(out, "new", NULL);
  g_autofree char *mbox = g_build_filename(f->dir, "in.mbox", NULL);
  g_autofree char *cwd = g_get_current_dir();
  g_autoptr(FarceurJournal) journal = journal_open(f);
  g_autoptr(GString) text = g_string_new(NULL);
  char *paths[3], *moved[3];

  f->url = g_strconcat("maildir:", out, NULL);
  for (const char *sub = "new"; sub; sub = g_str_equal(sub, "new") ? "cur" : NULL) {
    g_autofree char *dir = g_build_filename(box, sub, NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
  }
  for (guint i = 0; i < 3; i++) {
    g_autofree char *name = g_strdup_printf("17000000%u.M1P1.host", i);
    g_autofree char *msg = g_strdup_printf(MESSAGE, i, i);
    paths[i] = g_build_filename(box, "new", name, NULL);
    moved[i] = g_strdup_printf("%s/cur/%s:2,S", box, name);
    g_assert_true(g_file_set_contents(paths[i], msg, -1, NULL));
  }
  {
    const char *first[] = { paths[0], paths[1], paths[2], NULL };
    g_assert_cmpuint(run_inputs(f, journal, first), ==, 3);
  }
  /* A mail client read them: new/ -> cur/, flags appended. */
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint(g_rename(paths[i], moved[i]), ==, 0);
  {
    const char *again[] = { box, NULL };
    g_assert_cmpuint(run_inputs(f, journal, again), ==, 0);
    g_assert_cmpuint(f->states->len, ==, 3);
  }
  /* The same files by a relative path. */
  g_assert_cmpint(g_chdir(box), ==, 0);
  {
    g_autofree char *rel = g_path_get_basename(moved[1]);
    g_autofree char *relpath = g_build_filename("cur", rel, NULL);
    const char *again[] = { relpath, NULL };
    g_assert_cmpuint(run_inputs(f, journal, again), ==, 0);
    g_assert_cmpint(state_of(f, 0), ==, FARCEUR_BATCH_SKIPPED);
  }
  g_assert_cmpint(g_chdir(cwd), ==, 0);
  g_assert_cmpuint(count_files(outnew), ==, 3);
  /* An mbox of two messages, then the same with a new message inserted first. */
  for (guint i = 10; i < 12; i++)
    g_string_append_printf(text, "From alice@a.test Mon Nov 23 02:40:00 2026\n" MESSAGE "\n", i, i);
  g_assert_true(g_file_set_contents(mbox, text->str, -1, NULL));
  {
    const char *in[] = { mbox, NULL };
    g_assert_cmpuint(run_inputs(f, journal, in), ==, 2);
    g_string_prepend(text, "From alice@a.test Mon Nov 23 02:40:00 2026\n" SIMPLE "\n");
    g_assert_true(g_file_set_contents(mbox, text->str, -1, NULL));
    g_assert_cmpuint(run_inputs(f, journal, in), ==, 1);
    g_assert_cmpuint(f->states->len, ==, 3);
    g_assert_cmpint(state_of(f, 1), ==, FARCEUR_BATCH_SKIPPED);
    g_assert_cmpint(state_of(f, 2), ==, FARCEUR_BATCH_SKIPPED);
  }
  g_assert_cmpuint(count_files(outnew), ==, 6);
  /* One run naming a new file twice, by two paths: it goes once. */
  {
    g_autofree char *twice = g_build_filename(box, "new", "twice", NULL);
    g_autofree char *dotted = g_build_filename(box, "cur", "..", "new", "twice", NULL);
    const char *both[] = { twice, dotted, NULL };
    g_assert_true(g_file_set_contents(twice, SIMPLE "Twice.\n", -1, NULL));
    g_assert_cmpuint(run_inputs(f, journal, both), ==, 1);
    g_assert_cmpint(state_of(f, 1), ==, FARCEUR_BATCH_SKIPPED);
  }
  g_assert_cmpuint(count_files(outnew), ==, 7);
  for (guint i = 0; i < 3; i++) {
    g_free(paths[i]);
    g_free(moved[i]);
  }
}

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  ADD("/batch/maildir-journal", test_maildir_and_journal);
  ADD("/batch/journal-key-not-path", test_journal_key_not_path);
  ADD("/batch/envelope-options", test_envelope_options);
  ADD("/batch/invalid-envelope", test_invalid_envelope);
  ADD("/batch/unknown-not-resent", test_unknown_not_resent);
  ADD("/batch/drop-mid-data", test_drop_mid_data);
  ADD("/batch/tempfail-retried", test_tempfail_retried);
  ADD("/batch/some-refused", test_some_refused);
  ADD("/batch/some-deferred", test_some_deferred);
  ADD("/batch/recipient-limit", test_recipient_limit);
  ADD("/batch/cancel-during-backoff", test_cancel_during_backoff);
  ADD("/batch/changed-between-passes", test_changed_between_passes);
  ADD("/batch/mbox-changed-between-passes", test_mbox_changed_between_passes);
  ADD("/batch/mbox-gmime-fallback", test_mbox_gmime_fallback);
  ADD("/batch/stored-as-sent", test_stored_as_sent);
  ADD("/batch/lmtp-drop-between-replies", test_lmtp_drop_between_replies);
  return g_test_run();
}
