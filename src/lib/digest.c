/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the SHA-256 sink.
 *
 * GChecksum's portable SHA-256 runs at about 140 MB/s here, slower than
 * GMime decodes; libcrypto's (SHA-NI/AVX2) is 5x faster, so it is used when
 * the build finds it and GChecksum otherwise.  Both give the same hex string.
 */
#include "config.h"

#include "digest.h"

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
} FarceurDigestStream;

typedef struct {
  GMimeStreamClass parent_class;
} FarceurDigestStreamClass;

static GType digest_stream_get_type(void);
G_DEFINE_TYPE(FarceurDigestStream, digest_stream, GMIME_TYPE_STREAM)

static ssize_t
digest_stream_write(GMimeStream *stream, const char *buf, size_t len)
{
  FarceurDigestStream *self = (FarceurDigestStream *)stream;

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
digest_stream_flush(GMimeStream *stream)
{
  return 0;
}

static int
digest_stream_close(GMimeStream *stream)
{
  return 0;
}

static gboolean
digest_stream_eos(GMimeStream *stream)
{
  return FALSE;
}

static gint64
digest_stream_tell(GMimeStream *stream)
{
  return stream->position;
}

static void
digest_stream_finalize(GObject *object)
{
  FarceurDigestStream *self = (FarceurDigestStream *)object;

#ifdef HAVE_LIBCRYPTO
  EVP_MD_CTX_free(self->ctx);
#else
  g_checksum_free(self->checksum);
#endif
  G_OBJECT_CLASS(digest_stream_parent_class)->finalize(object);
}

static void
digest_stream_class_init(FarceurDigestStreamClass *klass)
{
  GMimeStreamClass *stream_class = GMIME_STREAM_CLASS(klass);

  G_OBJECT_CLASS(klass)->finalize = digest_stream_finalize;
  stream_class->write = digest_stream_write;
  stream_class->flush = digest_stream_flush;
  stream_class->close = digest_stream_close;
  stream_class->eos = digest_stream_eos;
  stream_class->tell = digest_stream_tell;
}

static void
digest_stream_init(FarceurDigestStream *self)
{
#ifdef HAVE_LIBCRYPTO
  self->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(self->ctx, EVP_sha256(), NULL);
#else
  self->checksum = g_checksum_new(G_CHECKSUM_SHA256);
#endif
}

GMimeStream *
digest_stream_new(void)
{
  GMimeStream *stream = g_object_new(digest_stream_get_type(), NULL);

  g_mime_stream_construct(stream, 0, -1);
  return stream;
}

gint64
digest_stream_get_size(GMimeStream *stream)
{
  return ((FarceurDigestStream *)stream)->size;
}

/* The hex digest; call once. */
char *
digest_stream_finish(GMimeStream *stream)
{
  FarceurDigestStream *self = (FarceurDigestStream *)stream;
#ifdef HAVE_LIBCRYPTO
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  char *hex;

  EVP_DigestFinal_ex(self->ctx, md, &len);
  hex = g_malloc(len * 2 + 1);
  for (unsigned int i = 0; i < len; i++) {
    hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
    hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
  }
  hex[2 * len] = '\0';
  return hex;
#else
  return g_strdup(g_checksum_get_string(self->checksum));
#endif
}
