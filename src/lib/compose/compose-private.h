/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: internals of the composer, never installed.
 *
 * The calls run one way:
 *
 *   compose.c         drives: binds variables, builds headers, asks for the
 *      |      \       body, verifies the result
 *      |   compose-body.c     the MIME body
 *      |   compose-verify.c   the re-parse check (farceur_compose_verify)
 *      |      /
 *   compose-check.c   the leaf: value checks, escaping, the address-field
 *                     table, the failure formatter; calls nothing above it
 */
#pragma once

#include <farceur/compose.h>

G_BEGIN_DECLS

/* ---- compose-check.c ---- */

/* Fails with FARCEUR_ERROR_DATA, prefixed "template 'FILE' line N: " when
 * @tmpl is given (line 0: no line). */
gboolean compose_fail(GError **error, const FarceurTemplate *tmpl, guint line, const char *format,
                      ...) G_GNUC_PRINTF(4, 5);

/* @text for an error message: controls escaped (\r, \n, \xNN), UTF-8 kept. */
char *compose_escape(const char *text);

/* One of the message's own address fields and GMime's name for it. */
typedef struct {
  const char *name;
  GMimeAddressType type;
} ComposeAddressField;

/* The message's own address fields, in the order they are written: From,
 * Sender, Reply-To, To, Cc, Bcc; their number in @n_fields. */
const ComposeAddressField *compose_address_fields(guint *n_fields);

/* The message's own address field called @name (any case), or %NULL. */
const ComposeAddressField *compose_address_field_lookup(const char *name);

/* TRUE for a header holding an address list: the message's own address
 * fields and the others (Resent-To, Disposition-Notification-To, ...). */
gboolean compose_is_address_name(const char *name);

/* The display name of @address as a reader sees it (a group name is
 * decoded too; GMime leaves it as written), or %NULL. */
char *compose_address_name(InternetAddress *address);

/* ---- compose-body.c ---- */

/* The MIME body of the message: text, optional HTML alternative, related
 * inline images, attachments (template ones, then @extra paths). */
GMimeObject *compose_body_new(const FarceurTemplate *tmpl, GHashTable *vars,
                              const char *const *extra, GError **error);

/* Gives every multipart under @object a boundary derived from @seed. */
void compose_seed_boundaries(GMimeObject *object, const char *seed);

G_END_DECLS
