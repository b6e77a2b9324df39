/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internals shared by the catch*.c files; never installed.
 *
 * The server's files, each calling only the ones below it:
 *
 *   catch.c              FarceurCatchServer: options, listeners, sessions,
 *                        stopping; the message callback
 *   catch-transaction.c  catch_tx_*: MAIL, RCPT, DATA, the message as it
 *                        arrives, storing it, the replies (LMTP: per recipient)
 *   catch-auth.c         catch_auth_*: AUTH PLAIN and LOGIN
 *   catch-session.c      catch_session_*: greeting, EHLO/HELO/LHLO, STARTTLS,
 *                        RSET, NOOP, VRFY, EXPN, HELP, QUIT
 *   catch-io.c           catch_io_*: the I/O core: reads, lines, the command
 *                        dispatch and the pipelining check, replies, timers,
 *                        TLS handshakes, closing
 *   catch-message.c      the message record, its JSON and its line (public)
 *   catch-received.c     catch_received_format(): this hop's Received: field
 *   catch-tls.c          catch_tls_*: the certificate (files, or self-signed
 *                        by GnuTLS) and its fingerprint
 *   catch-users.c        catch_users_*: the --users file, password checks
 *   catch-rules.c        failure-injection rules (the parser is public)
 *   catch-data.c         catch_data_*: the DATA decoder, a pure function over bytes
 *   catch-command.c      catch_command_*: the command parser, a pure function over bytes
 *
 * The core never names a protocol function: each protocol file fills its
 * rows of the handler table (CatchHandlers), as the SMTP client's files do
 * (smtp-client-private.h); catch.c hands in the hooks the core and the
 * protocol files call up through.
 */
#pragma once

#include <gio/gio.h>

#include <farceur/catch.h>
#include <farceur/target.h>

G_BEGIN_DECLS

/* --- catch-command.c: the command parser (a leaf) ---------------------- */

typedef enum {
  CATCH_VERB_UNKNOWN,
  CATCH_VERB_HELO,
  CATCH_VERB_EHLO,
  CATCH_VERB_LHLO,
  CATCH_VERB_MAIL,
  CATCH_VERB_RCPT,
  CATCH_VERB_DATA,
  CATCH_VERB_RSET,
  CATCH_VERB_NOOP,
  CATCH_VERB_QUIT,
  CATCH_VERB_VRFY,
  CATCH_VERB_EXPN,
  CATCH_VERB_HELP,
  CATCH_VERB_STARTTLS,
  CATCH_VERB_AUTH,
  CATCH_VERB_FORBIDDEN, /* "Subject:", GET, POST, CONNECT: not SMTP at all */
  CATCH_N_VERBS
} CatchVerb;

typedef enum {
  CATCH_BODY_NONE,
  CATCH_BODY_7BIT,
  CATCH_BODY_8BITMIME,
} CatchBody;

/* The longest address a path may hold (RFC 5321 4.5.3.1.3: 256 with <>). */
#define CATCH_PATH_MAX 256

/**
 * CatchCommand:
 * @verb: the command
 * @name: its name, upper case ("MAIL"); the first word as sent when unknown
 * @arg: (nullable): what follows the verb and its space, as sent
 * @path: MAIL/RCPT: the address without <> and source route; "" for <>
 * @size: MAIL: the SIZE= parameter, 0 when absent
 * @size_given: MAIL: SIZE= was given
 * @smtputf8: MAIL: the SMTPUTF8 parameter was given
 * @body: MAIL: the BODY= parameter
 * @eightbit: MAIL/RCPT: @path holds octets over 127
 * @code: when the syntax is bad: the reply code (501, 555, 500); else 0
 * @enhanced: its RFC 3463 code
 * @error: its text
 *
 * One command line, parsed.  catch_command_clear() frees its strings.
 */
typedef struct {
  CatchVerb verb;
  char *name;
  char *arg;
  char *path;
  guint64 size;
  gboolean size_given;
  gboolean smtputf8;
  CatchBody body;
  gboolean eightbit;
  guint code;
  const char *enhanced;
  char *error;
} CatchCommand;

G_GNUC_INTERNAL void catch_command_parse(const char *line, gsize len, CatchCommand *out);
G_GNUC_INTERNAL void catch_command_clear(CatchCommand *command);
G_GNUC_INTERNAL gboolean catch_command_must_end_group(CatchVerb verb);
G_GNUC_INTERNAL gboolean catch_command_helo_is_valid(const char *name);

/* --- catch-data.c: the DATA decoder (a leaf) --------------------------- */

typedef enum {
  CATCH_DATA_LINE_START,
  CATCH_DATA_MIDLINE,
  CATCH_DATA_CR,
  CATCH_DATA_DOT,
  CATCH_DATA_DOT_CR,
  CATCH_DATA_DONE,
} CatchDataState;

/**
 * CatchData:
 * @state: where the decoder is; %CATCH_DATA_DONE after CRLF.CRLF
 * @size: octets of content so far, dot-unstuffed
 * @line: octets of the line under way, as sent
 * @longest: the longest line so far, as sent, without its line end
 * @bare_lf: a LF not preceded by CR was seen
 * @bare_cr: a CR not followed by LF was seen
 *
 * The message as it arrives: only CR LF . CR LF ends it; lines starting
 * with a dot lose it; CRLF line ends are kept.
 */
typedef struct {
  CatchDataState state;
  guint64 size;
  guint64 line;
  guint64 longest;
  gboolean bare_lf;
  gboolean bare_cr;
} CatchData;

G_GNUC_INTERNAL void catch_data_init(CatchData *data);
G_GNUC_INTERNAL gsize catch_data_feed(CatchData *data, const guint8 *in, gsize len,
                                      GByteArray *out);

/* --- catch-rules.c: failure injection (a leaf) ------------------------- */

struct _FarceurCatchRule {
  FarceurCatchAction action;
  FarceurCatchStage stage;
  char *spec;           /* as given */
  char *glob;           /* NULL: anything */
  GPatternSpec *match;  /* of the lower-cased glob */
  guint code;           /* FAIL: the reply code */
  char *text;           /* FAIL: the reply's text, enhanced code first */
  guint delay_ms;       /* DELAY */
  guint times;          /* acts this many times at most; 0: every time */
  guint percent_tenths; /* acts with this chance, in tenths of a percent (1000: always) */
  guint fired;          /* how often it acted */
};

G_GNUC_INTERNAL FarceurCatchRule *catch_rules_fire(GPtrArray *rules, GRand *rand,
                                                   FarceurCatchAction action,
                                                   FarceurCatchStage stage,
                                                   const char *const *subjects, guint n);

/* --- catch-users.c: the --users file (a leaf) -------------------------- */

typedef struct _CatchUsers CatchUsers;

G_GNUC_INTERNAL CatchUsers *catch_users_load(const char *path, GError **error);
G_GNUC_INTERNAL gboolean catch_users_check(const CatchUsers *users, const char *user,
                                           const char *password);
G_GNUC_INTERNAL guint catch_users_count(const CatchUsers *users);
G_GNUC_INTERNAL void catch_users_free(CatchUsers *users);

/* --- catch-tls.c: the certificate (a leaf) ----------------------------- */

G_GNUC_INTERNAL GTlsCertificate *catch_tls_self_signed(const char *hostname, GError **error);
G_GNUC_INTERNAL GTlsCertificate *catch_tls_load(const char *cert_file, const char *key_file,
                                                GError **error);
G_GNUC_INTERNAL char *catch_tls_fingerprint(GTlsCertificate *certificate);
G_GNUC_INTERNAL char *catch_tls_version_name(GTlsProtocolVersion version);

/* --- catch-received.c: this hop's Received: field (a leaf) ------------- */

/**
 * CatchHop:
 * @helo: (nullable): the client's EHLO/HELO/LHLO name
 * @ip: the client's address
 * @by: this server's name
 * @protocol: the `with` keyword
 * @tls_version: (nullable): the TLS version, with @tls_cipher in a comment
 * @tls_cipher: (nullable): the cipher suite
 * @id: the queue id
 * @for_addr: (nullable): the one recipient, when there is one
 * @date: when the message came
 */
typedef struct {
  const char *helo;
  const char *ip;
  const char *by;
  const char *protocol;
  const char *tls_version;
  const char *tls_cipher;
  const char *id;
  const char *for_addr;
  GDateTime *date;
} CatchHop;

G_GNUC_INTERNAL char *catch_received_format(const CatchHop *hop);

/* --- the server and its sessions --------------------------------------- */

typedef struct _CatchSession CatchSession;

/* A session's input mode: what the core does with the octets it reads. */
typedef enum {
  CATCH_STATE_GREETING, /* the greeting is not out: any input breaks the rules */
  CATCH_STATE_COMMAND,  /* command lines */
  CATCH_STATE_AUTH,     /* an AUTH exchange's next line */
  CATCH_STATE_DATA,     /* the message */
  CATCH_STATE_CLOSING,  /* the last replies are going out; input is ignored */
  CATCH_STATE_CLOSED,
} CatchState;

typedef void (*CatchCommandHandler)(CatchSession *session, CatchCommand *command);
typedef void (*CatchLineHandler)(CatchSession *session, const char *line, gsize len);
typedef gsize (*CatchDataHandler)(CatchSession *session, const guint8 *data, gsize len);
typedef void (*CatchSessionFunc)(CatchSession *session);
typedef void (*CatchStoredFunc)(FarceurCatchServer *server, const FarceurCatchMessage *message);

/* What the core and the protocol files call without naming it: filled by
 * catch_session_register(), catch_auth_register(), catch_tx_register()
 * and catch.c. */
typedef struct {
  CatchCommandHandler commands[CATCH_N_VERBS]; /* protocol files */
  CatchLineHandler auth_line;                  /* catch-auth.c: a line of an AUTH exchange */
  CatchDataHandler data;                       /* catch-transaction.c: the message's octets */
  CatchSessionFunc greet;                      /* catch-session.c: the greeting, once connected */
  CatchSessionFunc tls_up;                     /* catch-session.c: STARTTLS done */
  CatchSessionFunc end_tx;                     /* catch-transaction.c: drop the transaction */
  CatchStoredFunc stored;                      /* catch.c: a message was stored */
  CatchSessionFunc closed;                     /* catch.c: a session is over */
} CatchHandlers;

/* One mail transaction: from MAIL to the reply after the dot. */
typedef struct {
  FarceurEnvelope *envelope; /* NULL: no MAIL yet */
  gboolean smtputf8;
  CatchBody body;
  GPtrArray *refuse_at_dot; /* per recipient, the dot rule that refuses it, or NULL */
  CatchData data;
  GByteArray *chunk;           /* the decoder's output, reused */
  FarceurTargetWriter *writer; /* NULL: nothing is being stored */
  GError *write_error;
  gboolean mid_data_checked;
  gboolean storing; /* the commit is under way */
  GDateTime *started;
  char *id;
} CatchTransaction;

struct _CatchSession {
  gint ref;
  FarceurCatchServer *server;
  guint number;
  GSocketConnection *connection;
  GIOStream *stream; /* the connection or its TLS wrapper */
  GCancellable *cancellable;
  char *client_ip;
  guint16 client_port;
  gboolean implicit_tls;
  CatchState state;

  /* the core (catch-io.c) */
  GByteArray *in; /* read, not yet used */
  guint8 *readbuf;
  gboolean reading;
  guint busy;          /* async work under way: input waits */
  gboolean skip_line;  /* an over-long line: dropped up to its LF */
  GByteArray *out;     /* replies not yet written */
  GByteArray *sending; /* replies being written */
  GSource *timer;
  GSource *pause;              /* a --delay rule's wait */
  CatchSessionFunc pause_then; /* what follows it */
  gboolean writing;            /* a write of ->sending is under way */
  gboolean tls_starting;       /* STARTTLS: the handshake follows the last write */
  CatchCommand deferred;       /* the command it holds back */
  guint errors;

  /* the connection (catch-session.c, catch-auth.c) */
  char *helo;
  gboolean esmtp;   /* EHLO or LHLO: extensions offered, PIPELINING among them */
  gboolean refused; /* the greeting refused the session: only QUIT works */
  char *tls_version;
  char *tls_cipher;
  char *user;      /* authenticated as */
  guint auth_step; /* AUTH LOGIN: 1 waits for the user, 2 for the password */
  gboolean auth_login;
  char *auth_user;   /* AUTH LOGIN: the user, before the password */
  gboolean draining; /* the server stops: close after this transaction */

  CatchTransaction tx;
};

/**
 * CatchListener:
 * @address: where to listen
 * @implicit_tls: smtps://: TLS from the first octet
 */
typedef struct {
  GSocketAddress *address;
  gboolean implicit_tls;
} CatchListener;

struct _FarceurCatchServer {
  /* configuration */
  char *hostname;
  gboolean lmtp;
  gboolean no_ehlo;
  guint64 max_size;
  guint max_connections;
  guint line_limit;
  guint timeout_ms;
  guint exit_after;
  GPtrArray *rules;
  GRand *rand;
  FarceurTarget *target;
  GTlsCertificate *certificate;
  char *fingerprint;
  gboolean self_signed;
  CatchUsers *users;    /* NULL: any credentials pass */
  GPtrArray *listeners; /* (element-type CatchListener) */
  GPtrArray *addresses; /* the URLs actually listened on */
  FarceurCatchOptions callbacks;

  /* run state (catch.c) */
  GSocketService *service;
  GMainContext *context;
  GHashTable *sessions; /* CatchSession* -> itself, holding a reference */
  guint next_number;
  guint stored;
  gint64 id_base;
  guint id_seq;
  gboolean stopping;
  gboolean stopped;
  GSource *grace;

  CatchHandlers handlers;
};

/* --- catch-io.c: the I/O core --- */

G_GNUC_INTERNAL CatchSession *catch_io_session_new(FarceurCatchServer *server,
                                                   GSocketConnection *connection,
                                                   gboolean implicit_tls);
G_GNUC_INTERNAL CatchSession *catch_session_ref(CatchSession *session);
G_GNUC_INTERNAL void catch_session_unref(CatchSession *session);
G_GNUC_INTERNAL void catch_io_start(CatchSession *session);
G_GNUC_INTERNAL void catch_io_transcript(CatchSession *session, const char *format, ...)
    G_GNUC_PRINTF(2, 3);
G_GNUC_INTERNAL void catch_io_reply(CatchSession *session, guint code, const char *enhanced,
                                    const char *format, ...) G_GNUC_PRINTF(4, 5);
G_GNUC_INTERNAL void catch_io_reply_lines(CatchSession *session, guint code, GPtrArray *lines);
G_GNUC_INTERNAL void catch_io_error_reply(CatchSession *session, guint code, const char *enhanced,
                                          const char *text);
G_GNUC_INTERNAL void catch_io_set_state(CatchSession *session, CatchState state);
G_GNUC_INTERNAL gboolean catch_io_input_pending(CatchSession *session);
G_GNUC_INTERNAL gsize catch_io_discard_input(CatchSession *session);
G_GNUC_INTERNAL void catch_io_hold(CatchSession *session);
G_GNUC_INTERNAL void catch_io_resume(CatchSession *session);
G_GNUC_INTERNAL void catch_io_wait(CatchSession *session, guint ms, CatchSessionFunc then);
G_GNUC_INTERNAL void catch_io_close(CatchSession *session);
G_GNUC_INTERNAL void catch_io_drop(CatchSession *session, const char *why);
G_GNUC_INTERNAL void catch_io_start_tls(CatchSession *session);
G_GNUC_INTERNAL FarceurCatchRule *catch_io_rule(CatchSession *session, FarceurCatchAction action,
                                                FarceurCatchStage stage,
                                                const char *const *subjects, guint n);
G_GNUC_INTERNAL gboolean catch_io_fail_rule(CatchSession *session, FarceurCatchStage stage,
                                            const char *const *subjects, guint n);
G_GNUC_INTERNAL void catch_io_shutdown(CatchSession *session);

/* --- catch-session.c --- */

G_GNUC_INTERNAL void catch_session_register(CatchHandlers *handlers);
G_GNUC_INTERNAL const char *catch_session_protocol(CatchSession *session, gboolean smtputf8);

/* --- catch-auth.c --- */

G_GNUC_INTERNAL void catch_auth_register(CatchHandlers *handlers);

/* --- catch-transaction.c --- */

G_GNUC_INTERNAL void catch_tx_register(CatchHandlers *handlers);

/* --- catch-message.c --- */

G_GNUC_INTERNAL FarceurCatchMessage *catch_message_new(CatchSession *session, const char *protocol,
                                                       FarceurInspectMessage *inspected);

G_END_DECLS
