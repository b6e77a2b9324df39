/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: small JsonBuilder helpers shared by the --json outputs, and the
 * lenient reader of JSON input files people write by hand. */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include <farceur/export.h>
#include <farceur/read-report.h>

G_BEGIN_DECLS

FARCEUR_API void farceur_json_add_string_member(JsonBuilder *builder, const char *name,
                                                const char *value);
FARCEUR_API void farceur_json_add_strings_member(JsonBuilder *builder, const char *name,
                                                 GPtrArray *values);
FARCEUR_API JsonNode *farceur_json_parse_lenient(const char *text, FarceurReadFile *file,
                                                 GError **error);
FARCEUR_API GPtrArray *farceur_json_elements(JsonNode *node);
FARCEUR_API const char *farceur_json_pick_member(JsonObject *object,
                                                 gboolean (*holds)(JsonNode *node),
                                                 const char *const *words);

G_END_DECLS
