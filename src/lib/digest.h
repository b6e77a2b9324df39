/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the SHA-256 sink shared by inspect and batch; never installed. */
#pragma once

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* A write-only GMime stream that hashes (SHA-256) and counts what it is
 * given: the sink part bodies and whole messages are written into, so that
 * nothing is ever held whole in memory. */
GMimeStream *digest_stream_new(void);
gint64 digest_stream_get_size(GMimeStream *stream);
/* The lower-case hex digest; call once. */
char *digest_stream_finish(GMimeStream *stream);

G_END_DECLS
