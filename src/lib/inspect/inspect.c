/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the model of a message that inspect shows: decoded headers, the
 * envelope the headers record, and the MIME tree with per-part digests.
 *
 * Untrusted input rules (GMime 3.2.13 loops forever re-serialising a
 * Content-Type whose parameter names are not ASCII, GMime issue #165): this
 * file never calls anything that regenerates a header (no
 * g_mime_multipart_get_boundary, no g_mime_object_to_string, no setters);
 * it reads raw header values and content-type parameters through getters.
 * Nesting and part counts are capped; bodies are streamed, never buffered.
 */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/inspect.h>
#include <farceur/trace.h>

#include "digest.h"
#include "inspect-private.h"

#define INSPECT_MAX_GROUP_DEPTH 4

static void
inspect_part_free(gpointer data)
{
  FarceurInspectPart *part = data;

  g_free(part->path);
  g_free(part->content_type);
  g_free(part->charset);
  g_free(part->encoding);
  g_free(part->disposition);
  g_free(part->filename);
  g_free(part->content_id);
  g_free(part->sha256);
  g_free(part);
}

static void
inspect_address_free(gpointer data)
{
  FarceurInspectAddress *address = data;

  g_free(address->name);
  g_free(address->addr);
  g_free(address);
}

static void
inspect_header_free(gpointer data)
{
  FarceurInspectHeader *header = data;

  g_free(header->name);
  g_free(header->value);
  g_free(header);
}

static void
inspect_envelope_free(FarceurInspectEnvelope *envelope)
{
  if (envelope == NULL)
    return;
  g_free(envelope->mail_from);
  g_ptr_array_unref(envelope->rcpt_to);
  g_ptr_array_unref(envelope->sources);
  g_ptr_array_unref(envelope->envelope_only);
  g_ptr_array_unref(envelope->header_only);
  g_free(envelope);
}

/**
 * farceur_inspect_message_free:
 * @msg: (nullable): a model from farceur_inspect_message()
 */
void
farceur_inspect_message_free(FarceurInspectMessage *msg)
{
  if (msg == NULL)
    return;
  g_free(msg->source);
  g_free(msg->subject);
  g_ptr_array_unref(msg->from);
  g_ptr_array_unref(msg->to);
  g_ptr_array_unref(msg->cc);
  g_ptr_array_unref(msg->reply_to);
  g_clear_pointer(&msg->date, g_date_time_unref);
  g_free(msg->message_id);
  inspect_envelope_free(msg->envelope);
  g_clear_pointer(&msg->headers, g_ptr_array_unref);
  g_ptr_array_unref(msg->parts);
  g_ptr_array_unref(msg->warnings);
  g_clear_object(&msg->message);
  g_free(msg);
}

/* Every string of the model is valid UTF-8, whatever the message held. */
static char *
inspect_utf8(const char *text)
{
  return text ? g_utf8_make_valid(text, -1) : NULL;
}

static gboolean
inspect_is_ascii(const char *text)
{
  for (; *text; text++)
    if ((guchar)*text >= 0x80)
      return FALSE;
  return TRUE;
}

/* Lower case; ASCII text (the common case: media types, charsets) without
 * GLib's Unicode case mapping, which gives the same for it. */
static char *
inspect_lower(const char *text)
{
  g_autofree char *valid = NULL;

  if (text == NULL)
    return NULL;
  if (inspect_is_ascii(text))
    return g_ascii_strdown(text, -1);
  valid = inspect_utf8(text);
  return g_utf8_strdown(valid, -1);
}

static void inspect_warn(FarceurInspectMessage *msg, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
inspect_warn(FarceurInspectMessage *msg, const char *format, ...)
{
  va_list args;

  va_start(args, format);
  g_ptr_array_add(msg->warnings, g_strdup_vprintf(format, args));
  va_end(args);
}

/* ---- addresses and headers ---------------------------------------------- */

static void
inspect_add_addresses(GPtrArray *out, InternetAddressList *list, guint depth)
{
  int count = list ? internet_address_list_length(list) : 0;

  for (int i = 0; i < count; i++) {
    InternetAddress *ia = internet_address_list_get_address(list, i);
    FarceurInspectAddress *address;
    const char *name;

    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      if (depth < INSPECT_MAX_GROUP_DEPTH)
        inspect_add_addresses(out, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
                              depth + 1);
      continue;
    }
    address = g_new0(FarceurInspectAddress, 1);
    name = internet_address_get_name(ia);
    address->name = name && *name ? inspect_utf8(name) : NULL;
    address->addr = inspect_utf8(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
    g_ptr_array_add(out, address);
  }
}

static GPtrArray *
inspect_addresses(GMimeMessage *message, GMimeAddressType type)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(inspect_address_free);

  inspect_add_addresses(out, g_mime_message_get_addresses(message, type), 0);
  return out;
}

/* The unfolded, RFC 2047-decoded value of @header, from its raw value. */
static char *
inspect_header_text(GMimeHeader *header)
{
  const char *raw = g_mime_header_get_raw_value(header);
  g_autofree char *unfolded = NULL;
  g_autofree char *decoded = NULL;

  if (raw == NULL)
    return g_strdup("");
  unfolded = g_mime_utils_header_unfold(raw);
  decoded = g_mime_utils_header_decode_text(NULL, g_strstrip(unfolded));
  return inspect_utf8(decoded);
}

static int
inspect_compare_offsets(gconstpointer a, gconstpointer b)
{
  gint64 x = g_mime_header_get_offset(*(GMimeHeader *const *)a);
  gint64 y = g_mime_header_get_offset(*(GMimeHeader *const *)b);

  return x < y ? -1 : x > y;
}

static void
inspect_append_header_list(GPtrArray *out, GMimeObject *object)
{
  GMimeHeaderList *list = object ? g_mime_object_get_header_list(object) : NULL;
  int count = list ? g_mime_header_list_get_count(list) : 0;

  for (int i = 0; i < count; i++)
    g_ptr_array_add(out, g_mime_header_list_get_header_at(list, i));
}

/* GMime splits the top-level headers between the message and its body part
 * (Content-*); merged back in file order by their offsets. */
static GPtrArray *
inspect_top_headers(GMimeMessage *message)
{
  GPtrArray *headers = g_ptr_array_new();

  inspect_append_header_list(headers, GMIME_OBJECT(message));
  inspect_append_header_list(headers, g_mime_message_get_mime_part(message));
  for (guint i = 1; i < headers->len; i++)
    if (inspect_compare_offsets(&headers->pdata[i - 1], &headers->pdata[i]) > 0) {
      g_ptr_array_sort(headers, inspect_compare_offsets);
      break;
    }
  return headers;
}

static GPtrArray *
inspect_decoded_headers(GPtrArray *raw)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(inspect_header_free);

  for (guint i = 0; i < raw->len; i++) {
    FarceurInspectHeader *header = g_new0(FarceurInspectHeader, 1);

    header->name = inspect_utf8(g_mime_header_get_name(raw->pdata[i]));
    header->value = inspect_header_text(raw->pdata[i]);
    g_ptr_array_add(out, header);
  }
  return out;
}

/* ---- the envelope ------------------------------------------------------- */

/* "<a@b>", " a@b ", "a@b (comment)" -> "a@b"; "<>" -> "". */
static char *
inspect_clean_addr(const char *text)
{
  const char *lt = strchr(text, '<');
  const char *gt = lt ? strchr(lt, '>') : NULL;
  g_autofree char *copy = NULL;
  char *cut;

  if (lt && gt)
    return inspect_utf8(g_strstrip(copy = g_strndup(lt + 1, gt - lt - 1)));
  copy = g_strdup(text);
  if ((cut = strpbrk(copy, "(; \t")) != NULL && cut != copy)
    *cut = '\0';
  return inspect_utf8(g_strstrip(copy));
}

static void
inspect_add_source(FarceurInspectEnvelope *envelope, const char *name)
{
  for (guint i = 0; i < envelope->sources->len; i++)
    if (g_ascii_strcasecmp(envelope->sources->pdata[i], name) == 0)
      return;
  g_ptr_array_add(envelope->sources, g_strdup(name));
}

static void
inspect_add_rcpt(GPtrArray *rcpts, char *addr)
{
  for (guint i = 0; i < rcpts->len; i++)
    if (g_ascii_strcasecmp(rcpts->pdata[i], addr) == 0) {
      g_free(addr);
      return;
    }
  g_ptr_array_add(rcpts, addr);
}

/* Adds each address of a comma-separated list. */
static void
inspect_add_rcpt_list(FarceurInspectEnvelope *envelope, const char *name, const char *value)
{
  g_auto(GStrv) items = g_strsplit(value, ",", -1);

  for (guint i = 0; items[i]; i++) {
    char *addr = inspect_clean_addr(items[i]);

    if (*addr == '\0') {
      g_free(addr);
      continue;
    }
    inspect_add_rcpt(envelope->rcpt_to, addr);
    inspect_add_source(envelope, name);
  }
}

typedef struct {
  const char *name;
  gboolean sender; /* else recipients */
} InspectEnvelopeHeader;

/* In order of trust: what the delivering MTA wrote first. */
static const InspectEnvelopeHeader inspect_envelope_headers[] = {
  { "Return-Path", TRUE },    { "X-Envelope-From", TRUE }, { "X-MailFrom", TRUE },
  { "Envelope-to", FALSE },   { "Delivered-To", FALSE },   { "X-Original-To", FALSE },
  { "X-Envelope-To", FALSE }, { "X-RcptTo", FALSE },
};

static void
inspect_envelope_header(FarceurInspectEnvelope *envelope, const InspectEnvelopeHeader *which,
                        const char *value)
{
  if (!which->sender) {
    inspect_add_rcpt_list(envelope, which->name, value);
  } else if (envelope->mail_from == NULL) {
    envelope->mail_from = inspect_clean_addr(value);
    inspect_add_source(envelope, which->name);
  }
}

/* What the Received: headers say, top (latest) first, through trace's
 * parser (which unfolds the raw values itself); used only for what no
 * dedicated header gave, so it stops as soon as both are known. */
static void
inspect_envelope_received(FarceurInspectEnvelope *envelope, GPtrArray *received)
{
  for (guint i = 0; i < received->len; i++) {
    g_autoptr(FarceurHop) hop = NULL;

    if (envelope->mail_from != NULL && envelope->rcpt_to->len > 0)
      return;
    hop = farceur_hop_parse(received->pdata[i]);
    if (envelope->mail_from == NULL && hop->envelope_from != NULL) {
      envelope->mail_from = inspect_utf8(hop->envelope_from);
      inspect_add_source(envelope, "Received");
    }
    if (envelope->rcpt_to->len == 0 && hop->for_addr != NULL && *hop->for_addr) {
      inspect_add_rcpt(envelope->rcpt_to, inspect_utf8(hop->for_addr));
      inspect_add_source(envelope, "Received");
    }
  }
}

static FarceurInspectEnvelope *
inspect_envelope_new(void)
{
  FarceurInspectEnvelope *envelope = g_new0(FarceurInspectEnvelope, 1);

  envelope->rcpt_to = g_ptr_array_new_with_free_func(g_free);
  envelope->sources = g_ptr_array_new_with_free_func(g_free);
  envelope->envelope_only = g_ptr_array_new_with_free_func(g_free);
  envelope->header_only = g_ptr_array_new_with_free_func(g_free);
  return envelope;
}

/* The place of @name in inspect_envelope_headers; G_N_ELEMENTS if none. */
static gsize
inspect_envelope_lookup(const char *name)
{
  /* every name of the table starts with one of these */
  if (strchr("RrXxEeDd", name[0]) == NULL || name[0] == '\0')
    return G_N_ELEMENTS(inspect_envelope_headers);
  for (gsize k = 0; k < G_N_ELEMENTS(inspect_envelope_headers); k++)
    if (g_ascii_strcasecmp(name, inspect_envelope_headers[k].name) == 0)
      return k;
  return G_N_ELEMENTS(inspect_envelope_headers);
}

/* Reads the envelope from raw header values, top (latest) first, in the
 * order of inspect_envelope_headers; Received is used only for what no
 * dedicated header gave.  Each name is looked up once. */
static FarceurInspectEnvelope *
inspect_envelope(GPtrArray *raw)
{
  g_autoptr(GPtrArray) received = g_ptr_array_new();
  g_autofree guint8 *kinds = g_new(guint8, raw->len + 1);
  FarceurInspectEnvelope *envelope = inspect_envelope_new();
  gboolean any = FALSE;

  for (guint i = 0; i < raw->len; i++) {
    const char *name = g_mime_header_get_name(raw->pdata[i]);

    kinds[i] = (guint8)inspect_envelope_lookup(name);
    any |= kinds[i] < G_N_ELEMENTS(inspect_envelope_headers);
    if ((name[0] == 'R' || name[0] == 'r') && g_ascii_strcasecmp(name, "Received") == 0
        && g_mime_header_get_raw_value(raw->pdata[i]))
      g_ptr_array_add(received, (gpointer)g_mime_header_get_raw_value(raw->pdata[i]));
  }
  for (gsize k = 0; any && k < G_N_ELEMENTS(inspect_envelope_headers); k++) {
    for (guint i = 0; i < raw->len; i++) {
      g_autofree char *value = NULL;

      if (kinds[i] != k)
        continue;
      value = g_mime_utils_header_unfold(g_mime_header_get_raw_value(raw->pdata[i]));
      inspect_envelope_header(envelope, &inspect_envelope_headers[k], value);
    }
  }
  inspect_envelope_received(envelope, received);
  if (envelope->sources->len == 0)
    g_clear_pointer(&envelope, inspect_envelope_free);
  return envelope;
}

static const char *
inspect_domain(const char *addr)
{
  const char *at = addr ? strrchr(addr, '@') : NULL;

  return at ? at + 1 : NULL;
}

static gboolean
inspect_has_addr(GPtrArray *addresses, const char *addr)
{
  for (guint i = 0; i < addresses->len; i++) {
    FarceurInspectAddress *a = addresses->pdata[i];

    if (a->addr && g_ascii_strcasecmp(a->addr, addr) == 0)
      return TRUE;
  }
  return FALSE;
}

static void
inspect_header_only(FarceurInspectEnvelope *envelope, GPtrArray *addresses)
{
  for (guint i = 0; i < addresses->len; i++) {
    const char *addr = ((FarceurInspectAddress *)addresses->pdata[i])->addr;
    gboolean found = addr == NULL || *addr == '\0';

    for (guint j = 0; j < envelope->rcpt_to->len && !found; j++)
      found = g_ascii_strcasecmp(envelope->rcpt_to->pdata[j], addr) == 0;
    for (guint j = 0; j < envelope->header_only->len && !found; j++)
      found = g_ascii_strcasecmp(envelope->header_only->pdata[j], addr) == 0;
    if (!found)
      g_ptr_array_add(envelope->header_only, g_strdup(addr));
  }
}

/* The forgery the prank relies on, named: a sender domain that is not the
 * From domain, recipients the headers do not show, and header recipients
 * this delivery did not go to. */
static void
inspect_envelope_flags(FarceurInspectMessage *msg)
{
  FarceurInspectEnvelope *envelope = msg->envelope;
  const char *env_domain = inspect_domain(envelope->mail_from);
  const char *from_domain = NULL;

  if (msg->from->len > 0)
    from_domain = inspect_domain(((FarceurInspectAddress *)msg->from->pdata[0])->addr);
  envelope->sender_mismatch
      = env_domain && from_domain && g_ascii_strcasecmp(env_domain, from_domain) != 0;
  for (guint i = 0; i < envelope->rcpt_to->len; i++) {
    const char *rcpt = envelope->rcpt_to->pdata[i];

    if (!inspect_has_addr(msg->to, rcpt) && !inspect_has_addr(msg->cc, rcpt))
      g_ptr_array_add(envelope->envelope_only, g_strdup(rcpt));
  }
  if (envelope->rcpt_to->len == 0)
    return; /* no recipient recorded: nothing to compare with */
  inspect_header_only(envelope, msg->to);
  inspect_header_only(envelope, msg->cc);
}

/* ---- the MIME tree ------------------------------------------------------ */

typedef struct {
  FarceurInspectMessage *msg;
  FarceurInspectFlags flags;
  GError *error;
  gboolean truncated;
} InspectWalk;

/* GMime reads a Content-Type it cannot parse as application/octet-stream;
 * RFC 2045 5.2 recommends text/plain, as for a missing one (so does Python).
 * Decided from the raw header value: nothing is re-serialised. */
static gboolean
inspect_type_was_invalid(GMimeObject *object)
{
  GMimeHeaderList *list = g_mime_object_get_header_list(object);
  int count = list ? g_mime_header_list_get_count(list) : 0;

  for (int i = 0; i < count; i++) {
    GMimeHeader *header = g_mime_header_list_get_header_at(list, i);
    const char *raw = g_mime_header_get_raw_value(header);

    if (g_ascii_strcasecmp(g_mime_header_get_name(header), "Content-Type") != 0 || raw == NULL)
      continue;
    while (g_ascii_isspace(*raw))
      raw++;
    return g_ascii_strncasecmp(raw, "application/octet-stream", 24) != 0;
  }
  return FALSE;
}

static char *
inspect_content_type(GMimeObject *object)
{
  GMimeContentType *type = g_mime_object_get_content_type(object);
  g_autofree char *mime_type = NULL;
  const char *media, *subtype;

  if (type == NULL)
    return g_strdup("application/octet-stream");
  if (g_mime_content_type_is_type(type, "application", "octet-stream")
      && inspect_type_was_invalid(object))
    return g_strdup("text/plain");
  media = g_mime_content_type_get_media_type(type);
  subtype = g_mime_content_type_get_media_subtype(type);
  mime_type = media && subtype ? g_strconcat(media, "/", subtype, NULL)
                               : g_strdup_printf("%s/%s", media, subtype);
  return inspect_lower(mime_type);
}

static FarceurInspectPart *
inspect_node_new(InspectWalk *walk, GMimeObject *object, FarceurInspectKind kind, const char *path,
                 guint depth)
{
  FarceurInspectPart *part = g_new0(FarceurInspectPart, 1);

  part->kind = kind;
  part->depth = depth;
  part->path = g_strdup(path);
  part->object = object;
  part->content_type = inspect_content_type(object);
  g_ptr_array_add(walk->msg->parts, part);
  return part;
}

/* True when serialising @object would need a header GMime has to rebuild:
 * a multipart without a boundary (GMime issue #165 territory). */
gboolean
inspect_needs_reserialise(GMimeObject *object, guint depth)
{
  GMimeMessage *inner;

  if (depth > FARCEUR_INSPECT_MAX_DEPTH)
    return TRUE;
  if (GMIME_IS_MULTIPART(object)) {
    GMimeMultipart *multipart = GMIME_MULTIPART(object);

    if (g_mime_object_get_content_type_parameter(object, "boundary") == NULL)
      return TRUE;
    for (int i = 0; i < g_mime_multipart_get_count(multipart); i++)
      if (inspect_needs_reserialise(g_mime_multipart_get_part(multipart, i), depth + 1))
        return TRUE;
  } else if (GMIME_IS_MESSAGE_PART(object)) {
    inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    return inner && g_mime_message_get_mime_part(inner)
           && inspect_needs_reserialise(g_mime_message_get_mime_part(inner), depth + 1);
  }
  return FALSE;
}

/* Streams the body of @part, transfer-decoded, through the digest sink. */
static gboolean
inspect_digest(InspectWalk *walk, FarceurInspectPart *part)
{
  g_autoptr(GMimeStream) sink = digest_stream_new();
  ssize_t written = 0;

  if (GMIME_IS_PART(part->object)) {
    GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(part->object));

    if (content != NULL)
      written = part->encoded_size = inspect_digest_content(sink, content);
  } else if (inspect_needs_reserialise(part->object, part->depth)) {
    inspect_warn(walk->msg, "part %s: %s not hashed: its content would have to be re-serialised",
                 part->path, part->content_type);
  } else {
    GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part->object));

    if (inner != NULL)
      written = g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, sink);
    part->encoded_size = digest_stream_get_size(sink);
  }
  if (written < 0) {
    g_set_error(&walk->error, FARCEUR_ERROR, FARCEUR_ERROR_IO,
                "cannot read part %s of message '%s'", part->path, walk->msg->source);
    return FALSE;
  }
  part->decoded_size = digest_stream_get_size(sink);
  part->sha256 = digest_stream_finish(sink);
  return TRUE;
}

static char *
inspect_encoding(GMimeObject *object)
{
  GMimeContentEncoding encoding;

  if (!GMIME_IS_PART(object))
    return inspect_lower(g_mime_object_get_header(object, "Content-Transfer-Encoding"));
  encoding = g_mime_part_get_content_encoding(GMIME_PART(object));
  if (encoding == GMIME_CONTENT_ENCODING_DEFAULT)
    return NULL;
  return g_strdup(g_mime_content_encoding_to_string(encoding));
}

static char *
inspect_filename(GMimeObject *object)
{
  const char *name;

  if (GMIME_IS_PART(object))
    return inspect_utf8(g_mime_part_get_filename(GMIME_PART(object)));
  name = g_mime_object_get_content_disposition_parameter(object, "filename");
  if (name == NULL)
    name = g_mime_object_get_content_type_parameter(object, "name");
  return inspect_utf8(name);
}

static gboolean
inspect_leaf(InspectWalk *walk, GMimeObject *object, const char *path, guint depth)
{
  FarceurInspectPart *part = inspect_node_new(walk, object, FARCEUR_INSPECT_LEAF, path, depth);
  const char *cid;

  part->charset = inspect_lower(g_mime_object_get_content_type_parameter(object, "charset"));
  part->encoding = inspect_encoding(object);
  if (part->encoding)
    g_strstrip(part->encoding);
  part->disposition = inspect_lower(g_mime_object_get_disposition(object));
  part->filename = inspect_filename(object);
  cid = g_mime_object_get_content_id(object);
  part->content_id = cid && *cid ? inspect_utf8(cid) : NULL;
  if (walk->flags & FARCEUR_INSPECT_NO_DIGESTS) {
    part->encoded_size = part->decoded_size = -1;
    return TRUE;
  }
  return inspect_digest(walk, part);
}

static gboolean inspect_walk_node(InspectWalk *walk, GMimeObject *object, const char *path,
                                  guint depth);

/* The body of a message (top-level or enclosed at @prefix): a multipart's
 * children are PREFIX.1, PREFIX.2...; any other body is PREFIX.1 ("1" at the top). */
static gboolean
inspect_walk_body(InspectWalk *walk, GMimeObject *body, const char *prefix, guint depth)
{
  g_autofree char *path = NULL;

  if (!GMIME_IS_MULTIPART(body)) {
    path = *prefix ? g_strdup_printf("%s.1", prefix) : g_strdup("1");
    return inspect_walk_node(walk, body, path, depth);
  }
  inspect_node_new(walk, body, FARCEUR_INSPECT_MULTIPART, prefix, depth);
  for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(body)); i++) {
    g_free(path);
    path = *prefix ? g_strdup_printf("%s.%d", prefix, i + 1) : g_strdup_printf("%d", i + 1);
    if (!inspect_walk_node(walk, g_mime_multipart_get_part(GMIME_MULTIPART(body), i), path,
                           depth + 1))
      return FALSE;
  }
  return TRUE;
}

static gboolean
inspect_is_container_message(GMimeObject *object)
{
  GMimeContentType *type = g_mime_object_get_content_type(object);

  return GMIME_IS_MESSAGE_PART(object) && type
         && (g_mime_content_type_is_type(type, "message", "rfc822")
             || g_mime_content_type_is_type(type, "message", "global"));
}

static gboolean
inspect_walk_message(InspectWalk *walk, GMimeObject *object, const char *path, guint depth)
{
  GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
  GMimeObject *body = inner ? g_mime_message_get_mime_part(inner) : NULL;

  inspect_node_new(walk, object, FARCEUR_INSPECT_MESSAGE, path, depth);
  return body == NULL || inspect_walk_body(walk, body, path, depth + 1);
}

static gboolean
inspect_walk_node(InspectWalk *walk, GMimeObject *object, const char *path, guint depth)
{
  if (depth > FARCEUR_INSPECT_MAX_DEPTH || walk->msg->parts->len >= FARCEUR_INSPECT_MAX_PARTS) {
    if (!walk->truncated)
      inspect_warn(walk->msg, "part %s: not listed, over %d levels or %d parts deep", path,
                   FARCEUR_INSPECT_MAX_DEPTH, FARCEUR_INSPECT_MAX_PARTS);
    walk->truncated = TRUE;
    return TRUE;
  }
  if (GMIME_IS_MULTIPART(object))
    return inspect_walk_body(walk, object, path, depth);
  if (inspect_is_container_message(object))
    return inspect_walk_message(walk, object, path, depth);
  return inspect_leaf(walk, object, path, depth);
}

/* ---- the message -------------------------------------------------------- */

static FarceurInspectMessage *
inspect_message_new(FarceurInputMessage *input)
{
  FarceurInspectMessage *msg = g_new0(FarceurInspectMessage, 1);
  GMimeMessage *message = input->message;
  GDateTime *date = g_mime_message_get_date(message);
  const char *id = g_mime_message_get_message_id(message);

  msg->message = g_object_ref(message);
  msg->source = inspect_utf8(input->source);
  msg->size = input->size;
  msg->subject = inspect_utf8(g_mime_message_get_subject(message));
  msg->from = inspect_addresses(message, GMIME_ADDRESS_TYPE_FROM);
  msg->to = inspect_addresses(message, GMIME_ADDRESS_TYPE_TO);
  msg->cc = inspect_addresses(message, GMIME_ADDRESS_TYPE_CC);
  msg->reply_to = inspect_addresses(message, GMIME_ADDRESS_TYPE_REPLY_TO);
  msg->date = date ? g_date_time_to_utc(date) : NULL;
  msg->message_id = id && *id ? inspect_utf8(id) : NULL;
  msg->parts = g_ptr_array_new_with_free_func(inspect_part_free);
  msg->warnings = g_ptr_array_ref(input->warnings);
  return msg;
}

/**
 * farceur_inspect_message:
 * @input: a message read by farceur_input_next()
 * @flags: what to collect beyond the defaults
 * @error: return location for a #GError (FARCEUR_ERROR_IO when a body cannot be read)
 *
 * Builds the model of @input: decoded headers, the envelope, the MIME tree
 * with IMAP section paths, and the size and SHA-256 of every leaf after
 * transfer decoding (unless %FARCEUR_INSPECT_NO_DIGESTS).  Bodies are
 * streamed through the digest, never held.
 * Warnings are appended to @input's warnings array, which the model shares.
 *
 * Returns: (transfer full) (nullable): the model, or %NULL with @error set
 */
FarceurInspectMessage *
farceur_inspect_message(FarceurInputMessage *input, FarceurInspectFlags flags, GError **error)
{
  g_autoptr(FarceurInspectMessage) msg = NULL;
  g_autoptr(GPtrArray) raw = NULL;
  GMimeObject *body;
  InspectWalk walk = { NULL, flags, NULL, FALSE };

  g_return_val_if_fail(input != NULL, NULL);
  g_return_val_if_fail(GMIME_IS_MESSAGE(input->message), NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  walk.msg = msg = inspect_message_new(input);
  raw = inspect_top_headers(input->message);
  body = g_mime_message_get_mime_part(input->message);
  if (flags & FARCEUR_INSPECT_HEADERS)
    msg->headers = inspect_decoded_headers(raw);
  msg->envelope = inspect_envelope(raw);
  if (msg->envelope)
    inspect_envelope_flags(msg);
  if (body != NULL && !(flags & FARCEUR_INSPECT_NO_PARTS)
      && !inspect_walk_body(&walk, body, "", 0)) {
    g_propagate_error(error, walk.error);
    return NULL;
  }
  return g_steal_pointer(&msg);
}

/**
 * farceur_inspect_message_find_part:
 * @msg: a model
 * @path: an IMAP section path ("1.2")
 *
 * Returns: (transfer none) (nullable): the leaf at @path
 */
const FarceurInspectPart *
farceur_inspect_message_find_part(const FarceurInspectMessage *msg, const char *path)
{
  g_return_val_if_fail(msg != NULL, NULL);
  g_return_val_if_fail(path != NULL, NULL);

  for (guint i = 0; i < msg->parts->len; i++) {
    const FarceurInspectPart *part = msg->parts->pdata[i];

    if (part->kind == FARCEUR_INSPECT_LEAF && strcmp(part->path, path) == 0)
      return part;
  }
  return NULL;
}
