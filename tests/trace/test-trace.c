/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of the trace module: Received: parsing (table-driven, from
 * tests/data/received/FAMILY.txt; see the README there), clause-level cases,
 * hop analysis and anomalies, JSON and DOT output. */
#include <string.h>

#include <glib/gstdio.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"
#include "trace-private.h"

typedef struct {
  char *name;
  char *value;
  GHashTable *expect; /* field -> expected text */
  GPtrArray *warning_texts;
} ReceivedCase;

static const char *const received_fields[]
    = { "from_helo", "from_rdns", "from_ip",       "by",  "via", "with",
        "id",        "for",       "envelope_from", "tls", "date" };

static void
received_case_free(gpointer data)
{
  ReceivedCase *c = data;

  g_free(c->name);
  g_free(c->value);
  g_hash_table_unref(c->expect);
  g_ptr_array_unref(c->warning_texts);
  g_free(c);
}

/* "\xNN" in a value stands for a raw byte (8-bit and invalid UTF-8 cases). */
static char *
received_unescape(const char *text)
{
  GString *out = g_string_new(NULL);

  for (const char *s = text; *s; s++) {
    if (s[0] == '\\' && s[1] == 'x' && g_ascii_isxdigit(s[2]) && g_ascii_isxdigit(s[3])) {
      g_string_append_c(out, (char)(g_ascii_xdigit_value(s[2]) * 16 + g_ascii_xdigit_value(s[3])));
      s += 3;
    } else {
      g_string_append_c(out, *s);
    }
  }
  return g_string_free(out, FALSE);
}

static void
received_case_add_line(ReceivedCase *c, const char *line, GString *value)
{
  const char *colon = strchr(line, ':');
  g_autofree char *key = NULL;
  const char *val;

  g_assert_nonnull(colon);
  key = g_strndup(line, colon - line);
  val = colon[1] == ' ' ? colon + 2 : colon + 1;
  if (strcmp(key, "name") == 0)
    c->name = g_strdup(val);
  else if (strcmp(key, "value") == 0)
    g_string_assign(value, val);
  else if (strcmp(key, "warning") == 0)
    g_ptr_array_add(c->warning_texts, g_strdup(val));
  else
    g_hash_table_insert(c->expect, g_steal_pointer(&key), g_strdup(val));
}

static ReceivedCase *
received_case_new(void)
{
  ReceivedCase *c = g_new0(ReceivedCase, 1);

  c->expect = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  c->warning_texts = g_ptr_array_new_with_free_func(g_free);
  return c;
}

static void
received_load_file(const char *path, GPtrArray *cases)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) value = g_string_new(NULL);
  ReceivedCase *c = NULL;

  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    const char *line = lines[i];

    if ((line[0] == ' ' || line[0] == '\t') && c) {
      g_string_append_printf(value, "\r\n%s", line); /* folded, CRLF as in a message */
      continue;
    }
    if (line[0] == '\0' || line[0] == '#') {
      if (c && line[0] == '\0') {
        c->value = received_unescape(value->str);
        g_ptr_array_add(cases, g_steal_pointer(&c));
      }
      continue;
    }
    if (c == NULL) {
      c = received_case_new();
      g_string_truncate(value, 0);
    }
    received_case_add_line(c, line, value);
  }
  if (c) {
    c->value = received_unescape(value->str);
    g_ptr_array_add(cases, c);
  }
}

static char *
received_field(const FarceurHop *hop, const char *field)
{
  if (strcmp(field, "tls") == 0)
    return hop->tls == FARCEUR_TLS_UNKNOWN
               ? NULL
               : g_strdup(hop->tls == FARCEUR_TLS_YES ? "true" : "false");
  if (strcmp(field, "date") == 0)
    return hop->date ? g_date_time_format(hop->date, "%Y-%m-%dT%H:%M:%SZ") : NULL;
  if (strcmp(field, "from_helo") == 0)
    return g_strdup(hop->from_helo);
  if (strcmp(field, "from_rdns") == 0)
    return g_strdup(hop->from_rdns);
  if (strcmp(field, "from_ip") == 0)
    return g_strdup(hop->from_ip);
  if (strcmp(field, "by") == 0)
    return g_strdup(hop->by);
  if (strcmp(field, "via") == 0)
    return g_strdup(hop->via);
  if (strcmp(field, "with") == 0)
    return g_strdup(hop->with);
  if (strcmp(field, "id") == 0)
    return g_strdup(hop->id);
  if (strcmp(field, "for") == 0)
    return g_strdup(hop->for_addr);
  return g_strdup(hop->envelope_from);
}

static void
received_dump_warnings(const FarceurHop *hop)
{
  for (guint i = 0; i < hop->warnings->len; i++)
    g_test_message("warning: %s", (char *)hop->warnings->pdata[i]);
}

static void
test_received_case(gconstpointer data)
{
  const ReceivedCase *c = data;
  g_autoptr(FarceurHop) hop = farceur_hop_parse(c->value);
  const char *expected_warnings = g_hash_table_lookup(c->expect, "warnings");
  g_autofree char *shown = g_strescape(c->value, "\t");

  g_test_message("value: %s", shown); /* escaped: TAP wants valid UTF-8 */
  received_dump_warnings(hop);
  for (gsize i = 0; i < G_N_ELEMENTS(received_fields); i++) {
    g_autofree char *got = received_field(hop, received_fields[i]);
    const char *want = g_hash_table_lookup(c->expect, received_fields[i]);

    if (g_strcmp0(want, "null") == 0)
      want = NULL;
    if (g_strcmp0(got, want) != 0)
      g_test_message("field %s", received_fields[i]);
    g_assert_cmpstr(got, ==, want);
  }
  g_assert_cmpuint(hop->warnings->len, ==, expected_warnings ? atoi(expected_warnings) : 0);
  for (guint i = 0; i < c->warning_texts->len; i++) {
    gboolean found = FALSE;

    for (guint w = 0; w < hop->warnings->len && !found; w++)
      found = strstr(hop->warnings->pdata[w], c->warning_texts->pdata[i]) != NULL;
    g_assert_true(found);
  }
  g_assert_false(strchr(hop->raw, '\n') || strchr(hop->raw, '\r'));
}

static void
received_check_keys(const ReceivedCase *c)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init(&iter, c->expect);
  while (g_hash_table_iter_next(&iter, &key, NULL)) {
    gboolean known = strcmp(key, "warnings") == 0;

    for (gsize i = 0; i < G_N_ELEMENTS(received_fields) && !known; i++)
      known = strcmp(key, received_fields[i]) == 0;
    if (!known)
      g_error("case '%s': unknown key '%s'", c->name, (char *)key);
  }
}

static guint
received_register_cases(GPtrArray *keep)
{
  g_autofree char *dir_path = g_test_build_filename(G_TEST_DIST, "data", "received", NULL);
  g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  guint count = 0;

  g_assert_nonnull(dir);
  while ((name = g_dir_read_name(dir)))
    if (g_str_has_suffix(name, ".txt"))
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, (GCompareFunc)(void (*)(void))g_strcmp0);
  for (guint n = 0; n < names->len; n++) {
    g_autofree char *path = g_build_filename(dir_path, names->pdata[n], NULL);
    g_autofree char *family = g_strndup(names->pdata[n], strlen(names->pdata[n]) - 4);
    guint first = keep->len;

    received_load_file(path, keep);
    for (guint i = first; i < keep->len; i++) {
      ReceivedCase *c = keep->pdata[i];
      g_autofree char *test_path = g_strdup_printf("/trace/received/%s/%s", family, c->name);

      g_assert_nonnull(c->name);
      received_check_keys(c);
      g_test_add_data_func(test_path, c, test_received_case);
      count++;
    }
  }
  return count;
}

/* ---- clause level ---- */

static void
test_clause_comment_nested(void)
{
  g_autoptr(FarceurHop) hop = farceur_hop_parse(
      "from a (b [192.0.2.1] (c (d) by e)) by f (g (h; i)); 1 Jan 2026 00:00:00 +0000");

  g_assert_cmpstr(hop->by, ==, "f");
  g_assert_cmpstr(hop->from_ip, ==, "192.0.2.1");
  g_assert_nonnull(hop->date);
  g_assert_cmpuint(hop->warnings->len, ==, 0);
}

static void
test_clause_comment_escaped(void)
{
  g_autoptr(FarceurHop) hop = farceur_hop_parse("from a (x \\( y) by b; 1 Jan 2026 00:00:00 +0000");

  g_assert_cmpstr(hop->from_helo, ==, "a");
  g_assert_cmpstr(hop->by, ==, "b");
  g_assert_cmpuint(hop->warnings->len, ==, 0);
}

static void
test_clause_quoted(void)
{
  g_autoptr(FarceurHop) hop
      = farceur_hop_parse("from \"odd ; (name)\" by b; 1 Jan 2026 00:00:00 +0000");

  g_assert_cmpstr(hop->from_helo, ==, "odd ; (name)");
  g_assert_cmpstr(hop->by, ==, "b");
  g_assert_nonnull(hop->date);
  g_assert_cmpuint(hop->warnings->len, ==, 0);
}

static void
test_clause_literals(void)
{
  static const struct {
    const char *value;
    const char *ip;
  } cases[] = {
    { "from x ([192.0.2.1]) by y", "192.0.2.1" },
    { "from x ([192.0.2.1]:2525) by y", "192.0.2.1" },
    { "from x ([IPv6:2001:db8::1]) by y", "2001:db8::1" },
    { "from x ([ipv6:2001:DB8::1]:587 helo=z) by y", "2001:DB8::1" },
    { "from x (x [::ffff:198.51.100.1]) by y", "198.51.100.1" },
    { "from x ([fe80::1%eth0]) by y", "fe80::1" },
    { "from x ([unix socket]) by y", NULL },
    { "from x ([local]) by y", NULL },
    { "from x ([300.1.1.1]) by y", NULL },
    { "from [192.0.2.9] by y", "192.0.2.9" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(FarceurHop) hop = farceur_hop_parse(cases[i].value);

    g_test_message("%s", cases[i].value);
    g_assert_cmpstr(hop->from_ip, ==, cases[i].ip);
    g_assert_cmpstr(hop->by, ==, "y");
  }
}

static void
test_clause_caps(void)
{
  g_autoptr(GString) big = g_string_new("from a by b with ESMTP");
  g_autoptr(GString) deep = g_string_new("from a ");
  g_autoptr(FarceurHop) hop = NULL;
  g_autoptr(FarceurHop) deep_hop = NULL;

  while (big->len < 3 * FARCEUR_TRACE_MAX_VALUE)
    g_string_append(big, " (comment)");
  hop = farceur_hop_parse(big->str);
  g_assert_cmpuint(strlen(hop->raw), <=, FARCEUR_TRACE_MAX_VALUE);
  g_assert_cmpstr(hop->by, ==, "b");
  g_assert_cmpuint(hop->warnings->len, >=, 1);
  for (int i = 0; i < 100000; i++)
    g_string_append_c(deep, '(');
  deep_hop = farceur_hop_parse(deep->str);
  g_assert_cmpstr(deep_hop->from_helo, ==, "a");
  g_assert_cmpuint(deep_hop->warnings->len, ==, 3); /* cut, too deep, unterminated */
}

static void
test_clause_tls_keywords(void)
{
  static const struct {
    const char *with;
    FarceurTls tls;
  } cases[] = {
    { "ESMTPS", FARCEUR_TLS_YES },     { "ESMTPSA", FARCEUR_TLS_YES },
    { "esmtps", FARCEUR_TLS_YES },     { "LMTPS", FARCEUR_TLS_YES },
    { "UTF8SMTPSA", FARCEUR_TLS_YES }, { "SMTP", FARCEUR_TLS_NO },
    { "ESMTP", FARCEUR_TLS_NO },       { "ESMTPA", FARCEUR_TLS_NO },
    { "LMTP", FARCEUR_TLS_NO },        { "UTF8SMTP", FARCEUR_TLS_NO },
    { "local", FARCEUR_TLS_UNKNOWN },  { "IMAP", FARCEUR_TLS_UNKNOWN },
    { "QMQP", FARCEUR_TLS_UNKNOWN },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *value
        = g_strdup_printf("from a by b with %s id 1; 1 Jan 2026 00:00:00 +0000", cases[i].with);
    g_autoptr(FarceurHop) hop = farceur_hop_parse(value);

    g_assert_cmpint(hop->tls, ==, cases[i].tls);
  }
}

static void
test_hop_copy(void)
{
  g_autoptr(FarceurHop) hop = farceur_hop_parse(
      "from a (b [192.0.2.1]) by c with ESMTP id 7 for <d@e>; 1 Jan 2026 00:00:00 +0000 junk (");
  g_autoptr(FarceurHop) copy = farceur_hop_copy(hop);

  g_assert_cmpstr(copy->from_rdns, ==, "b");
  g_assert_cmpstr(copy->for_addr, ==, "d@e");
  g_assert_true(g_date_time_equal(copy->date, hop->date));
  g_assert_cmpuint(copy->warnings->len, ==, hop->warnings->len);
  g_assert_cmpuint(copy->warnings->len, >, 0);
}

/* ---- hop analysis ---- */

static GDateTime *
utc(const char *iso)
{
  return g_date_time_new_from_iso8601(iso, NULL);
}

static void
test_trace_order_and_delays(void)
{
  const char *received[] = {
    "from mx.b.example (mx.b.example [198.51.100.2]) by mbox.b.example with LMTPS; "
    "Mon, 23 Nov 2026 10:00:30 +0000",
    "from out.a.example (out.a.example [192.0.2.1]) by mx.b.example with ESMTPS; "
    "Mon, 23 Nov 2026 10:00:10 +0000",
    "from laptop (unknown [203.0.113.7]) by out.a.example with ESMTPSA; "
    "Mon, 23 Nov 2026 11:00:05 +0100",
    NULL,
  };
  g_autoptr(GDateTime) sent = utc("2026-11-23T10:00:00Z");
  g_autoptr(FarceurTrace) trace = farceur_trace_new(received, sent);
  FarceurHop *h0, *h1, *h2;

  g_assert_cmpuint(trace->hops->len, ==, 3);
  h0 = trace->hops->pdata[0];
  h1 = trace->hops->pdata[1];
  h2 = trace->hops->pdata[2];
  g_assert_cmpstr(h0->by, ==, "out.a.example");
  g_assert_cmpstr(h2->by, ==, "mbox.b.example");
  g_assert_true(h0->has_delay && h1->has_delay && h2->has_delay);
  g_assert_cmpint(h0->delay_s, ==, 5);
  g_assert_cmpint(h1->delay_s, ==, 5);
  g_assert_cmpint(h2->delay_s, ==, 20);
  g_assert_true(trace->has_total);
  g_assert_cmpint(trace->total_s, ==, 30);
  /* 203.0.113.7 is a documentation address: a reserved origin */
  g_assert_cmpint(h0->anomalies, ==, FARCEUR_HOP_ANOMALY_PRIVATE_ORIGIN);
  g_assert_cmpint(h1->anomalies, ==, FARCEUR_HOP_ANOMALY_NONE);
  g_assert_cmpint(h2->anomalies, ==, FARCEUR_HOP_ANOMALY_NONE);
  g_assert_cmpuint(trace->warnings->len, ==, 0);
}

static void
test_trace_anomalies(void)
{
  const char *received[] = {
    "from relay.c.example by final.c.example with ESMTPS; Mon, 23 Nov 2026 10:00:20 +0000",
    "from mx.b.example by mx2.b.example with ESMTP", /* no date, no TLS */
    "from out.a.example (out.a.example [8.8.4.4]) by mx.b.example with ESMTPS; "
    "Mon, 23 Nov 2026 09:59:00 +0000",
    NULL,
  };
  g_autoptr(GDateTime) sent = utc("2026-11-23T10:00:00Z");
  g_autoptr(FarceurTrace) trace = farceur_trace_new(received, sent);
  FarceurHop *h0 = trace->hops->pdata[0];
  FarceurHop *h1 = trace->hops->pdata[1];
  FarceurHop *h2 = trace->hops->pdata[2];

  g_assert_cmpint(h0->anomalies, ==, FARCEUR_HOP_ANOMALY_NEGATIVE_DELAY);
  g_assert_cmpint(h0->delay_s, ==, -60);
  g_assert_cmpint(h1->anomalies, ==, FARCEUR_HOP_ANOMALY_MISSING_DATE | FARCEUR_HOP_ANOMALY_NO_TLS);
  g_assert_false(h1->has_delay);
  /* measured from the last dated hop; relay.c.example is not mx2.b.example */
  g_assert_cmpint(h2->delay_s, ==, 80);
  g_assert_cmpint(h2->anomalies, ==, FARCEUR_HOP_ANOMALY_FROM_MISMATCH);
  g_assert_cmpint(trace->total_s, ==, 20);
}

/* The sentences a person reads, shared by the table and the web page. */
static void
test_trace_describe(void)
{
  const char *received[] = {
    "from relay.c.example by final.c.example with ESMTPS; Mon, 23 Nov 2026 10:00:20 +0000",
    "from mx.b.example by mx2.b.example with ESMTP",
    "from out.a.example (out.a.example [10.0.0.1]) by mx.b.example with ESMTPS; "
    "Mon, 23 Nov 2026 09:59:00 +0000",
    NULL,
  };
  g_autoptr(GDateTime) sent = utc("2026-11-23T10:00:00Z");
  g_autoptr(FarceurTrace) trace = farceur_trace_new(received, sent);
  g_autofree char *skew
      = farceur_trace_describe_anomaly(trace, 0, FARCEUR_HOP_ANOMALY_NEGATIVE_DELAY);
  g_autofree char *origin
      = farceur_trace_describe_anomaly(trace, 0, FARCEUR_HOP_ANOMALY_PRIVATE_ORIGIN);
  g_autofree char *nodate
      = farceur_trace_describe_anomaly(trace, 1, FARCEUR_HOP_ANOMALY_MISSING_DATE);
  g_autofree char *notls = farceur_trace_describe_anomaly(trace, 1, FARCEUR_HOP_ANOMALY_NO_TLS);
  g_autofree char *mismatch
      = farceur_trace_describe_anomaly(trace, 2, FARCEUR_HOP_ANOMALY_FROM_MISMATCH);
  g_autofree char *from0 = farceur_hop_describe_from(trace->hops->pdata[0]);
  g_autofree char *from2 = farceur_hop_describe_from(trace->hops->pdata[2]);
  g_autoptr(FarceurHop) bare = farceur_hop_parse("by mx.example; 1 Jan 2026 00:00:00 +0000");
  g_autofree char *from_bare = farceur_hop_describe_from(bare);

  g_assert_cmpstr(skew, ==, "dated 1m00s before the previous hop (clock skew)");
  g_assert_cmpstr(origin, ==, "origin IP 10.0.0.1 is private or reserved");
  g_assert_cmpstr(nodate, ==, "no readable date");
  g_assert_cmpstr(notls, ==, "not encrypted (with ESMTP)");
  g_assert_cmpstr(mismatch, ==,
                  "came from 'relay.c.example', but the previous hop was received by "
                  "'mx2.b.example'");
  g_assert_cmpstr(from0, ==, "out.a.example [10.0.0.1]");
  g_assert_cmpstr(from2, ==, "relay.c.example");
  g_assert_cmpstr(from_bare, ==, "-");
}

static void
test_trace_private_origin(void)
{
  static const struct {
    const char *ip;
    gboolean reserved;
  } cases[] = {
    { "10.1.2.3", TRUE },     { "172.16.0.1", TRUE },     { "192.168.1.1", TRUE },
    { "127.0.0.1", TRUE },    { "169.254.1.1", TRUE },    { "100.64.0.1", TRUE },
    { "192.0.2.1", TRUE },    { "198.51.100.1", TRUE },   { "203.0.113.1", TRUE },
    { "0.0.0.0", TRUE },      { "240.0.0.1", TRUE },      { "IPv6:::1", TRUE },
    { "IPv6:fe80::1", TRUE }, { "IPv6:fd00::1", TRUE },   { "IPv6:2001:db8::1", TRUE },
    { "8.8.8.8", FALSE },     { "209.85.220.41", FALSE }, { "IPv6:2a00:1450:4001::1", FALSE },
    { "172.32.0.1", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *value
        = g_strdup_printf("from h (h [%s]) by mx; 1 Jan 2026 00:00:00 +0000", cases[i].ip);
    const char *received[] = { value, NULL };
    g_autoptr(FarceurTrace) trace = farceur_trace_new(received, NULL);
    FarceurHop *hop = trace->hops->pdata[0];

    g_test_message("%s", cases[i].ip);
    g_assert_nonnull(hop->from_ip);
    g_assert_cmpint(!!(hop->anomalies & FARCEUR_HOP_ANOMALY_PRIVATE_ORIGIN), ==, cases[i].reserved);
  }
}

static void
test_trace_from_matches_by(void)
{
  const char *received[] = {
    "from EXCH02 (10.0.0.6) by mx.corp.example with ESMTPS; 1 Jan 2026 00:00:03 +0000",
    "from mail.example.com (mail.example.com. [192.0.2.1]) by EXCH02.corp.example with "
    "ESMTPS; 1 Jan 2026 00:00:02 +0000",
    "from a by MAIL.EXAMPLE.COM. with ESMTPS; 1 Jan 2026 00:00:01 +0000",
    NULL,
  };
  g_autoptr(FarceurTrace) trace = farceur_trace_new(received, NULL);

  for (guint i = 0; i < trace->hops->len; i++) {
    FarceurHop *hop = trace->hops->pdata[i];

    g_assert_false(hop->anomalies & FARCEUR_HOP_ANOMALY_FROM_MISMATCH);
  }
  g_assert_cmpint(trace->total_s, ==, 2);
}

static void
test_trace_empty(void)
{
  g_autoptr(FarceurTrace) trace = farceur_trace_new(NULL, NULL);

  g_assert_cmpuint(trace->hops->len, ==, 0);
  g_assert_false(trace->has_total);
  g_assert_cmpuint(trace->warnings->len, ==, 1);
}

static void
test_trace_too_many_hops(void)
{
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(FarceurTrace) trace = NULL;

  for (int i = 0; i < FARCEUR_TRACE_MAX_HOPS + 10; i++)
    g_ptr_array_add(values,
                    g_strdup_printf("from h%d by h%d; 1 Jan 2026 00:00:00 +0000", i + 1, i));
  g_ptr_array_add(values, NULL);
  trace = farceur_trace_new((const char *const *)values->pdata, NULL);
  g_assert_cmpuint(trace->hops->len, ==, FARCEUR_TRACE_MAX_HOPS);
  g_assert_cmpuint(trace->warnings->len, ==, 1);
  g_assert_cmpstr(((FarceurHop *)trace->hops->pdata[trace->hops->len - 1])->by, ==, "h0");
}

static GMimeMessage *
parse_message(const char *text)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);

  return g_mime_parser_construct_message(parser, NULL);
}

static void
test_trace_from_message(void)
{
  g_autoptr(GMimeMessage) msg = parse_message(
      "Received: from mx.b.example (mx.b.example [198.51.100.2])\r\n"
      "\tby mbox.b.example with LMTP; Mon, 23 Nov 2026 10:00:30 +0000\r\n"
      "Subject: hi\r\n"
      "received: from out.a.example (out.a.example [8.8.4.4])\r\n"
      "  by mx.b.example with ESMTPS id =?utf-8?q?x?=; Mon, 23 Nov 2026 10:00:10 +0000\r\n"
      "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
      "\r\nbody\r\n");
  g_autoptr(FarceurTrace) trace = farceur_trace_from_message(msg);
  FarceurHop *h0 = trace->hops->pdata[0];
  FarceurHop *h1 = trace->hops->pdata[1];

  g_assert_cmpuint(trace->hops->len, ==, 2);
  g_assert_cmpstr(h0->raw, ==,
                  "from out.a.example (out.a.example [8.8.4.4])  by mx.b.example with ESMTPS id "
                  "=?utf-8?q?x?=; Mon, 23 Nov 2026 10:00:10 +0000");
  g_assert_cmpstr(h0->id, ==, "=?utf-8?q?x?="); /* raw: no RFC 2047 decoding */
  g_assert_cmpint(h0->delay_s, ==, 10);
  g_assert_cmpint(h1->delay_s, ==, 20);
  g_assert_cmpint(h1->anomalies, ==, FARCEUR_HOP_ANOMALY_NO_TLS);
  g_assert_cmpint(trace->total_s, ==, 30);
}

/* ---- output ---- */

static void
test_json_fields(void)
{
  const char *received[] = { "from a (a [192.0.2.1]) by b with ESMTPS id 1 for <c@d>; "
                             "Mon, 23 Nov 2026 10:00:10 +0000 (",
                             NULL };
  static const char *const keys[]
      = { "from_helo",     "from_rdns", "from_ip", "by",      "via",       "with",     "id", "for",
          "envelope_from", "tls",       "date",    "delay_s", "anomalies", "warnings", "raw" };
  g_autoptr(FarceurTrace) trace = farceur_trace_new(received, NULL);
  g_autoptr(JsonNode) node = farceur_trace_to_json(trace, "x.eml");
  JsonObject *root = json_node_get_object(node);
  JsonObject *hop;

  g_assert_cmpstr(json_object_get_string_member(root, "source"), ==, "x.eml");
  g_assert_true(json_object_has_member(root, "total_s"));
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(root, "warnings")), ==, 1);
  g_assert_cmpstr(json_array_get_string_element(json_object_get_array_member(root, "warnings"), 0),
                  ==, "hop 1: unterminated comment at byte 88");
  hop = json_array_get_object_element(json_object_get_array_member(root, "hops"), 0);
  for (gsize i = 0; i < G_N_ELEMENTS(keys); i++)
    g_assert_true(json_object_has_member(hop, keys[i]));
  g_assert_cmpuint(json_object_get_size(hop), ==, G_N_ELEMENTS(keys));
  g_assert_true(json_object_get_boolean_member(hop, "tls"));
  g_assert_cmpstr(json_object_get_string_member(hop, "date"), ==, "2026-11-23T10:00:10Z");
  g_assert_cmpstr(json_object_get_string_member(hop, "for"), ==, "c@d");
  g_assert_true(json_object_get_null_member(hop, "via"));
  g_assert_true(json_object_get_null_member(hop, "delay_s"));
}

static void
test_dot_escaping(void)
{
  const char *received[]
      = { "from \"evil\\\"host\\\\\" by b\"c with ESMTP; 1 Jan 2026 00:00:00 +0000", NULL };
  g_autoptr(FarceurTrace) trace = farceur_trace_new(received, NULL);
  g_autofree char *dot = farceur_trace_to_dot(trace, "a\"b\nc");

  g_assert_true(g_str_has_prefix(dot, "digraph trace {\n"));
  g_assert_nonnull(strstr(dot, "label=\"a\\\"b\\nc\""));
  g_assert_nonnull(strstr(dot, "label=\"evil\\\"host\\\\\"]"));
  g_assert_nonnull(strstr(dot, "label=\"b\\\"c\"]"));
  g_assert_nonnull(strstr(dot, "n0 -> n1 [label=\"ESMTP\\nno TLS\\n?\"]"));
}

static void
test_format_seconds(void)
{
  static const struct {
    gint64 s;
    const char *text;
  } cases[] = { { 0, "0s" },       { 59, "59s" },
                { 60, "1m00s" },   { 3599, "59m59s" },
                { 3600, "1h00m" }, { 90061, "1d01h" },
                { -7, "-7s" },     { G_MININT64, "-106751991167300d15h" } };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = farceur_trace_format_seconds(cases[i].s);

    g_assert_cmpstr(text, ==, cases[i].text);
  }
}

/* ---- dates ---- */

/* The strict RFC 5322 reader (trace_date_strict) against GMime's on the
 * forms it accepts: the same instant, or both refuse.  And the forms it
 * must accept, so that the fast path is the one taken. */
static void
check_date_same(const char *text, gboolean strict)
{
  g_autoptr(GDateTime) ours = trace_date_strict(text);
  g_autoptr(GDateTime) gmime = g_mime_utils_header_decode_date(text);

  if (strict && ours == NULL)
    g_error("'%s': not read as strict", text);
  if (ours == NULL)
    return;
  if (gmime == NULL)
    g_error("'%s': GMime reads no date, the strict reader does", text);
  if (g_date_time_compare(ours, gmime) != 0) {
    g_autofree char *a = g_date_time_format_iso8601(ours);
    g_autofree char *b = g_date_time_format_iso8601(gmime);

    g_error("'%s': %s here, %s by GMime", text, a, b);
  }
}

static void
test_date_strict(void)
{
  static const char *const weekdays[] = { "", "Mon, ", "sat, ", "Sun,  " };
  static const char *const months[]
      = { "Jan", "feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "DEC" };
  static const int days[] = { 1, 9, 10, 28, 29, 30, 31 };
  static const int years[] = { 1969, 1970, 1999, 2000, 2024, 2026, 2038, 2100, 9999 };
  static const char *const times[] = { "00:00:00", "23:59:59", "08:53:01", "12:30" };
  static const char *const zones[] = { "+0000", "-0000", "+0530",       "-1200",       "+1400",
                                       "+2359", "-2359", "-0700 (PDT)", "+0100  (CET)" };
  static const char *const refused[]
      = { "Sat, 12 Sep 2026 08:53:01 GMT",     "12 Sep 26 08:53:01 +0000",
          "Sat, 12 Sep 2026 24:00:00 +0000",   "Sat, 12 Sep 2026 08:53:60 +0000",
          "Sat, 31 Feb 2026 08:53:01 +0000",   "Xyz, 12 Sep 2026 08:53:01 +0000",
          "Sat, 12 Sep 2026 08:53:01 +0000 x", "Sat, 12 Sep 2026 08:53:01 +0000 (a (b) c)",
          "Sat, 12 Sep 1968 08:53:01 +0000",   "Sat, 12 Sep 2026 08:53:01 +2400",
          "Sat, 12 Sep 1000 08:53:01 +0000",   "31 Dec 9999 23:59:59 -0100",
          "Sat 12 Sep 2026 08:53:01 +0000",    "2026-09-12T08:53:01Z" };
  guint n = 0;

  for (gsize w = 0; w < G_N_ELEMENTS(weekdays); w++)
    for (gsize m = 0; m < G_N_ELEMENTS(months); m++)
      for (gsize d = 0; d < G_N_ELEMENTS(days); d++)
        for (gsize y = 0; y < G_N_ELEMENTS(years); y++) {
          const char *time = times[(w + m + d + y) % G_N_ELEMENTS(times)];
          const char *zone = zones[(m + d + y) % G_N_ELEMENTS(zones)];
          g_autofree char *text = g_strdup_printf("%s%d %s %d %s %s", weekdays[w], days[d],
                                                  months[m], years[y], time, zone);
          gboolean exists = g_date_valid_dmy(days[d], m + 1, years[y]);

          check_date_same(text, exists && !(years[y] == 9999 && zone[0] == '-'));
          n++;
        }
  for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
    g_autoptr(GDateTime) ours = trace_date_strict(refused[i]);

    g_assert_null(ours);
    check_date_same(refused[i], FALSE);
  }
  g_assert_cmpuint(n, >, 3000);
}

/* What trace reads from the header block alone is what it reads from the
 * parsed message. */
static void
test_trace_from_headers(void)
{
  static const char text[]
      = "From x Mon Jan  1 00:00:00 2026\n"
        "Received: from out.a.example (out.a.example [8.8.4.4])\n\tby mx.b.example with ESMTPS id "
        "1;"
        " Mon, 23 Nov 2026 10:00:10 +0000\n"
        "Received: from c (c [10.0.0.1]) by out.a.example; Mon, 23 Nov 2026 10:00:00 -0000\n"
        "Date: Mon, 23 Nov 2026 09:59:50 +0000\nDate: Mon, 23 Nov 2026 09:59:40 +0000\n"
        "Subject: two dates: the last one counts\n\nbody\n";
  g_autofree char *dir = g_dir_make_tmp("farceur-trace-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "box", NULL);
  g_autoptr(FarceurInput) a = NULL;
  g_autoptr(FarceurInput) b = NULL;
  g_autoptr(FarceurInputMessage) msg = NULL;
  g_autoptr(FarceurTrace) from_message = NULL;
  g_autoptr(FarceurTrace) from_headers = NULL;
  g_autoptr(FarceurJsonWriter) wa = farceur_json_writer_new();
  g_autoptr(FarceurJsonWriter) wb = farceur_json_writer_new();
  const FarceurInputHeaders *headers;

  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  a = farceur_input_open(path, NULL);
  b = farceur_input_open(path, NULL);
  msg = farceur_input_next(a, NULL);
  headers = farceur_input_next_headers(b, NULL);
  g_assert_nonnull(msg);
  g_assert_nonnull(headers);
  g_assert_cmpstr(headers->source, ==, msg->source);
  from_message = farceur_trace_from_message(msg->message);
  from_headers = farceur_trace_from_headers(headers);
  farceur_trace_write_json(from_message, msg->source, wa);
  farceur_trace_write_json(from_headers, headers->source, wb);
  g_assert_cmpstr(farceur_json_writer_get_text(wb, NULL), ==,
                  farceur_json_writer_get_text(wa, NULL));
  g_assert_cmpint(from_headers->total_s, ==, 30);
  g_unlink(path);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(received_case_free);
  guint count;

  g_test_init(&argc, &argv, NULL);
  farceur_init();
  count = received_register_cases(cases);
  g_assert_cmpuint(count, >=, 80);
  g_test_add_func("/trace/clause/comment-nested", test_clause_comment_nested);
  g_test_add_func("/trace/clause/comment-escaped", test_clause_comment_escaped);
  g_test_add_func("/trace/clause/quoted", test_clause_quoted);
  g_test_add_func("/trace/clause/literals", test_clause_literals);
  g_test_add_func("/trace/clause/caps", test_clause_caps);
  g_test_add_func("/trace/clause/tls-keywords", test_clause_tls_keywords);
  g_test_add_func("/trace/hop/copy", test_hop_copy);
  g_test_add_func("/trace/analysis/order-and-delays", test_trace_order_and_delays);
  g_test_add_func("/trace/analysis/anomalies", test_trace_anomalies);
  g_test_add_func("/trace/analysis/describe", test_trace_describe);
  g_test_add_func("/trace/analysis/private-origin", test_trace_private_origin);
  g_test_add_func("/trace/analysis/from-matches-by", test_trace_from_matches_by);
  g_test_add_func("/trace/analysis/empty", test_trace_empty);
  g_test_add_func("/trace/analysis/too-many-hops", test_trace_too_many_hops);
  g_test_add_func("/trace/analysis/from-message", test_trace_from_message);
  g_test_add_func("/trace/output/json-fields", test_json_fields);
  g_test_add_func("/trace/output/dot-escaping", test_dot_escaping);
  g_test_add_func("/trace/output/format-seconds", test_format_seconds);
  g_test_add_func("/trace/date/strict", test_date_strict);
  g_test_add_func("/trace/analysis/from-headers", test_trace_from_headers);
  return g_test_run();
}
