/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: the SMTP password (README.md, Security by default). */
#include <string.h>

#include <gio/gio.h>

#include <farceur/farceur.h>

#include "cli-secret.h"

/**
 * cli_secret_free:
 * @secret: (nullable): a secret
 *
 * Overwrites @secret, then frees it.
 */
void
cli_secret_free(CliSecret *secret)
{
  if (secret == NULL)
    return;
  memset(secret, 0, strlen(secret));
  g_free(secret);
}

/* The first line of what @command (run by /bin/sh) prints; the rest of its
 * output is wiped. */
static CliSecret *
cli_secret_run(const char *command, GError **error)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(CliSecret) out = NULL;

  proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, error, "/bin/sh", "-c", command, NULL);
  if (proc == NULL || !g_subprocess_communicate_utf8(proc, NULL, NULL, &out, NULL, error))
    return NULL;
  if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CONFIG, "password command '%s' failed",
                command);
    return NULL;
  }
  return g_strndup(out, strcspn(out, "\r\n"));
}

/**
 * cli_secret_get_password:
 * @command: (nullable): --password-command (or the configuration's
 *   password-command): a shell command that prints the password
 * @error: return location for a %FARCEUR_ERROR_CONFIG error
 *
 * The password for a user that was given, never from argv: the first
 * output line of @command, else $FARCEUR_PASSWORD.
 *
 * Returns: (transfer full): the password, or %NULL with @error when the
 *   command fails or there is none
 */
CliSecret *
cli_secret_get_password(const char *command, GError **error)
{
  const char *env = g_getenv("FARCEUR_PASSWORD");

  if (command != NULL)
    return cli_secret_run(command, error);
  if (env == NULL)
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_CONFIG,
                        "a user is given but no password: use --password-command or "
                        "FARCEUR_PASSWORD");
  return g_strdup(env);
}
