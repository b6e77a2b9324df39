/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the command.  Dispatches to one cmd-NAME.c per command, then
 * checks that what the command wrote to standard output got there. */
#include <locale.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "cli-output.h"
#include "cli-status.h"
#include "cli-suggest.h"
#include "commands.h"

static const CliCommand cli_commands[] = {
#define CLI_COMMAND(name, fn, summary) { name, summary, fn },
#include "commands.def"
#undef CLI_COMMAND
};

GOptionContext *
cli_context_new(const char *command, const char *params, const char *summary)
{
  GOptionContext *context = g_option_context_new(params);

  g_option_context_set_summary(context, summary);
  (void)command;
  return context;
}

/* --help, shown here rather than by GLib, whose handler exits on the spot:
 * the help goes through main's check of standard output like any output. */
static void
cli_print_help(GOptionContext *context)
{
  g_autofree char *help = NULL;
  char *dash;

  g_option_context_set_help_enabled(context, TRUE); /* its "Help Options" section */
  help = g_option_context_get_help(context, TRUE, NULL);
  /* GLib offers -? when an entry takes -h, as cli_parse()'s does: -h is help. */
  if ((dash = strstr(help, "-?, --help")) != NULL)
    dash[1] = 'h';
  fputs(help, stdout);
}

/**
 * cli_parse:
 * @context: the command's options
 * @command: the command's name, for messages
 * @argc: (inout): the argument count
 * @argv: (inout): the arguments, left with what the options did not take
 * @status: (out): the exit status when the command is over
 *
 * Returns: %FALSE when the command is over: --help was shown (@status 0)
 *   or an option error was reported (@status 64)
 */
gboolean
cli_parse(GOptionContext *context, const char *command, int *argc, char ***argv, int *status)
{
  gboolean help = FALSE;
  const GOptionEntry help_entries[] = {
    { "help", 'h', G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &help, NULL, NULL },
    { "help-all", '?', G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &help, NULL, NULL },
    { NULL },
  };
  GError *error = NULL;

  g_option_context_set_help_enabled(context, FALSE);
  g_option_context_add_main_entries(context, help_entries, NULL);
  if (!g_option_context_parse(context, argc, argv, &error)) {
    *status = cli_report_error(command, cli_suggest_option_error(context, error));
    return FALSE;
  }
  if (help) {
    cli_print_help(context);
    *status = EX_OK;
    return FALSE;
  }
  return TRUE;
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

/**
 * cli_usage:
 * @out: where to print
 *
 * The command list, as `farceur --help` and `farceur help` show it.
 */
void
cli_usage(FILE *out)
{
  fprintf(out, "Usage: farceur COMMAND [OPTIONS] [ARGS]\n\n"
               "MIME message composer and parser toolkit.\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS(cli_commands); i++)
    fprintf(out, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
  fprintf(out, "\nRun 'farceur help COMMAND' or 'farceur COMMAND --help' for the options of one "
               "command.\n"
               "Exit status follows sysexits(3): 0 ok, 64 usage, 65 bad data, 66 no input,\n"
               "69 unavailable, 73 cannot create, 74 I/O, 75 temporary, 76 protocol,\n"
               "77 permission, 78 configuration.\n");
}

/**
 * cli_command_find:
 * @name: a command's name
 *
 * Returns: (nullable): the command called @name
 */
const CliCommand *
cli_command_find(const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS(cli_commands); i++)
    if (strcmp(cli_commands[i].name, name) == 0)
      return &cli_commands[i];
  return NULL;
}

/**
 * cli_unknown_command:
 * @name: what was typed
 *
 * Returns: (transfer full): a usage error naming the command meant, if any
 */
GError *
cli_unknown_command(const char *name)
{
  const char *names[G_N_ELEMENTS(cli_commands) + 1];
  const char *near;

  for (gsize i = 0; i < G_N_ELEMENTS(cli_commands); i++)
    names[i] = cli_commands[i].name;
  names[G_N_ELEMENTS(cli_commands)] = NULL;
  near = farceur_suggest_closest(name, names, NULL);
  if (near != NULL)
    return g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                       "unknown command '%s' (did you mean '%s'?)", name, near);
  return g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                     "unknown command '%s' (run 'farceur help' for the list)", name);
}

/* farceur without a command: --help, --version, or a usage error. */
static int
cli_run_bare(int argc, char **argv)
{
  if (argc < 2) {
    cli_usage(stderr);
    return EX_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    cli_usage(stdout);
    return EX_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("farceur %s (GMime %u.%u.%u, GLib %u.%u.%u)\n", farceur_version(), gmime_major_version,
           gmime_minor_version, gmime_micro_version, glib_major_version, glib_minor_version,
           glib_micro_version);
    return EX_OK;
  }
  return cli_report_error(NULL, cli_unknown_command(argv[1]));
}

/* Messages of up to 1 MiB are read whole (src/lib/input.c), one buffer
 * each.  By default glibc returns such a buffer to the kernel when it is
 * freed (below 128 KiB it trims the heap, above it unmaps) and the next
 * message faults its pages in again: 27,000 page faults for 1,000 messages
 * of 100 KB, the sys time of a dry run cut from 0.65 s to 0.10 s by this
 * (tools/bench/send).  Up to 16 MiB of freed heap is kept for reuse. */
static void
cli_tune_malloc(void)
{
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
#endif
}

int
main(int argc, char **argv)
{
  const CliCommand *command = argc >= 2 ? cli_command_find(argv[1]) : NULL;
  g_autofree char *prgname = NULL;
  int status;

  cli_tune_malloc();
  setlocale(LC_ALL, "");
  cli_output_start();
  if (command == NULL) {
    status = cli_run_bare(argc, argv);
    return cli_status_worse(status, cli_output_close(NULL));
  }
  prgname = g_strdup_printf("farceur %s", command->name);
  g_set_prgname(prgname);
  farceur_init();
  status = command->run(argc - 1, argv + 1);
  return cli_status_worse(status, cli_output_close(command->name));
}
