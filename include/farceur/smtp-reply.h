/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: a bounded, incremental parser for SMTP replies (RFC 5321 4.2,
 * enhanced status codes of RFC 2034/3463).  Pure: no sockets, no GObject. */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>

#include <farceur/export.h>

G_BEGIN_DECLS

/* Caps on what one server may make us hold.  RFC 5321 4.5.3.1.5 limits a
 * reply line to 512 octets; we accept eight times that (real servers send
 * long EHLO lines) and fail beyond it rather than grow without bound. */
#define FARCEUR_SMTP_REPLY_MAX_LINE 4096
#define FARCEUR_SMTP_REPLY_MAX_LINES 512

/**
 * FarceurSmtpReply:
 * @code: the three-digit reply code, 200..599 (1xx accepted too)
 * @enhanced: (nullable): the RFC 3463 enhanced status code of the first
 *   line ("5.1.1"), %NULL when the reply carries none
 * @lines: (array zero-terminated=1): the text of each line after the code
 *   and separator, control bytes replaced by '?', made valid UTF-8
 * @text: the lines joined with '\n', the enhanced code removed from the
 *   start of each line that carries it: what to show a user
 *
 * One complete reply.  @code / 100 is the class (2 ok, 3 go on, 4 retry
 * later, 5 final failure).
 */
typedef struct {
  guint code;
  char *enhanced;
  char **lines;
  char *text;
} FarceurSmtpReply;

FARCEUR_API FarceurSmtpReply *farceur_smtp_reply_copy(const FarceurSmtpReply *reply);
FARCEUR_API void farceur_smtp_reply_free(FarceurSmtpReply *reply);
FARCEUR_API char *farceur_smtp_reply_to_string(const FarceurSmtpReply *reply);

#define FARCEUR_SMTP_REPLY_IS_POSITIVE(r) ((r) != NULL && (r)->code / 100 == 2)
#define FARCEUR_SMTP_REPLY_IS_INTERMEDIATE(r) ((r) != NULL && (r)->code / 100 == 3)
#define FARCEUR_SMTP_REPLY_IS_TRANSIENT(r) ((r) != NULL && (r)->code / 100 == 4)
#define FARCEUR_SMTP_REPLY_IS_PERMANENT(r) ((r) != NULL && (r)->code / 100 == 5)

/**
 * FarceurSmtpReplyParser:
 *
 * Bytes in, complete replies out.  Feed it whatever a read returned; pop the
 * replies that are complete.  After an error the parser stays failed; the
 * replies complete before the error can still be popped.  A line between
 * replies that cannot start one (a blank line, a program's comment) is
 * skipped and kept as a warning (farceur_smtp_reply_parser_pop_warning()).
 */
typedef struct _FarceurSmtpReplyParser FarceurSmtpReplyParser;

FARCEUR_API FarceurSmtpReplyParser *farceur_smtp_reply_parser_new(void);
FARCEUR_API void farceur_smtp_reply_parser_free(FarceurSmtpReplyParser *parser);
FARCEUR_API gboolean farceur_smtp_reply_parser_feed(FarceurSmtpReplyParser *parser,
                                                    const char *data, gsize len, GError **error);
FARCEUR_API FarceurSmtpReply *farceur_smtp_reply_parser_pop(FarceurSmtpReplyParser *parser);
FARCEUR_API char *farceur_smtp_reply_parser_pop_warning(FarceurSmtpReplyParser *parser);
FARCEUR_API gboolean farceur_smtp_reply_parser_is_empty(const FarceurSmtpReplyParser *parser);
FARCEUR_API void farceur_smtp_reply_parser_reset(FarceurSmtpReplyParser *parser);

FARCEUR_API FarceurSmtpReply *farceur_smtp_reply_parse(const char *data, gsize len, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurSmtpReply, farceur_smtp_reply_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurSmtpReplyParser, farceur_smtp_reply_parser_free)

G_END_DECLS
