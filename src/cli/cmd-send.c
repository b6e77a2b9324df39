/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur send [FILE|DIR|MBOX|-]...: deliver existing messages through a
 * target (farceur-send(1); data/doc/envelope.md; data/doc/formats.md, The journal). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli-output.h"
#include "cli-secret.h"
#include "cli-signal.h"
#include "cli-status.h"
#include "cli-term.h"
#include "commands.h"

typedef struct {
  /* options */
  char *via;
  char *from;
  char **rcpts;
  gboolean headers_rcpts;
  char *helo;
  char *user;
  char *password_command;
  char *auth;
  char *tls_ca;
  gboolean insecure;
  gboolean allow_plaintext_auth;
  gboolean no_pipelining;
  int max_per_session; /* smtp (data/doc/smtp.md, Sessions) */
  int connections;
  int retries;
  double retry_delay;
  double timeout;
  char *transcript_path;
  char *journal_path;
  char *shard_text;
  guint shard; /* --shard K/N: K, from 1; 0: every message */
  guint shards;
  gboolean resend_unknown;
  gboolean forget_unknown;
  gboolean json;
  gboolean dry_run;
  gboolean quiet;

  /* run state */
  CliSecret *password;
  FILE *transcript;
  guint opened;           /* sessions opened, to tag transcript lines */
  GPtrArray *transcripts; /* (element-type SendTranscript) */
  FarceurSmtpOptions smtp;
  guint done, failed, total;
  gint64 started;
  CliProgress progress;
  CliWorst worst;        /* the most serious outcome: the exit status */
  GPtrArray *unresolved; /* (element-type utf8) sources unknown since an earlier run */
} SendCli;

typedef struct {
  SendCli *cli;
  guint number;
} SendTranscript;

static void
send_cli_clear(SendCli *cli)
{
  g_free(cli->via);
  g_free(cli->from);
  g_strfreev(cli->rcpts);
  g_free(cli->helo);
  g_free(cli->user);
  g_free(cli->password_command);
  g_free(cli->auth);
  g_free(cli->tls_ca);
  g_free(cli->transcript_path);
  g_free(cli->journal_path);
  g_free(cli->shard_text);
  cli_secret_free(cli->password);
  cli_worst_clear(&cli->worst);
  if (cli->transcript)
    fclose(cli->transcript);
  if (cli->transcripts)
    g_ptr_array_unref(cli->transcripts);
  if (cli->unresolved)
    g_ptr_array_unref(cli->unresolved);
}

static GOptionContext *
send_context(SendCli *cli)
{
  const GOptionEntry entries[] = {
    { "via", 0, 0, G_OPTION_ARG_STRING, &cli->via,
      "Where to deliver: smtp://[USER@]HOST[:PORT], smtp+starttls://, smtps://, lmtp://HOST:PORT, "
      "lmtp:/SOCKET, exec:COMMAND, HOST:PORT, maildir:DIR, mbox:FILE",
      "URL" },
    { "from", 'f', 0, G_OPTION_ARG_STRING, &cli->from, "Envelope sender (MAIL FROM)", "ADDR" },
    { "rcpt", 'r', 0, G_OPTION_ARG_STRING_ARRAY, &cli->rcpts,
      "Envelope recipient (repeatable); replaces the header recipients unless -t", "ADDR" },
    { "read-recipients", 't', 0, G_OPTION_ARG_NONE, &cli->headers_rcpts,
      "Take recipients from To/Cc/Bcc (or the first Resent- block), also with --rcpt", NULL },
    { "helo", 0, 0, G_OPTION_ARG_STRING, &cli->helo, "Name to give in EHLO/LHLO", "NAME" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &cli->user, "Authenticate as NAME", "NAME" },
    { "password-command", 0, 0, G_OPTION_ARG_STRING, &cli->password_command,
      "Run CMD and read the password from its first output line (else $FARCEUR_PASSWORD)", "CMD" },
    { "auth", 0, 0, G_OPTION_ARG_STRING, &cli->auth,
      "SASL mechanism: PLAIN, LOGIN, CRAM-MD5 (default: the best offered)", "MECH" },
    { "tls-ca", 0, 0, G_OPTION_ARG_FILENAME, &cli->tls_ca, "Trust the CAs in FILE (PEM)", "FILE" },
    { "insecure", 0, 0, G_OPTION_ARG_NONE, &cli->insecure,
      "Do not verify TLS certificates (warns every time)", NULL },
    { "allow-plaintext-auth", 0, 0, G_OPTION_ARG_NONE, &cli->allow_plaintext_auth,
      "Allow AUTH without TLS to a server that is not on loopback", NULL },
    { "no-pipelining", 0, 0, G_OPTION_ARG_NONE, &cli->no_pipelining,
      "Wait for each reply even when the server offers PIPELINING", NULL },
    { "max-per-session", 0, 0, G_OPTION_ARG_INT, &cli->max_per_session,
      "End each session after N messages and open a new one (default: no limit)", "N" },
    { "connections", 'c', 0, G_OPTION_ARG_INT, &cli->connections, "Parallel sessions (default 4)",
      "N" },
    { "retries", 0, 0, G_OPTION_ARG_INT, &cli->retries,
      "Retries after a 4xx, with doubling back-off (default 3)", "N" },
    { "retry-delay", 0, 0, G_OPTION_ARG_DOUBLE, &cli->retry_delay,
      "First back-off in seconds (default 1)", "SECONDS" },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &cli->timeout,
      "Every wait: connect and each reply (default: 10 s to connect, 30 s for the greeting, "
      "RFC 5321 4.5.3.2 after it)",
      "SECONDS" },
    { "transcript", 0, 0, G_OPTION_ARG_FILENAME, &cli->transcript_path,
      "Write the SMTP dialogue to FILE (C:/S: lines, AUTH hidden; #N before each line names the "
      "session when there are several)",
      "FILE" },
    { "journal", 0, 0, G_OPTION_ARG_FILENAME, &cli->journal_path,
      "Record each outcome in FILE; a re-run sends only what was not delivered", "FILE" },
    { "resend-unknown", 0, 0, G_OPTION_ARG_NONE, &cli->resend_unknown,
      "Also resend messages whose final dot got no reply", NULL },
    { "forget-unknown", 0, 0, G_OPTION_ARG_NONE, &cli->forget_unknown,
      "Record in the journal that messages whose final dot got no reply must not be resent", NULL },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &cli->shard_text,
      "Only the messages of shard K of N (by file name and mbox place), for N runs in parallel",
      "K/N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &cli->json, "One JSON object per message on stdout", NULL },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &cli->dry_run,
      "Show each envelope and message; connect to nothing", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &cli->quiet, "Report only failures and the summary",
      NULL },
    { NULL },
  };
  GOptionContext *context = cli_context_new("send", "[FILE|DIR|MBOX|-]...",
                                            "Deliver existing messages through a transport.");

  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_set_description(
      context, "Every input is read and its envelope checked before the first connection.\n"
               "Exit status: the most serious outcome (0 all delivered, 69 refused, 75 deferred "
               "or unknown, ...).");
  return context;
}

/* ---- password ---- */

static gboolean
send_get_password(SendCli *cli, const FarceurTargetUrl *url, GError **error)
{
  if (cli->user == NULL && url->user == NULL)
    return TRUE;
  cli->password = cli_secret_get_password(cli->password_command, error);
  return cli->password != NULL;
}

/* ---- sessions ---- */

static void
send_transcript_cb(const char *line, gpointer user_data)
{
  SendTranscript *t = user_data;

  cli_output_transcript_line(t->cli->transcript, t->number,
                             t->cli->connections > 1 && t->cli->total > 1, line);
}

/* First contact that takes long, on a terminal (data/doc/smtp.md, Timeouts). */
static void
send_notice_cb(const char *line, gpointer user_data)
{
  SendCli *cli = user_data;

  cli_progress_clear(&cli->progress);
  g_printerr("farceur send: %s\n", line);
}

static FarceurTarget *
send_open_target(gpointer user_data, GError **error)
{
  SendCli *cli = user_data;
  g_autoptr(FarceurTarget) target = farceur_target_new(cli->via, error);
  FarceurSmtpOptions options = cli->smtp;

  if (target == NULL)
    return NULL;
  cli->opened++;
  if (cli->transcript != NULL) {
    SendTranscript *t = g_new(SendTranscript, 1);
    t->cli = cli;
    t->number = cli->opened;
    g_ptr_array_add(cli->transcripts, t);
    options.transcript = send_transcript_cb;
    options.transcript_data = t;
  }
  if (cli_term_is_tty(2)) {
    options.notice = send_notice_cb;
    options.notice_data = cli;
  }
  if (!farceur_target_set_smtp_options(target, &options, error))
    return NULL;
  return g_steal_pointer(&target);
}

/* ---- reports ---- */

static const char *
send_domain(const char *addr)
{
  const char *at = addr ? strrchr(addr, '@') : NULL;

  return at ? at + 1 : "";
}

/* The forgery the prank relies on, named (data/doc/envelope.md). */
static void
send_print_mismatch(const FarceurBatchResult *r)
{
  if (r->header_from != NULL && r->envelope->mail_from[0] != '\0'
      && g_ascii_strcasecmp(send_domain(r->header_from), send_domain(r->envelope->mail_from)) != 0)
    printf("  note: envelope sender <%s> is not in the From domain (%s): a forged sender\n",
           r->envelope->mail_from, r->header_from);
}

static void
send_print_human(SendCli *cli, const FarceurBatchResult *r)
{
  g_autoptr(GString) rcpts = g_string_new(NULL);

  if (cli->quiet && (r->state == FARCEUR_BATCH_DELIVERED || r->state == FARCEUR_BATCH_SKIPPED))
    return;
  for (guint i = 0; i < r->envelope->rcpt_to->len; i++)
    g_string_append_printf(rcpts, "%s%s", i ? ", " : "", (char *)r->envelope->rcpt_to->pdata[i]);
  printf("%-9s %s  <%s> -> %s", farceur_batch_state_to_string(r->state), r->source,
         r->envelope->mail_from, rcpts->str);
  if (r->delivery && r->delivery->location)
    printf("  (%s)", r->delivery->location);
  if (r->delivery && g_strcmp0(r->delivery->tls, "unverified") == 0)
    printf("  [TLS unverified]");
  printf("\n");
  if (r->origin == FARCEUR_BATCH_ENVELOPE_STORED)
    printf("  envelope: the one stored in the message (Return-Path, Envelope-to)\n");
  send_print_mismatch(r);
  for (guint i = 0; r->delivery && i < r->delivery->rcpts->len; i++) {
    const FarceurRcptOutcome *o = r->delivery->rcpts->pdata[i];
    if (o->status == FARCEUR_RCPT_ACCEPTED)
      continue;
    if (o->code == 0) /* no reply: a local target, or the journal */
      printf("  %-8s %s: %s\n", farceur_rcpt_status_to_string(o->status), o->addr,
             o->text ? o->text : "");
    else
      printf("  %-8s %s: %u%s%s %s\n", farceur_rcpt_status_to_string(o->status), o->addr, o->code,
             o->enhanced ? " " : "", o->enhanced ? o->enhanced : "", o->text ? o->text : "");
  }
  if (r->error != NULL && r->state != FARCEUR_BATCH_PARTIAL)
    printf("  error: %s\n", r->error->message);
}

static void
send_result_cb(const FarceurBatchResult *result, gpointer user_data)
{
  SendCli *cli = user_data;

  cli->done++;
  if (result->earlier_unknown)
    g_ptr_array_add(cli->unresolved, g_strdup(result->source));
  if (result->state != FARCEUR_BATCH_DELIVERED && result->state != FARCEUR_BATCH_SKIPPED)
    cli->failed++;
  cli_worst_note(&cli->worst, result->error, result->source);
  cli_progress_clear(&cli->progress);
  if (cli->json)
    cli_output_json(farceur_batch_result_to_json(result));
  else
    send_print_human(cli, result);
  if (cli->progress.enabled)
    cli_output_flush();
  cli_progress_update(&cli->progress, cli->done, cli->total, cli->failed, FALSE);
}

#define SEND_NAMED_MAX 10 /* unresolved messages named in the summary */

/* The messages an earlier run left unknown, named until the user decides. */
static void
send_summary_unresolved(SendCli *cli)
{
  guint n = cli->unresolved->len;

  if (n == 0)
    return;
  g_printerr("farceur send: %u message%s unknown since an earlier run (journal), not sent again:",
             n, n == 1 ? "" : "s");
  for (guint i = 0; i < MIN(n, SEND_NAMED_MAX); i++)
    g_printerr("%s '%s'", i ? "," : "", (char *)cli->unresolved->pdata[i]);
  if (n > SEND_NAMED_MAX)
    g_printerr(" and %u more", n - SEND_NAMED_MAX);
  g_printerr("\nfarceur send: decide: --resend-unknown sends %s again (a copy may arrive twice), "
             "--forget-unknown records that %s must not be\n",
             n == 1 ? "it" : "them", n == 1 ? "it" : "they");
}

static void
send_summary(SendCli *cli, const FarceurBatchSummary *s, gboolean interrupted)
{
  double elapsed = (g_get_monotonic_time() - cli->started) / 1e6;

  cli_progress_clear(&cli->progress);
  g_printerr("farceur send: %u message%s in %.1f s: %u delivered", s->total,
             s->total == 1 ? "" : "s", elapsed, s->delivered);
  if (s->partial)
    g_printerr(", %u partly", s->partial);
  if (s->refused)
    g_printerr(", %u refused", s->refused);
  if (s->deferred)
    g_printerr(", %u deferred", s->deferred);
  if (s->unknown)
    g_printerr(", %u unknown", s->unknown);
  if (s->skipped)
    g_printerr(", %u skipped (journal)", s->skipped);
  if (s->failed)
    g_printerr(", %u failed", s->failed);
  if (s->rcpt_refused)
    g_printerr("; %u recipient%s refused", s->rcpt_refused, s->rcpt_refused == 1 ? "" : "s");
  g_printerr("\n");
  send_summary_unresolved(cli);
  if (cli->worst.error != NULL && !interrupted)
    g_printerr("farceur send: exit %d, the most serious outcome: '%s': %s\n", cli->worst.status,
               cli->worst.subject, cli->worst.error->message);
}

/* ---- dry run ---- */

/* A stored message a real send over SMTP (the default when no --via is
 * given) would refuse, refused the same way, in the same words: a long
 * header line, say.  A local target takes any line. */
static gboolean
send_dry_run_check(SendCli *cli, const char *source, GMimeStream *stored)
{
  g_autoptr(FarceurTargetUrl) url = cli->via ? farceur_target_url_parse(cli->via, NULL) : NULL;
  g_autoptr(GError) error = NULL;

  if (stored == NULL || (url != NULL && !farceur_target_url_is_smtp(url))
      || farceur_smtp_check_stream(stored, &error))
    return TRUE;
  g_printerr("farceur send: '%s': %s\n", source, error->message);
  cli_worst_note(&cli->worst, error, source);
  return FALSE;
}

static void
send_dry_run_cb(const char *source, const FarceurEnvelope *envelope,
                FarceurBatchEnvelopeOrigin origin, GMimeMessage *message, GMimeStream *stored,
                gpointer user_data)
{
  SendCli *cli = user_data;
  g_autoptr(GMimeStream) out = NULL;
  gint64 written;

  if (!send_dry_run_check(cli, source, stored))
    return;
  if (cli->json) {
    cli_output_json(farceur_batch_envelope_to_json(source, envelope, origin));
    return;
  }
  printf("== %s\n", source);
  if (origin == FARCEUR_BATCH_ENVELOPE_STORED)
    printf("# envelope: the one stored in the message (Return-Path, Envelope-to)\n");
  printf("MAIL FROM:<%s>\n", envelope->mail_from);
  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    printf("RCPT TO:<%s>\n", (char *)envelope->rcpt_to->pdata[i]);
  printf("\n");
  cli_output_flush();
  out = g_mime_stream_pipe_new(STDOUT_FILENO);
  g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(out), FALSE);
  if (stored != NULL) { /* exactly what goes out, but for line ends and dots */
    g_mime_stream_reset(stored);
    written = g_mime_stream_write_to_stream(stored, out);
  } else {
    written = g_mime_object_write_to_stream(GMIME_OBJECT(message), NULL, out);
  }
  if (written == -1 || g_mime_stream_flush(out) == -1)
    cli_output_failed(errno);
  printf("\n");
}

/* ---- main ---- */

static gboolean
send_check_options(SendCli *cli, int argc, GError **error)
{
  if (cli->via == NULL && !cli->dry_run) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                        "no delivery target: give --via URL (or --dry-run)");
    return FALSE;
  }
  if (cli->connections < 1 || cli->connections > 256 || cli->retries < 0 || cli->timeout < 0
      || cli->retry_delay < 0) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                        "--connections must be 1 to 256; --retries, --retry-delay and "
                        "--timeout must not be negative");
    return FALSE;
  }
  if (cli->max_per_session < 0) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                        "--max-per-session must not be negative");
    return FALSE;
  }
  if (argc < 2) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                        "no input: give message files, folders, mboxes or '-'");
    return FALSE;
  }
  if (cli->resend_unknown && cli->forget_unknown) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                        "--resend-unknown and --forget-unknown exclude each other");
    return FALSE;
  }
  if (cli->forget_unknown && cli->journal_path == NULL) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                        "--forget-unknown needs --journal, where the decision is recorded");
    return FALSE;
  }
  return cli->shard_text == NULL
         || farceur_input_parse_shard(cli->shard_text, &cli->shard, &cli->shards, error);
}

static gboolean
send_prepare(SendCli *cli, GError **error)
{
  g_autoptr(FarceurTargetUrl) url = NULL;

  if (cli->dry_run)
    return TRUE;
  url = farceur_target_url_parse(cli->via, error);
  if (url == NULL || !send_get_password(cli, url, error))
    return FALSE;
  if (cli->insecure)
    g_printerr("farceur send: warning: --insecure: TLS certificates are NOT verified; "
               "anyone on the path can read and change this mail\n");
  cli->smtp = (FarceurSmtpOptions){
    cli->helo,
    cli->user,
    cli->password,
    cli->auth,
    cli->tls_ca,
    cli->insecure,
    cli->allow_plaintext_auth,
    (guint)(cli->timeout * 1000),
    cli->no_pipelining,
    NULL,
    NULL,
    (guint)cli->max_per_session,
  };
  if (cli->transcript_path != NULL) {
    cli->transcript = fopen(cli->transcript_path, "w");
    if (cli->transcript == NULL) {
      g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT, "transcript '%s': %s",
                  cli->transcript_path, g_strerror(errno));
      return FALSE;
    }
  }
  return TRUE;
}

static FarceurBatch *
send_fill(SendCli *cli, FarceurJournal *journal, int argc, char **argv, GError **error)
{
  FarceurBatchOptions options;
  g_autoptr(FarceurBatch) batch = NULL;

  farceur_batch_options_init(&options);
  options.connections = cli->connections;
  options.retries = cli->retries;
  options.retry_delay_ms = (guint)(cli->retry_delay * 1000);
  options.journal = journal;
  options.resend_unknown = cli->resend_unknown;
  options.forget_unknown = cli->forget_unknown;
  options.mail_from = cli->from;
  options.rcpts = (const char *const *)cli->rcpts;
  options.rcpts_from_headers = cli->headers_rcpts;
  options.shard = cli->shard;
  options.shards = cli->shards;
  batch = farceur_batch_new(&options);
  for (int i = 1; i < argc; i++)
    if (!farceur_batch_add_input(batch, argv[i], error))
      return NULL;
  return g_steal_pointer(&batch);
}

/* Runs the batch, stopped in order by SIGINT or SIGTERM; the exit status
 * is then 128 + the signal's number, whatever the outcomes. */
static int
send_deliver(SendCli *cli, FarceurBatch *batch)
{
  GError *error = NULL;
  int signal_status;

  if (!cli_signal_run_batch("send", batch, send_open_target, cli, cli->journal_path != NULL,
                            &signal_status, &error))
    return cli_report_error("send", error);
  send_summary(cli, farceur_batch_get_summary(batch), signal_status != 0);
  return signal_status != 0 ? signal_status : cli->worst.status;
}

static int
send_run(SendCli *cli, int argc, char **argv)
{
  g_autoptr(FarceurJournal) journal = NULL;
  g_autoptr(FarceurBatch) batch = NULL;
  GError *error = NULL;

  if (!send_check_options(cli, argc, &error) || !send_prepare(cli, &error))
    return cli_report_error("send", error);
  if (cli->journal_path != NULL && !cli->dry_run
      && (journal = farceur_journal_open(cli->journal_path, &error)) == NULL)
    return cli_report_error("send", error);
  if (journal != NULL && farceur_journal_get_dropped_lines(journal) > 0)
    g_printerr("farceur send: journal '%s': dropped a torn last line (an interrupted run)\n",
               cli->journal_path);
  if (journal != NULL && farceur_journal_get_legacy_records(journal) > 0)
    g_printerr("farceur send: journal '%s': %u record%s of the first format (no MAIL FROM) "
               "read as settling their content for any path and sender\n",
               cli->journal_path, farceur_journal_get_legacy_records(journal),
               farceur_journal_get_legacy_records(journal) == 1 ? "" : "s");
  batch = send_fill(cli, journal, argc, argv, &error);
  if (batch == NULL)
    return cli_report_error("send", error);
  if (cli->dry_run)
    return farceur_batch_foreach(batch, send_dry_run_cb, cli, &error)
               ? cli->worst.status
               : cli_report_error("send", error);
  cli->total = farceur_batch_get_count(batch);
  cli->started = g_get_monotonic_time();
  cli_progress_start(&cli->progress, !cli->quiet);
  farceur_batch_set_result_func(batch, send_result_cb, cli);
  return send_deliver(cli, batch);
}

int
cli_cmd_send(int argc, char **argv)
{
  SendCli cli = { 0 };
  g_autoptr(GOptionContext) context = send_context(&cli);
  int status;

  cli.connections = 4;
  cli.retries = 3;
  cli.retry_delay = 1.0;
  cli.transcripts = g_ptr_array_new_with_free_func(g_free);
  cli.unresolved = g_ptr_array_new_with_free_func(g_free);
  if (!cli_parse(context, "send", &argc, &argv, &status)) {
    send_cli_clear(&cli);
    return status;
  }
  status = send_run(&cli, argc, argv);
  send_cli_clear(&cli);
  return status;
}
