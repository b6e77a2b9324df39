/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the SMTP envelope (RFC 5321), kept apart from the headers. */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>
#include <gmime/gmime.h>

#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * FarceurEnvelope:
 * @mail_from: the reverse path without angle brackets; "" for the null sender
 * @rcpt_to: (element-type utf8): forward paths, without angle brackets
 */
typedef struct {
  char *mail_from;
  GPtrArray *rcpt_to;
} FarceurEnvelope;

FARCEUR_API FarceurEnvelope *farceur_envelope_new(const char *mail_from);
FARCEUR_API FarceurEnvelope *farceur_envelope_copy(const FarceurEnvelope *envelope);
FARCEUR_API void farceur_envelope_free(FarceurEnvelope *envelope);
FARCEUR_API void farceur_envelope_add_rcpt(FarceurEnvelope *envelope, const char *addr);

FARCEUR_API gboolean farceur_envelope_check_address(const char *addr, GError **error);
FARCEUR_API gboolean farceur_envelope_validate(const FarceurEnvelope *envelope, GError **error);

FARCEUR_API gboolean farceur_envelope_field_is_withheld(const char *name);
FARCEUR_API void farceur_envelope_strip_withheld(GMimeObject *object);

FARCEUR_API FarceurEnvelope *farceur_envelope_from_message(GMimeMessage *message, GError **error);
FARCEUR_API gboolean farceur_envelope_from_stored(GMimeMessage *message, FarceurEnvelope **envelope,
                                                  GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurEnvelope, farceur_envelope_free)

G_END_DECLS
