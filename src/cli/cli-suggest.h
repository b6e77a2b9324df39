/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: "did you mean" for a mistyped command or option
 * (cli-suggest.c; the distance is the library's, farceur_suggest_closest()). */
#pragma once

#include "cli.h"

char *cli_suggest_option(GOptionContext *context, const char *bad);
GError *cli_suggest_option_error(GOptionContext *context, GError *error);
char **cli_suggest_option_names(GOptionContext *context);
