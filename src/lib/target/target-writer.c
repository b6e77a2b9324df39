/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: storing an incoming message as its octets arrive (farceur catch).
 * The generic part: checks, the backend's file, the shared streams of
 * target-local.c; the backends (maildir, mbox) make the file and commit it. */
#include "config.h"

#include <unistd.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"

#include "target-private.h"

/**
 * farceur_target_writer_new:
 * @target: an open local target (maildir:, mbox:)
 * @envelope: MAIL FROM and the recipients; every address is validated
 * @trace: (nullable): header fields to store after the envelope lines, each
 *   line ending in LF, no CR (the receiving server's Received: field)
 * @error: return location for an error
 *
 * Starts storing one message: the file is made and begins with
 * "Return-Path:", "Envelope-to:" and @trace; the message follows with
 * farceur_target_writer_write().
 *
 * Returns: (transfer full): the writer, or %NULL: %FARCEUR_ERROR_USAGE for
 *   a target that does not store (SMTP, LMTP, exec), %FARCEUR_ERROR_DATA for
 *   a bad address, a file error otherwise
 */
FarceurTargetWriter *
farceur_target_writer_new(FarceurTarget *target, const FarceurEnvelope *envelope, const char *trace,
                          GError **error)
{
  g_autoptr(FarceurTargetWriter) writer = NULL;

  g_return_val_if_fail(target != NULL && envelope != NULL, NULL);
  if (target->closed || target->backend->writer_open == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "delivery target '%s' cannot store incoming mail%s", target->url->url,
                target->closed ? ": it is closed" : " (only maildir: and mbox: can)");
    return NULL;
  }
  if (!farceur_envelope_validate(envelope, error))
    return NULL;
  writer = g_new0(FarceurTargetWriter, 1);
  writer->target = target;
  writer->fd = -1;
  writer->mail_from = g_strdup(envelope->mail_from);
  if (!target->backend->writer_open(target, writer, error)
      || !farceur_target_local_writer_begin(writer, envelope, trace, error))
    return NULL;
  return g_steal_pointer(&writer);
}

/**
 * farceur_target_writer_write:
 * @writer: a writer
 * @data: the next octets of the message (CRLF or LF line ends; an SMTP
 *   server's data, dot-unstuffed)
 * @len: their count
 * @error: return location for an error
 *
 * The first failure is kept: the later writes and the commit fail with it.
 * A full disk is %FARCEUR_ERROR_TEMPFAIL, another failure %FARCEUR_ERROR_IO.
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_target_writer_write(FarceurTargetWriter *writer, const char *data, gsize len,
                            GError **error)
{
  g_return_val_if_fail(writer != NULL && !writer->committed, FALSE);
  return farceur_target_local_writer_put(writer, data, len, error);
}

/**
 * farceur_target_writer_read_back:
 * @writer: a writer whose message is complete
 * @error: return location for an error
 *
 * Ends the message (no more writes) and opens what was written, from its
 * first octet, as it will be stored: to inspect it before the commit.
 *
 * Returns: (transfer full): a stream over the stored octets, or %NULL
 */
GMimeStream *
farceur_target_writer_read_back(FarceurTargetWriter *writer, GError **error)
{
  int fd;

  g_return_val_if_fail(writer != NULL && !writer->committed, NULL);
  if (!farceur_target_local_writer_finish(writer, error))
    return NULL;
  if (lseek(writer->fd, 0, SEEK_SET) != 0 || (fd = dup(writer->fd)) < 0) {
    farceur_target_local_fail(error, "message (reading it back)");
    return NULL;
  }
  return g_mime_stream_fs_new(fd); /* bounded by the file's end, as the commit leaves it */
}

/**
 * farceur_target_writer_commit_async:
 * @writer: a writer whose message is complete
 * @cancellable: (nullable): a #GCancellable (checked before the commit starts)
 * @callback: called in the thread-default main context of the caller once
 *   the message is durably stored, or not stored at all
 * @user_data: for @callback
 *
 * Makes the message durable and visible: a Maildir file is synced, moved
 * into new/ and new/ synced; an mbox gets the message appended and synced.
 * Commits of many writers at once share their syncs.  @writer must not be
 * used or freed before @callback.
 */
void
farceur_target_writer_commit_async(FarceurTargetWriter *writer, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  GError *error = NULL;

  g_return_if_fail(writer != NULL && !writer->committed);
  task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, farceur_target_writer_commit_async);
  g_task_set_task_data(task, writer, NULL);
  if (g_cancellable_set_error_if_cancelled(cancellable, &error)
      || !farceur_target_local_writer_finish(writer, &error)) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  writer->committed = TRUE;
  writer->target->backend->writer_commit(writer, task);
}

/**
 * farceur_target_writer_commit_finish:
 * @writer: the writer
 * @result: the result given to the callback
 * @location: (out) (optional) (transfer full): where the message is: the
 *   file in new/ of a Maildir, the mbox's path
 * @error: return location for an error: %FARCEUR_ERROR_TEMPFAIL for a full
 *   disk, a file error otherwise; nothing was stored then
 *
 * Returns: %TRUE when the message is durably stored
 */
gboolean
farceur_target_writer_commit_finish(FarceurTargetWriter *writer, GAsyncResult *result,
                                    char **location, GError **error)
{
  g_autofree char *where = NULL;

  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  where = g_task_propagate_pointer(G_TASK(result), error);
  writer->committed = where != NULL; /* a failed commit leaves something to remove */
  if (location != NULL)
    *location = g_steal_pointer(&where);
  return writer->committed;
}

/**
 * farceur_target_writer_free:
 * @writer: (nullable): a writer, not committing
 *
 * Frees @writer; a message not committed is removed, leaving nothing.
 */
void
farceur_target_writer_free(FarceurTargetWriter *writer)
{
  if (writer == NULL)
    return;
  farceur_target_local_writer_free(writer);
}
