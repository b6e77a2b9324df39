/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: a local, read-only web view of messages: the list, each message
 * with its envelope next to its headers, its MIME tree and its trace
 * (farceur-web(1), data/doc/web.md).
 *
 * The view models (a list row, a message page, a trace page) are built from
 * the inspect and trace records; FarceurWebServer serves them over HTTP
 * (libsoup 3) on a GMainContext the caller runs, so that another server of
 * the same process (a mail catcher) can share it.
 */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>
#include <gmime/gmime.h>
#include <json-glib/json-glib.h>

#include <farceur/input.h>
#include <farceur/inspect.h>
#include <farceur/trace.h>

#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * FARCEUR_WEB_DEFAULT_ADDRESS:
 *
 * Where `farceur web` listens unless told otherwise: loopback only.
 */
#define FARCEUR_WEB_DEFAULT_ADDRESS "127.0.0.1:8025"

/**
 * FarceurWebRow:
 * @id: the message's opaque id in URLs (16 hex digits; never a path)
 * @source: where it came from ("path", "path#N")
 * @size: octets as stored
 * @date: (nullable): its Date:, in UTC
 * @arrived: when its file last changed, in microseconds since the epoch
 * @subject: (nullable): decoded Subject
 * @mail_from: (nullable): the envelope sender the headers record ("" for <>)
 * @from_name: (nullable): display name of the first From mailbox
 * @from_addr: (nullable): address of the first From mailbox
 * @recipients: (element-type utf8): the envelope recipients, else To and Cc
 * @forged_from: the envelope sender's domain is not the From domain
 * @envelope_only: (element-type utf8): recipients only the envelope names
 * @attachments: leaves with a file name or an attachment disposition
 *
 * One message in the list.
 */
typedef struct {
  char *id;
  char *source;
  gint64 size;
  GDateTime *date;
  gint64 arrived;
  char *subject;
  char *mail_from;
  char *from_name;
  char *from_addr;
  GPtrArray *recipients;
  gboolean forged_from;
  GPtrArray *envelope_only;
  guint attachments;
} FarceurWebRow;

/**
 * FarceurWebPairState:
 * @FARCEUR_WEB_PAIR_SAME: the envelope and the headers name the same address
 * @FARCEUR_WEB_PAIR_DIFFERENT: the sender: another address of the same domain
 * @FARCEUR_WEB_PAIR_FORGED: the sender: the From domain is not the envelope's
 * @FARCEUR_WEB_PAIR_ENVELOPE_ONLY: only the envelope names it (a blind copy)
 * @FARCEUR_WEB_PAIR_HEADER_ONLY: only the headers name it (no copy went there)
 */
typedef enum {
  FARCEUR_WEB_PAIR_SAME,
  FARCEUR_WEB_PAIR_DIFFERENT,
  FARCEUR_WEB_PAIR_FORGED,
  FARCEUR_WEB_PAIR_ENVELOPE_ONLY,
  FARCEUR_WEB_PAIR_HEADER_ONLY,
} FarceurWebPairState;

/**
 * FarceurWebPair:
 * @sender: MAIL FROM against From; else a recipient
 * @envelope: (nullable): the envelope's address
 * @field: (nullable): the header field naming it: "From", "To", "Cc"
 * @header: (nullable): the mailbox as the header gives it, "Name <addr>"
 * @state: how the two compare
 *
 * One line of the envelope set beside the headers.
 */
typedef struct {
  gboolean sender;
  char *envelope;
  char *field;
  char *header;
  FarceurWebPairState state;
} FarceurWebPair;

/**
 * FarceurWebMessage:
 * @id: the message's id
 * @inspect: the inspect model, with every header and the part digests
 * @pairs: (element-type FarceurWebPair): the envelope beside the headers;
 *   empty when the message records no envelope
 * @text_part: (nullable): the text/plain body shown
 * @html_part: (nullable): the text/html body shown (in a sandboxed frame)
 * @text: (nullable): @text_part decoded to UTF-8, at most 1 MiB of it
 * @text_truncated: @text is the beginning only
 * @remote_refs: resources on the network the HTML refers to (all blocked)
 * @raw_header: the header block as stored, valid UTF-8, at most 64 KiB
 * @raw_header_truncated: @raw_header is the beginning only
 *
 * A message page.
 */
typedef struct {
  char *id;
  FarceurInspectMessage *inspect;
  GPtrArray *pairs;
  const FarceurInspectPart *text_part;
  const FarceurInspectPart *html_part;
  char *text;
  gboolean text_truncated;
  guint remote_refs;
  char *raw_header;
  gboolean raw_header_truncated;
} FarceurWebMessage;

/**
 * FarceurWebHop:
 * @hop: (transfer none): the hop, in the page's trace
 * @from: where it came from, "name [ip]" or "-"
 * @date: (nullable): its date, "YYYY-MM-DD hh:mm:ssZ"
 * @delay: (nullable): the delay since the previous dated hop, "1m05s", "-7s"
 * @bar: the delay as a fraction of the longest one, 0 to 1 (0 when unknown
 *   or negative)
 * @notes: (element-type utf8): its anomalies in sentences, then its warnings
 *
 * One row of the hop table.
 */
typedef struct {
  const FarceurHop *hop;
  char *from;
  char *date;
  char *delay;
  double bar;
  GPtrArray *notes;
} FarceurWebHop;

/**
 * FarceurWebTrace:
 * @id: the message's id
 * @source: where the message came from
 * @subject: (nullable): its decoded Subject
 * @trace: the trace
 * @hops: (element-type FarceurWebHop): origin first
 * @sent: (nullable): the Date:, "YYYY-MM-DD hh:mm:ssZ"
 * @total: (nullable): the total transit time, "3m05s"
 *
 * A trace page.
 */
typedef struct {
  char *id;
  char *source;
  char *subject;
  FarceurTrace *trace;
  GPtrArray *hops;
  char *sent;
  char *total;
} FarceurWebTrace;

typedef struct _FarceurWebServer FarceurWebServer;

FARCEUR_API char *farceur_web_id(const char *path, guint index, gint64 start);

FARCEUR_API FarceurWebRow *farceur_web_row_new(const FarceurInspectMessage *msg, const char *id);
FARCEUR_API void farceur_web_row_free(FarceurWebRow *row);
FARCEUR_API JsonNode *farceur_web_row_to_json(const FarceurWebRow *row);

FARCEUR_API GPtrArray *farceur_web_compare(const FarceurInspectMessage *msg);
FARCEUR_API const char *farceur_web_pair_state_to_string(FarceurWebPairState state);

FARCEUR_API FarceurWebMessage *farceur_web_message_new(FarceurInputMessage *input, const char *id,
                                                       GError **error);
FARCEUR_API void farceur_web_message_free(FarceurWebMessage *page);

FARCEUR_API FarceurWebTrace *farceur_web_trace_new(GMimeMessage *message, const char *id,
                                                   const char *source);
FARCEUR_API void farceur_web_trace_free(FarceurWebTrace *page);

FARCEUR_API FarceurWebServer *farceur_web_server_new(const char *const *inputs,
                                                     GMainContext *context, GError **error);
FARCEUR_API gboolean farceur_web_server_listen(FarceurWebServer *server, const char *address,
                                               GError **error);
FARCEUR_API char *farceur_web_server_get_url(FarceurWebServer *server);
FARCEUR_API gboolean farceur_web_server_is_loopback(FarceurWebServer *server);
FARCEUR_API guint farceur_web_server_get_count(FarceurWebServer *server);
FARCEUR_API GPtrArray *farceur_web_server_get_warnings(FarceurWebServer *server);
FARCEUR_API void farceur_web_server_refresh(FarceurWebServer *server);
FARCEUR_API void farceur_web_server_free(FarceurWebServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurWebRow, farceur_web_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurWebMessage, farceur_web_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurWebTrace, farceur_web_trace_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurWebServer, farceur_web_server_free)

G_END_DECLS
