/* farceur command line: shared declarations of the command modules. */
#pragma once

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

typedef int (*CliCommandFunc)(int argc, char **argv);

typedef struct {
  const char *name;
  const char *summary;
  CliCommandFunc run;
} CliCommand;

int cli_report_error(const char *command, GError *error);
gboolean cli_parse(GOptionContext *context, int *argc, char ***argv, GError **error);
gboolean cli_parse_vars(char **assignments, GHashTable *vars, GError **error);
GOptionContext *cli_context_new(const char *command, const char *params, const char *summary);
