/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <farceur/envelope.h>
#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/init.h>

#define ENVELOPE_MAX_PATH 256   /* RFC 5321 4.5.3.1.3, brackets included */
#define ENVELOPE_MAX_LOCAL 64   /* RFC 5321 4.5.3.1.1 */
#define ENVELOPE_MAX_DOMAIN 255 /* RFC 5321 4.5.3.1.2 */

/* The header fields that never leave with a message (data/doc/envelope.md,
 * What never leaves): the blind copies, and the envelope a delivery
 * recorded (the return path, and the recipients: Envelope-to lists a Bcc
 * witness a stored copy must not reveal to the others). */
static const char *const envelope_withheld[] = {
  "Bcc", "Resent-Bcc", "Return-Path", "Envelope-to", "Delivered-To", "X-Original-To",
};

/**
 * farceur_envelope_new:
 * @mail_from: (nullable): the reverse path without angle brackets; %NULL
 *   is "", the null reverse path
 *
 * Returns: (transfer full): a new envelope with no recipient
 */
FarceurEnvelope *
farceur_envelope_new(const char *mail_from)
{
  FarceurEnvelope *envelope = g_new0(FarceurEnvelope, 1);

  envelope->mail_from = g_strdup(mail_from ? mail_from : "");
  envelope->rcpt_to = g_ptr_array_new_with_free_func(g_free);
  return envelope;
}

/**
 * farceur_envelope_copy:
 * @envelope: an envelope
 *
 * Returns: (transfer full): a deep copy of @envelope
 */
FarceurEnvelope *
farceur_envelope_copy(const FarceurEnvelope *envelope)
{
  FarceurEnvelope *copy;

  g_return_val_if_fail(envelope != NULL, NULL);

  copy = farceur_envelope_new(envelope->mail_from);
  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    g_ptr_array_add(copy->rcpt_to, g_strdup(envelope->rcpt_to->pdata[i]));
  return copy;
}

/**
 * farceur_envelope_free:
 * @envelope: (nullable): an envelope
 */
void
farceur_envelope_free(FarceurEnvelope *envelope)
{
  if (envelope == NULL)
    return;
  g_free(envelope->mail_from);
  g_ptr_array_unref(envelope->rcpt_to);
  g_free(envelope);
}

/**
 * farceur_envelope_add_rcpt:
 * @envelope: an envelope
 * @addr: a forward path without angle brackets
 *
 * Adds @addr unless already present (compared case-insensitively, as a
 * server would treat the domain; local parts are compared the same way since
 * sending twice to one mailbox is the worse mistake).
 */
void
farceur_envelope_add_rcpt(FarceurEnvelope *envelope, const char *addr)
{
  g_return_if_fail(envelope != NULL);
  g_return_if_fail(addr != NULL);

  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    if (g_ascii_strcasecmp(envelope->rcpt_to->pdata[i], addr) == 0)
      return;
  g_ptr_array_add(envelope->rcpt_to, g_strdup(addr));
}

static gboolean
envelope_fail(GError **error, const char *addr, const char *why)
{
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "invalid address '%s': %s", addr, why);
  return FALSE;
}

static gboolean
envelope_check_local(const char *addr, const char *at, GError **error)
{
  gboolean quoted = addr[0] == '"';

  if (at == addr)
    return envelope_fail(error, addr, "empty local part");
  if (at - addr > ENVELOPE_MAX_LOCAL)
    return envelope_fail(error, addr, "local part longer than 64 octets");
  for (const char *p = addr; p < at; p++) {
    if (!quoted && (*p == ' ' || strchr("()<>[]:;,\\\"", *p) != NULL))
      return envelope_fail(error, addr, "special character in unquoted local part");
  }
  if (quoted && (at - addr < 2 || at[-1] != '"'))
    return envelope_fail(error, addr, "unterminated quoted local part");
  return TRUE;
}

static gboolean
envelope_check_domain(const char *addr, const char *domain, GError **error)
{
  gsize len = strlen(domain);

  if (len == 0)
    return envelope_fail(error, addr, "empty domain");
  if (len > ENVELOPE_MAX_DOMAIN)
    return envelope_fail(error, addr, "domain longer than 255 octets");
  if (domain[0] == '[')
    return domain[len - 1] == ']' ? TRUE : envelope_fail(error, addr, "unterminated literal");
  for (const char *p = domain; *p; p++) {
    guchar c = (guchar)*p;
    if (!(g_ascii_isalnum(c) || c == '-' || c == '.' || c >= 0x80))
      return envelope_fail(error, addr, "invalid character in domain");
  }
  if (domain[0] == '.' || domain[len - 1] == '.' || strstr(domain, "..") != NULL)
    return envelope_fail(error, addr, "empty label in domain");
  return TRUE;
}

/**
 * farceur_envelope_check_address:
 * @addr: an address as it will appear between < and > in MAIL or RCPT
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Validates an envelope address independently of GMime's lenient address
 * parser: these bytes go straight into an SMTP command, so anything that
 * could end the command (CR, LF, NUL), nest a path (<, >) or hide in a
 * terminal (control characters) is refused.  Non-ASCII is allowed (it needs
 * SMTPUTF8, which the transport checks).  "" is the null reverse path.
 */
gboolean
farceur_envelope_check_address(const char *addr, GError **error)
{
  const char *at;

  g_return_val_if_fail(addr != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (addr[0] == '\0')
    return TRUE;
  if (strlen(addr) > ENVELOPE_MAX_PATH - 2)
    return envelope_fail(error, addr, "longer than 254 octets");
  for (const char *p = addr; *p; p++) {
    guchar c = (guchar)*p;
    if (c < 0x20 || c == 0x7f)
      return envelope_fail(error, addr, "control character");
    if (c == '<' || c == '>')
      return envelope_fail(error, addr, "angle bracket");
  }
  if (!g_utf8_validate(addr, -1, NULL))
    return envelope_fail(error, addr, "not valid UTF-8");
  at = strrchr(addr, '@');
  if (at == NULL)
    return envelope_fail(error, addr, "no '@'");
  return envelope_check_local(addr, at, error) && envelope_check_domain(addr, at + 1, error);
}

static gboolean
envelope_no_rcpt(GError **error, const char *where)
{
  if (where != NULL)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "message has no recipient in %s", where);
  else
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "envelope has no recipient");
  return FALSE;
}

/* farceur_envelope_validate(), naming @where the recipients come from
 * ("To, Cc or Bcc") when there is none. */
static gboolean
envelope_validate(const FarceurEnvelope *envelope, const char *where, GError **error)
{
  if (!farceur_envelope_check_address(envelope->mail_from, error))
    return FALSE;
  if (envelope->rcpt_to->len == 0)
    return envelope_no_rcpt(error, where);
  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    if (!farceur_envelope_check_address(envelope->rcpt_to->pdata[i], error))
      return FALSE;
  return TRUE;
}

/**
 * farceur_envelope_validate:
 * @envelope: an envelope about to be used for MAIL FROM and RCPT TO
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * The one envelope check every transport runs: MAIL FROM (which may be
 * "", the null reverse path) and every recipient pass
 * farceur_envelope_check_address(), and there is at least one recipient.
 *
 * Returns: %TRUE when @envelope may be sent
 */
gboolean
farceur_envelope_validate(const FarceurEnvelope *envelope, GError **error)
{
  g_return_val_if_fail(envelope != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  return envelope_validate(envelope, NULL, error);
}

/**
 * farceur_envelope_field_is_withheld:
 * @name: a header field name, in any case
 *
 * Returns: %TRUE for a field that never leaves with the message (Bcc,
 *   Resent-Bcc, Return-Path, Envelope-to, Delivered-To, X-Original-To):
 *   every transport removes it
 */
gboolean
farceur_envelope_field_is_withheld(const char *name)
{
  g_return_val_if_fail(name != NULL, FALSE);

  for (gsize i = 0; i < G_N_ELEMENTS(envelope_withheld); i++)
    if (g_ascii_strcasecmp(name, envelope_withheld[i]) == 0)
      return TRUE;
  return FALSE;
}

/**
 * farceur_envelope_strip_withheld:
 * @object: a message (or a MIME part)
 *
 * Removes from @object every header field
 * farceur_envelope_field_is_withheld() names.
 */
void
farceur_envelope_strip_withheld(GMimeObject *object)
{
  g_return_if_fail(GMIME_IS_OBJECT(object));

  for (gsize i = 0; i < G_N_ELEMENTS(envelope_withheld); i++)
    while (g_mime_object_remove_header(object, envelope_withheld[i]))
      ;
}

/* Appends every mailbox of @list, descending into groups. */
static void
envelope_add_list(FarceurEnvelope *envelope, InternetAddressList *list)
{
  int n = list ? internet_address_list_length(list) : 0;

  for (int i = 0; i < n; i++) {
    InternetAddress *ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(ia))
      envelope_add_list(envelope, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)));
    else
      farceur_envelope_add_rcpt(envelope,
                                internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
  }
}

static InternetAddressList *
envelope_parse_header(GMimeObject *object, const char *name)
{
  const char *raw = g_mime_object_get_header(object, name);

  return raw ? internet_address_list_parse(NULL, raw) : NULL;
}

static char *
envelope_first_mailbox(InternetAddressList *list)
{
  int n = list ? internet_address_list_length(list) : 0;

  for (int i = 0; i < n; i++) {
    InternetAddress *ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(ia))
      return g_strdup(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
  }
  return NULL;
}

/* The first (topmost) Resent- block, when there is one, names the envelope
 * of the latest resending (RFC 5322 3.6.6); otherwise the originator and
 * destination fields do. */
static gboolean
envelope_has_resent(GMimeObject *object)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list(object);
  int n = g_mime_header_list_get_count(headers);

  for (int i = 0; i < n; i++) {
    const char *name = g_mime_header_get_name(g_mime_header_list_get_header_at(headers, i));
    if (g_ascii_strncasecmp(name, "Resent-", 7) == 0)
      return TRUE;
  }
  return FALSE;
}

/**
 * farceur_envelope_from_message:
 * @message: a message
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Derives the envelope the way RFC 5321 appendix B describes and
 * sendmail -t does: MAIL FROM is the Sender, else the first From mailbox;
 * the recipients are To + Cc + Bcc, duplicates removed.  When the message
 * carries Resent- fields the first Resent- block is used instead.
 *
 * Returns: (transfer full) (nullable): the envelope, or %NULL when the message names no
 *   recipient or an address is unusable
 */
FarceurEnvelope *
farceur_envelope_from_message(GMimeMessage *message, GError **error)
{
  static const char *plain[] = { "Sender", "From", "To", "Cc", "Bcc" };
  static const char *resent[]
      = { "Resent-Sender", "Resent-From", "Resent-To", "Resent-Cc", "Resent-Bcc" };
  GMimeObject *object;
  const char **names;
  g_autoptr(InternetAddressList) sender = NULL;
  g_autoptr(InternetAddressList) from = NULL;
  g_autofree char *mail_from = NULL;
  g_autoptr(FarceurEnvelope) envelope = NULL;
  g_autofree char *where = NULL;

  g_return_val_if_fail(GMIME_IS_MESSAGE(message), NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  object = GMIME_OBJECT(message);
  names = envelope_has_resent(object) ? resent : plain;
  sender = envelope_parse_header(object, names[0]);
  from = envelope_parse_header(object, names[1]);
  mail_from = envelope_first_mailbox(sender);
  where = g_strdup_printf("%s, %s or %s", names[2], names[3], names[4]);
  farceur_init();
  if (mail_from == NULL)
    mail_from = envelope_first_mailbox(from);
  envelope = farceur_envelope_new(mail_from);
  for (int i = 2; i < 5; i++) {
    g_autoptr(InternetAddressList) list = envelope_parse_header(object, names[i]);
    envelope_add_list(envelope, list);
  }
  if (!envelope_validate(envelope, where, error))
    return NULL;
  return g_steal_pointer(&envelope);
}

/* The address between the angle brackets of a Return-Path value, "" for
 * "<>"; NULL when the value is not one bracketed path. */
static char *
envelope_return_path(const char *value)
{
  g_autofree char *text = g_strstrip(g_strdup(value));
  gsize len = strlen(text);

  if (len < 2 || text[0] != '<' || text[len - 1] != '>')
    return NULL;
  return g_strndup(text + 1, len - 2);
}

static gboolean
envelope_stored_fail(GError **error, const char *field, const char *value)
{
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
              "stored envelope: %s is not a list of addresses: '%s'", field, value);
  return FALSE;
}

/**
 * farceur_envelope_from_stored:
 * @message: a message as a delivery stored it
 * @envelope: (out) (transfer full) (nullable): the envelope that delivery
 *   recorded, %NULL when the message records none
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * The envelope a local delivery wrote at the top of a stored message
 * (data/doc/envelope.md, The stored envelope): MAIL FROM from the first
 * `Return-Path` ("<addr>", "<>" for the null sender) and the recipients
 * from the first `Envelope-to` (addresses separated by commas, folded).
 * Both fields must be there: a `Return-Path` alone is what any MTA writes,
 * and says nothing of the recipients.  The addresses are split by hand:
 * they are bare paths, not RFC 5322 address lists, and GMime's parser
 * would accept what an SMTP command must not carry; each one is checked
 * with farceur_envelope_check_address().
 *
 * Returns: %FALSE when the fields are there but unusable
 */
gboolean
farceur_envelope_from_stored(GMimeMessage *message, FarceurEnvelope **envelope, GError **error)
{
  const char *return_path, *envelope_to;
  g_autofree char *mail_from = NULL;
  g_autoptr(FarceurEnvelope) out = NULL;
  g_auto(GStrv) rcpts = NULL;

  g_return_val_if_fail(GMIME_IS_MESSAGE(message), FALSE);
  g_return_val_if_fail(envelope != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  *envelope = NULL;
  return_path = g_mime_object_get_header(GMIME_OBJECT(message), "Return-Path");
  envelope_to = g_mime_object_get_header(GMIME_OBJECT(message), "Envelope-to");
  if (return_path == NULL || envelope_to == NULL)
    return TRUE;
  mail_from = envelope_return_path(return_path);
  if (mail_from == NULL)
    return envelope_stored_fail(error, "Return-Path", return_path);
  out = farceur_envelope_new(mail_from);
  rcpts = g_strsplit_set(envelope_to, ",", -1);
  for (guint i = 0; rcpts[i]; i++) {
    char *addr = g_strstrip(g_strdelimit(rcpts[i], "\r\n\t", ' '));
    if (*addr == '\0')
      continue;
    farceur_envelope_add_rcpt(out, addr);
  }
  if (out->rcpt_to->len == 0)
    return envelope_stored_fail(error, "Envelope-to", envelope_to);
  if (!envelope_validate(out, "Envelope-to", error))
    return FALSE;
  *envelope = g_steal_pointer(&out);
  return TRUE;
}
