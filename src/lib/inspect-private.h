/* farceur: internals shared by the inspect*.c files; never installed. */
#pragma once

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* A write-only GMime stream that hashes (SHA-256) and counts what it is
 * given: the sink part bodies are decoded into, so no part is ever held
 * whole in memory. */
G_GNUC_INTERNAL GMimeStream *inspect_digest_stream_new(void);
G_GNUC_INTERNAL gint64 inspect_digest_stream_get_size(GMimeStream *stream);
G_GNUC_INTERNAL char *inspect_digest_stream_finish(GMimeStream *stream);
G_GNUC_INTERNAL gint64 inspect_digest_content(GMimeStream *digest, GMimeDataWrapper *content);

/* Replaces control characters (C0, DEL, C1) by '?' and invalid UTF-8 by
 * U+FFFD: safe to print on a terminal. */
G_GNUC_INTERNAL char *inspect_printable(const char *text);

G_END_DECLS

G_BEGIN_DECLS

/* True when writing @object out would make GMime rebuild a header (a
 * multipart without boundary, GMime issue #165) or nest too deep. */
G_GNUC_INTERNAL gboolean inspect_needs_reserialise(GMimeObject *object, guint depth);

/* The characters inspect_printable() replaces. */
G_GNUC_INTERNAL gboolean inspect_text_unsafe(gunichar c);

G_END_DECLS
