/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: catch, the lab's mock SMTP (and LMTP) server: it stores every
 * message it receives with its envelope, never relays, and can be told to
 * fail on purpose (data/doc/catch.md).
 *
 * A FarceurCatchServer listens on one or more addresses and serves many
 * sessions at once from one thread, asynchronously, on a GMainContext.
 * Each message stored is handed to a callback as a FarceurCatchMessage,
 * which also holds the stored copy read back by inspect (the envelope next
 * to the header addresses).
 */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include <farceur/envelope.h>
#include <farceur/inspect.h>

#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * FARCEUR_CATCH_DEFAULT_LISTEN:
 *
 * Where a server listens unless told otherwise: loopback only.
 */
#define FARCEUR_CATCH_DEFAULT_LISTEN "127.0.0.1:2525"

/**
 * FARCEUR_CATCH_DEFAULT_STORE:
 *
 * Where a server stores what it receives unless told otherwise.
 */
#define FARCEUR_CATCH_DEFAULT_STORE "maildir:caught"

/**
 * FARCEUR_CATCH_DEFAULT_MAX_SIZE:
 *
 * The SIZE a server announces and enforces unless told otherwise (Postfix's
 * message_size_limit).
 */
#define FARCEUR_CATCH_DEFAULT_MAX_SIZE 10240000

/**
 * FARCEUR_CATCH_DEFAULT_MAX_CONNECTIONS:
 *
 * Sessions served at once unless told otherwise; one more gets 421.
 */
#define FARCEUR_CATCH_DEFAULT_MAX_CONNECTIONS 200

/**
 * FARCEUR_CATCH_DEFAULT_LINE_LIMIT:
 *
 * The longest line accepted, CRLF included (RFC 5321 4.5.3.1.6), unless
 * told otherwise.
 */
#define FARCEUR_CATCH_DEFAULT_LINE_LIMIT 1000

/**
 * FarceurCatchStage:
 * @FARCEUR_CATCH_STAGE_GREETING: the connection, before the greeting
 * @FARCEUR_CATCH_STAGE_HELO: EHLO, HELO or LHLO
 * @FARCEUR_CATCH_STAGE_AUTH: AUTH, once the credentials are in
 * @FARCEUR_CATCH_STAGE_MAIL: MAIL FROM
 * @FARCEUR_CATCH_STAGE_RCPT: RCPT TO
 * @FARCEUR_CATCH_STAGE_DATA: the DATA command
 * @FARCEUR_CATCH_STAGE_MID_DATA: while the message arrives
 * @FARCEUR_CATCH_STAGE_DOT: the final dot, before the message is stored
 * @FARCEUR_CATCH_STAGE_AFTER_DOT: the message is stored, not yet answered
 *
 * Where a failure-injection rule acts.
 */
typedef enum {
  FARCEUR_CATCH_STAGE_GREETING,
  FARCEUR_CATCH_STAGE_HELO,
  FARCEUR_CATCH_STAGE_AUTH,
  FARCEUR_CATCH_STAGE_MAIL,
  FARCEUR_CATCH_STAGE_RCPT,
  FARCEUR_CATCH_STAGE_DATA,
  FARCEUR_CATCH_STAGE_MID_DATA,
  FARCEUR_CATCH_STAGE_DOT,
  FARCEUR_CATCH_STAGE_AFTER_DOT,
} FarceurCatchStage;

/**
 * FarceurCatchAction:
 * @FARCEUR_CATCH_FAIL: answer with a 4xx or 5xx reply (--fail)
 * @FARCEUR_CATCH_DROP: close the connection without a reply (--drop)
 * @FARCEUR_CATCH_DELAY: wait before answering (--delay)
 *
 * What a failure-injection rule does.
 */
typedef enum {
  FARCEUR_CATCH_FAIL,
  FARCEUR_CATCH_DROP,
  FARCEUR_CATCH_DELAY,
} FarceurCatchAction;

/**
 * FarceurCatchRule:
 *
 * One failure-injection rule (data/doc/catch.md, Failure injection):
 *
 *   --fail  STAGE[:GLOB]=CODE[xN][@P%][ TEXT]     rcpt:bad*=550, mail=451x2, rcpt=450@10%
 *   --drop  STAGE[:GLOB][=[xN][@P%]]              after-dot, mid-data=x1, rcpt:trap@*
 *   --delay STAGE[:GLOB]=DURATION[xN][@P%]        greeting=5s, dot=1500ms
 *
 * A rule keeps count of how often it acted.
 */
typedef struct _FarceurCatchRule FarceurCatchRule;

FARCEUR_API FarceurCatchRule *farceur_catch_rule_parse(FarceurCatchAction action, const char *spec,
                                                       GError **error);
FARCEUR_API char *farceur_catch_rule_describe(const FarceurCatchRule *rule);
FARCEUR_API guint farceur_catch_rule_get_fired(const FarceurCatchRule *rule);
FARCEUR_API void farceur_catch_rule_free(FarceurCatchRule *rule);

/**
 * FarceurCatchMessage:
 * @id: the queue id this server gave it (in its Received: field and its 250)
 * @time: when the final dot arrived
 * @client_ip: the client's address
 * @client_port: the client's port
 * @helo: (nullable): the name the client gave in EHLO, HELO or LHLO
 * @user: (nullable): the user the client authenticated as (never a password)
 * @protocol: the RFC 3848 / RFC 6531 `with` keyword: ESMTP, ESMTPS,
 *   ESMTPSA, UTF8SMTPS, LMTP ...
 * @tls_version: (nullable): "TLSv1.3" when the session was encrypted
 * @tls_cipher: (nullable): the cipher suite, "TLS_AES_256_GCM_SHA384"
 * @envelope: MAIL FROM and the recipients that got the message
 * @size: octets of the message as received, dot-unstuffed
 * @location: where it was stored (a Maildir file, an mbox)
 * @inspected: (nullable): the stored copy read back by inspect: header
 *   addresses, the envelope its Return-Path and Envelope-to record, and
 *   their differences (sender_mismatch, envelope_only)
 *
 * One message stored, as the server's message callback gets it.
 */
typedef struct {
  char *id;
  GDateTime *time;
  char *client_ip;
  guint16 client_port;
  char *helo;
  char *user;
  char *protocol;
  char *tls_version;
  char *tls_cipher;
  FarceurEnvelope *envelope;
  guint64 size;
  char *location;
  FarceurInspectMessage *inspected;
} FarceurCatchMessage;

FARCEUR_API void farceur_catch_message_free(FarceurCatchMessage *message);
FARCEUR_API JsonNode *farceur_catch_message_to_json(const FarceurCatchMessage *message);
FARCEUR_API char *farceur_catch_message_format(const FarceurCatchMessage *message,
                                               FarceurInspectFormatFlags flags);

typedef struct _FarceurCatchServer FarceurCatchServer;

/**
 * FarceurCatchMessageFunc:
 * @message: (transfer none): a message just stored and answered 250
 * @user_data: the callback's data
 */
typedef void (*FarceurCatchMessageFunc)(const FarceurCatchMessage *message, gpointer user_data);

/**
 * FarceurCatchTranscriptFunc:
 * @session: the session's number, from 1
 * @line: "S: 250 ...", "C: MAIL FROM:<...>" (AUTH payloads as "***", the
 *   message as "C: <N octets of content>"), or "* connection from ..." notes
 * @user_data: the callback's data
 */
typedef void (*FarceurCatchTranscriptFunc)(guint session, const char *line, gpointer user_data);

/**
 * FarceurCatchStoppedFunc:
 * @user_data: the callback's data
 *
 * Called once every session has ended after a stop (farceur_catch_server_stop(),
 * or --exit-after reached).
 */
typedef void (*FarceurCatchStoppedFunc)(gpointer user_data);

/**
 * FarceurCatchOptions:
 * @listen: (nullable) (array zero-terminated=1): "ADDR:PORT", "[V6]:PORT",
 *   "smtp://ADDR:PORT" or "smtps://ADDR:PORT" (implicit TLS); port 0 picks
 *   a free one; %NULL: %FARCEUR_CATCH_DEFAULT_LISTEN
 * @store: (nullable): "maildir:DIR" or "mbox:FILE"; %NULL: %FARCEUR_CATCH_DEFAULT_STORE
 * @hostname: (nullable): the name in the greeting and the Received: fields;
 *   %NULL: this host's name
 * @lmtp: speak LMTP (RFC 2033): LHLO, and one reply per recipient after the dot
 * @tls_cert: (nullable): a PEM certificate (chain) file; %NULL: a
 *   self-signed certificate made at start
 * @tls_key: (nullable): its PEM private key file (%NULL: in @tls_cert)
 * @users_file: (nullable): AUTH checks the users and passwords there
 *   (data/doc/catch.md); %NULL: any credentials are accepted
 * @max_size: the SIZE limit in octets; 0: %FARCEUR_CATCH_DEFAULT_MAX_SIZE
 * @max_connections: sessions at once; 0: %FARCEUR_CATCH_DEFAULT_MAX_CONNECTIONS
 * @line_limit: the longest line, CRLF included; 0: %FARCEUR_CATCH_DEFAULT_LINE_LIMIT
 * @timeout_ms: how long a client may stay silent; 0: RFC 5321's 5 minutes
 * @no_ehlo: refuse EHLO (502), as a server from before ESMTP: clients fall back to HELO
 * @rules: (nullable) (element-type FarceurCatchRule): failure-injection
 *   rules, in order (the first that matches acts); the server keeps a reference
 * @seed: the seed of the rules' random draws (@P%)
 * @exit_after: stop after this many messages are stored; 0: never
 * @message_func: (nullable): called for each message stored
 * @message_data: its data
 * @transcript_func: (nullable): called for each line of every session
 * @transcript_data: its data
 * @stopped_func: (nullable): called once a stop is complete
 * @stopped_data: its data
 *
 * What farceur_catch_server_new() is told; farceur_catch_options_init()
 * sets the defaults.
 */
typedef struct {
  const char *const *listen;
  const char *store;
  const char *hostname;
  gboolean lmtp;
  const char *tls_cert;
  const char *tls_key;
  const char *users_file;
  guint64 max_size;
  guint max_connections;
  guint line_limit;
  guint timeout_ms;
  gboolean no_ehlo;
  GPtrArray *rules;
  guint32 seed;
  guint exit_after;
  FarceurCatchMessageFunc message_func;
  gpointer message_data;
  FarceurCatchTranscriptFunc transcript_func;
  gpointer transcript_data;
  FarceurCatchStoppedFunc stopped_func;
  gpointer stopped_data;
} FarceurCatchOptions;

FARCEUR_API void farceur_catch_options_init(FarceurCatchOptions *options);

FARCEUR_API FarceurCatchServer *farceur_catch_server_new(const FarceurCatchOptions *options,
                                                         GError **error);
FARCEUR_API gboolean farceur_catch_server_start(FarceurCatchServer *server, GMainContext *context,
                                                GError **error);
FARCEUR_API void farceur_catch_server_stop(FarceurCatchServer *server, gboolean now);
FARCEUR_API gboolean farceur_catch_server_is_stopped(const FarceurCatchServer *server);
FARCEUR_API GPtrArray *farceur_catch_server_get_addresses(const FarceurCatchServer *server);
FARCEUR_API const char *farceur_catch_server_describe_store(const FarceurCatchServer *server);
FARCEUR_API const char *farceur_catch_server_get_fingerprint(const FarceurCatchServer *server);
FARCEUR_API gboolean farceur_catch_server_is_self_signed(const FarceurCatchServer *server);
FARCEUR_API guint farceur_catch_server_get_stored(const FarceurCatchServer *server);
FARCEUR_API void farceur_catch_server_free(FarceurCatchServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurCatchRule, farceur_catch_rule_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurCatchMessage, farceur_catch_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurCatchServer, farceur_catch_server_free)

G_END_DECLS
