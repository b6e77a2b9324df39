/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: "did you mean" for mistyped names (configuration keys, commands,
 * options): an edit distance and the closest of a list of known names. */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>

#include <farceur/export.h>

G_BEGIN_DECLS

FARCEUR_API guint farceur_suggest_distance(const char *a, const char *b);
FARCEUR_API guint farceur_suggest_max_distance(const char *word);
FARCEUR_API const char *farceur_suggest_closest(const char *word, const char *const *known,
                                                gboolean *ambiguous);

G_END_DECLS
