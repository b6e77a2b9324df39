/* SASL payloads for AUTH PLAIN (RFC 4616), LOGIN and CRAM-MD5 (RFC 2195).
 * GLib does the base64 and the HMAC; only the framing is ours. */
#include "config.h"

#include <string.h>

#include <farceur/error.h>

#include "smtp-client-private.h"

char *
farceur_smtp_auth_base64(const char *text)
{
  return g_base64_encode((const guchar *)text, strlen(text));
}

/* authzid (empty) NUL authcid NUL password */
char *
farceur_smtp_auth_plain(const char *user, const char *password)
{
  gsize ulen = strlen(user), plen = strlen(password);
  g_autofree guchar *raw = g_malloc(ulen + plen + 2);
  char *b64;

  raw[0] = '\0';
  memcpy(raw + 1, user, ulen);
  raw[ulen + 1] = '\0';
  memcpy(raw + ulen + 2, password, plen);
  b64 = g_base64_encode(raw, ulen + plen + 2);
  memset(raw, 0, ulen + plen + 2);
  return b64;
}

char *
farceur_smtp_auth_cram_md5(const char *user, const char *password, const char *challenge_b64,
                           GError **error)
{
  gsize clen = 0;
  g_autofree guchar *challenge = g_base64_decode(challenge_b64, &clen);
  g_autofree char *digest = NULL;
  g_autofree char *response = NULL;

  if (clen == 0) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL,
                "AUTH CRAM-MD5: server sent an empty or invalid challenge");
    return NULL;
  }
  digest = g_compute_hmac_for_data(G_CHECKSUM_MD5, (const guchar *)password, strlen(password),
                                   challenge, clen);
  response = g_strdup_printf("%s %s", user, digest);
  return farceur_smtp_auth_base64(response);
}
