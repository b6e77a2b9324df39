/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the JSON of the web view's API (data/doc/web.md): the list's
 * rows (data/schema/web-messages.schema.json); a message, its parts and its
 * trace are the inspect and trace records, from their own serializers. */
#include "config.h"

#include <farceur/json.h>

#include "web-private.h"

static void
web_json_time(JsonBuilder *builder, const char *name, GDateTime *time)
{
  g_autofree char *text = time ? g_date_time_format(time, "%Y-%m-%dT%H:%M:%SZ") : NULL;

  farceur_json_add_string_member(builder, name, text);
}

static void
web_json_from(JsonBuilder *builder, const FarceurWebRow *row)
{
  json_builder_set_member_name(builder, "from");
  if (row->from_addr == NULL) {
    json_builder_add_null_value(builder);
    return;
  }
  json_builder_begin_object(builder);
  farceur_json_add_string_member(builder, "name", row->from_name);
  farceur_json_add_string_member(builder, "addr", row->from_addr);
  json_builder_end_object(builder);
}

/**
 * farceur_web_row_to_json:
 * @row: a row
 *
 * The record of data/doc/web.md (GET /api/messages): id, source, size,
 * date, arrived, subject, mail_from, from, recipients, forged_from,
 * envelope_only, attachments.
 *
 * Returns: (transfer full): a JSON object node
 */
JsonNode *
farceur_web_row_to_json(const FarceurWebRow *row)
{
  g_autoptr(JsonBuilder) builder = json_builder_new();
  g_autoptr(GDateTime) arrived = NULL;

  g_return_val_if_fail(row != NULL, NULL);
  arrived = g_date_time_new_from_unix_utc(row->arrived / G_USEC_PER_SEC);
  json_builder_begin_object(builder);
  farceur_json_add_string_member(builder, "id", row->id);
  farceur_json_add_string_member(builder, "source", row->source);
  json_builder_set_member_name(builder, "size");
  json_builder_add_int_value(builder, row->size);
  web_json_time(builder, "date", row->date);
  web_json_time(builder, "arrived", arrived);
  farceur_json_add_string_member(builder, "subject", row->subject);
  farceur_json_add_string_member(builder, "mail_from", row->mail_from);
  web_json_from(builder, row);
  farceur_json_add_strings_member(builder, "recipients", row->recipients);
  json_builder_set_member_name(builder, "forged_from");
  json_builder_add_boolean_value(builder, row->forged_from);
  farceur_json_add_strings_member(builder, "envelope_only", row->envelope_only);
  json_builder_set_member_name(builder, "attachments");
  json_builder_add_int_value(builder, row->attachments);
  json_builder_end_object(builder);
  return json_builder_get_root(builder);
}

/* {"messages": [row, ...]}, newest first. */
JsonNode *
web_json_rows(GPtrArray *rows)
{
  JsonArray *array = json_array_sized_new(rows->len);
  JsonObject *root = json_object_new();
  JsonNode *node;

  for (guint i = 0; i < rows->len; i++)
    json_array_add_element(array, farceur_web_row_to_json(rows->pdata[i]));
  json_object_set_array_member(root, "messages", array);
  node = json_node_init_object(json_node_alloc(), root);
  json_object_unref(root);
  return node;
}

/* The "parts" array of the inspect record of @msg, as inspect writes it. */
JsonNode *
web_json_parts(const FarceurInspectMessage *msg)
{
  g_autoptr(JsonNode) record = farceur_inspect_message_to_json(msg);

  return json_node_copy(json_object_get_member(json_node_get_object(record), "parts"));
}
