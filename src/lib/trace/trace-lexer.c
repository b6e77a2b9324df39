/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: tokenizer for Received: values.
 *
 * Hand-written: neither GMime nor GLib parses Received: (GMime only folds it
 * when writing).  RFC 5321 4.4 gives the grammar, real servers bend it: this
 * lexer knows nested comments with backslash escapes, quoted strings, domain
 * and address literals ([192.0.2.1], [IPv6:2001:db8::1], [192.0.2.1]:port)
 * and angle-bracketed paths, and recovers from anything unterminated with a
 * warning.  It never recurses: comment nesting is a counter.
 */
#include "config.h"

#include <string.h>

#include "trace-private.h"

typedef struct {
  const char *text;
  gsize len; /* of @text */
  gsize pos;
  guint depth; /* nesting of the text being lexed (a comment re-lexed is 1) */
  GPtrArray *warnings;
  TraceTokens *tokens;
  gboolean value; /* a whole value: the date's plain words are not lexed */
  gboolean done;  /* they are what is left */
} TraceLexer;

void
trace_warn(GPtrArray *warnings, const char *format, ...)
{
  va_list args;

  if (warnings == NULL || warnings->len >= 64)
    return;
  va_start(args, format);
  g_ptr_array_add(warnings, g_strdup_vprintf(format, args));
  va_end(args);
}

/* Lets go of what a token list allocated beyond its inline storage. */
void
trace_tokens_clear(TraceTokens *tokens)
{
  if (tokens->items != tokens->inline_items)
    g_free(tokens->items);
  if (tokens->texts != tokens->inline_texts)
    g_free(tokens->texts);
  tokens->items = tokens->inline_items;
  tokens->texts = tokens->inline_texts;
  tokens->len = 0;
  tokens->texts_len = 0;
}

static void
trace_tokens_grow(TraceTokens *tokens)
{
  TraceToken *more = g_new(TraceToken, tokens->size * 2);

  memcpy(more, tokens->items, tokens->size * sizeof *more);
  if (tokens->items != tokens->inline_items)
    g_free(tokens->items);
  tokens->items = more;
  tokens->size *= 2;
}

/* The next token's place, at the end of the list. */
static inline TraceToken *
trace_tokens_push(TraceTokens *tokens)
{
  if (G_UNLIKELY(tokens->len == tokens->size))
    trace_tokens_grow(tokens);
  return &tokens->items[tokens->len++];
}

/* A token whose text is the @len bytes at @at of the lexed text: the span
 * is NUL-terminated in place in the list's copy of it (the byte after a
 * span is a delimiter, never in another token's text but a ';', whose text
 * is a constant). */
static inline void
trace_lexer_emit_span(TraceLexer *lx, TraceTokenKind kind, gsize at, gsize len, gsize start)
{
  char *copy = lx->tokens->texts + at;

  copy[len] = '\0';
  *trace_tokens_push(lx->tokens) = (TraceToken){ kind, copy, start, lx->pos };
}

/* A token whose text is not a span (a quoted string less its escapes):
 * appended after the copy of the lexed text. */
static void
trace_lexer_emit_text(TraceLexer *lx, TraceTokenKind kind, const char *text, gsize len, gsize start)
{
  TraceTokens *tokens = lx->tokens;
  char *copy = tokens->texts + tokens->texts_len;

  memcpy(copy, text, len);
  copy[len] = '\0';
  tokens->texts_len += len + 1;
  *trace_tokens_push(tokens) = (TraceToken){ kind, copy, start, lx->pos };
}

static inline gboolean
trace_is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
trace_lex_comment(TraceLexer *lx)
{
  gsize start = lx->pos++;
  guint level = 1;
  gboolean too_deep = FALSE;

  while (lx->text[lx->pos] != '\0' && level > 0) {
    char c;

    lx->pos += strcspn(lx->text + lx->pos, "\\()"); /* to the next byte that counts */
    if ((c = lx->text[lx->pos]) == '\0')
      break;
    lx->pos++;

    if (c == '\\' && lx->text[lx->pos] != '\0')
      lx->pos++;
    else if (c == '(' && ++level + lx->depth > FARCEUR_TRACE_MAX_DEPTH)
      too_deep = TRUE;
    else if (c == ')')
      level--;
  }
  if (too_deep)
    trace_warn(lx->warnings, "comment nested deeper than %d levels", FARCEUR_TRACE_MAX_DEPTH);
  if (level > 0)
    trace_warn(lx->warnings, "unterminated comment at byte %" G_GSIZE_FORMAT, start);
  trace_lexer_emit_span(lx, TRACE_TOKEN_COMMENT, start + 1, lx->pos - start - 1 - (level == 0),
                        start);
}

/* NUL, blanks, ( ) ; < end an atom; '"' and '\\' need a look */
static const guint8 trace_atom_stop[256] = {
  [0] = 1,   [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1, ['('] = 1,
  [')'] = 1, [';'] = 1, ['<'] = 1,  ['"'] = 2,  ['\\'] = 2,
};

static inline gboolean
trace_ends_atom(char c)
{
  return trace_atom_stop[(guchar)c] == 1;
}

static void
trace_lex_atom(TraceLexer *lx)
{
  const char *text = lx->text;
  gsize start = lx->pos;
  gsize pos = start;
  gboolean quoted = FALSE;

  for (;; pos++) {
    char c;

    /* the common case: no quote seen, a byte that needs no look */
    while (!quoted && trace_atom_stop[(guchar)text[pos]] == 0)
      pos++;
    c = text[pos];
    if (c == '\0')
      break;
    if (c == '"' && (quoted || strchr(text + pos + 1, '"')))
      quoted = !quoted;
    else if (c == '\\' && quoted && text[pos + 1] != '\0')
      pos++;
    else if (!quoted && trace_ends_atom(c))
      break;
  }
  lx->pos = pos;
  trace_lexer_emit_span(lx, TRACE_TOKEN_ATOM, start, pos - start, start);
}

static void
trace_lex_quoted(TraceLexer *lx)
{
  gsize start = lx->pos++;
  GString *text = g_string_new(NULL);

  while (lx->text[lx->pos] != '\0' && lx->text[lx->pos] != '"') {
    if (lx->text[lx->pos] == '\\' && lx->text[lx->pos + 1] != '\0')
      lx->pos++;
    g_string_append_c(text, lx->text[lx->pos++]);
  }
  if (lx->text[lx->pos] == '"')
    lx->pos++;
  else
    trace_warn(lx->warnings, "unterminated quoted string at byte %" G_GSIZE_FORMAT, start);
  if (!trace_ends_atom(lx->text[lx->pos])) {
    /* "odd person"@example.net: one atom, as written */
    g_string_free(text, TRUE);
    lx->pos = start;
    trace_lex_atom(lx);
    return;
  }
  trace_lexer_emit_text(lx, TRACE_TOKEN_QUOTED, text->str, text->len, start);
  g_string_free(text, TRUE);
}

/* [...] and <...>: no nesting; a literal may carry :port right after it. */
static void
trace_lex_bracketed(TraceLexer *lx, char close, TraceTokenKind kind)
{
  gsize start = lx->pos++;
  const char *end = strchr(lx->text + lx->pos, close);
  gsize inner, text_start;

  /* Unterminated: the literal ends at the next blank, the rest is lexed again. */
  if (end)
    inner = end - (lx->text + lx->pos);
  else
    inner = strcspn(lx->text + lx->pos, " \t\r\n");
  text_start = lx->pos;
  lx->pos += inner;
  if (end == NULL)
    trace_warn(lx->warnings, "unterminated '%c' at byte %" G_GSIZE_FORMAT, lx->text[start], start);
  else
    lx->pos++;
  if (kind == TRACE_TOKEN_LITERAL && lx->text[lx->pos] == ':'
      && g_ascii_isdigit(lx->text[lx->pos + 1])) {
    lx->pos++;
    while (g_ascii_isdigit(lx->text[lx->pos]))
      lx->pos++;
  }
  trace_lexer_emit_span(lx, kind, text_start, inner, start);
}

/* Whether @rest would lex into atoms alone, without a warning, none of
 * them "id": no byte that starts another kind of token or needs a look, no
 * "id" in any case. */
static gboolean
trace_rest_is_plain(const char *rest)
{
  if (strpbrk(rest, ";()\"[<\\") != NULL)
    return FALSE;
  for (const char *i = strpbrk(rest, "iI"); i; i = strpbrk(i + 1, "iI"))
    if ((i[1] | 0x20) == 'd')
      return FALSE;
  return TRUE;
}

static void
trace_lex_one(TraceLexer *lx)
{
  switch (lx->text[lx->pos]) {
    case '(':
      trace_lex_comment(lx);
      break;
    case ')':
      trace_warn(lx->warnings, "unbalanced ')' at byte %" G_GSIZE_FORMAT, lx->pos);
      lx->pos++;
      break;
    case '"':
      trace_lex_quoted(lx);
      break;
    case '[':
      trace_lex_bracketed(lx, ']', TRACE_TOKEN_LITERAL);
      break;
    case '<':
      trace_lex_bracketed(lx, '>', TRACE_TOKEN_ANGLE);
      break;
    case ';':
      lx->pos++;
      /* its byte may end the token before it in the copy: its text is a constant */
      *trace_tokens_push(lx->tokens) = (TraceToken){ TRACE_TOKEN_SEMI, ";", lx->pos - 1, lx->pos };
      lx->done = lx->value && trace_rest_is_plain(lx->text + lx->pos);
      break;
    default:
      trace_lex_atom(lx);
  }
}

static void
trace_lex_run(TraceTokens *tokens, const char *text, guint depth, GPtrArray *warnings,
              gboolean value)
{
  gsize len = strlen(text);
  TraceLexer lx = { text, len, 0, depth, warnings, tokens, value, FALSE };

  tokens->items = tokens->inline_items;
  tokens->size = TRACE_TOKENS_INLINE;
  tokens->len = 0;
  /* the copy of @text, where spans end in place, then room for the others */
  tokens->texts = 2 * len + 2 <= TRACE_TEXTS_INLINE ? tokens->inline_texts : g_malloc(2 * len + 2);
  memcpy(tokens->texts, text, len + 1);
  tokens->texts_len = len + 1;
  while (!lx.done) {
    while (trace_is_space(lx.text[lx.pos]))
      lx.pos++;
    if (lx.text[lx.pos] == '\0')
      break;
    trace_lex_one(&lx);
  }
}

/**
 * trace_lex:
 * @tokens: (out caller-allocates): the list, to be cleared with trace_tokens_clear()
 * @text: a NUL-terminated Received: value (or the inside of a comment)
 * @depth: how deep @text already sits inside comments
 * @warnings: (nullable): where lexing problems are added
 *
 * Lexes @text into @tokens, in order.
 */
void
trace_lex(TraceTokens *tokens, const char *text, guint depth, GPtrArray *warnings)
{
  trace_lex_run(tokens, text, depth, warnings, FALSE);
}

/**
 * trace_lex_value:
 * @tokens: (out caller-allocates): the list, to be cleared with trace_tokens_clear()
 * @text: a NUL-terminated Received: value, at the top
 * @warnings: (nullable): where lexing problems are added
 *
 * trace_lex() of a whole value, less the words of its date: after a ';'
 * followed by plain words only (trace_rest_is_plain()), that ';' is the
 * last and lexing stops.  The parser reads the date as text after the last
 * ';', and of its tokens only an "id" atom (Courier writes its id there);
 * the tokens left out would be atoms, with no warning and no "id".
 */
void
trace_lex_value(TraceTokens *tokens, const char *text, GPtrArray *warnings)
{
  trace_lex_run(tokens, text, 0, warnings, TRUE);
}
