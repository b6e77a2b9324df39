/* Internals shared by the smtp-client*.c files; never installed. */
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

/* What the serialisation filters saw (smtp-client-data.c). */
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

G_GNUC_INTERNAL char *farceur_smtp_auth_plain(const char *user, const char *password);
G_GNUC_INTERNAL char *farceur_smtp_auth_cram_md5(const char *user, const char *password,
                                                 const char *challenge_b64, GError **error);
G_GNUC_INTERNAL char *farceur_smtp_auth_base64(const char *text);

/* --- the client's insides, shared by smtp-client.c (connection, I/O,
 * session setup) and smtp-client-transaction.c (mail transactions) --- */

/* The client's states, in the order a session goes through them.  Each
 * waiting state has one reply handler (smtp_client_handlers[] in
 * smtp-client.c); MAIL..RSET are "busy": a transaction is under way.
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
  gboolean loopback; /* loopback address, unix socket or a given stream */
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

  /* I/O */
  SmtpState state;
  char *server_name;
  GSocketConnectable *identity;
  GIOStream *stream;
  GCancellable *io_cancellable; /* cancelled on timeout or by the caller */
  GSource *timer;
  gboolean timed_out;
  FarceurSmtpReplyParser *parser;
  GByteArray *outbuf;
  char inbuf[16384];
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

G_GNUC_INTERNAL void smtp_client_set_state(FarceurSmtpClient *self, SmtpState state);
G_GNUC_INTERNAL void smtp_client_queue(FarceurSmtpClient *self, const char *line,
                                       const char *shown);
G_GNUC_INTERNAL void smtp_client_send(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_client_write_ready_cb(GObject *source, GAsyncResult *res, gpointer data);
G_GNUC_INTERNAL void smtp_client_wait(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_client_fail(FarceurSmtpClient *self, GError *error);
G_GNUC_INTERNAL void smtp_client_start_timer(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_client_stop_timer(FarceurSmtpClient *self);
G_GNUC_INTERNAL GError *smtp_client_io_error(FarceurSmtpClient *self, GError *error,
                                             const char *doing);
G_GNUC_INTERNAL void smtp_client_transcript(FarceurSmtpClient *self, const char *prefix,
                                            const char *line);
G_GNUC_INTERNAL gboolean smtp_client_is_busy(FarceurSmtpClient *self);
G_GNUC_INTERNAL SmtpOp *smtp_op_new(FarceurSmtpClient *self, GTask *task);
G_GNUC_INTERNAL GTask *smtp_op_finish(SmtpOp *op);
G_GNUC_INTERNAL int smtp_client_reply_error_code(const FarceurSmtpReply *reply);
G_GNUC_INTERNAL void smtp_client_set_closing(FarceurSmtpClient *self, int code, const char *what,
                                             const FarceurSmtpReply *reply);
G_GNUC_INTERNAL void smtp_client_close_stream(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_client_on_mail(FarceurSmtpClient *self, FarceurSmtpReply *reply);
G_GNUC_INTERNAL void smtp_client_on_rcpt(FarceurSmtpClient *self, FarceurSmtpReply *reply);
G_GNUC_INTERNAL void smtp_client_on_data(FarceurSmtpClient *self, FarceurSmtpReply *reply);
G_GNUC_INTERNAL void smtp_client_on_dot(FarceurSmtpClient *self, FarceurSmtpReply *reply);
G_GNUC_INTERNAL void smtp_client_on_rset(FarceurSmtpClient *self, FarceurSmtpReply *reply);
G_GNUC_INTERNAL void smtp_client_tx_failed(FarceurSmtpClient *self, const char *what,
                                           const FarceurSmtpReply *reply);
G_GNUC_INTERNAL void smtp_client_tx_return(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_client_tx_abandon(SmtpTransaction *tx, const GError *error);
G_GNUC_INTERNAL void smtp_client_start_quit(FarceurSmtpClient *self);
G_GNUC_INTERNAL void smtp_transaction_free(SmtpTransaction *tx);
G_GNUC_INTERNAL const char *smtp_client_state_name(SmtpState state);

G_END_DECLS
