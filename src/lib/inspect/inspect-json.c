/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the JSON form of an inspected message (data/doc/json.md, inspect --json). */
#include "config.h"

#include <farceur/inspect.h>
#include <farceur/json.h>

static void
inspect_json_addresses(FarceurJsonWriter *w, const char *name, GPtrArray *addresses)
{
  farceur_json_writer_member(w, name);
  farceur_json_writer_begin_array(w);
  for (guint i = 0; i < addresses->len; i++) {
    FarceurInspectAddress *address = addresses->pdata[i];

    farceur_json_writer_begin_object(w);
    farceur_json_writer_string_member(w, "name", address->name);
    farceur_json_writer_string_member(w, "addr", address->addr ? address->addr : "");
    farceur_json_writer_end_object(w);
  }
  farceur_json_writer_end_array(w);
}

static void
inspect_json_envelope(FarceurJsonWriter *w, const FarceurInspectEnvelope *envelope)
{
  farceur_json_writer_member(w, "envelope");
  if (envelope == NULL) {
    farceur_json_writer_null(w);
    return;
  }
  farceur_json_writer_begin_object(w);
  farceur_json_writer_string_member(w, "mail_from", envelope->mail_from);
  farceur_json_writer_strings_member(w, "rcpt_to", envelope->rcpt_to);
  farceur_json_writer_strings_member(w, "source", envelope->sources);
  farceur_json_writer_end_object(w);
}

static void
inspect_json_headers(FarceurJsonWriter *w, GPtrArray *headers)
{
  farceur_json_writer_member(w, "headers");
  farceur_json_writer_begin_array(w);
  for (guint i = 0; i < headers->len; i++) {
    FarceurInspectHeader *header = headers->pdata[i];

    farceur_json_writer_begin_object(w);
    farceur_json_writer_string_member(w, "name", header->name);
    farceur_json_writer_string_member(w, "value", header->value);
    farceur_json_writer_end_object(w);
  }
  farceur_json_writer_end_array(w);
}

static void
inspect_json_part(FarceurJsonWriter *w, const FarceurInspectPart *part)
{
  farceur_json_writer_begin_object(w);
  farceur_json_writer_string_member(w, "path", part->path);
  farceur_json_writer_string_member(w, "content_type", part->content_type);
  farceur_json_writer_string_member(w, "charset", part->charset);
  farceur_json_writer_string_member(w, "encoding", part->encoding);
  farceur_json_writer_string_member(w, "disposition", part->disposition);
  farceur_json_writer_string_member(w, "filename", part->filename);
  farceur_json_writer_string_member(w, "content_id", part->content_id);
  farceur_json_writer_member(w, "decoded_size");
  farceur_json_writer_int(w, part->decoded_size);
  farceur_json_writer_string_member(w, "sha256", part->sha256);
  farceur_json_writer_end_object(w);
}

static void
inspect_json_parts(FarceurJsonWriter *w, GPtrArray *parts)
{
  farceur_json_writer_member(w, "parts");
  farceur_json_writer_begin_array(w);
  for (guint i = 0; i < parts->len; i++) {
    const FarceurInspectPart *part = parts->pdata[i];

    if (part->kind == FARCEUR_INSPECT_LEAF)
      inspect_json_part(w, part);
  }
  farceur_json_writer_end_array(w);
}

/**
 * farceur_inspect_message_write_json:
 * @msg: a model
 * @writer: where the record goes (appended)
 *
 * The record of data/doc/json.md (inspect --json): source, size, subject, from, to, cc, reply_to, date,
 * message_id, envelope, headers (only when collected), parts (leaves only), warnings.
 * This is the one serializer of the record.
 */
void
farceur_inspect_message_write_json(const FarceurInspectMessage *msg, FarceurJsonWriter *writer)
{
  g_return_if_fail(msg != NULL);
  g_return_if_fail(writer != NULL);
  farceur_json_writer_begin_object(writer);
  farceur_json_writer_string_member(writer, "source", msg->source);
  farceur_json_writer_member(writer, "size");
  farceur_json_writer_int(writer, msg->size);
  farceur_json_writer_string_member(writer, "subject", msg->subject);
  inspect_json_addresses(writer, "from", msg->from);
  inspect_json_addresses(writer, "to", msg->to);
  inspect_json_addresses(writer, "cc", msg->cc);
  inspect_json_addresses(writer, "reply_to", msg->reply_to);
  /* the year unpadded, as g_date_time_format's %Y wrote it */
  farceur_json_writer_member(writer, "date");
  farceur_json_writer_date(writer, msg->date, 1);
  farceur_json_writer_string_member(writer, "message_id", msg->message_id);
  inspect_json_envelope(writer, msg->envelope);
  if (msg->headers)
    inspect_json_headers(writer, msg->headers);
  inspect_json_parts(writer, msg->parts);
  farceur_json_writer_strings_member(writer, "warnings", msg->warnings);
  farceur_json_writer_end_object(writer);
}

/**
 * farceur_inspect_message_to_json:
 * @msg: a model
 *
 * The record of farceur_inspect_message_write_json(), read back into a tree.
 *
 * Returns: (transfer full): a JSON object node
 */
JsonNode *
farceur_inspect_message_to_json(const FarceurInspectMessage *msg)
{
  g_autoptr(FarceurJsonWriter) writer = farceur_json_writer_new();

  g_return_val_if_fail(msg != NULL, NULL);
  farceur_inspect_message_write_json(msg, writer);
  return farceur_json_writer_to_node(writer);
}
