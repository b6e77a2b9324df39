/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: exit statuses.  The library classifies failures
 * (FarceurError); only the command turns them into sysexits(3) numbers and
 * decides which of several failures a run exits with. */
#pragma once

#include <farceur/farceur.h>

int cli_status_from_error(const GError *error);
int cli_status_worse(int a, int b);
int cli_report_error(const char *command, GError *error);

/**
 * CliWorst:
 * @status: the exit status of the most serious failure so far, 0 for none
 * @error: (nullable): that failure, a copy
 * @subject: (nullable): what it happened to (a message's source)
 *
 * "Worst outcome wins": fold every failure of a run in with
 * cli_worst_note(); the first of equally serious ones is kept.
 */
typedef struct {
  int status;
  GError *error;
  char *subject;
} CliWorst;

void cli_worst_note(CliWorst *worst, const GError *error, const char *subject);
void cli_worst_clear(CliWorst *worst);
