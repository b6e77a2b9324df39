/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mail transactions on a FarceurSmtpClient, above the I/O core and the
 * session: MAIL, RCPT, DATA, content, the final dot, RSET; LMTP's reply per
 * recipient; the queue of transactions waiting their turn, and the
 * PIPELINING of the next one (or of QUIT) behind the previous dot.  The
 * message's wire form comes from smtp-client-data.c.
 *
 * The reply handlers of MAIL..RSET, and the hook that answers the
 * transactions a failed connection leaves behind, are handed to the core by
 * smtp_tx_register(); the client (smtp-client.c) submits a send with
 * smtp_tx_submit(). */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include <farceur/smtp-client.h>

#include "smtp-client-private.h"

/* --- records ------------------------------------------------------------ */

/**
 * farceur_smtp_outcome_to_string:
 * @outcome: an outcome
 *
 * Returns: (transfer none): "delivered", "refused", "deferred" or "unknown",
 *   the words of the journal and of `--json`
 */
const char *
farceur_smtp_outcome_to_string(FarceurSmtpOutcome outcome)
{
  static const char *const names[] = { "delivered", "refused", "deferred", "unknown" };

  return (guint)outcome < G_N_ELEMENTS(names) ? names[outcome] : "invalid";
}

static void
smtp_tx_recipient_free(FarceurSmtpRecipient *rcpt)
{
  g_free(rcpt->address);
  farceur_smtp_reply_free(rcpt->reply);
  farceur_smtp_reply_free(rcpt->data_reply);
  g_free(rcpt);
}

/**
 * farceur_smtp_result_free:
 * @result: (nullable): a result
 */
void
farceur_smtp_result_free(FarceurSmtpResult *result)
{
  if (result == NULL)
    return;
  farceur_smtp_reply_free(result->mail_reply);
  g_ptr_array_unref(result->recipients);
  farceur_smtp_reply_free(result->data_reply);
  farceur_smtp_reply_free(result->final_reply);
  g_clear_error(&result->error);
  g_free(result);
}

static FarceurSmtpResult *
smtp_tx_result_new(const FarceurEnvelope *envelope)
{
  FarceurSmtpResult *result = g_new0(FarceurSmtpResult, 1);

  result->outcome = FARCEUR_SMTP_OUTCOME_DEFERRED;
  result->recipients = g_ptr_array_new_with_free_func((GDestroyNotify)smtp_tx_recipient_free);
  for (guint i = 0; i < envelope->rcpt_to->len; i++) {
    FarceurSmtpRecipient *rcpt = g_new0(FarceurSmtpRecipient, 1);

    rcpt->address = g_strdup(envelope->rcpt_to->pdata[i]);
    g_ptr_array_add(result->recipients, rcpt);
  }
  return result;
}

static void
smtp_tx_free(SmtpTransaction *tx)
{
  g_assert(tx->op == NULL); /* its task was returned */
  farceur_envelope_free(tx->envelope);
  g_clear_object(&tx->data.content);
  g_free(tx->chunk);
  farceur_smtp_result_free(tx->result);
  g_free(tx);
}

/* A transaction the connection failed under: unknown when its dot went out,
 * else deferred (nothing was delivered). */
static void
smtp_tx_abandon(SmtpTransaction *tx, const GError *error)
{
  g_autoptr(GTask) task = smtp_op_finish(g_steal_pointer(&tx->op));
  FarceurSmtpResult *result = g_steal_pointer(&tx->result);

  result->outcome = tx->dot_sent ? FARCEUR_SMTP_OUTCOME_UNKNOWN : FARCEUR_SMTP_OUTCOME_DEFERRED;
  g_clear_error(&result->error);
  result->error = g_error_copy(error);
  smtp_tx_free(tx);
  g_task_return_pointer(task, result, (GDestroyNotify)farceur_smtp_result_free);
}

/* The core's abandon hook: the transaction under way, then those queued. */
static void
smtp_tx_abandon_all(SmtpTransaction *tx, GQueue *queued, const GError *error)
{
  if (tx != NULL)
    smtp_tx_abandon(tx, error);
  while ((tx = g_queue_pop_head(queued)) != NULL)
    smtp_tx_abandon(tx, error);
}

/* --- the mail transaction ----------------------------------------------- */

static gboolean
smtp_tx_needs_utf8(const FarceurEnvelope *envelope, const SmtpData *data)
{
  if (data->utf8_header || !g_str_is_ascii(envelope->mail_from))
    return TRUE;
  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    if (!g_str_is_ascii(envelope->rcpt_to->pdata[i]))
      return TRUE;
  return FALSE;
}

/* Everything we can refuse before a command goes out. */
static gboolean
smtp_tx_check(FarceurSmtpClient *self, SmtpTransaction *tx, GError **error)
{
  guint64 size = tx->data.size;

  if (smtp_tx_needs_utf8(tx->envelope, &tx->data)
      && !smtp_session_has_extension(self, "SMTPUTF8")) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "smtp server '%s' does not offer SMTPUTF8, needed for non-ASCII addresses "
                "or headers",
                self->server_name);
    return FALSE;
  }
  if (self->conn.max_size > 0 && size > self->conn.max_size) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "message of %" G_GUINT64_FORMAT " octets is over the %" G_GUINT64_FORMAT
                " octets smtp server '%s' accepts",
                size, self->conn.max_size, self->server_name);
    return FALSE;
  }
  return TRUE;
}

/* Exactly one of @message and @stream is given. */
static SmtpTransaction *
smtp_tx_prepare(FarceurSmtpClient *self, const FarceurEnvelope *envelope, GMimeObject *message,
                GMimeStream *stream, GError **error)
{
  SmtpTransaction *tx;
  gboolean eightbit_ok = smtp_session_has_extension(self, "8BITMIME");

  if (self->state != SMTP_STATE_READY && !smtp_io_is_busy(self)) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "smtp client: not connected (%s state)",
                smtp_io_state_name(self->state));
    return NULL;
  }
  if (self->quit != NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "smtp client: quitting");
    return NULL;
  }
  if (!farceur_envelope_validate(envelope, error))
    return NULL;
  tx = g_new0(SmtpTransaction, 1);
  tx->envelope = farceur_envelope_copy(envelope);
  if (!(message ? farceur_smtp_data_prepare(message, eightbit_ok, &tx->data, error)
                : farceur_smtp_data_prepare_stream(stream, eightbit_ok, &tx->data, error))
      || !smtp_tx_check(self, tx, error)) {
    smtp_tx_free(tx);
    return NULL;
  }
  tx->result = smtp_tx_result_new(envelope);
  tx->result->size = tx->data.size;
  return tx;
}

static char *
smtp_tx_mail_command(FarceurSmtpClient *self, SmtpTransaction *tx)
{
  GString *line = g_string_new(NULL);

  g_string_append_printf(line, "MAIL FROM:<%s>", tx->envelope->mail_from);
  if (smtp_session_has_extension(self, "SIZE"))
    g_string_append_printf(line, " SIZE=%" G_GUINT64_FORMAT, tx->data.size);
  if (tx->data.eightbit && smtp_session_has_extension(self, "8BITMIME"))
    g_string_append(line, " BODY=8BITMIME");
  if (smtp_tx_needs_utf8(tx->envelope, &tx->data))
    g_string_append(line, " SMTPUTF8");
  return g_string_free(line, FALSE);
}

static void
smtp_tx_queue_rcpt(FarceurSmtpClient *self, SmtpTransaction *tx, guint index)
{
  g_autofree char *line
      = g_strdup_printf("RCPT TO:<%s>", (char *)tx->envelope->rcpt_to->pdata[index]);

  smtp_io_queue(self, line, NULL);
}

/* MAIL FROM; with PIPELINING the RCPTs and DATA too (RFC 2920: DATA ends
 * the group; the content waits for the 354). */
static void
smtp_tx_queue_commands(FarceurSmtpClient *self, SmtpTransaction *tx)
{
  g_autofree char *mail = smtp_tx_mail_command(self, tx);

  tx->pipelined = self->pipelining_allowed && smtp_session_has_extension(self, "PIPELINING");
  smtp_io_queue(self, mail, NULL);
  if (tx->pipelined) {
    for (guint i = 0; i < tx->envelope->rcpt_to->len; i++)
      smtp_tx_queue_rcpt(self, tx, i);
    smtp_io_queue(self, "DATA", NULL);
  }
}

/* The send step of the MAIL state: the transaction starts. */
static void
smtp_tx_start(FarceurSmtpClient *self, SmtpTransaction *tx)
{
  self->tx = tx;
  smtp_io_set_state(self, SMTP_STATE_MAIL);
  if (tx->sent_ahead) { /* its commands are out, their replies on the way */
    smtp_io_wait(self);
    return;
  }
  smtp_tx_queue_commands(self, tx);
  smtp_io_send(self);
}

/* A send asked for, with its @task (transfer full): refused at once, or
 * started, or queued behind the transaction under way.  Exactly one of
 * @message and @stream is given. */
void
smtp_tx_submit(FarceurSmtpClient *self, const FarceurEnvelope *envelope, GMimeObject *message,
               GMimeStream *stream, FarceurSmtpCommitFunc commit, gpointer commit_data, GTask *task)
{
  GError *error = NULL;
  SmtpTransaction *tx;

  g_task_set_check_cancellable(task, FALSE); /* a cancelled send still has a result */
  if ((tx = smtp_tx_prepare(self, envelope, message, stream, &error)) == NULL) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  tx->op = smtp_op_new(self, task);
  tx->commit = commit;
  tx->commit_data = commit_data;
  if (self->state == SMTP_STATE_READY && self->tx == NULL)
    smtp_tx_start(self, tx);
  else
    g_queue_push_tail(&self->queue, tx);
}

/* Start what waits: the next transaction (perhaps already sent behind the
 * last dot), a QUIT, or nothing. */
static void
smtp_tx_advance(FarceurSmtpClient *self)
{
  SmtpTransaction *next;

  if (self->closing != NULL) {
    smtp_io_fail(self, g_steal_pointer(&self->closing));
    return;
  }
  if ((next = g_queue_pop_head(&self->queue)) != NULL)
    smtp_tx_start(self, next);
  else if (self->quit != NULL)
    smtp_session_start_quit(self);
  else
    smtp_io_set_state(self, SMTP_STATE_READY);
}

/* The transaction is over: return its result, then go on. */
static void
smtp_tx_return(FarceurSmtpClient *self)
{
  g_autoptr(FarceurSmtpClient) keep G_GNUC_UNUSED = g_object_ref(self); /* alive to the end */
  SmtpTransaction *tx = g_steal_pointer(&self->tx);
  FarceurSmtpResult *result = g_steal_pointer(&tx->result);
  g_autoptr(GTask) task = smtp_op_finish(g_steal_pointer(&tx->op));

  smtp_tx_free(tx);
  smtp_io_stop_timer(self);
  /* Return first, so results come in the order asked; the state still says
   * busy, so a send or QUIT asked for from the callback is queued, and
   * started just below. */
  g_task_return_pointer(task, result, (GDestroyNotify)farceur_smtp_result_free);
  smtp_tx_advance(self);
}

static void
smtp_tx_end(FarceurSmtpClient *self, gboolean need_rset)
{
  if (need_rset && !self->closing) {
    smtp_io_set_state(self, SMTP_STATE_RSET);
    smtp_io_queue(self, "RSET", NULL);
    smtp_io_send(self);
    return;
  }
  smtp_tx_return(self);
}

/* Record why the transaction failed, from the reply that decided it. */
static void
smtp_tx_failed(FarceurSmtpClient *self, const char *what, const FarceurSmtpReply *reply)
{
  FarceurSmtpResult *result = self->tx->result;

  result->outcome = FARCEUR_SMTP_REPLY_IS_TRANSIENT(reply) ? FARCEUR_SMTP_OUTCOME_DEFERRED
                                                           : FARCEUR_SMTP_OUTCOME_REFUSED;
  g_clear_error(&result->error);
  result->error = smtp_io_reply_error(self, smtp_io_reply_error_code(reply), what, reply);
}

/* A 421 before the content: the transaction fails now, and the session
 * ends (the core has set self->closing).  Returns %TRUE when it was one. */
static gboolean
smtp_tx_closing_now(FarceurSmtpClient *self, const FarceurSmtpReply *reply)
{
  if (reply->code != 421)
    return FALSE;
  smtp_tx_failed(self, "server closing the connection", reply);
  smtp_tx_return(self);
  return TRUE;
}

static void
smtp_tx_on_mail(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  SmtpTransaction *tx = self->tx;

  if (smtp_tx_closing_now(self, reply))
    return;
  tx->result->mail_reply = farceur_smtp_reply_copy(reply);
  smtp_io_set_state(self, SMTP_STATE_RCPT);
  if (tx->pipelined) {
    smtp_io_wait(self); /* the RCPT replies are on their way */
    return;
  }
  if (!FARCEUR_SMTP_REPLY_IS_POSITIVE(reply)) {
    smtp_tx_failed(self, "MAIL FROM refused", reply);
    smtp_tx_end(self, TRUE);
    return;
  }
  smtp_tx_queue_rcpt(self, self->tx, 0);
  smtp_io_send(self);
}

/* No recipient accepted: the outcome follows the most hopeful refusal. */
static void
smtp_tx_no_recipient(FarceurSmtpClient *self)
{
  FarceurSmtpResult *result = self->tx->result;
  const FarceurSmtpReply *decisive = NULL;

  if (!FARCEUR_SMTP_REPLY_IS_POSITIVE(result->mail_reply)) {
    smtp_tx_failed(self, "MAIL FROM refused", result->mail_reply);
    return;
  }
  for (guint i = 0; i < result->recipients->len; i++) {
    FarceurSmtpRecipient *rcpt = result->recipients->pdata[i];

    if (decisive == NULL || FARCEUR_SMTP_REPLY_IS_TRANSIENT(rcpt->reply))
      decisive = rcpt->reply;
  }
  smtp_tx_failed(self, "every recipient refused, last", decisive);
}

static void
smtp_tx_on_rcpt(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  SmtpTransaction *tx = self->tx;
  FarceurSmtpRecipient *rcpt;
  gboolean more;

  if (smtp_tx_closing_now(self, reply))
    return;
  rcpt = tx->result->recipients->pdata[tx->rcpt_next++];
  more = tx->rcpt_next < tx->result->recipients->len;
  rcpt->reply = farceur_smtp_reply_copy(reply);
  if (FARCEUR_SMTP_REPLY_IS_POSITIVE(reply)
      && FARCEUR_SMTP_REPLY_IS_POSITIVE(tx->result->mail_reply))
    tx->result->n_accepted++;
  if (tx->pipelined) {
    if (!more)
      smtp_io_set_state(self, SMTP_STATE_DATA);
    smtp_io_wait(self);
    return;
  }
  if (more) {
    smtp_tx_queue_rcpt(self, tx, tx->rcpt_next);
    smtp_io_send(self);
    return;
  }
  if (tx->result->n_accepted == 0) {
    smtp_tx_no_recipient(self);
    smtp_tx_end(self, TRUE);
    return;
  }
  smtp_io_set_state(self, SMTP_STATE_DATA);
  smtp_io_queue(self, "DATA", NULL);
  smtp_io_send(self);
}

static void smtp_tx_send_content(FarceurSmtpClient *self);

/* The final dot goes in the output queue. */
static void
smtp_tx_queue_dot(FarceurSmtpClient *self)
{
  g_byte_array_append(self->outbuf, (const guint8 *)".\r\n", 3);
  smtp_io_transcript(self, "C: ", ".");
}

/* RFC 2920 3.1: a 354 after every RCPT was refused; end the empty
 * message at once (its reply is ignored, then RSET). */
static void
smtp_tx_discard(FarceurSmtpClient *self)
{
  self->tx->discard = TRUE;
  smtp_io_set_state(self, SMTP_STATE_DOT);
  smtp_tx_queue_dot(self);
  smtp_io_send(self);
}

static void
smtp_tx_on_data(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  SmtpTransaction *tx = self->tx;

  if (smtp_tx_closing_now(self, reply))
    return;
  tx->result->data_reply = farceur_smtp_reply_copy(reply);
  if (reply->code == 354 && tx->result->n_accepted > 0) {
    smtp_tx_send_content(self);
    return;
  }
  if (tx->result->n_accepted == 0)
    smtp_tx_no_recipient(self);
  else
    smtp_tx_failed(self, "DATA refused", reply);
  if (reply->code == 354)
    smtp_tx_discard(self);
  else
    smtp_tx_end(self, TRUE);
}

/* RFC 2920 3.1: a new group may follow the final dot in the same write:
 * the queued transaction's commands, or QUIT. */
static void
smtp_tx_send_ahead(FarceurSmtpClient *self)
{
  SmtpTransaction *next = g_queue_peek_head(&self->queue);

  if (!self->pipelining_allowed || !smtp_session_has_extension(self, "PIPELINING"))
    return;
  if (next != NULL) {
    smtp_tx_queue_commands(self, next);
    next->sent_ahead = TRUE;
  } else if (self->quit != NULL) {
    smtp_io_queue(self, "QUIT", NULL);
    self->quit_sent_ahead = TRUE;
  }
}

static void
smtp_tx_send_dot(FarceurSmtpClient *self)
{
  SmtpTransaction *tx = self->tx;
  GError *error = NULL;

  if (tx->commit != NULL && !tx->commit(self, tx->envelope, tx->commit_data, &error)) {
    smtp_io_fail(self, error); /* no dot: the server drops the message */
    return;
  }
  tx->dot_sent = TRUE;
  smtp_io_set_state(self, SMTP_STATE_DOT);
  smtp_tx_queue_dot(self);
  smtp_tx_send_ahead(self);
  smtp_io_send(self);
}

/* What goes out next: a small content at once, from memory; a spooled one
 * SMTP_DATA_CHUNK octets at a time, read from its file (a regular file: a
 * blocking read there is short).  Returns NULL when it cannot be read. */
static const guint8 *
smtp_tx_next_chunk(SmtpTransaction *tx, gsize *n)
{
  *n = (gsize)MIN(tx->data.size - tx->content_sent, SMTP_DATA_CHUNK);
  if (GMIME_IS_STREAM_MEM(tx->data.content)) {
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(tx->data.content));

    *n = (gsize)(tx->data.size - tx->content_sent);
    return bytes->data + tx->content_sent;
  }
  if (tx->chunk == NULL)
    tx->chunk = g_malloc(SMTP_DATA_CHUNK);
  if (*n > 0 && g_mime_stream_read(tx->data.content, (char *)tx->chunk, *n) != (gssize)*n)
    return NULL;
  return tx->chunk;
}

/* The next write of content; after the last, and the commit hook, the dot.
 * The timer restarts per write: it measures the lack of progress, not the
 * length of the message. */
static void
smtp_tx_send_chunk(FarceurSmtpClient *self)
{
  SmtpTransaction *tx = self->tx;
  gsize n;
  const guint8 *chunk = smtp_tx_next_chunk(tx, &n);

  if (chunk == NULL) {
    smtp_io_fail(self, g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_IO,
                                   "message: cannot read its spooled copy back"));
    return;
  }
  if (n == 0) {
    smtp_tx_send_dot(self);
    return;
  }
  tx->content_sent += n;
  smtp_io_write(self, chunk, n, "sending the message", smtp_tx_send_chunk);
}

/* The content (checked for bare CR and LF and dot-stuffed when prepared):
 * up to SMTP_DATA_CHUNK octets in memory, in the same write as the dot and
 * what is sent ahead of it (one system call and one turn of the loop a
 * message fewer); larger, in SMTP_DATA_CHUNK writes, then the dot.  The
 * commit hook runs before the dot is queued either way. */
static void
smtp_tx_send_content(FarceurSmtpClient *self)
{
  SmtpTransaction *tx = self->tx;
  g_autofree char *shown
      = g_strdup_printf("<%" G_GUINT64_FORMAT " octets of content>", tx->data.size);

  smtp_io_set_state(self, SMTP_STATE_CONTENT);
  smtp_io_transcript(self, "C: ", shown);
  if (GMIME_IS_STREAM_MEM(tx->data.content) && tx->data.size <= SMTP_DATA_CHUNK
      && self->outbuf->len == 0) {
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(tx->data.content));
    g_byte_array_append(self->outbuf, bytes->data, (guint)tx->data.size);
    tx->content_sent = tx->data.size;
    smtp_tx_send_dot(self);
    return;
  }
  smtp_tx_send_chunk(self);
}

/* LMTP: one reply per accepted recipient, in RCPT order. */
static gboolean
smtp_tx_on_lmtp_reply(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  FarceurSmtpResult *result = self->tx->result;

  while (self->tx->lmtp_next < result->recipients->len) {
    FarceurSmtpRecipient *rcpt = result->recipients->pdata[self->tx->lmtp_next++];

    if (FARCEUR_SMTP_REPLY_IS_POSITIVE(rcpt->reply)) {
      rcpt->data_reply = farceur_smtp_reply_copy(reply);
      if (!FARCEUR_SMTP_REPLY_IS_POSITIVE(reply))
        result->n_accepted--;
      break;
    }
  }
  for (guint i = self->tx->lmtp_next; i < result->recipients->len; i++)
    if (FARCEUR_SMTP_REPLY_IS_POSITIVE(
            ((FarceurSmtpRecipient *)result->recipients->pdata[i])->reply))
      return FALSE; /* more replies to come */
  return TRUE;
}

static void
smtp_tx_on_dot(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  SmtpTransaction *tx = self->tx;

  if (tx->discard) { /* the reply to a "." closing an empty message */
    smtp_tx_end(self, TRUE);
    return;
  }
  if (tx->result->final_reply == NULL)
    tx->result->final_reply = farceur_smtp_reply_copy(reply);
  if (self->lmtp && !smtp_tx_on_lmtp_reply(self, reply)) {
    smtp_io_wait(self);
    return;
  }
  if (self->lmtp ? tx->result->n_accepted > 0 : FARCEUR_SMTP_REPLY_IS_POSITIVE(reply))
    tx->result->outcome = FARCEUR_SMTP_OUTCOME_DELIVERED;
  else
    smtp_tx_failed(self, "message refused after DATA", reply);
  if (tx->result->outcome != FARCEUR_SMTP_OUTCOME_DELIVERED)
    tx->result->n_accepted = 0;
  smtp_tx_end(self, FALSE);
}

static void
smtp_tx_on_rset(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  if (!FARCEUR_SMTP_REPLY_IS_POSITIVE(reply))
    smtp_io_set_closing(self, FARCEUR_ERROR_PROTOCOL, "RSET refused", reply);
  smtp_tx_return(self);
}

/* --- the rows handed to the core ---------------------------------------- */

static const SmtpHandlerRow smtp_tx_handlers[] = {
  { SMTP_STATE_MAIL, smtp_tx_on_mail }, { SMTP_STATE_RCPT, smtp_tx_on_rcpt },
  { SMTP_STATE_DATA, smtp_tx_on_data }, { SMTP_STATE_DOT, smtp_tx_on_dot },
  { SMTP_STATE_RSET, smtp_tx_on_rset },
};

void
smtp_tx_register(FarceurSmtpClient *self)
{
  smtp_io_register(self, smtp_tx_handlers, G_N_ELEMENTS(smtp_tx_handlers));
  smtp_io_set_abandon(self, smtp_tx_abandon_all);
}
