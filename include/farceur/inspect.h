/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: dissecting messages: headers, envelope, MIME tree, part digests
 * (data/doc/json.md, inspect --json). */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>
#include <gmime/gmime.h>
#include <json-glib/json-glib.h>

#include <farceur/input.h>
#include <farceur/json.h>

#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * FARCEUR_INSPECT_MAX_DEPTH:
 *
 * MIME nesting farceur walks; deeper parts are not listed (a warning says so).
 */
#define FARCEUR_INSPECT_MAX_DEPTH 64

/**
 * FARCEUR_INSPECT_MAX_PARTS:
 *
 * Tree nodes listed per message; further ones are dropped with a warning.
 */
#define FARCEUR_INSPECT_MAX_PARTS 10000

/**
 * FarceurInspectFlags:
 * @FARCEUR_INSPECT_NONE: the default
 * @FARCEUR_INSPECT_HEADERS: also collect every header, decoded
 * @FARCEUR_INSPECT_NO_DIGESTS: list the tree without reading the bodies:
 *   leaves carry no sizes (-1) and no SHA-256 (a viewer that only needs the
 *   structure, or one part); such a model is not an inspect --json record
 * @FARCEUR_INSPECT_NO_PARTS: do not walk the MIME tree: no parts, no
 *   digests; the header fields and the envelope only (farceur catch's record)
 */
typedef enum {
  FARCEUR_INSPECT_NONE = 0,
  FARCEUR_INSPECT_HEADERS = 1 << 0,
  FARCEUR_INSPECT_NO_DIGESTS = 1 << 1,
  FARCEUR_INSPECT_NO_PARTS = 1 << 2,
} FarceurInspectFlags;

/**
 * FarceurInspectFormatFlags:
 * @FARCEUR_INSPECT_FORMAT_PLAIN: ASCII tree, no colour (output piped)
 * @FARCEUR_INSPECT_FORMAT_COLOUR: ANSI colours
 * @FARCEUR_INSPECT_FORMAT_GLYPHS: Unicode tree glyphs, arrows and ellipses
 */
typedef enum {
  FARCEUR_INSPECT_FORMAT_PLAIN = 0,
  FARCEUR_INSPECT_FORMAT_COLOUR = 1 << 0,
  FARCEUR_INSPECT_FORMAT_GLYPHS = 1 << 1,
} FarceurInspectFormatFlags;

/**
 * FarceurInspectKind:
 * @FARCEUR_INSPECT_LEAF: a part with a body
 * @FARCEUR_INSPECT_MULTIPART: a multipart container
 * @FARCEUR_INSPECT_MESSAGE: a message/rfc822 or message/global container
 */
typedef enum {
  FARCEUR_INSPECT_LEAF,
  FARCEUR_INSPECT_MULTIPART,
  FARCEUR_INSPECT_MESSAGE,
} FarceurInspectKind;

/**
 * FarceurInspectPart:
 * @kind: leaf or container
 * @depth: nesting level, 0 for the body of the message
 * @path: IMAP BODYSTRUCTURE section ("1.2"); "" for a top-level multipart
 * @content_type: lower-case "type/subtype"
 * @charset: (nullable): lower-case charset parameter
 * @encoding: (nullable): Content-Transfer-Encoding, lower-case
 * @disposition: (nullable): "attachment", "inline", ... lower-case
 * @filename: (nullable): decoded file name (RFC 2231 / RFC 2047)
 * @content_id: (nullable): Content-ID without <>
 * @encoded_size: leaves: bytes of the body as stored
 * @decoded_size: leaves: bytes after transfer decoding
 * @sha256: (nullable): leaves: hex SHA-256 of the decoded bytes
 * @object: (transfer none): the GMime object (owned by the message)
 */
typedef struct {
  FarceurInspectKind kind;
  guint depth;
  char *path;
  char *content_type;
  char *charset;
  char *encoding;
  char *disposition;
  char *filename;
  char *content_id;
  gint64 encoded_size;
  gint64 decoded_size;
  char *sha256;
  GMimeObject *object;
} FarceurInspectPart;

/**
 * FarceurInspectAddress:
 * @name: (nullable): decoded display name
 * @addr: the address
 */
typedef struct {
  char *name;
  char *addr;
} FarceurInspectAddress;

/**
 * FarceurInspectHeader:
 * @name: the field name as written
 * @value: the value, unfolded and decoded
 */
typedef struct {
  char *name;
  char *value;
} FarceurInspectHeader;

/**
 * FarceurInspectEnvelope:
 * @mail_from: (nullable): envelope sender without <>; "" for the null sender
 * @rcpt_to: (element-type utf8): envelope recipients, without <>
 * @sources: (element-type utf8): names of the headers the envelope came from
 * @sender_mismatch: the envelope sender's domain differs from the From domain
 * @envelope_only: (element-type utf8): recipients in the envelope but not in
 *   To/Cc: Bcc, or forwarding
 * @header_only: (element-type utf8): To/Cc addresses the envelope does not
 *   name: they got no copy through this delivery
 */
typedef struct {
  char *mail_from;
  GPtrArray *rcpt_to;
  GPtrArray *sources;
  gboolean sender_mismatch;
  GPtrArray *envelope_only;
  GPtrArray *header_only;
} FarceurInspectEnvelope;

/**
 * FarceurInspectMessage:
 * @source: where the message came from ("path", "path#N", "-")
 * @size: bytes as stored
 * @subject: (nullable): decoded Subject
 * @from: (element-type FarceurInspectAddress): From addresses (groups flattened)
 * @to: (element-type FarceurInspectAddress): To addresses
 * @cc: (element-type FarceurInspectAddress): Cc addresses
 * @reply_to: (element-type FarceurInspectAddress): Reply-To addresses
 * @date: (nullable): the Date header
 * @message_id: (nullable): Message-ID without <>
 * @envelope: (nullable): the envelope the headers record, if any
 * @headers: (nullable) (element-type FarceurInspectHeader): all headers, with
 *   %FARCEUR_INSPECT_HEADERS
 * @parts: (element-type FarceurInspectPart): containers and leaves, depth-first
 * @warnings: (element-type utf8): parser and inspection warnings
 * @message: the parsed message
 */
typedef struct {
  char *source;
  gint64 size;
  char *subject;
  GPtrArray *from;
  GPtrArray *to;
  GPtrArray *cc;
  GPtrArray *reply_to;
  GDateTime *date;
  char *message_id;
  FarceurInspectEnvelope *envelope;
  GPtrArray *headers;
  GPtrArray *parts;
  GPtrArray *warnings;
  GMimeMessage *message;
} FarceurInspectMessage;

typedef struct _FarceurInspectExtractor FarceurInspectExtractor;

FARCEUR_API FarceurInspectMessage *
farceur_inspect_message(FarceurInputMessage *input, FarceurInspectFlags flags, GError **error);
FARCEUR_API void farceur_inspect_message_free(FarceurInspectMessage *msg);
FARCEUR_API const FarceurInspectPart *
farceur_inspect_message_find_part(const FarceurInspectMessage *msg, const char *path);

FARCEUR_API void farceur_inspect_message_write_json(const FarceurInspectMessage *msg,
                                                    FarceurJsonWriter *writer);
FARCEUR_API JsonNode *farceur_inspect_message_to_json(const FarceurInspectMessage *msg);
FARCEUR_API char *farceur_inspect_message_format(const FarceurInspectMessage *msg,
                                                 FarceurInspectFormatFlags flags);

FARCEUR_API char *farceur_inspect_printable(const char *text);
FARCEUR_API char *farceur_inspect_format_addresses(GPtrArray *addresses);

FARCEUR_API char *farceur_inspect_safe_filename(const char *name, const char *fallback);
FARCEUR_API FarceurInspectExtractor *farceur_inspect_extractor_new(const char *dir, gboolean force,
                                                                   GError **error);
FARCEUR_API char *farceur_inspect_extractor_write(FarceurInspectExtractor *extractor,
                                                  const FarceurInspectPart *part, GError **error);
FARCEUR_API void farceur_inspect_extractor_free(FarceurInspectExtractor *extractor);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurInspectMessage, farceur_inspect_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurInspectExtractor, farceur_inspect_extractor_free)

G_END_DECLS
