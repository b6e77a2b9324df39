/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: shared declarations of the command modules.  The
 * helpers beside them: cli-status.h (exit statuses), cli-secret.h
 * (passwords), cli-term.h (terminals), cli-output.h (standard output). */
#pragma once

#include <stdio.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

typedef int (*CliCommandFunc)(int argc, char **argv);

typedef struct {
  const char *name;
  const char *summary;
  CliCommandFunc run;
} CliCommand;

GOptionContext *cli_context_new(const char *command, const char *params, const char *summary);
gboolean cli_parse(GOptionContext *context, const char *command, int *argc, char ***argv,
                   int *status);
gboolean cli_parse_vars(char **assignments, GHashTable *vars, GError **error);
void cli_usage(FILE *out);
const CliCommand *cli_command_find(const char *name);
GError *cli_unknown_command(const char *name);
