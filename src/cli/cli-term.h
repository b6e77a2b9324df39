/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: terminal decisions.  Whether an output is a
 * terminal, whether to colour it, and the progress line of send; nothing
 * else (and never the library) asks isatty(). */
#pragma once

#include <glib.h>

/**
 * CliTermStyle:
 * @colour: ANSI colours (a terminal, NO_COLOR unset; or --color=always)
 * @glyphs: Unicode box and arrow glyphs (a terminal in a UTF-8 locale)
 */
typedef struct {
  gboolean colour;
  gboolean glyphs;
} CliTermStyle;

gboolean cli_term_is_tty(int fd);
gboolean cli_term_style(int fd, const char *when, CliTermStyle *style, GError **error);

/**
 * CliProgress:
 * @enabled: the line is shown (wanted, and stderr is a terminal)
 *
 * A progress line on stderr, redrawn in place:
 * "1234/10000  812 msg/s  3 failed  ETA 0:11".
 */
typedef struct {
  gboolean enabled;
  gboolean shown;
  gint64 started, last;
} CliProgress;

void cli_progress_start(CliProgress *progress, gboolean wanted);
void cli_progress_update(CliProgress *progress, guint done, guint total, guint failed,
                         gboolean force);
void cli_progress_clear(CliProgress *progress);
