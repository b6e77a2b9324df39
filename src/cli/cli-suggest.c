/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: "did you mean" for a mistyped option.
 *
 * GLib's option parser says "Unknown option --vicitms" and no more; the
 * options a command knows are read back from the help text GLib renders
 * from its GOptionEntry table (the one source of --help, the man pages and
 * the bash completion), and the closest within two edits is suggested. */
#include <string.h>

#include "cli-suggest.h"

/**
 * cli_suggest_option_names:
 * @context: a command's options
 *
 * Returns: (transfer full): every "--long" option @context knows, --help included
 */
char **
cli_suggest_option_names(GOptionContext *context)
{
  g_autofree char *help = g_option_context_get_help(context, TRUE, NULL);
  g_auto(GStrv) lines = g_strsplit(help, "\n", -1);
  g_autoptr(GStrvBuilder) names = g_strv_builder_new();

  for (guint i = 0; lines[i] != NULL; i++) {
    const char *dash = strstr(lines[i], "--");
    gsize n;
    if (!g_str_has_prefix(lines[i], "  ") || dash == NULL || dash - lines[i] > 8)
      continue;
    n = strspn(dash + 2, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
    if (n > 0) {
      g_autofree char *name = g_strndup(dash, n + 2);
      g_strv_builder_add(names, name);
    }
  }
  return g_strv_builder_end(names);
}

/**
 * cli_suggest_option:
 * @context: a command's options
 * @bad: the option as typed ("--vicitms" or "--vicitms=x")
 *
 * Returns: (transfer full) (nullable): the option meant, or %NULL
 */
char *
cli_suggest_option(GOptionContext *context, const char *bad)
{
  g_auto(GStrv) names = cli_suggest_option_names(context);
  g_autofree char *typed = g_strndup(bad, strcspn(bad, "="));
  const char *near;

  if (!g_str_has_prefix(typed, "--"))
    return NULL;
  near = farceur_suggest_closest(typed, (const char *const *)names, NULL);
  return near ? g_strdup(near) : NULL;
}

/**
 * cli_suggest_option_error:
 * @context: a command's options
 * @error: (transfer full): the error of g_option_context_parse()
 *
 * Returns: (transfer full): @error, or for an unknown option a usage error
 *   that says which option was probably meant
 */
GError *
cli_suggest_option_error(GOptionContext *context, GError *error)
{
  const char *bad;
  g_autofree char *near = NULL;
  GError *better;

  if (!g_error_matches(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION)
      || (bad = strrchr(error->message, ' ')) == NULL || bad[1] != '-')
    return error;
  bad++;
  near = cli_suggest_option(context, bad);
  if (near == NULL)
    better = g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "unknown option %s (see %s --help)",
                         bad, g_get_prgname());
  else
    better = g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "unknown option %s (did you mean %s?)",
                         bad, near);
  g_error_free(error);
  return better;
}
