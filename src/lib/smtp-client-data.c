/* The message on its way to the wire: serialised by GMime, line ends made
 * CRLF and dot-stuffed by GMime filters, then checked byte by byte.
 *
 * Why a hand-written filter and a hand-written check: GMime's Dos2Unix and
 * Unix2Dos filters convert between CRLF and LF but let a lone CR through
 * untouched, so an input holding "\r.\r" would reach the server as a bare CR,
 * which some servers treat as a line end: the "SMTP smuggling" hole (a second
 * message hidden in the first).  The lone-CR filter below turns every CR, LF
 * and CRLF into one LF before Unix2Dos; the final check then refuses to send
 * anything whose CR and LF do not come in CRLF pairs or that holds an
 * end-of-data line before its end, whatever the filters did. */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include <farceur/gmime-autoptr.h>

#include "smtp-client-private.h"

/* --- a GMimeFilter turning CRLF, lone CR and LF into LF ----------------- */

typedef struct {
  GMimeFilter parent;
  gboolean pending_cr; /* the last input byte was a CR */
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

static void
smtp_filter_line_ends_run(GMimeFilter *filter, char *in, size_t len, size_t prespace, char **out,
                          size_t *outlen, size_t *outprespace, gboolean last)
{
  SmtpFilterLineEnds *self = (SmtpFilterLineEnds *)filter;
  char *o;

  g_mime_filter_set_size(filter, len + 1, FALSE);
  o = filter->outbuf;
  for (size_t i = 0; i < len; i++) {
    if (self->pending_cr) {
      self->pending_cr = FALSE;
      *o++ = '\n';
      if (in[i] == '\n')
        continue; /* CRLF: one line end */
    }
    if (in[i] == '\r')
      self->pending_cr = TRUE;
    else
      *o++ = in[i];
  }
  if (last && self->pending_cr) {
    self->pending_cr = FALSE;
    *o++ = '\n';
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

/* --- serialisation ------------------------------------------------------ */

/* The message with CRLF line ends only, ending in CRLF, not yet stuffed. */
static GByteArray *
smtp_data_serialize(GMimeObject *message, GError **error)
{
  g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
  g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new(mem);
  g_autoptr(GMimeFilter) line_ends = g_object_new(smtp_filter_line_ends_get_type(), NULL);
  g_autoptr(GMimeFilter) unix2dos = g_mime_filter_unix2dos_new(TRUE);
  GByteArray *bytes;

  g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), line_ends);
  g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), unix2dos);
  if (g_mime_object_write_to_stream(message, NULL, filtered) == -1
      || g_mime_stream_flush(filtered) == -1) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_IO, "message: cannot serialise it");
    return NULL;
  }
  bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
  g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
  return bytes;
}

typedef struct {
  gboolean eightbit_header;
  gboolean eightbit_body;
  gsize longest_line;
  guint longest_line_no;
} SmtpDataScan;

static void
smtp_data_scan(const guint8 *p, gsize len, SmtpDataScan *scan)
{
  gboolean in_header = TRUE;
  gsize line_start = 0;
  guint line_no = 1;

  memset(scan, 0, sizeof *scan);
  for (gsize i = 0; i < len; i++) {
    if (p[i] >= 0x80)
      *(in_header ? &scan->eightbit_header : &scan->eightbit_body) = TRUE;
    if (p[i] != '\n')
      continue;
    gsize line_len = i - line_start - (i > line_start && p[i - 1] == '\r');

    if (line_len > scan->longest_line)
      scan->longest_line = line_len, scan->longest_line_no = line_no;
    if (line_len == 0)
      in_header = FALSE; /* the empty line ends the header */
    line_start = i + 1;
    line_no++;
  }
}

static GByteArray *
smtp_data_dot_stuff(GByteArray *plain)
{
  g_autoptr(GMimeFilter) stuff = g_mime_filter_smtp_data_new();
  char *out;
  size_t outlen, outpre;
  GByteArray *wire = g_byte_array_sized_new(plain->len + plain->len / 64 + 8);

  g_mime_filter_complete(stuff, (char *)plain->data, plain->len, 0, &out, &outlen, &outpre);
  g_byte_array_append(wire, (const guint8 *)out, (guint)outlen);
  return wire;
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
  g_autoptr(GByteArray) plain = NULL;
  g_autoptr(GByteArray) wire = NULL;
  SmtpDataScan scan;

  for (int pass = 0; pass < 2; pass++) {
    g_clear_pointer(&plain, g_byte_array_unref);
    if ((plain = smtp_data_serialize(message, error)) == NULL)
      return FALSE;
    smtp_data_scan(plain->data, plain->len, &scan);
    if ((!scan.eightbit_body || eightbit_ok) && scan.longest_line <= SMTP_DATA_MAX_LINE)
      break;
    if (pass == 0) /* 7 bit also picks QP/base64 for parts with long lines */
      g_mime_object_encode(message, eightbit_ok ? GMIME_ENCODING_CONSTRAINT_8BIT
                                                : GMIME_ENCODING_CONSTRAINT_7BIT);
  }
  if (scan.longest_line > SMTP_DATA_MAX_LINE) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "message line %u: %zu octets, over SMTP's 998 even after re-encoding",
                scan.longest_line_no, scan.longest_line);
    return FALSE;
  }
  if (scan.eightbit_body && !eightbit_ok) { /* raw 8-bit headers of an attached message */
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "message: 8-bit content that cannot be re-encoded to 7 bit, and the server "
                "does not offer 8BITMIME");
    return FALSE;
  }
  wire = smtp_data_dot_stuff(plain);
  if (!farceur_smtp_data_check_wire(wire->data, wire->len, error))
    return FALSE;
  data->eightbit = scan.eightbit_body || scan.eightbit_header;
  data->utf8_header = scan.eightbit_header;
  data->content = g_byte_array_free_to_bytes(g_steal_pointer(&wire));
  return TRUE;
}

/**
 * farceur_smtp_data_check_wire:
 * @data: (array length=len): content about to be sent, without the final dot
 * @len: its length
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * The last guard against smuggling: every CR is followed by LF, every LF is
 * preceded by CR, the content ends with CRLF, and no line is a lone ".".
 *
 * Returns: %TRUE when @data is safe to send before ".\r\n"
 */
gboolean
farceur_smtp_data_check_wire(const guint8 *data, gsize len, GError **error)
{
  const char *why = NULL;

  if (len < 2 || data[len - 2] != '\r' || data[len - 1] != '\n')
    why = "does not end with CRLF";
  for (gsize i = 0; why == NULL && i < len; i++) {
    if (data[i] == '\r' && (i + 1 == len || data[i + 1] != '\n'))
      why = "bare CR";
    else if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
      why = "bare LF";
    else if (data[i] == '.' && (i == 0 || data[i - 1] == '\n') && i + 1 < len
             && data[i + 1] == '\r')
      why = "a line with a single dot";
  }
  if (why == NULL)
    return TRUE;
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
              "message: refusing to send content with %s (smuggling guard)", why);
  return FALSE;
}
