/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>

#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * farceur_init:
 *
 * Initialise GMime (once per process, thread-safe) and set the library's
 * defaults: UTF-8 for header encoding, RFC 2047 everywhere.  Every public
 * entry point that touches GMime calls this itself; calling it again is free.
 */
FARCEUR_API void farceur_init(void);

FARCEUR_API const char *farceur_version(void);

G_END_DECLS
