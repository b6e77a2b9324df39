/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: a stored message as it is sent, without GMime serialising it.
 *
 * `farceur send` sends a message file's own octets (as sendmail -i and
 * msmtp do), changing only line ends and dot-stuffing on the wire, and
 * leaving out the header fields that must not leave: Bcc, Resent-Bcc and
 * the envelope a delivery stored, Return-Path, Envelope-to, Delivered-To,
 * X-Original-To (data/doc/envelope.md; farceur_envelope_field_is_withheld()
 * holds the list).  Signatures over the header (DKIM) stay valid, and a
 * 100 KB message costs one GMime parse in the first pass instead of a parse
 * and two serialisations.
 *
 * GMime's parser gives the offset of every header field it read
 * (g_mime_header_get_offset()); the end of a field is found here, by hand
 * because GMime does not keep it: the first line end not followed by a
 * blank or a tab, as GMime's own parser unfolds.  Each cut is checked
 * against the octets (the field's name, then optional blanks and a colon)
 * before it is trusted; anything unexpected makes the caller fall back to
 * GMime's serialisation.
 */
#include "config.h"

#include <string.h>

#include <farceur/envelope.h>
#include "gmime-autoptr.h"

#include "batch-private.h"

#define BATCH_FIELD_MAX (1024 * 1024) /* a longer field: let GMime handle it */

/* The octets of @stored from @offset (relative to its start) to the end of
 * the header field that starts there, read in 4 KiB pieces; FALSE when the
 * field is over BATCH_FIELD_MAX or the stream cannot be read. */
static gboolean
batch_stored_read_field(GMimeStream *stored, gint64 offset, GByteArray *field)
{
  g_autoptr(GMimeStream) sub
      = g_mime_stream_substream(stored, stored->bound_start + offset, stored->bound_end);
  char buf[4096];
  gsize scanned = 0;
  ssize_t n;

  while (field->len < BATCH_FIELD_MAX && (n = g_mime_stream_read(sub, buf, sizeof buf)) > 0) {
    g_byte_array_append(field, (const guint8 *)buf, (guint)n);
    for (; scanned + 1 < field->len; scanned++)
      if (field->data[scanned] == '\n' && field->data[scanned + 1] != ' '
          && field->data[scanned + 1] != '\t') {
        g_byte_array_set_size(field, (guint)(scanned + 1));
        return TRUE;
      }
  }
  /* the last field of a message without a body may end at its end */
  return field->len < BATCH_FIELD_MAX && g_mime_stream_eos(sub);
}

/* The field named @name at @offset: its extent, after checking that the
 * octets there are indeed "@name:" (blanks allowed before the colon). */
static gboolean
batch_stored_cut(GMimeStream *stored, const char *name, gint64 offset, BatchCut *cut)
{
  g_autoptr(GByteArray) field = g_byte_array_new();
  gsize len = strlen(name), i;

  if (offset < 0 || !batch_stored_read_field(stored, offset, field) || field->len <= len
      || g_ascii_strncasecmp((const char *)field->data, name, len) != 0)
    return FALSE;
  for (i = len; i < field->len && (field->data[i] == ' ' || field->data[i] == '\t'); i++)
    ;
  if (i >= field->len || field->data[i] != ':')
    return FALSE;
  cut->start = offset;
  cut->end = offset + field->len;
  return TRUE;
}

static gint
batch_cut_compare(gconstpointer a, gconstpointer b)
{
  const BatchCut *x = a, *y = b;

  return x->start < y->start ? -1 : x->start > y->start;
}

/**
 * batch_stored_cuts:
 * @message: @stored as GMime parsed it, not modified since
 * @stored: the octets of the message, bounded to it
 * @cuts: (out) (transfer full): the fields to leave out, in order
 *
 * Returns: %FALSE when the fields could not be located with certainty: the
 *   message must then go out as GMime serialises it
 */
gboolean
batch_stored_cuts(GMimeMessage *message, GMimeStream *stored, GArray **cuts)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(message));
  g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(BatchCut));
  int count = g_mime_header_list_get_count(headers);

  for (int i = 0; i < count; i++) {
    GMimeHeader *header = g_mime_header_list_get_header_at(headers, i);
    const char *name = g_mime_header_get_name(header);
    BatchCut cut;
    if (!farceur_envelope_field_is_withheld(name))
      continue;
    if (!batch_stored_cut(stored, name, g_mime_header_get_offset(header) - stored->bound_start,
                          &cut))
      return FALSE;
    g_array_append_val(out, cut);
  }
  g_array_sort(out, batch_cut_compare);
  for (guint i = 1; i < out->len; i++)
    if (g_array_index(out, BatchCut, i).start < g_array_index(out, BatchCut, i - 1).end)
      return FALSE;
  *cuts = g_steal_pointer(&out);
  return TRUE;
}

/**
 * batch_stored_as_sent:
 * @stored: the octets of a message, bounded to it
 * @cuts: (nullable): ranges to leave out, in order, from batch_stored_cuts()
 *
 * Returns: (transfer full): @stored without @cuts, positioned at its start:
 *   a stream of its own over the same octets
 */
GMimeStream *
batch_stored_as_sent(GMimeStream *stored, const GArray *cuts)
{
  GMimeStream *cat;
  gint64 at = 0;

  if (cuts == NULL || cuts->len == 0)
    return g_mime_stream_substream(stored, stored->bound_start, stored->bound_end);
  cat = g_mime_stream_cat_new();
  for (guint i = 0; i <= cuts->len; i++) {
    gint64 start = stored->bound_start + at;
    gint64 end = i < cuts->len ? stored->bound_start + g_array_index(cuts, BatchCut, i).start
                               : stored->bound_end;
    if (i < cuts->len)
      at = g_array_index(cuts, BatchCut, i).end;
    if (end != -1 && end <= start)
      continue;
    g_autoptr(GMimeStream) piece = g_mime_stream_substream(stored, start, end);
    g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), piece);
  }
  return cat;
}
