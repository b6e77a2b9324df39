/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur prank: delivering a composed campaign (farceur-prank(1),
 * DELIVERY).  The messages go through the delivery engine that `send` runs
 * (batch.h): sessions reused and pipelined across messages, 4xx retried
 * with back-off, the journal, the transcript, the per-reply timeout, the
 * progress line.  Outcomes arrive message by message, in any order with
 * several connections; the groups are reported in their order, each as
 * soon as it and the ones before it are settled. */
#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "cli-output.h"
#include "cli-secret.h"
#include "cli-signal.h"
#include "cli-status.h"
#include "cli-term.h"
#include "cmd-prank-deliver.h"
#include "cmd-prank-report.h"

typedef struct {
  const PrankDeliverOptions *o;
  FarceurCampaign *campaign;
  CliSecret *password;
  FarceurSmtpOptions smtp;
  FILE *transcript;
  GPtrArray *sessions; /* (element-type PrankSession) transcript tags */
  char *description;   /* of the first target opened */
  guint next_group;    /* the first group not reported yet */
  guint done, failed, total;
  CliProgress progress;
  CliWorst worst; /* the most serious outcome: the exit status */
} PrankRun;

typedef struct {
  PrankRun *run;
  guint number;
} PrankSession;

static void
prank_run_clear(PrankRun *run)
{
  cli_secret_free(run->password);
  if (run->transcript != NULL)
    fclose(run->transcript);
  g_clear_pointer(&run->sessions, g_ptr_array_unref);
  g_free(run->description);
  cli_worst_clear(&run->worst);
}

/* ---- sessions ---- */

/* One line of the dialogue; "#N " names the session when there may be several. */
static void
prank_transcript_cb(const char *line, gpointer user_data)
{
  PrankSession *session = user_data;

  cli_output_transcript_line(session->run->transcript, session->number,
                             session->run->o->connections > 1 && session->run->total > 1, line);
}

/* First contact that takes long, on a terminal (data/doc/smtp.md, Timeouts). */
static void
prank_notice_cb(const char *line, gpointer user_data)
{
  PrankRun *run = user_data;

  cli_progress_clear(&run->progress);
  g_printerr("farceur prank: %s\n", line);
}

/* FarceurBatchTargetFunc: one more session, with the [smtp] settings. */
static FarceurTarget *
prank_open_target(gpointer user_data, GError **error)
{
  PrankRun *run = user_data;
  g_autoptr(FarceurTarget) target = farceur_target_open(run->o->url, error);
  FarceurSmtpOptions smtp = run->smtp;

  if (target == NULL)
    return NULL;
  if (run->description == NULL)
    run->description = g_strdup(farceur_target_describe(target));
  if (run->transcript != NULL) {
    PrankSession *session = g_new(PrankSession, 1);
    session->run = run;
    session->number = run->sessions->len + 1;
    g_ptr_array_add(run->sessions, session);
    smtp.transcript = prank_transcript_cb;
    smtp.transcript_data = session;
  }
  if (cli_term_is_tty(2)) {
    smtp.notice = prank_notice_cb;
    smtp.notice_data = run;
  }
  if (!farceur_target_set_smtp_options(target, &smtp, error))
    return NULL;
  return g_steal_pointer(&target);
}

/* ---- outcomes ---- */

/* Reports the groups settled since the last call, in their order. */
static void
prank_report_settled(PrankRun *run)
{
  GPtrArray *groups = farceur_campaign_get_groups(run->campaign);

  while (run->next_group < groups->len
         && farceur_prank_group_is_settled(groups->pdata[run->next_group])) {
    prank_report_group(run->campaign, groups->pdata[run->next_group], run->o->json, FALSE);
    run->next_group++;
  }
}

static void
prank_result_cb(const FarceurBatchResult *result, gpointer user_data)
{
  PrankRun *run = user_data;

  run->done++;
  if (result->state != FARCEUR_BATCH_DELIVERED && result->state != FARCEUR_BATCH_SKIPPED)
    run->failed++;
  cli_worst_note(&run->worst, result->error, result->source);
  farceur_campaign_take_result(run->campaign, result);
  cli_progress_clear(&run->progress);
  prank_report_settled(run);
  cli_progress_update(&run->progress, run->done, run->total, run->failed, FALSE);
}

/* ---- the run ---- */

static gboolean
prank_prepare(PrankRun *run, GError **error)
{
  const PrankDeliverOptions *o = run->o;

  if (farceur_target_url_is_smtp(o->url) && (o->user != NULL || o->url->user != NULL)
      && (run->password = cli_secret_get_password(o->password_command, error)) == NULL)
    return FALSE;
  run->smtp = (FarceurSmtpOptions){
    .helo = o->helo,
    .user = o->user,
    .password = run->password,
    .tls_ca_file = o->tls_ca,
    .timeout_ms = o->timeout_ms,
    .max_per_session = o->max_per_session,
  };
  run->sessions = g_ptr_array_new_with_free_func(g_free);
  if (o->transcript == NULL)
    return TRUE;
  run->transcript = fopen(o->transcript, "w");
  if (run->transcript == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT, "transcript '%s': %s", o->transcript,
                g_strerror(errno));
    return FALSE;
  }
  return TRUE;
}

static FarceurBatch *
prank_fill(PrankRun *run, FarceurJournal *journal, GError **error)
{
  FarceurBatchOptions options;
  g_autoptr(FarceurBatch) batch = NULL;

  farceur_batch_options_init(&options);
  options.connections = run->o->connections;
  options.retries = run->o->retries;
  options.retry_delay_ms = run->o->retry_delay_ms;
  options.journal = journal;
  options.resend_unknown = run->o->resend_unknown;
  options.forget_unknown = run->o->forget_unknown;
  batch = farceur_batch_new(&options);
  if (!farceur_campaign_fill_batch(run->campaign, batch, error))
    return NULL;
  return g_steal_pointer(&batch);
}

static FarceurJournal *
prank_open_journal(const char *path, GError **error)
{
  FarceurJournal *journal = farceur_journal_open(path, error);

  if (journal != NULL && farceur_journal_get_dropped_lines(journal) > 0)
    g_printerr("farceur prank: journal '%s': dropped a torn last line (an interrupted run)\n",
               path);
  return journal;
}

/* The exit: the most serious outcome of a message, named with its group. */
static gboolean
prank_outcome(PrankRun *run, GError **error)
{
  GPtrArray *groups = farceur_campaign_get_groups(run->campaign);
  guint failed = 0;

  if (run->worst.error == NULL)
    return TRUE;
  for (guint i = 0; i < groups->len; i++)
    if (!farceur_prank_group_is_delivered(groups->pdata[i]))
      failed++;
  g_propagate_prefixed_error(error, g_steal_pointer(&run->worst.error),
                             "%u of %u groups not delivered: %s: ", failed, groups->len,
                             run->worst.subject);
  return FALSE;
}

static gboolean
prank_run(PrankRun *run, int *signal_status, GError **error)
{
  const PrankDeliverOptions *o = run->o;
  g_autoptr(FarceurJournal) journal = NULL;
  g_autoptr(FarceurBatch) batch = NULL;

  if (!prank_prepare(run, error)
      || (o->journal != NULL && (journal = prank_open_journal(o->journal, error)) == NULL)
      || (batch = prank_fill(run, journal, error)) == NULL)
    return FALSE;
  run->total = farceur_batch_get_count(batch);
  cli_progress_start(&run->progress, TRUE);
  farceur_batch_set_result_func(batch, prank_result_cb, run);
  if (!cli_signal_run_batch("prank", batch, prank_open_target, run, o->journal != NULL,
                            signal_status, error))
    return FALSE;
  cli_progress_clear(&run->progress);
  prank_report_settled(run);
  if (!o->json)
    prank_report_summary(run->campaign, farceur_batch_get_summary(batch),
                         run->description ? run->description : o->url->url);
  cli_output_flush();
  return prank_outcome(run, error);
}

/**
 * prank_deliver:
 * @campaign: a prepared campaign
 * @o: the target and how to deliver
 * @signal_status: (out): 128 + the number of the signal (SIGINT, SIGTERM)
 *   that stopped the run, 0 when none did; the messages not sent are then
 *   deferred, and reported so
 * @error: return location for the most serious failure
 *
 * Delivers every message of @campaign and reports each group as it is
 * settled, then the summary.
 *
 * Returns: %TRUE when every recipient of every message accepted it (now
 *   or, by the journal, in an earlier run)
 */
gboolean
prank_deliver(FarceurCampaign *campaign, const PrankDeliverOptions *o, int *signal_status,
              GError **error)
{
  PrankRun run = { .o = o, .campaign = campaign };
  gboolean ok;

  *signal_status = 0;
  ok = prank_run(&run, signal_status, error);

  cli_progress_clear(&run.progress);
  prank_run_clear(&run);
  return ok;
}
