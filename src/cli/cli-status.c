/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: the category -> sysexits(3) map and the one
 * severity ranking every command exits by (data/doc/exit-status.md). */
#include <sysexits.h>

#include "cli-status.h"

/* A category is one status; sysexits(3) as sendmail and msmtp use it. */
static const int cli_status_of[] = {
  [FARCEUR_ERROR_USAGE] = EX_USAGE,         [FARCEUR_ERROR_DATA] = EX_DATAERR,
  [FARCEUR_ERROR_NOINPUT] = EX_NOINPUT,     [FARCEUR_ERROR_UNAVAILABLE] = EX_UNAVAILABLE,
  [FARCEUR_ERROR_CANTCREAT] = EX_CANTCREAT, [FARCEUR_ERROR_IO] = EX_IOERR,
  [FARCEUR_ERROR_TEMPFAIL] = EX_TEMPFAIL,   [FARCEUR_ERROR_PROTOCOL] = EX_PROTOCOL,
  [FARCEUR_ERROR_NOPERM] = EX_NOPERM,       [FARCEUR_ERROR_CONFIG] = EX_CONFIG,
  [FARCEUR_ERROR_INTERNAL] = EX_SOFTWARE, /* a failure nobody classified is our bug */
};

/* The one severity ranking, least serious first: when a run meets several
 * failures (a batch of messages, the groups of a prank, the inputs of
 * inspect and trace), it exits with the most serious one.  Permanent beats
 * temporary: a deferral (75) is the mildest, a refusal (69) next.  Trouble
 * with one message or one server (65 bad data, 66 missing input, 76
 * protocol) comes next; local trouble that would hit every message comes
 * last (74 I/O, 73 cannot create, 77 permission, 78 configuration, 64
 * usage), and a failure nobody classified (70) above all. */
static const int cli_status_order[] = {
  EX_OK,    EX_TEMPFAIL,  EX_UNAVAILABLE, EX_DATAERR, EX_NOINPUT, EX_PROTOCOL,
  EX_IOERR, EX_CANTCREAT, EX_NOPERM,      EX_CONFIG,  EX_USAGE,   EX_SOFTWARE,
};

static guint
cli_status_rank(int status)
{
  for (guint i = 0; i < G_N_ELEMENTS(cli_status_order); i++)
    if (cli_status_order[i] == status)
      return i;
  return G_N_ELEMENTS(cli_status_order);
}

/**
 * cli_status_from_error:
 * @error: (nullable): a failure
 *
 * Returns: the exit status of @error's category (farceur_error_classify()),
 *   0 when @error is %NULL
 */
int
cli_status_from_error(const GError *error)
{
  return error != NULL ? cli_status_of[farceur_error_classify(error)] : EX_OK;
}

/**
 * cli_status_worse:
 * @a: an exit status
 * @b: another
 *
 * Returns: the more serious of @a and @b by the one ranking; @a when they
 *   are equally serious
 */
int
cli_status_worse(int a, int b)
{
  return cli_status_rank(b) > cli_status_rank(a) ? b : a;
}

/**
 * cli_report_error:
 * @command: (nullable): the command that failed
 * @error: (transfer full): the failure
 *
 * Prints "farceur COMMAND: MESSAGE" on stderr.  Every command reports its
 * failures through here.
 *
 * Returns: the exit status of @error
 */
int
cli_report_error(const char *command, GError *error)
{
  int status = cli_status_from_error(error);

  if (command)
    g_printerr("farceur %s: %s\n", command, error->message);
  else
    g_printerr("farceur: %s\n", error->message);
  g_error_free(error);
  return status;
}

/**
 * cli_worst_note:
 * @worst: the failures of a run so far
 * @error: (nullable): one more outcome; %NULL for a success
 * @subject: (nullable): what @error happened to
 *
 * Keeps @error (a copy) when it is more serious than any before it.
 */
void
cli_worst_note(CliWorst *worst, const GError *error, const char *subject)
{
  int status = cli_status_from_error(error);

  if (error == NULL || cli_status_worse(worst->status, status) == worst->status)
    return;
  cli_worst_clear(worst);
  worst->status = status;
  worst->error = g_error_copy(error);
  worst->subject = g_strdup(subject);
}

void
cli_worst_clear(CliWorst *worst)
{
  g_clear_error(&worst->error);
  g_clear_pointer(&worst->subject, g_free);
  worst->status = EX_OK;
}
