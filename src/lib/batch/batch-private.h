/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: internals of the send queue (batch*.c); never installed. */
#pragma once

#include <gmime/gmime.h>

#include <farceur/batch.h>
#include <farceur/input.h>

G_BEGIN_DECLS

/* A range of a stored message left out when it is sent: one header field,
 * offsets from the start of the message. */
typedef struct {
  gint64 start, end;
} BatchCut;

G_GNUC_INTERNAL gboolean batch_stored_cuts(GMimeMessage *message, GMimeStream *stored,
                                           GArray **cuts);
G_GNUC_INTERNAL GMimeStream *batch_stored_as_sent(GMimeStream *stored, const GArray *cuts);

/* batch.c: one message with an envelope already checked (transfer full);
 * batch-campaign.c adds composed messages through it. */
G_GNUC_INTERNAL void batch_add_enveloped(FarceurBatch *batch, const FarceurInputMessage *msg,
                                         FarceurEnvelope *envelope,
                                         FarceurBatchEnvelopeOrigin origin, gboolean keep);

G_END_DECLS
