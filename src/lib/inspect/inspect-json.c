/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the JSON form of an inspected message (data/doc/json.md, inspect --json). */
#include "config.h"

#include <farceur/inspect.h>
#include <farceur/json.h>

static void
inspect_json_addresses(JsonBuilder *builder, const char *name, GPtrArray *addresses)
{
  json_builder_set_member_name(builder, name);
  json_builder_begin_array(builder);
  for (guint i = 0; i < addresses->len; i++) {
    FarceurInspectAddress *address = addresses->pdata[i];

    json_builder_begin_object(builder);
    farceur_json_add_string_member(builder, "name", address->name);
    farceur_json_add_string_member(builder, "addr", address->addr ? address->addr : "");
    json_builder_end_object(builder);
  }
  json_builder_end_array(builder);
}

static void
inspect_json_envelope(JsonBuilder *builder, const FarceurInspectEnvelope *envelope)
{
  json_builder_set_member_name(builder, "envelope");
  if (envelope == NULL) {
    json_builder_add_null_value(builder);
    return;
  }
  json_builder_begin_object(builder);
  farceur_json_add_string_member(builder, "mail_from", envelope->mail_from);
  farceur_json_add_strings_member(builder, "rcpt_to", envelope->rcpt_to);
  farceur_json_add_strings_member(builder, "source", envelope->sources);
  json_builder_end_object(builder);
}

static void
inspect_json_headers(JsonBuilder *builder, GPtrArray *headers)
{
  json_builder_set_member_name(builder, "headers");
  json_builder_begin_array(builder);
  for (guint i = 0; i < headers->len; i++) {
    FarceurInspectHeader *header = headers->pdata[i];

    json_builder_begin_object(builder);
    farceur_json_add_string_member(builder, "name", header->name);
    farceur_json_add_string_member(builder, "value", header->value);
    json_builder_end_object(builder);
  }
  json_builder_end_array(builder);
}

static void
inspect_json_part(JsonBuilder *builder, const FarceurInspectPart *part)
{
  json_builder_begin_object(builder);
  farceur_json_add_string_member(builder, "path", part->path);
  farceur_json_add_string_member(builder, "content_type", part->content_type);
  farceur_json_add_string_member(builder, "charset", part->charset);
  farceur_json_add_string_member(builder, "encoding", part->encoding);
  farceur_json_add_string_member(builder, "disposition", part->disposition);
  farceur_json_add_string_member(builder, "filename", part->filename);
  farceur_json_add_string_member(builder, "content_id", part->content_id);
  json_builder_set_member_name(builder, "decoded_size");
  json_builder_add_int_value(builder, part->decoded_size);
  farceur_json_add_string_member(builder, "sha256", part->sha256);
  json_builder_end_object(builder);
}

static void
inspect_json_parts(JsonBuilder *builder, GPtrArray *parts)
{
  json_builder_set_member_name(builder, "parts");
  json_builder_begin_array(builder);
  for (guint i = 0; i < parts->len; i++) {
    const FarceurInspectPart *part = parts->pdata[i];

    if (part->kind == FARCEUR_INSPECT_LEAF)
      inspect_json_part(builder, part);
  }
  json_builder_end_array(builder);
}

static void
inspect_json_date(JsonBuilder *builder, GDateTime *date)
{
  g_autofree char *text = date ? g_date_time_format(date, "%Y-%m-%dT%H:%M:%SZ") : NULL;

  farceur_json_add_string_member(builder, "date", text);
}

/**
 * farceur_inspect_message_to_json:
 * @msg: a model
 *
 * The record of data/doc/json.md (inspect --json): source, size, subject, from, to, cc, reply_to, date,
 * message_id, envelope, headers (only when collected), parts (leaves only), warnings.
 *
 * Returns: (transfer full): a JSON object node
 */
JsonNode *
farceur_inspect_message_to_json(const FarceurInspectMessage *msg)
{
  g_autoptr(JsonBuilder) builder = NULL;

  g_return_val_if_fail(msg != NULL, NULL);

  builder = json_builder_new();
  json_builder_begin_object(builder);
  farceur_json_add_string_member(builder, "source", msg->source);
  json_builder_set_member_name(builder, "size");
  json_builder_add_int_value(builder, msg->size);
  farceur_json_add_string_member(builder, "subject", msg->subject);
  inspect_json_addresses(builder, "from", msg->from);
  inspect_json_addresses(builder, "to", msg->to);
  inspect_json_addresses(builder, "cc", msg->cc);
  inspect_json_addresses(builder, "reply_to", msg->reply_to);
  inspect_json_date(builder, msg->date);
  farceur_json_add_string_member(builder, "message_id", msg->message_id);
  inspect_json_envelope(builder, msg->envelope);
  if (msg->headers)
    inspect_json_headers(builder, msg->headers);
  inspect_json_parts(builder, msg->parts);
  farceur_json_add_strings_member(builder, "warnings", msg->warnings);
  json_builder_end_object(builder);
  return json_builder_get_root(builder);
}
