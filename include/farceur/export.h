/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the export macro of public declarations.
 *
 * The library is built with hidden symbol visibility; FARCEUR_API marks the
 * declarations of its public API, the only symbols libfarceur.so exports.
 */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#if defined(__GNUC__)
#define FARCEUR_API __attribute__((visibility("default"))) extern
#else
#define FARCEUR_API extern
#endif
