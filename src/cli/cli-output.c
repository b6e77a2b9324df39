/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur command line: standard output. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <farceur/farceur.h>

#include "cli-output.h"
#include "cli-status.h"

/* The errno of the first failed write to stdout: stdio keeps only the fact
 * (ferror), and main reports it once the command is done. */
static int cli_output_errno;

/**
 * cli_output_json:
 * @node: (transfer full): a record, as its library serializer made it
 *
 * Prints @node on one line of stdout (the --json outputs: JSON Lines).
 */
void
cli_output_json(JsonNode *node)
{
  g_autoptr(JsonNode) root = node;
  g_autofree char *text = json_to_string(root, FALSE);

  puts(text);
}

/**
 * cli_output_json_writer:
 * @writer: a record, as its library serializer wrote it
 *
 * Prints the text of @writer on one line of stdout and resets @writer for
 * the next record (the --json outputs of inspect and trace: JSON Lines).
 */
void
cli_output_json_writer(FarceurJsonWriter *writer)
{
  gsize length;
  const char *text = farceur_json_writer_get_text(writer, &length);

  fwrite(text, 1, length, stdout);
  putchar('\n');
  farceur_json_writer_reset(writer);
}

/**
 * cli_output_failed:
 * @errsv: the errno of a failed write to stdout made around stdio (a GMime
 *   stream on its descriptor)
 *
 * Remembers the failure for main's check (cli_output_close()).
 */
void
cli_output_failed(int errsv)
{
  if (cli_output_errno == 0)
    cli_output_errno = errsv != 0 ? errsv : EIO;
}

/* Whether stdout has a reader waiting for each record (a terminal, a pipe,
 * a socket): -1 until asked. */
static int cli_output_streams = -1;

/* A file or a device gets records in 64 KiB writes, not one write each
 * (a system call per message is a tenth of trace's time). */
static gboolean
cli_output_streaming(void)
{
  static char buffer[65536];
  struct stat st;

  if (cli_output_streams < 0) {
    cli_output_streams = fstat(STDOUT_FILENO, &st) != 0 || isatty(STDOUT_FILENO)
                         || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
    if (!cli_output_streams)
      setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
  }
  return cli_output_streams;
}

/**
 * cli_output_start:
 *
 * Chooses how stdout is buffered, before anything is written to it.
 */
void
cli_output_start(void)
{
  cli_output_streaming();
}

/**
 * cli_output_flush:
 *
 * At the end of each record: fflush(stdout) when a reader waits for it
 * (a terminal, a pipe), so that output streams as it is made; a failure is
 * remembered for main's check.  A file gets full buffers.
 */
void
cli_output_flush(void)
{
  if (!cli_output_streaming()) {
    if (ferror(stdout))
      cli_output_failed(errno);
    return;
  }
  if (fflush(stdout) != 0)
    cli_output_failed(errno);
}

/**
 * cli_output_flush_now:
 *
 * fflush(stdout) whatever it is: for a line that must be out before the
 * command waits (a server's address); a failure is remembered for main's
 * check.
 *
 * Returns: %FALSE when stdout could not be written
 */
gboolean
cli_output_flush_now(void)
{
  if (fflush(stdout) != 0 || ferror(stdout)) {
    cli_output_failed(errno);
    return FALSE;
  }
  return TRUE;
}

/**
 * cli_output_error:
 * @errsv: the errno of a failed write to stdout (0: not known)
 *
 * Returns: (transfer full): "cannot write standard output: REASON", an I/O error
 */
GError *
cli_output_error(int errsv)
{
  g_autofree char *why = g_strdup(g_strerror(errsv != 0 ? errsv : EIO));

  why[0] = g_ascii_tolower(why[0]); /* house style: lower case */
  return g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_IO, "cannot write standard output: %s", why);
}

/**
 * cli_output_close:
 * @command: (nullable): the command that ran, for the message
 *
 * What main does after the command, as git's run_builtin(): what is left in
 * stdout's buffer is written now, and a failed write (a full disk,
 * /dev/full, EIO on NFS at close) is an I/O error, not a silent success.  A
 * closed stdout (farceur ... >&-) was asked for; a pipe or socket whose
 * reader left is SIGPIPE's business, as in git.
 *
 * Returns: 0, or 74 with the failure reported
 */
int
cli_output_close(const char *command)
{
  struct stat st;
  int errsv = 0;

  if (fstat(STDOUT_FILENO, &st) != 0 || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
    return EX_OK;
  if (fflush(stdout) != 0)
    errsv = cli_output_errno != 0 ? cli_output_errno : errno;
  else if (ferror(stdout) || cli_output_errno != 0)
    errsv = cli_output_errno; /* 0: an earlier write failed, its errno is gone */
  else if (fclose(stdout) != 0)
    errsv = errno;
  else
    return EX_OK;
  return cli_report_error(command, cli_output_error(errsv));
}

/**
 * cli_output_transcript_line:
 * @file: the --transcript file
 * @session: the session's number, from 1
 * @tagged: whether lines carry it (several sessions at once)
 * @line: a transcript line ("C: ...", "S: ...", "* ...")
 *
 * Writes one line of send's or prank's --transcript (data/doc/formats.md):
 * "#N " before it when several sessions may interleave, flushed at once so
 * the file is whole up to the last line whatever stops the run.
 */
void
cli_output_transcript_line(FILE *file, guint session, gboolean tagged, const char *line)
{
  if (tagged)
    fprintf(file, "#%u %s\n", session, line);
  else
    fprintf(file, "%s\n", line);
  fflush(file);
}
