/* Mail transactions on a FarceurSmtpClient: MAIL, RCPT, DATA, content, the
 * final dot, RSET; the queue of transactions waiting their turn, and the
 * PIPELINING of the next one behind the previous dot.  The connection, its
 * I/O and the session setup are in smtp-client.c. */
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
smtp_recipient_free(FarceurSmtpRecipient *rcpt)
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
smtp_result_new(const FarceurEnvelope *envelope)
{
  FarceurSmtpResult *result = g_new0(FarceurSmtpResult, 1);

  result->outcome = FARCEUR_SMTP_OUTCOME_DEFERRED;
  result->recipients = g_ptr_array_new_with_free_func((GDestroyNotify)smtp_recipient_free);
  for (guint i = 0; i < envelope->rcpt_to->len; i++) {
    FarceurSmtpRecipient *rcpt = g_new0(FarceurSmtpRecipient, 1);

    rcpt->address = g_strdup(envelope->rcpt_to->pdata[i]);
    g_ptr_array_add(result->recipients, rcpt);
  }
  return result;
}

void
smtp_transaction_free(SmtpTransaction *tx)
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
void
smtp_client_tx_abandon(SmtpTransaction *tx, const GError *error)
{
  g_autoptr(GTask) task = smtp_op_finish(g_steal_pointer(&tx->op));
  FarceurSmtpResult *result = g_steal_pointer(&tx->result);

  result->outcome = tx->dot_sent ? FARCEUR_SMTP_OUTCOME_UNKNOWN : FARCEUR_SMTP_OUTCOME_DEFERRED;
  g_clear_error(&result->error);
  result->error = g_error_copy(error);
  smtp_transaction_free(tx);
  g_task_return_pointer(task, result, (GDestroyNotify)farceur_smtp_result_free);
}

/* --- the mail transaction ----------------------------------------------- */

static gboolean
smtp_client_needs_utf8(const FarceurEnvelope *envelope, const SmtpData *data)
{
  if (data->utf8_header || !g_str_is_ascii(envelope->mail_from))
    return TRUE;
  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    if (!g_str_is_ascii(envelope->rcpt_to->pdata[i]))
      return TRUE;
  return FALSE;
}

static gboolean
smtp_client_check_envelope(const FarceurEnvelope *envelope, GError **error)
{
  if (envelope->rcpt_to->len == 0) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "envelope: no recipient");
    return FALSE;
  }
  if (envelope->mail_from[0] != '\0' && !farceur_envelope_check_address(envelope->mail_from, error))
    return FALSE;
  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    if (!farceur_envelope_check_address(envelope->rcpt_to->pdata[i], error))
      return FALSE;
  return TRUE;
}

/* Everything we can refuse before a command goes out. */
static gboolean
smtp_client_check_transaction(FarceurSmtpClient *self, SmtpTransaction *tx, GError **error)
{
  guint64 size = tx->data.size;

  if (smtp_client_needs_utf8(tx->envelope, &tx->data)
      && !farceur_smtp_client_has_extension(self, "SMTPUTF8")) {
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
smtp_client_prepare(FarceurSmtpClient *self, const FarceurEnvelope *envelope, GMimeObject *message,
                    GMimeStream *stream, GError **error)
{
  SmtpTransaction *tx;
  gboolean eightbit_ok = farceur_smtp_client_has_extension(self, "8BITMIME");

  if (self->state != SMTP_STATE_READY && !smtp_client_is_busy(self)) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "smtp client: not connected (%s state)",
                smtp_client_state_name(self->state));
    return NULL;
  }
  if (self->quit != NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "smtp client: quitting");
    return NULL;
  }
  if (!smtp_client_check_envelope(envelope, error))
    return NULL;
  tx = g_new0(SmtpTransaction, 1);
  tx->envelope = farceur_envelope_copy(envelope);
  if (!(message ? farceur_smtp_data_prepare(message, eightbit_ok, &tx->data, error)
                : farceur_smtp_data_prepare_stream(stream, eightbit_ok, &tx->data, error))
      || !smtp_client_check_transaction(self, tx, error)) {
    smtp_transaction_free(tx);
    return NULL;
  }
  tx->result = smtp_result_new(envelope);
  tx->result->size = tx->data.size;
  return tx;
}

static char *
smtp_client_mail_command(FarceurSmtpClient *self, SmtpTransaction *tx)
{
  GString *line = g_string_new(NULL);

  g_string_append_printf(line, "MAIL FROM:<%s>", tx->envelope->mail_from);
  if (farceur_smtp_client_has_extension(self, "SIZE"))
    g_string_append_printf(line, " SIZE=%" G_GUINT64_FORMAT, tx->data.size);
  if (tx->data.eightbit && farceur_smtp_client_has_extension(self, "8BITMIME"))
    g_string_append(line, " BODY=8BITMIME");
  if (smtp_client_needs_utf8(tx->envelope, &tx->data))
    g_string_append(line, " SMTPUTF8");
  return g_string_free(line, FALSE);
}

static void
smtp_client_queue_rcpt(FarceurSmtpClient *self, SmtpTransaction *tx, guint index)
{
  g_autofree char *line
      = g_strdup_printf("RCPT TO:<%s>", (char *)tx->envelope->rcpt_to->pdata[index]);

  smtp_client_queue(self, line, NULL);
}

/* MAIL FROM; with PIPELINING the RCPTs and DATA too (RFC 2920: DATA ends
 * the group; the content waits for the 354). */
static void
smtp_client_queue_transaction(FarceurSmtpClient *self, SmtpTransaction *tx)
{
  g_autofree char *mail = smtp_client_mail_command(self, tx);

  tx->pipelined = self->pipelining_allowed && farceur_smtp_client_has_extension(self, "PIPELINING");
  smtp_client_queue(self, mail, NULL);
  if (tx->pipelined) {
    for (guint i = 0; i < tx->envelope->rcpt_to->len; i++)
      smtp_client_queue_rcpt(self, tx, i);
    smtp_client_queue(self, "DATA", NULL);
  }
}

/* The send step of the MAIL state: the transaction starts. */
static void
smtp_client_start_transaction(FarceurSmtpClient *self, SmtpTransaction *tx)
{
  self->tx = tx;
  smtp_client_set_state(self, SMTP_STATE_MAIL);
  if (tx->sent_ahead) { /* its commands are out, their replies on the way */
    smtp_client_wait(self);
    return;
  }
  smtp_client_queue_transaction(self, tx);
  smtp_client_send(self);
}

static void
smtp_client_send_common(FarceurSmtpClient *client, const FarceurEnvelope *envelope,
                        GMimeObject *message, GMimeStream *stream, FarceurSmtpCommitFunc commit,
                        gpointer commit_data, GTask *task)
{
  GError *error = NULL;
  SmtpTransaction *tx;

  g_task_set_check_cancellable(task, FALSE); /* a cancelled send still has a result */
  if ((tx = smtp_client_prepare(client, envelope, message, stream, &error)) == NULL) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  tx->op = smtp_op_new(client, task);
  tx->commit = commit;
  tx->commit_data = commit_data;
  if (client->state == SMTP_STATE_READY && client->tx == NULL)
    smtp_client_start_transaction(client, tx);
  else
    g_queue_push_tail(&client->queue, tx);
}

/**
 * farceur_smtp_client_send_async:
 * @client: a connected client
 * @envelope: MAIL FROM and RCPT TO; every address is checked first
 * @message: the message; re-encoded in place to 7 bit when it holds 8-bit
 *   content and the server lacks 8BITMIME, or holds lines over 998 octets
 * @commit: (nullable) (scope async): called once, right before the final dot
 * @commit_data: data for @commit
 * @cancellable: (nullable): a #GCancellable; cancelling kills the connection
 * @callback: called when the transaction is over
 * @user_data: data for @callback
 *
 * One mail transaction: MAIL, RCPT per recipient, DATA, content, dot (with
 * PIPELINING, MAIL + RCPTs + DATA in one write), RSET when it failed before
 * the dot.  Asked for while another transaction runs, it is queued (and,
 * with PIPELINING, sent right behind that one's final dot).  The message is
 * serialised, checked and measured now, against the extensions of the
 * current session, without holding it whole in memory: a wire form over
 * 1 MiB waits in an unlinked file of g_get_tmp_dir() (the attachments
 * themselves are read from where GMime finds them, once per pass).
 */
void
farceur_smtp_client_send_async(FarceurSmtpClient *client, const FarceurEnvelope *envelope,
                               GMimeObject *message, FarceurSmtpCommitFunc commit,
                               gpointer commit_data, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(client, cancellable, callback, user_data);

  g_return_if_fail(GMIME_IS_OBJECT(message));
  g_task_set_source_tag(task, farceur_smtp_client_send_async);
  smtp_client_send_common(client, envelope, message, NULL, commit, commit_data, task);
}

/**
 * farceur_smtp_client_send_stream_async:
 * @client: a connected client
 * @envelope: MAIL FROM and RCPT TO; every address is checked first
 * @stream: a stored message, read from its start (g_mime_stream_reset):
 *   sent as it is but for line ends and dot-stuffing, as `sendmail -i`
 *   does; parsed and re-encoded by GMime only when it holds a line over 998
 *   octets, or 8-bit content and the server lacks 8BITMIME.  Nothing is
 *   removed from it: Bcc and Return-Path are the caller's business
 * @commit: (nullable) (scope async): as for farceur_smtp_client_send_async()
 * @commit_data: data for @commit
 * @cancellable: (nullable): as for farceur_smtp_client_send_async()
 * @callback: called when the transaction is over
 * @user_data: data for @callback
 *
 * farceur_smtp_client_send_async() for a message kept as octets: no GMime
 * serialisation, and signatures over the header (DKIM) stay valid.
 * Finish with farceur_smtp_client_send_finish().
 */
void
farceur_smtp_client_send_stream_async(FarceurSmtpClient *client, const FarceurEnvelope *envelope,
                                      GMimeStream *stream, FarceurSmtpCommitFunc commit,
                                      gpointer commit_data, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(client, cancellable, callback, user_data);

  g_return_if_fail(GMIME_IS_STREAM(stream));
  g_task_set_source_tag(task, farceur_smtp_client_send_stream_async);
  smtp_client_send_common(client, envelope, NULL, stream, commit, commit_data, task);
}

/**
 * farceur_smtp_client_send_finish:
 * @client: a client
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full) (nullable): the transaction's result whenever it
 *   was accepted for sending, whatever the outcome (its @error says why it
 *   was not delivered, connection failures included); %NULL with @error
 *   only when refused at once: the client was not connected or quitting
 *   (%FARCEUR_ERROR_USAGE), an address was invalid, the message needs
 *   SMTPUTF8 or is over SIZE or cannot be made 7-bit clean
 *   (%FARCEUR_ERROR_DATA)
 */
FarceurSmtpResult *
farceur_smtp_client_send_finish(FarceurSmtpClient *client, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, client), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

void
smtp_client_start_quit(FarceurSmtpClient *self)
{
  self->op = g_steal_pointer(&self->quit);
  smtp_client_set_state(self, SMTP_STATE_QUIT);
  if (self->quit_sent_ahead) { /* it went out behind the last dot */
    smtp_client_wait(self);
    return;
  }
  smtp_client_queue(self, "QUIT", NULL);
  smtp_client_send(self);
}

/* Start what waits: the next transaction (perhaps already sent behind the
 * last dot), a QUIT, or nothing. */
static void
smtp_client_advance(FarceurSmtpClient *self)
{
  SmtpTransaction *next;

  if (self->closing != NULL) {
    smtp_client_fail(self, g_steal_pointer(&self->closing));
    return;
  }
  if ((next = g_queue_pop_head(&self->queue)) != NULL)
    smtp_client_start_transaction(self, next);
  else if (self->quit != NULL)
    smtp_client_start_quit(self);
  else
    smtp_client_set_state(self, SMTP_STATE_READY);
}

/* The transaction is over: return its result, then go on. */
void
smtp_client_tx_return(FarceurSmtpClient *self)
{
  g_autoptr(FarceurSmtpClient) keep = g_object_ref(self);
  SmtpTransaction *tx = g_steal_pointer(&self->tx);
  FarceurSmtpResult *result = g_steal_pointer(&tx->result);
  g_autoptr(GTask) task = smtp_op_finish(g_steal_pointer(&tx->op));

  smtp_transaction_free(tx);
  smtp_client_stop_timer(self);
  /* Return first, so results come in the order asked; the state still says
   * busy, so a send or QUIT asked for from the callback is queued, and
   * started just below. */
  g_task_return_pointer(task, result, (GDestroyNotify)farceur_smtp_result_free);
  smtp_client_advance(self);
}

static void
smtp_client_tx_end(FarceurSmtpClient *self, gboolean need_rset)
{
  if (need_rset && !self->closing) {
    smtp_client_set_state(self, SMTP_STATE_RSET);
    smtp_client_queue(self, "RSET", NULL);
    smtp_client_send(self);
    return;
  }
  smtp_client_tx_return(self);
}

/* Record why the transaction failed, from the reply that decided it. */
void
smtp_client_tx_failed(FarceurSmtpClient *self, const char *what, const FarceurSmtpReply *reply)
{
  FarceurSmtpResult *result = self->tx->result;
  g_autofree char *flat = g_strdelimit(g_strdup(reply->text), "\n", ' ');

  result->outcome = FARCEUR_SMTP_REPLY_IS_TRANSIENT(reply) ? FARCEUR_SMTP_OUTCOME_DEFERRED
                                                           : FARCEUR_SMTP_OUTCOME_REFUSED;
  g_clear_error(&result->error);
  result->error
      = g_error_new(FARCEUR_ERROR, smtp_client_reply_error_code(reply),
                    "smtp server '%s': %s: %u %s", self->server_name, what, reply->code, flat);
}

void
smtp_client_on_mail(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  SmtpTransaction *tx = self->tx;

  tx->result->mail_reply = farceur_smtp_reply_copy(reply);
  smtp_client_set_state(self, SMTP_STATE_RCPT);
  if (tx->pipelined) {
    smtp_client_wait(self); /* the RCPT replies are on their way */
    return;
  }
  if (!FARCEUR_SMTP_REPLY_IS_POSITIVE(reply)) {
    smtp_client_tx_failed(self, "MAIL FROM refused", reply);
    smtp_client_tx_end(self, TRUE);
    return;
  }
  smtp_client_queue_rcpt(self, self->tx, 0);
  smtp_client_send(self);
}

/* No recipient accepted: the outcome follows the most hopeful refusal. */
static void
smtp_client_tx_no_recipient(FarceurSmtpClient *self)
{
  FarceurSmtpResult *result = self->tx->result;
  const FarceurSmtpReply *decisive = NULL;

  if (!FARCEUR_SMTP_REPLY_IS_POSITIVE(result->mail_reply)) {
    smtp_client_tx_failed(self, "MAIL FROM refused", result->mail_reply);
    return;
  }
  for (guint i = 0; i < result->recipients->len; i++) {
    FarceurSmtpRecipient *rcpt = result->recipients->pdata[i];

    if (decisive == NULL || FARCEUR_SMTP_REPLY_IS_TRANSIENT(rcpt->reply))
      decisive = rcpt->reply;
  }
  smtp_client_tx_failed(self, "every recipient refused, last", decisive);
}

void
smtp_client_on_rcpt(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  SmtpTransaction *tx = self->tx;
  FarceurSmtpRecipient *rcpt = tx->result->recipients->pdata[tx->rcpt_next++];
  gboolean more = tx->rcpt_next < tx->result->recipients->len;

  rcpt->reply = farceur_smtp_reply_copy(reply);
  if (FARCEUR_SMTP_REPLY_IS_POSITIVE(reply)
      && FARCEUR_SMTP_REPLY_IS_POSITIVE(tx->result->mail_reply))
    tx->result->n_accepted++;
  if (tx->pipelined) {
    if (!more)
      smtp_client_set_state(self, SMTP_STATE_DATA);
    smtp_client_wait(self);
    return;
  }
  if (more) {
    smtp_client_queue_rcpt(self, tx, tx->rcpt_next);
    smtp_client_send(self);
    return;
  }
  if (tx->result->n_accepted == 0) {
    smtp_client_tx_no_recipient(self);
    smtp_client_tx_end(self, TRUE);
    return;
  }
  smtp_client_set_state(self, SMTP_STATE_DATA);
  smtp_client_queue(self, "DATA", NULL);
  smtp_client_send(self);
}

static void smtp_client_send_content(FarceurSmtpClient *self);

void
smtp_client_on_data(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  SmtpTransaction *tx = self->tx;

  tx->result->data_reply = farceur_smtp_reply_copy(reply);
  if (reply->code == 354 && tx->result->n_accepted > 0) {
    smtp_client_send_content(self);
    return;
  }
  if (tx->result->n_accepted == 0)
    smtp_client_tx_no_recipient(self);
  else
    smtp_client_tx_failed(self, "DATA refused", reply);
  if (reply->code == 354) { /* RFC 2920 3.1: end the empty message at once */
    tx->discard = TRUE;
    smtp_client_set_state(self, SMTP_STATE_DOT);
    g_byte_array_append(self->outbuf, (const guint8 *)".\r\n", 3);
    smtp_client_transcript(self, "C: ", ".");
    smtp_client_send(self);
    return;
  }
  smtp_client_tx_end(self, TRUE);
}

/* RFC 2920 3.1: a new group may follow the final dot in the same write:
 * the queued transaction's commands, or QUIT. */
static void
smtp_client_send_ahead(FarceurSmtpClient *self)
{
  SmtpTransaction *next = g_queue_peek_head(&self->queue);

  if (!self->pipelining_allowed || !farceur_smtp_client_has_extension(self, "PIPELINING"))
    return;
  if (next != NULL) {
    smtp_client_queue_transaction(self, next);
    next->sent_ahead = TRUE;
  } else if (self->quit != NULL) {
    smtp_client_queue(self, "QUIT", NULL);
    self->quit_sent_ahead = TRUE;
  }
}

static void
smtp_client_send_dot(FarceurSmtpClient *self)
{
  SmtpTransaction *tx = self->tx;
  GError *error = NULL;

  if (tx->commit != NULL && !tx->commit(self, tx->envelope, tx->commit_data, &error)) {
    smtp_client_fail(self, error); /* no dot: the server drops the message */
    return;
  }
  tx->dot_sent = TRUE;
  smtp_client_set_state(self, SMTP_STATE_DOT);
  smtp_client_transcript(self, "C: ", ".");
  g_byte_array_append(self->outbuf, (const guint8 *)".\r\n", 3);
  smtp_client_send_ahead(self);
  smtp_client_start_timer(self);
  g_output_stream_write_all_async(g_io_stream_get_output_stream(self->stream), self->outbuf->data,
                                  self->outbuf->len, G_PRIORITY_DEFAULT, self->io_cancellable,
                                  smtp_client_write_ready_cb, self);
}

static void smtp_client_send_chunk(FarceurSmtpClient *self);

static void
smtp_client_content_ready_cb(GObject *source, GAsyncResult *res, gpointer data)
{
  FarceurSmtpClient *self = data;
  GError *error = NULL;

  smtp_client_stop_timer(self);
  if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error)) {
    smtp_client_fail(self, smtp_client_io_error(self, error, "sending the message"));
    return;
  }
  smtp_client_send_chunk(self);
}

/* What goes out next: a small content at once, from memory; a spooled one
 * SMTP_DATA_CHUNK octets at a time, read from its file (a regular file: a
 * blocking read there is short).  Returns NULL when it cannot be read. */
static const guint8 *
smtp_client_next_chunk(SmtpTransaction *tx, gsize *n)
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
smtp_client_send_chunk(FarceurSmtpClient *self)
{
  SmtpTransaction *tx = self->tx;
  gsize n;
  const guint8 *chunk = smtp_client_next_chunk(tx, &n);

  if (chunk == NULL) {
    smtp_client_fail(self, g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_IO,
                                       "message: cannot read its spooled copy back"));
    return;
  }
  if (n == 0) {
    smtp_client_send_dot(self);
    return;
  }
  tx->content_sent += n;
  smtp_client_start_timer(self);
  g_output_stream_write_all_async(g_io_stream_get_output_stream(self->stream), chunk, n,
                                  G_PRIORITY_DEFAULT, self->io_cancellable,
                                  smtp_client_content_ready_cb, self);
}

/* The content (checked for bare CR and LF and dot-stuffed when prepared)
 * in one write when small, else in SMTP_DATA_CHUNK writes; then, after the
 * commit hook, the dot. */
static void
smtp_client_send_content(FarceurSmtpClient *self)
{
  SmtpTransaction *tx = self->tx;
  g_autofree char *shown
      = g_strdup_printf("<%" G_GUINT64_FORMAT " octets of content>", tx->data.size);

  smtp_client_set_state(self, SMTP_STATE_CONTENT);
  smtp_client_transcript(self, "C: ", shown);
  smtp_client_send_chunk(self);
}

/* LMTP: one reply per accepted recipient, in RCPT order. */
static gboolean
smtp_client_on_lmtp_reply(FarceurSmtpClient *self, FarceurSmtpReply *reply)
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

void
smtp_client_on_dot(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  SmtpTransaction *tx = self->tx;

  if (tx->discard) { /* the reply to a "." closing an empty message */
    smtp_client_tx_end(self, TRUE);
    return;
  }
  if (tx->result->final_reply == NULL)
    tx->result->final_reply = farceur_smtp_reply_copy(reply);
  if (self->lmtp && !smtp_client_on_lmtp_reply(self, reply)) {
    smtp_client_wait(self);
    return;
  }
  if (self->lmtp ? tx->result->n_accepted > 0 : FARCEUR_SMTP_REPLY_IS_POSITIVE(reply))
    tx->result->outcome = FARCEUR_SMTP_OUTCOME_DELIVERED;
  else
    smtp_client_tx_failed(self, "message refused after DATA", reply);
  if (tx->result->outcome != FARCEUR_SMTP_OUTCOME_DELIVERED)
    tx->result->n_accepted = 0;
  smtp_client_tx_end(self, FALSE);
}

void
smtp_client_on_rset(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  if (!FARCEUR_SMTP_REPLY_IS_POSITIVE(reply))
    smtp_client_set_closing(self, FARCEUR_ERROR_PROTOCOL, "RSET refused", reply);
  smtp_client_tx_return(self);
}
