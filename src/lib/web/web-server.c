/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the web view's HTTP server (libsoup 3): routes, the headers
 * every response carries, and the public FarceurWebServer.
 *
 * Read-only: GET and HEAD, nothing else.  A URL names a message by its
 * opaque id (a lookup in the store, never a path) and a part by its IMAP
 * section (a lookup in the message's tree).  Every response carries
 * nosniff, no-referrer, no-store, a Content-Security-Policy and
 * "Connection: close" (libsoup 3.2.3 leaks a socket for every keep-alive
 * connection its client closes; it is fixed in 3.3.0, which Debian 12 does
 * not have).  On loopback, a request naming another Host is refused (DNS
 * rebinding), and so is any request another site's page makes, except the
 * images of a mail's own sandboxed frame (Fetch Metadata).
 */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"
#include "web-private.h"
#include "web-resources.h" /* generated from web.gresource.xml */

#define WEB_SERVER_HEARTBEAT_S 15
#define WEB_SERVER_RESOURCES "/org/farceur/web/"

/* The pages: their own script and style sheet, their own frames. */
#define WEB_CSP_PAGE                                                                               \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "                \
  "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; "                    \
  "frame-ancestors 'none'"
/* Anything else (downloads, JSON, the graph): nothing runs, nothing loads. */
#define WEB_CSP_INERT                                                                              \
  "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
/* A mail's HTML, in its frame or opened alone: its inline style, data:
 * images and its own cid: images (%s: that URL prefix, or 'self'); no
 * script, no form, nothing else from anywhere. */
#define WEB_CSP_MAIL                                                                               \
  "default-src 'none'; img-src data: %s; style-src 'unsafe-inline'; font-src data:; "              \
  "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"

struct _FarceurWebServer {
  GMainContext *context;
  SoupServer *soup;
  WebStore *store;
  WebEvents *events;
  WebGraph *graph;
  GPtrArray *hosts; /* Host values accepted; empty: any (an address given on purpose) */
  gboolean loopback;
  char *url;
};

typedef enum {
  WEB_ROUTE_PAGE = 1 << 0,       /* an HTML page: errors as pages */
  WEB_ROUTE_CROSS_SITE = 1 << 1, /* may be fetched by another origin (a mail's frame) */
} WebRouteFlags;

typedef void (*WebHandler)(FarceurWebServer *server, SoupServerMessage *msg, char **args);

typedef struct {
  const char *pattern; /* segments; "*" is one segment, passed in args */
  WebHandler handler;
  WebRouteFlags flags;
} WebRoute;

/* ---- responses -------------------------------------------------------------- */

static void
web_server_headers(SoupServerMessage *msg, const char *csp)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);

  soup_message_headers_replace(headers, "Content-Security-Policy", csp);
  soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace(headers, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace(headers, "Cache-Control", "no-store");
  soup_message_headers_replace(headers, "Cross-Origin-Opener-Policy", "same-origin");
  soup_message_headers_replace(headers, "Connection", "close");
}

static void
web_server_respond(SoupServerMessage *msg, guint status, const char *type, char *body)
{
  soup_server_message_set_status(msg, status, NULL);
  soup_server_message_set_response(msg, type, SOUP_MEMORY_TAKE, body, strlen(body));
}

static void
web_server_html(SoupServerMessage *msg, char *html)
{
  web_server_headers(msg, WEB_CSP_PAGE);
  web_server_respond(msg, SOUP_STATUS_OK, "text/html; charset=utf-8", html);
}

static void
web_server_json(SoupServerMessage *msg, JsonNode *node)
{
  g_autofree char *text = json_to_string(node, FALSE);

  json_node_unref(node);
  web_server_respond(msg, SOUP_STATUS_OK, "application/json", g_strconcat(text, "\n", NULL));
}

static void
web_server_fail(SoupServerMessage *msg, WebRouteFlags flags, guint status, const char *detail)
{
  if (flags & WEB_ROUTE_PAGE) {
    web_server_headers(msg, WEB_CSP_PAGE);
    web_server_respond(msg, status, "text/html; charset=utf-8", web_page_error(status, detail));
  } else {
    web_server_respond(
        msg, status, "text/plain; charset=utf-8",
        g_strdup_printf("%u %s: %s\n", status, soup_status_get_phrase(status), detail));
  }
}

/* A type from a message in a header: "type/subtype" of token characters,
 * else the safe default. */
static const char *
web_server_safe_type(const char *type, const char *fallback)
{
  static const char token[] = "abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-";
  const char *slash = type ? strchr(type, '/') : NULL;

  if (slash == NULL || slash == type || slash[1] == '\0'
      || strspn(type, token) != (gsize)(slash - type)
      || strspn(slash + 1, token) != strlen(slash + 1))
    return fallback;
  return type;
}

/* ---- the message of a URL ------------------------------------------------- */

/* Reads the message @id names; answers 404 itself when it cannot. */
static FarceurInputMessage *
web_server_read(FarceurWebServer *server, SoupServerMessage *msg, const char *id,
                WebRouteFlags flags)
{
  g_autoptr(GError) error = NULL;
  const WebEntry *entry = web_store_lookup(server->store, id);
  FarceurInputMessage *input;

  if (entry == NULL) {
    web_server_fail(msg, flags, SOUP_STATUS_NOT_FOUND, "no such message");
    return NULL;
  }
  if ((input = web_store_read(server->store, entry, &error)) == NULL) {
    web_server_fail(msg, flags, SOUP_STATUS_NOT_FOUND, error->message);
    web_store_rescan(server->store); /* it moved or went: catch up */
  }
  return input;
}

static FarceurInspectMessage *
web_server_inspect(FarceurWebServer *server, SoupServerMessage *msg, const char *id,
                   FarceurInspectFlags inspect_flags, WebRouteFlags flags)
{
  g_autoptr(FarceurInputMessage) input = web_server_read(server, msg, id, flags);
  g_autoptr(GError) error = NULL;
  FarceurInspectMessage *inspect;

  if (input == NULL)
    return NULL;
  if ((inspect = farceur_inspect_message(input, inspect_flags, &error)) == NULL)
    web_server_fail(msg, flags, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
  return inspect;
}

/* The leaf @path of @inspect holding a body; answers 404 itself when none. */
static const FarceurInspectPart *
web_server_part(SoupServerMessage *msg, const FarceurInspectMessage *inspect, const char *path,
                const char *type_prefix)
{
  const FarceurInspectPart *part = farceur_inspect_message_find_part(inspect, path);

  if (part == NULL || !GMIME_IS_PART(part->object)
      || (type_prefix && !g_str_has_prefix(part->content_type, type_prefix))) {
    web_server_fail(msg, 0, SOUP_STATUS_NOT_FOUND, "no such part");
    return NULL;
  }
  return part;
}

/* ---- pages ------------------------------------------------------------------ */

static void
web_server_list(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  web_server_html(msg,
                  web_page_list(web_store_rows(server->store), web_store_warnings(server->store)));
}

static void
web_server_rows(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  web_server_html(msg, web_page_rows(web_store_rows(server->store)));
}

static void
web_server_message(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  g_autoptr(FarceurInputMessage) input = web_server_read(server, msg, args[0], WEB_ROUTE_PAGE);
  g_autoptr(FarceurWebMessage) page = NULL;
  g_autoptr(GError) error = NULL;

  if (input == NULL)
    return;
  if ((page = farceur_web_message_new(input, args[0], &error)) == NULL) {
    web_server_fail(msg, WEB_ROUTE_PAGE, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
    return;
  }
  web_server_html(msg, web_page_message(page));
}

static void
web_server_trace(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  g_autoptr(FarceurInputMessage) input = web_server_read(server, msg, args[0], WEB_ROUTE_PAGE);
  g_autoptr(FarceurWebTrace) page = NULL;
  guint hops;

  if (input == NULL)
    return;
  page = farceur_web_trace_new(input->message, args[0], input->source);
  hops = page->trace->hops->len;
  web_server_html(msg, web_page_trace(page, hops > 0 && hops <= WEB_GRAPH_MAX_HOPS));
}

static void
web_server_graph(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  g_autoptr(FarceurInputMessage) input = web_server_read(server, msg, args[0], 0);
  g_autoptr(FarceurTrace) trace = NULL;
  g_autoptr(GBytes) svg = NULL;
  g_autoptr(GError) error = NULL;
  const char *subject;

  if (input == NULL)
    return;
  trace = farceur_trace_from_message(input->message);
  subject = g_mime_message_get_subject(input->message);
  if ((svg = web_graph_svg(server->graph, trace, subject ? subject : "trace", &error)) == NULL) {
    web_server_fail(msg, 0, SOUP_STATUS_NOT_FOUND, error->message);
    return;
  }
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type(soup_server_message_get_response_headers(msg),
                                        "image/svg+xml", NULL);
  soup_message_body_append_bytes(soup_server_message_get_response_body(msg), svg);
}

static void
web_server_events(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  web_events_add(server->events, msg);
}

static void
web_server_static(SoupServerMessage *msg, const char *name, const char *type)
{
  g_autofree char *path = g_strconcat(WEB_SERVER_RESOURCES, name, NULL);
  g_autoptr(GBytes) bytes = g_resource_lookup_data(farceur_web_get_resource(), path,
                                                   G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  g_assert(bytes != NULL); /* compiled in */

  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type(soup_server_message_get_response_headers(msg), type, NULL);
  soup_message_body_append_bytes(soup_server_message_get_response_body(msg), bytes);
}

static void
web_server_style(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  web_server_static(msg, "style.css", "text/css; charset=utf-8");
}

static void
web_server_script(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  web_server_static(msg, "app.js", "text/javascript; charset=utf-8");
}

/* ---- a mail's HTML and its images ------------------------------------------ */

/* The URL prefix of @id's inline images in the mail's policy: the origin
 * the browser used (Host, checked on loopback), and the path; 'self' when
 * the Host cannot be written in a policy (an IPv6 literal). */
static char *
web_server_inline_source(SoupServerMessage *msg, const char *id)
{
  static const char host_chars[]
      = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:";
  const char *host
      = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Host");

  if (host == NULL || *host == '\0' || strspn(host, host_chars) != strlen(host))
    return g_strdup("'self'");
  return g_strdup_printf("http://%s/m/%s/inline/", host, id);
}

static void
web_server_mail(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  g_autoptr(FarceurInspectMessage) inspect
      = web_server_inspect(server, msg, args[0], FARCEUR_INSPECT_NO_DIGESTS, 0);
  const FarceurInspectPart *part
      = inspect ? web_server_part(msg, inspect, args[1], "text/html") : NULL;
  g_autofree char *source = NULL;
  g_autofree char *csp = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *html = NULL;
  gboolean truncated;

  if (part == NULL)
    return;
  source = web_server_inline_source(msg, args[0]);
  csp = g_strdup_printf(WEB_CSP_MAIL, source);
  web_server_headers(msg, csp);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "X-Frame-Options",
                               "SAMEORIGIN");
  html = web_mail_part_text(part, WEB_MAIL_HTML_MAX, &truncated);
  if (truncated) {
    web_server_respond(msg, SOUP_STATUS_OK, "text/html; charset=utf-8",
                       web_page_notice("This HTML body is too large to show here: "
                                       "download its part instead."));
    return;
  }
  prefix = g_strdup_printf("/m/%s/inline/", args[0]);
  web_server_respond(msg, SOUP_STATUS_OK, "text/html; charset=utf-8",
                     web_mail_link_cids(html, inspect, prefix));
}

static void
web_server_inline(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  g_autoptr(FarceurInspectMessage) inspect
      = web_server_inspect(server, msg, args[0], FARCEUR_INSPECT_NO_DIGESTS, 0);
  const FarceurInspectPart *part
      = inspect ? web_server_part(msg, inspect, args[1], "image/") : NULL;
  g_autoptr(GMimeStream) stream = NULL;
  GMimeContentEncoding encoding;

  if (part == NULL)
    return;
  stream = web_mail_part_raw(part, &encoding);
  soup_message_headers_set_content_type(
      soup_server_message_get_response_headers(msg),
      web_server_safe_type(part->content_type, "application/octet-stream"), NULL);
  web_stream_body(msg, stream, encoding, -1);
}

/* ---- downloads ------------------------------------------------------------------ */

static void
web_server_disposition(SoupServerMessage *msg, const char *name)
{
  g_autoptr(GHashTable) params = g_hash_table_new(g_str_hash, g_str_equal);

  g_hash_table_insert(params, (gpointer) "filename", (gpointer)name);
  /* libsoup writes a non-ASCII name as RFC 5987 filename*=UTF-8''... (RFC 6266) */
  soup_message_headers_set_content_disposition(soup_server_message_get_response_headers(msg),
                                               "attachment", params);
}

static void
web_server_part_download(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  g_autoptr(FarceurInspectMessage) inspect
      = web_server_inspect(server, msg, args[0], FARCEUR_INSPECT_NO_DIGESTS, 0);
  const FarceurInspectPart *part = inspect ? web_server_part(msg, inspect, args[1], NULL) : NULL;
  g_autoptr(GMimeStream) stream = NULL;
  g_autofree char *fallback = NULL;
  g_autofree char *name = NULL;
  GMimeContentEncoding encoding;

  if (part == NULL)
    return;
  fallback = g_strdup_printf("part-%s.bin", part->path);
  name = farceur_inspect_safe_filename(part->filename, fallback);
  web_server_disposition(msg, name);
  soup_message_headers_set_content_type(
      soup_server_message_get_response_headers(msg),
      web_server_safe_type(part->content_type, "application/octet-stream"), NULL);
  stream = web_mail_part_raw(part, &encoding);
  web_stream_body(msg, stream, encoding, -1);
}

/* The message as stored, @type; a download when @name is given.  Not
 * parsed: its octets, straight from the file. */
static void
web_server_raw_as(FarceurWebServer *server, SoupServerMessage *msg, const char *id,
                  const char *type, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMimeStream) stream = NULL;
  const WebEntry *entry = web_store_lookup(server->store, id);

  if (entry == NULL) {
    web_server_fail(msg, 0, SOUP_STATUS_NOT_FOUND, "no such message");
    return;
  }
  if ((stream = web_store_open_raw(server->store, entry, &error)) == NULL) {
    web_server_fail(msg, 0, SOUP_STATUS_NOT_FOUND, error->message);
    web_store_rescan(server->store);
    return;
  }
  if (name != NULL)
    web_server_disposition(msg, name);
  soup_message_headers_set_content_type(soup_server_message_get_response_headers(msg), type, NULL);
  web_stream_body(msg, stream, GMIME_CONTENT_ENCODING_DEFAULT, entry->end - entry->start);
}

static void
web_server_raw(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  web_server_raw_as(server, msg, args[0], "text/plain; charset=utf-8", NULL);
}

/* ---- the API ------------------------------------------------------------------- */

static void
web_server_api_list(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  web_server_json(msg, web_json_rows(web_store_rows(server->store)));
}

static void
web_server_api_message(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  g_autoptr(FarceurInspectMessage) inspect
      = web_server_inspect(server, msg, args[0], FARCEUR_INSPECT_HEADERS, 0);

  if (inspect != NULL)
    web_server_json(msg, farceur_inspect_message_to_json(inspect));
}

static void
web_server_api_parts(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  g_autoptr(FarceurInspectMessage) inspect
      = web_server_inspect(server, msg, args[0], FARCEUR_INSPECT_NONE, 0);

  if (inspect != NULL)
    web_server_json(msg, web_json_parts(inspect));
}

static void
web_server_api_raw(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  g_autofree char *name = g_strdup_printf("%s.eml", args[0]);

  web_server_raw_as(server, msg, args[0], "message/rfc822", name);
}

static void
web_server_api_trace(FarceurWebServer *server, SoupServerMessage *msg, char **args)
{
  g_autoptr(FarceurInputMessage) input = web_server_read(server, msg, args[0], 0);
  g_autoptr(FarceurTrace) trace = NULL;

  if (input == NULL)
    return;
  trace = farceur_trace_from_message(input->message);
  web_server_json(msg, farceur_trace_to_json(trace, input->source));
}

static const WebRoute web_routes[] = {
  { "", web_server_list, WEB_ROUTE_PAGE },
  { "rows", web_server_rows, WEB_ROUTE_PAGE },
  { "events", web_server_events, 0 },
  { "static/style.css", web_server_style, 0 },
  { "static/app.js", web_server_script, 0 },
  { "m/*", web_server_message, WEB_ROUTE_PAGE },
  { "m/*/trace", web_server_trace, WEB_ROUTE_PAGE },
  { "m/*/trace.svg", web_server_graph, 0 },
  { "m/*/raw", web_server_raw, 0 },
  { "m/*/part/*", web_server_part_download, 0 },
  { "m/*/html/*", web_server_mail, 0 },
  { "m/*/inline/*", web_server_inline, WEB_ROUTE_CROSS_SITE },
  { "api/messages", web_server_api_list, 0 },
  { "api/messages/*", web_server_api_message, 0 },
  { "api/messages/*/parts", web_server_api_parts, 0 },
  { "api/messages/*/parts/*", web_server_part_download, 0 },
  { "api/messages/*/raw", web_server_api_raw, 0 },
  { "api/messages/*/trace", web_server_api_trace, 0 },
};

/* ---- dispatch ------------------------------------------------------------------ */

/* Matches @segments against @pattern; fills @args with the "*" segments. */
static gboolean
web_server_match(const char *pattern, char **segments, GPtrArray *args)
{
  g_auto(GStrv) parts = *pattern ? g_strsplit(pattern, "/", -1) : g_new0(char *, 1);
  guint n = g_strv_length(parts);

  if (n != g_strv_length(segments))
    return FALSE;
  g_ptr_array_set_size(args, 0);
  for (guint i = 0; i < n; i++) {
    if (strcmp(parts[i], "*") == 0 && *segments[i] != '\0')
      g_ptr_array_add(args, segments[i]);
    else if (strcmp(parts[i], segments[i]) != 0)
      return FALSE;
  }
  g_ptr_array_add(args, NULL);
  return TRUE;
}

static const WebRoute *
web_server_route(const char *path, GPtrArray *args, char ***segments)
{
  const char *rest = path[0] == '/' ? path + 1 : path;

  *segments = *rest ? g_strsplit(rest, "/", -1) : g_new0(char *, 1);
  for (gsize i = 0; i < G_N_ELEMENTS(web_routes); i++)
    if (web_server_match(web_routes[i].pattern, *segments, args))
      return &web_routes[i];
  return NULL;
}

/* DNS rebinding: on loopback, only the names this server was reached by. */
static gboolean
web_server_host_ok(FarceurWebServer *server, SoupServerMessage *msg)
{
  const char *host
      = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Host");

  if (server->hosts->len == 0 || host == NULL)
    return TRUE;
  for (guint i = 0; i < server->hosts->len; i++)
    if (g_ascii_strcasecmp(host, server->hosts->pdata[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Fetch Metadata: another site's page may link here (a navigation), not
 * fetch, embed or post. */
static gboolean
web_server_fetch_ok(SoupServerMessage *msg, const WebRoute *route)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers(msg);
  const char *site = soup_message_headers_get_one(request, "Sec-Fetch-Site");
  const char *mode = soup_message_headers_get_one(request, "Sec-Fetch-Mode");

  if (site == NULL || strcmp(site, "same-origin") == 0 || strcmp(site, "none") == 0)
    return TRUE;
  if (route != NULL && (route->flags & WEB_ROUTE_CROSS_SITE))
    return TRUE;
  return g_strcmp0(mode, "navigate") == 0;
}

static void
web_server_handle_cb(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
                     gpointer data)
{
  FarceurWebServer *server = data;
  const char *method = soup_server_message_get_method(msg);
  g_autoptr(GPtrArray) args = g_ptr_array_new();
  g_auto(GStrv) segments = NULL;
  const WebRoute *route = web_server_route(path, args, &segments);
  WebRouteFlags flags = route ? route->flags : WEB_ROUTE_PAGE;

  web_server_headers(msg, WEB_CSP_INERT);
  if (strcmp(method, SOUP_METHOD_GET) != 0 && strcmp(method, SOUP_METHOD_HEAD) != 0) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow",
                                 "GET, HEAD");
    web_server_fail(msg, flags, SOUP_STATUS_METHOD_NOT_ALLOWED, "this server only reads");
  } else if (!web_server_host_ok(server, msg)) {
    web_server_fail(msg, 0, SOUP_STATUS_MISDIRECTED_REQUEST, "unknown Host");
  } else if (!web_server_fetch_ok(msg, route)) {
    web_server_fail(msg, 0, SOUP_STATUS_FORBIDDEN, "cross-site request");
  } else if (route == NULL) {
    web_server_fail(msg, flags, SOUP_STATUS_NOT_FOUND, "no such page");
  } else {
    route->handler(server, msg, (char **)args->pdata);
  }
}

/* ---- the server ------------------------------------------------------------------ */

static void
web_server_changed_cb(gpointer data)
{
  FarceurWebServer *server = data;
  g_autofree char *event = g_strdup_printf("{\"count\":%u}", web_store_count(server->store));

  web_events_send(server->events, "messages", event);
}

/**
 * farceur_web_server_new:
 * @inputs: (array zero-terminated=1): Maildirs, mboxes, folders of messages, files
 * @context: (nullable): the main context to serve from (the thread-default one if %NULL);
 *   the caller runs it (as its thread-default context), and makes, starts and
 *   frees the server from that thread, or while no thread runs it
 * @error: return location for a #GError (FARCEUR_ERROR_NOINPUT: an input is
 *   missing; FARCEUR_ERROR_USAGE: none, or standard input)
 *
 * Reads the messages of @inputs and watches them for more; not listening
 * yet (farceur_web_server_listen()).  A file that cannot be read is a
 * warning (farceur_web_server_get_warnings()), not an error.
 *
 * Returns: (transfer full) (nullable): the server
 */
FarceurWebServer *
farceur_web_server_new(const char *const *inputs, GMainContext *context, GError **error)
{
  g_autoptr(FarceurWebServer) server = NULL;

  g_return_val_if_fail(inputs != NULL, NULL);
  if (inputs[0] == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "nothing to serve: give a Maildir, an mbox or a folder of messages");
    return NULL;
  }
  server = g_new0(FarceurWebServer, 1);
  server->context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
  server->hosts = g_ptr_array_new_with_free_func(g_free);
  server->events = web_events_new(server->context, WEB_SERVER_HEARTBEAT_S);
  server->graph = web_graph_new();
  server->store = web_store_new(inputs, server->context, web_server_changed_cb, server, error);
  if (server->store == NULL)
    return NULL;
  server->soup = soup_server_new("server-header", "farceur-web", NULL);
  soup_server_add_handler(server->soup, NULL, web_server_handle_cb, server, NULL);
  return g_steal_pointer(&server);
}

/* "HOST:PORT", "[IPV6]:PORT" or "PORT"; HOST an IP address or "localhost". */
static GInetSocketAddress *
web_server_parse_address(const char *address, GError **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GInetAddress) ip = NULL;
  const char *colon = strrchr(address, ':');
  const char *port_text = colon ? colon + 1 : address;
  char *end = NULL;
  guint64 port = g_ascii_strtoull(port_text, &end, 10);

  host = colon ? g_strndup(address, colon - address) : g_strdup("127.0.0.1");
  if (host[0] == '[' && host[strlen(host) - 1] == ']') {
    memmove(host, host + 1, strlen(host) - 2);
    host[strlen(host) - 2] = '\0';
  }
  if (g_ascii_strcasecmp(host, "localhost") == 0 || *host == '\0')
    ip = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  else
    ip = g_inet_address_new_from_string(host);
  if (ip == NULL || *port_text == '\0' || *end != '\0' || port > 65535) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "bad listen address '%s': expected IP:PORT, [IPv6]:PORT or localhost:PORT",
                address);
    return NULL;
  }
  return G_INET_SOCKET_ADDRESS(g_inet_socket_address_new(ip, (guint16)port));
}

/* The port the server got (0 asks for any free one). */
static guint16
web_server_bound_port(FarceurWebServer *server)
{
  GSList *listeners = soup_server_get_listeners(server->soup);
  g_autoptr(GSocketAddress) local = NULL;
  guint16 port = 0;

  if (listeners != NULL && (local = g_socket_get_local_address(listeners->data, NULL)) != NULL)
    port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
  g_slist_free(listeners);
  return port;
}

static void
web_server_set_names(FarceurWebServer *server, GInetAddress *ip, guint16 port)
{
  g_autofree char *text = g_inet_address_to_string(ip);
  gboolean v6 = g_inet_address_get_family(ip) == G_SOCKET_FAMILY_IPV6;
  g_autofree char *host
      = v6 ? g_strdup_printf("[%s]:%u", text, port) : g_strdup_printf("%s:%u", text, port);

  g_free(server->url);
  server->url = g_strdup_printf("http://%s/", host);
  server->loopback = g_inet_address_get_is_loopback(ip);
  g_ptr_array_set_size(server->hosts, 0);
  if (server->loopback) {
    g_ptr_array_add(server->hosts, g_steal_pointer(&host));
    g_ptr_array_add(server->hosts, g_strdup_printf("localhost:%u", port));
  }
}

/**
 * farceur_web_server_listen:
 * @server: a server
 * @address: (nullable): "HOST:PORT", "[IPV6]:PORT" or "localhost:PORT", HOST
 *   an IP address; %NULL for %FARCEUR_WEB_DEFAULT_ADDRESS; port 0 picks a free one
 * @error: return location for a #GError (FARCEUR_ERROR_USAGE: a bad address;
 *   FARCEUR_ERROR_UNAVAILABLE: cannot listen there)
 *
 * Starts serving on @address.  Any address is accepted; the caller warns
 * when it is not loopback (farceur_web_server_is_loopback()).
 *
 * Returns: whether it listens
 */
gboolean
farceur_web_server_listen(FarceurWebServer *server, const char *address, GError **error)
{
  g_autoptr(GInetSocketAddress) where = NULL;
  g_autoptr(GError) local = NULL;
  gboolean ok;

  g_return_val_if_fail(server != NULL, FALSE);
  address = address ? address : FARCEUR_WEB_DEFAULT_ADDRESS;
  if ((where = web_server_parse_address(address, error)) == NULL)
    return FALSE;
  g_main_context_push_thread_default(server->context);
  ok = soup_server_listen(server->soup, G_SOCKET_ADDRESS(where), 0, &local);
  g_main_context_pop_thread_default(server->context);
  if (!ok) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_UNAVAILABLE, "cannot listen on %s: %s", address,
                local->message);
    return FALSE;
  }
  web_server_set_names(server, g_inet_socket_address_get_address(where),
                       web_server_bound_port(server));
  return TRUE;
}

/**
 * farceur_web_server_get_url:
 * @server: a listening server
 *
 * Returns: (transfer full) (nullable): its URL, "http://127.0.0.1:8025/"
 */
char *
farceur_web_server_get_url(FarceurWebServer *server)
{
  g_return_val_if_fail(server != NULL, NULL);
  return g_strdup(server->url);
}

/**
 * farceur_web_server_is_loopback:
 * @server: a listening server
 *
 * Returns: whether only this machine can reach it
 */
gboolean
farceur_web_server_is_loopback(FarceurWebServer *server)
{
  g_return_val_if_fail(server != NULL, FALSE);
  return server->loopback;
}

/**
 * farceur_web_server_get_count:
 * @server: a server
 *
 * Returns: the messages it serves
 */
guint
farceur_web_server_get_count(FarceurWebServer *server)
{
  g_return_val_if_fail(server != NULL, 0);
  return web_store_count(server->store);
}

/**
 * farceur_web_server_get_warnings:
 * @server: a server
 *
 * Returns: (transfer none) (element-type utf8): what could not be read
 */
GPtrArray *
farceur_web_server_get_warnings(FarceurWebServer *server)
{
  g_return_val_if_fail(server != NULL, NULL);
  return web_store_warnings(server->store);
}

/**
 * farceur_web_server_refresh:
 * @server: a server
 *
 * Lists the inputs again now, as a file monitor would shortly after a
 * change; the open pages hear of new messages.  For a caller that just
 * stored one (a mail catcher in the same process).
 */
void
farceur_web_server_refresh(FarceurWebServer *server)
{
  g_return_if_fail(server != NULL);
  web_store_rescan(server->store);
}

/**
 * farceur_web_server_free:
 * @server: (nullable): a server
 *
 * Stops listening, closes the open event streams and frees @server.
 */
void
farceur_web_server_free(FarceurWebServer *server)
{
  if (server == NULL)
    return;
  if (server->soup != NULL) {
    soup_server_disconnect(server->soup);
    g_object_unref(server->soup);
  }
  web_events_free(server->events);
  web_store_free(server->store);
  web_graph_free(server->graph);
  g_ptr_array_unref(server->hosts);
  g_free(server->url);
  g_main_context_unref(server->context);
  g_free(server);
}
