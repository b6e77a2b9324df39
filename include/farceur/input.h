/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: reading messages from files, Maildirs, mboxes and stdin (data/doc/formats.md, Inputs). */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>
#include <gmime/gmime.h>

#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * FARCEUR_INPUT_MAX_WARNINGS:
 *
 * Parser warnings kept per message; further ones are counted in one last
 * "N more warnings" entry, so a hostile message cannot grow the list.
 */
#define FARCEUR_INPUT_MAX_WARNINGS 64

/**
 * FARCEUR_INPUT_MAX_FIELD:
 *
 * Octets of one header field, its continuation lines included, that a
 * message read keeps (1 MiB); the rest of a longer field is cut, with a
 * warning naming the message (data/doc/formats.md, Limits).
 */
#define FARCEUR_INPUT_MAX_FIELD (1024 * 1024)

/**
 * FARCEUR_INPUT_MAX_HEADER:
 *
 * Octets of a message's header block that a message read keeps (4 MiB);
 * the fields past it are dropped, with a warning.  With
 * %FARCEUR_INPUT_MAX_FIELD, what GMime builds of a hostile header stays
 * bounded, whatever the message.
 */
#define FARCEUR_INPUT_MAX_HEADER (4 * 1024 * 1024)

typedef struct _FarceurInput FarceurInput;

/**
 * FarceurInputMessage:
 * @message: the parsed message
 * @source: "path", or "path#N" for the Nth message of an mbox (from 1); "-" is stdin
 * @size: size in bytes of the message as stored (in an mbox: without its `From ` line)
 * @warnings: (element-type utf8): GMime's parser warnings for this message, as
 *   "offset N: what (item)"; offsets count from the start of the file.  Warnings
 *   GMime raises later, while headers of @message are decoded, are appended too.
 *   A header over %FARCEUR_INPUT_MAX_FIELD or %FARCEUR_INPUT_MAX_HEADER is cut
 *   before GMime reads it, and a warning says where (GMime's offsets after the
 *   cut are then those of the cut header).
 * @path: the file it was read from ("-" for stdin)
 * @index: its place in an mbox, from 1; 0 for a file holding one message
 * @stored: the octets of the message as stored, positioned at their start:
 *   a whole file holding one message (or stdin); in an mbox, from the line
 *   after its "From " line to the next one, less the line end that
 *   separates them (">From " lines are left as they are, as GMime does)
 */
typedef struct {
  GMimeMessage *message;
  char *source;
  gint64 size;
  GPtrArray *warnings;
  char *path;
  guint index;
  GMimeStream *stored;
} FarceurInputMessage;

FARCEUR_API GPtrArray *farceur_input_list(const char *arg, GError **error);

/**
 * FarceurInputField:
 * @name: the field name as written, without blanks before its colon
 * @value: its raw value: what follows the colon, folded lines and all,
 *   without the line end that ends the field
 * @offset: where the field starts in its file
 */
typedef struct {
  const char *name;
  const char *value;
  gint64 offset;
} FarceurInputField;

/**
 * FarceurInputHeaders:
 * @source: as #FarceurInputMessage's
 * @path: the file it was read from ("-" for stdin)
 * @index: its place in an mbox, from 1; 0 for a file holding one message
 * @fields: (array length=n_fields): the fields, in order
 * @n_fields: how many
 * @warnings: (element-type utf8): what was cut to stay within
 *   %FARCEUR_INPUT_MAX_FIELD and %FARCEUR_INPUT_MAX_HEADER, as
 *   #FarceurInputMessage's warnings say it; empty for most messages
 *
 * The header block of a message, read without its body
 * (farceur_input_next_headers()).
 */
typedef struct {
  const char *source;
  const char *path;
  guint index;
  const FarceurInputField *fields;
  guint n_fields;
  GPtrArray *warnings;
} FarceurInputHeaders;

FARCEUR_API FarceurInput *farceur_input_open(const char *arg, GError **error);
FARCEUR_API gboolean farceur_input_parse_shard(const char *text, guint *shard, guint *shards,
                                               GError **error);
FARCEUR_API void farceur_input_set_shard(FarceurInput *input, guint shard, guint shards);
FARCEUR_API const FarceurInputHeaders *farceur_input_next_headers(FarceurInput *input,
                                                                  GError **error);
FARCEUR_API const char *farceur_input_headers_get(const FarceurInputHeaders *headers,
                                                  const char *name);
FARCEUR_API FarceurInputMessage *farceur_input_next(FarceurInput *input, GError **error);
FARCEUR_API void farceur_input_free(FarceurInput *input);
FARCEUR_API void farceur_input_message_free(FarceurInputMessage *msg);

FARCEUR_API GMimeStream *farceur_input_open_range(const char *path, gint64 start, gint64 end,
                                                  GError **error);
FARCEUR_API FarceurInputMessage *farceur_input_read_range(const char *path, gint64 start,
                                                          gint64 end, const char *source,
                                                          guint index, GError **error);

FARCEUR_API GMimeStream *farceur_input_open_stored(const char *path, gint64 start, gint64 end,
                                                   GError **error);
FARCEUR_API GMimeMessage *farceur_input_parse_stream(GMimeStream *stream, const char *label,
                                                     GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurInput, farceur_input_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurInputMessage, farceur_input_message_free)

G_END_DECLS
