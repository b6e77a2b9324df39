/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the session targets: SMTP (smtp:, smtp+starttls:, smtps:, bare
 * HOST:PORT), LMTP (lmtp://HOST:PORT, lmtp:/socket) and exec:COMMAND (SMTP
 * on a subprocess's stdin/stdout, like `sendmail -bs`).
 *
 * One target is one session at a time: a FarceurSmtpClient made on the
 * first delivery and reused for the following ones.  Sessions recover
 * (data/doc/smtp.md, Sessions): when the server ends the session (421 at
 * any point, a per-session limit such as "452 4.5.3" to MAIL, the
 * connection dropped before the transaction's DATA was answered) the
 * message goes again on a fresh session, at most TARGET_SMTP_MAX_RESUMES
 * times, after a doubling back-off when the server closed on us; the batch
 * above never sees that attempt.  --max-per-session N ends each session
 * with QUIT after N transactions, for servers that limit silently.
 */
#include "config.h"

#include <string.h>

#include <gio/gunixsocketaddress.h>

#include <farceur/error.h>
#include <farceur/smtp-client.h>
#include <farceur/target-smtp.h>

#include "target-private.h"

/* How often one message may move to a new session, and the back-off before
 * a session that follows one the server closed (doubling, capped). */
#define TARGET_SMTP_MAX_RESUMES 5
#define TARGET_SMTP_BACKOFF_MS 250
#define TARGET_SMTP_BACKOFF_MAX_MS 8000

typedef enum {
  TARGET_SMTP_TCP,
  TARGET_SMTP_UNIX,
  TARGET_SMTP_EXEC,
} TargetSmtpTransport;

/* Why a transaction's session ended under it, so it goes again on a new one. */
typedef enum {
  TARGET_SMTP_KEEP,   /* the result stands */
  TARGET_SMTP_ROTATE, /* the session is spent (a per-session limit, an idle close) */
  TARGET_SMTP_CLOSED, /* the server closed it (421, a dropped connection): back off */
} TargetSmtpResume;

typedef struct {
  FarceurTarget *target;
  TargetSmtpTransport transport;
  FarceurSmtpSecurity security;
  gboolean lmtp;
  FarceurSmtpClient *client; /* NULL before the first delivery and after a lost connection */
  GSubprocess *subprocess;   /* exec: */
  gboolean connecting;       /* client is connecting; sends wait in @waiting */
  GPtrArray *quitting;       /* clients with QUIT queued behind their last deliveries */
  gboolean quit_asked;       /* QUIT is queued on @client itself */
  guint on_client;           /* transactions handed to @client */
  guint closed_in_row;       /* sessions the server closed on us since a delivery */
  gint64 not_before;         /* no new session before (monotonic time) */
  GSource *backoff;          /* waits until @not_before to connect */
  gboolean quit_ok;
  gboolean quit_when_connected; /* farceur_target_hint_last() came while connecting */
  GError *quit_error;
  GQueue waiting; /* (element-type GTask) deliveries waiting for the connection */

  char *helo, *user, *password, *auth_mechanism, *tls_ca_file;
  gboolean tls_insecure, allow_plaintext_auth, no_pipelining;
  guint timeout_ms;
  guint max_per_session;
  FarceurTranscriptFunc transcript;
  gpointer transcript_data;
  FarceurTranscriptFunc notice;
  gpointer notice_data;

  FarceurTargetCommitFunc commit;
  gpointer commit_data;
} TargetSmtp;

typedef struct {
  FarceurTarget *target;
  FarceurEnvelope *envelope;
  GMimeObject *message; /* or */
  GMimeStream *stream;
  FarceurDelivery *delivery;
  FarceurSmtpClient *client;      /* the session it was handed to */
  FarceurTargetCommitFunc commit; /* as set when the delivery was asked for */
  gpointer commit_data;
  guint resumed;  /* times it moved to a new session */
  guint n_before; /* transactions its session had been given before it */
} TargetSmtpSend;

static void
target_smtp_send_free(gpointer data)
{
  TargetSmtpSend *send = data;

  farceur_envelope_free(send->envelope);
  g_clear_object(&send->message);
  g_clear_object(&send->stream);
  g_clear_object(&send->client);
  farceur_delivery_free(send->delivery);
  g_free(send);
}

static TargetSmtp *
target_smtp_get(const FarceurTarget *target)
{
  return target->priv;
}

/* ---- open, options ---- */

static char *
target_smtp_describe(const FarceurTargetUrl *url, gboolean lmtp)
{
  const char *proto = lmtp ? "LMTP" : "SMTP";

  if (strcmp(url->scheme, "exec") == 0)
    return g_strdup_printf("SMTP via '%s'", url->path);
  if (url->host == NULL)
    return g_strdup_printf("%s %s", proto, url->path);
  if (strchr(url->host, ':') != NULL)
    return g_strdup_printf("%s [%s]:%u", proto, url->host, url->port);
  return g_strdup_printf("%s %s:%u", proto, url->host, url->port);
}

static gboolean
target_smtp_open(FarceurTarget *target, GError **error)
{
  const char *scheme = target->url->scheme;
  TargetSmtp *smtp = g_new0(TargetSmtp, 1);

  target->priv = smtp;
  smtp->target = target;
  smtp->quitting = g_ptr_array_new_with_free_func(g_object_unref);
  smtp->lmtp = strcmp(scheme, "lmtp") == 0;
  if (strcmp(scheme, "exec") == 0)
    smtp->transport = TARGET_SMTP_EXEC;
  else if (target->url->host == NULL)
    smtp->transport = TARGET_SMTP_UNIX;
  if (strcmp(scheme, "smtp+starttls") == 0)
    smtp->security = FARCEUR_SMTP_SECURITY_STARTTLS;
  else if (strcmp(scheme, "smtps") == 0)
    smtp->security = FARCEUR_SMTP_SECURITY_TLS;
  else if (smtp->transport != TARGET_SMTP_TCP)
    smtp->security = FARCEUR_SMTP_SECURITY_NONE; /* a socket or a pipe: nothing to protect */
  else
    smtp->security = FARCEUR_SMTP_SECURITY_OPPORTUNISTIC;
  smtp->user = g_strdup(target->url->user);
  target->description = target_smtp_describe(target->url, smtp->lmtp);
  return TRUE;
}

static gboolean
target_smtp_is_ours(const FarceurTarget *target)
{
  return target->backend == &farceur_target_smtp_backend
         || target->backend == &farceur_target_lmtp_backend
         || target->backend == &farceur_target_exec_backend;
}

/**
 * farceur_target_is_session:
 * @target: a target
 *
 * Returns: %TRUE when @target speaks SMTP or LMTP (several of them may run
 *   side by side); %FALSE for a Maildir or an mbox
 */
gboolean
farceur_target_is_session(const FarceurTarget *target)
{
  g_return_val_if_fail(target != NULL, FALSE);

  return target_smtp_is_ours(target);
}

static void
target_smtp_replace(char **field, const char *value)
{
  g_free(*field);
  *field = g_strdup(value);
}

/* A password is overwritten before its memory goes back to the allocator. */
static void
target_smtp_wipe_password(TargetSmtp *smtp)
{
  if (smtp->password != NULL)
    memset(smtp->password, 0, strlen(smtp->password));
  g_clear_pointer(&smtp->password, g_free);
}

/**
 * farceur_target_set_smtp_options:
 * @target: a target, before its first delivery
 * @options: the session settings; copied
 * @error: return location for a %FARCEUR_ERROR_CONFIG error
 *
 * Configures a session target; does nothing for a local one.
 *
 * Returns: %FALSE when an option cannot work (an unreadable CA file)
 */
gboolean
farceur_target_set_smtp_options(FarceurTarget *target, const FarceurSmtpOptions *options,
                                GError **error)
{
  TargetSmtp *smtp;

  g_return_val_if_fail(target != NULL, FALSE);
  g_return_val_if_fail(options != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (!target_smtp_is_ours(target))
    return TRUE;
  smtp = target_smtp_get(target);
  target_smtp_replace(&smtp->helo, options->helo);
  if (smtp->user == NULL || options->user != NULL)
    target_smtp_replace(&smtp->user, options->user ? options->user : target->url->user);
  target_smtp_wipe_password(smtp);
  smtp->password = g_strdup(options->password);
  target_smtp_replace(&smtp->auth_mechanism, options->auth_mechanism);
  target_smtp_replace(&smtp->tls_ca_file, options->tls_ca_file);
  smtp->tls_insecure = options->tls_insecure;
  smtp->allow_plaintext_auth = options->allow_plaintext_auth;
  smtp->no_pipelining = options->no_pipelining;
  smtp->timeout_ms = options->timeout_ms;
  smtp->max_per_session = options->max_per_session;
  smtp->transcript = options->transcript;
  smtp->transcript_data = options->transcript_data;
  smtp->notice = options->notice;
  smtp->notice_data = options->notice_data;
  if (smtp->tls_ca_file != NULL && !g_file_test(smtp->tls_ca_file, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CONFIG, "tls ca file '%s': not found",
                smtp->tls_ca_file);
    return FALSE;
  }
  return TRUE;
}

/**
 * farceur_target_set_commit_func:
 * @target: a target
 * @func: (nullable): called right before each final dot
 * @user_data: for @func
 *
 * Sets the hook a journal needs (see #FarceurTargetCommitFunc).  Local
 * targets have no final dot and never call it.
 */
void
farceur_target_set_commit_func(FarceurTarget *target, FarceurTargetCommitFunc func,
                               gpointer user_data)
{
  g_return_if_fail(target != NULL);

  if (!target_smtp_is_ours(target))
    return;
  target_smtp_get(target)->commit = func;
  target_smtp_get(target)->commit_data = user_data;
}

/* ---- connecting ---- */

static void
target_smtp_transcript_cb(FarceurSmtpClient *client, const char *line, gpointer user_data)
{
  TargetSmtp *smtp = user_data;

  if (smtp->transcript)
    smtp->transcript(line, smtp->transcript_data);
}

static void
target_smtp_waiting_cb(FarceurSmtpClient *client, const char *text, gpointer user_data)
{
  TargetSmtp *smtp = user_data;

  if (smtp->notice)
    smtp->notice(text, smtp->notice_data);
}

static FarceurSmtpClient *
target_smtp_client_new(TargetSmtp *smtp, GError **error)
{
  g_autoptr(FarceurSmtpClient) client = farceur_smtp_client_new();

  farceur_smtp_client_set_security(client, smtp->security);
  farceur_smtp_client_set_lmtp(client, smtp->lmtp);
  farceur_smtp_client_set_helo(client, smtp->helo ? smtp->helo : g_get_host_name());
  if (smtp->user != NULL)
    farceur_smtp_client_set_auth(client, smtp->user, smtp->password, smtp->auth_mechanism);
  farceur_smtp_client_set_allow_plaintext_auth(client, smtp->allow_plaintext_auth);
  farceur_smtp_client_set_tls_insecure(client, smtp->tls_insecure);
  farceur_smtp_client_set_timeout(client, smtp->timeout_ms);
  farceur_smtp_client_set_pipelining(client, !smtp->no_pipelining);
  if (smtp->tls_ca_file != NULL
      && !farceur_smtp_client_set_tls_ca_file(client, smtp->tls_ca_file, error))
    return NULL;
  g_signal_connect(client, "transcript", G_CALLBACK(target_smtp_transcript_cb), smtp);
  g_signal_connect(client, "waiting", G_CALLBACK(target_smtp_waiting_cb), smtp);
  return g_steal_pointer(&client);
}

static void
target_smtp_drop(TargetSmtp *smtp)
{
  if (smtp->client != NULL)
    g_signal_handlers_disconnect_by_data(smtp->client, smtp);
  g_clear_object(&smtp->client);
  smtp->quit_asked = FALSE;
  smtp->on_client = 0;
  if (smtp->subprocess != NULL) {
    g_subprocess_force_exit(smtp->subprocess);
    g_clear_object(&smtp->subprocess);
  }
}

/* exec:COMMAND through /bin/sh, its stdout and stdin as one stream. */
static GIOStream *
target_smtp_spawn(TargetSmtp *smtp, const char *command, GError **error)
{
  g_autoptr(GError) local = NULL;

  smtp->subprocess
      = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &local,
                         "/bin/sh", "-c", command, NULL);
  if (smtp->subprocess == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_UNAVAILABLE, "exec '%s': %s", command,
                local->message);
    return NULL;
  }
  return g_simple_io_stream_new(g_subprocess_get_stdout_pipe(smtp->subprocess),
                                g_subprocess_get_stdin_pipe(smtp->subprocess));
}

static void target_smtp_send(GTask *task);
static void target_smtp_quit(TargetSmtp *smtp, GCancellable *cancellable);
static void target_smtp_connect_waiting(TargetSmtp *smtp);

/* A note of ours in the transcript ("* ..."). */
static void
target_smtp_note(TargetSmtp *smtp, const char *note)
{
  g_autofree char *line = g_strconcat("* ", note, NULL);

  if (smtp->transcript)
    smtp->transcript(line, smtp->transcript_data);
}

/* Every delivery waiting for a session fails with @error. */
static void
target_smtp_fail_waiting(TargetSmtp *smtp, const GError *error)
{
  GTask *task;

  while ((task = g_queue_pop_head(&smtp->waiting)) != NULL) {
    g_task_return_error(task, g_error_copy(error));
    g_object_unref(task);
  }
}

/* The server closed a session on us: the next one waits, doubling. */
static void
target_smtp_back_off(TargetSmtp *smtp)
{
  guint shift = MIN(smtp->closed_in_row++, 8u);
  guint delay = MIN(TARGET_SMTP_BACKOFF_MS << shift, TARGET_SMTP_BACKOFF_MAX_MS);

  smtp->not_before = g_get_monotonic_time() + (gint64)delay * 1000;
}

/* A connect that failed on a 421 greeting ("too many connections") is
 * tried again after the back-off by the deliveries that may still move;
 * the others get @error. */
static gboolean
target_smtp_keep_waiting(TargetSmtp *smtp, FarceurSmtpClient *client, const GError *error)
{
  const FarceurSmtpReply *greeting = farceur_smtp_client_get_greeting(client);
  GQueue keep = G_QUEUE_INIT;
  GTask *task;

  if (greeting == NULL || greeting->code != 421)
    return FALSE;
  while ((task = g_queue_pop_head(&smtp->waiting)) != NULL) {
    TargetSmtpSend *send = g_task_get_task_data(task);

    if (send->resumed++ < TARGET_SMTP_MAX_RESUMES) {
      g_queue_push_tail(&keep, task);
      continue;
    }
    g_task_return_error(task, g_error_copy(error));
    g_object_unref(task);
  }
  smtp->waiting = keep;
  target_smtp_back_off(smtp);
  return !g_queue_is_empty(&smtp->waiting);
}

/* The session could not be set up: the deliveries waiting for it try a new
 * one (a 421 greeting) or fail with @error. */
static void
target_smtp_connect_failed(TargetSmtp *smtp, FarceurSmtpClient *client, const GError *error)
{
  if (target_smtp_keep_waiting(smtp, client, error)) {
    target_smtp_note(smtp, "the server refused the session (421): trying a new one");
    target_smtp_connect_waiting(smtp);
    return;
  }
  target_smtp_fail_waiting(smtp, error);
}

/* An exec: session that failed to start: what its command's exit says. */
typedef struct {
  TargetSmtp *smtp;
  FarceurSmtpClient *client;
  GError *error;
  GSource *limit; /* a command still running after its output closed is ended */
} TargetSmtpExecEnd;

static gboolean
target_smtp_exec_limit_cb(gpointer data)
{
  TargetSmtpExecEnd *end = data;

  g_clear_pointer(&end->limit, g_source_unref);
  g_subprocess_force_exit(g_object_get_data(G_OBJECT(end->client), "farceur-subprocess"));
  return G_SOURCE_REMOVE;
}

/* /bin/sh exits 127 for a command it cannot find and 126 for one it cannot
 * run: say so, instead of "connection closed in greeting state". */
static GError *
target_smtp_exec_error(GSubprocess *subprocess, const char *command, const GError *error)
{
  int status;

  if (!g_subprocess_get_if_exited(subprocess))
    return g_error_copy(error);
  status = g_subprocess_get_exit_status(subprocess);
  if (status == 127)
    return g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_UNAVAILABLE,
                       "exec:%s: command not found (the shell exited with 127)", command);
  if (status == 126)
    return g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_UNAVAILABLE,
                       "exec:%s: the command cannot be run (the shell exited with 126)", command);
  if (status != 0)
    return g_error_new(error->domain, error->code, "%s; the command exited with status %d",
                       error->message, status);
  return g_error_copy(error);
}

static void
target_smtp_exec_ended_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  TargetSmtpExecEnd *end = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
  if (end->limit != NULL)
    g_source_destroy(end->limit);
  g_clear_pointer(&end->limit, g_source_unref);
  error = target_smtp_exec_error(G_SUBPROCESS(source), end->smtp->target->url->path, end->error);
  end->smtp->connecting = FALSE;
  target_smtp_connect_failed(end->smtp, end->client, error);
  g_object_unref(end->client);
  g_error_free(end->error);
  g_free(end);
}

/* Wait (a second at most) for the exec: command to end, then fail. */
static void
target_smtp_exec_failed(TargetSmtp *smtp, FarceurSmtpClient *client, const GError *error)
{
  TargetSmtpExecEnd *end = g_new0(TargetSmtpExecEnd, 1);
  GSubprocess *subprocess = g_steal_pointer(&smtp->subprocess);

  end->smtp = smtp;
  end->client = g_object_ref(client);
  end->error = g_error_copy(error);
  g_object_set_data_full(G_OBJECT(client), "farceur-subprocess", subprocess, g_object_unref);
  end->limit = g_timeout_source_new(1000);
  g_source_set_callback(end->limit, target_smtp_exec_limit_cb, end, NULL);
  g_source_attach(end->limit, g_main_context_get_thread_default());
  smtp->connecting = TRUE; /* deliveries keep waiting for the verdict */
  g_subprocess_wait_async(subprocess, NULL, target_smtp_exec_ended_cb, end);
}

/* The session is up (or failed): hand it every delivery that waited. */
static void
target_smtp_connect_ready_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  TargetSmtp *smtp = user_data;
  g_autoptr(FarceurSmtpClient) client = FARCEUR_SMTP_CLIENT(source); /* the connect's ref */
  g_autoptr(GError) error = NULL;
  GTask *task;

  smtp->connecting = FALSE;
  if (!farceur_smtp_client_connect_finish(client, result, &error)) {
    if (smtp->client == client && smtp->subprocess != NULL) {
      target_smtp_exec_failed(smtp, client, error);
      target_smtp_drop(smtp);
      smtp->connecting = TRUE;
      return;
    }
    if (smtp->client == client)
      target_smtp_drop(smtp);
    target_smtp_connect_failed(smtp, client, error);
    return;
  }
  while ((task = g_queue_pop_head(&smtp->waiting)) != NULL)
    target_smtp_send(task);
  if (smtp->quit_when_connected) {
    smtp->quit_when_connected = FALSE;
    target_smtp_quit(smtp, NULL);
  }
}

static gboolean
target_smtp_start_connect(FarceurTarget *target, GCancellable *cancellable, GError **error)
{
  TargetSmtp *smtp = target_smtp_get(target);
  const FarceurTargetUrl *url = target->url;
  g_autoptr(GSocketConnectable) address = NULL;
  g_autoptr(GIOStream) stream = NULL;

  target_smtp_drop(smtp);
  smtp->client = target_smtp_client_new(smtp, error);
  if (smtp->client == NULL)
    return FALSE;
  if (smtp->transport == TARGET_SMTP_EXEC) {
    stream = target_smtp_spawn(smtp, url->path, error);
    if (stream == NULL) {
      target_smtp_drop(smtp);
      return FALSE;
    }
    g_autofree char *name = g_strconcat("exec:", url->path, NULL);

    farceur_smtp_client_set_server_name(smtp->client, name);
    farceur_smtp_client_connect_stream_async(smtp->client, stream, NULL, cancellable,
                                             target_smtp_connect_ready_cb, smtp);
  } else {
    if (smtp->transport == TARGET_SMTP_UNIX)
      address = G_SOCKET_CONNECTABLE(g_unix_socket_address_new(url->path));
    else
      address = g_network_address_new(url->host, url->port);
    farceur_smtp_client_connect_async(smtp->client, address, cancellable,
                                      target_smtp_connect_ready_cb, smtp);
  }
  g_object_ref(smtp->client); /* held by the pending connect */
  smtp->connecting = TRUE;
  return TRUE;
}

/* Connect for the deliveries waiting, now or when the back-off is over. */
static gboolean
target_smtp_backoff_cb(gpointer user_data)
{
  TargetSmtp *smtp = user_data;

  g_clear_pointer(&smtp->backoff, g_source_unref);
  target_smtp_connect_waiting(smtp);
  return G_SOURCE_REMOVE;
}

static void
target_smtp_connect_waiting(TargetSmtp *smtp)
{
  gint64 wait = smtp->not_before - g_get_monotonic_time();
  GTask *first = g_queue_peek_head(&smtp->waiting);
  GError *error = NULL;

  if (first == NULL || smtp->connecting || smtp->backoff != NULL)
    return;
  if (wait > 0) {
    smtp->backoff = g_timeout_source_new((guint)(wait / 1000) + 1);
    g_source_set_callback(smtp->backoff, target_smtp_backoff_cb, smtp, NULL);
    g_source_set_static_name(smtp->backoff, "farceur smtp back-off");
    g_source_attach(smtp->backoff, g_main_context_get_thread_default());
    return;
  }
  if (!target_smtp_start_connect(smtp->target, g_task_get_cancellable(first), &error)) {
    target_smtp_fail_waiting(smtp, error);
    g_error_free(error);
  }
}

/* The current session is spent: QUIT behind what it holds, and the next
 * delivery makes a new one.  An exec: session's command goes with it. */
static void
target_smtp_retire(TargetSmtp *smtp)
{
  FarceurSmtpClient *client = smtp->client;

  if (client == NULL || smtp->connecting)
    return;
  if (smtp->subprocess != NULL)
    g_object_set_data_full(G_OBJECT(client), "farceur-subprocess",
                           g_steal_pointer(&smtp->subprocess), g_object_unref);
  if (!smtp->quit_asked)
    target_smtp_quit(smtp, NULL);
  g_object_set_data(G_OBJECT(client), "farceur-retired", GINT_TO_POINTER(TRUE));
  smtp->client = NULL;
  smtp->quit_asked = FALSE;
  smtp->on_client = 0;
  g_object_unref(client);
}

/* Sends @task on the session, making one first when there is none (or the
 * current one has had its --max-per-session transactions). */
static void
target_smtp_dispatch(GTask *task)
{
  TargetSmtpSend *send = g_task_get_task_data(task);
  TargetSmtp *smtp = target_smtp_get(send->target);

  if (smtp->client != NULL && !smtp->connecting && smtp->max_per_session > 0
      && smtp->on_client >= smtp->max_per_session)
    target_smtp_retire(smtp);
  if (smtp->client != NULL && !smtp->connecting) {
    target_smtp_send(task);
    return;
  }
  g_queue_push_tail(&smtp->waiting, task);
  target_smtp_connect_waiting(smtp);
}

/* ---- one transaction ---- */

static FarceurRcptStatus
target_smtp_status_of(const FarceurSmtpReply *reply, FarceurSmtpOutcome outcome)
{
  if (reply == NULL)
    return outcome == FARCEUR_SMTP_OUTCOME_UNKNOWN ? FARCEUR_RCPT_UNKNOWN : FARCEUR_RCPT_DEFERRED;
  if (FARCEUR_SMTP_REPLY_IS_POSITIVE(reply))
    return FARCEUR_RCPT_ACCEPTED;
  if (FARCEUR_SMTP_REPLY_IS_PERMANENT(reply))
    return FARCEUR_RCPT_REFUSED;
  return FARCEUR_RCPT_DEFERRED;
}

/* The reply that decided a recipient's fate, and what it was. */
static const FarceurSmtpReply *
target_smtp_decide(const FarceurSmtpResult *result, const FarceurSmtpRecipient *rcpt, gboolean lmtp,
                   FarceurRcptStatus *status)
{
  static const FarceurRcptStatus of_outcome[] = {
    [FARCEUR_SMTP_OUTCOME_DELIVERED] = FARCEUR_RCPT_ACCEPTED,
    [FARCEUR_SMTP_OUTCOME_REFUSED] = FARCEUR_RCPT_REFUSED,
    [FARCEUR_SMTP_OUTCOME_DEFERRED] = FARCEUR_RCPT_DEFERRED,
    [FARCEUR_SMTP_OUTCOME_UNKNOWN] = FARCEUR_RCPT_UNKNOWN,
  };
  const FarceurSmtpReply *reply;

  if (result->mail_reply != NULL && !FARCEUR_SMTP_REPLY_IS_POSITIVE(result->mail_reply)) {
    *status = target_smtp_status_of(result->mail_reply, result->outcome);
    return result->mail_reply;
  }
  if (rcpt->reply == NULL || !FARCEUR_SMTP_REPLY_IS_POSITIVE(rcpt->reply)) {
    *status = target_smtp_status_of(rcpt->reply, result->outcome);
    return rcpt->reply;
  }
  if (lmtp) {
    *status = target_smtp_status_of(rcpt->data_reply, result->outcome);
    return rcpt->data_reply;
  }
  reply = result->final_reply ? result->final_reply : result->data_reply;
  *status = of_outcome[result->outcome];
  return reply;
}

static FarceurDelivery *
target_smtp_delivery(const FarceurSmtpResult *result, gboolean lmtp, FarceurSmtpClient *client)
{
  FarceurDelivery *delivery = farceur_delivery_new();

  if (farceur_smtp_client_is_tls(client))
    delivery->tls = farceur_smtp_client_is_tls_unverified(client) ? "unverified" : "verified";

  for (guint i = 0; i < result->recipients->len; i++) {
    const FarceurSmtpRecipient *rcpt = result->recipients->pdata[i];
    FarceurRcptStatus status;
    const FarceurSmtpReply *reply = target_smtp_decide(result, rcpt, lmtp, &status);
    const char *text = reply ? reply->text : (result->error ? result->error->message : NULL);
    farceur_delivery_add(delivery, rcpt->address, status, reply ? reply->code : 0,
                         reply ? reply->enhanced : NULL, text);
  }
  if (result->final_reply != NULL)
    delivery->location = farceur_smtp_reply_to_string(result->final_reply);
  return delivery;
}

static GError *
target_smtp_result_error(const FarceurSmtpResult *result)
{
  if (result->error != NULL)
    return g_error_copy(result->error);
  return g_error_new_literal(FARCEUR_ERROR,
                             result->outcome == FARCEUR_SMTP_OUTCOME_REFUSED
                                 ? FARCEUR_ERROR_UNAVAILABLE
                                 : FARCEUR_ERROR_TEMPFAIL,
                             farceur_smtp_outcome_to_string(result->outcome));
}

/* A reply saying the session has had its share: "452 4.5.3" (OpenSMTPD
 * after 100 messages), or any 4xx to MAIL that says "too many messages". */
static gboolean
target_smtp_is_session_limit(const FarceurSmtpReply *reply)
{
  g_autofree char *lower = NULL;

  if (!FARCEUR_SMTP_REPLY_IS_TRANSIENT(reply))
    return FALSE;
  if (g_strcmp0(reply->enhanced, "4.5.3") == 0)
    return TRUE;
  lower = g_ascii_strdown(reply->text, -1);
  return strstr(lower, "too many messages") != NULL;
}

static gboolean
target_smtp_any_421(const FarceurSmtpResult *result)
{
  if ((result->mail_reply && result->mail_reply->code == 421)
      || (result->data_reply && result->data_reply->code == 421)
      || (result->final_reply && result->final_reply->code == 421))
    return TRUE;
  for (guint i = 0; i < result->recipients->len; i++) {
    const FarceurSmtpRecipient *rcpt = result->recipients->pdata[i];

    if (rcpt->reply != NULL && rcpt->reply->code == 421)
      return TRUE;
  }
  return FALSE;
}

/* Whether the session ended under the message before anything decided its
 * fate, so that it may go again on a new one (data/doc/smtp.md, Sessions):
 * nothing was delivered, and the server did not judge the message itself. */
static TargetSmtpResume
target_smtp_resume_of(const TargetSmtpSend *send, const FarceurSmtpResult *result,
                      const GError *error, FarceurSmtpClient *client)
{
  if (result == NULL) /* refused before a command: the session was gone or quitting */
    return g_error_matches(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE) ? TARGET_SMTP_ROTATE
                                                                      : TARGET_SMTP_KEEP;
  if (result->outcome != FARCEUR_SMTP_OUTCOME_DEFERRED
      || g_error_matches(result->error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || farceur_smtp_client_has_timed_out(client))
    return TARGET_SMTP_KEEP;
  if (target_smtp_any_421(result))
    return TARGET_SMTP_CLOSED;
  if (result->mail_reply != NULL && send->n_before > 0
      && target_smtp_is_session_limit(result->mail_reply))
    return TARGET_SMTP_ROTATE; /* not on a session's first message: then it is no limit */
  if (result->mail_reply == NULL && result->data_reply == NULL && result->final_reply == NULL)
    return TARGET_SMTP_CLOSED; /* the connection dropped before MAIL was answered */
  return TARGET_SMTP_KEEP;
}

/* Move @task to a new session if its result says so; %TRUE when it did. */
static gboolean
target_smtp_resume(GTask *task, const FarceurSmtpResult *result, const GError *error,
                   FarceurSmtpClient *client)
{
  TargetSmtpSend *send = g_task_get_task_data(task);
  TargetSmtp *smtp = target_smtp_get(send->target);
  TargetSmtpResume resume = target_smtp_resume_of(send, result, error, client);
  g_autofree char *note = NULL;

  if (resume == TARGET_SMTP_KEEP || send->resumed >= TARGET_SMTP_MAX_RESUMES)
    return FALSE;
  send->resumed++;
  if (result == NULL) /* the client was closed before the message reached it (QUIT, a drop) */
    note = g_strdup("session already closed: the message goes again on a new session");
  else
    note = g_strdup_printf("session ended (%s): the message goes again on a new session",
                           result->error ? result->error->message : error->message);
  target_smtp_note(smtp, note);
  if (smtp->client == client) {
    if (resume == TARGET_SMTP_CLOSED)
      target_smtp_back_off(smtp);
    target_smtp_retire(smtp);
  }
  target_smtp_dispatch(task);
  return TRUE;
}

static void
target_smtp_send_ready_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  TargetSmtpSend *send = g_task_get_task_data(task);
  TargetSmtp *smtp = target_smtp_get(send->target);
  g_autoptr(FarceurSmtpResult) result = NULL;
  g_autoptr(GError) error = NULL;

  result = farceur_smtp_client_send_finish(FARCEUR_SMTP_CLIENT(source), res, &error);
  if (target_smtp_resume(task, result, error, FARCEUR_SMTP_CLIENT(source))) {
    g_steal_pointer(&task); /* dispatched again */
    return;
  }
  if (result == NULL) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  send->delivery = target_smtp_delivery(result, smtp->lmtp, FARCEUR_SMTP_CLIENT(source));
  if (result->outcome == FARCEUR_SMTP_OUTCOME_DELIVERED)
    smtp->closed_in_row = 0;
  if (farceur_delivery_count(send->delivery, FARCEUR_RCPT_ACCEPTED) > 0)
    g_task_return_boolean(task, TRUE);
  else
    g_task_return_error(task, target_smtp_result_error(result));
}

static gboolean
target_smtp_commit_cb(FarceurSmtpClient *client, const FarceurEnvelope *envelope,
                      gpointer user_data, GError **error)
{
  TargetSmtpSend *send = user_data;

  return send->commit ? send->commit(envelope, send->commit_data, error) : TRUE;
}

static void
target_smtp_send(GTask *task)
{
  TargetSmtpSend *send = g_task_get_task_data(task);
  TargetSmtp *smtp = target_smtp_get(send->target);

  g_set_object(&send->client, smtp->client);
  send->n_before = smtp->on_client++;
  if (send->stream != NULL)
    farceur_smtp_client_send_stream_async(smtp->client, send->envelope, send->stream,
                                          target_smtp_commit_cb, send, g_task_get_cancellable(task),
                                          target_smtp_send_ready_cb, task);
  else
    farceur_smtp_client_send_async(smtp->client, send->envelope, send->message,
                                   target_smtp_commit_cb, send, g_task_get_cancellable(task),
                                   target_smtp_send_ready_cb, task);
}

/* Exactly one of @message and @stream is given. */
static void
target_smtp_deliver_common(FarceurTarget *target, const FarceurEnvelope *envelope,
                           GMimeObject *message, GMimeStream *stream, GTask *task)
{
  TargetSmtpSend *send = g_new0(TargetSmtpSend, 1);
  TargetSmtp *smtp = target_smtp_get(target);

  send->target = target;
  send->envelope = farceur_envelope_copy(envelope);
  send->message = message ? g_object_ref(message) : NULL;
  send->stream = stream ? g_object_ref(stream) : NULL;
  send->commit = smtp->commit;
  send->commit_data = smtp->commit_data;
  g_task_set_task_data(task, send, target_smtp_send_free);
  target_smtp_dispatch(task);
}

static void
target_smtp_deliver_async(FarceurTarget *target, const FarceurEnvelope *envelope,
                          GMimeObject *message, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);

  g_task_set_source_tag(task, target_smtp_deliver_async);
  target_smtp_deliver_common(target, envelope, message, NULL, task);
}

static void
target_smtp_deliver_stream_async(FarceurTarget *target, const FarceurEnvelope *envelope,
                                 GMimeStream *stream, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);

  g_task_set_source_tag(task, target_smtp_deliver_stream_async);
  target_smtp_deliver_common(target, envelope, NULL, stream, task);
}

static gboolean
target_smtp_deliver_finish(FarceurTarget *target, GAsyncResult *result, FarceurDelivery **delivery,
                           GError **error)
{
  TargetSmtpSend *send = g_task_get_task_data(G_TASK(result));

  if (delivery != NULL)
    *delivery = g_steal_pointer(&send->delivery);
  return g_task_propagate_boolean(G_TASK(result), error);
}

/* ---- closing ---- */

/* The last QUIT asked for decides what closing the target says; a session
 * retired earlier (--max-per-session, a limit) only has to end. */
static void
target_smtp_quit_ready_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  TargetSmtp *smtp = user_data;
  GError *error = NULL;
  gboolean ok = farceur_smtp_client_quit_finish(FARCEUR_SMTP_CLIENT(source), result, &error);

  if (g_object_get_data(source, "farceur-retired") == NULL) {
    smtp->quit_ok = ok;
    g_clear_error(&smtp->quit_error);
    smtp->quit_error = error;
  } else {
    g_clear_error(&error);
  }
  g_signal_handlers_disconnect_by_data(source, smtp);
  g_ptr_array_remove(smtp->quitting, source);
}

/* Queues QUIT on the current session, behind the deliveries it holds. */
static void
target_smtp_quit(TargetSmtp *smtp, GCancellable *cancellable)
{
  g_ptr_array_add(smtp->quitting, g_object_ref(smtp->client));
  smtp->quit_asked = TRUE;
  /* Where its QUIT completes: closing iterates it (sessions retired under
   * different contexts each have theirs). */
  g_object_set_data_full(G_OBJECT(smtp->client), "farceur-quit-context",
                         g_main_context_ref_thread_default(), (GDestroyNotify)g_main_context_unref);
  smtp->quit_ok = TRUE;
  g_clear_error(&smtp->quit_error);
  farceur_smtp_client_quit_async(smtp->client, cancellable, target_smtp_quit_ready_cb, smtp);
}

/**
 * farceur_target_hint_last:
 * @target: a target
 *
 * Says no delivery follows those already asked for.  A session target then
 * queues QUIT behind them, so that with PIPELINING it leaves in the same
 * write as the last final dot (one round trip less).  A delivery asked for
 * later still works: it gets a new session.  Local targets ignore this.
 */
void
farceur_target_hint_last(FarceurTarget *target)
{
  TargetSmtp *smtp;

  g_return_if_fail(target != NULL);

  if (!target_smtp_is_ours(target))
    return;
  smtp = target_smtp_get(target);
  if (smtp->connecting)
    smtp->quit_when_connected = TRUE;
  if (smtp->client == NULL || smtp->connecting || smtp->quit_asked)
    return;
  target_smtp_quit(smtp, NULL); /* a later delivery is refused by it and reconnects */
}

/* QUIT (unless already queued), waited for: closing is synchronous. */
static gboolean
target_smtp_close(FarceurTarget *target, GCancellable *cancellable, GError **error)
{
  TargetSmtp *smtp = target_smtp_get(target);
  g_autoptr(GMainContext) context = NULL;

  /* A QUIT of our own runs on a private context, like the sync delivery. */
  if (!smtp->quit_asked && smtp->client != NULL && !smtp->connecting
      && farceur_smtp_client_is_ready(smtp->client)) {
    context = g_main_context_new();
    g_main_context_push_thread_default(context);
    target_smtp_quit(smtp, cancellable);
  }
  while (smtp->quitting->len > 0) {
    g_autoptr(GMainContext) where
        = g_main_context_ref(g_object_get_data(smtp->quitting->pdata[0], "farceur-quit-context"));

    g_main_context_iteration(where, TRUE);
  }
  if (context != NULL)
    g_main_context_pop_thread_default(context);
  if (smtp->subprocess != NULL)
    g_subprocess_wait(smtp->subprocess, cancellable, NULL);
  target_smtp_drop(smtp);
  if (!smtp->quit_ok && smtp->quit_error != NULL) {
    g_propagate_error(error, g_steal_pointer(&smtp->quit_error));
    return FALSE;
  }
  return TRUE;
}

static void
target_smtp_finalize(FarceurTarget *target)
{
  TargetSmtp *smtp = target_smtp_get(target);

  if (smtp == NULL)
    return;
  target_smtp_drop(smtp);
  if (smtp->backoff != NULL)
    g_source_destroy(smtp->backoff);
  g_clear_pointer(&smtp->backoff, g_source_unref);
  for (guint i = 0; i < smtp->quitting->len; i++)
    g_signal_handlers_disconnect_by_data(smtp->quitting->pdata[i], smtp);
  g_ptr_array_unref(smtp->quitting);
  g_free(smtp->helo);
  g_free(smtp->user);
  target_smtp_wipe_password(smtp);
  g_free(smtp->auth_mechanism);
  g_free(smtp->tls_ca_file);
  g_clear_error(&smtp->quit_error);
  g_free(smtp);
  target->priv = NULL;
}

#define TARGET_SMTP_BACKEND(var, label, ...)                                                       \
  static const char *const var##_schemes[] = { __VA_ARGS__, NULL };                                \
  const FarceurTargetBackend var = {                                                               \
    label,                                                                                         \
    var##_schemes,                                                                                 \
    target_smtp_open,                                                                              \
    NULL,                                                                                          \
    target_smtp_deliver_async,                                                                     \
    target_smtp_deliver_finish,                                                                    \
    target_smtp_deliver_stream_async,                                                              \
    target_smtp_close,                                                                             \
    target_smtp_finalize,                                                                          \
  };

TARGET_SMTP_BACKEND(farceur_target_smtp_backend, "smtp", "smtp", "smtp+starttls", "smtps")
TARGET_SMTP_BACKEND(farceur_target_lmtp_backend, "lmtp", "lmtp")
TARGET_SMTP_BACKEND(farceur_target_exec_backend, "exec", "exec")
