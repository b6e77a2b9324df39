/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* See scripted-server.h.  The session runs in a worker thread with blocking
 * I/O: a script is easier to read as straight-line code, and the client
 * under test runs on the test's main context, as in real use. */
#include <string.h>

#include "scripted-server.h"

struct _ScriptedServer {
  GSocketService *service;
  guint16 port;
  const ScriptedStep *steps;
  gsize n_steps;
  GMainContext *context;
  GMutex lock;
  GString *transcript; /* under lock */
  GPtrArray *messages; /* GBytes, under lock */
  gint done;           /* atomic */
};

typedef struct {
  ScriptedServer *server;
  GSocketConnection *conn;
  GByteArray *buf;
  gboolean eof;
} ScriptedSession;

static void scripted_log(ScriptedServer *server, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
scripted_log(ScriptedServer *server, const char *fmt, ...)
{
  va_list args;

  va_start(args, fmt);
  g_mutex_lock(&server->lock);
  g_string_append_vprintf(server->transcript, fmt, args);
  g_string_append_c(server->transcript, '\n');
  g_mutex_unlock(&server->lock);
  va_end(args);
}

/* Read more bytes; FALSE at end of stream or on error (timeouts included). */
static gboolean
scripted_fill(ScriptedSession *s)
{
  guint8 chunk[65536];
  gssize n = g_input_stream_read(g_io_stream_get_input_stream(G_IO_STREAM(s->conn)), chunk,
                                 sizeof chunk, NULL, NULL);

  if (n <= 0) {
    s->eof = TRUE;
    return FALSE;
  }
  g_byte_array_append(s->buf, chunk, (guint)n);
  return TRUE;
}

static guint8 *
scripted_find_lf(GByteArray *buf)
{
  return buf->len > 0 ? memchr(buf->data, '\n', buf->len) : NULL;
}

/* One command line; logs it. */
static gboolean
scripted_read_line(ScriptedSession *s)
{
  gboolean buffered = scripted_find_lf(s->buf) != NULL;
  guint8 *lf;
  gsize len;
  g_autofree char *line = NULL;

  while ((lf = scripted_find_lf(s->buf)) == NULL)
    if (!scripted_fill(s))
      return FALSE;
  len = (gsize)(lf - s->buf->data);
  gboolean crlf = len > 0 && s->buf->data[len - 1] == '\r';
  line = g_strndup((const char *)s->buf->data, crlf ? len - 1 : len);
  g_byte_array_remove_range(s->buf, 0, (guint)len + 1);
  scripted_log(s->server, "%s %s%s", buffered ? "C+" : "C:", line, crlf ? "" : " [bare LF]");
  return TRUE;
}

/* The message after a 354, up to and without its ".\r\n" line. */
static gboolean
scripted_read_data(ScriptedSession *s, gsize drop_after)
{
  for (;;) {
    const char *p = (const char *)s->buf->data;
    const char *end = s->buf->len >= 3 && memcmp(p, ".\r\n", 3) == 0 ? p
                      : s->buf->len > 0 ? g_strstr_len(p, s->buf->len, "\r\n.\r\n")
                                        : NULL;

    if (end != NULL) {
      gsize len = end == p ? 0 : (gsize)(end - p) + 2;

      g_mutex_lock(&s->server->lock);
      g_ptr_array_add(s->server->messages, g_bytes_new(p, len));
      g_mutex_unlock(&s->server->lock);
      g_byte_array_remove_range(s->buf, 0, (guint)(len + 3));
      scripted_log(s->server, "C: <data>");
      return TRUE;
    }
    if (drop_after && s->buf->len >= drop_after) {
      scripted_log(s->server, "[dropped in data]");
      return FALSE;
    }
    if (!scripted_fill(s))
      return FALSE;
  }
}

static void
scripted_check_idle(ScriptedSession *s)
{
  GSocket *socket = g_socket_connection_get_socket(s->conn);

  g_usleep(300 * 1000);
  if (s->buf->len > 0 || g_socket_condition_check(socket, G_IO_IN) != 0)
    scripted_log(s->server, "[early data]");
}

static void
scripted_send(ScriptedSession *s, const char *reply)
{
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(s->conn));

  if (reply != NULL)
    g_output_stream_write_all(out, reply, strlen(reply), NULL, NULL, NULL);
}

static void
scripted_drain(ScriptedSession *s)
{
  g_socket_set_timeout(g_socket_connection_get_socket(s->conn), 2);
  while (!s->eof && scripted_read_line(s))
    ;
}

static void
scripted_play(ScriptedSession *s)
{
  gboolean in_data = FALSE;
  gsize drop = 0;

  for (gsize i = 0; i < s->server->n_steps; i++) {
    const ScriptedStep *step = &s->server->steps[i];

    if (i > 0 && !(in_data ? scripted_read_data(s, drop) : scripted_read_line(s)))
      return;
    if (step->flags & SCRIPTED_HANG) {
      scripted_drain(s);
      return;
    }
    if (step->flags & SCRIPTED_CHECK_IDLE)
      scripted_check_idle(s);
    scripted_send(s, step->reply);
    if (step->flags & SCRIPTED_CLOSE)
      return;
    in_data = step->reply != NULL && g_str_has_prefix(step->reply, "354");
    drop = (step->flags & SCRIPTED_DROP_IN_DATA) ? 65536 : 0;
  }
  if (in_data && !scripted_read_data(s, drop))
    return;
  scripted_drain(s); /* anything the client sends past the script is logged */
}

static gboolean
scripted_run_cb(GThreadedSocketService *service, GSocketConnection *conn, GObject *source,
                gpointer data)
{
  ScriptedSession s = { data, conn, g_byte_array_new(), FALSE };

  scripted_play(&s);
  g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
  g_byte_array_unref(s.buf);
  g_atomic_int_set(&s.server->done, 1);
  g_main_context_wakeup(s.server->context);
  return TRUE;
}

ScriptedServer *
scripted_server_new(const ScriptedStep *steps, gsize n_steps)
{
  ScriptedServer *server = g_new0(ScriptedServer, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  server->steps = steps;
  server->n_steps = n_steps;
  server->context = g_main_context_ref_thread_default();
  g_mutex_init(&server->lock);
  server->transcript = g_string_new(NULL);
  server->messages = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  server->service = g_threaded_socket_service_new(2);
  g_socket_listener_add_address(G_SOCKET_LISTENER(server->service), address, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  server->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_signal_connect(server->service, "run", G_CALLBACK(scripted_run_cb), server);
  g_socket_service_start(server->service);
  return server;
}

guint16
scripted_server_get_port(ScriptedServer *server)
{
  return server->port;
}

/* Returns: (transfer full): 127.0.0.1:port */
GSocketConnectable *
scripted_server_get_address(ScriptedServer *server)
{
  return g_network_address_new("127.0.0.1", server->port);
}

/* Iterate the main context until the session is over; the transcript. */
const char *
scripted_server_wait(ScriptedServer *server)
{
  while (!g_atomic_int_get(&server->done))
    g_main_context_iteration(server->context, TRUE);
  return server->transcript->str;
}

GBytes *
scripted_server_get_message(ScriptedServer *server, guint index)
{
  return index < server->messages->len ? server->messages->pdata[index] : NULL;
}

guint
scripted_server_get_n_messages(ScriptedServer *server)
{
  return server->messages->len;
}

void
scripted_server_free(ScriptedServer *server)
{
  g_socket_service_stop(server->service);
  g_socket_listener_close(G_SOCKET_LISTENER(server->service));
  g_object_unref(server->service);
  g_main_context_unref(server->context);
  g_string_free(server->transcript, TRUE);
  g_ptr_array_unref(server->messages);
  g_mutex_clear(&server->lock);
  g_free(server);
}

/* RFC 5321 4.5.2, server side: remove the dot added before lines that
 * begin with one.  For comparing what arrived with what was meant. */
GBytes *
scripted_server_unstuff(GBytes *wire)
{
  gsize len;
  const char *p = g_bytes_get_data(wire, &len);
  GByteArray *out = g_byte_array_sized_new((guint)len);
  gboolean bol = TRUE;

  for (gsize i = 0; i < len; i++) {
    if (!(bol && p[i] == '.'))
      g_byte_array_append(out, (const guint8 *)p + i, 1);
    bol = p[i] == '\n';
  }
  return g_byte_array_free_to_bytes(out);
}
