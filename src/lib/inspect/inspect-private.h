/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: internals shared by the inspect*.c files; never installed. */
#pragma once

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* Decodes @content into @digest (digest.h); returns the encoded size, or
 * -1 on a read error. */
G_GNUC_INTERNAL gint64 inspect_digest_content(GMimeStream *digest, GMimeDataWrapper *content);

G_END_DECLS

G_BEGIN_DECLS

/* True when writing @object out would make GMime rebuild a header (a
 * multipart without boundary, GMime issue #165) or nest too deep. */
G_GNUC_INTERNAL gboolean inspect_needs_reserialise(GMimeObject *object, guint depth);

/* The characters farceur_inspect_printable() replaces. */
G_GNUC_INTERNAL gboolean inspect_text_unsafe(gunichar c);

G_END_DECLS
