/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the Received: trace of a message, hop by hop (data/doc/json.md, trace --json).
 *
 * farceur_hop_parse() reads one Received: value; it never fails: what it
 * cannot read becomes a warning on the hop.  farceur_trace_new() orders the
 * hops from origin (the bottom header) to final delivery (the top one),
 * computes delays against the previous hop and flags anomalies.
 */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>
#include <gmime/gmime.h>
#include <json-glib/json-glib.h>

#include <farceur/export.h>
#include <farceur/input.h>
#include <farceur/json.h>

G_BEGIN_DECLS

/**
 * FarceurTls:
 * @FARCEUR_TLS_UNKNOWN: nothing in the header says either way
 * @FARCEUR_TLS_NO: plainly SMTP, ESMTP, LMTP (RFC 3848 without the S), HTTP
 * @FARCEUR_TLS_YES: an RFC 3848 keyword with S (ESMTPS, ESMTPSA, LMTPS, ...),
 *   SMTPS, HTTPS, or a TLS/cipher comment
 */
typedef enum {
  FARCEUR_TLS_UNKNOWN = -1,
  FARCEUR_TLS_NO = 0,
  FARCEUR_TLS_YES = 1,
} FarceurTls;

/**
 * FarceurHopAnomaly:
 * @FARCEUR_HOP_ANOMALY_NEGATIVE_DELAY: the hop is dated before the previous one (clock skew)
 * @FARCEUR_HOP_ANOMALY_MISSING_DATE: the hop carries no readable date
 * @FARCEUR_HOP_ANOMALY_PRIVATE_ORIGIN: the origin IP is private, loopback, link-local,
 *   documentation or otherwise reserved
 * @FARCEUR_HOP_ANOMALY_NO_TLS: a hop after the first that says it was not encrypted
 * @FARCEUR_HOP_ANOMALY_FROM_MISMATCH: the `from` host is not the previous hop's `by`
 */
typedef enum {
  FARCEUR_HOP_ANOMALY_NONE = 0,
  FARCEUR_HOP_ANOMALY_NEGATIVE_DELAY = 1 << 0,
  FARCEUR_HOP_ANOMALY_MISSING_DATE = 1 << 1,
  FARCEUR_HOP_ANOMALY_PRIVATE_ORIGIN = 1 << 2,
  FARCEUR_HOP_ANOMALY_NO_TLS = 1 << 3,
  FARCEUR_HOP_ANOMALY_FROM_MISMATCH = 1 << 4,
} FarceurHopAnomaly;

#define FARCEUR_HOP_ANOMALY_LAST FARCEUR_HOP_ANOMALY_FROM_MISMATCH

/**
 * FarceurHop:
 * @from_helo: (nullable): the name the client gave in HELO/EHLO
 * @from_rdns: (nullable): the client's reverse DNS name as the server saw it
 * @from_ip: (nullable): the client's IP, no brackets, no `IPv6:` prefix
 * @by: (nullable): the receiving host
 * @via: (nullable): the `via` clause (e.g. "Frontend Transport")
 * @with: (nullable): the protocol as written ("ESMTPSA", "Microsoft SMTP Server")
 * @id: (nullable): the receiving server's queue id
 * @for_addr: (nullable): the `for` recipient, without <>
 * @envelope_from: (nullable): envelope sender from an `envelope-from` comment, without <>
 * @tls: whether the hop was encrypted
 * @date: (nullable): the hop's date, in UTC
 * @has_delay: whether @delay_s is known
 * @delay_s: seconds since the previous dated hop (the first hop: since Date:)
 * @raw: the unfolded header value
 * @warnings: (element-type utf8): what the parser could not read
 * @anomalies: flags set by farceur_trace_new()
 */
typedef struct {
  char *from_helo;
  char *from_rdns;
  char *from_ip;
  char *by;
  char *via;
  char *with;
  char *id;
  char *for_addr;
  char *envelope_from;
  FarceurTls tls;
  GDateTime *date;
  gboolean has_delay;
  gint64 delay_s;
  char *raw;
  GPtrArray *warnings;
  FarceurHopAnomaly anomalies;
} FarceurHop;

/**
 * FarceurTrace:
 * @hops: (element-type FarceurHop): origin first, final delivery last
 * @sent: (nullable): the message's Date:, in UTC
 * @has_total: whether @total_s is known
 * @total_s: seconds from Date: (else the first dated hop) to the last dated hop
 * @warnings: (element-type utf8): trace-level warnings (no Received:, too many hops)
 */
typedef struct {
  GPtrArray *hops;
  GDateTime *sent;
  gboolean has_total;
  gint64 total_s;
  GPtrArray *warnings;
} FarceurTrace;

/* Caps on untrusted input: longer values are cut, deeper comments flattened,
 * further hops ignored; each with a warning. */
#define FARCEUR_TRACE_MAX_VALUE 16384
#define FARCEUR_TRACE_MAX_DEPTH 16
#define FARCEUR_TRACE_MAX_HOPS 256

FARCEUR_API FarceurHop *farceur_hop_parse(const char *value);
FARCEUR_API FarceurHop *farceur_hop_copy(const FarceurHop *hop);
FARCEUR_API void farceur_hop_free(FarceurHop *hop);
FARCEUR_API const char *farceur_hop_anomaly_to_string(FarceurHopAnomaly anomaly);

FARCEUR_API FarceurTrace *farceur_trace_new(const char *const *received, GDateTime *sent);
FARCEUR_API FarceurTrace *farceur_trace_from_message(GMimeMessage *message);
FARCEUR_API FarceurTrace *farceur_trace_from_headers(const FarceurInputHeaders *headers);
FARCEUR_API void farceur_trace_free(FarceurTrace *trace);

FARCEUR_API void farceur_trace_write_json(const FarceurTrace *trace, const char *source,
                                          FarceurJsonWriter *writer);
FARCEUR_API JsonNode *farceur_trace_to_json(const FarceurTrace *trace, const char *source);
FARCEUR_API char *farceur_trace_to_dot(const FarceurTrace *trace, const char *source);
FARCEUR_API char *farceur_trace_format_seconds(gint64 seconds);
FARCEUR_API char *farceur_hop_describe_from(const FarceurHop *hop);
FARCEUR_API char *farceur_trace_describe_anomaly(const FarceurTrace *trace, guint index,
                                                 FarceurHopAnomaly anomaly);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurHop, farceur_hop_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurTrace, farceur_trace_free)

G_END_DECLS
