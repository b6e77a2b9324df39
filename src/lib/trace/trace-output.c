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
trace_json_anomalies(FarceurJsonWriter *w, FarceurHopAnomaly anomalies)
{
  farceur_json_writer_member(w, "anomalies");
  farceur_json_writer_begin_array(w);
  for (guint flag = 1; flag <= FARCEUR_HOP_ANOMALY_LAST; flag <<= 1)
    if (anomalies & flag)
      farceur_json_writer_string(w, farceur_hop_anomaly_to_string(flag));
  farceur_json_writer_end_array(w);
}

static void
trace_json_hop(FarceurJsonWriter *w, const FarceurHop *hop)
{
  farceur_json_writer_begin_object(w);
  farceur_json_writer_string_member(w, "from_helo", hop->from_helo);
  farceur_json_writer_string_member(w, "from_rdns", hop->from_rdns);
  farceur_json_writer_string_member(w, "from_ip", hop->from_ip);
  farceur_json_writer_string_member(w, "by", hop->by);
  farceur_json_writer_string_member(w, "via", hop->via);
  farceur_json_writer_string_member(w, "with", hop->with);
  farceur_json_writer_string_member(w, "id", hop->id);
  farceur_json_writer_string_member(w, "for", hop->for_addr);
  farceur_json_writer_string_member(w, "envelope_from", hop->envelope_from);
  farceur_json_writer_member(w, "tls");
  if (hop->tls == FARCEUR_TLS_UNKNOWN)
    farceur_json_writer_null(w);
  else
    farceur_json_writer_boolean(w, hop->tls == FARCEUR_TLS_YES);
  farceur_json_writer_member(w, "date");
  farceur_json_writer_date(w, hop->date, 4);
  farceur_json_writer_member(w, "delay_s");
  if (hop->has_delay)
    farceur_json_writer_int(w, hop->delay_s);
  else
    farceur_json_writer_null(w);
  trace_json_anomalies(w, hop->anomalies);
  farceur_json_writer_strings_member(w, "warnings", hop->warnings);
  farceur_json_writer_string_member(w, "raw", hop->raw);
  farceur_json_writer_end_object(w);
}

/* Trace warnings, then each hop's warnings prefixed "hop N: ". */
static void
trace_json_all_warnings(FarceurJsonWriter *w, const FarceurTrace *trace)
{
  farceur_json_writer_member(w, "warnings");
  farceur_json_writer_begin_array(w);
  for (guint i = 0; i < trace->warnings->len; i++)
    farceur_json_writer_string(w, trace->warnings->pdata[i]);
  for (guint i = 0; i < trace->hops->len; i++) {
    const FarceurHop *hop = trace->hops->pdata[i];

    for (guint k = 0; k < hop->warnings->len; k++) {
      g_autofree char *text = g_strdup_printf("hop %u: %s", i + 1, (char *)hop->warnings->pdata[k]);

      farceur_json_writer_string(w, text);
    }
  }
  farceur_json_writer_end_array(w);
}

/**
 * farceur_trace_write_json:
 * @trace: a trace
 * @source: (nullable): where the message came from ("path", "path#N", "-")
 * @writer: where the record goes (appended)
 *
 * The record of data/doc/json.md (trace --json; data/schema/trace.schema.json): {"source", "hops": [...], "total_s", "warnings"}.  Hops
 * carry the fields listed there: "raw", "via", "anomalies" (flag names)
 * and their own "warnings"; the top-level "warnings" repeats those as "hop N: ...".
 * This is the one serializer of the record.
 */
void
farceur_trace_write_json(const FarceurTrace *trace, const char *source, FarceurJsonWriter *writer)
{
  g_return_if_fail(trace != NULL);
  g_return_if_fail(writer != NULL);
  farceur_json_writer_begin_object(writer);
  farceur_json_writer_string_member(writer, "source", source);
  farceur_json_writer_member(writer, "hops");
  farceur_json_writer_begin_array(writer);
  for (guint i = 0; i < trace->hops->len; i++)
    trace_json_hop(writer, trace->hops->pdata[i]);
  farceur_json_writer_end_array(writer);
  farceur_json_writer_member(writer, "total_s");
  if (trace->has_total)
    farceur_json_writer_int(writer, trace->total_s);
  else
    farceur_json_writer_null(writer);
  trace_json_all_warnings(writer, trace);
  farceur_json_writer_end_object(writer);
}

/**
 * farceur_trace_to_json:
 * @trace: a trace
 * @source: (nullable): where the message came from
 *
 * The record of farceur_trace_write_json(), read back into a tree.
 *
 * Returns: (transfer full): a JSON object node
 */
JsonNode *
farceur_trace_to_json(const FarceurTrace *trace, const char *source)
{
  g_autoptr(FarceurJsonWriter) writer = farceur_json_writer_new();

  g_return_val_if_fail(trace != NULL, NULL);
  farceur_trace_write_json(trace, source, writer);
  return farceur_json_writer_to_node(writer);
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
