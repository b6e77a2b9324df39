/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: SIGINT and SIGTERM during a delivery run
 * (data/doc/exit-status.md, Signals).  The signals are watched as GLib
 * sources of the default main context (g_unix_signal_add), so the
 * handler runs in the loop like any other event, never in signal context:
 * a command reacts by stopping its work in an orderly way (no new message,
 * what is in flight finished or abandoned through a GCancellable), prints
 * its summary and exits 128 + the signal's number. */
#pragma once

#include <farceur/farceur.h>

typedef struct _CliSignal CliSignal;

/**
 * CliSignalFunc:
 * @signo: SIGINT or SIGTERM
 * @count: how many of them arrived so far, this one included (1 for the
 *   first): a command stops gently on the first and harder on the next
 * @user_data: the data given to cli_signal_watch()
 */
typedef void (*CliSignalFunc)(int signo, guint count, gpointer user_data);

CliSignal *cli_signal_watch(CliSignalFunc func, gpointer user_data);
int cli_signal_get_status(const CliSignal *watch);
const char *cli_signal_get_name(const CliSignal *watch);
void cli_signal_free(CliSignal *watch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliSignal, cli_signal_free)

gboolean cli_signal_run_batch(const char *command, FarceurBatch *batch,
                              FarceurBatchTargetFunc open_target, gpointer user_data,
                              gboolean journal, int *signal_status, GError **error);
