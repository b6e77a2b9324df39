/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: a trace as JSON (data/doc/json.md, trace --json) and as a Graphviz digraph. */
#include "config.h"

#include <string.h>

#include "trace-private.h"

/**
 * farceur_trace_format_seconds:
 * @seconds: a duration, possibly negative
 *
 * Returns: (transfer full): a short human form: "42s", "3m05s", "2h10m", "3d04h", "-7s"
 */
char *
farceur_trace_format_seconds(gint64 seconds)
{
  const char *sign = seconds < 0 ? "-" : "";
  guint64 s = seconds < 0 ? (guint64)0 - (guint64)seconds : (guint64)seconds;

  if (s < 60)
    return g_strdup_printf("%s%" G_GUINT64_FORMAT "s", sign, s);
  if (s < 3600)
    return g_strdup_printf("%s%" G_GUINT64_FORMAT "m%02" G_GUINT64_FORMAT "s", sign, s / 60,
                           s % 60);
  if (s < 86400)
    return g_strdup_printf("%s%" G_GUINT64_FORMAT "h%02" G_GUINT64_FORMAT "m", sign, s / 3600,
                           s % 3600 / 60);
  return g_strdup_printf("%s%" G_GUINT64_FORMAT "d%02" G_GUINT64_FORMAT "h", sign, s / 86400,
                         s % 86400 / 3600);
}

/**
 * farceur_hop_describe_from:
 * @hop: a hop
 *
 * Returns: (transfer full): where the hop came from, for a person: "name
 *   [ip]", the name or the IP alone, or "-" when the header does not say
 */
char *
farceur_hop_describe_from(const FarceurHop *hop)
{
  const char *name;

  g_return_val_if_fail(hop != NULL, NULL);
  name = hop->from_rdns ? hop->from_rdns : hop->from_helo;
  if (name && hop->from_ip && !(name[0] == '[' && strstr(name, hop->from_ip)))
    return g_strdup_printf("%s [%s]", name, hop->from_ip);
  if (name || hop->from_ip)
    return g_strdup(name ? name : hop->from_ip);
  return g_strdup("-");
}

/**
 * farceur_trace_describe_anomaly:
 * @trace: a trace
 * @index: a hop of @trace, from 0
 * @anomaly: one flag set on that hop
 *
 * Returns: (transfer full): the anomaly in a sentence, for a person:
 *   "dated 7s before the previous hop (clock skew)"
 */
char *
farceur_trace_describe_anomaly(const FarceurTrace *trace, guint index, FarceurHopAnomaly anomaly)
{
  const FarceurHop *hop;
  const FarceurHop *prev;
  g_autofree char *delay = NULL;

  g_return_val_if_fail(trace != NULL && index < trace->hops->len, NULL);
  hop = trace->hops->pdata[index];
  prev = index > 0 ? trace->hops->pdata[index - 1] : NULL;
  delay = hop->has_delay ? farceur_trace_format_seconds(hop->delay_s) : NULL;
  switch (anomaly) {
    case FARCEUR_HOP_ANOMALY_NEGATIVE_DELAY:
      return g_strdup_printf("dated %s before the previous hop (clock skew)",
                             delay ? delay + 1 : "?");
    case FARCEUR_HOP_ANOMALY_MISSING_DATE:
      return g_strdup("no readable date");
    case FARCEUR_HOP_ANOMALY_PRIVATE_ORIGIN:
      return g_strdup_printf("origin IP %s is private or reserved", hop->from_ip);
    case FARCEUR_HOP_ANOMALY_NO_TLS:
      return g_strdup_printf("not encrypted (with %s)", hop->with ? hop->with : "?");
    case FARCEUR_HOP_ANOMALY_FROM_MISMATCH:
      return g_strdup_printf("came from '%s', but the previous hop was received by '%s'",
                             hop->from_rdns   ? hop->from_rdns
                             : hop->from_helo ? hop->from_helo
                                              : hop->from_ip,
                             prev ? prev->by : "?");
    default:
      return g_strdup("?");
  }
}

/* The JSON is built as a tree of JsonObject/JsonArray directly: the same
 * tree JsonBuilder makes, with fewer copies of every member name. */
static void
trace_json_string(JsonObject *object, const char *name, const char *value)
{
  if (value)
    json_object_set_string_member(object, name, value);
  else
    json_object_set_null_member(object, name);
}

static JsonArray *
trace_json_strings(GPtrArray *strings)
{
  JsonArray *array = json_array_sized_new(strings ? strings->len : 0);

  for (guint i = 0; strings && i < strings->len; i++)
    json_array_add_string_element(array, strings->pdata[i]);
  return array;
}

static JsonArray *
trace_json_anomalies(FarceurHopAnomaly anomalies)
{
  JsonArray *array = json_array_new();

  for (guint flag = 1; flag <= FARCEUR_HOP_ANOMALY_LAST; flag <<= 1)
    if (anomalies & flag)
      json_array_add_string_element(array, farceur_hop_anomaly_to_string(flag));
  return array;
}

static char *
trace_json_date(GDateTime *date)
{
  int y, m, d;

  if (date == NULL)
    return NULL;
  g_date_time_get_ymd(date, &y, &m, &d);
  return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, g_date_time_get_hour(date),
                         g_date_time_get_minute(date), g_date_time_get_second(date));
}

static JsonObject *
trace_json_hop(const FarceurHop *hop)
{
  JsonObject *o = json_object_new();
  g_autofree char *date = trace_json_date(hop->date);

  trace_json_string(o, "from_helo", hop->from_helo);
  trace_json_string(o, "from_rdns", hop->from_rdns);
  trace_json_string(o, "from_ip", hop->from_ip);
  trace_json_string(o, "by", hop->by);
  trace_json_string(o, "via", hop->via);
  trace_json_string(o, "with", hop->with);
  trace_json_string(o, "id", hop->id);
  trace_json_string(o, "for", hop->for_addr);
  trace_json_string(o, "envelope_from", hop->envelope_from);
  if (hop->tls == FARCEUR_TLS_UNKNOWN)
    json_object_set_null_member(o, "tls");
  else
    json_object_set_boolean_member(o, "tls", hop->tls == FARCEUR_TLS_YES);
  trace_json_string(o, "date", date);
  if (hop->has_delay)
    json_object_set_int_member(o, "delay_s", hop->delay_s);
  else
    json_object_set_null_member(o, "delay_s");
  json_object_set_array_member(o, "anomalies", trace_json_anomalies(hop->anomalies));
  json_object_set_array_member(o, "warnings", trace_json_strings(hop->warnings));
  trace_json_string(o, "raw", hop->raw);
  return o;
}

/* Trace warnings, then each hop's warnings prefixed "hop N: ". */
static JsonArray *
trace_json_all_warnings(const FarceurTrace *trace)
{
  JsonArray *array = trace_json_strings(trace->warnings);

  for (guint i = 0; i < trace->hops->len; i++) {
    const FarceurHop *hop = trace->hops->pdata[i];

    for (guint w = 0; w < hop->warnings->len; w++) {
      g_autofree char *text = g_strdup_printf("hop %u: %s", i + 1, (char *)hop->warnings->pdata[w]);

      json_array_add_string_element(array, text);
    }
  }
  return array;
}

/**
 * farceur_trace_to_json:
 * @trace: a trace
 * @source: (nullable): where the message came from ("path", "path#N", "-")
 *
 * The record of data/doc/json.md (trace --json; data/schema/trace.schema.json): {"source", "hops": [...], "total_s", "warnings"}.  Hops
 * carry the fields listed there: "raw", "via", "anomalies" (flag names)
 * and their own "warnings"; the top-level "warnings" repeats those as "hop N: ...".
 *
 * Returns: (transfer full): a JSON object node
 */
JsonNode *
farceur_trace_to_json(const FarceurTrace *trace, const char *source)
{
  JsonObject *root;
  JsonArray *hops;
  JsonNode *node;

  g_return_val_if_fail(trace != NULL, NULL);

  root = json_object_new();
  hops = json_array_sized_new(trace->hops->len);

  trace_json_string(root, "source", source);
  for (guint i = 0; i < trace->hops->len; i++)
    json_array_add_object_element(hops, trace_json_hop(trace->hops->pdata[i]));
  json_object_set_array_member(root, "hops", hops);
  if (trace->has_total)
    json_object_set_int_member(root, "total_s", trace->total_s);
  else
    json_object_set_null_member(root, "total_s");
  json_object_set_array_member(root, "warnings", trace_json_all_warnings(trace));
  node = json_node_init_object(json_node_alloc(), root);
  json_object_unref(root);
  return node;
}

/* A DOT quoted string: quotes and backslashes escaped, newlines as \\n,
 * other control bytes dropped. */
static void
trace_dot_quote(GString *out, const char *text)
{
  g_string_append_c(out, '"');
  for (const char *s = text; *s; s++) {
    if (*s == '\n')
      g_string_append(out, "\\n");
    if (*s == '"' || *s == '\\')
      g_string_append_c(out, '\\');
    if ((guchar)*s >= 0x20 && *s != 0x7f)
      g_string_append_c(out, *s);
  }
  g_string_append_c(out, '"');
}

static const char *
trace_dot_from_name(const FarceurHop *hop)
{
  return hop->from_rdns ?: hop->from_helo ?: hop->from_ip;
}

/* The node of a host, created on first use; nodes are keyed by lower-case name. */
static guint
trace_dot_node(GString *out, GHashTable *nodes, const char *name, const char *ip)
{
  g_autofree char *key = g_ascii_strdown(name, -1);
  g_autofree char *label = NULL;
  gpointer found;

  if (g_hash_table_lookup_extended(nodes, key, NULL, &found))
    return GPOINTER_TO_UINT(found);
  g_hash_table_insert(nodes, g_strdup(key), GUINT_TO_POINTER(g_hash_table_size(nodes)));
  label = ip && g_ascii_strcasecmp(ip, name) != 0 ? g_strdup_printf("%s\n%s", name, ip)
                                                  : g_strdup(name);
  g_string_append_printf(out, "  n%u [label=", g_hash_table_size(nodes) - 1);
  trace_dot_quote(out, label);
  g_string_append(out, "];\n");
  return g_hash_table_size(nodes) - 1;
}

static char *
trace_dot_edge_label(const FarceurHop *hop)
{
  g_autofree char *delay = hop->has_delay ? farceur_trace_format_seconds(hop->delay_s) : NULL;
  const char *tls = hop->tls == FARCEUR_TLS_YES  ? "TLS"
                    : hop->tls == FARCEUR_TLS_NO ? "no TLS"
                                                 : "TLS ?";

  return g_strdup_printf("%s\n%s\n%s%s", hop->with ? hop->with : "?", tls,
                         delay && hop->delay_s >= 0 ? "+" : "", delay ? delay : "?");
}

static void
trace_dot_hop(GString *out, GHashTable *nodes, const FarceurTrace *trace, guint i)
{
  const FarceurHop *hop = trace->hops->pdata[i];
  const FarceurHop *prev = i > 0 ? trace->hops->pdata[i - 1] : NULL;
  const char *from = trace_dot_from_name(hop);
  g_autofree char *label = trace_dot_edge_label(hop);
  const char *ip = hop->from_ip;
  guint src, dst;

  /* Chain onto the previous host unless the hop says it came from elsewhere. */
  if (prev && prev->by && (from == NULL || !(hop->anomalies & FARCEUR_HOP_ANOMALY_FROM_MISMATCH))) {
    from = prev->by;
    ip = NULL;
  }
  src = trace_dot_node(out, nodes, from ? from : "(origin)", ip);
  dst = trace_dot_node(out, nodes, hop->by ? hop->by : "(unknown)", NULL);
  g_string_append_printf(out, "  n%u -> n%u [label=", src, dst);
  trace_dot_quote(out, label);
  if (hop->anomalies != FARCEUR_HOP_ANOMALY_NONE)
    g_string_append(out, ", color=red, fontcolor=red");
  g_string_append(out, "];\n");
}

/**
 * farceur_trace_to_dot:
 * @trace: a trace
 * @source: (nullable): the graph's title
 *
 * A Graphviz digraph: hosts as nodes, hops as edges labelled with protocol,
 * TLS and delay; edges of hops with anomalies are red.
 *
 * Returns: (transfer full): the DOT text
 */
char *
farceur_trace_to_dot(const FarceurTrace *trace, const char *source)
{
  GString *out;
  g_autoptr(GHashTable) nodes = NULL;

  g_return_val_if_fail(trace != NULL, NULL);

  out = g_string_new("digraph trace {\n");
  nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

  g_string_append(out, "  graph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", label=");
  trace_dot_quote(out, source ? source : "trace");
  g_string_append(out, "];\n  node [shape=box, fontname=\"Helvetica\"];\n"
                       "  edge [fontname=\"Helvetica\", fontsize=10];\n");
  for (guint i = 0; i < trace->hops->len; i++)
    trace_dot_hop(out, nodes, trace, i);
  g_string_append(out, "}\n");
  return g_string_free(out, FALSE);
}
