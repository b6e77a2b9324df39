/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: what every part of the composer shares, and the leaf it stands
 * on: the check of a header value, the escaping of a value shown in an error,
 * the address-field tables, the failure formatter.  Nothing here calls into
 * another compose file.
 */
#include "config.h"

#include <farceur/error.h>

#include "compose-private.h"

gboolean
compose_fail(GError **error, const FarceurTemplate *tmpl, guint line, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start(args, format);
  what = g_strdup_vprintf(format, args);
  va_end(args);
  if (tmpl != NULL && line > 0)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "template '%s' line %u: %s", tmpl->file,
                line, what);
  else if (tmpl != NULL)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "template '%s': %s", tmpl->file, what);
  else
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, what);
  return FALSE;
}

/* @text for an error message: UTF-8 kept readable, controls (C0, DEL, C1,
 * U+2028/U+2029) shown as \r, \n, \t, \xNN or \uNNNN, bytes that are not
 * UTF-8 as \xNN.  Hand-written: g_strescape() also escapes every non-ASCII
 * byte (octal), which makes "Zoé" unreadable. */
char *
compose_escape(const char *text)
{
  GString *out = g_string_new(NULL);

  for (const char *p = text; *p;) {
    gunichar c = g_utf8_get_char_validated(p, -1);
    if (c == (gunichar)-1 || c == (gunichar)-2) {
      g_string_append_printf(out, "\\x%02x", (guchar)*p++);
      continue;
    }
    if (c == '\r' || c == '\n' || c == '\t')
      g_string_append(out, c == '\r' ? "\\r" : c == '\n' ? "\\n" : "\\t");
    else if (c < 0x20 || c == 0x7f)
      g_string_append_printf(out, "\\x%02x", c);
    else if ((c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029)
      g_string_append_printf(out, "\\u%04x", c);
    else
      g_string_append_len(out, p, g_utf8_next_char(p) - p);
    p = g_utf8_next_char(p);
  }
  return g_string_free(out, FALSE);
}

/* TRUE for a character that must not appear in a header value: C0 controls
 * but TAB, DEL, C1 controls (U+0080-U+009F: NEL is a line break to some
 * readers) and the Unicode line and paragraph separators. */
static gboolean
compose_is_header_control(gunichar c)
{
  return (c < 0x20 && c != '\t') || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x2028
         || c == 0x2029;
}

/**
 * farceur_compose_check_header_value:
 * @what: what the value is, for the message ("sender address", "header 'Subject'")
 * @value: a value about to go into a header, an address or a MIME parameter
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Refuses what could end a header line or hide in one: text that is not
 * UTF-8, CR, LF, NUL (a caller holding a length can only pass a NUL through
 * the middle of its text, which this cannot see: check the length first),
 * any other C0 control but TAB, DEL, the C1 controls U+0080-U+009F and
 * U+2028/U+2029.  GMime writes some values (ASCII MIME parameters) raw, so
 * this runs before GMime sees them.
 *
 * Returns: %TRUE when @value is safe
 */
gboolean
farceur_compose_check_header_value(const char *what, const char *value, GError **error)
{
  g_autofree char *shown = NULL;

  g_return_val_if_fail(what != NULL, FALSE);
  g_return_val_if_fail(value != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (!g_utf8_validate(value, -1, NULL)) {
    shown = compose_escape(value);
    return compose_fail(error, NULL, 0, "invalid %s '%s': not valid UTF-8", what, shown);
  }
  for (const char *p = value; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (compose_is_header_control(c)) {
      shown = compose_escape(value);
      return compose_fail(error, NULL, 0, "invalid %s '%s': control character %s%0*x", what, shown,
                          c < 0x100 ? "0x" : "U+", c < 0x100 ? 2 : 4, c);
    }
  }
  return TRUE;
}

/* The message's own address fields, in the order they are written. */
static const ComposeAddressField compose_address_table[] = {
  { "From", GMIME_ADDRESS_TYPE_FROM },
  { "Sender", GMIME_ADDRESS_TYPE_SENDER },
  { "Reply-To", GMIME_ADDRESS_TYPE_REPLY_TO },
  { "To", GMIME_ADDRESS_TYPE_TO },
  { "Cc", GMIME_ADDRESS_TYPE_CC },
  { "Bcc", GMIME_ADDRESS_TYPE_BCC },
};

/* Headers holding address lists that are not the message's own address
 * fields: written in UTF-8 and checked like them (RFC 5322 3.6.6, RFC 8098,
 * RFC 3834/draft Mail-Followup-To). */
static const char *const compose_other_address_table[] = {
  "Resent-From",
  "Resent-Sender",
  "Resent-To",
  "Resent-Cc",
  "Resent-Bcc",
  "Disposition-Notification-To",
  "Return-Receipt-To",
  "Mail-Followup-To",
  "Mail-Reply-To",
  "Errors-To",
  NULL,
};

const ComposeAddressField *
compose_address_fields(guint *n_fields)
{
  *n_fields = G_N_ELEMENTS(compose_address_table);
  return compose_address_table;
}

const ComposeAddressField *
compose_address_field_lookup(const char *name)
{
  for (guint k = 0; k < G_N_ELEMENTS(compose_address_table); k++)
    if (g_ascii_strcasecmp(name, compose_address_table[k].name) == 0)
      return &compose_address_table[k];
  return NULL;
}

gboolean
compose_is_address_name(const char *name)
{
  if (compose_address_field_lookup(name) != NULL)
    return TRUE;
  for (guint k = 0; compose_other_address_table[k]; k++)
    if (g_ascii_strcasecmp(name, compose_other_address_table[k]) == 0)
      return TRUE;
  return FALSE;
}

char *
compose_address_name(InternetAddress *address)
{
  const char *name = internet_address_get_name(address);

  if (name == NULL)
    return NULL;
  if (INTERNET_ADDRESS_IS_GROUP(address))
    return g_mime_utils_header_decode_phrase(NULL, name);
  return g_strdup(name);
}
