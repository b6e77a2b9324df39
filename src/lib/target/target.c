/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: delivery targets, the generic layer: URL parsing, the backend
 * table, envelope checks, and the asynchronous calls every delivery goes
 * through (a blocking backend completes them at once; target-private.h). */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/input.h>
#include <farceur/init.h>
#include <farceur/json.h>

#include "target-private.h"

/* Every backend, found by URL scheme.  The session backends (smtp, lmtp, exec) live in target-smtp.c. */
static const FarceurTargetBackend *const target_backends[] = {
  &farceur_target_maildir_backend, &farceur_target_mbox_backend, &farceur_target_smtp_backend,
  &farceur_target_lmtp_backend,    &farceur_target_exec_backend,
};

/* Schemes the URL parser knows, with their default TCP port (0: not TCP). */
static const struct {
  const char *scheme;
  guint16 port;
} target_tcp_schemes[] = {
  { "smtp", 25 },
  { "smtp+starttls", 587 },
  { "smtps", 465 },
  { "lmtp", 24 },
};

#define TARGET_URL_HELP                                                                            \
  "expected maildir:DIR, mbox:FILE, smtp://HOST[:PORT], smtp+starttls://HOST[:PORT], "             \
  "smtps://HOST[:PORT], lmtp://HOST[:PORT], lmtp:/SOCKET, exec:COMMAND or HOST:PORT"

static gboolean
target_url_fail(GError **error, const char *url, const char *why)
{
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "delivery target '%s': %s", url, why);
  return FALSE;
}

static guint16
target_default_port(const char *scheme)
{
  for (gsize i = 0; i < G_N_ELEMENTS(target_tcp_schemes); i++)
    if (strcmp(target_tcp_schemes[i].scheme, scheme) == 0)
      return target_tcp_schemes[i].port;
  return 0;
}

/* "HOST:PORT" or "[V6]:PORT" with a numeric port: the short form of smtp:// (data/doc/formats.md, Delivery targets). */
static gboolean
target_is_host_port(const char *url)
{
  const char *colon = strrchr(url, ':');

  if (colon == NULL || colon == url || colon[1] == '\0' || strchr(url, '/') != NULL)
    return FALSE;
  for (const char *p = colon + 1; *p; p++)
    if (!g_ascii_isdigit(*p))
      return FALSE;
  if (url[0] == '[')
    return colon[-1] == ']';
  return memchr(url, ':', colon - url) == NULL; /* a bare IPv6 needs brackets */
}

/* smtp://[USER@]HOST[:PORT][/] through GUri; passwords are refused. */
static gboolean
target_url_parse_tcp(FarceurTargetUrl *out, const char *url, GError **error)
{
  g_autofree char *user = NULL, *password = NULL, *host = NULL, *path = NULL;
  g_autofree char *query = NULL, *fragment = NULL;
  g_autoptr(GError) local = NULL;
  int port = -1;

  if (!g_uri_split_with_user(url, G_URI_FLAGS_HAS_PASSWORD, NULL, &user, &password, NULL, &host,
                             &port, &path, &query, &fragment, &local))
    return target_url_fail(error, url, local->message);
  if (password != NULL)
    return target_url_fail(error, url,
                           "a password does not belong in a URL; use --password-command "
                           "or FARCEUR_PASSWORD");
  if (host == NULL || host[0] == '\0')
    return target_url_fail(error, url, "no host");
  if ((path[0] != '\0' && strcmp(path, "/") != 0) || query != NULL || fragment != NULL)
    return target_url_fail(error, url, "unexpected path, query or fragment");
  if (port == 0)
    return target_url_fail(error, url, "port 0");
  out->user = g_steal_pointer(&user);
  out->host = g_steal_pointer(&host);
  out->port = port > 0 ? (guint16)port : target_default_port(out->scheme);
  return TRUE;
}

static char *
target_expand_home(const char *path)
{
  if (g_str_has_prefix(path, "~/"))
    return g_build_filename(g_get_home_dir(), path + 2, NULL);
  return g_strdup(path);
}

/* Schemes whose rest is a path or command (maildir:, mbox:, exec:, lmtp:/socket). */
static gboolean
target_url_parse_local(FarceurTargetUrl *out, const char *rest, GError **error)
{
  if (rest[0] == '\0')
    return target_url_fail(error, out->url,
                           strcmp(out->scheme, "exec") == 0 ? "empty command" : "empty path");
  if (strcmp(out->scheme, "lmtp") == 0 && rest[0] != '/')
    return target_url_fail(error, out->url, "an LMTP socket path must be absolute");
  if (strcmp(out->scheme, "exec") == 0)
    out->path = g_strdup(rest);
  else
    out->path = target_expand_home(rest);
  return TRUE;
}

static gboolean
target_url_parse_scheme(FarceurTargetUrl *out, const char *url, GError **error)
{
  const char *colon = strchr(url, ':');
  const char *rest;

  if (colon == NULL || colon == url)
    return target_url_fail(error, url, TARGET_URL_HELP);
  out->scheme = g_ascii_strdown(url, colon - url);
  rest = colon + 1;
  if (target_default_port(out->scheme) != 0 && g_str_has_prefix(rest, "//"))
    return target_url_parse_tcp(out, url, error);
  if (strcmp(out->scheme, "maildir") == 0 || strcmp(out->scheme, "mbox") == 0
      || strcmp(out->scheme, "exec") == 0 || strcmp(out->scheme, "lmtp") == 0)
    return target_url_parse_local(out, rest, error);
  return target_url_fail(error, url, TARGET_URL_HELP);
}

/**
 * farceur_target_url_parse:
 * @url: a delivery URL (see target.h)
 * @error: return location for a %FARCEUR_ERROR_USAGE error
 *
 * Returns: (transfer full) (nullable): the parsed URL, or %NULL when it is malformed or
 *   names an unknown scheme
 */
FarceurTargetUrl *
farceur_target_url_parse(const char *url, GError **error)
{
  g_autoptr(FarceurTargetUrl) out = NULL;

  g_return_val_if_fail(url != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  out = g_new0(FarceurTargetUrl, 1);
  out->url = g_strdup(url);
  for (const char *p = url; *p; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f) {
      target_url_fail(error, url, "control character");
      return NULL;
    }
  if (target_is_host_port(url)) {
    g_autofree char *full = g_strconcat("smtp://", url, NULL);
    out->scheme = g_strdup("smtp");
    if (!target_url_parse_tcp(out, full, error))
      return NULL;
    return g_steal_pointer(&out);
  }
  if (!target_url_parse_scheme(out, url, error))
    return NULL;
  return g_steal_pointer(&out);
}

/**
 * farceur_target_url_free:
 * @url: (nullable): a parsed URL
 */
void
farceur_target_url_free(FarceurTargetUrl *url)
{
  if (url == NULL)
    return;
  g_free(url->url);
  g_free(url->scheme);
  g_free(url->path);
  g_free(url->user);
  g_free(url->host);
  g_free(url);
}

/**
 * farceur_target_host_is_loopback:
 * @host: a host name or address literal (IPv6 with or without brackets)
 *
 * Says whether @host certainly means this machine: "localhost" (RFC 6761),
 * 127.0.0.0/8 or ::1.  Names are not resolved: a DNS name that happens to
 * point at 127.0.0.1 is not trusted to keep doing so.
 *
 * Returns: %TRUE for a loopback host
 */
gboolean
farceur_target_host_is_loopback(const char *host)
{
  g_autofree char *bare = NULL;
  g_autoptr(GInetAddress) address = NULL;
  gsize len;

  g_return_val_if_fail(host != NULL, FALSE);

  len = strlen(host);
  if (g_ascii_strcasecmp(host, "localhost") == 0 || g_ascii_strcasecmp(host, "localhost.") == 0)
    return TRUE;
  if (len > 2 && host[0] == '[' && host[len - 1] == ']')
    bare = g_strndup(host + 1, len - 2);
  else
    bare = g_strdup(host);
  address = g_inet_address_new_from_string(bare);
  return address != NULL && g_inet_address_get_is_loopback(address);
}

/**
 * farceur_target_url_is_remote:
 * @url: a parsed URL
 *
 * Returns: %TRUE when @url names a TCP server that is not on a loopback
 *   address.  Files, Unix sockets and exec: commands are local.
 */
gboolean
farceur_target_url_is_remote(const FarceurTargetUrl *url)
{
  g_return_val_if_fail(url != NULL, FALSE);

  return url->host != NULL && !farceur_target_host_is_loopback(url->host);
}

/**
 * farceur_target_url_is_smtp:
 * @url: a parsed URL
 *
 * Returns: %TRUE when delivering to @url speaks SMTP or LMTP (every scheme but
 *   maildir: and mbox:)
 */
gboolean
farceur_target_url_is_smtp(const FarceurTargetUrl *url)
{
  g_return_val_if_fail(url != NULL, FALSE);

  return strcmp(url->scheme, "maildir") != 0 && strcmp(url->scheme, "mbox") != 0;
}

static const FarceurTargetBackend *
target_find_backend(const char *scheme)
{
  for (gsize i = 0; i < G_N_ELEMENTS(target_backends); i++)
    for (const char *const *s = target_backends[i]->schemes; *s; s++)
      if (strcmp(*s, scheme) == 0)
        return target_backends[i];
  return NULL;
}

/**
 * farceur_target_open:
 * @url: a parsed URL
 * @error: return location for an error
 *
 * Opens the target @url names.  Local targets are prepared at once (a
 * Maildir is created, an mbox's folder checked); network targets only
 * record where to connect.
 *
 * Returns: (transfer full) (nullable): the target, or %NULL: %FARCEUR_ERROR_USAGE when
 *   no backend serves the scheme in this build, %FARCEUR_ERROR_CANTCREAT ...
 */
FarceurTarget *
farceur_target_open(const FarceurTargetUrl *url, GError **error)
{
  const FarceurTargetBackend *backend;
  g_autoptr(FarceurTarget) target = NULL;

  g_return_val_if_fail(url != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  backend = target_find_backend(url->scheme);
  farceur_init();
  if (backend == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "delivery target '%s': no %s backend in this build of farceur", url->url,
                url->scheme);
    return NULL;
  }
  target = g_new0(FarceurTarget, 1);
  target->backend = backend;
  target->url = g_new0(FarceurTargetUrl, 1);
  *target->url
      = (FarceurTargetUrl){ g_strdup(url->url),  g_strdup(url->scheme), g_strdup(url->path),
                            g_strdup(url->user), g_strdup(url->host),   url->port };
  if (!backend->open(target, error)) {
    target->closed = TRUE; /* nothing to close; ->finalize still frees ->priv */
    return NULL;
  }
  if (target->description == NULL)
    target->description = g_strdup(url->url);
  return g_steal_pointer(&target);
}

/**
 * farceur_target_new:
 * @url: a delivery URL (see target.h)
 * @error: return location for an error
 *
 * farceur_target_url_parse() then farceur_target_open().
 *
 * Returns: (transfer full) (nullable): the target, or %NULL on error
 */
FarceurTarget *
farceur_target_new(const char *url, GError **error)
{
  g_autoptr(FarceurTargetUrl) parsed = NULL;

  g_return_val_if_fail(url != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  parsed = farceur_target_url_parse(url, error);
  return parsed ? farceur_target_open(parsed, error) : NULL;
}

/* Checks the envelope and strips what must not leave (data/doc/envelope.md, What never leaves). */
static gboolean
target_prepare(const FarceurEnvelope *envelope, GMimeObject *message, GError **error)
{
  if (!farceur_envelope_validate(envelope, error))
    return FALSE;
  farceur_envelope_strip_withheld(message);
  return TRUE;
}

static gboolean
target_check_open(FarceurTarget *target, GError **error)
{
  if (!target->closed)
    return TRUE;
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "delivery target '%s' is closed",
              target->url->url);
  return FALSE;
}

typedef struct {
  FarceurDelivery *delivery;
} TargetAsyncResult;

static void
target_async_result_free(gpointer data)
{
  TargetAsyncResult *r = data;

  farceur_delivery_free(r->delivery);
  g_free(r);
}

static void
target_backend_ready_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  FarceurTarget *target = g_task_get_task_data(task);
  TargetAsyncResult *r = g_new0(TargetAsyncResult, 1);
  GError *error = NULL;
  gboolean ok = target->backend->deliver_finish(target, result, &r->delivery, &error);

  /* The record travels with the task so _finish can hand it over on failure too. */
  g_object_set_data_full(G_OBJECT(task), "farceur-delivery", r, target_async_result_free);
  if (ok)
    g_task_return_boolean(task, TRUE);
  else
    g_task_return_error(task, error);
}

/**
 * farceur_target_deliver_async:
 * @target: an open target
 * @envelope: MAIL FROM and RCPT TO; every address is validated first
 * @message: the message; its Bcc, Resent-Bcc and Return-Path headers are
 *   removed (in place) before it leaves.  A local target (maildir, mbox)
 *   also removes any Envelope-to, Delivered-To and X-Original-To, then
 *   records the envelope itself as "Return-Path:" and "Envelope-to:" lines
 *   at the top of the stored message, as a delivering MTA does
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done, in the thread-default main context of the caller
 * @user_data: for @callback
 *
 * Delivers one message, streamed from @message (never serialised whole in
 * memory); finish with farceur_target_deliver_finish().  A recipient
 * refused by a server is reported in the delivery record while the others
 * still get the message.  Local backends write the file on a worker thread
 * (the caller's main loop goes on; cancelling rolls the write back).
 * @envelope and @message must stay alive until @callback.  There is no
 * blocking call: the batch (batch.h) drives deliveries, for `send` and
 * `prank` alike.
 */
void
farceur_target_deliver_async(FarceurTarget *target, const FarceurEnvelope *envelope,
                             GMimeObject *message, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = NULL;
  TargetAsyncResult *r;
  GError *error = NULL;
  gboolean ok;

  g_return_if_fail(target != NULL);
  g_return_if_fail(envelope != NULL);
  g_return_if_fail(GMIME_IS_OBJECT(message));
  g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

  task = g_task_new(NULL, cancellable, callback, user_data);
  r = g_new0(TargetAsyncResult, 1);
  g_task_set_source_tag(task, farceur_target_deliver_async);
  g_task_set_task_data(task, target, NULL);
  if (!target_check_open(target, &error) || !target_prepare(envelope, message, &error)) {
    g_free(r);
    g_task_return_error(task, error);
    return;
  }
  if (target->backend->deliver_async) {
    g_free(r);
    target->backend->deliver_async(target, envelope, message, cancellable, target_backend_ready_cb,
                                   g_steal_pointer(&task));
    return;
  }
  ok = target->backend->deliver(target, envelope, message, &r->delivery, cancellable, &error);
  g_object_set_data_full(G_OBJECT(task), "farceur-delivery", r, target_async_result_free);
  if (ok)
    g_task_return_boolean(task, TRUE);
  else
    g_task_return_error(task, error);
}

/* A stored message parsed, for a backend that only takes objects. */
static void
target_deliver_parsed_async(FarceurTarget *target, const FarceurEnvelope *envelope,
                            GMimeStream *stream, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GMimeMessage) message = NULL;
  GError *error = NULL;

  if ((message = farceur_input_parse_stream(stream, "message", &error)) == NULL) {
    g_task_report_error(NULL, callback, user_data, farceur_target_deliver_stream_async, error);
    return;
  }
  farceur_target_deliver_async(target, envelope, GMIME_OBJECT(message), cancellable, callback,
                               user_data);
}

/**
 * farceur_target_deliver_stream_async:
 * @target: an open target
 * @envelope: as for farceur_target_deliver_async()
 * @stream: a stored message, read from its start, that already lacks the
 *   headers that must not leave (Bcc, Resent-Bcc, Return-Path): nothing is
 *   removed from it
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done, in the thread-default main context of the caller
 * @user_data: for @callback
 *
 * farceur_target_deliver_async() for a message kept as octets.  A session
 * target (SMTP, LMTP, exec) sends them as they are but for line ends and
 * dot-stuffing (see farceur_smtp_client_send_stream_async()); a local
 * target parses them and stores the message as for an object.  Finish with
 * farceur_target_deliver_finish().
 */
void
farceur_target_deliver_stream_async(FarceurTarget *target, const FarceurEnvelope *envelope,
                                    GMimeStream *stream, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  GTask *task;

  g_return_if_fail(target != NULL);
  g_return_if_fail(envelope != NULL);
  g_return_if_fail(GMIME_IS_STREAM(stream));
  g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

  if (target->backend->deliver_stream_async == NULL) {
    target_deliver_parsed_async(target, envelope, stream, cancellable, callback, user_data);
    return;
  }
  if (!target_check_open(target, &error) || !farceur_envelope_validate(envelope, &error)) {
    g_task_report_error(NULL, callback, user_data, farceur_target_deliver_stream_async, error);
    return;
  }
  task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, farceur_target_deliver_stream_async);
  g_task_set_task_data(task, target, NULL);
  target->backend->deliver_stream_async(target, envelope, stream, cancellable,
                                        target_backend_ready_cb, task);
}

/**
 * farceur_target_deliver_finish:
 * @target: the target
 * @result: the result given to the callback
 * @delivery: (out) (optional) (nullable) (transfer full): per-recipient outcomes
 * @error: return location for an error
 *
 * Returns: %TRUE when at least one recipient accepted the message
 */
gboolean
farceur_target_deliver_finish(FarceurTarget *target, GAsyncResult *result,
                              FarceurDelivery **delivery, GError **error)
{
  TargetAsyncResult *r;

  g_return_val_if_fail(target != NULL, FALSE);
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  r = g_object_get_data(G_OBJECT(result), "farceur-delivery");
  if (delivery) {
    *delivery = r ? g_steal_pointer(&r->delivery) : NULL;
  }
  return g_task_propagate_boolean(G_TASK(result), error);
}

/**
 * farceur_target_close:
 * @target: a target
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Ends the session (QUIT for SMTP) and releases what the target holds.
 * Closing twice is allowed; delivering after close is an error.
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_target_close(FarceurTarget *target, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail(target != NULL, FALSE);
  g_return_val_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (target->closed)
    return TRUE;
  target->closed = TRUE;
  return target->backend->close ? target->backend->close(target, cancellable, error) : TRUE;
}

/**
 * farceur_target_free:
 * @target: (nullable): a target; closed first when it is still open
 */
void
farceur_target_free(FarceurTarget *target)
{
  if (target == NULL)
    return;
  if (target->backend != NULL) {
    if (!target->closed)
      farceur_target_close(target, NULL, NULL);
    if (target->backend->finalize)
      target->backend->finalize(target);
  }
  farceur_target_url_free(target->url);
  g_free(target->description);
  g_free(target);
}

/**
 * farceur_target_describe:
 * @target: a target
 *
 * Returns: (transfer none): a short description for humans, such as
 *   "Maildir outbox" or "SMTP 127.0.0.1:2525"
 */
const char *
farceur_target_describe(const FarceurTarget *target)
{
  g_return_val_if_fail(target != NULL, NULL);

  return target->description;
}

/**
 * farceur_target_get_url:
 * @target: a target
 *
 * Returns: (transfer none): the URL the target was opened from
 */
const FarceurTargetUrl *
farceur_target_get_url(const FarceurTarget *target)
{
  g_return_val_if_fail(target != NULL, NULL);

  return target->url;
}

/**
 * farceur_target_is_remote:
 * @target: a target
 *
 * Returns: %TRUE when the target is a TCP server outside the loopback
 *   network (the check behind prank's --allow-remote safety rail)
 */
gboolean
farceur_target_is_remote(const FarceurTarget *target)
{
  g_return_val_if_fail(target != NULL, FALSE);

  return farceur_target_url_is_remote(target->url);
}
