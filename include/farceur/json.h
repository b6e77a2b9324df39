/* farceur: small JsonBuilder helpers shared by the --json outputs. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

void farceur_json_add_string_member(JsonBuilder *builder, const char *name, const char *value);
void farceur_json_add_strings_member(JsonBuilder *builder, const char *name, GPtrArray *values);

G_END_DECLS
