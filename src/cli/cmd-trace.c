/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur trace: the Received: chain of each message, hop by hop
 * (farceur-trace(1); data/doc/json.md, trace --json): a table with delay bars, --json lines or --dot graphs. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli-output.h"
#include "cli-status.h"
#include "cli-term.h"
#include "commands.h"

#define TRACE_BAR_WIDTH 24
#define TRACE_HOST_WIDTH 38 /* at most; columns shrink to their widest cell */
#define TRACE_WITH_WIDTH 12

typedef enum {
  TRACE_FORMAT_TABLE,
  TRACE_FORMAT_JSON,
  TRACE_FORMAT_DOT,
} TraceFormat;

typedef struct {
  guint from;
  guint by;
  guint with;
  gint64 max_delay; /* the longest bar */
} TraceColumns;

typedef struct {
  TraceFormat format;
  gboolean colour;
  gboolean glyphs; /* a terminal: block glyphs instead of '#' */
  guint messages;
  guint failures;
  int status;
  FarceurJsonWriter *json; /* reused from record to record */
  guint shard;             /* --shard K/N: K, from 1; 0: every message */
  guint shards;
} TraceRun;

static const char *
trace_paint(const TraceRun *run, const char *sgr)
{
  return run->colour ? sgr : "";
}

/* Header values are attacker-written: no control bytes reach the terminal. */
static char *
trace_printable(const char *text, gsize max)
{
  GString *out = g_string_new(NULL);
  glong n = 0;

  for (const char *s = text; *s && n < (glong)max; s = g_utf8_next_char(s), n++) {
    gunichar c = g_utf8_get_char(s);

    if (g_unichar_iscntrl(c) || c == 0x1b)
      g_string_append_c(out, '?');
    else
      g_string_append_unichar(out, c);
  }
  if (*text && g_utf8_strlen(text, -1) > (glong)max) {
    g_string_truncate(out,
                      out->len - (out->len ? strlen(g_utf8_prev_char(out->str + out->len)) : 0));
    g_string_append(out, "…");
  }
  return g_string_free(out, FALSE);
}

/* Pads to @width columns (printf counts bytes, not characters). */
static void
trace_print_cell(const char *text, guint width)
{
  glong len = g_utf8_strlen(text, -1);

  fputs(text, stdout);
  for (glong i = len; i < (glong)width; i++)
    fputc(' ', stdout);
}

static guint
trace_cell_width(const char *text, guint at_least, guint at_most)
{
  glong len = g_utf8_strlen(text, -1);

  return CLAMP((guint)MIN(len, G_MAXINT), at_least, at_most);
}

static TraceColumns
trace_columns(const FarceurTrace *trace)
{
  TraceColumns cols = { 4, 2, 4, 0 };

  for (guint i = 0; i < trace->hops->len; i++) {
    const FarceurHop *hop = trace->hops->pdata[i];
    g_autofree char *from = farceur_hop_describe_from(hop);

    cols.from = MAX(cols.from, trace_cell_width(from, 4, TRACE_HOST_WIDTH + 1));
    cols.by = MAX(cols.by, trace_cell_width(hop->by ? hop->by : "-", 2, TRACE_HOST_WIDTH + 1));
    cols.with
        = MAX(cols.with, trace_cell_width(hop->with ? hop->with : "-", 4, TRACE_WITH_WIDTH + 1));
    if (hop->has_delay && hop->delay_s > cols.max_delay)
      cols.max_delay = hop->delay_s;
  }
  return cols;
}

static void
trace_print_bar(const TraceRun *run, const FarceurHop *hop, gint64 max)
{
  guint width;

  if (!hop->has_delay)
    return;
  if (hop->delay_s < 0) {
    printf("%s%s%s", trace_paint(run, "\033[31m"), run->glyphs ? "◀" : "<",
           trace_paint(run, "\033[0m"));
    return;
  }
  width = max > 0 ? (guint)((hop->delay_s * TRACE_BAR_WIDTH + max - 1) / max) : 0;
  fputs(trace_paint(run, "\033[36m"), stdout);
  for (guint i = 0; i < width; i++)
    fputs(run->glyphs ? "█" : "#", stdout);
  fputs(trace_paint(run, "\033[0m"), stdout);
}

static const char *
trace_tls_text(FarceurTls tls)
{
  return tls == FARCEUR_TLS_YES ? "yes" : tls == FARCEUR_TLS_NO ? "no" : "?";
}

static void
trace_print_hop(const TraceRun *run, const FarceurHop *hop, guint index, const TraceColumns *cols)
{
  g_autofree char *from_raw = farceur_hop_describe_from(hop);
  g_autofree char *from = trace_printable(from_raw, TRACE_HOST_WIDTH);
  g_autofree char *by = trace_printable(hop->by ? hop->by : "-", TRACE_HOST_WIDTH);
  g_autofree char *with = trace_printable(hop->with ? hop->with : "-", TRACE_WITH_WIDTH);
  g_autofree char *delay = hop->has_delay ? farceur_trace_format_seconds(hop->delay_s)
                                          : g_strdup(hop->date ? "" : "no date");
  const char *tls_colour = hop->tls == FARCEUR_TLS_YES  ? "\033[32m"
                           : hop->tls == FARCEUR_TLS_NO ? "\033[31m"
                                                        : "";

  printf("%s%3u%s  ", trace_paint(run, hop->anomalies ? "\033[1;31m" : ""), index,
         trace_paint(run, "\033[0m"));
  trace_print_cell(from, cols->from + 2);
  trace_print_cell(by, cols->by + 2);
  trace_print_cell(with, cols->with + 2);
  printf("%s", trace_paint(run, tls_colour));
  trace_print_cell(trace_tls_text(hop->tls), 4);
  printf("%s%8s  ", trace_paint(run, "\033[0m"), delay);
  trace_print_bar(run, hop, cols->max_delay);
  fputc('\n', stdout);
}

static void
trace_print_notes(const TraceRun *run, const FarceurTrace *trace)
{
  for (guint i = 0; i < trace->hops->len; i++) {
    const FarceurHop *hop = trace->hops->pdata[i];

    for (guint flag = 1; flag <= FARCEUR_HOP_ANOMALY_LAST; flag <<= 1) {
      g_autofree char *text = NULL;
      g_autofree char *shown = NULL;

      if (!(hop->anomalies & flag))
        continue;
      text = farceur_trace_describe_anomaly(trace, i, flag);
      shown = trace_printable(text, 200);
      printf("     %s! hop %u: %s%s\n", trace_paint(run, "\033[31m"), i + 1, shown,
             trace_paint(run, "\033[0m"));
    }
    for (guint w = 0; w < hop->warnings->len; w++) {
      g_autofree char *shown = trace_printable(hop->warnings->pdata[w], 200);

      printf("     %swarning: hop %u: %s%s\n", trace_paint(run, "\033[33m"), i + 1, shown,
             trace_paint(run, "\033[0m"));
    }
  }
  for (guint w = 0; w < trace->warnings->len; w++)
    printf("     %swarning: %s%s\n", trace_paint(run, "\033[33m"),
           (char *)trace->warnings->pdata[w], trace_paint(run, "\033[0m"));
}

static void
trace_print_table(const TraceRun *run, const FarceurTrace *trace, const char *source)
{
  g_autofree char *title = trace_printable(source, 200);
  g_autofree char *sent
      = trace->sent ? g_date_time_format(trace->sent, "%Y-%m-%d %H:%M:%SZ") : g_strdup("none");
  g_autofree char *total
      = trace->has_total ? farceur_trace_format_seconds(trace->total_s) : g_strdup("unknown");
  TraceColumns cols = trace_columns(trace);

  printf("%s%s%s  (Date: %s, %u hop%s)\n", trace_paint(run, "\033[1m"), title,
         trace_paint(run, "\033[0m"), sent, trace->hops->len, trace->hops->len == 1 ? "" : "s");
  if (trace->hops->len > 0) {
    printf("%s  #  ", trace_paint(run, "\033[2m"));
    trace_print_cell("from", cols.from + 2);
    trace_print_cell("by", cols.by + 2);
    trace_print_cell("with", cols.with + 2);
    printf("TLS    delay%s\n", trace_paint(run, "\033[0m"));
  }
  for (guint i = 0; i < trace->hops->len; i++)
    trace_print_hop(run, trace->hops->pdata[i], i + 1, &cols);
  printf("     total transit: %s\n", total);
  trace_print_notes(run, trace);
  fputc('\n', stdout);
}

static void
trace_emit(TraceRun *run, const FarceurTrace *trace, const char *source)
{
  if (run->format == TRACE_FORMAT_JSON) {
    farceur_trace_write_json(trace, source, run->json);
    cli_output_json_writer(run->json);
  } else if (run->format == TRACE_FORMAT_DOT) {
    g_autofree char *dot = farceur_trace_to_dot(trace, source);

    fputs(dot, stdout);
  } else {
    trace_print_table(run, trace, source);
  }
}

/* Reports a failure; the run goes on and exits with the most serious one. */
static void
trace_fail(TraceRun *run, GError *error)
{
  run->failures++;
  run->status = cli_status_worse(run->status, cli_report_error("trace", error));
}

static void
trace_input(TraceRun *run, const char *arg)
{
  GError *error = NULL;
  g_autoptr(FarceurInput) input = farceur_input_open(arg, &error);

  if (input == NULL) {
    trace_fail(run, error);
    return;
  }
  if (run->shards > 0)
    farceur_input_set_shard(input, run->shard, run->shards);
  for (;;) {
    /* the header block alone: a trace needs nothing of the body */
    const FarceurInputHeaders *headers = farceur_input_next_headers(input, &error);
    g_autoptr(FarceurTrace) trace = NULL;

    if (headers == NULL && error == NULL)
      return;
    if (headers == NULL) {
      /* a message that cannot be read: the input goes on with the next one */
      trace_fail(run, g_steal_pointer(&error));
      continue;
    }
    trace = farceur_trace_from_headers(headers);
    trace_emit(run, trace, headers->source);
    cli_output_flush();
    run->messages++;
  }
}

static gboolean
trace_setup(TraceRun *run, gboolean json, gboolean dot, const char *colour, const char *shard,
            GError **error)
{
  CliTermStyle style;

  if (shard && !farceur_input_parse_shard(shard, &run->shard, &run->shards, error))
    return FALSE;
  if (json && dot) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "--json and --dot exclude each other");
    return FALSE;
  }
  run->format = json ? TRACE_FORMAT_JSON : dot ? TRACE_FORMAT_DOT : TRACE_FORMAT_TABLE;
  if (json)
    run->json = farceur_json_writer_new();
  if (!cli_term_style(STDOUT_FILENO, colour, &style, error))
    return FALSE;
  run->colour = style.colour;
  run->glyphs = style.glyphs;
  return TRUE;
}

int
cli_cmd_trace(int argc, char **argv)
{
  gboolean json = FALSE, dot = FALSE;
  g_autofree char *colour = NULL;
  g_autofree char *shard = NULL;
  g_auto(GStrv) inputs = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per message per line", NULL },
    { "dot", 0, 0, G_OPTION_ARG_NONE, &dot, "A Graphviz digraph per message", NULL },
    { "color", 0, 0, G_OPTION_ARG_STRING, &colour, "Colour the table: auto, always, never",
      "WHEN" },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &shard,
      "Only the messages of shard K of N (by file name and mbox place), for N runs in parallel",
      "K/N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &inputs, NULL, NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) context
      = cli_context_new("trace", "[FILE|DIR|MBOX|-]...",
                        "Analyse the Received: chain of each message: hops from origin to final "
                        "delivery,\ndelays, TLS and anomalies.  Reads standard input without "
                        "arguments.");
  GError *error = NULL;
  TraceRun run = { 0 };
  int status;

  g_option_context_add_main_entries(context, entries, NULL);
  if (!cli_parse(context, "trace", &argc, &argv, &status))
    return status;
  if (!trace_setup(&run, json, dot, colour, shard, &error))
    return cli_report_error("trace", error);
  if (inputs == NULL)
    trace_input(&run, "-");
  for (guint i = 0; inputs && inputs[i]; i++)
    trace_input(&run, inputs[i]);
  g_clear_pointer(&run.json, farceur_json_writer_free);
  if (run.failures > 0)
    g_printerr("farceur trace: %u message%s traced, %u input%s failed (exit %d)\n", run.messages,
               run.messages == 1 ? "" : "s", run.failures, run.failures == 1 ? "" : "s",
               run.status);
  return run.status;
}
