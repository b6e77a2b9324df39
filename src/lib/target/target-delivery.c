/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: delivery records, the per-recipient outcomes every backend
 * fills and their one JSON form (data/doc/json.md, recipient outcome).
 * A leaf of the target module: the backends and target.c use it. */
#include "config.h"

#include <string.h>

#include <farceur/json.h>
#include <farceur/target.h>

static void
target_rcpt_outcome_free(gpointer data)
{
  FarceurRcptOutcome *outcome = data;

  g_free(outcome->addr);
  g_free(outcome->enhanced);
  g_free(outcome->text);
  g_free(outcome);
}

/**
 * farceur_delivery_new:
 *
 * Returns: (transfer full): an empty delivery record
 */
FarceurDelivery *
farceur_delivery_new(void)
{
  FarceurDelivery *delivery = g_new0(FarceurDelivery, 1);

  delivery->rcpts = g_ptr_array_new_with_free_func(target_rcpt_outcome_free);
  return delivery;
}

void
farceur_delivery_free(FarceurDelivery *delivery)
{
  if (delivery == NULL)
    return;
  g_ptr_array_unref(delivery->rcpts);
  g_free(delivery->location);
  g_free(delivery);
}

/**
 * farceur_delivery_add:
 * @delivery: a delivery record
 * @addr: the envelope recipient
 * @status: its outcome
 * @code: the reply code, 0 when there was no dialogue
 * @enhanced: (nullable): the enhanced status code
 * @text: (nullable): the reply text or a local detail
 *
 * Returns: (transfer none): the outcome appended to @delivery->rcpts
 */
FarceurRcptOutcome *
farceur_delivery_add(FarceurDelivery *delivery, const char *addr, FarceurRcptStatus status,
                     guint code, const char *enhanced, const char *text)
{
  FarceurRcptOutcome *outcome = g_new0(FarceurRcptOutcome, 1);

  outcome->addr = g_strdup(addr);
  outcome->status = status;
  outcome->code = code;
  outcome->enhanced = g_strdup(enhanced);
  outcome->text = g_strdup(text);
  g_ptr_array_add(delivery->rcpts, outcome);
  return outcome;
}

guint
farceur_delivery_count(const FarceurDelivery *delivery, FarceurRcptStatus status)
{
  guint n = 0;

  for (guint i = 0; i < delivery->rcpts->len; i++)
    if (((FarceurRcptOutcome *)delivery->rcpts->pdata[i])->status == status)
      n++;
  return n;
}

const char *
farceur_rcpt_status_to_string(FarceurRcptStatus status)
{
  switch (status) {
    case FARCEUR_RCPT_ACCEPTED:
      return "accepted";
    case FARCEUR_RCPT_REFUSED:
      return "refused";
    case FARCEUR_RCPT_DEFERRED:
      return "deferred";
    case FARCEUR_RCPT_UNKNOWN:
    default:
      return "unknown";
  }
}

/**
 * farceur_rcpt_outcome_to_json:
 * @outcome: one recipient's outcome
 *
 * The one JSON form of a per-recipient outcome, the same in `send --json`
 * and `prank --json`: {"addr", "status" (accepted|refused|deferred|unknown),
 * "code" (the reply code; null when there was no dialogue), "enhanced",
 * "text" (null when absent)}.
 *
 * Returns: (transfer full): a JSON object
 */
JsonNode *
farceur_rcpt_outcome_to_json(const FarceurRcptOutcome *outcome)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  json_builder_begin_object(b);
  farceur_json_add_string_member(b, "addr", outcome->addr);
  farceur_json_add_string_member(b, "status", farceur_rcpt_status_to_string(outcome->status));
  json_builder_set_member_name(b, "code");
  if (outcome->code != 0)
    json_builder_add_int_value(b, outcome->code);
  else
    json_builder_add_null_value(b);
  farceur_json_add_string_member(b, "enhanced", outcome->enhanced);
  farceur_json_add_string_member(b, "text", outcome->text);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/**
 * farceur_delivery_rcpts_to_json:
 * @delivery: (nullable): a delivery record
 *
 * Returns: (transfer full): a JSON array of the outcomes of @delivery, in
 *   envelope order (see farceur_rcpt_outcome_to_json()); empty when
 *   @delivery is %NULL
 */
JsonNode *
farceur_delivery_rcpts_to_json(const FarceurDelivery *delivery)
{
  g_autoptr(JsonArray) array = json_array_new();
  JsonNode *node = json_node_new(JSON_NODE_ARRAY);

  for (guint i = 0; delivery != NULL && i < delivery->rcpts->len; i++)
    json_array_add_element(array, farceur_rcpt_outcome_to_json(delivery->rcpts->pdata[i]));
  json_node_set_array(node, array);
  return node;
}

/* ---- targets ---- */
