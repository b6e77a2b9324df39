/* farceur: the command.  Dispatches to one cmd-NAME.c per command; the
 * only place that turns an error into an exit status (cli_report_error). */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const CliCommand cli_commands[] = {
#define CLI_COMMAND(name, fn, summary) { name, summary, fn },
#include "commands.def"
#undef CLI_COMMAND
};

/**
 * cli_report_error:
 * @command: (nullable): the command that failed
 * @error: (transfer full): the failure
 *
 * Prints "farceur COMMAND: MESSAGE" on stderr and maps the error to its
 * sysexits status.  Every command returns through here on failure.
 */
int
cli_report_error(const char *command, GError *error)
{
  int status = farceur_error_to_exit_status(error);

  if (command)
    g_printerr("farceur %s: %s\n", command, error->message);
  else
    g_printerr("farceur: %s\n", error->message);
  g_error_free(error);
  return status;
}

GOptionContext *
cli_context_new(const char *command, const char *params, const char *summary)
{
  GOptionContext *context = g_option_context_new(params);

  g_option_context_set_summary(context, summary);
  g_option_context_set_help_enabled(context, TRUE);
  (void)command;
  return context;
}

gboolean
cli_parse(GOptionContext *context, int *argc, char ***argv, GError **error)
{
  return g_option_context_parse(context, argc, argv, error);
}

/**
 * cli_parse_vars:
 * @assignments: (nullable): the --var arguments, KEY=VALUE each
 * @vars: where to store them (key and value newly allocated); later wins
 *
 * Returns: %FALSE with a usage error when an argument has no KEY=
 */
gboolean
cli_parse_vars(char **assignments, GHashTable *vars, GError **error)
{
  for (gsize i = 0; assignments && assignments[i]; i++) {
    const char *eq = strchr(assignments[i], '=');
    if (eq == NULL || eq == assignments[i]) {
      g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "bad --var '%s': expected KEY=VALUE",
                  assignments[i]);
      return FALSE;
    }
    g_hash_table_replace(vars, g_strndup(assignments[i], eq - assignments[i]), g_strdup(eq + 1));
  }
  return TRUE;
}

static void
cli_usage(FILE *out)
{
  fprintf(out, "Usage: farceur COMMAND [OPTIONS] [ARGS]\n\n"
               "MIME message composer and parser toolkit.\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS(cli_commands); i++)
    fprintf(out, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
  fprintf(out, "\nRun 'farceur COMMAND --help' for the options of one command.\n"
               "Exit status follows sysexits(3): 0 ok, 64 usage, 65 bad data, 66 no input,\n"
               "69 unavailable, 73 cannot create, 74 I/O, 75 temporary, 76 protocol,\n"
               "77 permission, 78 configuration.\n");
}

static const CliCommand *
cli_find(const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS(cli_commands); i++)
    if (strcmp(cli_commands[i].name, name) == 0)
      return &cli_commands[i];
  return NULL;
}

int
main(int argc, char **argv)
{
  const CliCommand *command;
  g_autofree char *prgname = NULL;

  setlocale(LC_ALL, "");
  if (argc < 2) {
    cli_usage(stderr);
    return 64;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    cli_usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("farceur %s (GMime %u.%u.%u, GLib %u.%u.%u)\n", farceur_version(), gmime_major_version,
           gmime_minor_version, gmime_micro_version, glib_major_version, glib_minor_version,
           glib_micro_version);
    return 0;
  }
  command = cli_find(argv[1]);
  if (command == NULL) {
    g_printerr("farceur: unknown command '%s'\n", argv[1]);
    cli_usage(stderr);
    return 64;
  }
  prgname = g_strdup_printf("farceur %s", command->name);
  g_set_prgname(prgname);
  farceur_init();
  return command->run(argc - 1, argv + 1);
}
