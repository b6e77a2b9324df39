/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: clause parser for one Received: value.
 *
 * Hand-written, like the tokenizer (trace-lexer.c): nothing in GMime or GLib
 * reads Received:.  The value is split at the last top-level ';' into the
 * clauses and the date (the date itself goes to g_mime_utils_header_decode_date).
 * Clauses are keyword + value: from, by, via, with, id, for, and Exim's
 * "tls CIPHER".  Comments attach to the clause they follow: after `from`
 * they carry the TCP-info (rDNS, [IP], helo=, HELO x, a bare IP); anywhere
 * they may say TLS (a cipher, TLSv1.3) or envelope-from.  Whatever does not
 * fit becomes a warning on the hop; parsing goes on with the next token.
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "trace-private.h"

typedef enum {
  TRACE_CLAUSE_NONE,
  TRACE_CLAUSE_FROM,
  TRACE_CLAUSE_BY,
  TRACE_CLAUSE_VIA,
  TRACE_CLAUSE_WITH,
  TRACE_CLAUSE_ID,
  TRACE_CLAUSE_FOR,
  TRACE_CLAUSE_TLS,
} TraceClause;

static const char *const trace_clause_names[]
    = { NULL, "from", "by", "via", "with", "id", "for", "tls" };

typedef struct {
  FarceurHop *hop;
  TraceClause clause; /* the clause being read */
  guint values;       /* value tokens it has taken */
  gboolean commented; /* a comment followed it: multi-word values end there */
  gboolean duplicate; /* seen before: its value is skipped */
  guint seen;         /* bit per clause already read */
  char *from_word;    /* the token after `from`, as written */
  gboolean from_literal;
  char *tcp_helo; /* helo=X or HELO X in the from comment */
  char *tcp_rdns;
  char *tcp_ip;
  gboolean dated;   /* a date was found without ';' */
  guint date_tries; /* bounded: each try reads the rest of the value */
} TraceParse;

static TraceClause
trace_clause_lookup(const char *word)
{
  TraceClause clause;

  /* one compare at most: most atoms are host names, ids, addresses */
  switch (word[0] | 0x20) {
    case 'f':
      clause = (word[1] | 0x20) == 'r' ? TRACE_CLAUSE_FROM : TRACE_CLAUSE_FOR;
      break;
    case 'b':
      clause = TRACE_CLAUSE_BY;
      break;
    case 'v':
      clause = TRACE_CLAUSE_VIA;
      break;
    case 'w':
      clause = TRACE_CLAUSE_WITH;
      break;
    case 'i':
      clause = TRACE_CLAUSE_ID;
      break;
    case 't':
      clause = TRACE_CLAUSE_TLS;
      break;
    default:
      return TRACE_CLAUSE_NONE;
  }
  return trace_word_is(word, trace_clause_names[clause]) ? clause : TRACE_CLAUSE_NONE;
}

static inline char
trace_lower(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
}

/* Whether @at starts with @word (lower case), in any case. */
static gboolean
trace_has_word(const char *at, const char *word)
{
  for (; *word; at++, word++)
    if (trace_lower(*at) != *word)
      return FALSE;
  return TRUE;
}

/* Only hex digits, '.' and ':' can make an IP once brackets, an "IPv6:"
 * prefix and a zone are taken off: anything else is not one, and most
 * words are rejected here without a copy. */
static gboolean
trace_could_be_ip(const char *text)
{
  const char *p = text + (text[0] == '[');

  if (trace_has_word(p, "ipv6:"))
    p += 5;
  for (; *p && *p != '%'; p++)
    if (!g_ascii_isxdigit(*p) && *p != '.' && *p != ':' && *p != ']')
      return FALSE;
  return TRUE;
}

char *
trace_ip_normalize(const char *text)
{
  g_autofree char *copy = NULL;
  char *cut;

  if (!trace_could_be_ip(text))
    return NULL;

  if (text[0] == '[' && text[strlen(text) - 1] == ']')
    copy = g_strndup(text + 1, strlen(text) - 2);
  else
    copy = g_strdup(text);
  if (trace_has_word(copy, "ipv6:"))
    memmove(copy, copy + 5, strlen(copy + 5) + 1);
  if ((cut = strchr(copy, '%')) != NULL)
    *cut = '\0';
  if (*copy != '\0' && copy[strlen(copy) - 1] == '.')
    copy[strlen(copy) - 1] = '\0';
  if (trace_has_word(copy, "::ffff:") && strchr(copy + 7, '.') != NULL
      && g_hostname_is_ip_address(copy + 7))
    return g_strdup(copy + 7);
  if (!g_hostname_is_ip_address(copy))
    return NULL;
  return g_steal_pointer(&copy);
}

/* "tls" or "ssl" at @i as a mark: no letter, digit, '.' or '-' before it; the
 * end, 'v', a digit or one of "_: ),/=" after it. */
static gboolean
trace_tls_mark(const char *text, gsize i)
{
  char before = i > 0 ? text[i - 1] : ' ';
  char next = trace_lower(text[i + 3]);

  return !(g_ascii_isalnum(before) || before == '.' || before == '-')
         && (next == '\0' || next == 'v' || g_ascii_isdigit(next) || strchr("_: ),/=", next));
}

/* "TLSv1.3", "TLS1_2", "(TLS)", "TLS:", "cipher=", "SSLv3", "Transport Security":
 * one pass, no copy. */
gboolean
trace_text_mentions_tls(const char *text)
{
  /* from one candidate letter to the next */
  for (const char *at = strpbrk(text, "cCtTsS"); at; at = strpbrk(at + 1, "cCtTsS")) {
    gsize i = (gsize)(at - text);

    switch (trace_lower(text[i])) {
      case 'c':
        if (trace_has_word(text + i, "cipher"))
          return TRUE;
        break;
      case 't':
        if (trace_has_word(text + i, "transport security")
            || (trace_has_word(text + i, "tls") && trace_tls_mark(text, i)))
          return TRUE;
        break;
      case 's':
        if (trace_has_word(text + i, "ssl") && trace_tls_mark(text, i))
          return TRUE;
        break;
      default:
        break;
    }
  }
  return FALSE;
}

/* RFC 3848 (and RFC 6531's UTF8 forms): an S after SMTP/LMTP, before an
 * optional A, says TLS.  Gmail's SMTPS, webmail HTTPS too. */
FarceurTls
trace_tls_from_protocol(const char *with)
{
  static const char *const yes[] = { "ESMTPS",     "ESMTPSA",   "LMTPS",      "LMTPSA", "UTF8SMTPS",
                                     "UTF8SMTPSA", "UTF8LMTPS", "UTF8LMTPSA", "SMTPS",  "HTTPS" };
  static const char *const no[] = { "SMTP",
                                    "ESMTP",
                                    "ESMTPA",
                                    "LMTP",
                                    "LMTPA",
                                    "UTF8SMTP",
                                    "UTF8SMTPA",
                                    "UTF8LMTP",
                                    "UTF8LMTPA",
                                    "HTTP",
                                    "Microsoft SMTP Server" };

  char first = trace_lower(with[0]);
  gsize len = strlen(with);

  /* only the names with the same first letter and length are compared */
  for (gsize i = 0; i < G_N_ELEMENTS(yes); i++)
    if (trace_lower(yes[i][0]) == first && strlen(yes[i]) == len
        && g_ascii_strcasecmp(with, yes[i]) == 0)
      return FARCEUR_TLS_YES;
  for (gsize i = 0; i < G_N_ELEMENTS(no); i++)
    if (trace_lower(no[i][0]) == first && strlen(no[i]) == len
        && g_ascii_strcasecmp(with, no[i]) == 0)
      return FARCEUR_TLS_NO;
  return FARCEUR_TLS_UNKNOWN;
}

static void
trace_set(char **field, const char *value)
{
  if (*field == NULL)
    *field = g_strdup(value);
}

/* trace_set() of a value already copied: kept, or freed. */
static void
trace_take(char **field, char *value)
{
  if (*field == NULL)
    *field = value;
  else
    g_free(value);
}

static gboolean
trace_is_greeting(const char *word)
{
  return trace_word_is(word, "helo") || trace_word_is(word, "ehlo") || trace_word_is(word, "lhlo");
}

/* One token of a from-comment: (rdns [ip]), ([ip]:port helo=x), (HELO x) (ip), (ip). */
static guint
trace_tcp_info_token(TraceParse *p, const TraceTokens *tokens, guint i)
{
  const TraceToken *t = trace_token_at(tokens, i);
  const TraceToken *next = trace_token_at(tokens, i + 1);
  g_autofree char *ip = NULL;
  const char *at;

  if (t->kind == TRACE_TOKEN_LITERAL) {
    if ((ip = trace_ip_normalize(t->text)) != NULL)
      trace_take(&p->tcp_ip, g_steal_pointer(&ip));
  } else if (t->kind != TRACE_TOKEN_ATOM) {
    return i + 1;
  } else if (trace_has_word(t->text, "helo=") && t->text[5] != '\0') {
    trace_set(&p->tcp_helo, t->text + 5);
  } else if (trace_is_greeting(t->text) && next
             && (next->kind == TRACE_TOKEN_ATOM || next->kind == TRACE_TOKEN_LITERAL)) {
    trace_take(&p->tcp_helo, next->kind == TRACE_TOKEN_LITERAL ? g_strdup_printf("[%s]", next->text)
                                                               : g_strdup(next->text));
    return i + 2;
  } else if ((ip = trace_ip_normalize((at = strchr(t->text, '@')) ? at + 1 : t->text))) {
    trace_take(&p->tcp_ip, g_steal_pointer(&ip));
  } else if (i == 0 && next && next->kind == TRACE_TOKEN_LITERAL) {
    if (!trace_word_is(t->text, "unknown"))
      trace_set(&p->tcp_rdns, t->text);
  }
  return i + 1;
}

static void
trace_tcp_info(TraceParse *p, const TraceTokens *tokens)
{
  for (guint i = 0; i < tokens->len;)
    i = trace_tcp_info_token(p, tokens, i);
}

static void
trace_envelope_from(TraceParse *p, const TraceTokens *tokens)
{
  const TraceToken *key = trace_token_at(tokens, 0);
  const TraceToken *value = trace_token_at(tokens, 1);

  if (key == NULL || value == NULL || key->kind != TRACE_TOKEN_ATOM
      || !trace_has_word(key->text, "envelope-"))
    return;
  if (g_ascii_strcasecmp(key->text, "envelope-from") != 0
      && g_ascii_strcasecmp(key->text, "envelope-sender") != 0)
    return;
  if (value->kind == TRACE_TOKEN_ANGLE || value->kind == TRACE_TOKEN_ATOM)
    trace_set(&p->hop->envelope_from, value->text);
}

static void
trace_comment_tokens(TraceParse *p, const TraceToken *t)
{
  g_auto(TraceTokens) tokens;

  trace_lex(&tokens, t->text, 1, NULL);
  if (p->clause == TRACE_CLAUSE_FROM)
    trace_tcp_info(p, &tokens);
  trace_envelope_from(p, &tokens);
}

static void
trace_comment(TraceParse *p, const TraceToken *t)
{
  /* once said, TLS stays said: no need to look again */
  if (p->hop->tls != FARCEUR_TLS_YES && trace_text_mentions_tls(t->text))
    p->hop->tls = FARCEUR_TLS_YES;
  p->commented = TRUE;
  if (p->clause == TRACE_CLAUSE_FROM
      || trace_has_word(t->text + strspn(t->text, " \t"), "envelope-"))
    trace_comment_tokens(p, t);
}

static void
trace_begin_clause(TraceParse *p, TraceClause clause)
{
  if (p->clause != TRACE_CLAUSE_NONE && p->values == 0)
    trace_warn(p->hop->warnings, "empty '%s' clause", trace_clause_names[p->clause]);
  p->duplicate = (p->seen & (1u << clause)) != 0;
  if (p->duplicate)
    trace_warn(p->hop->warnings, "duplicate '%s' clause", trace_clause_names[clause]);
  p->seen |= 1u << clause;
  p->clause = clause;
  p->values = 0;
  p->commented = FALSE;
  if (clause == TRACE_CLAUSE_TLS)
    p->hop->tls = FARCEUR_TLS_YES;
}

static char **
trace_single_field(TraceParse *p)
{
  switch (p->clause) {
    case TRACE_CLAUSE_BY:
      return &p->hop->by;
    case TRACE_CLAUSE_ID:
      return &p->hop->id;
    case TRACE_CLAUSE_FOR:
      return &p->hop->for_addr;
    default:
      return NULL;
  }
}

static void
trace_append_word(char **field, const char *word)
{
  char *joined = *field ? g_strconcat(*field, " ", word, NULL) : g_strdup(word);

  g_free(*field);
  *field = joined;
}

/* "for <a>, <b>" (the first is kept) and "for multiple recipients" (none is). */
static gboolean
trace_more_for(TraceParse *p, const TraceToken *t)
{
  if (p->clause != TRACE_CLAUSE_FOR)
    return FALSE;
  if (t->kind == TRACE_TOKEN_ATOM && trace_word_is(t->text, "recipients")
      && g_strcmp0(p->hop->for_addr, "multiple") == 0) {
    g_clear_pointer(&p->hop->for_addr, g_free);
    return TRUE;
  }
  return t->kind == TRACE_TOKEN_ANGLE || (t->kind == TRACE_TOKEN_ATOM && strcmp(t->text, ",") == 0);
}

/* OpenSMTPD after its id: "auth=yes user=NAME" */
static gboolean
trace_known_extra(TraceParse *p, const TraceToken *t)
{
  return t->kind == TRACE_TOKEN_ATOM && p->values > 0
         && (trace_has_word(t->text, "auth=") || trace_has_word(t->text, "user="));
}

/* A value token for the current clause; FALSE if the clause takes no more. */
static gboolean
trace_value(TraceParse *p, const TraceToken *t)
{
  char **field;

  if (p->duplicate) {
    p->values++;
    return TRUE;
  }
  if (p->clause == TRACE_CLAUSE_WITH || p->clause == TRACE_CLAUSE_VIA) {
    if (p->commented || t->kind != TRACE_TOKEN_ATOM)
      return FALSE;
    trace_append_word(p->clause == TRACE_CLAUSE_WITH ? &p->hop->with : &p->hop->via, t->text);
  } else if (p->values > 0) {
    return trace_more_for(p, t);
  } else if (p->clause == TRACE_CLAUSE_FROM) {
    trace_set(&p->from_word, t->text);
    p->from_literal = t->kind == TRACE_TOKEN_LITERAL;
  } else if (p->clause == TRACE_CLAUSE_TLS) {
    /* the cipher: nothing to keep beyond tls = true */
  } else if ((field = trace_single_field(p)) != NULL && *field == NULL) {
    *field = t->kind == TRACE_TOKEN_LITERAL ? g_strdup_printf("[%s]", t->text) : g_strdup(t->text);
  }
  p->values++;
  return TRUE;
}

/* fetchmail: "from pop.example.net [192.0.2.1] by ..." */
static gboolean
trace_from_literal(TraceParse *p, const TraceToken *t)
{
  g_autofree char *ip = NULL;

  if (p->clause != TRACE_CLAUSE_FROM || p->values == 0 || t->kind != TRACE_TOKEN_LITERAL)
    return FALSE;
  if ((ip = trace_ip_normalize(t->text)) != NULL)
    trace_take(&p->tcp_ip, g_steal_pointer(&ip));
  return TRUE;
}

/* "[Day, ]DD Mon ...": GMime's date parser accepts nearly anything, so a
 * date without ';' is only tried where one plainly starts. */
static gboolean
trace_looks_like_date(const char *s)
{
  static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";

  if (g_ascii_isalpha(s[0]) && g_ascii_isalpha(s[1]) && g_ascii_isalpha(s[2]) && s[3] == ',')
    s += 4;
  while (*s == ' ')
    s++;
  if (!g_ascii_isdigit(*s++))
    return FALSE;
  if (g_ascii_isdigit(*s))
    s++;
  if (*s++ != ' ' || !s[0] || !s[1] || !s[2])
    return FALSE;
  for (gsize m = 0; m < 12; m++)
    if (g_ascii_strncasecmp(s, months + 3 * m, 3) == 0)
      return TRUE;
  return FALSE;
}

/* ---- dates ----------------------------------------------------------------- */

/* Reads @n digits at *@p; -1 if they are not all digits. */
static int
trace_date_digits(const char **p, int n)
{
  int value = 0;

  for (int i = 0; i < n; i++, (*p)++) {
    if (!g_ascii_isdigit(**p))
      return -1;
    value = value * 10 + (**p - '0');
  }
  return value;
}

/* The place of three letters (any case) in @names, from 1; 0 if absent. */
static int
trace_date_name(const char *p, const char *names)
{
  char a, b, c;

  if (!g_ascii_isalpha(p[0]) || !g_ascii_isalpha(p[1]) || !g_ascii_isalpha(p[2]))
    return 0;
  a = (char)(p[0] | 0x20);
  b = (char)(p[1] | 0x20);
  c = (char)(p[2] | 0x20);
  for (const char *n = names; *n; n += 3)
    if (n[0] == a && n[1] == b && n[2] == c)
      return (int)(n - names) / 3 + 1;
  return 0;
}

static int
trace_date_month(const char *p)
{
  return trace_date_name(p, "janfebmaraprmayjunjulaugsepoctnovdec");
}

static gboolean
trace_date_weekday(const char *p)
{
  return trace_date_name(p, "montuewedthufrisatsun") != 0;
}

/* After the zone: blanks, then at most one comment ("(PDT)"), then blanks. */
static gboolean
trace_date_tail_ok(const char *p)
{
  while (*p == ' ')
    p++;
  if (*p == '(') {
    const char *close = strchr(p, ')');

    if (close == NULL || memchr(p + 1, '(', close - p - 1) != NULL)
      return FALSE;
    p = close + 1;
    while (*p == ' ')
      p++;
  }
  return *p == '\0';
}

/* Days from 1970-01-01 to a valid date (GDate's Julian day, the
 * proleptic Gregorian calendar as GDateTime's: day 1 is 0001-01-01). */
static gint64
trace_date_days(int year, int month, int day)
{
  GDate date;

  g_date_clear(&date, 1);
  g_date_set_dmy(&date, (GDateDay)day, (GDateMonth)month, (GDateYear)year);
  return (gint64)g_date_get_julian(&date) - 719163;
}

/* The strict RFC 5322 date-time: "[Day, ]D Mon YYYY HH:MM[:SS] +HHMM", a
 * four-digit year from 1969, seconds below 60, the zone within a day; a
 * zone comment may follow.  %NULL for anything else. */
GDateTime *
trace_date_strict(const char *text)
{
  const char *p = text;
  int day, month, year, hour, minute, second = 0, zh, zm, sign;

  if (g_ascii_isalpha(p[0])) {
    if (!trace_date_weekday(p) || p[3] != ',')
      return NULL;
    p += 4;
    while (*p == ' ')
      p++;
  }
  if ((day = trace_date_digits(&p, 1)) < 0)
    return NULL;
  if (g_ascii_isdigit(*p))
    day = day * 10 + (*p++ - '0');
  if (*p++ != ' ' || (month = trace_date_month(p)) == 0 || p[3] != ' ')
    return NULL;
  p += 4;
  if ((year = trace_date_digits(&p, 4)) < 1969 || *p++ != ' ') /* GMime refuses years before */
    return NULL;
  if ((hour = trace_date_digits(&p, 2)) < 0 || *p++ != ':'
      || (minute = trace_date_digits(&p, 2)) < 0)
    return NULL;
  if (*p == ':' && (p++, second = trace_date_digits(&p, 2)) < 0)
    return NULL;
  if (*p++ != ' ' || (*p != '+' && *p != '-'))
    return NULL;
  sign = *p++ == '-' ? -1 : 1;
  if ((zh = trace_date_digits(&p, 2)) < 0 || (zm = trace_date_digits(&p, 2)) < 0)
    return NULL;
  if (hour > 23 || minute > 59 || second > 59 || zh > 23 || zm > 59 || !trace_date_tail_ok(p)
      || !g_date_valid_dmy((GDateDay)day, (GDateMonth)month, (GDateYear)year))
    return NULL;
  /* one GDateTime from the instant, rather than one at the zone's time and
   * another moved to UTC (%NULL past year 9999 either way) */
  return g_date_time_new_from_unix_utc(trace_date_days(year, month, day) * 86400 + hour * 3600
                                       + minute * 60 + second - sign * (zh * 3600 + zm * 60));
}

/**
 * trace_date_parse:
 * @text: a date, as written after a Received: value's ';' or in Date:
 *
 * What g_mime_utils_header_decode_date() reads.  The strict RFC
 * 5322 form, which nearly every server writes, is read here first: GMime's
 * reader takes about 6,000 instructions and six allocations a date, a fifth
 * of trace's time over a corpus (the profile in tools/bench/trace); every
 * other form goes to GMime, and tests/trace/test-trace.c checks that both
 * agree on the strict form.
 *
 * Returns: (transfer full) (nullable): the date, or %NULL
 */
GDateTime *
trace_date_parse(const char *text)
{
  GDateTime *date = trace_date_strict(text);

  return date ? date : g_mime_utils_header_decode_date(text);
}

/* Some servers forget the ';' before the date: "... id 123 Mon, 23 Nov 2026 ..." */
static gboolean
trace_try_bare_date(TraceParse *p, const char *rest)
{
  g_autoptr(GDateTime) date = NULL;

  if (!trace_looks_like_date(rest) || p->date_tries++ >= 4)
    return FALSE;
  if ((date = g_mime_utils_header_decode_date(rest)) == NULL)
    return FALSE;
  /* the strict reader's dates are in UTC already */
  p->hop->date
      = g_date_time_get_utc_offset(date) == 0 ? g_date_time_ref(date) : g_date_time_to_utc(date);
  trace_warn(p->hop->warnings, "date without ';' before it");
  p->dated = TRUE;
  return TRUE;
}

static void
trace_unexpected(TraceParse *p, const TraceToken *t)
{
  const char *what = t->kind == TRACE_TOKEN_SEMI ? ";" : t->text;
  g_autofree char *shown = g_utf8_make_valid(what, MIN(strlen(what), 64));

  if (p->clause == TRACE_CLAUSE_NONE)
    trace_warn(p->hop->warnings, "unexpected '%s' before the first clause", shown);
  else
    trace_warn(p->hop->warnings, "unexpected '%s' in the '%s' clause", shown,
               trace_clause_names[p->clause]);
}

static void
trace_clause_token(TraceParse *p, const char *value, const TraceToken *t)
{
  TraceClause keyword = TRACE_CLAUSE_NONE;

  if (t->kind == TRACE_TOKEN_ATOM)
    keyword = trace_clause_lookup(t->text);
  /* A keyword starts a clause; "tls" only when no clause waits for its value
   * (Exim: "with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384"). */
  if (keyword != TRACE_CLAUSE_NONE
      && (keyword != TRACE_CLAUSE_TLS || p->values > 0 || p->clause == TRACE_CLAUSE_NONE)) {
    trace_begin_clause(p, keyword);
  } else if (t->kind == TRACE_TOKEN_COMMENT) {
    trace_comment(p, t);
  } else if (t->kind == TRACE_TOKEN_SEMI || p->clause == TRACE_CLAUSE_NONE) {
    trace_unexpected(p, t);
  } else if (!trace_value(p, t) && !trace_from_literal(p, t) && !trace_known_extra(p, t)
             && !trace_try_bare_date(p, value + t->start)) {
    trace_unexpected(p, t);
  }
}

/* Helo, rDNS and IP from the word after `from` and its comment.  When the
 * comment names the helo (Exim helo=, qmail HELO), the word is the server's
 * view: rDNS, or the IP when written as a literal.  Otherwise the word is the
 * helo, as Postfix, Sendmail, Exchange and most others write it. */
static void
trace_finish_from(TraceParse *p)
{
  FarceurHop *hop = p->hop;
  g_autofree char *word_ip = NULL;

  if (p->from_word)
    word_ip = trace_ip_normalize(p->from_word);
  if (p->tcp_helo) {
    hop->from_helo = g_steal_pointer(&p->tcp_helo);
    if (p->from_word && !word_ip && !trace_word_is(p->from_word, "unknown"))
      trace_take(&hop->from_rdns, g_steal_pointer(&p->from_word));
  } else if (word_ip && !p->from_literal) {
    /* webmail and Yahoo: "from 192.0.2.44 by ..." names the client by IP */
  } else if (p->from_word) {
    hop->from_helo
        = p->from_literal ? g_strdup_printf("[%s]", p->from_word) : g_steal_pointer(&p->from_word);
  }
  trace_take(&hop->from_rdns, g_steal_pointer(&p->tcp_rdns));
  trace_take(&hop->from_ip, g_steal_pointer(&p->tcp_ip));
  trace_take(&hop->from_ip, g_steal_pointer(&word_ip));
}

static void
trace_parse_date(TraceParse *p, const char *value, const TraceTokens *tokens, guint first)
{
  g_autoptr(GDateTime) date = NULL;
  g_autofree char *heap = NULL;
  char small[128];
  char *text;
  gsize start = first > 0 ? trace_token_at(tokens, first - 1)->end : 0;
  gsize end = strlen(value);

  /* Courier writes its id after the date: "; Mon, 23 Nov 2026 ... +0000 id 0000.5F" */
  for (guint i = first; i + 1 < tokens->len; i++) {
    const TraceToken *t = trace_token_at(tokens, i);

    if (t->kind == TRACE_TOKEN_ATOM && trace_word_is(t->text, "id")) {
      trace_set(&p->hop->id, trace_token_at(tokens, i + 1)->text);
      end = t->start;
      break;
    }
  }
  /* a date is short: copied on the stack, without the blanks before it */
  while (start < end && g_ascii_isspace(value[start]))
    start++;
  text = end - start < sizeof small ? small : (heap = g_malloc(end - start + 1));
  memcpy(text, value + start, end - start);
  text[end - start] = '\0';
  g_strchomp(text);
  if (*text == '\0') {
    trace_warn(p->hop->warnings, "empty date after ';'");
    return;
  }
  if ((date = trace_date_parse(text)) == NULL) {
    g_autofree char *shown = g_utf8_make_valid(text, MIN(strlen(text), 64));

    trace_warn(p->hop->warnings, "unreadable date '%s'", shown);
    return;
  }
  /* the strict reader's dates are in UTC already; one found without ';'
   * before this one gives way to it */
  g_clear_pointer(&p->hop->date, g_date_time_unref);
  p->hop->date
      = g_date_time_get_utc_offset(date) == 0 ? g_date_time_ref(date) : g_date_time_to_utc(date);
}

static guint
trace_last_semi(const TraceTokens *tokens)
{
  for (guint i = tokens->len; i > 0; i--)
    if (trace_token_at(tokens, i - 1)->kind == TRACE_TOKEN_SEMI)
      return i - 1;
  return tokens->len;
}

/* Whether @len bytes of @text are all ASCII: the common case, where UTF-8
 * needs no check. */
gboolean
trace_is_ascii(const char *text, gsize len)
{
  guint64 any = 0;
  gsize i = 0;

  for (; i + 8 <= len; i += 8) { /* eight bytes at a time */
    guint64 word;

    memcpy(&word, text + i, 8);
    any |= word;
  }
  for (; i < len; i++)
    any |= (guchar)text[i];
  return (any & G_GUINT64_CONSTANT(0x8080808080808080)) == 0;
}

/* The @len bytes of @value (the value cut at FARCEUR_TRACE_MAX_VALUE),
 * valid UTF-8, without CR and LF, tabs as spaces, stripped: one copy (valid
 * input is the rule), without the blanks before it (after the colon). */
static char *
trace_unfold(const char *value, gsize len)
{
  char *out;

  /* all of them are blanks g_strstrip() would take off, CR and LF too */
  for (; len > 0 && g_ascii_isspace(*value); len--)
    value++;
  out = trace_is_ascii(value, len) || g_utf8_validate_len(value, len, NULL)
            ? g_strndup(value, len)
            : g_utf8_make_valid(value, (gssize)len);
  const char *end = out + strlen(out);
  const char *r = out;
  char *w = out;
  char *c;

  /* the runs between LFs moved whole (a value has a few folds), then the
   * CRs (of CRLF) dropped the same way, tabs made spaces */
  for (const char *nl; (nl = memchr(r, '\n', (gsize)(end - r))) != NULL; r = nl + 1) {
    memmove(w, r, (gsize)(nl - r));
    w += nl - r;
  }
  memmove(w, r, (gsize)(end - r));
  w += end - r;
  *w = '\0';
  if ((c = memchr(out, '\r', (gsize)(w - out))) != NULL) {
    for (r = c; *r; r++)
      if (*r != '\r')
        *c++ = *r;
    *c = '\0';
  }
  for (c = strchr(out, '\t'); c; c = strchr(c + 1, '\t'))
    *c = ' ';
  return g_strchomp(out);
}

static void
trace_parse_free(TraceParse *p)
{
  g_free(p->from_word);
  g_free(p->tcp_helo);
  g_free(p->tcp_rdns);
  g_free(p->tcp_ip);
}

/* farceur_hop_parse() once its argument is checked. */
static FarceurHop *
trace_hop_parse(const char *value)
{
  FarceurHop *hop = g_new0(FarceurHop, 1);
  TraceParse p = { hop };
  g_auto(TraceTokens) tokens;
  guint semi;
  gsize len;

  hop->tls = FARCEUR_TLS_UNKNOWN;
  hop->warnings = g_ptr_array_new_with_free_func(g_free);
  len = strnlen(value, FARCEUR_TRACE_MAX_VALUE + 1);
  hop->raw = trace_unfold(value, MIN(len, FARCEUR_TRACE_MAX_VALUE));
  if (len > FARCEUR_TRACE_MAX_VALUE)
    trace_warn(hop->warnings, "value cut at %d bytes", FARCEUR_TRACE_MAX_VALUE);
  trace_lex_value(&tokens, hop->raw, hop->warnings);
  semi = trace_last_semi(&tokens);
  for (guint i = 0; i < semi && !p.dated; i++)
    trace_clause_token(&p, hop->raw, trace_token_at(&tokens, i));
  if (p.clause != TRACE_CLAUSE_NONE && p.values == 0)
    trace_warn(hop->warnings, "empty '%s' clause", trace_clause_names[p.clause]);
  trace_finish_from(&p);
  if (hop->with && hop->tls != FARCEUR_TLS_YES)
    hop->tls = trace_tls_from_protocol(hop->with);
  if (semi < tokens.len)
    trace_parse_date(&p, hop->raw, &tokens, semi + 1);
  trace_parse_free(&p);
  return hop;
}

/**
 * farceur_hop_parse:
 * @value: a Received: header value, folded or not
 *
 * Reads the clauses and the date of one Received: value.  Never fails: what
 * cannot be read is a warning in the hop's @warnings.  Values longer than
 * %FARCEUR_TRACE_MAX_VALUE bytes are cut (with a warning).
 *
 * Returns: (transfer full): the hop, without delay or anomalies
 */
FarceurHop *
farceur_hop_parse(const char *value)
{
  g_return_val_if_fail(value != NULL, NULL);

  return trace_hop_parse(value);
}
