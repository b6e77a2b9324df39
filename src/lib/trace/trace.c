/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: hop analysis of a Received: trace: order, delays, anomalies.
 *
 * The clause parsing lives in trace-received.c (and its tokenizer in
 * trace-lexer.c); JSON and Graphviz output in trace-output.c.
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include <farceur/init.h>

#include "trace-private.h"

/**
 * farceur_hop_free:
 * @hop: (nullable): a hop
 */
void
farceur_hop_free(FarceurHop *hop)
{
  if (hop == NULL)
    return;
  g_free(hop->from_helo);
  g_free(hop->from_rdns);
  g_free(hop->from_ip);
  g_free(hop->by);
  g_free(hop->via);
  g_free(hop->with);
  g_free(hop->id);
  g_free(hop->for_addr);
  g_free(hop->envelope_from);
  g_clear_pointer(&hop->date, g_date_time_unref);
  g_free(hop->raw);
  g_clear_pointer(&hop->warnings, g_ptr_array_unref);
  g_free(hop);
}

/**
 * farceur_hop_copy:
 * @hop: a hop
 *
 * Returns: (transfer full): a deep copy of @hop
 */
FarceurHop *
farceur_hop_copy(const FarceurHop *hop)
{
  FarceurHop *copy;

  g_return_val_if_fail(hop != NULL, NULL);

  copy = g_memdup2(hop, sizeof *hop);

  copy->from_helo = g_strdup(hop->from_helo);
  copy->from_rdns = g_strdup(hop->from_rdns);
  copy->from_ip = g_strdup(hop->from_ip);
  copy->by = g_strdup(hop->by);
  copy->via = g_strdup(hop->via);
  copy->with = g_strdup(hop->with);
  copy->id = g_strdup(hop->id);
  copy->for_addr = g_strdup(hop->for_addr);
  copy->envelope_from = g_strdup(hop->envelope_from);
  copy->date = hop->date ? g_date_time_ref(hop->date) : NULL;
  copy->raw = g_strdup(hop->raw);
  copy->warnings = g_ptr_array_copy(hop->warnings, (GCopyFunc)(void (*)(void))g_strdup, NULL);
  g_ptr_array_set_free_func(copy->warnings, g_free);
  return copy;
}

/**
 * farceur_hop_anomaly_to_string:
 * @anomaly: one flag
 *
 * Returns: (transfer none): the flag's name as used in JSON, e.g. "negative_delay"
 */
const char *
farceur_hop_anomaly_to_string(FarceurHopAnomaly anomaly)
{
  switch (anomaly) {
    case FARCEUR_HOP_ANOMALY_NEGATIVE_DELAY:
      return "negative_delay";
    case FARCEUR_HOP_ANOMALY_MISSING_DATE:
      return "missing_date";
    case FARCEUR_HOP_ANOMALY_PRIVATE_ORIGIN:
      return "private_origin_ip";
    case FARCEUR_HOP_ANOMALY_NO_TLS:
      return "no_tls";
    case FARCEUR_HOP_ANOMALY_FROM_MISMATCH:
      return "from_mismatch";
    default:
      return "none";
  }
}

/**
 * farceur_trace_free:
 * @trace: (nullable): a trace
 */
void
farceur_trace_free(FarceurTrace *trace)
{
  if (trace == NULL)
    return;
  g_clear_pointer(&trace->hops, g_ptr_array_unref);
  g_clear_pointer(&trace->sent, g_date_time_unref);
  g_clear_pointer(&trace->warnings, g_ptr_array_unref);
  g_free(trace);
}

/* Ranges GInetAddress has no predicate for: RFC 6890 special-purpose
 * registries (this network, shared, IETF, documentation, benchmarking,
 * reserved, ULA, discard, ...), as byte prefixes. */
typedef struct {
  guint8 family_size; /* 4 or 16 */
  guint8 bits;
  guint8 prefix[16];
} TraceRange;

static const TraceRange trace_reserved_ranges[] = {
  { 4, 8, { 0 } },                        /* 0.0.0.0/8 */
  { 4, 10, { 100, 64 } },                 /* 100.64.0.0/10 */
  { 4, 24, { 192, 0, 0 } },               /* 192.0.0.0/24 */
  { 4, 24, { 192, 0, 2 } },               /* 192.0.2.0/24 */
  { 4, 15, { 198, 18 } },                 /* 198.18.0.0/15 */
  { 4, 24, { 198, 51, 100 } },            /* 198.51.100.0/24 */
  { 4, 24, { 203, 0, 113 } },             /* 203.0.113.0/24 */
  { 4, 4, { 240 } },                      /* 240.0.0.0/4 */
  { 16, 32, { 0x20, 0x01, 0x0d, 0xb8 } }, /* 2001:db8::/32 */
  { 16, 7, { 0xfc } },                    /* fc00::/7 */
  { 16, 64, { 0x01, 0x00 } },             /* 100::/64 */
  { 16, 48, { 0x20, 0x01, 0x00, 0x02 } }, /* 2001:2::/48 */
  { 16, 20, { 0x3f, 0xff } },             /* 3fff::/20 */
};

static gboolean
trace_range_matches(const TraceRange *range, const guint8 *bytes, gsize size)
{
  guint whole = range->bits / 8, rest = range->bits % 8;

  if (range->family_size != size || memcmp(bytes, range->prefix, whole) != 0)
    return FALSE;
  return rest == 0 || ((bytes[whole] ^ range->prefix[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static gboolean
trace_ip_in_reserved_range(GInetAddress *addr)
{
  const guint8 *bytes = g_inet_address_to_bytes(addr);
  gsize size = g_inet_address_get_native_size(addr);

  for (gsize i = 0; i < G_N_ELEMENTS(trace_reserved_ranges); i++)
    if (trace_range_matches(&trace_reserved_ranges[i], bytes, size))
      return TRUE;
  return FALSE;
}

static gboolean
trace_ip_is_private(const char *text)
{
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(text);

  if (addr == NULL)
    return FALSE;
  return g_inet_address_get_is_any(addr) || g_inet_address_get_is_loopback(addr)
         || g_inet_address_get_is_link_local(addr) || g_inet_address_get_is_site_local(addr)
         || g_inet_address_get_is_multicast(addr) || trace_ip_in_reserved_range(addr);
}

/* The key a host name compares by: lower case, without a trailing dot or
 * brackets (an IP in brackets normalized); in @small when it fits, which
 * most names do, else in @heap. */
typedef struct {
  const char *key;
  char *heap;
  char small[128];
} TraceHostKey;

static void
trace_host_key(TraceHostKey *k, const char *name)
{
  gsize len = strlen(name);
  char *lower = len < sizeof k->small ? k->small : (k->heap = g_malloc(len + 1));
  char *ip;

  for (gsize i = 0; i <= len; i++)
    lower[i] = g_ascii_tolower(name[i]);
  if (len > 0 && lower[len - 1] == '.')
    lower[--len] = '\0';
  k->key = lower;
  if (len >= 2 && lower[0] == '[' && lower[len - 1] == ']') {
    /* normalized with its ']' (as before the key had a buffer) */
    if ((ip = trace_ip_normalize(lower + 1)) != NULL) {
      g_free(k->heap);
      k->key = k->heap = ip;
      return;
    }
    lower[len - 1] = '\0';
    k->key = lower + 1;
  }
}

static void
trace_host_key_clear(TraceHostKey *k)
{
  g_free(k->heap);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TraceHostKey, trace_host_key_clear)

/* Host names compare without case, trailing dot or brackets; a short name
 * ("EXCH01") matches the first label of a full one ("EXCH01.corp.example").
 * @by is the previous hop's, its key made once (@by_key->key %NULL until then). */
static gboolean
trace_same_host(const char *a, const char *by, TraceHostKey *by_key)
{
  g_auto(TraceHostKey) a_key = { NULL };
  const char *ka, *kb;
  gsize la, lb;

  if (a == NULL)
    return FALSE;
  /* the same key, without making it: the usual chain (as written, mostly) */
  if (strcmp(a, by) == 0 || g_ascii_strcasecmp(a, by) == 0)
    return TRUE;
  if (by_key->key == NULL)
    trace_host_key(by_key, by);
  trace_host_key(&a_key, a);
  ka = a_key.key;
  kb = by_key->key;
  if (strcmp(ka, kb) == 0)
    return TRUE;
  la = strcspn(ka, ".");
  lb = strcspn(kb, ".");
  if ((ka[la] == '\0' || kb[lb] == '\0') && la == lb && la > 0 && !g_hostname_is_ip_address(ka)
      && !g_hostname_is_ip_address(kb))
    return strncmp(ka, kb, la) == 0;
  return FALSE;
}

static gboolean
trace_from_matches(const FarceurHop *hop, const char *by)
{
  g_auto(TraceHostKey) by_key = { NULL };

  return trace_same_host(hop->from_helo, by, &by_key)
         || trace_same_host(hop->from_rdns, by, &by_key)
         || trace_same_host(hop->from_ip, by, &by_key);
}

static void
trace_flag_pairs(FarceurTrace *trace)
{
  for (guint i = 1; i < trace->hops->len; i++) {
    FarceurHop *hop = trace->hops->pdata[i];
    const FarceurHop *prev = trace->hops->pdata[i - 1];
    gboolean has_from = hop->from_helo || hop->from_rdns || hop->from_ip;

    if (hop->tls == FARCEUR_TLS_NO)
      hop->anomalies |= FARCEUR_HOP_ANOMALY_NO_TLS;
    if (has_from && prev->by && !trace_from_matches(hop, prev->by))
      hop->anomalies |= FARCEUR_HOP_ANOMALY_FROM_MISMATCH;
  }
}

/* The origin is the first hop that names the client's IP. */
static void
trace_flag_origin(FarceurTrace *trace)
{
  for (guint i = 0; i < trace->hops->len; i++) {
    FarceurHop *hop = trace->hops->pdata[i];

    if (hop->from_ip == NULL)
      continue;
    if (trace_ip_is_private(hop->from_ip))
      hop->anomalies |= FARCEUR_HOP_ANOMALY_PRIVATE_ORIGIN;
    return;
  }
}

/* Delay from the last dated hop before (the first hop: from Date:). */
static void
trace_compute_delays(FarceurTrace *trace)
{
  GDateTime *last = trace->sent;
  GDateTime *first = trace->sent;

  for (guint i = 0; i < trace->hops->len; i++) {
    FarceurHop *hop = trace->hops->pdata[i];

    if (hop->date == NULL) {
      hop->anomalies |= FARCEUR_HOP_ANOMALY_MISSING_DATE;
      continue;
    }
    if (last) {
      hop->has_delay = TRUE;
      hop->delay_s = g_date_time_difference(hop->date, last) / G_TIME_SPAN_SECOND;
      if (hop->delay_s < 0)
        hop->anomalies |= FARCEUR_HOP_ANOMALY_NEGATIVE_DELAY;
    }
    if (first == NULL)
      first = hop->date;
    last = hop->date;
  }
  if (first && last && (first != last || trace->sent == NULL)) {
    trace->has_total = TRUE;
    trace->total_s = g_date_time_difference(last, first) / G_TIME_SPAN_SECOND;
  }
}

/**
 * farceur_trace_new:
 * @received: (nullable) (array zero-terminated=1): Received: values in header order (top first)
 * @sent: (nullable): the message's Date:
 *
 * Parses every value (at most %FARCEUR_TRACE_MAX_HOPS, the topmost ones),
 * orders the hops origin first, computes delays and flags anomalies.
 *
 * Returns: (transfer full): the trace
 */
FarceurTrace *
farceur_trace_new(const char *const *received, GDateTime *sent)
{
  FarceurTrace *trace = g_new0(FarceurTrace, 1);
  guint n = received ? g_strv_length((char **)received) : 0;

  farceur_init();
  trace->warnings = g_ptr_array_new_with_free_func(g_free);
  trace->sent = sent ? g_date_time_to_utc(sent) : NULL;
  if (n == 0)
    trace_warn(trace->warnings, "no Received: header");
  if (n > FARCEUR_TRACE_MAX_HOPS) {
    trace_warn(trace->warnings, "%u Received: headers, only the top %d read", n,
               FARCEUR_TRACE_MAX_HOPS);
    n = FARCEUR_TRACE_MAX_HOPS;
  }
  /* sized once: it never grows */
  trace->hops = g_ptr_array_new_full(n, (GDestroyNotify)farceur_hop_free);
  for (guint i = n; i > 0; i--)
    g_ptr_array_add(trace->hops, farceur_hop_parse(received[i - 1]));
  trace_compute_delays(trace);
  trace_flag_origin(trace);
  trace_flag_pairs(trace);
  return trace;
}

/**
 * farceur_trace_from_message:
 * @message: a parsed message
 *
 * The trace of @message's Received: headers (raw values, unfolded), measured
 * from its Date:.
 *
 * Returns: (transfer full): the trace
 */
FarceurTrace *
farceur_trace_from_message(GMimeMessage *message)
{
  GMimeHeaderList *headers;
  g_autoptr(GPtrArray) values = NULL;
  int count;

  g_return_val_if_fail(GMIME_IS_MESSAGE(message), NULL);

  headers = g_mime_object_get_header_list(GMIME_OBJECT(message));
  values = g_ptr_array_new();
  count = g_mime_header_list_get_count(headers);

  for (int i = 0; i < count; i++) {
    GMimeHeader *header = g_mime_header_list_get_header_at(headers, i);
    const char *raw;

    if (g_ascii_strcasecmp(g_mime_header_get_name(header), "Received") != 0)
      continue;
    raw = g_mime_header_get_raw_value(header);
    g_ptr_array_add(values, (gpointer)(raw ? raw : g_mime_header_get_value(header)));
  }
  g_ptr_array_add(values, NULL);
  return farceur_trace_new((const char *const *)values->pdata, g_mime_message_get_date(message));
}

/**
 * farceur_trace_from_headers:
 * @headers: a header block (farceur_input_next_headers())
 *
 * The trace of its Received: fields, measured from its Date: (the last one,
 * as GMime reads a message): what farceur_trace_from_message() gives for
 * the same message, without building it.
 *
 * Returns: (transfer full): the trace
 */
FarceurTrace *
farceur_trace_from_headers(const FarceurInputHeaders *headers)
{
  const char *small[64];
  g_autofree const char **heap = NULL;
  const char **values = small;
  g_autoptr(GDateTime) sent = NULL;
  FarceurTrace *trace;
  const char *date = NULL;
  guint n = 0;

  g_return_val_if_fail(headers != NULL, NULL);
  if (headers->n_fields >= G_N_ELEMENTS(small))
    values = heap = g_new(const char *, headers->n_fields + 1);
  /* the Received: fields, and the last Date: (farceur_input_headers_get()'s) */
  for (guint i = 0; i < headers->n_fields; i++) {
    const FarceurInputField *field = &headers->fields[i];

    if (trace_word_is(field->name, "received"))
      values[n++] = field->value;
    else if (trace_word_is(field->name, "date"))
      date = field->value;
  }
  values[n] = NULL;
  if (date != NULL) {
    g_autofree char *unfolded = g_mime_utils_header_unfold(date);
    g_autofree char *decoded = NULL;

    /* as GMime decodes Date: (encoded words in a date are rare, not unknown) */
    if (strstr(unfolded, "=?") != NULL || !trace_is_ascii(unfolded, strlen(unfolded)))
      decoded = g_mime_utils_header_decode_text(NULL, unfolded);
    sent = trace_date_parse(decoded ? decoded : unfolded);
  }
  trace = farceur_trace_new(values, sent);
  /* what the input's caps cut of a hostile header (data/doc/formats.md) */
  for (guint i = 0; headers->warnings != NULL && i < headers->warnings->len; i++)
    g_ptr_array_add(trace->warnings, g_strdup(headers->warnings->pdata[i]));
  return trace;
}
