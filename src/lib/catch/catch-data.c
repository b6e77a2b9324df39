/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: the DATA decoder, a pure function over the octets of a
 * message as they arrive (a libFuzzer target: tests/fuzz/fuzz-catch.c).
 *
 * Hand written: GMime's GMimeFilterSmtpData stuffs dots on the way out; the
 * way in must find the end of the data exactly and say what broke the
 * rules on the way.  Only CR LF . CR LF ends the data (RFC 5321 4.1.1.4):
 * LF . LF, CR . CR and their mixtures are content, flagged as a bare LF or
 * a bare CR so that the server refuses the message (SMTP smuggling,
 * CVE-2023-51764/51765/51766: data/doc/catch.md); so is LF . CR LF, as a
 * bare LF ends no line.  A line starting with a dot loses it (4.5.2); line
 * ends are kept as sent.
 */
#include "config.h"

#include <string.h>

#include "catch-private.h"

void
catch_data_init(CatchData *data)
{
  memset(data, 0, sizeof *data);
  data->state = CATCH_DATA_LINE_START;
}

static void
catch_data_end_line(CatchData *data)
{
  data->longest = MAX(data->longest, data->line);
  data->line = 0;
}

static guint8 *catch_data_step(CatchData *data, guint8 c, guint8 *out);

/* Inside a line (or at its start, past a first dot): CR waits for its LF. */
static guint8 *
catch_data_midline(CatchData *data, guint8 c, guint8 *out)
{
  if (c == '\r') {
    data->state = CATCH_DATA_CR;
    return out;
  }
  /* a bare LF ends no line: a dot after it ends nothing (LF.CRLF) */
  data->bare_lf |= c == '\n';
  data->line++;
  data->state = CATCH_DATA_MIDLINE;
  *out++ = c;
  return out;
}

/* After a CR: LF ends the line; anything else makes the CR a bare one. */
static guint8 *
catch_data_cr(CatchData *data, guint8 c, guint8 *out)
{
  *out++ = '\r';
  if (c == '\n') {
    *out++ = c;
    catch_data_end_line(data);
    data->state = CATCH_DATA_LINE_START;
    return out;
  }
  data->bare_cr = TRUE;
  data->line++;
  data->state = CATCH_DATA_MIDLINE;
  return catch_data_step(data, c, out);
}

/* One octet; writes what it releases at *out. */
static guint8 *
catch_data_step(CatchData *data, guint8 c, guint8 *out)
{
  switch (data->state) {
    case CATCH_DATA_LINE_START:
      if (c != '.')
        return catch_data_midline(data, c, out);
      data->line++;
      data->state = CATCH_DATA_DOT;
      return out;
    case CATCH_DATA_MIDLINE:
      return catch_data_midline(data, c, out);
    case CATCH_DATA_CR:
      return catch_data_cr(data, c, out);
    case CATCH_DATA_DOT: /* ".\r" may end the data; else the dot was stuffing */
      if (c == '\r') {
        data->state = CATCH_DATA_DOT_CR;
        return out;
      }
      return catch_data_midline(data, c, out);
    case CATCH_DATA_DOT_CR:
      if (c == '\n') {
        catch_data_end_line(data);
        data->state = CATCH_DATA_DONE;
        return out;
      }
      return catch_data_cr(data, c, out); /* ".\r" then something else: a bare CR */
    case CATCH_DATA_DONE:
      break;
  }
  return out;
}

/* Octets before the first CR or LF (memchr: the C library's vector scan). */
static gsize
catch_data_plain_run(const guint8 *in, gsize len)
{
  const guint8 *cr = memchr(in, '\r', len);
  gsize n = cr ? (gsize)(cr - in) : len;
  const guint8 *lf = memchr(in, '\n', n);

  return lf ? (gsize)(lf - in) : n;
}

/**
 * catch_data_feed:
 * @data: the decoder
 * @in: octets received
 * @len: their count
 * @out: where the message's content goes (appended)
 *
 * Decodes up to the end of the data: stops right after its final CRLF
 * (@data->state is then %CATCH_DATA_DONE); the octets after it are the
 * client's next commands.
 *
 * Returns: the octets of @in used
 */
gsize
catch_data_feed(CatchData *data, const guint8 *in, gsize len, GByteArray *out)
{
  guint start = out->len;
  guint8 *p;
  gsize i;

  g_byte_array_set_size(out, start + len + 2); /* a held CR comes out with the next octet */
  p = out->data + start;
  for (i = 0; i < len && data->state != CATCH_DATA_DONE; i++) {
    if (data->state == CATCH_DATA_MIDLINE) { /* the common case: no CR or LF for a while */
      gsize run = catch_data_plain_run(in + i, len - i);
      memcpy(p, in + i, run);
      p += run;
      data->line += run;
      i += run;
      if (i == len)
        break;
    }
    p = catch_data_step(data, in[i], p);
  }
  g_byte_array_set_size(out, (guint)(p - out->data));
  data->size += out->len - start;
  return i;
}
