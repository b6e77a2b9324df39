/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: a campaign delivered by the delivery engine (farceur-prank(1)).
 *
 * The composed messages go into a batch, each with the envelope the
 * campaign chose and a name ("group N", "group N#I") that the batch's
 * results, the journal and the transcript use; each result is taken back
 * into its message, and a group is settled when all of its messages are.
 * The batch brings retries, pipelining, sessions, the journal and the
 * transcript; nothing here talks to a target. */
#include "config.h"

#include <string.h>

#include <farceur/batch.h>
#include <farceur/campaign.h>

#include "campaign-private.h"

/**
 * farceur_campaign_fill_batch:
 * @campaign: a prepared campaign
 * @batch: an empty batch
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Adds every message of every group, in order, with its own envelope
 * (farceur_batch_add_composed()); its name in the batch is the message's
 * @source.  The messages lose their Bcc header now.
 *
 * Returns: %TRUE when every message was added
 */
gboolean
farceur_campaign_fill_batch(FarceurCampaign *campaign, FarceurBatch *batch, GError **error)
{
  GPtrArray *groups;

  g_return_val_if_fail(campaign != NULL, FALSE);
  g_return_val_if_fail(batch != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  groups = farceur_campaign_get_groups(campaign);
  for (guint g = 0; g < groups->len; g++) {
    const FarceurPrankGroup *group = groups->pdata[g];
    for (guint i = 0; i < group->messages->len; i++) {
      const FarceurPrankMessage *m = group->messages->pdata[i];
      if (!farceur_batch_add_composed(batch, m->source, m->message, m->envelope, error))
        return FALSE;
    }
  }
  return TRUE;
}

static const FarceurRcptOutcome *
campaign_find_outcome(const FarceurDelivery *delivery, const char *addr)
{
  for (guint i = 0; delivery != NULL && i < delivery->rcpts->len; i++) {
    const FarceurRcptOutcome *o = delivery->rcpts->pdata[i];
    if (g_ascii_strcasecmp(o->addr, addr) == 0)
      return o;
  }
  return NULL;
}

/* The outcome of every envelope recipient, in envelope order: a recipient
 * the batch gave none (still deferred after the last retry, or never tried)
 * is deferred, with the message's error. */
static FarceurDelivery *
campaign_every_rcpt(const FarceurEnvelope *envelope, const FarceurBatchResult *result)
{
  FarceurDelivery *out = farceur_delivery_new();

  if (result->delivery != NULL) {
    out->location = g_strdup(result->delivery->location);
    out->tls = result->delivery->tls; /* a static string */
  }
  for (guint i = 0; i < envelope->rcpt_to->len; i++) {
    const char *addr = envelope->rcpt_to->pdata[i];
    const FarceurRcptOutcome *o = campaign_find_outcome(result->delivery, addr);
    if (o != NULL)
      farceur_delivery_add(out, addr, o->status, o->code, o->enhanced, o->text);
    else
      farceur_delivery_add(out, addr, FARCEUR_RCPT_DEFERRED, 0, NULL,
                           result->error ? result->error->message : NULL);
  }
  return out;
}

/**
 * farceur_campaign_take_result:
 * @campaign: a campaign whose batch is running
 * @result: the final outcome of one of its messages (a #FarceurBatchResultFunc's)
 *
 * Records @result in its message: @state, @attempts, @error, and @delivery
 * with one outcome per envelope recipient (a recipient the result does not
 * name is deferred).
 *
 * Returns: (transfer none) (nullable): the message's group when this was
 *   the last of its messages to settle, else %NULL
 */
FarceurPrankGroup *
farceur_campaign_take_result(FarceurCampaign *campaign, const FarceurBatchResult *result)
{
  FarceurPrankGroup *group = NULL;
  FarceurPrankMessage *m;

  g_return_val_if_fail(campaign != NULL, NULL);
  g_return_val_if_fail(result != NULL, NULL);

  m = campaign_find_source(campaign, result->source, &group);
  if (m == NULL || m->settled)
    return NULL;
  m->settled = TRUE;
  m->state = result->state;
  m->attempts = result->attempts;
  farceur_delivery_free(m->delivery);
  m->delivery = campaign_every_rcpt(m->envelope, result);
  m->delivered = farceur_delivery_count(m->delivery, FARCEUR_RCPT_ACCEPTED) > 0;
  g_clear_error(&m->error);
  if (result->error != NULL)
    m->error = g_error_copy(result->error);
  return farceur_prank_group_is_settled(group) ? group : NULL;
}

/**
 * farceur_prank_group_is_settled:
 * @group: a group
 *
 * Returns: %TRUE when the outcome of every message of @group is known
 */
gboolean
farceur_prank_group_is_settled(const FarceurPrankGroup *group)
{
  g_return_val_if_fail(group != NULL, FALSE);

  for (guint i = 0; i < group->messages->len; i++)
    if (!((const FarceurPrankMessage *)group->messages->pdata[i])->settled)
      return FALSE;
  return TRUE;
}

/**
 * farceur_prank_group_is_delivered:
 * @group: a group
 *
 * Returns: %TRUE when every recipient of every message of @group accepted
 *   it, in this run or (by the journal) an earlier one
 */
gboolean
farceur_prank_group_is_delivered(const FarceurPrankGroup *group)
{
  g_return_val_if_fail(group != NULL, FALSE);

  for (guint i = 0; i < group->messages->len; i++) {
    const FarceurPrankMessage *m = group->messages->pdata[i];
    if (!m->settled || m->delivery == NULL
        || farceur_delivery_count(m->delivery, FARCEUR_RCPT_ACCEPTED) != m->delivery->rcpts->len)
      return FALSE;
  }
  return TRUE;
}
