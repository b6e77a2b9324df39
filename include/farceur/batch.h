/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: delivering many messages over N connections (farceur-send(1);
 * data/doc/formats.md, The journal).
 *
 * A batch is filled from inputs (files, Maildirs, mboxes, "-"), each message
 * read and its envelope derived and validated before anything is sent; then
 * run: N targets (sessions) opened from one factory each take the next
 * message as soon as they are free, reusing their connection.  Outcomes are
 * journaled as they happen; 4xx are retried with doubling back-off; 5xx are
 * final.  Everything runs in the calling thread's main context.
 */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gmime/gmime.h>
#include <json-glib/json-glib.h>

#include "envelope.h"
#include "journal.h"
#include "target.h"

#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * FarceurBatchTargetFunc:
 * @user_data: the data given with the function
 * @error: return location for an error
 *
 * Opens (and configures) one more session to the destination.  Called once
 * per connection the batch runs.
 *
 * Returns: (transfer full): a target, or %NULL with @error
 */
typedef FarceurTarget *(*FarceurBatchTargetFunc)(gpointer user_data, GError **error);

/**
 * FarceurBatchOptions:
 * @connections: parallel sessions (at least 1; local targets should get 1)
 * @retries: how many times a 4xx-deferred recipient is tried again
 * @retry_delay_ms: the first back-off; doubled for each further retry
 * @journal: (nullable): where outcomes go, and what is skipped
 * @resend_unknown: send again what the journal says may have arrived
 * @forget_unknown: record in the journal that what it says may have
 *   arrived must not be sent again (state "forgotten"), and stop reporting it
 * @mail_from: (nullable): envelope sender instead of the headers'
 * @rcpts: (nullable) (array zero-terminated=1): envelope recipients
 * @rcpts_from_headers: also take recipients from the headers when @rcpts
 *   is given (sendmail -t); without @rcpts the headers are always used
 * @shard: with @shards, farceur_batch_add_input() takes only the messages of
 *   shard @shard (from 1) of @shards (farceur_input_set_shard()); 0: all
 * @shards: N of --shard K/N; 0: no sharding
 */
typedef struct {
  guint connections;
  guint retries;
  guint retry_delay_ms;
  FarceurJournal *journal;
  gboolean resend_unknown;
  gboolean forget_unknown;
  const char *mail_from;
  const char *const *rcpts;
  gboolean rcpts_from_headers;
  guint shard;
  guint shards;
} FarceurBatchOptions;

FARCEUR_API void farceur_batch_options_init(FarceurBatchOptions *options);

/**
 * FarceurBatchState:
 * @FARCEUR_BATCH_DELIVERED: every recipient accepted the message
 * @FARCEUR_BATCH_PARTIAL: some recipients accepted it, others refused or deferred it
 * @FARCEUR_BATCH_REFUSED: refused for good (5xx, or a local check)
 * @FARCEUR_BATCH_DEFERRED: still refused for now after every retry, or never tried
 * @FARCEUR_BATCH_UNKNOWN: the final dot got no reply, in this run or (the
 *   journal says) an earlier one: reported until resent or forgotten
 * @FARCEUR_BATCH_SKIPPED: the journal says it was settled by an earlier run
 * @FARCEUR_BATCH_FAILED: not delivered, for a reason that is neither the
 *   server's refusal nor temporary: TLS, authentication, permission,
 *   configuration, a message that changed (the error says which)
 */
typedef enum {
  FARCEUR_BATCH_DELIVERED,
  FARCEUR_BATCH_PARTIAL,
  FARCEUR_BATCH_REFUSED,
  FARCEUR_BATCH_DEFERRED,
  FARCEUR_BATCH_UNKNOWN,
  FARCEUR_BATCH_SKIPPED,
  FARCEUR_BATCH_FAILED,
} FarceurBatchState;

FARCEUR_API const char *farceur_batch_state_to_string(FarceurBatchState state);

/**
 * FarceurBatchEnvelopeOrigin:
 * @FARCEUR_BATCH_ENVELOPE_HEADERS: derived from the header fields (To, Cc,
 *   Bcc or a Resent- block), maybe with --from and --rcpt (-t)
 * @FARCEUR_BATCH_ENVELOPE_STORED: the envelope an earlier delivery recorded
 *   in the message (Return-Path and Envelope-to), maybe with --from
 * @FARCEUR_BATCH_ENVELOPE_OPTIONS: the recipients the caller gave: --rcpt
 *   alone, or a campaign's own envelope (farceur_batch_add_composed())
 *
 * Where a message's envelope came from (data/doc/envelope.md, How send
 * chooses the envelope).
 */
typedef enum {
  FARCEUR_BATCH_ENVELOPE_HEADERS,
  FARCEUR_BATCH_ENVELOPE_STORED,
  FARCEUR_BATCH_ENVELOPE_OPTIONS,
} FarceurBatchEnvelopeOrigin;

FARCEUR_API const char *farceur_batch_envelope_origin_to_string(FarceurBatchEnvelopeOrigin origin);

/**
 * FarceurBatchResult:
 * @source: where the message came from ("path", "path#N", "-")
 * @sha256: hex SHA-256 of the message as sent (its journal key)
 * @header_from: (nullable): the first From mailbox of the headers
 * @size: octets of the message as sent, before CRLF conversion
 * @envelope: the envelope, every recipient (also those skipped)
 * @origin: where @envelope came from
 * @state: the final outcome
 * @delivery: (nullable): per-recipient outcomes of the last attempt, plus
 *   the recipients settled earlier (skipped ones are %FARCEUR_RCPT_ACCEPTED
 *   with the text "journal")
 * @error: (nullable): why it was not (fully) delivered, %NULL when it was
 *   delivered or skipped; farceur_error_classify() gives its category
 * @attempts: transactions tried
 * @seconds: time from the first attempt to the final outcome
 * @earlier_unknown: some recipients' outcome is unknown since an earlier
 *   run (the journal): not sent again until the user decides
 */
typedef struct {
  const char *source;
  const char *sha256;
  const char *header_from;
  gsize size;
  const FarceurEnvelope *envelope;
  FarceurBatchEnvelopeOrigin origin;
  FarceurBatchState state;
  const FarceurDelivery *delivery;
  const GError *error;
  guint attempts;
  double seconds;
  gboolean earlier_unknown;
} FarceurBatchResult;

/**
 * FarceurBatchResultFunc:
 * @result: (transfer none): the final outcome of one message, valid during the call
 * @user_data: the data given with the function
 *
 * Called once per message, as its outcome becomes final.
 */
typedef void (*FarceurBatchResultFunc)(const FarceurBatchResult *result, gpointer user_data);

/**
 * FarceurBatchSummary:
 * @total: messages in the batch
 * @delivered: ... delivered to every recipient
 * @partial: ... delivered to some
 * @refused: ... refused for good
 * @deferred: ... not delivered, retry later
 * @unknown: ... whose fate is unknown
 * @skipped: ... settled by the journal
 * @failed: ... not delivered for a failure neither refused nor temporary
 * @earlier_unknown: ... (among @unknown and @partial) whose outcome an
 *   earlier run left unknown
 * @rcpt_refused: recipients refused, counted one by one
 *
 * The counts of a run; each message's outcome, and the error it stands for,
 * goes to the result function (#FarceurBatchResult).
 */
typedef struct {
  guint total, delivered, partial, refused, deferred, unknown, skipped, failed;
  guint earlier_unknown;
  guint rcpt_refused;
} FarceurBatchSummary;

typedef struct _FarceurBatch FarceurBatch;

FARCEUR_API FarceurBatch *farceur_batch_new(const FarceurBatchOptions *options);
FARCEUR_API void farceur_batch_free(FarceurBatch *batch);

FARCEUR_API gboolean farceur_batch_add_input(FarceurBatch *batch, const char *input,
                                             GError **error);
FARCEUR_API gboolean farceur_batch_add_message(FarceurBatch *batch, const char *source,
                                               GMimeMessage *message, GError **error);
FARCEUR_API gboolean farceur_batch_add_composed(FarceurBatch *batch, const char *source,
                                                GMimeMessage *message,
                                                const FarceurEnvelope *envelope, GError **error);
FARCEUR_API guint farceur_batch_get_count(FarceurBatch *batch);

/**
 * FarceurBatchForeachFunc:
 * @source: where the message came from
 * @envelope: its envelope
 * @origin: where @envelope came from
 * @message: the message, parsed
 * @stored: (nullable): the octets that will be sent (before CRLF conversion
 *   and dot-stuffing), read from their start, for a message sent as stored;
 *   %NULL when it goes out as GMime writes @message
 * @user_data: the data given with the function
 */
typedef void (*FarceurBatchForeachFunc)(const char *source, const FarceurEnvelope *envelope,
                                        FarceurBatchEnvelopeOrigin origin, GMimeMessage *message,
                                        GMimeStream *stored, gpointer user_data);
FARCEUR_API gboolean farceur_batch_foreach(FarceurBatch *batch, FarceurBatchForeachFunc func,
                                           gpointer user_data, GError **error);

FARCEUR_API void farceur_batch_set_result_func(FarceurBatch *batch, FarceurBatchResultFunc func,
                                               gpointer user_data);

FARCEUR_API gboolean farceur_batch_run(FarceurBatch *batch, FarceurBatchTargetFunc open_target,
                                       gpointer target_data, GCancellable *cancellable,
                                       GError **error);

FARCEUR_API void farceur_batch_stop(FarceurBatch *batch);

FARCEUR_API const FarceurBatchSummary *farceur_batch_get_summary(FarceurBatch *batch);

FARCEUR_API JsonNode *farceur_batch_result_to_json(const FarceurBatchResult *result);
FARCEUR_API JsonNode *farceur_batch_envelope_to_json(const char *source,
                                                     const FarceurEnvelope *envelope,
                                                     FarceurBatchEnvelopeOrigin origin);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurBatch, farceur_batch_free)

G_END_DECLS
