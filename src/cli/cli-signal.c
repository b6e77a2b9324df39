/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: SIGINT and SIGTERM as main-loop events (cli-signal.h). */
#include <signal.h>
#include <stdio.h>

#include <glib-unix.h>

#include "cli-signal.h"

struct _CliSignal {
  CliSignalFunc func;
  gpointer user_data;
  guint sources[2]; /* SIGINT, SIGTERM */
  int first;        /* the first signal received, 0 for none */
  guint count;
};

typedef struct {
  CliSignal *watch;
  int signo;
} CliSignalSource;

static gboolean
cli_signal_cb(gpointer user_data)
{
  CliSignalSource *source = user_data;
  CliSignal *watch = source->watch;

  if (watch->first == 0)
    watch->first = source->signo;
  watch->count++;
  watch->func(source->signo, watch->count, watch->user_data);
  return G_SOURCE_CONTINUE;
}

static guint
cli_signal_add(CliSignal *watch, int signo)
{
  CliSignalSource *source = g_new(CliSignalSource, 1);

  source->watch = watch;
  source->signo = signo;
  return g_unix_signal_add_full(G_PRIORITY_HIGH, signo, cli_signal_cb, source, g_free);
}

/**
 * cli_signal_watch:
 * @func: called in the main loop for each SIGINT or SIGTERM
 * @user_data: for @func
 *
 * From now until cli_signal_free(), SIGINT and SIGTERM no longer kill the
 * process: each calls @func from the global default main context (where
 * g_unix_signal_add() attaches its sources; the commands run there) when it
 * runs.
 *
 * Returns: (transfer full): the watch
 */
CliSignal *
cli_signal_watch(CliSignalFunc func, gpointer user_data)
{
  CliSignal *watch = g_new0(CliSignal, 1);

  watch->func = func;
  watch->user_data = user_data;
  watch->sources[0] = cli_signal_add(watch, SIGINT);
  watch->sources[1] = cli_signal_add(watch, SIGTERM);
  return watch;
}

/**
 * cli_signal_get_status:
 * @watch: a watch
 *
 * Returns: the exit status a command stopped by the first signal ends
 *   with, as a shell reports one (128 + its number: 130 for SIGINT, 143 for
 *   SIGTERM); 0 when none arrived
 */
int
cli_signal_get_status(const CliSignal *watch)
{
  return watch->first != 0 ? 128 + watch->first : 0;
}

/**
 * cli_signal_get_name:
 * @watch: a watch
 *
 * Returns: "SIGINT" or "SIGTERM", the first signal received; %NULL for none
 */
const char *
cli_signal_get_name(const CliSignal *watch)
{
  switch (watch->first) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return NULL;
  }
}

/**
 * cli_signal_free:
 * @watch: (nullable): a watch
 *
 * Stops watching.
 */
void
cli_signal_free(CliSignal *watch)
{
  if (watch == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS(watch->sources); i++)
    if (watch->sources[i] != 0)
      g_source_remove(watch->sources[i]);
  g_free(watch);
}

typedef struct {
  const char *command;
  FarceurBatch *batch;
  GCancellable *cancellable;
} CliBatchStop;

/* CliSignalFunc: the first signal stops taking messages and lets the ones in
 * flight finish; the next abandons them (data/doc/exit-status.md, Signals). */
static void
cli_signal_batch_cb(int signo, guint count, gpointer user_data)
{
  CliBatchStop *stop = user_data;
  const char *name = signo == SIGINT ? "SIGINT" : "SIGTERM";

  if (count == 1) {
    g_printerr("\nfarceur %s: %s: taking no new message; the ones in flight finish "
               "(another signal abandons them)\n",
               stop->command, name);
    farceur_batch_stop(stop->batch);
  } else if (!g_cancellable_is_cancelled(stop->cancellable)) {
    g_printerr("farceur %s: %s again: abandoning the deliveries in flight\n", stop->command, name);
    g_cancellable_cancel(stop->cancellable);
  }
}

/**
 * cli_signal_run_batch:
 * @command: the command's name, for the messages
 * @batch: the batch to run
 * @open_target: @user_data: as farceur_batch_run() takes them
 * @journal: whether a journal records the outcomes (the message says a
 *   re-run sends what is left)
 * @signal_status: (out): 128 + the number of the signal that stopped the
 *   run, 0 when none did
 * @error: as farceur_batch_run()
 *
 * Runs @batch with SIGINT and SIGTERM watched: the first stops it in order,
 * the next cancels what is in flight; a stopped run says so on standard
 * error.  The caller prints its summary, then exits *@signal_status when
 * it is not 0.
 *
 * Returns: what farceur_batch_run() returns
 */
gboolean
cli_signal_run_batch(const char *command, FarceurBatch *batch, FarceurBatchTargetFunc open_target,
                     gpointer user_data, gboolean journal, int *signal_status, GError **error)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  CliBatchStop stop = { command, batch, cancellable };
  g_autoptr(CliSignal) watch = cli_signal_watch(cli_signal_batch_cb, &stop);
  gboolean ok = farceur_batch_run(batch, open_target, user_data, cancellable, error);

  *signal_status = cli_signal_get_status(watch);
  if (*signal_status != 0)
    g_printerr("farceur %s: stopped by %s: exit %d; the messages not sent are deferred%s\n",
               command, cli_signal_get_name(watch), *signal_status,
               journal ? " (the journal sends them on a re-run)" : "");
  return ok;
}
