/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: the record of a message stored (data/doc/json.md, catch
 * --json), and its one line for humans.  The header addresses, the
 * envelope and their differences are inspect's, computed on the stored
 * copy read back: the record shows what `farceur inspect` will show, and
 * its envelope member is inspect --json's own. */
#include "config.h"

#include <string.h>

#include <farceur/json.h>

#include "catch-private.h"

#define CATCH_RED "\033[1;31m"
#define CATCH_BOLD "\033[1m"
#define CATCH_RESET "\033[0m"

/**
 * catch_message_new:
 * @session: the session whose transaction ends
 * @protocol: its `with` keyword
 * @inspected: (transfer full) (nullable): the stored copy, inspected
 *
 * Returns: (transfer full): the record; its location is set once stored
 */
FarceurCatchMessage *
catch_message_new(CatchSession *session, const char *protocol, FarceurInspectMessage *inspected)
{
  FarceurCatchMessage *msg = g_new0(FarceurCatchMessage, 1);

  msg->id = g_strdup(session->tx.id);
  msg->time = g_date_time_ref(session->tx.started);
  msg->client_ip = g_strdup(session->client_ip);
  msg->client_port = session->client_port;
  msg->helo = g_strdup(session->helo);
  msg->user = g_strdup(session->user);
  msg->protocol = g_strdup(protocol);
  msg->tls_version = g_strdup(session->tls_version);
  msg->tls_cipher = g_strdup(session->tls_cipher);
  msg->envelope = farceur_envelope_copy(session->tx.envelope);
  msg->size = session->tx.data.size;
  msg->inspected = inspected;
  return msg;
}

void
farceur_catch_message_free(FarceurCatchMessage *message)
{
  if (message == NULL)
    return;
  g_free(message->id);
  g_clear_pointer(&message->time, g_date_time_unref);
  g_free(message->client_ip);
  g_free(message->helo);
  g_free(message->user);
  g_free(message->protocol);
  g_free(message->tls_version);
  g_free(message->tls_cipher);
  farceur_envelope_free(message->envelope);
  g_free(message->location);
  farceur_inspect_message_free(message->inspected);
  g_free(message);
}

static void
catch_json_client(JsonBuilder *builder, const FarceurCatchMessage *msg)
{
  json_builder_set_member_name(builder, "client");
  json_builder_begin_object(builder);
  farceur_json_add_string_member(builder, "ip", msg->client_ip);
  json_builder_set_member_name(builder, "port");
  json_builder_add_int_value(builder, msg->client_port);
  farceur_json_add_string_member(builder, "helo", msg->helo);
  farceur_json_add_string_member(builder, "user", msg->user);
  json_builder_end_object(builder);
}

static void
catch_json_tls(JsonBuilder *builder, const FarceurCatchMessage *msg)
{
  json_builder_set_member_name(builder, "tls");
  if (msg->tls_version == NULL) {
    json_builder_add_null_value(builder);
    return;
  }
  json_builder_begin_object(builder);
  farceur_json_add_string_member(builder, "version", msg->tls_version);
  farceur_json_add_string_member(builder, "cipher", msg->tls_cipher);
  json_builder_end_object(builder);
}

/* Without a stored copy to read (it could not be parsed): the SMTP envelope,
 * in inspect's form, and no header. */
static JsonObject *
catch_json_uninspected(const FarceurCatchMessage *msg)
{
  g_autoptr(JsonBuilder) builder = json_builder_new();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) none = g_ptr_array_new();
  static const char *const empty[] = { "from", "to", "cc" };

  json_builder_begin_object(builder);
  for (gsize i = 0; i < G_N_ELEMENTS(empty); i++)
    farceur_json_add_strings_member(builder, empty[i], none);
  json_builder_set_member_name(builder, "envelope");
  json_builder_begin_object(builder);
  farceur_json_add_string_member(builder, "mail_from", msg->envelope->mail_from);
  farceur_json_add_strings_member(builder, "rcpt_to", msg->envelope->rcpt_to);
  farceur_json_add_strings_member(builder, "source", none);
  json_builder_end_object(builder);
  json_builder_end_object(builder);
  root = json_builder_get_root(builder);
  return json_object_ref(json_node_get_object(root));
}

/* subject, from, to, cc, date, message_id and envelope, as inspect --json writes them. */
static void
catch_json_inspected(JsonBuilder *builder, const FarceurCatchMessage *msg)
{
  static const char *const members[]
      = { "subject", "from", "to", "cc", "date", "message_id", "envelope" };
  g_autoptr(JsonNode) node
      = msg->inspected ? farceur_inspect_message_to_json(msg->inspected) : NULL;
  g_autoptr(JsonObject) inspected
      = node ? json_object_ref(json_node_get_object(node)) : catch_json_uninspected(msg);

  for (gsize i = 0; i < G_N_ELEMENTS(members); i++) {
    JsonNode *member = json_object_get_member(inspected, members[i]);

    json_builder_set_member_name(builder, members[i]);
    json_builder_add_value(builder,
                           member ? json_node_copy(member) : json_node_new(JSON_NODE_NULL));
  }
}

static void
catch_json_flags(JsonBuilder *builder, const FarceurCatchMessage *msg)
{
  const FarceurInspectEnvelope *env = msg->inspected ? msg->inspected->envelope : NULL;
  g_autoptr(GPtrArray) none = g_ptr_array_new();

  json_builder_set_member_name(builder, "sender_mismatch");
  json_builder_add_boolean_value(builder, env != NULL && env->sender_mismatch);
  farceur_json_add_strings_member(builder, "envelope_only", env ? env->envelope_only : none);
}

/**
 * farceur_catch_message_to_json:
 * @message: a record
 *
 * The record of data/doc/json.md (catch --json): time, id, client, protocol,
 * tls, size, location; subject, from, to, cc, date, message_id and
 * envelope as inspect --json writes them; sender_mismatch, envelope_only.
 *
 * Returns: (transfer full): a JSON object node
 */
JsonNode *
farceur_catch_message_to_json(const FarceurCatchMessage *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new();

  g_return_val_if_fail(message != NULL, NULL);
  json_builder_begin_object(builder);
  {
    g_autoptr(GDateTime) utc = g_date_time_to_utc(message->time);
    g_autofree char *text = g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
    farceur_json_add_string_member(builder, "time", text);
  }
  farceur_json_add_string_member(builder, "id", message->id);
  catch_json_client(builder, message);
  farceur_json_add_string_member(builder, "protocol", message->protocol);
  catch_json_tls(builder, message);
  json_builder_set_member_name(builder, "size");
  json_builder_add_int_value(builder, (gint64)message->size);
  farceur_json_add_string_member(builder, "location", message->location);
  catch_json_inspected(builder, message);
  catch_json_flags(builder, message);
  json_builder_end_object(builder);
  return json_builder_get_root(builder);
}

static void
catch_format_flag(GString *out, FarceurInspectFormatFlags flags, const char *text)
{
  if (flags & FARCEUR_INSPECT_FORMAT_COLOUR)
    g_string_append_printf(out, "  " CATCH_RED "%s" CATCH_RESET, text);
  else
    g_string_append_printf(out, "  [%s]", text);
}

/* "  From: A <a@x>  To: b@y  Subject: ..." from the stored copy. */
static void
catch_format_header(GString *out, const FarceurInspectMessage *inspected)
{
  g_autofree char *from = farceur_inspect_format_addresses(inspected->from);
  g_autofree char *to = farceur_inspect_format_addresses(inspected->to);
  g_autofree char *subject = farceur_inspect_printable(inspected->subject);

  g_string_append_printf(out, "  From: %s  To: %s", *from ? from : "-", *to ? to : "-");
  if (inspected->cc->len > 0) {
    g_autofree char *cc = farceur_inspect_format_addresses(inspected->cc);
    g_string_append_printf(out, "  Cc: %s", cc);
  }
  g_string_append_printf(out, "  Subject: %s", inspected->subject ? subject : "-");
}

static void
catch_format_flags(GString *out, const FarceurInspectEnvelope *env, FarceurInspectFormatFlags flags)
{
  if (env->sender_mismatch)
    catch_format_flag(out, flags, "envelope sender not in the From domain");
  if (env->envelope_only->len > 0) {
    g_autofree char *list = NULL;
    g_autofree char *text = NULL;

    g_ptr_array_add(env->envelope_only, NULL);
    list = g_strjoinv(", ", (char **)env->envelope_only->pdata);
    g_ptr_array_remove_index(env->envelope_only, env->envelope_only->len - 1);
    text = g_strdup_printf("only in the envelope: %s", list);
    catch_format_flag(out, flags, text);
  }
}

/**
 * farceur_catch_message_format:
 * @message: a record
 * @flags: %FARCEUR_INSPECT_FORMAT_COLOUR for ANSI colours
 *
 * Returns: (transfer full): one line, without its newline: the local time,
 *   the client, MAIL FROM, the recipients, the header From, To and
 *   Subject, and the differences inspect finds between the two; every
 *   message text made safe to print
 */
char *
farceur_catch_message_format(const FarceurCatchMessage *message, FarceurInspectFormatFlags flags)
{
  g_autoptr(GDateTime) local = g_date_time_to_local(message->time);
  g_autofree char *clock = g_date_time_format(local, "%H:%M:%S");
  g_autofree char *from = farceur_inspect_printable(message->envelope->mail_from);
  GString *out = g_string_new(NULL);

  g_string_append_printf(out, "%s %s %s%s<%s>%s ->", clock, message->client_ip, message->protocol,
                         (flags & FARCEUR_INSPECT_FORMAT_COLOUR) ? " " CATCH_BOLD : " ", from,
                         (flags & FARCEUR_INSPECT_FORMAT_COLOUR) ? CATCH_RESET : "");
  for (guint i = 0; i < message->envelope->rcpt_to->len; i++) {
    g_autofree char *rcpt = farceur_inspect_printable(message->envelope->rcpt_to->pdata[i]);
    g_string_append_printf(out, "%s <%s>", i ? "," : "", rcpt);
  }
  if (message->inspected != NULL) {
    catch_format_header(out, message->inspected);
    if (message->inspected->envelope != NULL)
      catch_format_flags(out, message->inspected->envelope, flags);
  }
  return g_string_free(out, FALSE);
}
