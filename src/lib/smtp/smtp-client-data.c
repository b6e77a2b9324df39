/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The message on its way to the wire: its octets (GMime's serialisation of
 * a message object, or a stored message as it is) go through filters that
 * make every line end CRLF and dot-stuff (one filter), look at the content
 * and check the result byte by byte, without ever holding the whole
 * message in memory (README, Memory rules: a 1 GB attachment is streamed).  One pass decides
 * whether the message must be re-encoded and whether it is safe, and keeps
 * the wire form as it goes: in memory up to 1 MiB, then in an unlinked
 * temporary file (a queue file, as sendmail's), from which the transaction
 * sends it in 64 KiB writes.  Only a message that must be re-encoded takes a
 * second pass.
 *
 * Why a hand-written filter and a hand-written check: GMime's Dos2Unix and
 * Unix2Dos filters convert between CRLF and LF but let a lone CR through
 * untouched, so an input holding "\r.\r" would reach the server as a bare CR,
 * which some servers treat as a line end: the "SMTP smuggling" hole (a second
 * message hidden in the first).  The line-end filter below turns every CR,
 * LF and CRLF into one CRLF (and ends the content with one), and doubles a
 * "." that opens a line (RFC 5321 4.5.2): it knows where lines start, and
 * with memchr and memcpy between line ends it costs a tenth of GMime's
 * octet-at-a-time GMimeFilterSmtpData, which it replaced (callgrind: 2.4M
 * instructions of 10.7M for a 100 KB message).  The final check then
 * refuses to send anything whose CR and LF do not come in CRLF pairs or
 * that holds an end-of-data line before its end, whatever the filters did. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/input.h>

#include "error-text.h"
#include "smtp-client-private.h"

/* --- a GMimeFilter making lines SMTP's, and measuring them ------------- */

/* Every CRLF, lone CR and LF becomes CRLF, the content ends with one (as
 * Unix2Dos(ensure_newline)), a "." opening a line is doubled; on the way it
 * notes 8-bit octets (in the header, in the body) and the longest line,
 * counted without its line end and without the doubled dot (RFC 5321
 * 4.5.3.1.6). */
typedef struct {
  GMimeFilter parent;
  SmtpDataScan *scan;
  gboolean pending_cr; /* the last input octet was a CR */
  gboolean in_header;
  gsize line_len; /* octets of the current line so far */
  guint line_no;
} SmtpFilterLines;

typedef struct {
  GMimeFilterClass parent_class;
} SmtpFilterLinesClass;

GType smtp_filter_lines_get_type(void);
G_DEFINE_TYPE(SmtpFilterLines, smtp_filter_lines, GMIME_TYPE_FILTER)

static GMimeFilter *
smtp_filter_lines_copy(GMimeFilter *filter)
{
  return g_object_new(smtp_filter_lines_get_type(), NULL);
}

/* TRUE when one of the @n octets at @p has its high bit set; 8 at a time. */
static gboolean
smtp_data_has_8bit(const guint8 *p, size_t n)
{
  guint64 acc = 0, word;
  size_t i = 0;

  for (; i + 8 <= n; i += 8) {
    memcpy(&word, p + i, 8);
    acc |= word;
  }
  for (; i < n; i++)
    acc |= p[i];
  return (acc & G_GUINT64_CONSTANT(0x8080808080808080)) != 0;
}

static char *
smtp_filter_lines_end(SmtpFilterLines *self, char *o)
{
  SmtpDataScan *scan = self->scan;

  *o++ = '\r';
  *o++ = '\n';
  if (self->line_len > scan->longest_line)
    scan->longest_line = self->line_len, scan->longest_line_no = self->line_no;
  if (self->line_len == 0)
    self->in_header = FALSE; /* the empty line ends the header */
  self->line_len = 0;
  self->line_no++;
  return o;
}

/* A CR ends a line, followed by an LF (@lf) or not.  A lone CR in the
 * message header would split on the wire a field that GMime, and the
 * envelope taken from it, read as one ("Subject: x\rBcc: y"): noted, and
 * the message refused. */
static char *
smtp_filter_lines_cr(SmtpFilterLines *self, char *o, gboolean lf)
{
  if (!lf && self->in_header && self->scan->header_cr_line == 0)
    self->scan->header_cr_line = self->line_no;
  return smtp_filter_lines_end(self, o);
}

/* Copies @n octets holding no CR, each LF made CRLF and each "." opening a
 * line doubled, with memcpy between line ends. */
static char *
smtp_filter_lines_copy_run(SmtpFilterLines *self, char *o, const char *p, size_t n)
{
  while (n > 0) {
    const char *lf = memchr(p, '\n', n);
    size_t k = lf ? (size_t)(lf - p) : n;
    gboolean *eightbit
        = self->in_header ? &self->scan->eightbit_header : &self->scan->eightbit_body;

    if (self->line_len == 0 && k > 0 && *p == '.')
      *o++ = '.';
    if (!*eightbit && smtp_data_has_8bit((const guint8 *)p, k))
      *eightbit = TRUE;
    memcpy(o, p, k);
    o += k;
    self->line_len += k;
    if (lf == NULL)
      break;
    o = smtp_filter_lines_end(self, o);
    p += k + 1;
    n -= k + 1;
  }
  return o;
}

/* Converts the octets from @p to @end; a CR at the very end is held, as
 * its LF may open the next chunk. */
static char *
smtp_filter_lines_convert(SmtpFilterLines *self, char *o, const char *p, const char *end)
{
  if (self->pending_cr && p < end) {
    self->pending_cr = FALSE;
    o = smtp_filter_lines_cr(self, o, *p == '\n');
    if (*p == '\n')
      p++; /* CRLF: one line end */
  }
  while (p < end) {
    const char *cr = memchr(p, '\r', (size_t)(end - p));

    o = smtp_filter_lines_copy_run(self, o, p, (size_t)((cr ? cr : end) - p));
    if (cr == NULL)
      break;
    p = cr + 1;
    if (p == end) {
      self->pending_cr = TRUE; /* its LF may open the next chunk */
      break;
    }
    o = smtp_filter_lines_cr(self, o, *p == '\n');
    if (*p == '\n')
      p++;
  }
  return o;
}

/* After the last chunk: the content ends with a line end. */
static char *
smtp_filter_lines_close(SmtpFilterLines *self, char *o)
{
  if (self->pending_cr) { /* a CR ends it */
    self->pending_cr = FALSE;
    return smtp_filter_lines_cr(self, o, FALSE);
  }
  if (self->line_len > 0) /* it ends with a line end */
    return smtp_filter_lines_end(self, o);
  return o;
}

static void
smtp_filter_lines_run(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                      size_t *outlen, size_t *outprespace, gboolean last)
{
  SmtpFilterLines *self = (SmtpFilterLines *)filter;
  char *o;

  /* each octet gives at most two; a CR held from the last chunk and the
   * closing line end two more */
  g_mime_filter_set_size(filter, 2 * len + 4, FALSE);
  o = smtp_filter_lines_convert(self, filter->outbuf, in, in + len);
  if (last)
    o = smtp_filter_lines_close(self, o);
  *out = filter->outbuf;
  *outlen = (size_t)(o - filter->outbuf);
  *outprespace = filter->outpre;
}

static void
smtp_filter_lines_filter(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                         size_t *outlen, size_t *outprespace)
{
  smtp_filter_lines_run(filter, in, len, prespace, out, outlen, outprespace, FALSE);
}

static void
smtp_filter_lines_complete(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                           size_t *outlen, size_t *outprespace)
{
  smtp_filter_lines_run(filter, in, len, prespace, out, outlen, outprespace, TRUE);
}

static void
smtp_filter_lines_reset(GMimeFilter *filter)
{
  SmtpFilterLines *self = (SmtpFilterLines *)filter;

  self->pending_cr = FALSE;
  self->in_header = TRUE;
  self->line_len = 0;
  self->line_no = 1;
}

static void
smtp_filter_lines_class_init(SmtpFilterLinesClass *klass)
{
  GMimeFilterClass *filter_class = GMIME_FILTER_CLASS(klass);

  filter_class->copy = smtp_filter_lines_copy;
  filter_class->filter = smtp_filter_lines_filter;
  filter_class->complete = smtp_filter_lines_complete;
  filter_class->reset = smtp_filter_lines_reset;
}

static void
smtp_filter_lines_init(SmtpFilterLines *self)
{
  smtp_filter_lines_reset(GMIME_FILTER(self));
}

/* --- keeping the wire form --------------------------------------------- */

/* Where a large wire form waits for the 354: an unlinked temporary file. */
static GMimeStream *
smtp_data_spool_new(GError **error)
{
  g_autofree char *path = NULL;
  GError *local = NULL;
  int fd;

  if ((fd = g_file_open_tmp("farceur-data-XXXXXX", &path, &local)) == -1) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT,
                "message: cannot spool it over %d octets: %s", SMTP_DATA_SPOOL_MIN, local->message);
    g_error_free(local);
    return NULL;
  }
  g_unlink(path); /* gone with the descriptor */
  return g_mime_stream_fs_new(fd);
}

static void
smtp_data_keep_fail(SmtpDataScan *scan, GError *error)
{
  scan->spool_error = error;
  g_clear_pointer(&scan->wire, g_byte_array_unref);
  g_clear_object(&scan->spool);
}

/* Keeps @len more octets of the wire form (when asked to keep it): in
 * memory up to SMTP_DATA_SPOOL_MIN, then everything moves to a spool file. */
static void
smtp_data_keep(SmtpDataScan *scan, const char *in, size_t len)
{
  GError *error = NULL;

  if (scan->wire != NULL && scan->wire->len + len <= SMTP_DATA_SPOOL_MIN) {
    g_byte_array_append(scan->wire, (const guint8 *)in, (guint)len);
    return;
  }
  if (scan->wire != NULL) {
    if ((scan->spool = smtp_data_spool_new(&error)) == NULL
        || g_mime_stream_write(scan->spool, (const char *)scan->wire->data, scan->wire->len)
               != (ssize_t)scan->wire->len) {
      if (error == NULL)
        farceur_set_errno_error(&error, FARCEUR_ERROR_IO, errno,
                                "message: cannot write its spool file");
      smtp_data_keep_fail(scan, error);
      return;
    }
    g_clear_pointer(&scan->wire, g_byte_array_unref);
  }
  if (scan->spool != NULL && g_mime_stream_write(scan->spool, in, len) != (ssize_t)len) {
    farceur_set_errno_error(&error, FARCEUR_ERROR_IO, errno,
                            "message: cannot write its spool file");
    smtp_data_keep_fail(scan, error);
  }
}

/* --- the last guard against smuggling, as a GMimeFilter that looks ----- */

/* It sees the wire form: every CR must be followed by LF, every LF preceded
 * by CR, the content must end with CRLF, and no line may be a lone "."
 * (what the line filter ensures; checked anyway, whatever it did).  Hand-written: no GMime filter checks. */
typedef struct {
  GMimeFilter parent;
  SmtpDataScan *scan;
  int last;              /* the previous octet, -1 before the first */
  gboolean dot_at_start; /* the previous octet was a "." opening a line */
} SmtpFilterCheck;

typedef struct {
  GMimeFilterClass parent_class;
} SmtpFilterCheckClass;

GType smtp_filter_check_get_type(void);
G_DEFINE_TYPE(SmtpFilterCheck, smtp_filter_check, GMIME_TYPE_FILTER)

static GMimeFilter *
smtp_filter_check_copy(GMimeFilter *filter)
{
  return g_object_new(smtp_filter_check_get_type(), NULL);
}

static const char *
smtp_filter_check_octet(SmtpFilterCheck *self, int c)
{
  const char *why = NULL;

  if (self->last == '\r' && c != '\n')
    why = "bare CR";
  else if (c == '\n' && self->last != '\r')
    why = "bare LF";
  else if (self->dot_at_start && c == '\r')
    why = "a line with a single dot";
  self->dot_at_start = c == '.' && (self->last == -1 || self->last == '\n');
  self->last = c;
  return why;
}

/* How many octets at @in are neither CR nor LF. */
static size_t
smtp_filter_check_ordinary(const char *in, size_t len)
{
  const char *lf = memchr(in, '\n', len);
  size_t n = lf ? (size_t)(lf - in) : len;
  const char *cr = memchr(in, '\r', n);

  return cr ? (size_t)(cr - in) : n;
}

static void
smtp_filter_check_filter(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                         size_t *outlen, size_t *outprespace)
{
  SmtpFilterCheck *self = (SmtpFilterCheck *)filter;
  SmtpDataScan *scan = self->scan;

  for (size_t i = 0; i < len;) {
    const char *why;

    if (self->last != '\r' && self->last != '\n' && self->last != -1 && !self->dot_at_start) {
      /* Mid-line after an ordinary octet: nothing to check up to the next
       * CR or LF. */
      size_t skip = smtp_filter_check_ordinary(in + i, len - i);
      if (skip > 0) {
        self->last = (guint8)in[i + skip - 1];
        i += skip;
        continue;
      }
    }
    why = smtp_filter_check_octet(self, (guint8)in[i++]);
    if (why != NULL && scan->unsafe == NULL)
      scan->unsafe = why;
  }
  scan->size += len;
  smtp_data_keep(scan, in, len);
  *out = in; /* it only looks */
  *outlen = len;
  *outprespace = prespace;
}

static void
smtp_filter_check_complete(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                           size_t *outlen, size_t *outprespace)
{
  SmtpFilterCheck *self = (SmtpFilterCheck *)filter;

  smtp_filter_check_filter(filter, in, len, prespace, out, outlen, outprespace);
  if (self->scan->size < 2 || self->last != '\n')
    self->scan->unsafe = "does not end with CRLF"; /* said first, as it explains the rest */
}

static void
smtp_filter_check_reset(GMimeFilter *filter)
{
  SmtpFilterCheck *self = (SmtpFilterCheck *)filter;

  self->last = -1;
  self->dot_at_start = FALSE;
}

static void
smtp_filter_check_class_init(SmtpFilterCheckClass *klass)
{
  GMimeFilterClass *filter_class = GMIME_FILTER_CLASS(klass);

  filter_class->copy = smtp_filter_check_copy;
  filter_class->filter = smtp_filter_check_filter;
  filter_class->complete = smtp_filter_check_complete;
  filter_class->reset = smtp_filter_check_reset;
}

static void
smtp_filter_check_init(SmtpFilterCheck *self)
{
  smtp_filter_check_reset(GMIME_FILTER(self));
}

static void
smtp_data_scan_clear(SmtpDataScan *scan)
{
  g_clear_pointer(&scan->wire, g_byte_array_unref);
  g_clear_object(&scan->spool);
  g_clear_error(&scan->spool_error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SmtpDataScan, smtp_data_scan_clear)

/* --- serialisation ------------------------------------------------------ */

/* What goes through the chain: a message object, serialised by GMime, or a
 * stored message's octets as they are (read from their start). */
typedef struct {
  GMimeObject *object;
  GMimeStream *stream;
} SmtpDataSource;

static gboolean
smtp_data_source_write(const SmtpDataSource *source, GMimeStream *sink)
{
  if (source->object != NULL)
    return g_mime_object_write_to_stream(source->object, NULL, sink) != -1;
  return g_mime_stream_reset(source->stream) != -1
         && g_mime_stream_write_to_stream(source->stream, sink) != -1;
}

/* Where the wire form of @source is kept in memory: sized for a stored
 * message's octets and the CRs its lines gain, so that it is not copied
 * again each time it grows. */
static GByteArray *
smtp_data_wire_new(const SmtpDataSource *source)
{
  gint64 len = source->stream != NULL ? g_mime_stream_length(source->stream) : -1;

  if (len <= 0)
    return g_byte_array_new();
  return g_byte_array_sized_new((guint)MIN(len + len / 32 + 64, SMTP_DATA_SPOOL_MIN));
}

/* The message through the whole chain: lines made SMTP's and measured,
 * then the check, which keeps the wire form (smtp_data_keep()). */
static gboolean
smtp_data_write(const SmtpDataSource *source, SmtpDataScan *scan, GError **error)
{
  g_autoptr(GMimeStream) null = g_mime_stream_null_new();
  g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new(null);
  GMimeFilter *chain[] = {
    g_object_new(smtp_filter_lines_get_type(), NULL),
    g_object_new(smtp_filter_check_get_type(), NULL),
  };
  gboolean ok;

  smtp_data_scan_clear(scan);
  memset(scan, 0, sizeof *scan);
  scan->wire = smtp_data_wire_new(source);
  ((SmtpFilterLines *)chain[0])->scan = scan;
  ((SmtpFilterCheck *)chain[1])->scan = scan;
  for (guint i = 0; i < G_N_ELEMENTS(chain); i++) {
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), chain[i]);
    g_object_unref(chain[i]);
  }
  ok = smtp_data_source_write(source, filtered) && g_mime_stream_flush(filtered) != -1;
  if (!ok)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_IO, "message: cannot %s it",
                source->object ? "serialise" : "read");
  return ok;
}

/* The message can go as it is: no line over 998 octets, no 8-bit content
 * the server was not told it can take. */
static gboolean
smtp_data_fits(const SmtpDataScan *scan, gboolean eightbit_ok)
{
  return (!scan->eightbit_body || eightbit_ok) && scan->longest_line <= SMTP_DATA_MAX_LINE;
}

static gboolean
smtp_data_check_scan(const SmtpDataScan *scan, gboolean eightbit_ok, GError **error)
{
  if (scan->longest_line > SMTP_DATA_MAX_LINE) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "message line %u: %zu octets, over SMTP's 998 even after re-encoding",
                scan->longest_line_no, scan->longest_line);
    return FALSE;
  }
  if (scan->eightbit_body && !eightbit_ok) { /* raw 8-bit headers of an attached message */
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "message: 8-bit content that cannot be re-encoded to 7 bit, and the server "
                "does not offer 8BITMIME");
    return FALSE;
  }
  if (scan->header_cr_line != 0) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "message line %u: a lone CR in the header would split a field on the wire",
                scan->header_cr_line);
    return FALSE;
  }
  if (scan->unsafe != NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "message: refusing to send content with %s (smuggling guard)", scan->unsafe);
    return FALSE;
  }
  return TRUE;
}

/* The checked scan of the last pass made into @data: the wire form it
 * kept, in memory or spooled. */
static gboolean
smtp_data_finish(SmtpDataScan *scan, gboolean eightbit_ok, SmtpData *data, GError **error)
{
  if (!smtp_data_check_scan(scan, eightbit_ok, error))
    return FALSE;
  if (scan->spool_error != NULL) {
    g_propagate_error(error, g_steal_pointer(&scan->spool_error));
    return FALSE;
  }
  if (scan->wire != NULL) {
    data->content = g_mime_stream_mem_new_with_byte_array(g_steal_pointer(&scan->wire));
  } else if (g_mime_stream_reset(scan->spool) == -1) { /* fs streams do not buffer */
    farceur_set_errno_error(error, FARCEUR_ERROR_IO, errno, "message: cannot read its spool file");
    return FALSE;
  } else {
    data->content = g_steal_pointer(&scan->spool);
  }
  data->size = scan->size;
  data->eightbit = scan->eightbit_body || scan->eightbit_header;
  data->utf8_header = scan->eightbit_header;
  return TRUE;
}

/**
 * farceur_smtp_data_prepare:
 * @message: the message; re-encoded in place (g_mime_object_encode) when
 *   it needs 8BITMIME and @eightbit_ok is %FALSE or has lines over 998 octets,
 *   and then given "MIME-Version: 1.0" when it has none
 * @eightbit_ok: the server offers 8BITMIME
 * @data: (out caller-allocates): where to store the wire form
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Returns: %FALSE when the message cannot go out as SMTP requires
 */
gboolean
farceur_smtp_data_prepare(GMimeObject *message, gboolean eightbit_ok, SmtpData *data,
                          GError **error)
{
  g_auto(SmtpDataScan) scan = { 0 };
  SmtpDataSource source = { message, NULL };

  for (int pass = 0; pass < 2; pass++) {
    if (!smtp_data_write(&source, &scan, error))
      return FALSE;
    if (smtp_data_fits(&scan, eightbit_ok))
      break;
    if (pass == 0) { /* 7 bit also picks QP/base64 for parts with long lines */
      g_mime_object_encode(message, eightbit_ok ? GMIME_ENCODING_CONSTRAINT_8BIT
                                                : GMIME_ENCODING_CONSTRAINT_7BIT);
      /* a Content-Transfer-Encoding means nothing without it (RFC 2045 4) */
      if (GMIME_IS_MESSAGE(message) && g_mime_object_get_header(message, "MIME-Version") == NULL)
        g_mime_object_set_header(message, "MIME-Version", "1.0", NULL);
    }
  }
  return smtp_data_finish(&scan, eightbit_ok, data, error);
}

/**
 * farceur_smtp_data_prepare_stream:
 * @stream: a stored message, read from its start: its octets go out as they
 *   are but for line ends and dot-stuffing (what sendmail -i does); only a
 *   message with a line over 998 octets, or 8-bit content for a server
 *   without 8BITMIME, is parsed and re-encoded by GMime
 * @eightbit_ok: the server offers 8BITMIME
 * @data: (out caller-allocates): where to store the wire form
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Returns: %FALSE when the message cannot go out as SMTP requires
 */
gboolean
farceur_smtp_data_prepare_stream(GMimeStream *stream, gboolean eightbit_ok, SmtpData *data,
                                 GError **error)
{
  g_auto(SmtpDataScan) scan = { 0 };
  SmtpDataSource source = { NULL, stream };
  g_autoptr(GMimeMessage) message = NULL;

  if (!smtp_data_write(&source, &scan, error))
    return FALSE;
  if (smtp_data_fits(&scan, eightbit_ok))
    return smtp_data_finish(&scan, eightbit_ok, data, error);
  /* it cannot go as it is: GMime re-encodes a parsed copy */
  if ((message = farceur_input_parse_stream(stream, "message", error)) == NULL)
    return FALSE;
  return farceur_smtp_data_prepare(GMIME_OBJECT(message), eightbit_ok, data, error);
}

/**
 * farceur_smtp_check_stream:
 * @stream: a stored message, read from its start
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * What a send of @stream over SMTP, LMTP or exec refuses before any reply
 * counts, decided as farceur_smtp_data_prepare_stream() decides it for a
 * server that offers 8BITMIME: a line over 998 octets even after
 * re-encoding (a long header line), a lone CR in the header, content the
 * smuggling guard refuses.  For `send --dry-run`: it refuses what a real
 * send refuses, in the same words.
 *
 * Returns: %TRUE when @stream would go
 */
gboolean
farceur_smtp_check_stream(GMimeStream *stream, GError **error)
{
  SmtpData data = { 0 };
  gboolean ok;

  g_return_val_if_fail(GMIME_IS_STREAM(stream), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  ok = farceur_smtp_data_prepare_stream(stream, TRUE, &data, error);
  g_clear_object(&data.content);
  g_mime_stream_reset(stream);
  return ok;
}
