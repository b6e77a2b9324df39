/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: one mailbox, as a victims file, a witness or a configuration
 * gives it (data/doc/formats.md, Victims files): "addr" or "Name <addr>",
 * parsed by GMime in strict mode and then held to what an SMTP command
 * needs; nothing GMime would drop is dropped silently.  The leaf of the
 * campaign module, with the house wording of a file that cannot be read. */
#include "config.h"

#include <string.h>

#include <farceur/campaign.h>
#include <farceur/error.h>
#include "gmime-autoptr.h"

#include "campaign-private.h"
#include "error-text.h"

static gboolean mailbox_fail(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* A failure that names no place: the caller adds the file and line. */
static gboolean
mailbox_fail(GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start(ap, format);
  message = g_strdup_vprintf(format, ap);
  va_end(ap);
  g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, message);
  return FALSE;
}

void
farceur_victim_free(FarceurVictim *victim)
{
  if (victim == NULL)
    return;
  g_free(victim->name);
  g_free(victim->addr);
  g_hash_table_unref(victim->vars);
  g_free(victim);
}

/**
 * farceur_victim_to_mailbox:
 * @victim: a victim
 *
 * Returns: (transfer full): "Name <addr>" with the name quoted as RFC 5322
 *   needs (not RFC 2047-encoded), or the bare address
 */
char *
farceur_victim_to_mailbox(const FarceurVictim *victim)
{
  g_autoptr(InternetAddress) ia = NULL;

  g_return_val_if_fail(victim != NULL, NULL);
  ia = internet_address_mailbox_new(victim->name, victim->addr);
  return internet_address_to_string(ia, NULL, FALSE);
}

/* ---- one mailbox ---- */

/* Domain labels as RFC 1035 host names have them: 1-63 octets, no leading
 * or trailing '-' (envelope.c has checked the characters and dots). */
static gboolean
victims_check_domain(const char *addr, GError **error)
{
  const char *domain = strrchr(addr, '@') + 1;
  g_auto(GStrv) labels = NULL;

  if (domain[0] == '[')
    return TRUE;
  labels = g_strsplit(domain, ".", -1);
  for (guint i = 0; labels[i]; i++) {
    gsize len = strlen(labels[i]);
    if (len > 63)
      return mailbox_fail(error, "invalid address '%s': domain label longer than 63 octets", addr);
    if (labels[i][0] == '-' || labels[i][len - 1] == '-')
      return mailbox_fail(error, "invalid address '%s': domain label '%s' starts or ends with '-'",
                          addr, labels[i]);
  }
  return TRUE;
}

/* GMime's address parser skips what it cannot use ("a@x; b@y" gives a@x,
 * a trailing "# note" vanishes), so the text itself must be exactly "addr"
 * or "NAME <addr>" around the one mailbox GMime found. */
static gboolean
victims_text_is_mailbox(const char *text, const char *addr)
{
  gsize len = strlen(text);
  const char *lt;
  g_autofree char *inner = NULL;

  if (strcmp(text, addr) == 0)
    return TRUE;
  if (len == 0 || text[len - 1] != '>' || (lt = strrchr(text, '<')) == NULL)
    return FALSE;
  inner = g_strstrip(g_strndup(lt + 1, text + len - 1 - (lt + 1)));
  return strcmp(inner, addr) == 0;
}

static gboolean
victims_fail_form(const char *text, GError **error)
{
  if (text[0] != '\0' && strchr(text, '@') == NULL)
    return mailbox_fail(error, "invalid address '%s': no '@'", text);
  return mailbox_fail(error, "expected one address, 'addr' or 'Name <addr>', got '%s'%s", text,
                      strchr(text, '#') ? " ('#' starts a comment only at the start of a line)"
                                        : "");
}

/* Whether the angle brackets outside quotes pair up, one level deep, with
 * no ',' or ';' between them and no '@' in the name before them.  GMime
 * 3.2.13's strict address parser leaks what it read of a mailbox whose
 * bracket is stray ("c@x.org>"), never closed ("A <c@x.org"), holds a list
 * separator ("A <a,b@x.org>") or follows an address ("a@x b <c@y>"): none
 * is one address, and they are refused here, before GMime sees them
 * (tests/valgrind.supp; found by tests/fuzz/fuzz-lab.c). */
static gboolean
victims_brackets_pair(const char *text)
{
  gboolean quoted = FALSE, open = FALSE;
  const char *lt = strchr(text, '<');

  for (const char *c = text; *c; c++) {
    if (!quoted && !open && *c == '@' && lt != NULL && c < lt)
      return FALSE;
    else if (*c == '\\' && c[1] != '\0')
      c++;
    else if (*c == '"')
      quoted = !quoted;
    else if (!quoted && *c == '<') {
      if (open)
        return FALSE;
      open = TRUE;
    } else if (!quoted && *c == '>') {
      if (!open)
        return FALSE;
      open = FALSE;
    } else if (!quoted && open && (*c == ',' || *c == ';')) {
      return FALSE;
    }
  }
  return !open;
}

static InternetAddress *
victims_parse_strict(const char *text, InternetAddressList **list, GError **error)
{
  g_autoptr(GMimeParserOptions) options = NULL;
  InternetAddress *ia;

  *list = NULL;
  if (!victims_brackets_pair(text)) {
    victims_fail_form(text, error);
    return NULL;
  }
  options = g_mime_parser_options_new();

  g_mime_parser_options_set_address_compliance_mode(options, GMIME_RFC_COMPLIANCE_STRICT);
  g_mime_parser_options_set_rfc2047_compliance_mode(options, GMIME_RFC_COMPLIANCE_STRICT);
  *list = internet_address_list_parse(options, text);
  if (*list == NULL || internet_address_list_length(*list) != 1) {
    victims_fail_form(text, error);
    return NULL;
  }
  ia = internet_address_list_get_address(*list, 0);
  if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) {
    mailbox_fail(error, "'%s' is a group, not an address", text);
    return NULL;
  }
  if (!victims_text_is_mailbox(text,
                               internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)))) {
    victims_fail_form(text, error);
    return NULL;
  }
  return ia;
}

static gboolean
victims_check_name(const char *name, GError **error)
{
  for (const guchar *c = (const guchar *)name; *c; c++)
    if ((*c < 0x20 && *c != '\t') || *c == 0x7f) {
      g_autofree char *shown = g_strescape(name, NULL);
      return mailbox_fail(error, "display name '%s' decodes to control character 0x%02x", shown,
                          *c);
    }
  return TRUE;
}

/* Sets the display name to what a reader of the composed message will see:
 * the composer re-parses "Name <addr>" leniently, which decodes RFC 2047
 * words even inside quotes, so the name is checked after that round trip
 * (a name decoding to CR LF must fail here, with its line, not later). */
gboolean
victims_set_name(FarceurVictim *victim, const char *name, GError **error)
{
  g_autofree char *mailbox = NULL;
  g_autoptr(InternetAddressList) list = NULL;
  const char *seen;

  g_free(victim->name);
  victim->name = name && name[0] ? g_strdup(name) : NULL;
  if (victim->name == NULL)
    return TRUE;
  if (!victims_check_name(victim->name, error))
    return FALSE;
  mailbox = farceur_victim_to_mailbox(victim);
  list = internet_address_list_parse(NULL, mailbox);
  if (list == NULL || internet_address_list_length(list) != 1)
    return mailbox_fail(error, "display name '%s' does not survive quoting", victim->name);
  seen = internet_address_get_name(internet_address_list_get_address(list, 0));
  if (seen && !victims_check_name(seen, error))
    return FALSE;
  g_free(victim->name);
  victim->name = seen && seen[0] ? g_strdup(seen) : NULL;
  return TRUE;
}

/* "addr" or "Name <addr>" with GMime in strict mode, then held to the rules
 * an SMTP command needs. */
FarceurVictim *
victims_parse_mailbox(const char *text, GError **error)
{
  g_autoptr(InternetAddressList) list = NULL;
  g_autoptr(GError) local = NULL;
  InternetAddress *ia = victims_parse_strict(text, &list, error);
  g_autoptr(FarceurVictim) victim = NULL;
  const char *addr;

  if (ia == NULL)
    return NULL;
  addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
  if (!farceur_envelope_check_address(addr, &local)) {
    mailbox_fail(error, "%s", local->message);
    return NULL;
  }
  if (!victims_check_domain(addr, error))
    return NULL;
  victim = g_new0(FarceurVictim, 1);
  victim->addr = g_strdup(addr);
  victim->vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (!victims_set_name(victim, internet_address_get_name(ia), error))
    return NULL;
  return g_steal_pointer(&victim);
}

/**
 * farceur_campaign_parse_mailbox:
 * @text: exactly "addr" or "Name <addr>"
 * @error: return location for a %FARCEUR_ERROR_DATA error that does not
 *   name a place (the caller adds it)
 *
 * The victims-line rules for one mailbox given elsewhere (a witness).
 *
 * Returns: (transfer full): the mailbox as a victim (line 0, no variables)
 */
FarceurVictim *
farceur_campaign_parse_mailbox(const char *text, GError **error)
{
  g_return_val_if_fail(text != NULL, NULL);
  return victims_parse_mailbox(text, error);
}

gboolean
victims_has_control(const char *text)
{
  for (const char *c = text; *c; c++)
    if (((guchar)*c < 0x20 && *c != '\t') || *c == 0x7f)
      return TRUE;
  return FALSE;
}

/* Splits "a@x, \"Doe, J\" <b@y>" at the commas and semicolons outside
 * quotes, comments and angle brackets (and at blanks there too when
 * @blanks).  Hand written: GMime's list parser drops what it cannot read
 * ("a@x; b@y" gives a@x alone), and each piece must be checked whole. */
GPtrArray *
campaign_split_addresses(const char *value, gboolean blanks)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  const char *start = value;
  gboolean quoted = FALSE;
  int depth = 0; /* ( ) comments and < > */

  for (const char *c = value;; c++) {
    gboolean cut = !quoted && depth == 0
                   && (*c == ',' || *c == ';' || (blanks && (*c == ' ' || *c == '\t')));
    if (*c == '\0' || cut) {
      char *piece = g_strstrip(g_strndup(start, c - start));
      if (piece[0] != '\0' || !blanks)
        g_ptr_array_add(out, piece);
      else
        g_free(piece);
      if (*c == '\0')
        return out;
      start = c + 1;
    } else if (*c == '\\' && c[1] != '\0') {
      c++;
    } else if (*c == '"') {
      quoted = !quoted;
    } else if (!quoted && (*c == '(' || *c == '<')) {
      depth++;
    } else if (!quoted && (*c == ')' || *c == '>') && depth > 0) {
      depth--;
    }
  }
}

/**
 * farceur_campaign_read_file:
 * @what: what the file is, for the message ("victims file")
 * @path: the file
 * @text: (out): its contents
 * @length: (out): their length
 * @error: return location for a %FARCEUR_ERROR_NOINPUT error
 *
 * g_file_get_contents() with a message in the house style:
 * "cannot read victims file 'x.txt': no such file".
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_campaign_read_file(const char *what, const char *path, char **text, gsize *length,
                           GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *why = NULL;

  if (g_file_get_contents(path, text, length, &local))
    return TRUE;
  why = farceur_file_error_text(local);
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT, "cannot read %s '%s': %s", what, path,
              why);
  return FALSE;
}
