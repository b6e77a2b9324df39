/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: template + variables -> GMimeMessage (data/doc/formats.md, Templates). */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>
#include <gmime/gmime.h>

#include "template.h"

#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * FarceurComposeRequest:
 * @from: (nullable): the sender mailbox ("Name <addr>" or "addr")
 * @to: (nullable) (array zero-terminated=1): recipient mailboxes; each
 *   string may hold a comma-separated address list
 * @cc: (nullable) (array zero-terminated=1): carbon-copy mailboxes
 * @bcc: (nullable) (array zero-terminated=1): blind copies (a Bcc header is
 *   written; the transport strips it before the message leaves)
 * @attach: (nullable) (array zero-terminated=1): extra attachment paths,
 *   attached after the template's own Attach: files
 * @vars: (nullable) (element-type utf8 utf8): extra variables, name ->
 *   value; they win over the bound ones (sender.*, recipient.*, ...)
 * @date: (nullable): the Date of the message (and of {{date}}); %NULL means now
 * @message_id: (nullable): the Message-ID without <>; %NULL generates a
 *   unique one.  When set, the MIME boundaries are derived from it too, so
 *   the same request gives byte-identical output (golden tests, reproducible
 *   builds of a campaign)
 *
 * Headers From/To/Cc in the template override @from, @to and @cc.
 * Initialise with designated initialisers ({ .from = ..., }) so that fields
 * added later default to %NULL.
 */
typedef struct {
  const char *from;
  const char *const *to;
  const char *const *cc;
  const char *const *bcc;
  const char *const *attach;
  GHashTable *vars;
  GDateTime *date;
  const char *message_id;
} FarceurComposeRequest;

FARCEUR_API GHashTable *farceur_compose_bind_vars(const FarceurComposeRequest *request,
                                                  GError **error);

FARCEUR_API GMimeMessage *farceur_compose_message(const FarceurTemplate *tmpl,
                                                  const FarceurComposeRequest *request,
                                                  GError **error);

FARCEUR_API gboolean farceur_compose_verify(GMimeMessage *message, GError **error);

FARCEUR_API gboolean farceur_compose_write_message(GMimeObject *object, GMimeStream *stream,
                                                   GError **error);

FARCEUR_API gboolean farceur_compose_check_header_value(const char *what, const char *value,
                                                        GError **error);

G_END_DECLS
