/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: the server (FarceurCatchServer).  It holds the
 * configuration (the store, the certificate, the users, the rules and
 * their seeded GRand), listens through one GSocketService on every address
 * asked for, and keeps the set of sessions: one thread, asynchronous GIO,
 * many sessions at once on the caller's GMainContext.  Stopping lets the
 * transactions in flight finish (the others get 421), for at most
 * CATCH_STOP_GRACE_MS. */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include <farceur/init.h>

#include "catch-private.h"

#define CATCH_STOP_GRACE_MS (30 * 1000)
#define CATCH_BACKLOG 256

void
farceur_catch_options_init(FarceurCatchOptions *options)
{
  g_return_if_fail(options != NULL);
  memset(options, 0, sizeof *options);
}

/* --- configuration --------------------------------------------------------- */

static gboolean
catch_listen_fail(GError **error, const char *spec, const char *why)
{
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "bad --listen '%s': %s", spec, why);
  return FALSE;
}

/* "ADDR:PORT", "[V6]:PORT", "smtp://...", "smtps://..." (and "lmtp://" for
 * an LMTP server); ADDR an IP or "localhost"; names are not resolved. */
static gboolean
catch_listen_parse(FarceurCatchServer *server, const char *spec, GError **error)
{
  g_autofree char *full = strstr(spec, "://") ? g_strdup(spec) : g_strconcat("smtp://", spec, NULL);
  g_autofree char *scheme = NULL, *host = NULL;
  g_autoptr(GInetAddress) address = NULL;
  gint port = -1;
  CatchListener *listener;

  if (!g_uri_split_network(full, G_URI_FLAGS_NONE, &scheme, &host, &port, NULL))
    return catch_listen_fail(error, spec, "expected ADDR:PORT, [IPV6]:PORT or smtps://ADDR:PORT");
  if (g_strcmp0(scheme, "smtp") != 0 && g_strcmp0(scheme, "smtps") != 0
      && !(server->lmtp && g_strcmp0(scheme, "lmtp") == 0))
    return catch_listen_fail(error, spec,
                             "the scheme may be smtp:// or smtps:// (lmtp:// with --lmtp)");
  if (port < 0)
    return catch_listen_fail(error, spec, "no port");
  address = g_ascii_strcasecmp(host, "localhost") == 0
                ? g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4)
                : g_inet_address_new_from_string(host);
  if (address == NULL)
    return catch_listen_fail(error, spec, "the address must be an IP address or localhost");
  listener = g_new0(CatchListener, 1);
  listener->address = g_inet_socket_address_new(address, (guint16)port);
  listener->implicit_tls = g_strcmp0(scheme, "smtps") == 0;
  g_ptr_array_add(server->listeners, listener);
  return TRUE;
}

static void
catch_listener_free(gpointer data)
{
  CatchListener *listener = data;

  g_object_unref(listener->address);
  g_free(listener);
}

static gboolean
catch_open_store(FarceurCatchServer *server, const char *store, GError **error)
{
  g_autoptr(FarceurTargetUrl) url = farceur_target_url_parse(store, error);

  if (url == NULL)
    return FALSE;
  if (farceur_target_url_is_smtp(url)) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "catch stores into maildir:DIR or mbox:FILE, not '%s': it never relays", store);
    return FALSE;
  }
  server->target = farceur_target_open(url, error);
  return server->target != NULL;
}

static gboolean
catch_open_tls(FarceurCatchServer *server, const FarceurCatchOptions *options, GError **error)
{
  if (options->tls_key != NULL && options->tls_cert == NULL) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "--tls-key needs --tls-cert");
    return FALSE;
  }
  server->self_signed = options->tls_cert == NULL;
  server->certificate = options->tls_cert
                            ? catch_tls_load(options->tls_cert, options->tls_key, error)
                            : catch_tls_self_signed(server->hostname, error);
  if (server->certificate == NULL)
    return FALSE;
  server->fingerprint = catch_tls_fingerprint(server->certificate);
  return TRUE;
}

static gboolean
catch_configure(FarceurCatchServer *server, const FarceurCatchOptions *options, GError **error)
{
  static const char *const default_listen[] = { FARCEUR_CATCH_DEFAULT_LISTEN, NULL };
  const char *const *listen
      = options->listen && options->listen[0] ? options->listen : default_listen;

  if (!catch_command_helo_is_valid(server->hostname)) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "bad host name '%s': a domain or an [address] is needed", server->hostname);
    return FALSE;
  }
  if (server->line_limit < 80 || server->line_limit > 65536) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                        "the line limit must be from 80 to 65536 octets");
    return FALSE;
  }
  for (guint i = 0; listen[i] != NULL; i++)
    if (!catch_listen_parse(server, listen[i], error))
      return FALSE;
  if (options->users_file != NULL
      && (server->users = catch_users_load(options->users_file, error)) == NULL)
    return FALSE;
  return catch_open_store(server, options->store ? options->store : FARCEUR_CATCH_DEFAULT_STORE,
                          error)
         && catch_open_tls(server, options, error);
}

/* --- listening ---------------------------------------------------------------- */

static char *
catch_address_url(GSocketAddress *address, gboolean implicit_tls, gboolean lmtp)
{
  GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS(address);
  GInetAddress *ip = g_inet_socket_address_get_address(inet);
  g_autofree char *text = g_inet_address_to_string(ip);
  gboolean v6 = g_inet_address_get_family(ip) == G_SOCKET_FAMILY_IPV6;

  return g_strdup_printf("%s://%s%s%s:%u",
                         implicit_tls ? "smtps"
                         : lmtp       ? "lmtp"
                                      : "smtp",
                         v6 ? "[" : "", text, v6 ? "]" : "", g_inet_socket_address_get_port(inet));
}

/* Binds every listener now, so that a port in use is an error of
 * farceur_catch_server_new(); accepting starts with farceur_catch_server_start(). */
static gboolean
catch_bind(FarceurCatchServer *server, GError **error)
{
  server->service = g_socket_service_new();
  g_socket_service_stop(server->service);
  /* GIO's default backlog of 10 drops the SYNs of a burst of clients, who
   * then wait seconds to try again */
  g_socket_listener_set_backlog(G_SOCKET_LISTENER(server->service), CATCH_BACKLOG);
  for (guint i = 0; i < server->listeners->len; i++) {
    CatchListener *listener = server->listeners->pdata[i];
    g_autoptr(GSocketAddress) effective = NULL;
    g_autoptr(GError) local = NULL;

    if (!g_socket_listener_add_address(G_SOCKET_LISTENER(server->service), listener->address,
                                       G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                       listener->implicit_tls ? G_OBJECT(server->service) : NULL,
                                       &effective, &local)) {
      g_autofree char *url
          = catch_address_url(listener->address, listener->implicit_tls, server->lmtp);
      g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_UNAVAILABLE, "cannot listen on %s: %s", url,
                  local->message);
      return FALSE;
    }
    g_ptr_array_add(server->addresses,
                    catch_address_url(effective, listener->implicit_tls, server->lmtp));
  }
  return TRUE;
}

/**
 * farceur_catch_server_new:
 * @options: what to serve (#FarceurCatchOptions)
 * @error: return location for an error: %FARCEUR_ERROR_USAGE for a bad
 *   option, %FARCEUR_ERROR_CANTCREAT when the store cannot be made,
 *   %FARCEUR_ERROR_CONFIG for a bad certificate or users file,
 *   %FARCEUR_ERROR_UNAVAILABLE when an address cannot be listened on
 *
 * Opens the store, loads or makes the certificate, reads the users and
 * binds every address; nothing is accepted before
 * farceur_catch_server_start().
 *
 * Returns: (transfer full): the server, or %NULL
 */
FarceurCatchServer *
farceur_catch_server_new(const FarceurCatchOptions *options, GError **error)
{
  g_autoptr(FarceurCatchServer) server = NULL;

  g_return_val_if_fail(options != NULL, NULL);
  farceur_init();
  server = g_new0(FarceurCatchServer, 1);
  server->hostname = g_strdup(options->hostname ? options->hostname : g_get_host_name());
  server->lmtp = options->lmtp;
  server->no_ehlo = options->no_ehlo;
  server->max_size = options->max_size ? options->max_size : FARCEUR_CATCH_DEFAULT_MAX_SIZE;
  server->max_connections
      = options->max_connections ? options->max_connections : FARCEUR_CATCH_DEFAULT_MAX_CONNECTIONS;
  server->line_limit = options->line_limit ? options->line_limit : FARCEUR_CATCH_DEFAULT_LINE_LIMIT;
  server->timeout_ms = options->timeout_ms;
  server->exit_after = options->exit_after;
  server->rules = options->rules ? g_ptr_array_ref(options->rules) : NULL;
  server->rand = g_rand_new_with_seed(options->seed);
  server->callbacks = *options;
  server->listeners = g_ptr_array_new_with_free_func(catch_listener_free);
  server->addresses = g_ptr_array_new_with_free_func(g_free);
  server->sessions = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)catch_session_unref);
  server->id_base = g_get_real_time();
  server->stopped = TRUE; /* until started */
  if (!catch_configure(server, options, error) || !catch_bind(server, error))
    return NULL;
  return g_steal_pointer(&server);
}

/* --- sessions ------------------------------------------------------------------- */

static void
catch_server_check_stopped(FarceurCatchServer *server)
{
  if (!server->stopping || server->stopped || g_hash_table_size(server->sessions) > 0)
    return;
  server->stopped = TRUE;
  if (server->grace != NULL) {
    g_source_destroy(server->grace);
    g_clear_pointer(&server->grace, g_source_unref);
  }
  if (server->callbacks.stopped_func != NULL)
    server->callbacks.stopped_func(server->callbacks.stopped_data);
}

static void
catch_server_closed(CatchSession *session)
{
  FarceurCatchServer *server = session->server;

  g_hash_table_remove(server->sessions, session);
  catch_server_check_stopped(server);
}

static void
catch_server_stored(FarceurCatchServer *server, const FarceurCatchMessage *message)
{
  server->stored++;
  if (server->callbacks.message_func != NULL)
    server->callbacks.message_func(message, server->callbacks.message_data);
  if (server->exit_after != 0 && server->stored >= server->exit_after)
    farceur_catch_server_stop(server, FALSE);
}

static gboolean
catch_server_incoming(GSocketService *service, GSocketConnection *connection,
                      GObject *source_object, gpointer user_data)
{
  FarceurCatchServer *server = user_data;
  CatchSession *session = catch_io_session_new(server, connection, source_object != NULL);

  g_hash_table_add(server->sessions, session);
  if (g_hash_table_size(server->sessions) > server->max_connections || server->stopping) {
    catch_io_transcript(session, "* connection from %s port %u refused: %s", session->client_ip,
                        session->client_port,
                        server->stopping ? "shutting down" : "too many connections");
    catch_io_reply(session, 421, "4.7.0", "%s Error: %s", server->hostname,
                   server->stopping ? "shutting down" : "too many connections, try again later");
    catch_io_close(session);
    return TRUE;
  }
  catch_io_start(session);
  return TRUE;
}

/**
 * farceur_catch_server_start:
 * @server: a server from farceur_catch_server_new()
 * @context: (nullable): the main context its sessions run on; %NULL: the
 *   thread-default one.  It must be the thread-default context of the
 *   thread that iterates it (g_main_context_push_thread_default()), as GIO
 *   wants for the callbacks of its asynchronous calls.
 * @error: return location for an error
 *
 * Starts accepting connections.  This is the hook for running catch beside
 * something else on the same loop (a web view).
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_catch_server_start(FarceurCatchServer *server, GMainContext *context, GError **error)
{
  g_return_val_if_fail(server != NULL && server->context == NULL, FALSE);
  server->context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
  catch_session_register(&server->handlers);
  catch_auth_register(&server->handlers);
  catch_tx_register(&server->handlers);
  server->handlers.stored = catch_server_stored;
  server->handlers.closed = catch_server_closed;
  server->stopped = FALSE;
  g_signal_connect(server->service, "incoming", G_CALLBACK(catch_server_incoming), server);
  g_main_context_push_thread_default(server->context);
  g_socket_service_start(server->service);
  g_main_context_pop_thread_default(server->context);
  return TRUE;
}

static gboolean
catch_server_grace_cb(gpointer data)
{
  FarceurCatchServer *server = data;

  g_clear_pointer(&server->grace, g_source_unref);
  farceur_catch_server_stop(server, TRUE);
  return G_SOURCE_REMOVE;
}

/**
 * farceur_catch_server_stop:
 * @server: a started server
 * @now: close every session at once (421); else let the transactions in
 *   flight finish (for 30 s at most) and close the others (421)
 *
 * Stops accepting connections.  Once every session is over,
 * farceur_catch_server_is_stopped() says so and the stopped callback runs.
 * May be called again with @now.
 */
void
farceur_catch_server_stop(FarceurCatchServer *server, gboolean now)
{
  g_autoptr(GList) sessions = NULL;

  g_return_if_fail(server != NULL);
  if (server->context == NULL || server->stopped)
    return;
  if (!server->stopping) {
    server->stopping = TRUE;
    g_socket_service_stop(server->service);
    g_socket_listener_close(G_SOCKET_LISTENER(server->service));
    server->grace = g_timeout_source_new(CATCH_STOP_GRACE_MS);
    g_source_set_callback(server->grace, catch_server_grace_cb, server, NULL);
    g_source_attach(server->grace, server->context);
  }
  sessions = g_hash_table_get_keys(server->sessions);
  for (GList *l = sessions; l != NULL; l = l->next) {
    CatchSession *session = catch_session_ref(l->data);
    if (now && session->state < CATCH_STATE_CLOSING) {
      catch_io_reply(session, 421, "4.3.2", "%s Service shutting down now", server->hostname);
      catch_io_close(session);
    } else {
      catch_io_shutdown(session);
    }
    catch_session_unref(session);
  }
  catch_server_check_stopped(server);
}

/**
 * farceur_catch_server_is_stopped:
 * @server: a server
 *
 * Returns: %TRUE when the server is not running: never started, or stopped
 *   with every session over
 */
gboolean
farceur_catch_server_is_stopped(const FarceurCatchServer *server)
{
  g_return_val_if_fail(server != NULL, TRUE);
  return server->stopped;
}

/**
 * farceur_catch_server_get_addresses:
 * @server: a server
 *
 * Returns: (transfer none) (element-type utf8): where it listens, as
 *   "smtp://127.0.0.1:2525" (a port 0 asked for shows the one given)
 */
GPtrArray *
farceur_catch_server_get_addresses(const FarceurCatchServer *server)
{
  g_return_val_if_fail(server != NULL, NULL);
  return server->addresses;
}

/**
 * farceur_catch_server_describe_store:
 * @server: a server
 *
 * Returns: (transfer none): where messages go, "Maildir caught"
 */
const char *
farceur_catch_server_describe_store(const FarceurCatchServer *server)
{
  g_return_val_if_fail(server != NULL, NULL);
  return farceur_target_describe(server->target);
}

/**
 * farceur_catch_server_get_fingerprint:
 * @server: a server
 *
 * Returns: (transfer none): the SHA-256 fingerprint of its certificate, "AB:CD:..."
 */
const char *
farceur_catch_server_get_fingerprint(const FarceurCatchServer *server)
{
  g_return_val_if_fail(server != NULL, NULL);
  return server->fingerprint;
}

/**
 * farceur_catch_server_is_self_signed:
 * @server: a server
 *
 * Returns: %TRUE when its certificate was made at start
 */
gboolean
farceur_catch_server_is_self_signed(const FarceurCatchServer *server)
{
  g_return_val_if_fail(server != NULL, FALSE);
  return server->self_signed;
}

/**
 * farceur_catch_server_get_stored:
 * @server: a server
 *
 * Returns: how many messages it stored
 */
guint
farceur_catch_server_get_stored(const FarceurCatchServer *server)
{
  g_return_val_if_fail(server != NULL, 0);
  return server->stored;
}

/**
 * farceur_catch_server_free:
 * @server: (nullable): a server, never started or stopped
 */
void
farceur_catch_server_free(FarceurCatchServer *server)
{
  if (server == NULL)
    return;
  g_return_if_fail(server->stopped && g_hash_table_size(server->sessions) == 0);
  if (server->service != NULL) {
    g_socket_service_stop(server->service);
    g_socket_listener_close(G_SOCKET_LISTENER(server->service));
    g_object_unref(server->service);
  }
  g_hash_table_unref(server->sessions);
  farceur_target_free(server->target);
  g_clear_object(&server->certificate);
  g_clear_pointer(&server->rules, g_ptr_array_unref);
  g_rand_free(server->rand);
  catch_users_free(server->users);
  g_ptr_array_unref(server->listeners);
  g_ptr_array_unref(server->addresses);
  g_clear_pointer(&server->context, g_main_context_unref);
  g_free(server->fingerprint);
  g_free(server->hostname);
  g_free(server);
}
