/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the JSON writer of the --json records (data/doc/json.md), small
 * JsonBuilder helpers, and the lenient reader of JSON input files people
 * write by hand. */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <string.h>

#include <json-glib/json-glib.h>

#include <farceur/export.h>
#include <farceur/read-report.h>

G_BEGIN_DECLS

/**
 * FarceurJsonWriter:
 *
 * Writes one compact JSON text at a time into a buffer reused from record
 * to record, byte for byte as json-glib's generator prints the same tree.
 */
typedef struct _FarceurJsonWriter FarceurJsonWriter;

FARCEUR_API FarceurJsonWriter *farceur_json_writer_new(void);
FARCEUR_API void farceur_json_writer_free(FarceurJsonWriter *writer);
FARCEUR_API void farceur_json_writer_reset(FarceurJsonWriter *writer);
FARCEUR_API const char *farceur_json_writer_get_text(const FarceurJsonWriter *writer,
                                                     gsize *length);
FARCEUR_API JsonNode *farceur_json_writer_to_node(const FarceurJsonWriter *writer);

FARCEUR_API void farceur_json_writer_begin_object(FarceurJsonWriter *writer);
FARCEUR_API void farceur_json_writer_end_object(FarceurJsonWriter *writer);
FARCEUR_API void farceur_json_writer_begin_array(FarceurJsonWriter *writer);
FARCEUR_API void farceur_json_writer_end_array(FarceurJsonWriter *writer);
FARCEUR_API void farceur_json_writer_member(FarceurJsonWriter *writer, const char *name);
FARCEUR_API void farceur_json_writer_string(FarceurJsonWriter *writer, const char *value);
FARCEUR_API void farceur_json_writer_int(FarceurJsonWriter *writer, gint64 value);
FARCEUR_API void farceur_json_writer_boolean(FarceurJsonWriter *writer, gboolean value);
FARCEUR_API void farceur_json_writer_null(FarceurJsonWriter *writer);
FARCEUR_API void farceur_json_writer_date(FarceurJsonWriter *writer, GDateTime *date,
                                          guint year_digits);
FARCEUR_API void farceur_json_writer_string_member_len(FarceurJsonWriter *writer, const char *name,
                                                       gsize name_len, const char *value);
FARCEUR_API void farceur_json_writer_strings_member(FarceurJsonWriter *writer, const char *name,
                                                    GPtrArray *values);

/**
 * farceur_json_writer_string_member:
 * @writer: a writer inside an object
 * @name: the member's name
 * @value: (nullable): its value; %NULL becomes JSON null
 *
 * "NAME":"VALUE" (or null).  Inline, so that the length of a literal name
 * is counted by the compiler.
 */
static inline void
farceur_json_writer_string_member(FarceurJsonWriter *writer, const char *name, const char *value)
{
  farceur_json_writer_string_member_len(writer, name, strlen(name), value);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurJsonWriter, farceur_json_writer_free)

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
