/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: the command parser, a pure function over the octets of
 * one command line (its CRLF removed); a libFuzzer target
 * (tests/fuzz/fuzz-catch.c).
 *
 * Hand written: nothing in GLib or GMime reads SMTP commands.  It knows
 * RFC 5321's verbs and the syntax of MAIL and RCPT (paths, a source route
 * to drop, the SIZE, BODY and SMTPUTF8 parameters of RFC 1870, 6152 and
 * 6531); what a command means is the protocol files' business.  The
 * addresses themselves are checked by envelope.c, the one home of that
 * rule.  Leniency: spaces between "FROM:" and "<" are accepted, as Postfix
 * does.
 */
#include "config.h"

#include <string.h>

#include <farceur/envelope.h>

#include "catch-private.h"

static const char *const catch_verb_names[CATCH_N_VERBS] = {
  [CATCH_VERB_HELO] = "HELO", [CATCH_VERB_EHLO] = "EHLO",         [CATCH_VERB_LHLO] = "LHLO",
  [CATCH_VERB_MAIL] = "MAIL", [CATCH_VERB_RCPT] = "RCPT",         [CATCH_VERB_DATA] = "DATA",
  [CATCH_VERB_RSET] = "RSET", [CATCH_VERB_NOOP] = "NOOP",         [CATCH_VERB_QUIT] = "QUIT",
  [CATCH_VERB_VRFY] = "VRFY", [CATCH_VERB_EXPN] = "EXPN",         [CATCH_VERB_HELP] = "HELP",
  [CATCH_VERB_AUTH] = "AUTH", [CATCH_VERB_STARTTLS] = "STARTTLS",
};

/* What no SMTP client sends: an HTTP request, or a header field where a
 * command belongs (content taken for commands: Postfix's
 * smtpd_forbidden_commands). */
static const char *const catch_forbidden[] = { "GET", "POST", "PUT", "HEAD", "CONNECT" };

static void
catch_command_fail(CatchCommand *out, guint code, const char *enhanced, const char *text)
{
  out->code = code;
  out->enhanced = enhanced;
  g_free(out->error);
  out->error = g_strdup(text);
}

static CatchVerb
catch_command_verb(const char *word)
{
  for (guint v = 1; v < CATCH_N_VERBS; v++)
    if (catch_verb_names[v] != NULL && g_ascii_strcasecmp(word, catch_verb_names[v]) == 0)
      return (CatchVerb)v;
  for (gsize i = 0; i < G_N_ELEMENTS(catch_forbidden); i++)
    if (g_ascii_strcasecmp(word, catch_forbidden[i]) == 0)
      return CATCH_VERB_FORBIDDEN;
  if (word[0] != '\0' && word[strlen(word) - 1] == ':')
    return CATCH_VERB_FORBIDDEN;
  return CATCH_VERB_UNKNOWN;
}

/* "<@a,@b:user@d>" -> "user@d" (RFC 5321 4.1.1.3: a source route is
 * accepted and ignored); *end is past the closing '>'.  NULL when there
 * are no angle brackets or the path is too long. */
static char *
catch_command_path(const char *text, const char **end)
{
  const char *close, *start;

  if (text[0] != '<' || (close = strchr(text, '>')) == NULL || close - text - 1 > CATCH_PATH_MAX)
    return NULL;
  start = text + 1;
  if (start[0] == '@') {
    const char *colon = memchr(start, ':', close - start);
    if (colon == NULL)
      return NULL;
    start = colon + 1;
  }
  *end = close + 1;
  return g_strndup(start, close - start);
}

static gboolean
catch_command_size(const char *value, guint64 *size)
{
  guint64 n = 0;

  if (value == NULL || value[0] == '\0' || strlen(value) > 20)
    return FALSE;
  for (const char *p = value; *p; p++) {
    if (!g_ascii_isdigit(*p) || n > (G_MAXUINT64 - 9) / 10)
      return FALSE;
    n = n * 10 + (guint64)(*p - '0');
  }
  *size = n;
  return TRUE;
}

/* One "KEYWORD[=VALUE]" of MAIL; RCPT takes none (no DSN offered). */
static gboolean
catch_command_param(CatchCommand *out, const char *param)
{
  const char *eq = strchr(param, '=');
  g_autofree char *key = eq ? g_strndup(param, eq - param) : g_strdup(param);
  const char *value = eq ? eq + 1 : NULL;

  if (out->verb == CATCH_VERB_MAIL && g_ascii_strcasecmp(key, "SIZE") == 0 && !out->size_given
      && catch_command_size(value, &out->size)) {
    out->size_given = TRUE;
    return TRUE;
  }
  if (out->verb == CATCH_VERB_MAIL && g_ascii_strcasecmp(key, "BODY") == 0 && value != NULL
      && out->body == CATCH_BODY_NONE) {
    if (g_ascii_strcasecmp(value, "7BIT") == 0)
      out->body = CATCH_BODY_7BIT;
    else if (g_ascii_strcasecmp(value, "8BITMIME") == 0)
      out->body = CATCH_BODY_8BITMIME;
    return out->body != CATCH_BODY_NONE;
  }
  if (out->verb == CATCH_VERB_MAIL && g_ascii_strcasecmp(key, "SMTPUTF8") == 0 && value == NULL
      && !out->smtputf8) {
    out->smtputf8 = TRUE;
    return TRUE;
  }
  return FALSE;
}

static void
catch_command_params(CatchCommand *out, const char *rest)
{
  g_auto(GStrv) params = g_strsplit(rest, " ", -1);

  for (guint i = 0; params[i] != NULL; i++) {
    g_autofree char *text = NULL;

    if (params[i][0] == '\0')
      continue;
    if (catch_command_param(out, params[i]))
      continue;
    text = g_strdup_printf("unsupported or repeated parameter '%.64s'", params[i]);
    catch_command_fail(out, 555, "5.5.4", text);
    return;
  }
}

/* The address rules are envelope.c's; "postmaster" alone is the one
 * address without a domain a server must accept (RFC 5321 4.5.1). */
static gboolean
catch_command_address_ok(const CatchCommand *out)
{
  if (out->path[0] == '\0')
    return out->verb == CATCH_VERB_MAIL;
  if (out->verb == CATCH_VERB_RCPT && g_ascii_strcasecmp(out->path, "postmaster") == 0)
    return TRUE;
  return farceur_envelope_check_address(out->path, NULL);
}

/* "FROM:<path> params" or "TO:<path> params". */
static void
catch_command_mail_rcpt(CatchCommand *out, const char *keyword)
{
  const char *arg = out->arg ? out->arg : "";
  const char *rest = NULL;
  gsize klen = strlen(keyword);
  const char *what = out->verb == CATCH_VERB_MAIL ? "sender" : "recipient";
  const char *code = out->verb == CATCH_VERB_MAIL ? "5.1.7" : "5.1.3";
  g_autofree char *text = NULL;

  if (g_ascii_strncasecmp(arg, keyword, klen) != 0) {
    text = g_strdup_printf("syntax: %s %s<address>", out->name, keyword);
    catch_command_fail(out, 501, "5.5.4", text);
    return;
  }
  arg += klen;
  arg += strspn(arg, " ");
  if ((out->path = catch_command_path(arg, &rest)) == NULL || (rest[0] != '\0' && rest[0] != ' ')
      || !g_utf8_validate(out->path, -1, NULL) || !catch_command_address_ok(out)) {
    text = g_strdup_printf("bad %s address syntax", what);
    catch_command_fail(out, 501, code, text);
    return;
  }
  for (const char *p = out->path; *p; p++)
    out->eightbit |= (guchar)*p >= 0x80;
  catch_command_params(out, rest);
}

/* Octets no command holds: NUL and the other controls but tab. */
static gboolean
catch_command_is_clean(const char *line, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (((guchar)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
      return FALSE;
  return g_utf8_validate(line, len, NULL);
}

/**
 * catch_command_parse:
 * @line: a command line without its CRLF
 * @len: its length
 * @out: (out caller-allocates): the command; a syntax error sets @out->code
 *
 * Never fails otherwise; @out is to be cleared with catch_command_clear().
 */
void
catch_command_parse(const char *line, gsize len, CatchCommand *out)
{
  const char *space;
  gsize word_len;

  memset(out, 0, sizeof *out);
  if (!catch_command_is_clean(line, len)) {
    out->name = g_strdup("?");
    catch_command_fail(out, 500, "5.5.2", "control character or invalid UTF-8 in command");
    return;
  }
  space = memchr(line, ' ', len);
  word_len = space ? (gsize)(space - line) : len;
  out->name = g_ascii_strup(line, (gssize)MIN(word_len, 32));
  out->verb = word_len > 32 ? CATCH_VERB_UNKNOWN : catch_command_verb(out->name);
  if (space != NULL)
    out->arg = g_strndup(space + 1, len - word_len - 1);
  if (out->verb == CATCH_VERB_UNKNOWN)
    catch_command_fail(out, 500, "5.5.2", "command not recognized");
  else if (out->verb == CATCH_VERB_MAIL)
    catch_command_mail_rcpt(out, "FROM:");
  else if (out->verb == CATCH_VERB_RCPT)
    catch_command_mail_rcpt(out, "TO:");
}

void
catch_command_clear(CatchCommand *command)
{
  g_clear_pointer(&command->name, g_free);
  g_clear_pointer(&command->arg, g_free);
  g_clear_pointer(&command->path, g_free);
  g_clear_pointer(&command->error, g_free);
  memset(command, 0, sizeof *command);
}

/**
 * catch_command_must_end_group:
 * @verb: a command
 *
 * RFC 2920 3.1: EHLO, DATA, VRFY, EXPN, TURN, QUIT and NOOP may only end a
 * pipelined group, and so may AUTH (RFC 4954 4) and STARTTLS (RFC 3207 4.2);
 * HELO and LHLO as EHLO.  QUIT is left out: nothing follows it anyway.
 *
 * Returns: %TRUE when input already waiting after @verb breaks the rules
 */
gboolean
catch_command_must_end_group(CatchVerb verb)
{
  switch (verb) {
    case CATCH_VERB_HELO:
    case CATCH_VERB_EHLO:
    case CATCH_VERB_LHLO:
    case CATCH_VERB_DATA:
    case CATCH_VERB_VRFY:
    case CATCH_VERB_EXPN:
    case CATCH_VERB_NOOP:
    case CATCH_VERB_AUTH:
    case CATCH_VERB_STARTTLS:
      return TRUE;
    default:
      return FALSE;
  }
}

/**
 * catch_command_helo_is_valid:
 * @name: the argument of EHLO, HELO or LHLO
 *
 * A domain (letters, digits, '-', '.', '_', or UTF-8 for international
 * names) or an address literal "[...]" (printable, no space or bracket
 * inside), at most 255 octets: nothing that could change the meaning of
 * the Received: field it goes into.
 *
 * Returns: %TRUE when @name may be used
 */
gboolean
catch_command_helo_is_valid(const char *name)
{
  gsize len = name ? strlen(name) : 0;

  if (len == 0 || len > 255 || !g_utf8_validate(name, -1, NULL))
    return FALSE;
  if (name[0] == '[') {
    if (len < 3 || name[len - 1] != ']')
      return FALSE;
    for (gsize i = 1; i + 1 < len; i++)
      if (!g_ascii_isgraph(name[i]) || name[i] == '[' || name[i] == ']' || name[i] == '\\')
        return FALSE;
    return TRUE;
  }
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != '_' && (guchar)*p < 0x80)
      return FALSE;
  return TRUE;
}
