/* The message on its way to the wire: serialised by GMime, line ends made
 * CRLF by a filter below, dot-stuffed by GMime's, then checked byte by byte, without
 * ever holding the whole message in memory (SPEC: a 1 GB attachment is
 * streamed).  Two passes: the first into GMimeStreamNull, through filters
 * that only observe (8-bit content, longest line, wire size, smuggling
 * check), decides whether the message must be re-encoded and whether it is
 * safe, and keeps the wire form when it is at most 1 MiB; a larger one
 * is written by a second pass, through the same chain, into an unlinked
 * temporary file (a queue file, as sendmail's); the transaction sends it
 * from there in 64 KiB writes.
 *
 * Why a hand-written filter and a hand-written check: GMime's Dos2Unix and
 * Unix2Dos filters convert between CRLF and LF but let a lone CR through
 * untouched, so an input holding "\r.\r" would reach the server as a bare CR,
 * which some servers treat as a line end: the "SMTP smuggling" hole (a second
 * message hidden in the first).  The line-end filter below turns every CR,
 * LF and CRLF into one CRLF (and ends the content with one, as
 * Unix2Dos(ensure_newline) did after it, in the same pass; memchr and memcpy
 * between line ends); the final check then refuses to send
 * anything whose CR and LF do not come in CRLF pairs or that holds an
 * end-of-data line before its end, whatever the filters did. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include <farceur/error.h>
#include <farceur/gmime-autoptr.h>

#include "smtp-client-private.h"

/* --- a GMimeFilter turning CRLF, lone CR and LF into CRLF --------------- */

/* What GMime's Unix2Dos(ensure_newline) did after it, in the same pass. */
typedef struct {
  GMimeFilter parent;
  gboolean pending_cr; /* the last input byte was a CR */
  gboolean line_open;  /* octets written since the last line end */
} SmtpFilterLineEnds;

typedef struct {
  GMimeFilterClass parent_class;
} SmtpFilterLineEndsClass;

GType smtp_filter_line_ends_get_type(void);
G_DEFINE_TYPE(SmtpFilterLineEnds, smtp_filter_line_ends, GMIME_TYPE_FILTER)

static GMimeFilter *
smtp_filter_line_ends_copy(GMimeFilter *filter)
{
  return g_object_new(smtp_filter_line_ends_get_type(), NULL);
}

/* Copies @n octets holding no CR, each LF made CRLF, with memcpy between. */
static char *
smtp_filter_line_ends_copy_run(SmtpFilterLineEnds *self, char *o, const char *p, size_t n)
{
  while (n > 0) {
    const char *lf = memchr(p, '\n', n);
    size_t k = lf ? (size_t)(lf - p) : n;

    memcpy(o, p, k);
    o += k;
    self->line_open |= k > 0;
    if (lf == NULL)
      break;
    *o++ = '\r';
    *o++ = '\n';
    self->line_open = FALSE;
    p += k + 1;
    n -= k + 1;
  }
  return o;
}

static char *
smtp_filter_line_ends_crlf(SmtpFilterLineEnds *self, char *o)
{
  *o++ = '\r';
  *o++ = '\n';
  self->line_open = FALSE;
  return o;
}

static void
smtp_filter_line_ends_run(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                          size_t *outlen, size_t *outprespace, gboolean last)
{
  SmtpFilterLineEnds *self = (SmtpFilterLineEnds *)filter;
  const char *p = in, *end = in + len;
  char *o;

  g_mime_filter_set_size(filter, 2 * len + 2, FALSE);
  o = filter->outbuf;
  if (self->pending_cr && p < end) {
    self->pending_cr = FALSE;
    o = smtp_filter_line_ends_crlf(self, o);
    if (*p == '\n')
      p++; /* CRLF: one line end */
  }
  while (p < end) {
    const char *cr = memchr(p, '\r', (size_t)(end - p));

    o = smtp_filter_line_ends_copy_run(self, o, p, (size_t)((cr ? cr : end) - p));
    if (cr == NULL)
      break;
    p = cr + 1;
    if (p == end) {
      self->pending_cr = TRUE; /* its LF may open the next chunk */
      break;
    }
    o = smtp_filter_line_ends_crlf(self, o);
    if (*p == '\n')
      p++;
  }
  if (last && (self->pending_cr || self->line_open)) { /* ends with a line end */
    self->pending_cr = FALSE;
    o = smtp_filter_line_ends_crlf(self, o);
  }
  *out = filter->outbuf;
  *outlen = (size_t)(o - filter->outbuf);
  *outprespace = filter->outpre;
}

static void
smtp_filter_line_ends_filter(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                             size_t *outlen, size_t *outprespace)
{
  smtp_filter_line_ends_run(filter, in, len, prespace, out, outlen, outprespace, FALSE);
}

static void
smtp_filter_line_ends_complete(GMimeFilter *filter, char *in, size_t len, size_t prespace,
                               char **out, size_t *outlen, size_t *outprespace)
{
  smtp_filter_line_ends_run(filter, in, len, prespace, out, outlen, outprespace, TRUE);
}

static void
smtp_filter_line_ends_reset(GMimeFilter *filter)
{
  ((SmtpFilterLineEnds *)filter)->pending_cr = FALSE;
  ((SmtpFilterLineEnds *)filter)->line_open = FALSE;
}

static void
smtp_filter_line_ends_class_init(SmtpFilterLineEndsClass *klass)
{
  GMimeFilterClass *filter_class = GMIME_FILTER_CLASS(klass);

  filter_class->copy = smtp_filter_line_ends_copy;
  filter_class->filter = smtp_filter_line_ends_filter;
  filter_class->complete = smtp_filter_line_ends_complete;
  filter_class->reset = smtp_filter_line_ends_reset;
}

static void
smtp_filter_line_ends_init(SmtpFilterLineEnds *self)
{
}

/* --- a GMimeFilter that only looks: 8-bit octets and line lengths ------ */

/* It sees the message with CRLF line ends, before dot-stuffing. */
typedef struct {
  GMimeFilter parent;
  SmtpDataScan *scan;
  gboolean in_header;
  gsize line_len; /* octets of the current line so far, its CR included */
  guint line_no;
} SmtpFilterScan;

typedef struct {
  GMimeFilterClass parent_class;
} SmtpFilterScanClass;

GType smtp_filter_scan_get_type(void);
G_DEFINE_TYPE(SmtpFilterScan, smtp_filter_scan, GMIME_TYPE_FILTER)

static GMimeFilter *
smtp_filter_scan_copy(GMimeFilter *filter)
{
  return g_object_new(smtp_filter_scan_get_type(), NULL);
}

static void
smtp_filter_scan_line_end(SmtpFilterScan *self)
{
  gsize len = self->line_len > 0 ? self->line_len - 1 : 0; /* without its CR */

  if (len > self->scan->longest_line)
    self->scan->longest_line = len, self->scan->longest_line_no = self->line_no;
  if (len == 0)
    self->in_header = FALSE; /* the empty line ends the header */
  self->line_len = 0;
  self->line_no++;
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

/* A line (or the piece of it in this chunk) at a time, with memchr. */
static void
smtp_filter_scan_filter(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                        size_t *outlen, size_t *outprespace)
{
  SmtpFilterScan *self = (SmtpFilterScan *)filter;
  const guint8 *p = (const guint8 *)in, *end = p + len;

  while (p < end) {
    const guint8 *lf = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)((lf ? lf : end) - p);
    gboolean *eightbit
        = self->in_header ? &self->scan->eightbit_header : &self->scan->eightbit_body;

    if (!*eightbit && smtp_data_has_8bit(p, n))
      *eightbit = TRUE;
    self->line_len += n;
    p += n;
    if (lf == NULL)
      break;
    smtp_filter_scan_line_end(self);
    p++;
  }
  *out = in; /* it only looks */
  *outlen = len;
  *outprespace = prespace;
}

static void
smtp_filter_scan_complete(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                          size_t *outlen, size_t *outprespace)
{
  smtp_filter_scan_filter(filter, in, len, prespace, out, outlen, outprespace);
}

static void
smtp_filter_scan_reset(GMimeFilter *filter)
{
  SmtpFilterScan *self = (SmtpFilterScan *)filter;

  self->in_header = TRUE;
  self->line_len = 0;
  self->line_no = 1;
}

static void
smtp_filter_scan_class_init(SmtpFilterScanClass *klass)
{
  GMimeFilterClass *filter_class = GMIME_FILTER_CLASS(klass);

  filter_class->copy = smtp_filter_scan_copy;
  filter_class->filter = smtp_filter_scan_filter;
  filter_class->complete = smtp_filter_scan_complete;
  filter_class->reset = smtp_filter_scan_reset;
}

static void
smtp_filter_scan_init(SmtpFilterScan *self)
{
  smtp_filter_scan_reset(GMIME_FILTER(self));
}

/* --- the last guard against smuggling, as a GMimeFilter that looks ----- */

/* It sees the wire form: every CR must be followed by LF, every LF preceded
 * by CR, the content must end with CRLF, and no line may be a lone "."
 * (what GMimeFilterSmtpData ensures; checked anyway, whatever the filters
 * did).  Hand-written: no GMime filter checks. */
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
  if (scan->wire != NULL && scan->size > SMTP_DATA_SPOOL_MIN)
    g_clear_pointer(&scan->wire, g_byte_array_unref); /* too big to keep: spooled later */
  else if (scan->wire != NULL)
    g_byte_array_append(scan->wire, (const guint8 *)in, (guint)len);
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
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SmtpDataScan, smtp_data_scan_clear)

/* --- serialisation ------------------------------------------------------ */

/* The message through the whole chain into @sink: CR, LF and CRLF to CRLF,
 * the scan, dot-stuffing, the check; with @keep, the wire form
 * is also kept in scan->wire while it is at most SMTP_DATA_SPOOL_MIN. */
static gboolean
smtp_data_write(GMimeObject *message, GMimeStream *sink, gboolean keep, SmtpDataScan *scan,
                GError **error)
{
  g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new(sink);
  GMimeFilter *chain[] = {
    g_object_new(smtp_filter_line_ends_get_type(), NULL),
    g_object_new(smtp_filter_scan_get_type(), NULL),
    g_mime_filter_smtp_data_new(),
    g_object_new(smtp_filter_check_get_type(), NULL),
  };
  gboolean ok;

  g_clear_pointer(&scan->wire, g_byte_array_unref);
  memset(scan, 0, sizeof *scan);
  if (keep)
    scan->wire = g_byte_array_new();
  ((SmtpFilterScan *)chain[1])->scan = scan;
  ((SmtpFilterCheck *)chain[3])->scan = scan;
  for (guint i = 0; i < G_N_ELEMENTS(chain); i++) {
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), chain[i]);
    g_object_unref(chain[i]);
  }
  ok = g_mime_object_write_to_stream(message, NULL, filtered) != -1
       && g_mime_stream_flush(filtered) != -1;
  if (!ok)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_IO, "message: cannot serialise it");
  return ok;
}

/* Where a large wire form waits for the 354: an unlinked temporary file. */
static GMimeStream *
smtp_data_sink_new(guint64 size, GError **error)
{
  g_autofree char *path = NULL;
  GError *local = NULL;
  int fd;

  if ((fd = g_file_open_tmp("farceur-data-XXXXXX", &path, &local)) == -1) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT,
                "message: cannot spool %" G_GUINT64_FORMAT " octets: %s", size, local->message);
    g_error_free(local);
    return NULL;
  }
  g_unlink(path); /* gone with the descriptor */
  return g_mime_stream_fs_new(fd);
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
  if (scan->unsafe != NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "message: refusing to send content with %s (smuggling guard)", scan->unsafe);
    return FALSE;
  }
  return TRUE;
}

/* The second pass, for large messages: the wire form into a spool file,
 * which must hold what the first pass measured. */
static GMimeStream *
smtp_data_spool(GMimeObject *message, const SmtpDataScan *scan, GError **error)
{
  g_autoptr(GMimeStream) sink = smtp_data_sink_new(scan->size, error);
  SmtpDataScan again = { 0 };

  if (sink == NULL || !smtp_data_write(message, sink, FALSE, &again, error))
    return NULL;
  if (again.size != scan->size || again.unsafe != NULL || g_mime_stream_reset(sink) == -1) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_IO,
                "message: changed while being spooled (%" G_GUINT64_FORMAT
                " octets, then %" G_GUINT64_FORMAT ")",
                scan->size, again.size);
    return NULL;
  }
  return g_steal_pointer(&sink);
}

/**
 * farceur_smtp_data_prepare:
 * @message: the message; re-encoded in place (g_mime_object_encode) when
 *   it needs 8BITMIME and @eightbit_ok is %FALSE or has lines over 998 octets
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
  g_autoptr(GMimeStream) null = g_mime_stream_null_new();
  g_auto(SmtpDataScan) scan = { 0 };

  for (int pass = 0; pass < 2; pass++) {
    if (!smtp_data_write(message, null, TRUE, &scan, error))
      return FALSE;
    if ((!scan.eightbit_body || eightbit_ok) && scan.longest_line <= SMTP_DATA_MAX_LINE)
      break;
    if (pass == 0) /* 7 bit also picks QP/base64 for parts with long lines */
      g_mime_object_encode(message, eightbit_ok ? GMIME_ENCODING_CONSTRAINT_8BIT
                                                : GMIME_ENCODING_CONSTRAINT_7BIT);
  }
  if (!smtp_data_check_scan(&scan, eightbit_ok, error))
    return FALSE;
  if (scan.wire != NULL) /* small: the first pass kept it */
    data->content = g_mime_stream_mem_new_with_byte_array(g_steal_pointer(&scan.wire));
  else if ((data->content = smtp_data_spool(message, &scan, error)) == NULL)
    return FALSE;
  data->size = scan.size;
  data->eightbit = scan.eightbit_body || scan.eightbit_header;
  data->utf8_header = scan.eightbit_header;
  return TRUE;
}
