/* farceur: the digest sink of inspect.
 *
 * GChecksum's portable SHA-256 runs at about 140 MB/s here, slower than
 * GMime decodes; libcrypto's (SHA-NI/AVX2) is 5x faster, so it is used when
 * the build finds it and GChecksum otherwise.  Both give the same hex string.
 */
#include "config.h"

#include "inspect-private.h"

#define DIGEST_CHUNK 65536

#ifdef HAVE_LIBCRYPTO
#include <openssl/evp.h>
#endif

typedef struct {
  GMimeStream parent;
  gint64 size;
#ifdef HAVE_LIBCRYPTO
  EVP_MD_CTX *ctx;
#else
  GChecksum *checksum;
#endif
} InspectDigestStream;

typedef struct {
  GMimeStreamClass parent_class;
} InspectDigestStreamClass;

static GType inspect_digest_stream_get_type(void);
G_DEFINE_TYPE(InspectDigestStream, inspect_digest_stream, GMIME_TYPE_STREAM)

static ssize_t
inspect_digest_stream_write(GMimeStream *stream, const char *buf, size_t len)
{
  InspectDigestStream *self = (InspectDigestStream *)stream;

#ifdef HAVE_LIBCRYPTO
  EVP_DigestUpdate(self->ctx, buf, len);
#else
  g_checksum_update(self->checksum, (const guchar *)buf, len);
#endif
  self->size += len;
  stream->position += len;
  return len;
}

static int
inspect_digest_stream_flush(GMimeStream *stream)
{
  return 0;
}

static int
inspect_digest_stream_close(GMimeStream *stream)
{
  return 0;
}

static gboolean
inspect_digest_stream_eos(GMimeStream *stream)
{
  return FALSE;
}

static gint64
inspect_digest_stream_tell(GMimeStream *stream)
{
  return stream->position;
}

static void
inspect_digest_stream_finalize(GObject *object)
{
  InspectDigestStream *self = (InspectDigestStream *)object;

#ifdef HAVE_LIBCRYPTO
  EVP_MD_CTX_free(self->ctx);
#else
  g_checksum_free(self->checksum);
#endif
  G_OBJECT_CLASS(inspect_digest_stream_parent_class)->finalize(object);
}

static void
inspect_digest_stream_class_init(InspectDigestStreamClass *klass)
{
  GMimeStreamClass *stream_class = GMIME_STREAM_CLASS(klass);

  G_OBJECT_CLASS(klass)->finalize = inspect_digest_stream_finalize;
  stream_class->write = inspect_digest_stream_write;
  stream_class->flush = inspect_digest_stream_flush;
  stream_class->close = inspect_digest_stream_close;
  stream_class->eos = inspect_digest_stream_eos;
  stream_class->tell = inspect_digest_stream_tell;
}

static void
inspect_digest_stream_init(InspectDigestStream *self)
{
#ifdef HAVE_LIBCRYPTO
  self->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(self->ctx, EVP_sha256(), NULL);
#else
  self->checksum = g_checksum_new(G_CHECKSUM_SHA256);
#endif
}

GMimeStream *
inspect_digest_stream_new(void)
{
  GMimeStream *stream = g_object_new(inspect_digest_stream_get_type(), NULL);

  g_mime_stream_construct(stream, 0, -1);
  return stream;
}

gint64
inspect_digest_stream_get_size(GMimeStream *stream)
{
  return ((InspectDigestStream *)stream)->size;
}

/* The hex digest; call once. */
char *
inspect_digest_stream_finish(GMimeStream *stream)
{
  InspectDigestStream *self = (InspectDigestStream *)stream;
#ifdef HAVE_LIBCRYPTO
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  char *hex;

  EVP_DigestFinal_ex(self->ctx, md, &len);
  hex = g_malloc(len * 2 + 1);
  for (unsigned int i = 0; i < len; i++)
    g_snprintf(hex + 2 * i, 3, "%02x", md[i]);
  return hex;
#else
  return g_strdup(g_checksum_get_string(self->checksum));
#endif
}

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

/* Reads @raw in large chunks, decodes with GMime's GMimeEncoding (the
 * decoder its filters use) and feeds @digest.  Returns the encoded size. */
static gint64
inspect_digest_decode(GMimeStream *digest, GMimeStream *raw, GMimeContentEncoding encoding)
{
  g_autofree char *in = g_malloc(DIGEST_CHUNK);
  g_autofree char *out = g_malloc(DIGEST_CHUNK + 64);
  gboolean identity = encoding != GMIME_CONTENT_ENCODING_BASE64
                      && encoding != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
  GMimeEncoding state;
  gint64 total = 0;
  ssize_t n;

  g_mime_encoding_init_decode(&state, encoding);
  while (!g_mime_stream_eos(raw)) {
    if ((n = g_mime_stream_read(raw, in, DIGEST_CHUNK)) < 0)
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
