/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: the mail transaction (RFC 5321 3.3): MAIL, RCPT, DATA,
 * the message as it arrives (decoded by catch-data.c, written by the
 * target's writer as it comes), and the reply after the dot, sent only once
 * the message is durably stored (the target's group commit).  LMTP (RFC
 * 2033) answers once per recipient.  A message that broke a rule (bare LF
 * or CR, a line too long, over SIZE), could not be written, or was cut off
 * leaves nothing behind. */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include <farceur/input.h>
#include "gmime-autoptr.h"

#include "catch-private.h"

#define CATCH_MAX_RCPTS 1000 /* RFC 5321 4.5.3.1.8 asks for at least 100 */

/* --- the transaction's end -------------------------------------------------- */

/* Forgets the transaction; a message half written is removed.  A commit
 * under way keeps its writer: its callback ends the transaction.  (A
 * server that stops answers the next command but QUIT with 421: catch-io.c.) */
static void
catch_tx_end(CatchSession *session)
{
  CatchTransaction *tx = &session->tx;

  if (tx->storing)
    return;
  g_clear_pointer(&tx->writer, farceur_target_writer_free);
  g_clear_pointer(&tx->envelope, farceur_envelope_free);
  g_clear_pointer(&tx->refuse_at_dot, g_ptr_array_unref);
  g_clear_pointer(&tx->started, g_date_time_unref);
  g_clear_pointer(&tx->id, g_free);
  g_clear_error(&tx->write_error);
  catch_data_init(&tx->data);
  tx->smtputf8 = FALSE;
  tx->body = CATCH_BODY_NONE;
  tx->mid_data_checked = FALSE;
  if (session->state == CATCH_STATE_DATA)
    catch_io_set_state(session, CATCH_STATE_COMMAND);
}

/* --- MAIL and RCPT ----------------------------------------------------------- */

static gboolean
catch_tx_mail_allowed(CatchSession *session, CatchCommand *command)
{
  FarceurCatchServer *server = session->server;

  if (session->helo == NULL)
    catch_io_error_reply(session, 503, "5.5.1", "Error: send HELO/EHLO first");
  else if (session->tx.envelope != NULL)
    catch_io_error_reply(session, 503, "5.5.1", "Error: nested MAIL command");
  else if (!session->esmtp && (command->size || command->body || command->smtputf8))
    catch_io_error_reply(session, 555, "5.5.4", "Error: parameters need EHLO");
  else if (command->eightbit && !command->smtputf8)
    catch_io_error_reply(session, 553, "5.6.7", "Error: a non-ASCII address needs SMTPUTF8");
  else if (command->size > server->max_size)
    catch_io_error_reply(session, 552, "5.3.4", "Error: message size exceeds fixed limit");
  else
    return TRUE;
  return FALSE;
}

static void
catch_tx_mail(CatchSession *session, CatchCommand *command)
{
  const char *const sender = command->path;

  if (!catch_tx_mail_allowed(session, command)
      || catch_io_fail_rule(session, FARCEUR_CATCH_STAGE_MAIL, &sender, 1))
    return;
  session->tx.envelope = farceur_envelope_new(command->path);
  session->tx.smtputf8 = command->smtputf8;
  session->tx.body = command->body;
  catch_io_reply(session, 250, "2.1.0", "Ok");
}

static gboolean
catch_tx_has_rcpt(CatchSession *session, const char *addr)
{
  GPtrArray *rcpts = session->tx.envelope->rcpt_to;

  for (guint i = 0; i < rcpts->len; i++)
    if (g_ascii_strcasecmp(rcpts->pdata[i], addr) == 0)
      return TRUE;
  return FALSE;
}

static void
catch_tx_rcpt(CatchSession *session, CatchCommand *command)
{
  g_autofree char *addr = g_ascii_strcasecmp(command->path, "postmaster") == 0
                              ? g_strdup_printf("postmaster@%s", session->server->hostname)
                              : g_strdup(command->path);
  const char *const subject = addr;

  if (session->tx.envelope == NULL) {
    catch_io_error_reply(session, 503, "5.5.1", "Error: need MAIL command");
  } else if (command->eightbit && !session->tx.smtputf8) {
    catch_io_error_reply(session, 553, "5.6.7", "Error: a non-ASCII address needs SMTPUTF8");
  } else if (session->tx.envelope->rcpt_to->len >= CATCH_MAX_RCPTS) {
    catch_io_reply(session, 452, "4.5.3", "Error: too many recipients");
  } else if (!catch_io_fail_rule(session, FARCEUR_CATCH_STAGE_RCPT, &subject, 1)) {
    if (!catch_tx_has_rcpt(session, addr)) /* once is enough */
      farceur_envelope_add_rcpt(session->tx.envelope, addr);
    catch_io_reply(session, 250, "2.1.5", "Ok");
  }
}

/* --- DATA ------------------------------------------------------------------------ */

static char *
catch_tx_new_id(FarceurCatchServer *server)
{
  return g_strdup_printf("%" G_GINT64_MODIFIER "X%05X", server->id_base, ++server->id_seq);
}

/* --fail rules of the dot are drawn now, as the recipients are known: each
 * recipient gets the rule that refuses it (LMTP), or all get the one (SMTP). */
static void
catch_tx_draw_dot_rules(CatchSession *session)
{
  GPtrArray *rcpts = session->tx.envelope->rcpt_to;
  CatchTransaction *tx = &session->tx;

  tx->refuse_at_dot = g_ptr_array_new();
  if (!session->server->lmtp) {
    FarceurCatchRule *rule = catch_io_rule(session, FARCEUR_CATCH_FAIL, FARCEUR_CATCH_STAGE_DOT,
                                           (const char *const *)rcpts->pdata, rcpts->len);
    for (guint i = 0; i < rcpts->len; i++)
      g_ptr_array_add(tx->refuse_at_dot, rule);
    return;
  }
  for (guint i = 0; i < rcpts->len; i++) {
    const char *const rcpt = rcpts->pdata[i];
    g_ptr_array_add(tx->refuse_at_dot,
                    catch_io_rule(session, FARCEUR_CATCH_FAIL, FARCEUR_CATCH_STAGE_DOT, &rcpt, 1));
  }
}

/* The envelope stored: the recipients no dot rule refuses. */
static FarceurEnvelope *
catch_tx_stored_envelope(CatchSession *session)
{
  FarceurEnvelope *envelope = farceur_envelope_new(session->tx.envelope->mail_from);

  for (guint i = 0; i < session->tx.envelope->rcpt_to->len; i++)
    if (session->tx.refuse_at_dot->pdata[i] == NULL)
      farceur_envelope_add_rcpt(envelope, session->tx.envelope->rcpt_to->pdata[i]);
  return envelope;
}

/* Opens the writer: Return-Path, Envelope-to and this hop's Received: first. */
static gboolean
catch_tx_open_writer(CatchSession *session, GError **error)
{
  FarceurCatchServer *server = session->server;
  CatchTransaction *tx = &session->tx;
  g_autoptr(FarceurEnvelope) stored = catch_tx_stored_envelope(session);
  g_autofree char *received = NULL;
  CatchHop hop = {
    session->helo,
    session->client_ip,
    server->hostname,
    catch_session_protocol(session, tx->smtputf8),
    session->tls_version,
    session->tls_cipher,
    tx->id,
    stored->rcpt_to->len == 1 ? stored->rcpt_to->pdata[0] : NULL,
    tx->started,
  };

  if (stored->rcpt_to->len == 0)
    return TRUE; /* every recipient is refused at the dot: nothing to store */
  received = catch_received_format(&hop);
  tx->writer = farceur_target_writer_new(server->target, stored, received, error);
  return tx->writer != NULL;
}

static void catch_tx_reply(CatchSession *session, guint code, const char *enhanced,
                           const char *text);

/* 452 for a full disk, 451 for any other local failure (RFC 3463 4.3.x);
 * after the dot, LMTP gives it to every recipient. */
static void
catch_tx_storage_reply(CatchSession *session, const GError *error, gboolean after_dot)
{
  gboolean full = g_error_matches(error, FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL);
  const char *text
      = full ? "Error: insufficient system storage" : "Error: local error in processing";

  catch_io_transcript(session, "* not stored: %s", error->message);
  if (after_dot)
    catch_tx_reply(session, full ? 452 : 451, full ? "4.3.1" : "4.3.0", text);
  else
    catch_io_reply(session, full ? 452 : 451, full ? "4.3.1" : "4.3.0", "%s", text);
}

static void
catch_tx_data(CatchSession *session, CatchCommand *command)
{
  CatchTransaction *tx = &session->tx;
  GPtrArray *rcpts = tx->envelope ? tx->envelope->rcpt_to : NULL;
  g_autoptr(GError) error = NULL;

  if (command->arg != NULL) {
    catch_io_error_reply(session, 501, "5.5.4", "syntax: DATA");
    return;
  }
  if (rcpts == NULL || rcpts->len == 0) {
    catch_io_error_reply(session, 503, "5.5.1",
                         rcpts ? "Error: no valid recipients" : "Error: need MAIL command");
    return;
  }
  if (catch_io_fail_rule(session, FARCEUR_CATCH_STAGE_DATA, (const char *const *)rcpts->pdata,
                         rcpts->len))
    return;
  tx->started = g_date_time_new_now_local();
  tx->id = catch_tx_new_id(session->server);
  catch_tx_draw_dot_rules(session);
  if (!catch_tx_open_writer(session, &error)) {
    catch_tx_storage_reply(session, error, FALSE);
    catch_tx_end(session);
    return;
  }
  catch_data_init(&tx->data);
  catch_io_set_state(session, CATCH_STATE_DATA);
  catch_io_reply(session, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

/* --- the message as it arrives ----------------------------------------------- */

static void catch_tx_dot(CatchSession *session);

/* Writes what the decoder released; past SIZE, the writer goes (the
 * message will be refused) so that the disk is not filled for nothing. */
static void
catch_tx_write(CatchSession *session)
{
  CatchTransaction *tx = &session->tx;

  if (tx->writer == NULL || tx->chunk->len == 0)
    return;
  if (tx->data.size > session->server->max_size)
    g_clear_pointer(&tx->writer, farceur_target_writer_free);
  else if (tx->write_error == NULL)
    farceur_target_writer_write(tx->writer, (const char *)tx->chunk->data, tx->chunk->len,
                                &tx->write_error);
}

static gsize
catch_tx_content(CatchSession *session, const guint8 *data, gsize len)
{
  CatchTransaction *tx = &session->tx;
  GPtrArray *rcpts = tx->envelope->rcpt_to;
  gsize used = catch_data_feed(&tx->data, data, len, tx->chunk);

  catch_tx_write(session);
  g_byte_array_set_size(tx->chunk, 0);
  if (!tx->mid_data_checked) { /* --drop mid-data: after the first octets */
    tx->mid_data_checked = TRUE;
    if (catch_io_rule(session, FARCEUR_CATCH_DROP, FARCEUR_CATCH_STAGE_MID_DATA,
                      (const char *const *)rcpts->pdata, rcpts->len)) {
      catch_io_drop(session, "a --drop rule, in the middle of the data");
      return used;
    }
  }
  if (tx->data.state == CATCH_DATA_DONE)
    catch_tx_dot(session);
  return used;
}

/* --- after the dot ----------------------------------------------------------- */

/* The reply to the dot: one for SMTP, one per recipient for LMTP (each
 * with its own dot rule, or @code and @text for all). */
static void
catch_tx_reply(CatchSession *session, guint code, const char *enhanced, const char *text)
{
  CatchTransaction *tx = &session->tx;
  GPtrArray *rcpts = tx->envelope->rcpt_to;
  guint n = session->server->lmtp ? rcpts->len : 1;

  for (guint i = 0; i < n; i++) {
    FarceurCatchRule *rule = tx->refuse_at_dot->pdata[i];

    if (rule != NULL && code / 100 == 2)
      catch_io_reply(session, rule->code, NULL, "%s", rule->text);
    else if (session->server->lmtp)
      catch_io_reply(session, code, enhanced, "<%s> %s", (char *)rcpts->pdata[i], text);
    else
      catch_io_reply(session, code, enhanced, "%s", text);
  }
}

/* What the message broke, in the order a server finds it; NULL: nothing. */
static const char *
catch_tx_refusal(CatchSession *session, guint *code, const char **enhanced)
{
  CatchTransaction *tx = &session->tx;

  *code = 550;
  *enhanced = "5.5.2";
  if (tx->data.bare_lf)
    return "Error: bare <LF> received";
  if (tx->data.bare_cr)
    return "Error: bare <CR> received";
  *code = 500;
  if (tx->data.longest + 2 > session->server->line_limit)
    return "Error: line too long (RFC 5321 4.5.3.1.6)";
  *code = 552;
  *enhanced = "5.3.4";
  if (tx->data.size > session->server->max_size)
    return "Error: message size exceeds fixed limit";
  return NULL;
}

static FarceurInspectMessage *
catch_tx_inspect(CatchSession *session)
{
  CatchTransaction *tx = &session->tx;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMimeStream) back = farceur_target_writer_read_back(tx->writer, &error);
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
  FarceurInputMessage input = { NULL, tx->id, 0, warnings, tx->id, 0, NULL };
  FarceurInspectMessage *inspected;

  if (back == NULL || (message = farceur_input_parse_stream(back, tx->id, &error)) == NULL) {
    catch_io_transcript(session, "* cannot read the stored copy back: %s", error->message);
    return NULL;
  }
  input.message = message;
  input.size = g_mime_stream_length(back);
  if ((inspected = farceur_inspect_message(&input, FARCEUR_INSPECT_NO_PARTS, &error)) == NULL)
    catch_io_transcript(session, "* cannot inspect the stored copy: %s", error->message);
  return inspected;
}

static void
catch_tx_reply_stored(CatchSession *session)
{
  g_autofree char *text = g_strdup_printf("Ok: queued as %s", session->tx.id);

  catch_tx_reply(session, 250, session->server->lmtp ? "2.1.5" : "2.0.0", text);
  catch_tx_end(session);
}

/* Stored: the record goes up; --drop after-dot, --delay dot, or the 250. */
static void
catch_tx_stored(CatchSession *session, FarceurCatchMessage *message)
{
  GPtrArray *rcpts = session->tx.envelope->rcpt_to;
  const char *const *subjects = (const char *const *)rcpts->pdata;
  FarceurCatchRule *rule;

  catch_io_transcript(session, "* stored as %s in %s", message->id, message->location);
  session->server->handlers.stored(session->server, message);
  if (session->state >= CATCH_STATE_CLOSING) {
    catch_tx_end(session);
    return;
  }
  if (catch_io_rule(session, FARCEUR_CATCH_DROP, FARCEUR_CATCH_STAGE_AFTER_DOT, subjects,
                    rcpts->len)) {
    catch_tx_end(session);
    catch_io_drop(session, "a --drop rule, after the dot (the message is stored)");
  } else if ((rule = catch_io_rule(session, FARCEUR_CATCH_DELAY, FARCEUR_CATCH_STAGE_DOT, subjects,
                                   rcpts->len))
             != NULL) {
    catch_io_wait(session, rule->delay_ms, catch_tx_reply_stored);
  } else {
    catch_tx_reply_stored(session);
  }
}

typedef struct {
  CatchSession *session;
  FarceurCatchMessage *message;
} CatchCommit;

static void
catch_tx_committed_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  CatchCommit *commit = user_data;
  CatchSession *session = commit->session;
  g_autoptr(FarceurCatchMessage) message = commit->message;
  g_autoptr(GError) error = NULL;
  gboolean was_closed = session->state == CATCH_STATE_CLOSED; /* its end waited for this */

  g_free(commit);
  session->tx.storing = FALSE;
  if (farceur_target_writer_commit_finish(session->tx.writer, result, &message->location, &error)) {
    catch_tx_stored(session, message);
  } else if (session->state < CATCH_STATE_CLOSING) {
    catch_tx_storage_reply(session, error, TRUE);
    catch_tx_end(session);
  } else {
    catch_tx_end(session);
  }
  catch_io_resume(session);
  if (was_closed)
    session->server->handlers.closed(session);
  catch_session_unref(session);
}

static void
catch_tx_commit(CatchSession *session)
{
  CatchTransaction *tx = &session->tx;
  CatchCommit *commit = g_new0(CatchCommit, 1);

  commit->session = catch_session_ref(session);
  commit->message = catch_message_new(session, catch_session_protocol(session, tx->smtputf8),
                                      catch_tx_inspect(session));
  g_clear_pointer(&commit->message->envelope, farceur_envelope_free);
  commit->message->envelope = catch_tx_stored_envelope(session);
  tx->storing = TRUE;
  catch_io_hold(session);
  farceur_target_writer_commit_async(tx->writer, NULL, catch_tx_committed_cb, commit);
}

static void
catch_tx_dot(CatchSession *session)
{
  CatchTransaction *tx = &session->tx;
  GPtrArray *rcpts = tx->envelope->rcpt_to;
  const char *enhanced;
  const char *refusal;
  guint code;

  catch_io_set_state(session, CATCH_STATE_COMMAND);
  catch_io_transcript(session, "C: <%" G_GUINT64_FORMAT " octets of content>", tx->data.size);
  catch_io_transcript(session, "C: .");
  if ((refusal = catch_tx_refusal(session, &code, &enhanced)) != NULL) {
    catch_tx_reply(session, code, enhanced, refusal);
    session->errors++;
    catch_tx_end(session);
  } else if (tx->write_error != NULL) {
    catch_tx_storage_reply(session, tx->write_error, TRUE);
    catch_tx_end(session);
  } else if (catch_io_rule(session, FARCEUR_CATCH_DROP, FARCEUR_CATCH_STAGE_DOT,
                           (const char *const *)rcpts->pdata, rcpts->len)) {
    catch_io_drop(session, "a --drop rule, at the dot (nothing stored)");
  } else if (tx->writer == NULL) { /* every recipient refused by a --fail dot rule */
    catch_tx_reply(session, 250, "2.0.0", "Ok");
    catch_tx_end(session);
  } else {
    catch_tx_commit(session);
  }
}

/**
 * catch_tx_register:
 * @handlers: the server's table
 *
 * Hands in MAIL, RCPT, DATA, the message's octets and the end of a transaction.
 */
void
catch_tx_register(CatchHandlers *handlers)
{
  handlers->commands[CATCH_VERB_MAIL] = catch_tx_mail;
  handlers->commands[CATCH_VERB_RCPT] = catch_tx_rcpt;
  handlers->commands[CATCH_VERB_DATA] = catch_tx_data;
  handlers->data = catch_tx_content;
  handlers->end_tx = catch_tx_end;
}
