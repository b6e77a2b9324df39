/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: the Received: field of this hop (RFC 5321 4.4), laid out
 * as Postfix writes it, one clause per line, so that `farceur trace` (and
 * any other reader) finds each part:
 *
 *   Received: from client.example ([127.0.0.1])
 *           (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)
 *           by catch.example (farceur catch) with ESMTPSA id 18A2F3C40001
 *           for <bob@example.org>; Mon, 23 Nov 2026 10:00:00 +0000
 *
 * `with` is the RFC 3848 / RFC 6531 keyword; `for` only when there is one
 * recipient (more would tell each one the others).  The user of AUTH is not
 * written (Postfix's smtpd_sasl_authenticated_header=no): the A says it. */
#include "config.h"

#include <gmime/gmime.h>

#include "catch-private.h"

/**
 * catch_received_format:
 * @hop: what this hop records; every string free of CR and LF
 *
 * Returns: (transfer full): "Received: ..." folded with LF and tabs,
 *   ending in LF, for farceur_target_writer_new()
 */
char *
catch_received_format(const CatchHop *hop)
{
  GString *out = g_string_new("Received: from ");
  g_autofree char *date = g_mime_utils_header_format_date(hop->date);
  gboolean v6 = g_strstr_len(hop->ip, -1, ":") != NULL;

  g_string_append_printf(out, "%s ([%s%s])\n", hop->helo ? hop->helo : "unknown", v6 ? "IPv6:" : "",
                         hop->ip);
  if (hop->tls_version != NULL)
    g_string_append_printf(out, "\t(using %s with cipher %s)\n", hop->tls_version,
                           hop->tls_cipher ? hop->tls_cipher : "unknown");
  g_string_append_printf(out, "\tby %s (farceur catch) with %s id %s", hop->by, hop->protocol,
                         hop->id);
  if (hop->for_addr != NULL)
    g_string_append_printf(out, "\n\tfor <%s>", hop->for_addr);
  g_string_append_printf(out, "; %s\n", date);
  return g_string_free(out, FALSE);
}
