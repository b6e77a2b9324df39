/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SMTP reply parser.  Hand-written because neither GLib nor GMime parses
 * SMTP replies; it is the first thing an untrusted server controls, so every
 * length is capped and every byte is checked before it reaches a string.
 *
 * Lenient where it is safe (data/doc/smtp.md, Replies): a line that cannot
 * start a reply, met between two replies (a blank line, the comments
 * `exim -bh` writes to its output), is skipped and becomes a warning; it
 * never hides a reply that was complete before it.  Inside a multi-line
 * reply the syntax stays strict. */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include <farceur/smtp-reply.h>

/* At most this many warnings wait to be popped; more are counted only.  As
 * many skipped lines in a row end the leniency: a server sending only junk. */
#define SMTP_REPLY_MAX_WARNINGS 64
#define SMTP_REPLY_MAX_JUNK FARCEUR_SMTP_REPLY_MAX_LINES

/* A skipped line: its warning, and how many replies were complete before it. */
typedef struct {
  guint after;
  char *text;
} SmtpReplyWarning;

struct _FarceurSmtpReplyParser {
  GByteArray *line; /* the incomplete line being read */
  GPtrArray *lines; /* lines of the reply being assembled */
  guint code;       /* its code, 0 before its first line */
  GQueue replies;   /* complete replies not popped yet */
  guint line_no;    /* lines seen since creation, for messages */
  gboolean failed;
  GQueue warnings;    /* (element-type SmtpReplyWarning) not popped yet */
  guint completed;    /* replies completed */
  guint popped;       /* replies popped */
  guint junk_run;     /* lines skipped since the last reply line */
  guint junk_dropped; /* warnings not kept (over SMTP_REPLY_MAX_WARNINGS) */
};

static void
smtp_reply_warning_free(gpointer data)
{
  SmtpReplyWarning *warning = data;

  g_free(warning->text);
  g_free(warning);
}

/**
 * farceur_smtp_reply_copy:
 * @reply: a reply
 *
 * Returns: (transfer full): a deep copy of @reply
 */
FarceurSmtpReply *
farceur_smtp_reply_copy(const FarceurSmtpReply *reply)
{
  FarceurSmtpReply *copy;

  g_return_val_if_fail(reply != NULL, NULL);

  copy = g_new0(FarceurSmtpReply, 1);
  copy->code = reply->code;
  copy->enhanced = g_strdup(reply->enhanced);
  copy->lines = g_strdupv(reply->lines);
  copy->text = g_strdup(reply->text);
  return copy;
}

/**
 * farceur_smtp_reply_free:
 * @reply: (nullable): a reply
 */
void
farceur_smtp_reply_free(FarceurSmtpReply *reply)
{
  if (reply == NULL)
    return;
  g_free(reply->enhanced);
  g_strfreev(reply->lines);
  g_free(reply->text);
  g_free(reply);
}

/**
 * farceur_smtp_reply_to_string:
 * @reply: a reply
 *
 * The reply as the server sent it, one "250-text" line per line, joined
 * with '\n' (no CRLF, no trailing newline); the last line uses ' '.
 *
 * Returns: (transfer full): the text
 */
char *
farceur_smtp_reply_to_string(const FarceurSmtpReply *reply)
{
  GString *out;

  g_return_val_if_fail(reply != NULL, NULL);

  out = g_string_new(NULL);
  for (guint i = 0; reply->lines[i] != NULL; i++) {
    gboolean last = reply->lines[i + 1] == NULL;

    g_string_append_printf(out, "%s%03u%c%s", i ? "\n" : "", reply->code, last ? ' ' : '-',
                           reply->lines[i]);
  }
  return g_string_free(out, FALSE);
}

/* Length of an RFC 3463 "class.subject.detail" prefix of @text whose class
 * matches @code, or 0.  Subject and detail are 1 to 3 digits. */
static gsize
smtp_reply_enhanced_len(const char *text, guint code)
{
  const char *p = text;

  if (!strchr("245", *p) || *p == '\0' || (guint)(*p - '0') != code / 100 || p[1] != '.')
    return 0;
  p += 2;
  for (int part = 0; part < 2; part++) {
    gsize digits = 0;

    while (g_ascii_isdigit(p[digits]))
      digits++;
    if (digits < 1 || digits > 3)
      return 0;
    p += digits;
    if (part == 0 && *p++ != '.')
      return 0;
  }
  return (*p == ' ' || *p == '\0') ? (gsize)(p - text) : 0;
}

/* Control bytes (NUL, lone CR, escape sequences) would corrupt a transcript
 * or a terminal; replace them, then make the rest valid UTF-8. */
static char *
smtp_reply_sanitize(const char *s, gsize len)
{
  g_autofree char *copy = g_malloc(len + 1);

  for (gsize i = 0; i < len; i++) {
    guchar c = (guchar)s[i];

    copy[i] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
  }
  copy[len] = '\0';
  return g_utf8_make_valid(copy, (gssize)len);
}

static char *
smtp_reply_join_text(char **lines, const char *enhanced)
{
  GString *out = g_string_new(NULL);
  gsize elen = enhanced ? strlen(enhanced) : 0;

  for (guint i = 0; lines[i] != NULL; i++) {
    const char *t = lines[i];

    if (elen && g_str_has_prefix(t, enhanced) && (t[elen] == ' ' || t[elen] == '\0'))
      t += t[elen] == ' ' ? elen + 1 : elen;
    g_string_append_printf(out, "%s%s", i ? "\n" : "", t);
  }
  return g_string_free(out, FALSE);
}

static FarceurSmtpReply *
smtp_reply_build(FarceurSmtpReplyParser *parser)
{
  FarceurSmtpReply *reply = g_new0(FarceurSmtpReply, 1);
  gsize elen;

  g_ptr_array_add(parser->lines, NULL);
  reply->code = parser->code;
  reply->lines = (char **)g_ptr_array_steal(parser->lines, NULL);
  elen = smtp_reply_enhanced_len(reply->lines[0], reply->code);
  reply->enhanced = elen ? g_strndup(reply->lines[0], elen) : NULL;
  reply->text = smtp_reply_join_text(reply->lines, reply->enhanced);
  parser->code = 0;
  return reply;
}

static gboolean
smtp_reply_fail(FarceurSmtpReplyParser *parser, GError **error, const char *why, const char *line,
                gsize len)
{
  g_autofree char *excerpt = smtp_reply_sanitize(line, MIN(len, 40));

  parser->failed = TRUE;
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL, "smtp reply line %u: %s: '%s%s'",
              parser->line_no, why, excerpt, len > 40 ? "..." : "");
  return FALSE;
}

/* A line between replies that cannot start one: skipped, with a warning. */
static gboolean
smtp_reply_skip_line(FarceurSmtpReplyParser *parser, GError **error, const char *why, const char *s,
                     gsize len)
{
  g_autofree char *excerpt = smtp_reply_sanitize(s, MIN(len, 40));
  SmtpReplyWarning *warning;

  if (++parser->junk_run > SMTP_REPLY_MAX_JUNK)
    return smtp_reply_fail(parser, error, "too many lines that are not replies", s, len);
  if (parser->warnings.length >= SMTP_REPLY_MAX_WARNINGS) {
    parser->junk_dropped++;
    return TRUE;
  }
  warning = g_new0(SmtpReplyWarning, 1);
  warning->after = parser->completed;
  warning->text = len == 0 ? g_strdup_printf("reply line %u: blank line, ignored", parser->line_no)
                           : g_strdup_printf("reply line %u: %s, ignored: '%s%s'", parser->line_no,
                                             why, excerpt, len > 40 ? "..." : "");
  g_queue_push_tail(&parser->warnings, warning);
  return TRUE;
}

/* One line without its line end: "ddd", "ddd text" or "ddd-text". */
static gboolean
smtp_reply_take_line(FarceurSmtpReplyParser *parser, const char *s, gsize len, GError **error)
{
  guint code;
  gboolean last;
  const char *bad = NULL;

  parser->line_no++;
  if (len < 3 || !g_ascii_isdigit(s[0]) || !g_ascii_isdigit(s[1]) || !g_ascii_isdigit(s[2])
      || s[0] < '1' || s[0] > '5')
    bad = "no reply code";
  else if (len > 3 && s[3] != ' ' && s[3] != '-')
    bad = "no ' ' or '-' after the code";
  if (bad != NULL && parser->code == 0) /* between replies: safe to skip */
    return smtp_reply_skip_line(parser, error, bad, s, len);
  if (bad != NULL)
    return smtp_reply_fail(parser, error, bad, s, len);
  parser->junk_run = 0;
  code = (guint)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
  if (parser->code != 0 && code != parser->code)
    return smtp_reply_fail(parser, error, "code changes inside a multi-line reply", s, len);
  if (parser->lines->len >= FARCEUR_SMTP_REPLY_MAX_LINES)
    return smtp_reply_fail(parser, error, "more than 512 lines in one reply", s, len);
  last = len == 3 || s[3] == ' '; /* a bare "250" ends a reply too (lenient) */
  parser->code = code;
  g_ptr_array_add(parser->lines, smtp_reply_sanitize(s + MIN(len, 4), len - MIN(len, 4)));
  if (last) {
    g_queue_push_tail(&parser->replies, smtp_reply_build(parser));
    parser->completed++;
  }
  return TRUE;
}

/**
 * farceur_smtp_reply_parser_new:
 *
 * Returns: (transfer full): a parser waiting for a reply's first line
 */
FarceurSmtpReplyParser *
farceur_smtp_reply_parser_new(void)
{
  FarceurSmtpReplyParser *parser = g_new0(FarceurSmtpReplyParser, 1);

  parser->line = g_byte_array_new();
  parser->lines = g_ptr_array_new_with_free_func(g_free);
  g_queue_init(&parser->replies);
  g_queue_init(&parser->warnings);
  return parser;
}

/**
 * farceur_smtp_reply_parser_free:
 * @parser: (nullable): a parser
 */
void
farceur_smtp_reply_parser_free(FarceurSmtpReplyParser *parser)
{
  if (parser == NULL)
    return;
  g_byte_array_unref(parser->line);
  g_ptr_array_unref(parser->lines);
  g_queue_clear_full(&parser->replies, (GDestroyNotify)farceur_smtp_reply_free);
  g_queue_clear_full(&parser->warnings, smtp_reply_warning_free);
  g_free(parser);
}

/**
 * farceur_smtp_reply_parser_reset:
 * @parser: a parser
 *
 * Forget everything buffered and any failure (after STARTTLS, say).
 */
void
farceur_smtp_reply_parser_reset(FarceurSmtpReplyParser *parser)
{
  g_return_if_fail(parser != NULL);

  g_byte_array_set_size(parser->line, 0);
  g_ptr_array_set_size(parser->lines, 0);
  g_queue_clear_full(&parser->replies, (GDestroyNotify)farceur_smtp_reply_free);
  g_queue_init(&parser->replies);
  g_queue_clear_full(&parser->warnings, smtp_reply_warning_free);
  g_queue_init(&parser->warnings);
  parser->code = 0;
  parser->failed = FALSE;
  parser->completed = parser->popped = parser->junk_run = parser->junk_dropped = 0;
}

static gboolean
smtp_reply_end_line(FarceurSmtpReplyParser *parser, GError **error)
{
  GByteArray *line = parser->line;
  gsize len = line->len;
  gboolean ok;

  if (len > 0 && line->data[len - 1] == '\r')
    len--; /* CRLF; a bare LF is tolerated as the line end too */
  ok = smtp_reply_take_line(parser, (const char *)line->data, len, error);
  g_byte_array_set_size(line, 0);
  return ok;
}

/**
 * farceur_smtp_reply_parser_feed:
 * @parser: a parser
 * @data: (array length=len) (nullable): bytes read from the server; %NULL
 *   when @len is 0
 * @len: their number
 * @error: return location for a %FARCEUR_ERROR_PROTOCOL error
 *
 * Consume @data; complete replies become available to
 * farceur_smtp_reply_parser_pop().  Lines end at LF (CRLF or bare LF).
 *
 * Returns: %FALSE when the server broke the reply syntax or a cap
 */
gboolean
farceur_smtp_reply_parser_feed(FarceurSmtpReplyParser *parser, const char *data, gsize len,
                               GError **error)
{
  const char *end;

  g_return_val_if_fail(parser != NULL, FALSE);
  g_return_val_if_fail(data != NULL || len == 0, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  end = data != NULL ? data + len : data; /* no offset on NULL: len is 0 */
  if (parser->failed)
    return smtp_reply_fail(parser, error, "reply stream already broken", "", 0);
  while (data < end) {
    const char *lf = memchr(data, '\n', (gsize)(end - data));
    gsize n = (gsize)((lf ? lf : end) - data);

    if (parser->line->len + n > FARCEUR_SMTP_REPLY_MAX_LINE + 1)
      return smtp_reply_fail(parser, error, "line longer than 4096 octets",
                             (const char *)parser->line->data, parser->line->len);
    g_byte_array_append(parser->line, (const guint8 *)data, (guint)n);
    if (lf == NULL)
      break;
    if (!smtp_reply_end_line(parser, error))
      return FALSE;
    data = lf + 1;
  }
  return TRUE;
}

/**
 * farceur_smtp_reply_parser_pop:
 * @parser: a parser
 *
 * Returns: (transfer full) (nullable): the oldest complete reply, %NULL if none
 */
FarceurSmtpReply *
farceur_smtp_reply_parser_pop(FarceurSmtpReplyParser *parser)
{
  g_return_val_if_fail(parser != NULL, NULL);

  if (g_queue_is_empty(&parser->replies))
    return NULL;
  parser->popped++;
  return g_queue_pop_head(&parser->replies);
}

/**
 * farceur_smtp_reply_parser_pop_warning:
 * @parser: a parser
 *
 * The oldest line skipped between replies, as a warning to log ("reply line
 * 5: blank line, ignored"), once every reply complete before it has been
 * popped: pop warnings before and after each reply to keep the server's
 * order.
 *
 * Returns: (transfer full) (nullable): the warning, %NULL if none is due
 */
char *
farceur_smtp_reply_parser_pop_warning(FarceurSmtpReplyParser *parser)
{
  SmtpReplyWarning *warning;
  char *text;

  g_return_val_if_fail(parser != NULL, NULL);

  warning = g_queue_peek_head(&parser->warnings);
  if (warning == NULL || warning->after > parser->popped) {
    if (warning == NULL && parser->junk_dropped > 0) {
      text = g_strdup_printf("%u more lines that are not replies, ignored", parser->junk_dropped);
      parser->junk_dropped = 0;
      return text;
    }
    return NULL;
  }
  g_queue_pop_head(&parser->warnings);
  text = g_steal_pointer(&warning->text);
  smtp_reply_warning_free(warning);
  return text;
}

/**
 * farceur_smtp_reply_parser_is_empty:
 * @parser: a parser
 *
 * Returns: %TRUE when the parser holds no byte and no reply, and no line
 *   was skipped since the last reply: nothing the server sent is waiting
 *   (the check made after a STARTTLS 220)
 */
gboolean
farceur_smtp_reply_parser_is_empty(const FarceurSmtpReplyParser *parser)
{
  g_return_val_if_fail(parser != NULL, FALSE);

  return parser->line->len == 0 && parser->lines->len == 0 && parser->replies.length == 0
         && parser->junk_run == 0 && !parser->failed;
}

/**
 * farceur_smtp_reply_parse:
 * @data: (array length=len) (nullable): exactly one reply; %NULL when @len
 *   is 0
 * @len: its length
 * @error: return location for a %FARCEUR_ERROR_PROTOCOL error
 *
 * Parse one complete reply, for tests and tools.  Trailing bytes after the
 * reply, or a missing final line end, are errors.
 *
 * Returns: (transfer full) (nullable): the reply
 */
FarceurSmtpReply *
farceur_smtp_reply_parse(const char *data, gsize len, GError **error)
{
  g_autoptr(FarceurSmtpReplyParser) parser = NULL;
  g_autoptr(FarceurSmtpReply) reply = NULL;

  g_return_val_if_fail(data != NULL || len == 0, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  parser = farceur_smtp_reply_parser_new();
  if (!farceur_smtp_reply_parser_feed(parser, data, len, error))
    return NULL;
  reply = farceur_smtp_reply_parser_pop(parser);
  if (reply == NULL || !farceur_smtp_reply_parser_is_empty(parser)) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL, "smtp reply: %s",
                reply ? "bytes after the end of the reply" : "incomplete reply");
    return NULL;
  }
  return g_steal_pointer(&reply);
}
