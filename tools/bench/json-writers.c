/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json-writers: one record shaped like a `trace --json` line (6 hops of 15
 * members: strings, nulls, a boolean, integers, arrays) written N times to
 * text, four ways, to choose the writer of the per-message records:
 *
 *   builder    JsonBuilder, then json_to_string(): a tree per record
 *   tree       JsonObject/JsonArray built directly, then json_to_string()
 *   reused     one JsonBuilder (json_builder_reset) and one JsonGenerator
 *              printing into one GString, both kept from record to record
 *   writer     FarceurJsonWriter (src/lib/json.c) over one reused GString
 *
 * All four must print the same bytes (checked).  Prints, per way, the CPU
 * time per record and the ratio to the writer.  With WAY, only that one
 * runs: `valgrind --tool=callgrind json-writers 2000 WAY` counts its
 * instructions.
 *   json-writers [N=20000 [WAY]]
 */
#include <stdio.h>
#include <stdlib.h>

#include <sys/resource.h>

#include <farceur/farceur.h>

#define HOPS 6

static const char *const strings[] = {
  "mx54.example.net",
  NULL,
  "2001:db8:7875::644d",
  "in14.example",
  "Frontend Transport",
  "ESMTPS",
  "vLMtNDtLVe9bPQtd.599.2026.11.23.01.02.03",
  "user578@example",
  NULL,
};
static const char raw[]
    = "from in14.example (in14.example. [64.156.139.6]) by mx.google.com with ESMTPS id "
      "vLMtNDtLVe9bPQtd.599.2026.11.23.01.02.03 for <user578@example> (version=TLS1_3 "
      "cipher=TLS_AES_256_GCM_SHA384 bits=256/256); Sat, 12 Sep 2026 08:53:01 +0000";
static const char *const names[]
    = { "from_helo", "from_rdns", "from_ip", "by", "via", "with", "id", "for", "envelope_from" };

static double
cpu_seconds(void)
{
  struct rusage ru;

  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
         + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
build_builder(JsonBuilder *b)
{
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "source");
  json_builder_add_string_value(b, "build/bench/trace-20000.mbox#1234");
  json_builder_set_member_name(b, "hops");
  json_builder_begin_array(b);
  for (int h = 0; h < HOPS; h++) {
    json_builder_begin_object(b);
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
      json_builder_set_member_name(b, names[i]);
      if (strings[i])
        json_builder_add_string_value(b, strings[i]);
      else
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "tls");
    json_builder_add_boolean_value(b, TRUE);
    json_builder_set_member_name(b, "date");
    json_builder_add_string_value(b, "2026-09-12T08:53:01Z");
    json_builder_set_member_name(b, "delay_s");
    json_builder_add_int_value(b, h * 30);
    json_builder_set_member_name(b, "anomalies");
    json_builder_begin_array(b);
    json_builder_add_string_value(b, "no_tls");
    json_builder_end_array(b);
    json_builder_set_member_name(b, "warnings");
    json_builder_begin_array(b);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "raw");
    json_builder_add_string_value(b, raw);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "total_s");
  json_builder_add_int_value(b, 150);
  json_builder_set_member_name(b, "warnings");
  json_builder_begin_array(b);
  json_builder_end_array(b);
  json_builder_end_object(b);
}

static char *
way_builder(void)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) root = NULL;

  build_builder(b);
  root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

static JsonObject *
tree_hop(int h)
{
  JsonObject *o = json_object_new();
  JsonArray *anomalies = json_array_new();

  for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
    if (strings[i])
      json_object_set_string_member(o, names[i], strings[i]);
    else
      json_object_set_null_member(o, names[i]);
  }
  json_object_set_boolean_member(o, "tls", TRUE);
  json_object_set_string_member(o, "date", "2026-09-12T08:53:01Z");
  json_object_set_int_member(o, "delay_s", h * 30);
  json_array_add_string_element(anomalies, "no_tls");
  json_object_set_array_member(o, "anomalies", anomalies);
  json_object_set_array_member(o, "warnings", json_array_new());
  json_object_set_string_member(o, "raw", raw);
  return o;
}

static char *
way_tree(void)
{
  JsonObject *root = json_object_new();
  JsonArray *hops = json_array_sized_new(HOPS);
  g_autoptr(JsonNode) node = NULL;

  json_object_set_string_member(root, "source", "build/bench/trace-20000.mbox#1234");
  for (int h = 0; h < HOPS; h++)
    json_array_add_object_element(hops, tree_hop(h));
  json_object_set_array_member(root, "hops", hops);
  json_object_set_int_member(root, "total_s", 150);
  json_object_set_array_member(root, "warnings", json_array_new());
  node = json_node_init_object(json_node_alloc(), root);
  json_object_unref(root);
  return json_to_string(node, FALSE);
}

typedef struct {
  JsonBuilder *builder;
  JsonGenerator *generator;
  GString *out;
} Reused;

static const char *
way_reused(Reused *r)
{
  g_autoptr(JsonNode) root = NULL;

  json_builder_reset(r->builder);
  build_builder(r->builder);
  root = json_builder_get_root(r->builder);
  json_generator_set_root(r->generator, root);
  g_string_truncate(r->out, 0);
  json_generator_to_gstring(r->generator, r->out);
  return r->out->str;
}

static const char *
way_writer(FarceurJsonWriter *w)
{
  farceur_json_writer_reset(w);
  farceur_json_writer_begin_object(w);
  farceur_json_writer_string_member(w, "source", "build/bench/trace-20000.mbox#1234");
  farceur_json_writer_member(w, "hops");
  farceur_json_writer_begin_array(w);
  for (int h = 0; h < HOPS; h++) {
    farceur_json_writer_begin_object(w);
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
      farceur_json_writer_string_member(w, names[i], strings[i]);
    farceur_json_writer_member(w, "tls");
    farceur_json_writer_boolean(w, TRUE);
    farceur_json_writer_string_member(w, "date", "2026-09-12T08:53:01Z");
    farceur_json_writer_member(w, "delay_s");
    farceur_json_writer_int(w, h * 30);
    farceur_json_writer_member(w, "anomalies");
    farceur_json_writer_begin_array(w);
    farceur_json_writer_string(w, "no_tls");
    farceur_json_writer_end_array(w);
    farceur_json_writer_strings_member(w, "warnings", NULL);
    farceur_json_writer_string_member(w, "raw", raw);
    farceur_json_writer_end_object(w);
  }
  farceur_json_writer_end_array(w);
  farceur_json_writer_member(w, "total_s");
  farceur_json_writer_int(w, 150);
  farceur_json_writer_strings_member(w, "warnings", NULL);
  farceur_json_writer_end_object(w);
  return farceur_json_writer_get_text(w, NULL);
}

int
main(int argc, char **argv)
{
  const char *const ways[] = { "builder", "tree", "reused", "writer" };
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  Reused reused = { json_builder_new(), json_generator_new(), g_string_new(NULL) };
  g_autoptr(FarceurJsonWriter) writer = farceur_json_writer_new();
  g_autofree char *reference = way_builder();
  double seconds[G_N_ELEMENTS(ways)];
  gsize bytes = strlen(reference);

  for (gsize w = 0; w < G_N_ELEMENTS(ways); w++) {
    double t0 = cpu_seconds();

    if (argc > 2 && strcmp(argv[2], ways[w]) != 0) {
      seconds[w] = 1;
      continue;
    }
    for (int i = 0; i < n; i++) {
      g_autofree char *owned = NULL;
      const char *text;

      if (w == 0)
        text = owned = way_builder();
      else if (w == 1)
        text = owned = way_tree();
      else if (w == 2)
        text = way_reused(&reused);
      else
        text = way_writer(writer);
      if (i == 0 && strcmp(text, reference) != 0) {
        fprintf(stderr, "json-writers: '%s' prints other bytes\n", ways[w]);
        return 1;
      }
    }
    seconds[w] = cpu_seconds() - t0;
  }
  printf("%d records of %zu bytes (a trace --json line of %d hops)\n", n, bytes, HOPS);
  for (gsize w = 0; w < G_N_ELEMENTS(ways); w++)
    if (argc <= 2 || strcmp(argv[2], ways[w]) == 0)
      printf("  %-8s %7.2f us/record  %6.1f MB/s  %5.1fx the writer's time\n", ways[w],
             seconds[w] * 1e6 / n, bytes * (double)n / seconds[w] / 1e6, seconds[w] / seconds[3]);
  g_object_unref(reused.builder);
  g_object_unref(reused.generator);
  g_string_free(reused.out, TRUE);
  return 0;
}
