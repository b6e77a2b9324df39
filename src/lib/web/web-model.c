/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the view models of the web view, built from the inspect and
 * trace records: a list row, the envelope beside the headers, a message
 * page, a trace page.  They hold text ready to be escaped and shown; the
 * rules (what is forged, what is a blind copy, what is an anomaly) stay in
 * inspect and trace. */
#include "config.h"

#include <string.h>

#include "web-private.h"

#define WEB_MODEL_ID_LENGTH 16     /* hex digits of SHA-256 kept */
#define WEB_MODEL_HEADER_MAX 65536 /* octets of the raw header block shown */

/**
 * farceur_web_id:
 * @path: the file a message is stored in
 * @index: its place in an mbox, from 1; 0 for a file holding one message
 * @start: where its octets start in the file
 *
 * A message's id in URLs: the first 16 hex digits of the SHA-256 of where
 * it is stored.  It names the message without saying where it is, and stays
 * the same while the message does (a Maildir file keeps its name; an mbox
 * message keeps its place when others are appended).
 *
 * Returns: (transfer full): the id
 */
char *
farceur_web_id(const char *path, guint index, gint64 start)
{
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_autofree char *place = NULL;

  g_return_val_if_fail(path != NULL, NULL);
  place = g_strdup_printf("%u:%" G_GINT64_FORMAT, index, start);
  g_checksum_update(sum, (const guchar *)path, strlen(path) + 1);
  g_checksum_update(sum, (const guchar *)place, strlen(place));
  return g_strndup(g_checksum_get_string(sum), WEB_MODEL_ID_LENGTH);
}

/* ---- the list ----------------------------------------------------------- */

/**
 * farceur_web_row_free:
 * @row: (nullable): a row
 */
void
farceur_web_row_free(FarceurWebRow *row)
{
  if (row == NULL)
    return;
  g_free(row->id);
  g_free(row->source);
  g_clear_pointer(&row->date, g_date_time_unref);
  g_free(row->subject);
  g_free(row->mail_from);
  g_free(row->from_name);
  g_free(row->from_addr);
  g_ptr_array_unref(row->recipients);
  g_ptr_array_unref(row->envelope_only);
  g_free(row);
}

static void
web_model_add_addrs(GPtrArray *out, GPtrArray *addresses)
{
  for (guint i = 0; i < addresses->len; i++) {
    const FarceurInspectAddress *a = addresses->pdata[i];

    if (a->addr != NULL)
      g_ptr_array_add(out, g_strdup(a->addr));
  }
}

static GPtrArray *
web_model_copy_strings(GPtrArray *strings)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func(g_free);

  for (guint i = 0; strings != NULL && i < strings->len; i++)
    g_ptr_array_add(copy, g_strdup(strings->pdata[i]));
  return copy;
}

/**
 * farceur_web_row_new:
 * @msg: an inspect model (its digests are not needed)
 * @id: the message's id (farceur_web_id())
 *
 * The list's row of @msg; @arrived is left 0 for the caller, which knows
 * the file.
 *
 * Returns: (transfer full): the row
 */
FarceurWebRow *
farceur_web_row_new(const FarceurInspectMessage *msg, const char *id)
{
  FarceurWebRow *row;
  const FarceurInspectEnvelope *env;

  g_return_val_if_fail(msg != NULL && id != NULL, NULL);
  env = msg->envelope;
  row = g_new0(FarceurWebRow, 1);
  row->id = g_strdup(id);
  row->source = g_strdup(msg->source);
  row->size = msg->size;
  row->date = msg->date ? g_date_time_ref(msg->date) : NULL;
  row->subject = g_strdup(msg->subject);
  row->mail_from = env ? g_strdup(env->mail_from) : NULL;
  if (msg->from->len > 0) {
    const FarceurInspectAddress *from = msg->from->pdata[0];

    row->from_name = g_strdup(from->name);
    row->from_addr = g_strdup(from->addr);
  }
  if (env != NULL && env->rcpt_to->len > 0) {
    row->recipients = web_model_copy_strings(env->rcpt_to);
  } else {
    row->recipients = g_ptr_array_new_with_free_func(g_free);
    web_model_add_addrs(row->recipients, msg->to);
    web_model_add_addrs(row->recipients, msg->cc);
  }
  row->forged_from = env && env->sender_mismatch;
  row->envelope_only = web_model_copy_strings(env ? env->envelope_only : NULL);
  for (guint i = 0; i < msg->parts->len; i++)
    row->attachments += web_mail_is_attachment(msg->parts->pdata[i]);
  return row;
}

/* ---- the envelope beside the headers ------------------------------------ */

static void
web_model_pair_free(gpointer data)
{
  FarceurWebPair *pair = data;

  g_free(pair->envelope);
  g_free(pair->field);
  g_free(pair->header);
  g_free(pair);
}

static char *
web_model_mailbox(const FarceurInspectAddress *a)
{
  return a->name ? g_strdup_printf("%s <%s>", a->name, a->addr ? a->addr : "")
                 : g_strdup(a->addr ? a->addr : "");
}

/* The To or Cc mailbox of @addr, and which field holds it. */
static const FarceurInspectAddress *
web_model_find(const FarceurInspectMessage *msg, const char *addr, const char **field)
{
  GPtrArray *lists[] = { msg->to, msg->cc };
  const char *names[] = { "To", "Cc" };

  for (gsize l = 0; l < G_N_ELEMENTS(lists); l++)
    for (guint i = 0; i < lists[l]->len; i++) {
      const FarceurInspectAddress *a = lists[l]->pdata[i];

      if (a->addr && g_ascii_strcasecmp(a->addr, addr) == 0) {
        *field = names[l];
        return a;
      }
    }
  return NULL;
}

static gboolean
web_model_listed(GPtrArray *list, const char *addr)
{
  for (guint i = 0; i < list->len; i++)
    if (g_ascii_strcasecmp(list->pdata[i], addr) == 0)
      return TRUE;
  return FALSE;
}

static FarceurWebPair *
web_model_pair(gboolean sender, const char *envelope, const char *field,
               const FarceurInspectAddress *header, FarceurWebPairState state)
{
  FarceurWebPair *pair = g_new0(FarceurWebPair, 1);

  pair->sender = sender;
  pair->envelope = g_strdup(envelope);
  pair->field = header ? g_strdup(field) : NULL;
  pair->header = header ? web_model_mailbox(header) : NULL;
  pair->state = state;
  return pair;
}

static FarceurWebPair *
web_model_sender(const FarceurInspectMessage *msg)
{
  const FarceurInspectEnvelope *env = msg->envelope;
  const FarceurInspectAddress *from = msg->from->len ? msg->from->pdata[0] : NULL;
  FarceurWebPairState state;

  if (env->mail_from == NULL)
    state = FARCEUR_WEB_PAIR_HEADER_ONLY;
  else if (from == NULL)
    state = FARCEUR_WEB_PAIR_ENVELOPE_ONLY;
  else if (env->sender_mismatch)
    state = FARCEUR_WEB_PAIR_FORGED;
  else if (from->addr && g_ascii_strcasecmp(from->addr, env->mail_from) == 0)
    state = FARCEUR_WEB_PAIR_SAME;
  else
    state = FARCEUR_WEB_PAIR_DIFFERENT;
  return web_model_pair(TRUE, env->mail_from, "From", from, state);
}

/**
 * farceur_web_compare:
 * @msg: an inspect model
 *
 * The envelope @msg records beside its headers, line by line: MAIL FROM
 * against From, then each envelope recipient against the To or Cc field
 * naming it, then the To and Cc addresses the envelope does not name.  The
 * states come from inspect's flags (sender_mismatch, envelope_only,
 * header_only).
 *
 * Returns: (transfer full) (element-type FarceurWebPair): the lines; none
 *   when @msg records no envelope
 */
GPtrArray *
farceur_web_compare(const FarceurInspectMessage *msg)
{
  GPtrArray *pairs = g_ptr_array_new_with_free_func(web_model_pair_free);
  const FarceurInspectEnvelope *env;

  g_return_val_if_fail(msg != NULL, pairs);
  if ((env = msg->envelope) == NULL)
    return pairs;
  g_ptr_array_add(pairs, web_model_sender(msg));
  for (guint i = 0; i < env->rcpt_to->len; i++) {
    const char *rcpt = env->rcpt_to->pdata[i];
    const char *field = NULL;
    const FarceurInspectAddress *header = web_model_find(msg, rcpt, &field);

    g_ptr_array_add(pairs, web_model_pair(FALSE, rcpt, field, header,
                                          web_model_listed(env->envelope_only, rcpt)
                                              ? FARCEUR_WEB_PAIR_ENVELOPE_ONLY
                                              : FARCEUR_WEB_PAIR_SAME));
  }
  for (guint i = 0; i < env->header_only->len; i++) {
    const char *field = NULL;
    const FarceurInspectAddress *header = web_model_find(msg, env->header_only->pdata[i], &field);

    g_ptr_array_add(pairs,
                    web_model_pair(FALSE, NULL, field, header, FARCEUR_WEB_PAIR_HEADER_ONLY));
  }
  return pairs;
}

/**
 * farceur_web_pair_state_to_string:
 * @state: a state
 *
 * Returns: (transfer none): its name in the page's classes: "same",
 *   "different", "forged", "envelope-only", "header-only"
 */
const char *
farceur_web_pair_state_to_string(FarceurWebPairState state)
{
  switch (state) {
    case FARCEUR_WEB_PAIR_SAME:
      return "same";
    case FARCEUR_WEB_PAIR_DIFFERENT:
      return "different";
    case FARCEUR_WEB_PAIR_FORGED:
      return "forged";
    case FARCEUR_WEB_PAIR_ENVELOPE_ONLY:
      return "envelope-only";
    case FARCEUR_WEB_PAIR_HEADER_ONLY:
      return "header-only";
  }
  return "same";
}

/* ---- a message page ----------------------------------------------------- */

/**
 * farceur_web_message_free:
 * @page: (nullable): a message page
 */
void
farceur_web_message_free(FarceurWebMessage *page)
{
  if (page == NULL)
    return;
  g_free(page->id);
  farceur_inspect_message_free(page->inspect);
  g_ptr_array_unref(page->pairs);
  g_free(page->text);
  g_free(page->raw_header);
  g_free(page);
}

/* The first leaf of type @type that is a body, not an attachment. */
static const FarceurInspectPart *
web_model_body(const FarceurInspectMessage *msg, const char *type)
{
  for (guint i = 0; i < msg->parts->len; i++) {
    const FarceurInspectPart *part = msg->parts->pdata[i];

    if (part->kind == FARCEUR_INSPECT_LEAF && strcmp(part->content_type, type) == 0
        && !web_mail_is_attachment(part))
      return part;
  }
  return NULL;
}

static void
web_model_bodies(FarceurWebMessage *page)
{
  gboolean truncated;

  page->text_part = web_model_body(page->inspect, "text/plain");
  page->html_part = web_model_body(page->inspect, "text/html");
  if (page->text_part != NULL)
    page->text = web_mail_part_text(page->text_part, WEB_MAIL_TEXT_MAX, &page->text_truncated);
  if (page->html_part != NULL) {
    g_autofree char *html = web_mail_part_text(page->html_part, WEB_MAIL_HTML_MAX, &truncated);

    page->remote_refs = web_mail_count_remote(html);
  }
}

/**
 * farceur_web_message_new:
 * @input: a message read by farceur_input_next() or farceur_input_read_range()
 * @id: its id
 * @error: return location for a #GError (FARCEUR_ERROR_IO: a body cannot be read)
 *
 * The message page of @input: the inspect model with every header and the
 * part digests, the envelope beside the headers, the text body and the
 * HTML body's count of network references, the raw header block.  Bodies
 * are read through capped buffers; parts are never held whole.
 *
 * Returns: (transfer full) (nullable): the page
 */
FarceurWebMessage *
farceur_web_message_new(FarceurInputMessage *input, const char *id, GError **error)
{
  g_autoptr(FarceurWebMessage) page = NULL;
  FarceurInspectMessage *inspect;

  g_return_val_if_fail(input != NULL && id != NULL, NULL);
  if ((inspect = farceur_inspect_message(input, FARCEUR_INSPECT_HEADERS, error)) == NULL)
    return NULL;
  page = g_new0(FarceurWebMessage, 1);
  page->id = g_strdup(id);
  page->inspect = inspect;
  page->pairs = farceur_web_compare(inspect);
  web_model_bodies(page);
  if (input->stored != NULL)
    page->raw_header
        = web_mail_raw_header(input->stored, WEB_MODEL_HEADER_MAX, &page->raw_header_truncated);
  else
    page->raw_header = g_strdup("");
  return g_steal_pointer(&page);
}

/* ---- a trace page ------------------------------------------------------- */

static void
web_model_hop_free(gpointer data)
{
  FarceurWebHop *hop = data;

  g_free(hop->from);
  g_free(hop->date);
  g_free(hop->delay);
  g_ptr_array_unref(hop->notes);
  g_free(hop);
}

/**
 * farceur_web_trace_free:
 * @page: (nullable): a trace page
 */
void
farceur_web_trace_free(FarceurWebTrace *page)
{
  if (page == NULL)
    return;
  g_free(page->id);
  g_free(page->source);
  g_free(page->subject);
  g_clear_pointer(&page->hops, g_ptr_array_unref);
  farceur_trace_free(page->trace);
  g_free(page->sent);
  g_free(page->total);
  g_free(page);
}

static char *
web_model_date(GDateTime *date)
{
  return date ? g_date_time_format(date, "%Y-%m-%d %H:%M:%SZ") : NULL;
}

static FarceurWebHop *
web_model_hop(const FarceurTrace *trace, guint i, gint64 longest)
{
  const FarceurHop *hop = trace->hops->pdata[i];
  FarceurWebHop *row = g_new0(FarceurWebHop, 1);

  row->hop = hop;
  row->from = farceur_hop_describe_from(hop);
  row->date = web_model_date(hop->date);
  row->delay = hop->has_delay ? farceur_trace_format_seconds(hop->delay_s) : NULL;
  if (hop->has_delay && hop->delay_s > 0 && longest > 0)
    row->bar = (double)hop->delay_s / (double)longest;
  row->notes = g_ptr_array_new_with_free_func(g_free);
  for (guint flag = 1; flag <= FARCEUR_HOP_ANOMALY_LAST; flag <<= 1)
    if (hop->anomalies & flag)
      g_ptr_array_add(row->notes, farceur_trace_describe_anomaly(trace, i, flag));
  for (guint w = 0; w < hop->warnings->len; w++)
    g_ptr_array_add(row->notes, g_strdup_printf("warning: %s", (char *)hop->warnings->pdata[w]));
  return row;
}

/**
 * farceur_web_trace_new:
 * @message: a parsed message
 * @id: its id
 * @source: where it came from
 *
 * The trace page of @message: the hops of farceur_trace_from_message(),
 * each with its delay as a fraction of the longest one (the bar), its
 * anomalies in sentences and its warnings.
 *
 * Returns: (transfer full): the page
 */
FarceurWebTrace *
farceur_web_trace_new(GMimeMessage *message, const char *id, const char *source)
{
  FarceurWebTrace *page;
  const char *subject;
  gint64 longest = 0;

  g_return_val_if_fail(GMIME_IS_MESSAGE(message) && id != NULL, NULL);
  page = g_new0(FarceurWebTrace, 1);
  page->id = g_strdup(id);
  page->source = g_strdup(source);
  subject = g_mime_message_get_subject(message);
  page->subject = subject ? g_utf8_make_valid(subject, -1) : NULL;
  page->trace = farceur_trace_from_message(message);
  page->hops = g_ptr_array_new_with_free_func(web_model_hop_free);
  for (guint i = 0; i < page->trace->hops->len; i++) {
    const FarceurHop *hop = page->trace->hops->pdata[i];

    if (hop->has_delay && hop->delay_s > longest)
      longest = hop->delay_s;
  }
  for (guint i = 0; i < page->trace->hops->len; i++)
    g_ptr_array_add(page->hops, web_model_hop(page->trace, i, longest));
  page->sent = web_model_date(page->trace->sent);
  if (page->trace->has_total)
    page->total = farceur_trace_format_seconds(page->trace->total_s);
  return page;
}
