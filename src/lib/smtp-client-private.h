/* Internals shared by the smtp-client*.c files; never installed. */
#pragma once

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* RFC 5321 4.5.3.1.6: a text line is at most 998 octets plus CRLF. */
#define SMTP_DATA_MAX_LINE 998

/**
 * SmtpData:
 * @content: the message as it goes on the wire: CRLF line ends only,
 *   dot-stuffed, ending in CRLF, without the final ".\r\n"
 * @eightbit: the content holds octets over 127 (needs BODY=8BITMIME)
 * @utf8_header: the header holds octets over 127 (needs SMTPUTF8)
 */
typedef struct {
  GBytes *content;
  gboolean eightbit;
  gboolean utf8_header;
} SmtpData;

gboolean farceur_smtp_data_prepare(GMimeObject *message, gboolean eightbit_ok, SmtpData *data,
                                   GError **error);
gboolean farceur_smtp_data_check_wire(const guint8 *data, gsize len, GError **error);

char *farceur_smtp_auth_plain(const char *user, const char *password);
char *farceur_smtp_auth_cram_md5(const char *user, const char *password, const char *challenge_b64,
                                 GError **error);
char *farceur_smtp_auth_base64(const char *text);

G_END_DECLS
