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

/* Tokens in one array, their texts in one buffer sized from the lexed
 * text: a copy of it, where each span ends in place, then the texts that
 * are not spans (each at most its token's span, plus a NUL).  A list lives
 * on the caller's stack: a value of ordinary size needs no allocation. */
#define TRACE_TOKENS_INLINE 48
#define TRACE_TEXTS_INLINE 1024

typedef struct {
  TraceToken *items;
  guint len;
  guint size;
  char *texts;
  gsize texts_len;
  TraceToken inline_items[TRACE_TOKENS_INLINE];
  char inline_texts[TRACE_TEXTS_INLINE];
} TraceTokens;

/* @word is @name (lower-case letters) in any case: a letter ORed with 0x20
 * is its lower case, and no other byte becomes a letter so. */
static inline gboolean
trace_word_is(const char *word, const char *name)
{
  gsize i = 0;

  for (; name[i]; i++)
    if ((word[i] | 0x20) != name[i])
      return FALSE;
  return word[i] == '\0';
}

void trace_lex(TraceTokens *tokens, const char *text, guint depth, GPtrArray *warnings);
void trace_lex_value(TraceTokens *tokens, const char *text, GPtrArray *warnings);
void trace_tokens_clear(TraceTokens *tokens);

/* The @i-th token, %NULL past the end (inline: the parser asks for every
 * token several times). */
static inline const TraceToken *
trace_token_at(const TraceTokens *tokens, guint i)
{
  return i < tokens->len ? &tokens->items[i] : NULL;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TraceTokens, trace_tokens_clear)

char *trace_ip_normalize(const char *text);
gboolean trace_text_mentions_tls(const char *text);
FarceurTls trace_tls_from_protocol(const char *with);

GDateTime *trace_date_strict(const char *text);
GDateTime *trace_date_parse(const char *text);
gboolean trace_is_ascii(const char *text, gsize len);

void trace_warn(GPtrArray *warnings, const char *format, ...) G_GNUC_PRINTF(2, 3);

G_END_DECLS
