/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: what the local targets (maildir, mbox) share: the envelope lines
 * a delivering MTA records, and streaming the message out as LF text. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"

#include "target-private.h"
#include "error-text.h"

#define TARGET_FOLD_WIDTH 78

static gboolean
target_local_write_fail(GError **error, const char *what)
{
  int saved = errno;

  if (saved != 0)
    farceur_set_errno_error(error, FARCEUR_ERROR_IO, saved, "cannot write %s", what);
  else
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_IO, "cannot write %s: short write", what);
  return FALSE;
}

/* "Envelope-to: a, b, ..." folded before TARGET_FOLD_WIDTH columns.  Hand
 * written: GMime folds the headers it owns, and this line is written raw,
 * ahead of the message, as Exim does. */
static char *
target_local_envelope_to(const FarceurEnvelope *envelope)
{
  GString *out = g_string_new("Envelope-to: ");
  gsize line_start = 0;

  for (guint i = 0; i < envelope->rcpt_to->len; i++) {
    const char *addr = envelope->rcpt_to->pdata[i];
    if (i > 0) {
      g_string_append_c(out, ',');
      if (out->len - line_start + 1 + strlen(addr) + 1 > TARGET_FOLD_WIDTH) {
        g_string_append_c(out, '\n');
        line_start = out->len;
      }
      g_string_append_c(out, ' ');
    }
    g_string_append(out, addr);
  }
  g_string_append_c(out, '\n');
  return g_string_free(out, FALSE);
}

/* Trace fields that only the delivering MTA may write.  A message that
 * arrives with them (a template can set any header) would show a forged
 * envelope in the stored copy, so they go, as a delivering MTA drops an
 * incoming Return-Path (RFC 5321 4.4) and Exim its envelope_to_remove. */
static const char *const target_local_trace_fields[]
    = { "Return-Path", "Envelope-to", "Delivered-To", "X-Original-To" };

/**
 * farceur_target_write_envelope:
 * @stream: where the stored message begins
 * @envelope: a validated envelope (no CR, LF or angle brackets)
 * @message: the message about to be written after these lines; its own
 *   Return-Path, Envelope-to, Delivered-To and X-Original-To fields are removed
 * @error: return location for a %FARCEUR_ERROR_IO error
 *
 * Writes "Return-Path: <MAIL FROM>" and "Envelope-to: RCPT, ..." lines, the
 * only envelope record the stored message keeps.
 */
gboolean
farceur_target_write_envelope(GMimeStream *stream, const FarceurEnvelope *envelope,
                              GMimeObject *message, GError **error)
{
  g_autofree char *return_path = g_strdup_printf("Return-Path: <%s>\n", envelope->mail_from);
  g_autofree char *envelope_to = target_local_envelope_to(envelope);

  for (gsize i = 0; i < G_N_ELEMENTS(target_local_trace_fields); i++)
    while (g_mime_object_remove_header(message, target_local_trace_fields[i]))
      ;
  errno = 0;
  if (g_mime_stream_write_string(stream, return_path) < 0
      || g_mime_stream_write_string(stream, envelope_to) < 0)
    return target_local_write_fail(error, "envelope lines");
  return TRUE;
}

/**
 * farceur_target_write_message:
 * @stream: the output
 * @message: the message to store
 * @extra: (nullable): a filter applied after LF conversion (mboxrd quoting)
 * @error: return location for a %FARCEUR_ERROR_IO error
 *
 * Streams @message as LF text ending with a newline: local mailboxes are
 * LF files, whatever line ends the message was parsed with.
 */
gboolean
farceur_target_write_message(GMimeStream *stream, GMimeObject *message, GMimeFilter *extra,
                             GError **error)
{
  g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new(stream);
  g_autoptr(GMimeFilter) dos2unix = g_mime_filter_dos2unix_new(TRUE);
  g_autoptr(GMimeFormatOptions) options = g_mime_format_options_new();

  g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_UNIX);
  g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), dos2unix);
  if (extra)
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), extra);
  errno = 0;
  if (g_mime_object_write_to_stream(message, options, filtered) < 0
      || g_mime_stream_flush(filtered) < 0)
    return target_local_write_fail(error, "message");
  return TRUE;
}

/**
 * farceur_target_local_delivery:
 * @envelope: the envelope
 * @location: where the message was stored
 *
 * Returns: (transfer full): a record with every recipient accepted
 */
FarceurDelivery *
farceur_target_local_delivery(const FarceurEnvelope *envelope, const char *location)
{
  FarceurDelivery *delivery = farceur_delivery_new();

  delivery->location = g_strdup(location);
  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    farceur_delivery_add(delivery, envelope->rcpt_to->pdata[i], FARCEUR_RCPT_ACCEPTED, 0, NULL,
                         "stored");
  return delivery;
}
