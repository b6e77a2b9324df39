/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: internals shared by the trace module's files; never installed. */
#pragma once

#include <glib.h>

#include <farceur/trace.h>

G_BEGIN_DECLS

typedef enum {
  TRACE_TOKEN_ATOM,    /* a run of anything else: domain, keyword, IP, helo=x */
  TRACE_TOKEN_COMMENT, /* ( ... ), nested; text is the inside, as written */
  TRACE_TOKEN_QUOTED,  /* " ... "; text is the inside, escapes removed */
  TRACE_TOKEN_LITERAL, /* [ ... ] with an optional :port after it; text is the inside */
  TRACE_TOKEN_ANGLE,   /* < ... >; text is the inside */
  TRACE_TOKEN_SEMI,    /* ; */
} TraceTokenKind;

typedef struct {
  TraceTokenKind kind;
  const char *text; /* in the list's string chunk */
  gsize start;      /* byte offsets of the whole token in the lexed text */
  gsize end;
} TraceToken;

/* Tokens in one array, their texts in one string chunk: two allocations
 * per list rather than two per token. */
typedef struct {
  GArray *items; /* (element-type TraceToken) */
  GStringChunk *texts;
} TraceTokens;

TraceTokens *trace_lex(const char *text, guint depth, GPtrArray *warnings);
void trace_tokens_free(TraceTokens *tokens);
const TraceToken *trace_token_at(const TraceTokens *tokens, guint i);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TraceTokens, trace_tokens_free)

char *trace_ip_normalize(const char *text);
gboolean trace_text_mentions_tls(const char *text);
FarceurTls trace_tls_from_protocol(const char *with);

void trace_warn(GPtrArray *warnings, const char *format, ...) G_GNUC_PRINTF(2, 3);

G_END_DECLS
