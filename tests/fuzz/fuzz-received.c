/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the Received: parser and the hop analysis.
 *
 * The input is split at '\n' into Received: values (top first), parsed as
 * one trace against a fixed Date:, and rendered as JSON and DOT; a single
 * value is also parsed on its own.  Every output must be valid UTF-8. */
#include <stdint.h>
#include <string.h>

#include <farceur/farceur.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_outputs(const FarceurTrace *trace)
{
  g_autoptr(JsonNode) node = farceur_trace_to_json(trace, "fuzz");
  g_autofree char *json = json_to_string(node, FALSE);
  g_autofree char *dot = farceur_trace_to_dot(trace, "fuzz");

  g_assert_true(g_utf8_validate(json, -1, NULL));
  g_assert_true(g_utf8_validate(dot, -1, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  g_auto(GStrv) values = g_strsplit(text, "\n", FARCEUR_TRACE_MAX_HOPS + 8);
  g_autoptr(GDateTime) sent = g_date_time_new_utc(2026, 11, 23, 1, 2, 3);
  g_autoptr(FarceurHop) hop = NULL;
  g_autoptr(FarceurTrace) trace = NULL;

  farceur_init();
  hop = farceur_hop_parse(text);
  g_assert_nonnull(hop->raw);
  g_assert_true(g_utf8_validate(hop->raw, -1, NULL));
  trace = farceur_trace_new((const char *const *)values, sent);
  fuzz_check_outputs(trace);
  return 0;
}
