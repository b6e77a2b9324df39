/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: composed messages with an envelope of their own (prank's forged
 * sender and witnesses, data/doc/envelope.md, How prank chooses it): the
 * way a campaign feeds the delivery engine. */
#include "config.h"

#include <farceur/batch.h>
#include <farceur/error.h>

#include "batch-private.h"

/**
 * farceur_batch_add_composed:
 * @batch: a batch
 * @source: a name for the message in reports and the journal
 * @message: the message; kept (a reference) until sent; Bcc, Resent-Bcc and
 *   Return-Path are removed from it now
 * @envelope: MAIL FROM and RCPT TO, copied; the batch's @mail_from and
 *   @rcpts options do not apply to it
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Adds one message already in memory with the envelope its composer chose,
 * which the headers need not name (a blind copy, a forged sender, a
 * template's own From).
 *
 * Returns: %TRUE when @envelope is valid
 */
gboolean
farceur_batch_add_composed(FarceurBatch *batch, const char *source, GMimeMessage *message,
                           const FarceurEnvelope *envelope, GError **error)
{
  FarceurInputMessage msg = { .message = message, .source = (char *)source };
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail(batch != NULL, FALSE);
  g_return_val_if_fail(source != NULL, FALSE);
  g_return_val_if_fail(GMIME_IS_MESSAGE(message), FALSE);
  g_return_val_if_fail(envelope != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (!farceur_envelope_validate(envelope, &local)) {
    g_set_error(error, local->domain, local->code, "message '%s': %s", source, local->message);
    return FALSE;
  }
  batch_add_enveloped(batch, &msg, farceur_envelope_copy(envelope), FARCEUR_BATCH_ENVELOPE_OPTIONS,
                      TRUE);
  return TRUE;
}
