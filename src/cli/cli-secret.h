/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: secrets.  The SMTP password never comes from argv;
 * it lives in memory only as long as needed and is overwritten when freed. */
#pragma once

#include <glib.h>

/* A NUL-terminated secret: free it with cli_secret_free(), which wipes it. */
typedef char CliSecret;

CliSecret *cli_secret_get_password(const char *command, GError **error);
void cli_secret_free(CliSecret *secret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliSecret, cli_secret_free)
