/* farceur: template + variables -> GMimeMessage (SPEC.md, Templates). */
#pragma once

#include <glib.h>
#include <gmime/gmime.h>

#include "template.h"

G_BEGIN_DECLS

/**
 * FarceurComposeRequest:
 * @from: (nullable): the sender mailbox ("Name <addr>" or "addr")
 * @to: (nullable) (array zero-terminated=1): recipient mailboxes
 * @cc: (nullable) (array zero-terminated=1): carbon-copy mailboxes
 * @bcc: (nullable) (array zero-terminated=1): blind copies (a Bcc header is
 *   written; the transport strips it before the message leaves)
 * @attach: (nullable) (array zero-terminated=1): extra attachment paths
 * @vars: (nullable): extra variables, name -> value; they win over bound ones
 *
 * Headers From/To/Cc in the template override @from, @to and @cc.
 */
typedef struct {
  const char *from;
  const char *const *to;
  const char *const *cc;
  const char *const *bcc;
  const char *const *attach;
  GHashTable *vars;
} FarceurComposeRequest;

GHashTable *farceur_compose_bind_vars(const FarceurComposeRequest *request, GError **error);

GMimeMessage *farceur_compose_message(const FarceurTemplate *tmpl,
                                      const FarceurComposeRequest *request, GError **error);

gboolean farceur_compose_verify(GMimeMessage *message, GError **error);

gboolean farceur_message_write(GMimeObject *object, GMimeStream *stream, GError **error);

gboolean farceur_check_header_value(const char *what, const char *value, GError **error);

G_END_DECLS
