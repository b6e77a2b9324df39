/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: part bodies decoded into the SHA-256 sink (digest.c). */
#include "config.h"

#include "digest.h"
#include "inspect-private.h"

#define DIGEST_CHUNK 65536

static gboolean
inspect_digest_fast_encoding(GMimeContentEncoding encoding)
{
  switch (encoding) {
    case GMIME_CONTENT_ENCODING_BASE64:
    case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
    case GMIME_CONTENT_ENCODING_DEFAULT:
    case GMIME_CONTENT_ENCODING_7BIT:
    case GMIME_CONTENT_ENCODING_8BIT:
    case GMIME_CONTENT_ENCODING_BINARY:
      return TRUE;
    default:
      return FALSE;
  }
}

/* Reads @raw in large chunks (no larger than the body: a small body does
 * not cost 128 KB of buffers, which malloc would give back to the system
 * after each part), decodes with GMime's GMimeEncoding (the decoder its
 * filters use) and feeds @digest.  Returns the encoded size. */
static gint64
inspect_digest_decode(GMimeStream *digest, GMimeStream *raw, GMimeContentEncoding encoding)
{
  gint64 length = g_mime_stream_length(raw);
  gsize chunk = length >= 0 && length < DIGEST_CHUNK ? (gsize)length + 1 : DIGEST_CHUNK;
  gboolean identity = encoding != GMIME_CONTENT_ENCODING_BASE64
                      && encoding != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
  g_autofree char *in = g_malloc(chunk);
  g_autofree char *out = identity ? NULL : g_malloc(chunk + 64);
  GMimeEncoding state;
  gint64 total = 0;
  ssize_t n;

  g_mime_encoding_init_decode(&state, encoding);
  while (!g_mime_stream_eos(raw)) {
    if ((n = g_mime_stream_read(raw, in, chunk)) < 0)
      return -1;
    if (n == 0)
      break;
    total += n;
    if (identity)
      g_mime_stream_write(digest, in, n);
    else
      g_mime_stream_write(digest, out, g_mime_encoding_step(&state, in, n, out));
  }
  if (!identity)
    g_mime_stream_write(digest, out, g_mime_encoding_flush(&state, in, 0, out));
  return total;
}

/* Decodes @content into @digest; returns the encoded size or -1 on a read
 * error.  Base64, quoted-printable and identity bodies go through a 64 KB
 * loop (GMime's own write_to_stream moves 4 KB at a time, with a seek per
 * read on a persistent stream); other encodings through GMime's filters. */
gint64
inspect_digest_content(GMimeStream *digest, GMimeDataWrapper *content)
{
  GMimeStream *raw = g_mime_data_wrapper_get_stream(content);
  GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding(content);
  gint64 size;

  if (raw == NULL)
    return 0;
  if (!inspect_digest_fast_encoding(encoding)) {
    size = g_mime_stream_length(raw);
    return g_mime_data_wrapper_write_to_stream(content, digest) < 0 ? -1 : size;
  }
  if (g_mime_stream_reset(raw) != 0)
    return -1;
  size = inspect_digest_decode(digest, raw, encoding);
  g_mime_stream_reset(raw);
  return size;
}
