/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur help: the usage of farceur, or of one command (farceur-help(1)).
 * `farceur help prank` is `farceur prank --help`. */
#include <sysexits.h>

#include "cli.h"
#include "cli-status.h"
#include "commands.h"

int
cli_cmd_help(int argc, char **argv)
{
  g_autoptr(GOptionContext) context = cli_context_new(
      "help", "[COMMAND]", "Show the usage of farceur, or the options of COMMAND.");
  const CliCommand *command;
  g_autofree char *prgname = NULL;
  char *help_argv[] = { NULL, (char *)"--help", NULL };
  int status;

  g_option_context_set_description(context, "Exit status: 0, or 64 for an unknown command.");
  if (!cli_parse(context, "help", &argc, &argv, &status))
    return status;
  if (argc == 1) {
    cli_usage(stdout);
    return EX_OK;
  }
  if (argc > 2)
    return cli_report_error("help",
                            g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                                        "unexpected argument '%s' (one command at most)", argv[2]));
  if ((command = cli_command_find(argv[1])) == NULL)
    return cli_report_error("help", cli_unknown_command(argv[1]));
  prgname = g_strdup_printf("farceur %s", command->name);
  g_set_prgname(prgname);
  help_argv[0] = argv[1];
  return command->run(2, help_argv);
}
