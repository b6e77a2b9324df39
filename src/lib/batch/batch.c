/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the send queue: N sessions in one thread, retries, journal.
 *
 * Two passes over the inputs: farceur_batch_add_input() reads every message
 * once to derive and check its envelope and hash it (nothing is kept but
 * that summary, so 10,000 messages cost kilobytes); farceur_batch_run()
 * reads them again in the same order as sessions free up, checks each still
 * hashes the same, and hands it to the first idle session.  Messages from
 * stdin cannot be read twice and are kept.  A message waiting for a retry
 * is kept until its outcome is final.
 *
 * A message is sent as stored: its own octets (a whole file, or its range
 * of an mbox) less the fields that must not leave (batch-stored.c), hashed
 * as such; the second pass reads them again without parsing.  A message
 * whose fields could not be located goes out as GMime serialises it.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <farceur/batch.h>
#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/init.h>
#include <farceur/input.h>
#include <farceur/target-smtp.h>

#include "batch-private.h"
#include "digest.h"

/* What a single-message file looked like when pass 1 parsed it. */
typedef struct {
  gboolean valid; /* FALSE: mbox, stdin, or changed around pass 1 */
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime, ctime;
} BatchStamp;

typedef struct {
  char *source;
  char *sha256;
  char *header_from; /* first From mailbox, for the envelope/header comparison */
  gsize size;
  char *path;            /* the file it is read from; NULL when added directly */
  guint index;           /* its place in an mbox, from 1; 0 for a one-message file */
  GArray *cuts;          /* sent as stored, less these (BatchCut); NULL: as GMime writes it */
  gint64 offset, length; /* where the stored octets are in the file */
  GMimeMessage *message; /* kept: added directly, or waiting for a retry */
  GMimeStream *stream;   /* as stored, less the cuts: stdin, or waiting for a retry */
  FarceurEnvelope *envelope;
  FarceurBatchEnvelopeOrigin origin;
  FarceurEnvelope *pending;       /* recipients still to deliver */
  FarceurDelivery *record;        /* final per-recipient outcomes so far */
  FarceurDelivery *last_deferred; /* the latest 4xx of each recipient still pending */
  guint attempts;
  gint64 started;
  GError *error;
  BatchStamp stamp; /* the file as pass 1 saw it */
  gboolean has_unknown;
  guint earlier_unknown; /* recipients an earlier run left unknown (journal) */
  gboolean done;
  FarceurBatchState state; /* once done */
  double seconds;          /* once done: since the first attempt */
} BatchItem;

/* One session.  With a session target two deliveries are kept in flight:
 * the client queues the second and, with PIPELINING, writes its envelope
 * right behind the first one's final dot (one round trip per message).  A
 * local target (one slot) takes BATCH_LOCAL_DEPTH: the messages given while
 * a group is synced form the next group, which shares one sync
 * (data/doc/formats.md). */
#define BATCH_SESSION_DEPTH 2
#define BATCH_LOCAL_DEPTH 64

typedef struct {
  FarceurBatch *batch;
  FarceurTarget *target;
  guint inflight;
  guint depth;     /* BATCH_SESSION_DEPTH or BATCH_LOCAL_DEPTH */
  gboolean local;  /* a file: no session */
  gboolean hinted; /* told no more deliveries follow */
} BatchSlot;

typedef struct {
  BatchSlot *slot;
  BatchItem *item;
  gboolean splittable; /* counted in FarceurBatch.splittable */
} BatchSend;

struct _FarceurBatch {
  FarceurBatchOptions options;
  char *mail_from;
  GStrv rcpts;
  GPtrArray *items; /* (element-type BatchItem) in input order */
  FarceurBatchResultFunc result_func;
  gpointer result_data;
  FarceurBatchSummary summary;

  /* While running. */
  GPtrArray *slots;     /* (element-type BatchSlot) */
  GQueue retry;         /* BatchItem ready to be tried again */
  guint next;           /* next item, in order, not yet taken */
  FarceurInput *reader; /* the file of the next message sent as GMime writes it */
  char *reader_path;
  guint reader_index;     /* messages read from it so far */
  guint timers;           /* retries waiting for their back-off */
  guint splittable;       /* in flight to a session with several recipients: may come back
                           * split by the server's recipient limit */
  GPtrArray *waits;       /* (element-type BatchRetry) those retries, to drop when stopped */
  GHashTable *claimed;    /* with a journal: delivery key -> the source taking it this run */
  GSource *cancel_source; /* wakes the loop when the cancellable is cancelled */
  gboolean aborted;
  gboolean stopping; /* farceur_batch_stop(): no new message */
  GCancellable *cancellable;
  GMainLoop *loop;
  /* A local target has many deliveries in flight and finishes them out of
   * order: their results are reported in input order, as one at a time
   * did.  Items before this one are reported. */
  gboolean ordered;
  guint reported;
  GError *stop_error; /* what aborted the run */
};

static const char *batch_state_names[]
    = { "delivered", "partial", "refused", "deferred", "unknown", "skipped", "failed" };

/**
 * farceur_batch_state_to_string:
 * @state: a message's final state
 *
 * Returns: (transfer none): its name in `--json` ("delivered", "partial",
 *   "refused", "deferred", "unknown", "skipped", "failed"), "?" for no state
 */
const char *
farceur_batch_state_to_string(FarceurBatchState state)
{
  return (guint)state < G_N_ELEMENTS(batch_state_names) ? batch_state_names[state] : "?";
}

static const char *batch_origin_names[] = { "headers", "stored", "options" };

/**
 * farceur_batch_envelope_origin_to_string:
 * @origin: where an envelope came from
 *
 * Returns: (transfer none): its name in `--json` ("headers", "stored",
 *   "options"), "?" for none of them
 */
const char *
farceur_batch_envelope_origin_to_string(FarceurBatchEnvelopeOrigin origin)
{
  return (guint)origin < G_N_ELEMENTS(batch_origin_names) ? batch_origin_names[origin] : "?";
}

/**
 * farceur_batch_options_init:
 * @options: options to fill
 *
 * Sets the defaults farceur-send(1) documents: 4 connections, 3 retries, 1 s first back-off.
 */
void
farceur_batch_options_init(FarceurBatchOptions *options)
{
  g_return_if_fail(options != NULL);

  memset(options, 0, sizeof *options);
  options->connections = 4;
  options->retries = 3;
  options->retry_delay_ms = 1000;
}

static void
batch_item_free(gpointer data)
{
  BatchItem *item = data;

  g_free(item->source);
  g_free(item->sha256);
  g_free(item->header_from);
  g_free(item->path);
  if (item->cuts != NULL)
    g_array_unref(item->cuts);
  g_clear_object(&item->message);
  g_clear_object(&item->stream);
  farceur_envelope_free(item->envelope);
  farceur_envelope_free(item->pending);
  farceur_delivery_free(item->record);
  farceur_delivery_free(item->last_deferred);
  g_clear_error(&item->error);
  g_free(item);
}

/**
 * farceur_batch_new:
 * @options: how to run; copied (the journal is borrowed and must outlive the batch)
 *
 * Returns: (transfer full): an empty batch
 */
FarceurBatch *
farceur_batch_new(const FarceurBatchOptions *options)
{
  FarceurBatch *batch;

  g_return_val_if_fail(options != NULL, NULL);

  batch = g_new0(FarceurBatch, 1);
  farceur_init();
  batch->options = *options;
  batch->options.connections = MAX(options->connections, 1);
  batch->mail_from = g_strdup(options->mail_from);
  batch->rcpts = g_strdupv((char **)options->rcpts);
  batch->options.mail_from = batch->mail_from;
  batch->options.rcpts = (const char *const *)batch->rcpts;
  batch->items = g_ptr_array_new_with_free_func(batch_item_free);
  batch->claimed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init(&batch->retry);
  return batch;
}

/**
 * farceur_batch_free:
 * @batch: (nullable): a batch
 */
void
farceur_batch_free(FarceurBatch *batch)
{
  if (batch == NULL)
    return;
  g_ptr_array_unref(batch->items);
  g_hash_table_unref(batch->claimed);
  g_clear_error(&batch->stop_error);
  g_free(batch->reader_path);
  g_queue_clear(&batch->retry);
  g_free(batch->mail_from);
  g_strfreev(batch->rcpts);
  g_free(batch);
}

/* ---- pass 1: read, derive, check, hash ---- */

/* SHA-256 and size of the message as GMime writes it, streamed into
 * inspect's digest sink (libcrypto's SHA-256 when built with it, 5x
 * GChecksum's here; nothing is held in memory). */
static char *
batch_hash(GMimeMessage *message, gsize *size)
{
  g_autoptr(GMimeStream) digest = digest_stream_new();

  g_mime_object_write_to_stream(GMIME_OBJECT(message), NULL, digest);
  *size = (gsize)digest_stream_get_size(digest);
  return digest_stream_finish(digest);
}

static char *
batch_first_mailbox(InternetAddressList *list)
{
  for (int i = 0; list && i < internet_address_list_length(list); i++) {
    InternetAddress *ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(ia))
      return g_strdup(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
  }
  return NULL;
}

/* MAIL FROM when the headers give no envelope (no To/Cc/Bcc) but --rcpt does. */
static char *
batch_header_sender(GMimeMessage *message)
{
  char *sender = batch_first_mailbox(g_mime_message_get_sender(message));

  return sender ? sender : batch_first_mailbox(g_mime_message_get_from(message));
}

static FarceurEnvelope *
batch_envelope_from_options(FarceurBatch *batch, GMimeMessage *message, GError **error)
{
  g_autoptr(FarceurEnvelope) envelope = NULL;
  g_autofree char *sender = NULL;

  if (batch->mail_from == NULL && (sender = batch_header_sender(message)) == NULL) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                        "message has no Sender or From to take MAIL FROM from (give --from)");
    return NULL;
  }
  envelope = farceur_envelope_new(batch->mail_from ? batch->mail_from : sender);
  if (!farceur_envelope_check_address(envelope->mail_from, error))
    return NULL;
  for (guint i = 0; batch->rcpts[i]; i++) {
    if (!farceur_envelope_check_address(batch->rcpts[i], error))
      return NULL;
    farceur_envelope_add_rcpt(envelope, batch->rcpts[i]);
  }
  return g_steal_pointer(&envelope);
}

/* --from, when given, replaces the MAIL FROM of @envelope. */
static gboolean
batch_envelope_sender(FarceurBatch *batch, FarceurEnvelope *envelope, GError **error)
{
  if (batch->mail_from == NULL)
    return TRUE;
  if (!farceur_envelope_check_address(batch->mail_from, error))
    return FALSE;
  g_free(envelope->mail_from);
  envelope->mail_from = g_strdup(batch->mail_from);
  return TRUE;
}

/* The envelope by data/doc/envelope.md (How send chooses the envelope):
 * --from wins for MAIL FROM; --rcpt replaces the recipients unless -t asks
 * for the headers' too; without either, the envelope a delivery stored in
 * the message (Return-Path and Envelope-to) when there is one, else the
 * headers'. */
static FarceurEnvelope *
batch_envelope(FarceurBatch *batch, GMimeMessage *message, FarceurBatchEnvelopeOrigin *origin,
               GError **error)
{
  g_autoptr(FarceurEnvelope) envelope = NULL;
  gboolean have_rcpts = batch->rcpts != NULL && batch->rcpts[0] != NULL;

  *origin = FARCEUR_BATCH_ENVELOPE_HEADERS;
  if (have_rcpts && !batch->options.rcpts_from_headers) {
    *origin = FARCEUR_BATCH_ENVELOPE_OPTIONS;
    return batch_envelope_from_options(batch, message, error);
  }
  if (!have_rcpts && !batch->options.rcpts_from_headers) {
    if (!farceur_envelope_from_stored(message, &envelope, error))
      return NULL;
    if (envelope != NULL)
      *origin = FARCEUR_BATCH_ENVELOPE_STORED;
  }
  if (envelope == NULL && (envelope = farceur_envelope_from_message(message, error)) == NULL)
    return NULL;
  if (!batch_envelope_sender(batch, envelope, error))
    return NULL;
  for (guint i = 0; batch->rcpts && batch->rcpts[i]; i++) {
    if (!farceur_envelope_check_address(batch->rcpts[i], error))
      return NULL;
    farceur_envelope_add_rcpt(envelope, batch->rcpts[i]);
  }
  return g_steal_pointer(&envelope);
}

/* Slack for the kernel's file clock, which lags the real time by up to one
 * tick (10 ms at HZ=100), against g_get_real_time(). */
#define BATCH_STAMP_SLACK_US 20000

/* The stamp of @path, a file holding one message.  Valid only when its
 * ctime is older than @before, the time pass 1 started reading it (the
 * file did not change while it was parsed: as git's "racy" index entries),
 * and has nanoseconds (a file system keeping whole seconds, FAT or ext3,
 * could stamp a write made after @before with an older second).  A
 * networked file system whose server clock is behind ours can defeat the
 * first test: then a file rewritten while pass 1 parsed it is sent as pass
 * 2 reads it, journaled under the hash of what pass 1 saw. */
static void
batch_stamp(BatchStamp *stamp, const char *path, gint64 before)
{
  struct stat st;

  memset(stamp, 0, sizeof *stamp);
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
    return;
  stamp->dev = st.st_dev;
  stamp->ino = st.st_ino;
  stamp->size = st.st_size;
  stamp->mtime = st.st_mtim;
  stamp->ctime = st.st_ctim;
  stamp->valid = before > 0 && st.st_ctim.tv_nsec != 0
                 && (gint64)st.st_ctim.tv_sec * G_USEC_PER_SEC + st.st_ctim.tv_nsec / 1000
                        < before - BATCH_STAMP_SLACK_US;
}

/* The messages of an mbox, from @first on, share the stamp of their file,
 * taken once all were read: valid when the file has not changed since
 * @before, when pass 1 opened it, so that pass 2 reads each message again
 * without hashing it again. */
static void
batch_stamp_mbox_items(FarceurBatch *batch, guint first, gint64 before)
{
  const BatchItem *last = NULL;

  for (guint i = first; i < batch->items->len; i++) {
    BatchItem *item = batch->items->pdata[i];
    if (item->index == 0 || item->path == NULL)
      continue;
    if (last != NULL && strcmp(last->path, item->path) == 0)
      item->stamp = last->stamp;
    else
      batch_stamp(&item->stamp, item->path, before);
    last = item;
  }
}

/* The file is as pass 1 saw it: no write since (any write moves ctime,
 * which user space cannot set back). */
static gboolean
batch_stamp_unchanged(const BatchStamp *stamp, const char *path)
{
  BatchStamp now;

  if (!stamp->valid)
    return FALSE;
  batch_stamp(&now, path, 0);
  return now.dev == stamp->dev && now.ino == stamp->ino && now.size == stamp->size
         && now.mtime.tv_sec == stamp->mtime.tv_sec && now.mtime.tv_nsec == stamp->mtime.tv_nsec
         && now.ctime.tv_sec == stamp->ctime.tv_sec && now.ctime.tv_nsec == stamp->ctime.tv_nsec;
}

/* SHA-256 and size of what @stream holds, from its start. */
static char *
batch_hash_stream(GMimeStream *stream, gsize *size)
{
  g_autoptr(GMimeStream) digest = digest_stream_new();

  g_mime_stream_reset(stream);
  g_mime_stream_write_to_stream(stream, digest);
  *size = (gsize)digest_stream_get_size(digest);
  return digest_stream_finish(digest);
}

/* Its sha256 and size, and how it will be sent: as stored when @stored is
 * given and its fields could be located, else as GMime serialises it
 * (stripped here, since the hash covers the message as sent). */
static void
batch_item_measure(BatchItem *item, GMimeMessage *message, GMimeStream *stored, gboolean keep)
{
  g_autoptr(GMimeStream) as_sent = NULL;

  if (stored != NULL && batch_stored_cuts(message, stored, &item->cuts)) {
    item->offset = stored->bound_start;
    item->length = g_mime_stream_length(stored);
    as_sent = batch_stored_as_sent(stored, item->cuts);
    item->sha256 = batch_hash_stream(as_sent, &item->size);
    if (keep)
      item->stream = g_steal_pointer(&as_sent);
    return;
  }
  /* The fields that never leave: the target strips them too, but the hash
   * must cover the bytes as sent. */
  farceur_envelope_strip_withheld(GMIME_OBJECT(message));
  item->sha256 = batch_hash(message, &item->size);
  if (keep)
    item->message = g_object_ref(message);
}

/* One message of pass 1 with its envelope (transfer full), already checked:
 * @msg from an input (a path unless @keep), or a message added directly
 * (@msg->path NULL, kept). */
void
batch_add_enveloped(FarceurBatch *batch, const FarceurInputMessage *msg, FarceurEnvelope *envelope,
                    FarceurBatchEnvelopeOrigin origin, gboolean keep)
{
  BatchItem *item = g_new0(BatchItem, 1);

  item->source = g_strdup(msg->source);
  item->envelope = envelope;
  item->origin = origin;
  item->header_from = batch_first_mailbox(g_mime_message_get_from(msg->message));
  if (!keep) {
    item->path = g_strdup(msg->path);
    item->index = msg->index;
  }
  batch_item_measure(item, msg->message, msg->stored, keep);
  g_ptr_array_add(batch->items, item);
}

/* One message of pass 1, its envelope derived from the options and headers. */
static gboolean
batch_add(FarceurBatch *batch, const FarceurInputMessage *msg, gboolean keep, GError **error)
{
  g_autoptr(GError) local = NULL;
  FarceurEnvelope *envelope;
  FarceurBatchEnvelopeOrigin origin;

  envelope = batch_envelope(batch, msg->message, &origin, &local); /* before Bcc goes */
  if (envelope == NULL) {
    g_set_error(error, local->domain, local->code, "message '%s': %s", msg->source, local->message);
    return FALSE;
  }
  batch_add_enveloped(batch, msg, envelope, origin, keep);
  return TRUE;
}

/**
 * farceur_batch_add_message:
 * @batch: a batch
 * @source: a name for the message in reports and the journal
 * @message: the message; kept (a reference) until sent; Bcc, Resent-Bcc and
 *   Return-Path are removed from it now
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Adds one message already in memory (a composed one).
 *
 * Returns: %TRUE when its envelope could be derived and is valid
 */
gboolean
farceur_batch_add_message(FarceurBatch *batch, const char *source, GMimeMessage *message,
                          GError **error)
{
  FarceurInputMessage msg = { .message = message, .source = (char *)source };

  g_return_val_if_fail(batch != NULL, FALSE);
  g_return_val_if_fail(source != NULL, FALSE);
  g_return_val_if_fail(GMIME_IS_MESSAGE(message), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  return batch_add(batch, &msg, TRUE, error);
}

/**
 * farceur_batch_add_input:
 * @batch: a batch
 * @input: a message file, a Maildir, a folder of files, an mbox or "-"
 * @error: return location for an error
 *
 * Reads every message of @input (of the shard the options name, if any),
 * derives its envelope (data/doc/envelope.md, How send chooses the
 * envelope), checks every address and hashes the message as it will be
 * sent.  Only "-" keeps its messages in memory;
 * the others are read again when sent.
 *
 * Returns: %TRUE when every message of @input is sendable
 */
gboolean
farceur_batch_add_input(FarceurBatch *batch, const char *input, GError **error)
{
  g_autoptr(FarceurInput) reader = NULL;
  gboolean keep;
  GError *local = NULL;

  g_return_val_if_fail(batch != NULL, FALSE);
  g_return_val_if_fail(input != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  gint64 opened = g_get_real_time();
  guint first = batch->items->len;

  reader = farceur_input_open(input, error);
  keep = strcmp(input, "-") == 0;
  if (reader == NULL)
    return FALSE;
  if (batch->options.shards > 0) /* pass 2 finds each message by its place */
    farceur_input_set_shard(reader, batch->options.shard, batch->options.shards);
  for (;;) {
    gint64 before = g_get_real_time();
    g_autoptr(FarceurInputMessage) msg = farceur_input_next(reader, &local);
    BatchItem *item;
    if (msg == NULL)
      break;
    if (!batch_add(batch, msg, keep, error))
      return FALSE;
    item = batch->items->pdata[batch->items->len - 1];
    if (!keep && item->index == 0)
      batch_stamp(&item->stamp, item->path, before);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  if (!keep)
    batch_stamp_mbox_items(batch, first, opened);
  return TRUE;
}

/**
 * farceur_batch_get_count:
 * @batch: a batch
 *
 * Returns: the number of messages added to @batch
 */
guint
farceur_batch_get_count(FarceurBatch *batch)
{
  g_return_val_if_fail(batch != NULL, 0);

  return batch->items->len;
}

/* ---- pass 2: reading the messages again, in order ---- */

static gboolean
batch_changed(BatchItem *item, GError **error)
{
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
              "message '%s' changed since it was read; not sent", item->source);
  return FALSE;
}

/* Stored octets read again, without parsing: unchanged by the file's stamp,
 * or by their hash (always, for a message of an mbox). */
static gboolean
batch_load_stored(BatchItem *item, GError **error)
{
  g_autoptr(GMimeStream) stored
      = farceur_input_open_stored(item->path, item->offset, item->offset + item->length, error);
  g_autoptr(GMimeStream) as_sent = NULL;
  g_autofree char *sha256 = NULL;
  gsize size;

  if (stored == NULL)
    return FALSE;
  as_sent = batch_stored_as_sent(stored, item->cuts);
  if (!batch_stamp_unchanged(&item->stamp, item->path)) {
    sha256 = batch_hash_stream(as_sent, &size);
    if (strcmp(sha256, item->sha256) != 0)
      return batch_changed(item, error);
  }
  item->stream = g_steal_pointer(&as_sent);
  return TRUE;
}

/* The reader on @item's file, at the message before it: the same one as
 * for the previous message of that mbox, else opened anew (and read past
 * messages the journal settled). */
static gboolean
batch_reader_seek(FarceurBatch *batch, BatchItem *item, GError **error)
{
  guint want = MAX(item->index, 1);

  if (batch->reader == NULL || g_strcmp0(batch->reader_path, item->path) != 0
      || batch->reader_index >= want) {
    g_clear_pointer(&batch->reader, farceur_input_free);
    g_free(batch->reader_path);
    batch->reader_path = g_strdup(item->path);
    batch->reader_index = 0;
    if ((batch->reader = farceur_input_open(item->path, error)) == NULL)
      return FALSE;
  }
  while (batch->reader_index + 1 < want) {
    g_autoptr(FarceurInputMessage) skip = farceur_input_next(batch->reader, error);
    if (skip == NULL)
      return FALSE;
    batch->reader_index++;
  }
  return TRUE;
}

/* A message sent as GMime writes it, parsed again and checked against its hash. */
static gboolean
batch_load_parsed(FarceurBatch *batch, BatchItem *item, GError **error)
{
  g_autoptr(FarceurInputMessage) msg = NULL;
  g_autofree char *sha256 = NULL;
  GError *local = NULL;
  gsize size;

  if (!batch_reader_seek(batch, item, error))
    return FALSE;
  msg = farceur_input_next(batch->reader, &local);
  batch->reader_index++;
  if (msg == NULL) {
    if (local == NULL)
      local = g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT,
                          "message '%s' is gone since it was read", item->source);
    g_propagate_error(error, local);
    return FALSE;
  }
  if (strcmp(msg->source, item->source) != 0)
    return batch_changed(item, error);
  farceur_envelope_strip_withheld(GMIME_OBJECT(msg->message));
  if (!batch_stamp_unchanged(&item->stamp, item->path)) {
    sha256 = batch_hash(msg->message, &size);
    if (strcmp(sha256, item->sha256) != 0)
      return batch_changed(item, error);
  }
  item->message = g_object_ref(msg->message);
  return TRUE;
}

/* Makes sure @item's content is at hand: kept, or read again. */
static gboolean
batch_load(FarceurBatch *batch, BatchItem *item, GError **error)
{
  if (item->message != NULL || item->stream != NULL)
    return TRUE;
  return item->cuts != NULL ? batch_load_stored(item, error)
                            : batch_load_parsed(batch, item, error);
}

/* Lets go of what batch_load() read (kept items keep it). */
static void
batch_unload(BatchItem *item)
{
  if (item->path == NULL)
    return;
  g_clear_object(&item->message);
  g_clear_object(&item->stream);
}

/**
 * farceur_batch_foreach:
 * @batch: a batch
 * @func: (scope call): called for each message, in order
 * @user_data: for @func
 * @error: return location for an error
 *
 * Reads the messages again, as a run would, without sending: --dry-run.
 *
 * Returns: %FALSE when a message could not be read again
 */
gboolean
farceur_batch_foreach(FarceurBatch *batch, FarceurBatchForeachFunc func, gpointer user_data,
                      GError **error)
{
  gboolean ok = TRUE;

  g_return_val_if_fail(batch != NULL, FALSE);
  g_return_val_if_fail(func != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  for (guint i = 0; ok && i < batch->items->len; i++) {
    BatchItem *item = batch->items->pdata[i];
    g_autoptr(GMimeMessage) parsed = NULL;
    if (!(ok = batch_load(batch, item, error)))
      break;
    if (item->stream != NULL
        && (parsed = farceur_input_parse_stream(item->stream, item->source, error)) == NULL)
      ok = FALSE;
    else
      func(item->source, item->envelope, item->origin, parsed ? parsed : item->message,
           item->stream, user_data);
    batch_unload(item);
  }
  g_clear_pointer(&batch->reader, farceur_input_free);
  g_clear_pointer(&batch->reader_path, g_free);
  return ok;
}

/* ---- outcomes ---- */

/**
 * farceur_batch_set_result_func:
 * @batch: a batch
 * @func: (nullable): called with each final outcome during
 *   farceur_batch_run(); %NULL for none
 * @user_data: for @func
 */
void
farceur_batch_set_result_func(FarceurBatch *batch, FarceurBatchResultFunc func, gpointer user_data)
{
  g_return_if_fail(batch != NULL);

  batch->result_func = func;
  batch->result_data = user_data;
}

static gboolean batch_journal_deferred(FarceurBatch *batch, BatchItem *item);
static gboolean batch_error_is_transient(const GError *error);

/* Not sent because of a failure that is neither the server's refusal nor a
 * temporary one: TLS, authentication, permission, configuration, a message
 * that changed: "failed", not "deferred" (data/doc/json.md). */
static gboolean
batch_item_failed(const BatchItem *item)
{
  return item->error != NULL && !batch_error_is_transient(item->error)
         && !g_error_matches(item->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static FarceurBatchState
batch_item_state(BatchItem *item, gboolean skipped)
{
  guint accepted, refused;

  if (skipped)
    return item->earlier_unknown > 0 ? FARCEUR_BATCH_UNKNOWN : FARCEUR_BATCH_SKIPPED;
  accepted = item->record ? farceur_delivery_count(item->record, FARCEUR_RCPT_ACCEPTED) : 0;
  refused = item->record ? farceur_delivery_count(item->record, FARCEUR_RCPT_REFUSED) : 0;
  if (accepted == item->envelope->rcpt_to->len)
    return FARCEUR_BATCH_DELIVERED;
  if (accepted > 0)
    return FARCEUR_BATCH_PARTIAL;
  if (item->has_unknown)
    return FARCEUR_BATCH_UNKNOWN;
  if (refused > 0 && (item->pending == NULL || item->pending->rcpt_to->len == 0))
    return FARCEUR_BATCH_REFUSED;
  if (refused == 0 && batch_item_failed(item))
    return FARCEUR_BATCH_FAILED;
  return FARCEUR_BATCH_DEFERRED;
}

static void
batch_count(FarceurBatchSummary *s, FarceurBatchState state)
{
  guint *counters[] = { &s->delivered, &s->partial, &s->refused, &s->deferred,
                        &s->unknown,   &s->skipped, &s->failed };

  (*counters[state])++;
}

/* The error a message's outcome stands for, when it has none of its own. */
static void
batch_item_error(BatchItem *item, FarceurBatchState state)
{
  guint refused = item->record ? farceur_delivery_count(item->record, FARCEUR_RCPT_REFUSED) : 0;

  if (item->error != NULL || state == FARCEUR_BATCH_DELIVERED || state == FARCEUR_BATCH_SKIPPED)
    return;
  if (item->earlier_unknown > 0 && refused == 0
      && (state == FARCEUR_BATCH_UNKNOWN || state == FARCEUR_BATCH_PARTIAL))
    item->error = g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL,
                              "outcome unknown since an earlier run (journal): its final dot got "
                              "no reply; not sent again until you decide: --resend-unknown sends "
                              "it again, --forget-unknown records that it must not be");
  else if (state == FARCEUR_BATCH_UNKNOWN)
    item->error = g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL,
                              "no reply after the final dot: may or may not have been "
                              "delivered (--resend-unknown sends it again)");
  else if (refused > 0)
    item->error = g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_UNAVAILABLE,
                              "%u of %u recipients refused", refused, item->envelope->rcpt_to->len);
  else
    item->error = g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL, "not delivered yet");
}

static const FarceurRcptOutcome *
batch_find_outcome(const FarceurDelivery *delivery, const char *addr)
{
  for (guint i = 0; delivery != NULL && i < delivery->rcpts->len; i++) {
    const FarceurRcptOutcome *o = delivery->rcpts->pdata[i];
    if (g_ascii_strcasecmp(o->addr, addr) == 0)
      return o;
  }
  return NULL;
}

/* Keeps @o, a 4xx, as the latest word on its recipient. */
static void
batch_note_deferred(BatchItem *item, const FarceurRcptOutcome *o)
{
  FarceurRcptOutcome *kept;

  if (item->last_deferred == NULL)
    item->last_deferred = farceur_delivery_new();
  kept = (FarceurRcptOutcome *)batch_find_outcome(item->last_deferred, o->addr);
  if (kept != NULL)
    g_ptr_array_remove(item->last_deferred->rcpts, kept);
  farceur_delivery_add(item->last_deferred, o->addr, o->status, o->code, o->enhanced, o->text);
}

static gboolean
batch_is_pending(const BatchItem *item, const char *rcpt)
{
  for (guint i = 0; i < item->pending->rcpt_to->len; i++)
    if (g_ascii_strcasecmp(item->pending->rcpt_to->pdata[i], rcpt) == 0)
      return TRUE;
  return FALSE;
}

/* The record of a message whose outcome is final, in envelope order: the
 * recipients still pending are there too when a reply deferred them, with
 * the last such reply (one never answered has no outcome to show: the
 * message's error says why). */
static void
batch_complete_record(BatchItem *item)
{
  g_autoptr(FarceurDelivery) record = NULL;

  if (item->record == NULL || item->last_deferred == NULL || item->pending == NULL
      || item->pending->rcpt_to->len == 0)
    return;
  record = farceur_delivery_new();
  record->location = g_strdup(item->record->location);
  for (guint i = 0; i < item->envelope->rcpt_to->len; i++) {
    const char *rcpt = item->envelope->rcpt_to->pdata[i];
    const FarceurRcptOutcome *o = batch_find_outcome(item->record, rcpt);
    if (o == NULL && batch_is_pending(item, rcpt))
      o = batch_find_outcome(item->last_deferred, rcpt);
    if (o != NULL)
      farceur_delivery_add(record, rcpt, o->status, o->code, o->enhanced, o->text);
  }
  farceur_delivery_free(item->record);
  item->record = g_steal_pointer(&record);
}

static void
batch_emit(FarceurBatch *batch, BatchItem *item)
{
  FarceurBatchResult result = {
    .source = item->source,
    .sha256 = item->sha256,
    .header_from = item->header_from,
    .size = item->size,
    .envelope = item->envelope,
    .origin = item->origin,
    .state = item->state,
    .delivery = item->record,
    .attempts = item->attempts,
    .earlier_unknown = item->earlier_unknown > 0,
    .error = item->state == FARCEUR_BATCH_DELIVERED ? NULL : item->error,
    .seconds = item->seconds,
  };

  if (batch->result_func)
    batch->result_func(&result, batch->result_data);
}

/* Reports what is done: at once, or (ordered) up to the first item not done;
 * @all: the run is over, report every item done. */
static void
batch_report(FarceurBatch *batch, BatchItem *item, gboolean all)
{
  if (!batch->ordered) {
    if (item != NULL)
      batch_emit(batch, item);
    return;
  }
  for (; batch->reported < batch->items->len; batch->reported++) {
    BatchItem *next = batch->items->pdata[batch->reported];
    if (next->done)
      batch_emit(batch, next);
    else if (!all)
      break;
  }
}

static void
batch_finish_item(FarceurBatch *batch, BatchItem *item, gboolean skipped)
{
  batch_complete_record(item);
  item->state = batch_item_state(item, skipped);
  batch_item_error(item, item->state);
  if (item->started)
    item->seconds = (g_get_monotonic_time() - item->started) / 1e6;
  item->done = TRUE;
  batch_count(&batch->summary, item->state);
  if (item->earlier_unknown > 0)
    batch->summary.earlier_unknown++;
  if (item->record)
    batch->summary.rcpt_refused += farceur_delivery_count(item->record, FARCEUR_RCPT_REFUSED);
  if (item->pending != NULL && item->pending->rcpt_to->len > 0)
    batch_journal_deferred(batch, item);
  batch_report(batch, item, FALSE);
  g_clear_object(&item->message);
  g_clear_object(&item->stream);
}

/* --forget-unknown: the user's decision about an unknown outcome, recorded;
 * FALSE (the recipient stays unknown) when the journal cannot take it. */
static gboolean
batch_forget(FarceurBatch *batch, BatchItem *item, const char *rcpt)
{
  const char *rcpts[] = { rcpt, NULL };
  g_autoptr(GError) error = NULL;

  return farceur_journal_record(batch->options.journal, item->source, item->sha256,
                                item->envelope->mail_from, FARCEUR_JOURNAL_FORGOTTEN, rcpts,
                                "not resent: --forget-unknown", &error);
}

/* One recipient the journal settled: it keeps the outcome recorded, an
 * unknown one is forgotten when the user said so, else counted. */
static void
batch_settled_rcpt(FarceurBatch *batch, BatchItem *item, const char *rcpt,
                   FarceurJournalState state)
{
  static const FarceurRcptStatus from_journal[] = {
    [FARCEUR_JOURNAL_DELIVERED] = FARCEUR_RCPT_ACCEPTED,
    [FARCEUR_JOURNAL_REFUSED] = FARCEUR_RCPT_REFUSED,
    [FARCEUR_JOURNAL_UNKNOWN] = FARCEUR_RCPT_UNKNOWN,
    [FARCEUR_JOURNAL_FORGOTTEN] = FARCEUR_RCPT_ACCEPTED,
  };

  if (state == FARCEUR_JOURNAL_UNKNOWN && batch->options.forget_unknown
      && batch_forget(batch, item, rcpt))
    state = FARCEUR_JOURNAL_FORGOTTEN;
  if (state == FARCEUR_JOURNAL_FORGOTTEN)
    farceur_delivery_add(item->record, rcpt, from_journal[state], 0, NULL,
                         "outcome unknown, not resent by your decision (journal: forgotten)");
  else if (state == FARCEUR_JOURNAL_UNKNOWN)
    farceur_delivery_add(item->record, rcpt, from_journal[state], 0, NULL,
                         "outcome unknown since an earlier run (journal)");
  else
    farceur_delivery_add(item->record, rcpt, from_journal[state], 0, NULL,
                         "settled by an earlier run (journal)");
  if (state == FARCEUR_JOURNAL_UNKNOWN) {
    item->has_unknown = TRUE;
    item->earlier_unknown++;
  }
}

/* With a journal, one delivery goes out once per run too: the same octets
 * and envelope read twice (a file named by two paths, a message copied
 * into two folders) are taken by the first; FALSE for the others, whose
 * recipient is then settled here ("skipped"), the first one's outcome
 * saying what happened.  Keys as the journal's: addresses without case. */
static gboolean
batch_claim(FarceurBatch *batch, BatchItem *item, const char *rcpt)
{
  g_autofree char *from = g_ascii_strdown(item->envelope->mail_from, -1);
  g_autofree char *to = g_ascii_strdown(rcpt, -1);
  char *key = g_strdup_printf("%s\n%s\n%s", item->sha256, from, to);
  const char *first = g_hash_table_lookup(batch->claimed, key);
  g_autofree char *text = NULL;

  if (first == NULL) {
    g_hash_table_insert(batch->claimed, key, item->source);
    return FALSE;
  }
  g_free(key);
  text = g_strdup_printf("the same delivery as '%s', earlier in this run", first);
  farceur_delivery_add(item->record, rcpt, FARCEUR_RCPT_ACCEPTED, 0, NULL, text);
  return TRUE;
}

/* Drops the recipients an earlier run settled (they keep the outcome it
 * recorded), or an earlier message of this run takes; TRUE when none is
 * left. */
static gboolean
batch_apply_journal(FarceurBatch *batch, BatchItem *item)
{
  FarceurJournal *journal = batch->options.journal;

  item->pending = farceur_envelope_new(item->envelope->mail_from);
  item->record = farceur_delivery_new();
  for (guint i = 0; i < item->envelope->rcpt_to->len; i++) {
    const char *rcpt = item->envelope->rcpt_to->pdata[i];
    if (journal != NULL
        && farceur_journal_is_settled(journal, item->sha256, item->envelope->mail_from, rcpt,
                                      batch->options.resend_unknown))
      batch_settled_rcpt(
          batch, item, rcpt,
          farceur_journal_lookup(journal, item->sha256, item->envelope->mail_from, rcpt));
    else if (journal == NULL || !batch_claim(batch, item, rcpt))
      farceur_envelope_add_rcpt(item->pending, rcpt);
  }
  return item->pending->rcpt_to->len == 0;
}

/* ---- journal records ---- */

static gboolean
batch_journal(FarceurBatch *batch, BatchItem *item, FarceurJournalState state, GPtrArray *rcpts,
              const char *reply, GError **error)
{
  if (batch->options.journal == NULL || rcpts->len == 0)
    return TRUE;
  g_ptr_array_add(rcpts, NULL);
  return farceur_journal_record(batch->options.journal, item->source, item->sha256,
                                item->envelope->mail_from, state, (const char *const *)rcpts->pdata,
                                reply, error);
}

/* FarceurTargetCommitFunc: the final dot is about to go out. */
static gboolean
batch_commit_cb(const FarceurEnvelope *envelope, gpointer user_data, GError **error)
{
  BatchSend *slot = user_data;
  g_autoptr(GPtrArray) rcpts = g_ptr_array_new();

  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    g_ptr_array_add(rcpts, envelope->rcpt_to->pdata[i]);
  return batch_journal(slot->slot->batch, slot->item, FARCEUR_JOURNAL_UNKNOWN, rcpts, NULL, error);
}

static char *
batch_reply_text(const FarceurRcptOutcome *o)
{
  if (o->code == 0)
    return g_strdup(o->text);
  return g_strdup_printf("%u%s%s %s", o->code, o->enhanced ? " " : "",
                         o->enhanced ? o->enhanced : "", o->text ? o->text : "");
}

static const FarceurJournalState batch_rcpt_journal[] = {
  [FARCEUR_RCPT_ACCEPTED] = FARCEUR_JOURNAL_DELIVERED,
  [FARCEUR_RCPT_REFUSED] = FARCEUR_JOURNAL_REFUSED,
  [FARCEUR_RCPT_DEFERRED] = FARCEUR_JOURNAL_DEFERRED,
  [FARCEUR_RCPT_UNKNOWN] = FARCEUR_JOURNAL_UNKNOWN,
};

/* One journal line per final outcome class of this attempt; what is still
 * deferred is recorded when the message's outcome is final. */
static gboolean
batch_journal_delivery(FarceurBatch *batch, BatchItem *item, const FarceurDelivery *delivery,
                       GError **error)
{
  for (int status = FARCEUR_RCPT_ACCEPTED; status <= FARCEUR_RCPT_UNKNOWN; status++) {
    if (status == FARCEUR_RCPT_DEFERRED)
      continue;
    g_autoptr(GPtrArray) rcpts = g_ptr_array_new();
    g_autofree char *reply = NULL;
    for (guint i = 0; i < delivery->rcpts->len; i++) {
      const FarceurRcptOutcome *o = delivery->rcpts->pdata[i];
      if ((int)o->status != status)
        continue;
      g_ptr_array_add(rcpts, o->addr);
      if (reply == NULL)
        reply = batch_reply_text(o);
    }
    if (!batch_journal(batch, item, batch_rcpt_journal[status], rcpts, reply, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
batch_journal_deferred(FarceurBatch *batch, BatchItem *item)
{
  g_autoptr(GPtrArray) rcpts = g_ptr_array_new();

  for (guint i = 0; i < item->pending->rcpt_to->len; i++)
    g_ptr_array_add(rcpts, item->pending->rcpt_to->pdata[i]);
  /* A failure to record "deferred" loses nothing: a re-run sends it anyway. */
  return batch_journal(batch, item, FARCEUR_JOURNAL_DEFERRED, rcpts,
                       item->error ? item->error->message : NULL, NULL);
}

/* ---- the run ---- */

static void batch_dispatch(FarceurBatch *batch);

/* @item is not sent: the run stopped at @error. */
static void
batch_fail_all_item(FarceurBatch *batch, BatchItem *item, const GError *error)
{
  if (item->error == NULL && (batch->stopping || g_cancellable_is_cancelled(batch->cancellable)))
    item->error = g_error_copy(error);
  else if (item->error == NULL) /* the same category: the same exit status */
    item->error
        = g_error_new(error->domain, error->code,
                      "not sent, the run stopped at an earlier failure: %s", error->message);
  batch_finish_item(batch, item, FALSE);
}

static void
batch_fail_all(FarceurBatch *batch, const GError *error)
{
  for (guint i = batch->next; i < batch->items->len; i++) {
    BatchItem *item = batch->items->pdata[i];
    if (!item->done)
      batch_fail_all_item(batch, item, error);
  }
  batch->next = batch->items->len;
  while (!g_queue_is_empty(&batch->retry))
    batch_finish_item(batch, g_queue_pop_head(&batch->retry), FALSE);
}

static void batch_drop_waits(FarceurBatch *batch);

static void
batch_abort(FarceurBatch *batch, const GError *error)
{
  if (batch->aborted)
    return;
  batch->aborted = TRUE;
  batch->stop_error = g_error_copy(error);
  batch_fail_all(batch, error);
  batch_drop_waits(batch);
}

typedef struct {
  FarceurBatch *batch;
  BatchItem *item;
  GSource *source;
} BatchRetry;

static gboolean
batch_retry_cb(gpointer user_data)
{
  BatchRetry *retry = user_data;
  FarceurBatch *batch = retry->batch;
  BatchItem *item = retry->item;

  batch->timers--;
  g_ptr_array_remove_fast(batch->waits, retry);
  if (batch->aborted)
    batch_finish_item(batch, item, FALSE);
  else
    g_queue_push_tail(&batch->retry, item);
  batch_dispatch(batch);
  return G_SOURCE_REMOVE;
}

/* Stopped: the retries waiting for their back-off end now, deferred. */
static void
batch_drop_waits(FarceurBatch *batch)
{
  while (batch->waits != NULL && batch->waits->len > 0) {
    BatchRetry *retry = g_ptr_array_steal_index_fast(batch->waits, batch->waits->len - 1);
    BatchItem *item = retry->item;
    batch->timers--;
    g_source_destroy(retry->source); /* frees @retry */
    batch_finish_item(batch, item, FALSE);
  }
}

static void
batch_schedule_retry(FarceurBatch *batch, BatchItem *item)
{
  guint delay = batch->options.retry_delay_ms << MIN(item->attempts - 1, 16u);
  GSource *source = g_timeout_source_new(delay);
  BatchRetry *retry = g_new(BatchRetry, 1);

  retry->batch = batch;
  retry->item = item;
  retry->source = source;
  g_source_set_callback(source, batch_retry_cb, retry, g_free);
  g_source_attach(source, g_main_loop_get_context(batch->loop));
  g_source_unref(source);
  g_ptr_array_add(batch->waits, retry);
  batch->timers++;
}

/* Failures that will hit every message alike: stop rather than try them all. */
static gboolean
batch_error_is_fatal(const GError *error)
{
  switch (farceur_error_classify(error)) {
    case FARCEUR_ERROR_NOPERM:
    case FARCEUR_ERROR_CONFIG:
    case FARCEUR_ERROR_USAGE:
    case FARCEUR_ERROR_CANTCREAT:
      return TRUE;
    default:
      return FALSE;
  }
}

/* Failures of the connection rather than of the message: what it did not
 * settle is tried again. */
static gboolean
batch_error_is_transient(const GError *error)
{
  switch (farceur_error_classify(error)) {
    case FARCEUR_ERROR_TEMPFAIL:
    case FARCEUR_ERROR_IO:
    case FARCEUR_ERROR_PROTOCOL:
    case FARCEUR_ERROR_UNAVAILABLE:
      return TRUE;
    default:
      return FALSE;
  }
}

/* Folds one attempt's outcomes into the item; what is deferred stays to do. */
static void
batch_merge(BatchItem *item, FarceurDelivery *delivery, const GError *error)
{
  g_autoptr(FarceurEnvelope) pending = farceur_envelope_new(item->pending->mail_from);
  gboolean transient = error == NULL || batch_error_is_transient(error);

  for (guint i = 0; i < item->pending->rcpt_to->len; i++) {
    const char *rcpt = item->pending->rcpt_to->pdata[i];
    const FarceurRcptOutcome *o = NULL;
    for (guint j = 0; delivery && j < delivery->rcpts->len; j++)
      if (g_ascii_strcasecmp(((FarceurRcptOutcome *)delivery->rcpts->pdata[j])->addr, rcpt) == 0)
        o = delivery->rcpts->pdata[j];
    if (o != NULL && o->status != FARCEUR_RCPT_DEFERRED) {
      farceur_delivery_add(item->record, rcpt, o->status, o->code, o->enhanced, o->text);
      item->has_unknown |= o->status == FARCEUR_RCPT_UNKNOWN;
    } else if (o == NULL && !transient) {
      farceur_delivery_add(item->record, rcpt, FARCEUR_RCPT_REFUSED, 0, NULL, error->message);
    } else {
      farceur_envelope_add_rcpt(pending, rcpt);
      if (o != NULL)
        batch_note_deferred(item, o);
    }
  }
  g_clear_pointer(&item->pending, farceur_envelope_free);
  item->pending = g_steal_pointer(&pending);
  if (delivery != NULL && delivery->location != NULL) {
    g_free(item->record->location);
    item->record->location = g_strdup(delivery->location);
  }
  if (delivery != NULL && delivery->tls != NULL)
    item->record->tls = delivery->tls; /* a static string */
}

/* A local target fails for now only on a full disk or a quota (an I/O
 * error, 74), or a lock that did not come within its wait (75)
 * (data/doc/formats.md): none passes in a back-off of seconds, and every
 * later message would meet it.  So it is not retried, and the run stops
 * there: permanent for this run, temporary for the next one (the journal
 * says deferred). */
static gboolean
batch_error_stops_local(gboolean local, const GError *error)
{
  FarceurError code = error != NULL ? farceur_error_classify(error) : FARCEUR_ERROR_INTERNAL;

  return local && (code == FARCEUR_ERROR_TEMPFAIL || code == FARCEUR_ERROR_IO);
}

/* A 452 "too many recipients" (RFC 5321 4.5.3.1.10: the server's limit of
 * recipients in one transaction): enhanced code 4.5.3, or its words. */
static gboolean
batch_is_recipient_limit(const FarceurRcptOutcome *o)
{
  g_autofree char *text = NULL;

  if (o->status != FARCEUR_RCPT_DEFERRED || o->code != 452)
    return FALSE;
  if (g_strcmp0(o->enhanced, "4.5.3") == 0)
    return TRUE;
  text = o->text != NULL ? g_ascii_strdown(o->text, -1) : NULL;
  return text != NULL && strstr(text, "too many recipients") != NULL;
}

/* The attempt reached the server's recipient limit: some recipients were
 * accepted and every other one got that 452.  The rest go at once in a new
 * transaction (data/doc/smtp.md, Sessions), as Postfix's client does. */
static gboolean
batch_too_many_recipients(const FarceurDelivery *delivery)
{
  guint accepted = 0;

  for (guint i = 0; delivery != NULL && i < delivery->rcpts->len; i++) {
    const FarceurRcptOutcome *o = delivery->rcpts->pdata[i];
    if (o->status == FARCEUR_RCPT_ACCEPTED)
      accepted++;
    else if (!batch_is_recipient_limit(o))
      return FALSE;
  }
  return accepted > 0 && accepted < delivery->rcpts->len;
}

static void
batch_outcome(FarceurBatch *batch, BatchItem *item, gboolean local, FarceurDelivery *delivery,
              GError *error)
{
  g_autoptr(GError) journal_error = NULL;
  gboolean fatal = error != NULL && delivery == NULL && batch_error_is_fatal(error);
  gboolean stop = batch_error_stops_local(local, error);

  if (delivery != NULL && !batch_journal_delivery(batch, item, delivery, &journal_error)) {
    batch_abort(batch, journal_error);
    return;
  }
  if (error != NULL) {
    g_clear_error(&item->error);
    item->error = g_error_copy(error);
  } else {
    g_clear_error(&item->error);
  }
  if (fatal) {
    batch_abort(batch, error);
    batch_finish_item(batch, item, FALSE);
    return;
  }
  batch_merge(item, delivery, error);
  if (item->pending->rcpt_to->len > 0 && !batch->aborted && !stop
      && batch_too_many_recipients(delivery)) {
    item->attempts--; /* the server made progress: not a retry */
    g_queue_push_head(&batch->retry, item);
  } else if (item->pending->rcpt_to->len > 0 && item->attempts <= batch->options.retries
             && !batch->aborted && !stop)
    batch_schedule_retry(batch, item);
  else
    batch_finish_item(batch, item, FALSE);
  if (stop)
    batch_abort(batch, error);
}

static void
batch_deliver_ready_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  BatchSend *send = user_data;
  BatchSlot *slot = send->slot;
  FarceurBatch *batch = slot->batch;
  BatchItem *item = send->item;
  g_autoptr(FarceurDelivery) delivery = NULL;
  g_autoptr(GError) error = NULL;

  if (send->splittable)
    batch->splittable--;
  g_free(send);
  slot->inflight--;
  if (!farceur_target_deliver_finish(slot->target, result, &delivery, &error) && slot->local
      && batch->aborted && !batch->stopping && !g_cancellable_is_cancelled(batch->cancellable)) {
    /* An earlier message stopped the run (a full disk) while this one was
     * in flight: its write failed too and was undone.  It ends as the
     * messages not yet taken do, not sent, as one at a time left it. */
    item->attempts--;
    g_clear_error(&item->error);
    batch_fail_all_item(batch, item, batch->stop_error);
    batch_dispatch(batch);
    return;
  }
  batch_outcome(batch, item, slot->local, delivery, error);
  batch_dispatch(batch);
}

/* The next item to send: a retry that is due, else the next fresh one. */
static BatchItem *
batch_take(FarceurBatch *batch)
{
  while (g_queue_is_empty(&batch->retry) && batch->next < batch->items->len) {
    BatchItem *item = batch->items->pdata[batch->next++];
    g_autoptr(GError) error = NULL;
    if (batch_apply_journal(batch, item)) {
      batch_finish_item(batch, item, TRUE);
      continue;
    }
    if (batch_load(batch, item, &error))
      return item;
    item->error = g_steal_pointer(&error);
    batch_finish_item(batch, item, FALSE);
  }
  return g_queue_pop_head(&batch->retry);
}

static void
batch_start(BatchSlot *slot, BatchItem *item)
{
  FarceurBatch *batch = slot->batch;
  BatchSend *send = g_new(BatchSend, 1);

  send->slot = slot;
  send->item = item;
  slot->inflight++;
  send->splittable = !slot->local && item->pending->rcpt_to->len > 1;
  batch->splittable += send->splittable;
  item->attempts++;
  if (item->started == 0)
    item->started = g_get_monotonic_time();
  /* The target takes the hook's data with each delivery it is asked for. */
  farceur_target_set_commit_func(slot->target, batch_commit_cb, send);
  if (item->stream != NULL)
    farceur_target_deliver_stream_async(slot->target, item->pending, item->stream,
                                        batch->cancellable, batch_deliver_ready_cb, send);
  else
    farceur_target_deliver_async(slot->target, item->pending, GMIME_OBJECT(item->message),
                                 batch->cancellable, batch_deliver_ready_cb, send);
}

static gboolean
batch_busy(FarceurBatch *batch)
{
  for (guint i = 0; i < batch->slots->len; i++)
    if (((BatchSlot *)batch->slots->pdata[i])->inflight > 0)
      return TRUE;
  return FALSE;
}

/* Nothing is left to hand out: sessions may queue QUIT behind their last
 * deliveries (with PIPELINING it leaves with the last dot). */
static void
batch_hint_last(FarceurBatch *batch)
{
  if (batch->next < batch->items->len || !g_queue_is_empty(&batch->retry) || batch->timers > 0
      || batch->splittable > 0)
    return;
  for (guint i = 0; i < batch->slots->len; i++) {
    BatchSlot *slot = batch->slots->pdata[i];
    if (slot->inflight > 0 && !slot->hinted) {
      slot->hinted = TRUE;
      farceur_target_hint_last(slot->target);
    }
  }
}

/* Takes no more messages: what is not in flight ends deferred, "not sent". */
static void
batch_stop_taking(FarceurBatch *batch)
{
  g_autoptr(GError) error = NULL;

  if (batch->aborted)
    return;
  /* temporary: a re-run sends it (75, deferred) */
  error
      = g_error_new_literal(FARCEUR_ERROR, FARCEUR_ERROR_TEMPFAIL, "not sent: the run was stopped");
  batch_abort(batch, error);
}

static void
batch_dispatch(FarceurBatch *batch)
{
  if (batch->stopping || g_cancellable_is_cancelled(batch->cancellable))
    batch_stop_taking(batch);
  /* Every session gets one message before any gets a second. */
  for (guint level = 1; level <= BATCH_LOCAL_DEPTH; level++)
    for (guint i = 0; i < batch->slots->len && !batch->aborted; i++) {
      BatchSlot *slot = batch->slots->pdata[i];
      BatchItem *item;
      if (slot->inflight >= MIN(level, slot->depth) || (item = batch_take(batch)) == NULL)
        continue;
      batch_start(slot, item);
    }
  batch_hint_last(batch);
  if (!batch_busy(batch) && batch->timers == 0
      && (batch->aborted || (batch->next >= batch->items->len && g_queue_is_empty(&batch->retry))))
    g_main_loop_quit(batch->loop);
}

static void
batch_slot_free(gpointer data)
{
  BatchSlot *slot = data;

  if (slot->target != NULL)
    farceur_target_close(slot->target, NULL, NULL);
  farceur_target_free(slot->target);
  g_free(slot);
}

static gboolean
batch_open_slots(FarceurBatch *batch, FarceurBatchTargetFunc open_target, gpointer data,
                 GError **error)
{
  guint n = MIN(batch->options.connections, MAX(batch->items->len, 1));

  batch->slots = g_ptr_array_new_with_free_func(batch_slot_free);
  for (guint i = 0; i < n; i++) {
    BatchSlot *slot = g_new0(BatchSlot, 1);
    slot->batch = batch;
    g_ptr_array_add(batch->slots, slot);
    slot->target = open_target(data, error);
    if (slot->target == NULL)
      return FALSE;
    slot->local = !farceur_target_is_session(slot->target);
    slot->depth = slot->local ? BATCH_LOCAL_DEPTH : BATCH_SESSION_DEPTH;
    if (slot->local) {
      batch->ordered = TRUE;
      break; /* a file takes one slot, its deliveries committed in groups */
    }
  }
  return TRUE;
}

/* GCancellableSourceFunc: cancelled while the loop waits (a back-off, a
 * reply): stop at once rather than at the next outcome. */
static gboolean
batch_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
  FarceurBatch *batch = user_data;

  batch_dispatch(batch);
  return G_SOURCE_REMOVE;
}

/**
 * farceur_batch_stop:
 * @batch: a running batch
 *
 * Takes no more messages: the deliveries in flight finish (cancel the
 * cancellable given to farceur_batch_run() to abandon them), messages not
 * yet sent and retries waiting for their back-off end deferred ("not sent:
 * the run was stopped"), and farceur_batch_run() returns once the last
 * delivery in flight is done.  Safe to call from a signal source of the
 * batch's main context (src/cli/cli-signal.c); a no-op when not running.
 */
void
farceur_batch_stop(FarceurBatch *batch)
{
  g_return_if_fail(batch != NULL);

  if (batch->loop == NULL)
    return;
  batch->stopping = TRUE;
  batch_dispatch(batch);
}

/**
 * farceur_batch_run:
 * @batch: a filled batch
 * @open_target: (scope call): opens one session; called once per connection
 * @target_data: for @open_target
 * @cancellable: (nullable): stops dispatching and abandons the deliveries
 *   in flight (each target passes it to its I/O); messages not sent are
 *   deferred
 * @error: return location for an error
 *
 * Sends every message, @options->connections at a time, running the
 * thread-default main context until the last outcome is in.  Each outcome is
 * journaled as it happens and given to the result function.
 *
 * Returns: %FALSE only when the batch could not run (no target could be
 *   opened); the fate of each message is in the results and the summary
 */
gboolean
farceur_batch_run(FarceurBatch *batch, FarceurBatchTargetFunc open_target, gpointer target_data,
                  GCancellable *cancellable, GError **error)
{
  g_autoptr(GMainContext) context = NULL;
  gboolean ok;

  g_return_val_if_fail(batch != NULL, FALSE);
  g_return_val_if_fail(open_target != NULL, FALSE);
  g_return_val_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  context = g_main_context_ref_thread_default();
  batch->summary.total = batch->items->len;
  batch->cancellable = cancellable;
  batch->loop = g_main_loop_new(context, FALSE);
  batch->waits = g_ptr_array_new();
  if (cancellable != NULL) {
    batch->cancel_source = g_cancellable_source_new(cancellable);
    g_source_set_callback(batch->cancel_source, G_SOURCE_FUNC(batch_cancelled_cb), batch, NULL);
    g_source_attach(batch->cancel_source, context);
  }
  ok = batch_open_slots(batch, open_target, target_data, error);
  if (ok) {
    batch_dispatch(batch);
    if (g_main_loop_is_running(batch->loop) || batch_busy(batch) || batch->timers > 0
        || batch->next < batch->items->len)
      g_main_loop_run(batch->loop);
  }
  batch_report(batch, NULL, TRUE);
  if (batch->cancel_source != NULL) {
    g_source_destroy(batch->cancel_source);
    g_clear_pointer(&batch->cancel_source, g_source_unref);
  }
  g_clear_pointer(&batch->waits, g_ptr_array_unref);
  g_clear_pointer(&batch->slots, g_ptr_array_unref);
  g_clear_pointer(&batch->reader, farceur_input_free);
  g_clear_pointer(&batch->reader_path, g_free);
  g_clear_pointer(&batch->loop, g_main_loop_unref);
  return ok;
}

/**
 * farceur_batch_get_summary:
 * @batch: a batch that ran
 *
 * The counts of a run.  Which failure matters most is the caller's to
 * decide, from the results (farceur_batch_set_result_func()).
 *
 * Returns: (transfer none): the counts
 */
const FarceurBatchSummary *
farceur_batch_get_summary(FarceurBatch *batch)
{
  g_return_val_if_fail(batch != NULL, NULL);

  return &batch->summary;
}
