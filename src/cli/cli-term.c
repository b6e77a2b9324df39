/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: terminal decisions (TTY, colour, progress). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <farceur/farceur.h>

#include "cli-term.h"

/**
 * cli_term_is_tty:
 * @fd: a file descriptor
 *
 * Returns: whether @fd is a terminal that understands escapes (TERM is not
 *   "dumb")
 */
gboolean
cli_term_is_tty(int fd)
{
  const char *term = g_getenv("TERM");

  return isatty(fd) && !(term && strcmp(term, "dumb") == 0);
}

/**
 * cli_term_style:
 * @fd: where the styled output goes
 * @when: (nullable): --color: "auto" (also %NULL), "always" or "never"
 * @style: (out): the decision
 * @error: return location for a %FARCEUR_ERROR_USAGE error
 *
 * Colour on a terminal unless NO_COLOR is set (no-color.org), or as --color
 * says; glyphs on a terminal in a UTF-8 locale.
 *
 * Returns: %FALSE when @when is none of the three
 */
gboolean
cli_term_style(int fd, const char *when, CliTermStyle *style, GError **error)
{
  gboolean tty = cli_term_is_tty(fd);

  style->glyphs = tty && g_get_charset(NULL);
  if (when == NULL || strcmp(when, "auto") == 0)
    style->colour = tty && g_getenv("NO_COLOR") == NULL;
  else if (strcmp(when, "always") == 0 || strcmp(when, "never") == 0)
    style->colour = strcmp(when, "always") == 0;
  else {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "--color '%s': expected auto, always or never", when);
    return FALSE;
  }
  return TRUE;
}

/**
 * cli_progress_start:
 * @progress: a progress line
 * @wanted: whether the command wants one (not --quiet)
 *
 * Starts the clock; the line is shown only when stderr is a terminal that
 * can erase a line (TERM is not "dumb").
 */
void
cli_progress_start(CliProgress *progress, gboolean wanted)
{
  memset(progress, 0, sizeof *progress);
  progress->enabled = wanted && cli_term_is_tty(STDERR_FILENO);
  progress->started = g_get_monotonic_time();
}

/**
 * cli_progress_clear:
 * @progress: a progress line
 *
 * Erases the line, before something else is printed.
 */
void
cli_progress_clear(CliProgress *progress)
{
  if (progress->shown) {
    fputs("\r\033[K", stderr);
    progress->shown = FALSE;
  }
}

/**
 * cli_progress_update:
 * @progress: a progress line
 * @done: items finished
 * @total: items in all
 * @failed: items of @done that failed
 * @force: redraw even when the last redraw was less than 0.1 s ago
 *
 * Redraws the line, at most 10 times a second.
 */
void
cli_progress_update(CliProgress *progress, guint done, guint total, guint failed, gboolean force)
{
  gint64 now = g_get_monotonic_time();
  double elapsed = (now - progress->started) / 1e6;
  double rate = elapsed > 0 ? done / elapsed : 0;
  guint eta = rate > 0 ? (guint)((total - done) / rate + 0.5) : 0;

  if (!progress->enabled || (!force && now - progress->last < 100000))
    return;
  progress->last = now;
  fprintf(stderr, "\r\033[K%u/%u  %.0f msg/s  %u failed  ETA %u:%02u", done, total, rate, failed,
          eta / 60, eta % 60);
  fflush(stderr);
  progress->shown = TRUE;
}
