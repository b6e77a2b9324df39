/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: internals shared by the web module's files; never installed.
 *
 * Calls run one way: web-server.c (routes, headers) drives web-store.c (the
 * index of messages and its file monitors), web-page.c (HTML),
 * web-json.c, web-graph.c (libgvc) and web-stream.c (streamed bodies, server-sent
 * events); the models of web-model.c read bodies through web-mail.c; every
 * string that reaches a page goes through web_html_text() in web-html.c.
 */
#pragma once

#include <gmime/gmime.h>
#include <libsoup/soup.h>

#include <farceur/web.h>

G_BEGIN_DECLS

/* ---- web-html.c: the one escaping function, and page pieces ------------- */

void web_html_text(GString *out, const char *text);
void web_html_block(GString *out, const char *text);
void web_html_element(GString *out, const char *tag, const char *cls, const char *text);
void web_html_link(GString *out, const char *href, const char *cls, const char *text);
void web_html_size(GString *out, gint64 size);
void web_html_date(GString *out, GDateTime *date);
void web_html_begin(GString *out, const char *title);
void web_html_end(GString *out);

/* ---- web-mail.c: bodies, decoded ---------------------------------------- */

#define WEB_MAIL_TEXT_MAX (1024 * 1024)     /* text shown on a page */
#define WEB_MAIL_HTML_MAX (4 * 1024 * 1024) /* HTML served in the frame */

char *web_mail_part_text(const FarceurInspectPart *part, gsize max, gboolean *truncated);
GMimeStream *web_mail_part_raw(const FarceurInspectPart *part, GMimeContentEncoding *encoding);
guint web_mail_count_remote(const char *html);
char *web_mail_link_cids(const char *html, const FarceurInspectMessage *msg, const char *prefix);
char *web_mail_raw_header(GMimeStream *stored, gsize max, gboolean *truncated);
gboolean web_mail_is_attachment(const FarceurInspectPart *part);

/* ---- web-json.c ----------------------------------------------------------- */

JsonNode *web_json_rows(GPtrArray *rows);
JsonNode *web_json_parts(const FarceurInspectMessage *msg);

/* ---- web-page.c: the pages ---------------------------------------------- */

char *web_page_list(GPtrArray *rows, GPtrArray *warnings);
char *web_page_rows(GPtrArray *rows);
char *web_page_message(const FarceurWebMessage *page);
char *web_page_trace(const FarceurWebTrace *page, gboolean graph);
char *web_page_error(guint status, const char *detail);
char *web_page_notice(const char *text);

/* ---- web-graph.c: the hop graph through libgvc, on one thread only ------- */

#define WEB_GRAPH_MAX_HOPS 64

typedef struct _WebGraph WebGraph;

WebGraph *web_graph_new(void);
GBytes *web_graph_svg(WebGraph *graph, const FarceurTrace *trace, const char *title,
                      GError **error);
void web_graph_free(WebGraph *graph);

/* ---- web-stream.c: bodies written as they are read; event streams -------- */

#define WEB_STREAM_CHUNK (64 * 1024)

void web_stream_body(SoupServerMessage *msg, GMimeStream *stream, GMimeContentEncoding encoding,
                     gint64 length);

typedef struct _WebEvents WebEvents;

WebEvents *web_events_new(GMainContext *context, guint heartbeat_s);
void web_events_add(WebEvents *events, SoupServerMessage *msg);
void web_events_send(WebEvents *events, const char *event, const char *data);
guint web_events_count(WebEvents *events);
void web_events_free(WebEvents *events);

/* ---- web-store.c: the messages served, kept up to date ------------------- */

typedef struct {
  char *id;
  char *path;
  char *source;
  guint index;
  gint64 start; /* its octets in the file */
  gint64 end;
  FarceurWebRow *row;
} WebEntry;

typedef struct _WebStore WebStore;
typedef void (*WebStoreChanged)(gpointer data);

WebStore *web_store_new(const char *const *inputs, GMainContext *context, WebStoreChanged changed,
                        gpointer data, GError **error);
GPtrArray *web_store_rows(WebStore *store);
const WebEntry *web_store_lookup(WebStore *store, const char *id);
FarceurInputMessage *web_store_read(WebStore *store, const WebEntry *entry, GError **error);
GMimeStream *web_store_open_raw(WebStore *store, const WebEntry *entry, GError **error);
void web_store_rescan(WebStore *store);
GPtrArray *web_store_warnings(WebStore *store);
guint web_store_count(WebStore *store);
void web_store_free(WebStore *store);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(WebGraph, web_graph_free)

G_END_DECLS
