/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: response bodies that are written as they are read, and the
 * server-sent event streams of the open pages.
 *
 * libsoup 3.2 takes a response body as buffers, not as a stream: a large
 * body (a part, a whole message) is fed to it one chunk at a time.  The
 * body does not accumulate (each chunk is dropped once written) and the next
 * chunk is read when libsoup says the last one went out ("wrote-chunk"), so
 * one chunk is held per download, whatever its size.  The reads are
 * synchronous GMime stream reads of a local file, 64 KiB each: short enough
 * for the main loop.  A part is decoded by GMime's decoder (GMimeEncoding)
 * fed those 64 KiB chunks, as inspect's digests are: GMime's filter streams
 * would read the file 4 KiB at a time.
 */
#include "config.h"

#include <string.h>

#include "gmime-autoptr.h"
#include "web-private.h"

typedef struct {
  SoupServerMessage *msg;
  GMimeStream *stream;
  GMimeEncoding decoder; /* GMime's decoder, fed 64 KiB at a time */
  gboolean decode;
  gboolean done;
} WebStreamBody;

static void
web_stream_body_free(WebStreamBody *body)
{
  g_signal_handlers_disconnect_by_data(body->msg, body);
  g_object_unref(body->msg);
  g_object_unref(body->stream);
  g_free(body);
}

/* Whether @stream was read to its bound: a file that shrank under a
 * download ends its stream early, which a chunked body would otherwise pass
 * off as complete. */
static gboolean
web_stream_whole(GMimeStream *stream)
{
  return stream->bound_end == -1 || g_mime_stream_tell(stream) >= stream->bound_end;
}

/* The headers are out already: the only honest signal left is a body
 * that never completes.  The socket is shut first, so the chunk that ends
 * the body cannot be written: libsoup meets the error and finishes the
 * message, and the client sees the connection close mid-body. */
static void
web_stream_abort(SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket(msg);

  if (socket != NULL)
    g_socket_shutdown(socket, TRUE, TRUE, NULL);
}

/* Appends @in (decoded when the body is encoded; @flush: what the decoder
 * still holds); returns whether anything was appended. */
static gboolean
web_stream_append(WebStreamBody *body, SoupMessageBody *out, const char *in, gsize n,
                  gboolean flush)
{
  char *decoded;
  gsize m;

  if (!body->decode) {
    if (n > 0)
      soup_message_body_append(out, SOUP_MEMORY_COPY, in, n);
    return n > 0;
  }
  decoded = g_malloc(g_mime_encoding_outlen(&body->decoder, n) + 4);
  m = flush ? g_mime_encoding_flush(&body->decoder, in, n, decoded)
            : g_mime_encoding_step(&body->decoder, in, n, decoded);
  if (m == 0) {
    g_free(decoded);
    return FALSE;
  }
  soup_message_body_append_take(out, (guchar *)decoded, m);
  return TRUE;
}

/* Appends the next chunk, or ends the body. */
static void
web_stream_next(WebStreamBody *body)
{
  SoupMessageBody *out = soup_server_message_get_response_body(body->msg);
  g_autofree char *in = g_malloc(WEB_STREAM_CHUNK);
  ssize_t n;

  while (!g_mime_stream_eos(body->stream)
         && (n = g_mime_stream_read(body->stream, in, WEB_STREAM_CHUNK)) > 0)
    if (web_stream_append(body, out, in, (gsize)n, FALSE))
      return;
  body->done = TRUE;
  web_stream_append(body, out, in, 0, TRUE);
  if (!web_stream_whole(body->stream))
    web_stream_abort(body->msg);
  soup_message_body_complete(out);
}

static void
web_stream_wrote_chunk_cb(SoupServerMessage *msg, WebStreamBody *body)
{
  if (!body->done) {
    web_stream_next(body);
    soup_server_message_unpause(msg);
  }
}

static void
web_stream_finished_cb(SoupServerMessage *msg, WebStreamBody *body)
{
  web_stream_body_free(body);
}

/**
 * web_stream_body:
 * @msg: a request answered 200, its headers set but not its length
 * @stream: the body as stored, read from its current position to its bound
 * @encoding: its transfer encoding, decoded on the way (base64,
 *   quoted-printable, x-uuencode); anything else is sent as it is
 * @length: the length of what is sent when known (Content-Length), else -1 (chunked)
 *
 * Streams @stream as the response body of @msg, a chunk at a time.
 */
void
web_stream_body(SoupServerMessage *msg, GMimeStream *stream, GMimeContentEncoding encoding,
                gint64 length)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
  WebStreamBody *body = g_new0(WebStreamBody, 1);

  body->msg = g_object_ref(msg);
  body->stream = g_object_ref(stream);
  body->decode = encoding == GMIME_CONTENT_ENCODING_BASE64
                 || encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
                 || encoding == GMIME_CONTENT_ENCODING_UUENCODE;
  if (body->decode)
    g_mime_encoding_init_decode(&body->decoder, encoding);
  if (length >= 0)
    soup_message_headers_set_content_length(headers, length);
  else
    soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
  soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  g_signal_connect(msg, "wrote-chunk", G_CALLBACK(web_stream_wrote_chunk_cb), body);
  g_signal_connect(msg, "finished", G_CALLBACK(web_stream_finished_cb), body);
  web_stream_next(body);
}

/* ---- server-sent events ---------------------------------------------------- */

struct _WebEvents {
  GPtrArray *clients; /* (element-type SoupServerMessage) open streams */
  GSource *heartbeat;
};

static void
web_events_write(SoupServerMessage *msg, const char *text)
{
  soup_message_body_append(soup_server_message_get_response_body(msg), SOUP_MEMORY_COPY, text,
                           strlen(text));
  soup_server_message_unpause(msg);
}

/* A comment line now and then: a client that went away is only noticed
 * when something is written to it. */
static gboolean
web_events_heartbeat_cb(gpointer data)
{
  WebEvents *events = data;

  for (guint i = events->clients->len; i > 0; i--)
    web_events_write(events->clients->pdata[i - 1], ": ping\n\n");
  return G_SOURCE_CONTINUE;
}

WebEvents *
web_events_new(GMainContext *context, guint heartbeat_s)
{
  WebEvents *events = g_new0(WebEvents, 1);

  events->clients = g_ptr_array_new();
  events->heartbeat = g_timeout_source_new_seconds(heartbeat_s);
  g_source_set_callback(events->heartbeat, web_events_heartbeat_cb, events, NULL);
  g_source_attach(events->heartbeat, context);
  return events;
}

static void
web_events_forget(WebEvents *events, SoupServerMessage *msg)
{
  g_signal_handlers_disconnect_by_data(msg, events);
  g_ptr_array_remove(events->clients, msg);
  g_object_unref(msg);
}

static void
web_events_finished_cb(SoupServerMessage *msg, WebEvents *events)
{
  web_events_forget(events, msg);
}

/* Answers @msg with an event stream that stays open. */
void
web_events_add(WebEvents *events, SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);

  soup_message_headers_set_content_type(headers, "text/event-stream", NULL);
  soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
  soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  g_ptr_array_add(events->clients, g_object_ref(msg));
  g_signal_connect(msg, "finished", G_CALLBACK(web_events_finished_cb), events);
  web_events_write(msg, "retry: 2000\n\n");
}

/* @data is one line of JSON written by the caller (no line break). */
void
web_events_send(WebEvents *events, const char *event, const char *data)
{
  g_autofree char *text = g_strdup_printf("event: %s\ndata: %s\n\n", event, data);

  for (guint i = events->clients->len; i > 0; i--)
    web_events_write(events->clients->pdata[i - 1], text);
}

guint
web_events_count(WebEvents *events)
{
  return events->clients->len;
}

/* libsoup does not finish a paused message when its server goes: the
 * streams still open are let go here. */
void
web_events_free(WebEvents *events)
{
  if (events == NULL)
    return;
  while (events->clients->len > 0)
    web_events_forget(events, events->clients->pdata[events->clients->len - 1]);
  g_ptr_array_unref(events->clients);
  g_source_destroy(events->heartbeat);
  g_source_unref(events->heartbeat);
  g_free(events);
}
