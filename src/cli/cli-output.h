/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: standard output.  Records go out one JSON object
 * per line; after the command, main checks that everything got there. */
#pragma once

#include <stdio.h>

#include <farceur/farceur.h>

void cli_output_json(JsonNode *node);
void cli_output_json_writer(FarceurJsonWriter *writer);
void cli_output_start(void);
gboolean cli_output_flush_now(void);
void cli_output_flush(void);
void cli_output_failed(int errsv);
GError *cli_output_error(int errsv);
int cli_output_close(const char *command);
void cli_output_transcript_line(FILE *file, guint session, gboolean tagged, const char *line);
