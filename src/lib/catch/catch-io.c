/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: the I/O core of a session.  It reads into its own buffer
 * (no GBufferedInputStream: after STARTTLS every plaintext octet must be
 * accounted for), cuts command lines, refuses what breaks the line rules
 * (bare LF, bare CR, over-long lines), checks pipelining (RFC 2920), and
 * hands each command to the handler the protocol files registered for its
 * verb (CatchHandlers: it never names them); in DATA it hands the octets to
 * the transaction's data handler.  Replies are queued and written together
 * when no complete command is left to read, so that a pipelined group gets
 * its replies in one write.  One timer per wait; TLS handshakes; the
 * generic --drop and --delay rules of commands; closing.
 *
 * Strictness, as Postfix 3.9 (data/doc/catch.md, Smuggling):
 *   - a line ending in a bare LF, or holding a bare CR, is refused with
 *     "550 5.5.2 Error: bare <LF> received" (smtpd_forbid_bare_newline =
 *     reject, smtpd_forbid_bare_newline_reject_code = 550);
 *   - input waiting after a command that must end a pipelined group, after
 *     any command when PIPELINING was not offered, or before the greeting:
 *     "554 5.5.0 Error: SMTP protocol synchronization", and the connection
 *     is closed (smtpd_forbid_unauth_pipelining = yes).
 */
#include "config.h"

#include <string.h>

#include <farceur/error.h>

#include "catch-private.h"

#define CATCH_READ_SIZE 16384
#define CATCH_MAX_ERRORS 20
#define CATCH_DEFAULT_TIMEOUT_MS (300 * 1000) /* RFC 5321 4.5.3.2.7 */

static void catch_io_process(CatchSession *session);
static void catch_io_read(CatchSession *session);
static void catch_io_flush(CatchSession *session);

/* --- the session's life ------------------------------------------------ */

CatchSession *
catch_io_session_new(FarceurCatchServer *server, GSocketConnection *connection,
                     gboolean implicit_tls)
{
  CatchSession *session = g_new0(CatchSession, 1);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(connection, NULL);

  session->ref = 1;
  session->server = server;
  session->number = ++server->next_number;
  session->connection = g_object_ref(connection);
  session->stream = g_object_ref(G_IO_STREAM(connection));
  session->cancellable = g_cancellable_new();
  session->implicit_tls = implicit_tls;
  session->in = g_byte_array_new();
  session->out = g_byte_array_new();
  session->sending = g_byte_array_new();
  session->tx.chunk = g_byte_array_new();
  if (G_IS_INET_SOCKET_ADDRESS(remote)) {
    GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS(remote);
    session->client_ip = g_inet_address_to_string(g_inet_socket_address_get_address(inet));
    session->client_port = g_inet_socket_address_get_port(inet);
  } else {
    session->client_ip = g_strdup("unknown");
  }
  return session;
}

CatchSession *
catch_session_ref(CatchSession *session)
{
  g_atomic_int_inc(&session->ref);
  return session;
}

void
catch_session_unref(CatchSession *session)
{
  if (session == NULL || !g_atomic_int_dec_and_test(&session->ref))
    return;
  g_assert(session->timer == NULL && session->pause == NULL && session->tx.writer == NULL);
  g_clear_object(&session->stream);
  g_clear_object(&session->connection);
  g_clear_object(&session->cancellable);
  g_byte_array_unref(session->in);
  g_byte_array_unref(session->out);
  g_byte_array_unref(session->sending);
  g_byte_array_unref(session->tx.chunk);
  g_free(session->readbuf);
  catch_command_clear(&session->deferred);
  g_free(session->client_ip);
  g_free(session->helo);
  g_free(session->tls_version);
  g_free(session->tls_cipher);
  g_free(session->user);
  g_free(session->auth_user);
  g_free(session);
}

/* --- transcript and replies -------------------------------------------- */

void
catch_io_transcript(CatchSession *session, const char *format, ...)
{
  FarceurCatchTranscriptFunc func = session->server->callbacks.transcript_func;
  g_autofree char *line = NULL;
  va_list args;

  if (func == NULL)
    return;
  va_start(args, format);
  line = g_strdup_vprintf(format, args);
  va_end(args);
  func(session->number, line, session->server->callbacks.transcript_data);
}

static void
catch_io_queue_line(CatchSession *session, const char *line)
{
  g_byte_array_append(session->out, (const guint8 *)line, (guint)strlen(line));
  g_byte_array_append(session->out, (const guint8 *)"\r\n", 2);
  catch_io_transcript(session, "S: %s", line);
}

/* "CODE ENHANCED TEXT"; @enhanced may be NULL (the greeting). */
void
catch_io_reply(CatchSession *session, guint code, const char *enhanced, const char *format, ...)
{
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  va_list args;

  va_start(args, format);
  text = g_strdup_vprintf(format, args);
  va_end(args);
  line = enhanced ? g_strdup_printf("%u %s %s", code, enhanced, text)
                  : g_strdup_printf("%u %s", code, text);
  catch_io_queue_line(session, line);
}

/* A multi-line reply: "250-first", ..., "250 last". */
void
catch_io_reply_lines(CatchSession *session, guint code, GPtrArray *lines)
{
  for (guint i = 0; i < lines->len; i++) {
    g_autofree char *line
        = g_strdup_printf("%u%c%s", code, i + 1 < lines->len ? '-' : ' ', (char *)lines->pdata[i]);
    catch_io_queue_line(session, line);
  }
}

/* A reply to a client's mistake: too many of them end the session. */
void
catch_io_error_reply(CatchSession *session, guint code, const char *enhanced, const char *text)
{
  catch_io_reply(session, code, enhanced, "%s", text);
  if (++session->errors < CATCH_MAX_ERRORS)
    return;
  catch_io_reply(session, 421, "4.7.0", "%s Error: too many errors", session->server->hostname);
  catch_io_close(session);
}

void
catch_io_set_state(CatchSession *session, CatchState state)
{
  session->state = state;
}

/* --- input --------------------------------------------------------------- */

gboolean
catch_io_input_pending(CatchSession *session)
{
  return session->in->len > 0;
}

gsize
catch_io_discard_input(CatchSession *session)
{
  gsize n = session->in->len;

  g_byte_array_set_size(session->in, 0);
  return n;
}

static void
catch_io_stop_timer(CatchSession *session)
{
  if (session->timer == NULL)
    return;
  g_source_destroy(session->timer);
  g_clear_pointer(&session->timer, g_source_unref);
}

static gboolean
catch_io_timeout_cb(gpointer data)
{
  CatchSession *session = data;

  g_clear_pointer(&session->timer, g_source_unref);
  catch_io_transcript(session, "* timeout: the client was silent for %u ms",
                      session->server->timeout_ms ? session->server->timeout_ms
                                                  : CATCH_DEFAULT_TIMEOUT_MS);
  catch_io_reply(session, 421, "4.4.2", "%s Error: timeout exceeded", session->server->hostname);
  catch_io_close(session);
  return G_SOURCE_REMOVE;
}

/* The client has this long to send something (RFC 5321's 5 minutes). */
static void
catch_io_start_timer(CatchSession *session)
{
  FarceurCatchServer *server = session->server;

  catch_io_stop_timer(session);
  session->timer
      = g_timeout_source_new(server->timeout_ms ? server->timeout_ms : CATCH_DEFAULT_TIMEOUT_MS);
  g_source_set_callback(session->timer, catch_io_timeout_cb, session, NULL);
  g_source_set_static_name(session->timer, "farceur catch timeout");
  g_source_attach(session->timer, server->context);
}

static void
catch_io_read_cb(GObject *source, GAsyncResult *result, gpointer data)
{
  CatchSession *session = data;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);

  session->reading = FALSE;
  if (session->state == CATCH_STATE_CLOSED) {
    catch_session_unref(session);
    return;
  }
  catch_io_stop_timer(session);
  if (n <= 0) {
    catch_io_drop(session, n == 0 ? "the client closed the connection" : error->message);
  } else {
    g_byte_array_append(session->in, session->readbuf, (guint)n);
    catch_io_process(session);
  }
  catch_session_unref(session);
}

/* Keeps one read under way while input is welcome. */
static void
catch_io_read(CatchSession *session)
{
  if (session->reading || session->busy > 0 || session->state >= CATCH_STATE_CLOSING)
    return;
  if (session->readbuf == NULL)
    session->readbuf = g_malloc(CATCH_READ_SIZE);
  session->reading = TRUE;
  catch_io_start_timer(session);
  g_input_stream_read_async(g_io_stream_get_input_stream(session->stream), session->readbuf,
                            CATCH_READ_SIZE, G_PRIORITY_DEFAULT, session->cancellable,
                            catch_io_read_cb, catch_session_ref(session));
}

/* --- rules ---------------------------------------------------------------- */

FarceurCatchRule *
catch_io_rule(CatchSession *session, FarceurCatchAction action, FarceurCatchStage stage,
              const char *const *subjects, guint n)
{
  FarceurCatchServer *server = session->server;
  FarceurCatchRule *rule
      = catch_rules_fire(server->rules, server->rand, action, stage, subjects, n);

  if (rule != NULL)
    catch_io_transcript(session, "* rule %s %s acts",
                        action == FARCEUR_CATCH_FAIL   ? "--fail"
                        : action == FARCEUR_CATCH_DROP ? "--drop"
                                                       : "--delay",
                        rule->spec);
  return rule;
}

/* A --fail rule of @stage answers in place of the command; 421 closes. */
gboolean
catch_io_fail_rule(CatchSession *session, FarceurCatchStage stage, const char *const *subjects,
                   guint n)
{
  FarceurCatchRule *rule = catch_io_rule(session, FARCEUR_CATCH_FAIL, stage, subjects, n);

  if (rule == NULL)
    return FALSE;
  catch_io_reply(session, rule->code, NULL, "%s", rule->text);
  if (rule->code == 421)
    catch_io_close(session);
  return TRUE;
}

/* --- commands -------------------------------------------------------------- */

static void
catch_io_sync_error(CatchSession *session, const char *after)
{
  catch_io_transcript(session, "* %u octets of input waiting %s: not allowed (RFC 2920)",
                      session->in->len, after);
  catch_io_discard_input(session);
  catch_io_reply(session, 554, "5.5.0", "Error: SMTP protocol synchronization");
  catch_io_close(session);
}

static gboolean
catch_io_stage(CatchVerb verb, FarceurCatchStage *stage)
{
  switch (verb) {
    case CATCH_VERB_HELO:
    case CATCH_VERB_EHLO:
    case CATCH_VERB_LHLO:
      *stage = FARCEUR_CATCH_STAGE_HELO;
      return TRUE;
    case CATCH_VERB_MAIL:
      *stage = FARCEUR_CATCH_STAGE_MAIL;
      return TRUE;
    case CATCH_VERB_RCPT:
      *stage = FARCEUR_CATCH_STAGE_RCPT;
      return TRUE;
    case CATCH_VERB_DATA:
      *stage = FARCEUR_CATCH_STAGE_DATA;
      return TRUE;
    default:
      return FALSE;
  }
}

static void
catch_io_run_command(CatchSession *session, CatchCommand *command)
{
  CatchCommandHandler handler = session->server->handlers.commands[command->verb];

  if (session->draining && session->tx.envelope == NULL && command->verb != CATCH_VERB_QUIT)
    catch_io_shutdown(session); /* the server stops: its transaction is over, or none began */
  else if (session->refused && command->verb != CATCH_VERB_QUIT)
    catch_io_error_reply(session, 503, "5.5.1", "Error: the greeting refused this session: QUIT");
  else if (handler == NULL)
    catch_io_error_reply(session, 502, "5.5.1", "command not implemented");
  else
    handler(session, command);
}

static void
catch_io_run_deferred(CatchSession *session)
{
  CatchCommand command = session->deferred;

  memset(&session->deferred, 0, sizeof session->deferred);
  catch_io_run_command(session, &command);
  catch_command_clear(&command);
}

/* --drop and --delay rules of the command's stage, then its handler. */
static void
catch_io_dispatch(CatchSession *session, CatchCommand *command)
{
  const char *subject = command->verb == CATCH_VERB_MAIL || command->verb == CATCH_VERB_RCPT
                            ? command->path
                            : command->arg;
  GPtrArray *rcpts = session->tx.envelope ? session->tx.envelope->rcpt_to : NULL;
  const char *const *subjects = &subject;
  guint n = 1;
  FarceurCatchStage stage;
  FarceurCatchRule *rule;

  if (!catch_io_stage(command->verb, &stage)) {
    catch_io_run_command(session, command);
    return;
  }
  if (stage == FARCEUR_CATCH_STAGE_DATA) {
    subjects = rcpts ? (const char *const *)rcpts->pdata : NULL;
    n = rcpts ? rcpts->len : 0;
  }
  if (catch_io_rule(session, FARCEUR_CATCH_DROP, stage, subjects, n) != NULL) {
    catch_io_drop(session, "a --drop rule");
  } else if ((rule = catch_io_rule(session, FARCEUR_CATCH_DELAY, stage, subjects, n)) != NULL) {
    session->deferred = *command;
    memset(command, 0, sizeof *command);
    catch_io_wait(session, rule->delay_ms, catch_io_run_deferred);
  } else {
    catch_io_run_command(session, command);
  }
}

/* AUTH payloads never reach the transcript. */
static void
catch_io_transcript_command(CatchSession *session, const CatchCommand *command, const char *line)
{
  if (command->verb == CATCH_VERB_AUTH && command->arg != NULL) {
    g_autofree char *mech = g_strndup(command->arg, strcspn(command->arg, " "));
    catch_io_transcript(session, "C: AUTH %s%s", mech, strchr(command->arg, ' ') ? " ***" : "");
  } else {
    catch_io_transcript(session, "C: %s", line);
  }
}

static void
catch_io_command(CatchSession *session, const char *line, gsize len)
{
  CatchCommand command;

  catch_command_parse(line, len, &command);
  catch_io_transcript_command(session, &command, line);
  if (command.verb != CATCH_VERB_STARTTLS && command.verb != CATCH_VERB_QUIT
      && catch_io_input_pending(session)
      && (catch_command_must_end_group(command.verb) || !session->esmtp)) {
    g_autofree char *after = g_strdup_printf("after %s", command.name);
    catch_io_sync_error(session, after);
  } else if (command.verb == CATCH_VERB_FORBIDDEN) {
    catch_io_reply(session, 221, "2.7.0", "that is not an SMTP command: goodbye");
    catch_io_close(session);
  } else if (command.code != 0) {
    catch_io_error_reply(session, command.code, command.enhanced, command.error);
  } else {
    catch_io_dispatch(session, &command);
  }
  if (command.verb == CATCH_VERB_AUTH && command.arg != NULL)
    explicit_bzero(command.arg, strlen(command.arg));
  catch_command_clear(&command);
}

/* One line, CRLF and all, is at the start of the input: check it, take it
 * out, hand it on. */
static void
catch_io_line(CatchSession *session, gsize len)
{
  g_autofree char *line = NULL;

  if (len + 1 > session->server->line_limit) {
    g_byte_array_remove_range(session->in, 0, (guint)len + 1);
    catch_io_error_reply(session, 500, "5.5.2", "Error: line too long");
    return;
  }
  if (len == 0 || session->in->data[len - 1] != '\r'
      || memchr(session->in->data, '\r', len - 1) != NULL) {
    gboolean lf = len == 0 || session->in->data[len - 1] != '\r';
    g_byte_array_remove_range(session->in, 0, (guint)len + 1);
    catch_io_error_reply(session, 550, "5.5.2",
                         lf ? "Error: bare <LF> received" : "Error: bare <CR> received");
    return;
  }
  line = g_strndup((const char *)session->in->data, len - 1);
  g_byte_array_remove_range(session->in, 0, (guint)len + 1);
  if (session->state == CATCH_STATE_AUTH) {
    catch_io_transcript(session, "C: ***");
    session->server->handlers.auth_line(session, line, len - 1);
  } else {
    catch_io_command(session, line, len - 1);
  }
  explicit_bzero(line, len - 1); /* AUTH payloads live no longer than needed */
}

/* Command mode: the next line if it is complete.  FALSE: wait for more. */
static gboolean
catch_io_next_line(CatchSession *session)
{
  const guint8 *lf = memchr(session->in->data, '\n', session->in->len);

  if (session->skip_line) { /* the rest of an over-long line */
    if (lf == NULL) {
      g_byte_array_set_size(session->in, 0);
      return FALSE;
    }
    g_byte_array_remove_range(session->in, 0, (guint)(lf - session->in->data) + 1);
    session->skip_line = FALSE;
    catch_io_error_reply(session, 500, "5.5.2", "Error: line too long");
    return TRUE;
  }
  if (lf == NULL) {
    if (session->in->len >= session->server->line_limit) {
      session->skip_line = TRUE;
      g_byte_array_set_size(session->in, 0);
    }
    return FALSE;
  }
  catch_io_line(session, (gsize)(lf - session->in->data));
  return TRUE;
}

/* Uses what was read, as far as the session's state allows. */
static void
catch_io_process(CatchSession *session)
{
  catch_session_ref(session);
  if (session->state == CATCH_STATE_GREETING && session->in->len > 0)
    catch_io_sync_error(session, "before the greeting");
  while (session->busy == 0 && session->in->len > 0 && session->state < CATCH_STATE_CLOSING) {
    if (session->state == CATCH_STATE_DATA) {
      gsize used = session->server->handlers.data(session, session->in->data, session->in->len);
      g_byte_array_remove_range(session->in, 0, (guint)used);
    } else if (!catch_io_next_line(session)) {
      break;
    }
  }
  catch_io_flush(session);
  catch_io_read(session);
  catch_session_unref(session);
}

void
catch_io_hold(CatchSession *session)
{
  session->busy++;
}

void
catch_io_resume(CatchSession *session)
{
  g_assert(session->busy > 0);
  if (--session->busy == 0 && session->state < CATCH_STATE_CLOSED)
    catch_io_process(session);
}

static gboolean
catch_io_pause_cb(gpointer data)
{
  CatchSession *session = data;
  CatchSessionFunc then = session->pause_then;

  g_clear_pointer(&session->pause, g_source_unref);
  session->pause_then = NULL;
  then(session);
  catch_io_resume(session);
  return G_SOURCE_REMOVE;
}

/* Waits @ms (a --delay rule), reading nothing, then calls @then. */
void
catch_io_wait(CatchSession *session, guint ms, CatchSessionFunc then)
{
  catch_io_hold(session);
  catch_io_flush(session);
  session->pause = g_timeout_source_new(ms);
  g_source_set_callback(session->pause, catch_io_pause_cb, session, NULL);
  g_source_set_static_name(session->pause, "farceur catch delay");
  session->pause_then = then;
  g_source_attach(session->pause, session->server->context);
}

/* --- output and closing ------------------------------------------------- */

static void catch_io_handshake(CatchSession *session);
static void catch_io_finish(CatchSession *session);

static void
catch_io_write_cb(GObject *source, GAsyncResult *result, gpointer data)
{
  CatchSession *session = data;
  g_autoptr(GError) error = NULL;

  session->writing = FALSE;
  if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, &error)) {
    if (session->state != CATCH_STATE_CLOSED)
      catch_io_drop(session, error->message);
  } else if (session->state != CATCH_STATE_CLOSED) {
    g_byte_array_set_size(session->sending, 0);
    catch_io_flush(session);
  }
  catch_session_unref(session);
}

/* Writes what was queued; once all is out, a closing session closes and a
 * STARTTLS starts its handshake. */
static void
catch_io_flush(CatchSession *session)
{
  GByteArray *swap;

  if (session->writing || session->state == CATCH_STATE_CLOSED)
    return;
  if (session->out->len == 0) {
    if (session->state == CATCH_STATE_CLOSING)
      catch_io_finish(session);
    else if (session->tls_starting)
      catch_io_handshake(session);
    return;
  }
  swap = session->sending;
  session->sending = session->out;
  session->out = swap;
  session->writing = TRUE;
  g_output_stream_write_all_async(
      g_io_stream_get_output_stream(session->stream), session->sending->data, session->sending->len,
      G_PRIORITY_DEFAULT, session->cancellable, catch_io_write_cb, catch_session_ref(session));
}

static void
catch_io_stop_pause(CatchSession *session)
{
  if (session->pause == NULL)
    return;
  g_source_destroy(session->pause);
  g_clear_pointer(&session->pause, g_source_unref);
  session->pause_then = NULL;
  session->busy--;
}

/* The end: nothing more is read or written. */
static void
catch_io_finish(CatchSession *session)
{
  if (session->state == CATCH_STATE_CLOSED)
    return;
  session->state = CATCH_STATE_CLOSED;
  catch_io_stop_timer(session);
  catch_io_stop_pause(session);
  g_cancellable_cancel(session->cancellable);
  session->server->handlers.end_tx(session);
  g_io_stream_close_async(session->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  catch_io_transcript(session, "* closed");
  if (!session->tx.storing) /* else once the commit is over (catch-transaction.c) */
    session->server->handlers.closed(session);
}

/* Closes once the replies queued are out; input is ignored from now on. */
void
catch_io_close(CatchSession *session)
{
  if (session->state >= CATCH_STATE_CLOSING)
    return;
  session->state = CATCH_STATE_CLOSING;
  session->tls_starting = FALSE;
  catch_io_stop_timer(session);
  catch_io_stop_pause(session);
  session->server->handlers.end_tx(session);
  catch_io_flush(session);
}

/* Closes at once: what is queued is not sent (--drop, a failed write, EOF). */
void
catch_io_drop(CatchSession *session, const char *why)
{
  if (session->state == CATCH_STATE_CLOSED)
    return;
  catch_io_transcript(session, "* dropped: %s", why);
  catch_io_finish(session);
}

/* --- TLS ------------------------------------------------------------------ */

static void
catch_io_tls_info(CatchSession *session, GTlsConnection *tls)
{
  g_free(session->tls_version);
  g_free(session->tls_cipher);
  session->tls_version = catch_tls_version_name(g_tls_connection_get_protocol_version(tls));
  if (session->tls_version == NULL)
    session->tls_version = g_strdup("TLS");
  session->tls_cipher = g_tls_connection_get_ciphersuite_name(tls);
  catch_io_transcript(session, "* TLS: %s with cipher %s", session->tls_version,
                      session->tls_cipher ? session->tls_cipher : "unknown");
}

static void
catch_io_handshake_cb(GObject *source, GAsyncResult *result, gpointer data)
{
  CatchSession *session = data;
  g_autoptr(GError) error = NULL;

  if (session->state == CATCH_STATE_CLOSED) {
    catch_session_unref(session);
    return;
  }
  catch_io_stop_timer(session);
  if (!g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), result, &error)) {
    g_autofree char *why = g_strdup_printf("TLS handshake failed: %s", error->message);
    catch_io_drop(session, why);
    catch_session_unref(session);
    return;
  }
  g_clear_object(&session->stream);
  session->stream = G_IO_STREAM(g_object_ref(source));
  catch_io_tls_info(session, G_TLS_CONNECTION(source));
  if (session->state == CATCH_STATE_GREETING)
    session->server->handlers.greet(session); /* implicit TLS */
  else
    session->server->handlers.tls_up(session); /* STARTTLS */
  catch_io_resume(session);
  catch_session_unref(session);
}

static void
catch_io_handshake(CatchSession *session)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) tls = NULL;

  session->tls_starting = FALSE;
  tls = g_tls_server_connection_new(G_IO_STREAM(session->connection), session->server->certificate,
                                    &error);
  if (tls == NULL) {
    catch_io_drop(session, error->message);
    return;
  }
  catch_io_start_timer(session);
  g_tls_connection_handshake_async(G_TLS_CONNECTION(tls), G_PRIORITY_DEFAULT, session->cancellable,
                                   catch_io_handshake_cb, catch_session_ref(session));
}

/**
 * catch_io_start_tls:
 * @session: a session whose "220" to STARTTLS is queued (or, with implicit
 *   TLS, a session just connected)
 *
 * Holds the input, writes what is queued, then runs the handshake; the
 * session file's tls_up handler (or greet, for implicit TLS) follows.
 * Input must have been discarded: nothing read in clear counts after it.
 */
void
catch_io_start_tls(CatchSession *session)
{
  g_assert(session->in->len == 0 && !session->reading);
  catch_io_hold(session);
  session->tls_starting = TRUE;
  catch_io_flush(session);
}

/* --- starting and stopping ---------------------------------------------- */

/**
 * catch_io_start:
 * @session: a session just accepted
 *
 * Implicit TLS first; otherwise reading starts at once (input before the
 * greeting breaks the rules) and the session file greets.
 */
void
catch_io_start(CatchSession *session)
{
  catch_io_transcript(session, "* connection from %s port %u%s", session->client_ip,
                      session->client_port, session->implicit_tls ? " (implicit TLS)" : "");
  session->state = CATCH_STATE_GREETING;
  if (session->implicit_tls) {
    catch_io_start_tls(session);
    return;
  }
  catch_io_read(session);
  session->server->handlers.greet(session);
  catch_io_flush(session);
}

/**
 * catch_io_shutdown:
 * @session: a session of a server that stops
 *
 * A session between transactions gets 421 and is closed; one in a
 * transaction finishes it first, then may QUIT: any other command gets 421.
 */
void
catch_io_shutdown(CatchSession *session)
{
  if (session->state >= CATCH_STATE_CLOSING)
    return;
  session->draining = TRUE;
  if (session->tx.envelope != NULL || session->tx.storing || session->state == CATCH_STATE_DATA)
    return;
  catch_io_reply(session, 421, "4.3.2", "%s Service shutting down, closing transmission channel",
                 session->server->hostname);
  catch_io_close(session);
}
