/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internals shared by the smtp-client*.c files; never installed.
 *
 * The client's files, each calling only the ones below it:
 *
 *   smtp-client.c              the FarceurSmtpClient object: configuration,
 *                              connect/send/quit _async/_finish
 *   smtp-client-transaction.c  smtp_tx_*: MAIL..RSET, LMTP, pipelining
 *   smtp-client-session.c      smtp_session_*: connect, TLS, greeting,
 *                              EHLO/HELO, STARTTLS, QUIT; the extensions
 *   smtp-client-auth.c         smtp_auth_*: AUTH and its SASL payloads
 *   smtp-client-io.c           smtp_io_*: the I/O core (queue, write, read,
 *                              timer, failure, reply dispatch)
 *   smtp-client-data.c         farceur_smtp_data_*: the message's wire form
 *   smtp-reply.c               the reply parser (public, <farceur/smtp-reply.h>)
 *
 * The core never names a protocol function: each protocol file hands it
 * the reply handlers of the states it drives (smtp_io_register()).
 */
#pragma once

#include <gmime/gmime.h>

#include <farceur/smtp-client.h>

G_BEGIN_DECLS

/* RFC 5321 4.5.3.1.6: a text line is at most 998 octets plus CRLF. */
#define SMTP_DATA_MAX_LINE 998

/* Wire forms over 1 MiB wait in an unlinked temporary file, not in memory. */
#define SMTP_DATA_SPOOL_MIN (1024 * 1024)

/* Spooled content goes out in writes of this size. */
#define SMTP_DATA_CHUNK (64 * 1024)

/* --- smtp-client-data.c: the message's wire form (a leaf) --- */

/* What the serialisation filters saw. */
typedef struct {
  gboolean eightbit_header;
  gboolean eightbit_body;
  gsize longest_line;
  guint longest_line_no;
  guint header_cr_line; /* the first header line ended by a lone CR, 0: none */
  guint64 size;         /* octets on the wire */
  const char *unsafe;   /* why the smuggling guard refuses it, or NULL */
  GByteArray *wire;     /* the wire form kept, while at most SMTP_DATA_SPOOL_MIN */
  GMimeStream *spool;   /* ... or past that, in an unlinked temporary file */
  GError *spool_error;  /* why the spool file could not be made or written */
} SmtpDataScan;

/**
 * SmtpData:
 * @content: the message as it goes on the wire, positioned at its start:
 *   CRLF line ends only, dot-stuffed, ending in CRLF, without the final
 *   ".\r\n"; in memory or in an unlinked temporary file
 * @size: its length
 * @eightbit: the content holds octets over 127 (needs BODY=8BITMIME)
 * @utf8_header: the header holds octets over 127 (needs SMTPUTF8)
 */
typedef struct {
  GMimeStream *content;
  guint64 size;
  gboolean eightbit;
  gboolean utf8_header;
} SmtpData;

G_GNUC_INTERNAL gboolean farceur_smtp_data_prepare(GMimeObject *message, gboolean eightbit_ok,
                                                   SmtpData *data, GError **error);
G_GNUC_INTERNAL gboolean farceur_smtp_data_prepare_stream(GMimeStream *stream, gboolean eightbit_ok,
                                                          SmtpData *data, GError **error);

/* --- the client's insides ---------------------------------------------- */

/* The client's states, in the order a session goes through them.  Each
 * waiting state has one reply handler, which the file driving that state
 * hands to the core (smtp_io_register()); MAIL..RSET are "busy": a
 * transaction is under way.
 *
 *   DISCONNECTED -> CONNECTING -> [TLS_HANDSHAKE] -> GREETING -> EHLO
 *     (-> HELO) (-> STARTTLS -> TLS_HANDSHAKE -> EHLO) (-> AUTH) -> READY
 *   READY -> MAIL -> RCPT... -> DATA -> CONTENT -> DOT -> READY
 *     (a failure before the dot: -> RSET -> READY)
 *   READY -> QUIT -> CLOSED;  any state -> FAILED on a connection failure
 */
typedef enum {
  SMTP_STATE_DISCONNECTED,
  SMTP_STATE_CONNECTING,
  SMTP_STATE_TLS_HANDSHAKE,
  SMTP_STATE_GREETING,
  SMTP_STATE_EHLO,
  SMTP_STATE_HELO,
  SMTP_STATE_STARTTLS,
  SMTP_STATE_AUTH,
  SMTP_STATE_READY,
  SMTP_STATE_MAIL,
  SMTP_STATE_RCPT,
  SMTP_STATE_DATA,
  SMTP_STATE_CONTENT,
  SMTP_STATE_DOT,
  SMTP_STATE_RSET,
  SMTP_STATE_QUIT,
  SMTP_STATE_CLOSED,
  SMTP_STATE_FAILED,
  SMTP_N_STATES
} SmtpState;

typedef enum {
  SMTP_AUTH_PLAIN,
  SMTP_AUTH_LOGIN,
  SMTP_AUTH_CRAM_MD5,
} SmtpAuthMech;

/* What the server told us about the connection; forgotten after STARTTLS. */
typedef struct {
  GHashTable *extensions; /* upper-case EHLO keyword -> its parameters */
  guint64 max_size;       /* SIZE parameter, 0 = no limit announced */
  gboolean tls;
  gboolean authenticated;
  gboolean loopback;       /* loopback address, unix socket or a given stream */
  gboolean tls_unverified; /* TLS is up on a certificate that could not be verified */
  FarceurSmtpReply *greeting;
} SmtpConnection;

/* An operation in progress: its task, and the caller's cancellable tied to
 * the connection's (cancelling any operation kills the connection). */
typedef struct {
  GTask *task;
  GCancellable *cancellable;
  gulong cancel_id;
} SmtpOp;

/* One mail transaction. */
typedef struct {
  SmtpOp *op;
  FarceurEnvelope *envelope;
  SmtpData data;
  FarceurSmtpCommitFunc commit;
  gpointer commit_data;
  FarceurSmtpResult *result;
  guint rcpt_next;    /* index of the recipient whose RCPT reply comes next */
  guint lmtp_next;    /* LMTP: index of the recipient whose final reply comes next */
  gboolean pipelined; /* MAIL, RCPTs and DATA went in one write */
  gboolean discard;   /* a "." sent after a 354 nobody should have got */
  gboolean dot_sent;
  gboolean sent_ahead;  /* its commands went out behind the previous final dot */
  guint64 content_sent; /* octets of data.content written so far */
  guint8 *chunk;        /* SMTP_DATA_CHUNK octets read from a spool file */
} SmtpTransaction;

/* What the core calls in the protocol files, without naming them. */
typedef void (*SmtpReplyHandler)(FarceurSmtpClient *self, FarceurSmtpReply *reply);
typedef void (*SmtpIoFunc)(FarceurSmtpClient *self);
typedef void (*SmtpAbandonFunc)(SmtpTransaction *tx, GQueue *queued, const GError *error);

/* One row of the handler table: the reply to @state goes to @handler. */
typedef struct {
  SmtpState state;
  SmtpReplyHandler handler;
} SmtpHandlerRow;

struct _FarceurSmtpClient {
  GObject parent_instance;

  /* configuration */
  FarceurSmtpSecurity security;
  gboolean lmtp;
  char *helo;
  char *user;
  char *password;
  char *mechanism;
  gboolean allow_plaintext_auth;
  GTlsDatabase *tls_database;
  gboolean tls_insecure;
  guint timeout_ms; /* 0: the RFC 5321 defaults */
  gboolean pipelining_allowed;

  /* I/O (smtp-client-io.c) */
  SmtpState state;
  SmtpReplyHandler handlers[SMTP_N_STATES]; /* filled by the protocol files */
  SmtpAbandonFunc abandon;                  /* set by smtp-client-transaction.c */
  char *server_name;
  GSocketConnectable *identity;
  GSocketConnectable *address; /* what connect was given: a plaintext retry goes there */
  gboolean tls_failed;         /* opportunistic STARTTLS failed: this session stays plaintext */
  GIOStream *stream;
  GCancellable *io_cancellable; /* cancelled on timeout or by the caller */
  GSource *timer;
  gboolean timed_out;
  GSource *notice;                 /* announces a long first-contact wait ("waiting") */
  gboolean noticed[SMTP_N_STATES]; /* that wait was announced (or its notice armed) */
  FarceurSmtpReplyParser *parser;
  GError *read_error; /* the reply stream broke after the replies still buffered */
  GByteArray *outbuf;
  char inbuf[16384];
  SmtpIoFunc write_done; /* smtp_io_write(): what follows the write */
  const char *write_doing;
  GError *closing; /* why the session ends after this reply (421, RSET refused) */

  /* operations: a connect or QUIT in progress; a QUIT asked for while
   * transactions run; the transaction receiving replies; those queued */
  SmtpOp *op;
  SmtpOp *quit;
  gboolean quit_sent_ahead;
  SmtpTransaction *tx;
  GQueue queue;

  SmtpConnection conn;
  SmtpAuthMech auth_mech;
  guint auth_step;
};

/* --- smtp-client-io.c: the I/O core --- */

G_GNUC_INTERNAL void smtp_io_class_init(GObjectClass *klass);
G_GNUC_INTERNAL void smtp_io_register(FarceurSmtpClient *self, const SmtpHandlerRow *rows,
                                      gsize n_rows);
G_GNUC_INTERNAL void smtp_io_set_abandon(FarceurSmtpClient *self, SmtpAbandonFunc abandon);
G_GNUC_INTERNAL const char *smtp_io_state_name(SmtpState state);
G_GNUC_INTERNAL void smtp_io_set_state(FarceurSmtpClient *self, SmtpState state);
G_GNUC_INTERNAL gboolean smtp_io_is_busy(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_io_transcript(FarceurSmtpClient *self, const char *prefix,
                                        const char *line);
G_GNUC_INTERNAL void smtp_io_start_timer(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_io_stop_timer(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_io_stop_notice(FarceurSmtpClient *self);
G_GNUC_INTERNAL GError *smtp_io_error(FarceurSmtpClient *self, GError *error, const char *doing);
G_GNUC_INTERNAL SmtpOp *smtp_op_new(FarceurSmtpClient *self, GTask *task);
G_GNUC_INTERNAL GTask *smtp_op_finish(SmtpOp *op);
G_GNUC_INTERNAL void smtp_op_return_boolean(SmtpOp *op);
G_GNUC_INTERNAL void smtp_io_ready(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_io_close_stream(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_io_closed(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_io_fail(FarceurSmtpClient *self, GError *error);
G_GNUC_INTERNAL GError *smtp_io_reply_error(FarceurSmtpClient *self, int code, const char *what,
                                            const FarceurSmtpReply *reply);
G_GNUC_INTERNAL int smtp_io_reply_error_code(const FarceurSmtpReply *reply);
G_GNUC_INTERNAL void smtp_io_fail_reply(FarceurSmtpClient *self, int code, const char *what,
                                        const FarceurSmtpReply *reply);
G_GNUC_INTERNAL void smtp_io_set_closing(FarceurSmtpClient *self, int code, const char *what,
                                         const FarceurSmtpReply *reply);
G_GNUC_INTERNAL void smtp_io_queue(FarceurSmtpClient *self, const char *line, const char *shown);
G_GNUC_INTERNAL void smtp_io_send(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_io_write(FarceurSmtpClient *self, const guint8 *data, gsize len,
                                   const char *doing, SmtpIoFunc done);
G_GNUC_INTERNAL void smtp_io_wait(FarceurSmtpClient *self);

/* --- smtp-client-auth.c --- */

G_GNUC_INTERNAL void smtp_auth_register(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_auth_begin(FarceurSmtpClient *self);

/* --- smtp-client-session.c --- */

G_GNUC_INTERNAL void smtp_session_register(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_session_connect(FarceurSmtpClient *self, GTask *task,
                                          GSocketConnectable *address);
G_GNUC_INTERNAL void smtp_session_connect_stream(FarceurSmtpClient *self, GTask *task,
                                                 GIOStream *stream, GSocketConnectable *identity);
G_GNUC_INTERNAL void smtp_session_quit(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_session_start_quit(FarceurSmtpClient *self);
G_GNUC_INTERNAL gboolean smtp_session_has_extension(FarceurSmtpClient *self, const char *keyword);

/* --- smtp-client-transaction.c --- */

G_GNUC_INTERNAL void smtp_tx_register(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_tx_submit(FarceurSmtpClient *self, const FarceurEnvelope *envelope,
                                    GMimeObject *message, GMimeStream *stream,
                                    FarceurSmtpCommitFunc commit, gpointer commit_data,
                                    GTask *task);

G_END_DECLS
