/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the records of a batch as JSON objects (send --json). */
#include "config.h"

#include <farceur/batch.h>
#include <farceur/json.h>

/**
 * farceur_batch_result_to_json:
 * @result: the final outcome of one message
 *
 * Returns: (transfer full): {"source", "sha256", "size", "state"
 *   (delivered|partial|refused|deferred|unknown|skipped), "mail_from",
 *   "header_from", "envelope" (where the envelope came from: "headers",
 *   "stored", "options"), "rcpt" (see farceur_rcpt_outcome_to_json()), "reply"
 *   (where the message went: the final reply, or the file written), "tls"
 *   ("verified", "unverified" or null: data/doc/smtp.md, TLS), "error",
 *   "attempts", "seconds"}
 */
JsonNode *
farceur_batch_result_to_json(const FarceurBatchResult *result)
{
  g_autoptr(JsonBuilder) b = NULL;

  g_return_val_if_fail(result != NULL, NULL);
  g_return_val_if_fail(result->envelope != NULL, NULL);

  b = json_builder_new();
  json_builder_begin_object(b);
  farceur_json_add_string_member(b, "source", result->source);
  farceur_json_add_string_member(b, "sha256", result->sha256);
  json_builder_set_member_name(b, "size");
  json_builder_add_int_value(b, result->size);
  farceur_json_add_string_member(b, "state", farceur_batch_state_to_string(result->state));
  farceur_json_add_string_member(b, "mail_from", result->envelope->mail_from);
  farceur_json_add_string_member(b, "header_from", result->header_from);
  farceur_json_add_string_member(b, "envelope",
                                 farceur_batch_envelope_origin_to_string(result->origin));
  json_builder_set_member_name(b, "rcpt");
  json_builder_add_value(b, farceur_delivery_rcpts_to_json(result->delivery));
  farceur_json_add_string_member(b, "reply", result->delivery ? result->delivery->location : NULL);
  farceur_json_add_string_member(b, "tls", result->delivery ? result->delivery->tls : NULL);
  farceur_json_add_string_member(b, "error", result->error ? result->error->message : NULL);
  json_builder_set_member_name(b, "attempts");
  json_builder_add_int_value(b, result->attempts);
  json_builder_set_member_name(b, "seconds");
  json_builder_add_double_value(b, result->seconds);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/**
 * farceur_batch_envelope_to_json:
 * @source: where the message came from
 * @envelope: the envelope it will be sent with
 * @origin: where @envelope came from
 *
 * Returns: (transfer full): {"source", "mail_from", "rcpt_to", "envelope"}: what
 *   `send --dry-run --json` shows of each message
 */
JsonNode *
farceur_batch_envelope_to_json(const char *source, const FarceurEnvelope *envelope,
                               FarceurBatchEnvelopeOrigin origin)
{
  g_autoptr(JsonBuilder) b = NULL;

  g_return_val_if_fail(source != NULL, NULL);
  g_return_val_if_fail(envelope != NULL, NULL);

  b = json_builder_new();
  json_builder_begin_object(b);
  farceur_json_add_string_member(b, "source", source);
  farceur_json_add_string_member(b, "mail_from", envelope->mail_from);
  farceur_json_add_strings_member(b, "rcpt_to", envelope->rcpt_to);
  farceur_json_add_string_member(b, "envelope", farceur_batch_envelope_origin_to_string(origin));
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
