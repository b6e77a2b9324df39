/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the hop graph of a trace as SVG, laid out in-process by
 * Graphviz's libgvc from the DOT text farceur_trace_to_dot() writes (the one
 * home of the graph; its quoting keeps mail-written names plain labels).
 *
 * libgvc is not thread-safe (cgraph and the DOT parser keep globals): a
 * WebGraph is used from the thread running the server's main context only.
 * Its context links the core and dot-layout plugins in
 * (gvContextPlugins()) instead of loading plugins through the installed
 * config6a file: no dlopen, no pango, and contexts that can be made and
 * freed again without the leaks and the use-after-free of the pango
 * plugin.  The price: text widths come from Graphviz's tables for
 * Helvetica, not from the fonts installed.
 */
#include "config.h"

#include <farceur/error.h>

#include <gvc.h>
#include <gvplugin.h>

#include "web-private.h"

extern gvplugin_library_t gvplugin_core_LTX_library;
extern gvplugin_library_t gvplugin_dot_layout_LTX_library;

static const lt_symlist_t web_graph_plugins[] = {
  { "gvplugin_core_LTX_library", &gvplugin_core_LTX_library },
  { "gvplugin_dot_layout_LTX_library", &gvplugin_dot_layout_LTX_library },
  { NULL, NULL },
};

struct _WebGraph {
  GVC_t *gvc;
};

WebGraph *
web_graph_new(void)
{
  WebGraph *graph = g_new0(WebGraph, 1);

  /* Graphviz prints its warnings on stderr unless told not to; a library
   * does not print. */
  agseterr(AGMAX);
  graph->gvc = gvContextPlugins(web_graph_plugins, 0);
  return graph;
}

void
web_graph_free(WebGraph *graph)
{
  if (graph == NULL)
    return;
  gvFreeContext(graph->gvc);
  g_free(graph);
}

static gboolean
web_graph_fail(GError **error, const char *what)
{
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_INTERNAL, "cannot draw the hop graph: %s", what);
  return FALSE;
}

/**
 * web_graph_svg:
 * @graph: the graph context
 * @trace: a trace with at least one hop, at most %WEB_GRAPH_MAX_HOPS
 * @title: (nullable): the graph's label
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the SVG document
 */
GBytes *
web_graph_svg(WebGraph *graph, const FarceurTrace *trace, const char *title, GError **error)
{
  g_autofree char *dot = NULL;
  Agraph_t *g;
  char *data = NULL;
  unsigned int length = 0;
  GBytes *svg = NULL;

  if (trace->hops->len == 0 || trace->hops->len > WEB_GRAPH_MAX_HOPS) {
    web_graph_fail(error, "no hop, or too many to draw");
    return NULL;
  }
  dot = farceur_trace_to_dot(trace, title);
  if ((g = agmemread(dot)) == NULL) {
    web_graph_fail(error, "Graphviz cannot read it");
    return NULL;
  }
  if (gvLayout(graph->gvc, g, "dot") != 0) {
    web_graph_fail(error, "Graphviz cannot lay it out");
  } else {
    if (gvRenderData(graph->gvc, g, "svg", &data, &length) == 0 && data != NULL)
      svg = g_bytes_new(data, length);
    else
      web_graph_fail(error, "Graphviz cannot render it");
    gvFreeRenderData(data);
    gvFreeLayout(graph->gvc, g);
  }
  agclose(g);
  return svg;
}
