/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AUTH (RFC 4954), above the I/O core: picking a mechanism the server
 * offers, the exchange of the AUTH state, and the SASL payloads of PLAIN
 * (RFC 4616), LOGIN and CRAM-MD5 (RFC 2195).  GLib does the base64 and the
 * HMAC; only the framing is ours.  The session (smtp-client-session.c)
 * starts it with smtp_auth_begin(); success makes the session ready. */
#include "config.h"

#include <string.h>

#include <farceur/error.h>

#include "smtp-client-private.h"

static const char *const smtp_auth_names[] = { "PLAIN", "LOGIN", "CRAM-MD5" };

/* --- the SASL payloads -------------------------------------------------- */

static char *
smtp_auth_base64(const char *text)
{
  return g_base64_encode((const guchar *)text, strlen(text));
}

/* authzid (empty) NUL authcid NUL password */
static char *
smtp_auth_plain(const char *user, const char *password)
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

static char *
smtp_auth_cram_md5(const char *user, const char *password, const char *challenge_b64,
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
  return smtp_auth_base64(response);
}

/* --- choosing a mechanism ----------------------------------------------- */

static gboolean
smtp_auth_offered(FarceurSmtpClient *self, const char *mech)
{
  const char *list = g_hash_table_lookup(self->conn.extensions, "AUTH");
  g_auto(GStrv) mechs = list ? g_strsplit(list, " ", -1) : NULL;

  for (guint i = 0; mechs != NULL && mechs[i] != NULL; i++)
    if (g_ascii_strcasecmp(mechs[i], mech) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
smtp_auth_pick(FarceurSmtpClient *self, GError **error)
{
  static const SmtpAuthMech preference[] = { SMTP_AUTH_CRAM_MD5, SMTP_AUTH_PLAIN, SMTP_AUTH_LOGIN };

  for (guint i = 0; i < G_N_ELEMENTS(preference); i++) {
    const char *name = smtp_auth_names[preference[i]];

    if (self->mechanism != NULL && strcmp(self->mechanism, name) != 0)
      continue;
    if (smtp_auth_offered(self, name)) {
      self->auth_mech = preference[i];
      return TRUE;
    }
  }
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOPERM,
              "smtp server '%s': no usable AUTH mechanism (wanted %s, offered '%s')",
              self->server_name, self->mechanism ? self->mechanism : "PLAIN, LOGIN or CRAM-MD5",
              (char *)g_hash_table_lookup(self->conn.extensions, "AUTH") ?: "");
  return FALSE;
}

/* --- the exchange ------------------------------------------------------- */

/* The AUTH command; PLAIN sends its payload in it (RFC 4954 4), shown
 * masked in the transcript. */
static char *
smtp_auth_command(FarceurSmtpClient *self, char **shown)
{
  g_autofree char *payload = NULL;

  if (self->auth_mech != SMTP_AUTH_PLAIN)
    return g_strdup_printf("AUTH %s", smtp_auth_names[self->auth_mech]);
  payload = smtp_auth_plain(self->user, self->password);
  *shown = g_strdup("AUTH PLAIN ***");
  self->auth_step = 1;
  return g_strdup_printf("AUTH PLAIN %s", payload);
}

/* The send step of the AUTH state. */
void
smtp_auth_begin(FarceurSmtpClient *self)
{
  GError *error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *shown = NULL;

  /* A password goes to a remote server only over TLS whose certificate was
   * verified (or --insecure, the user's own choice): opportunistic TLS on
   * an unverified certificate protects from a listener, not from the
   * man in the middle who would collect it (data/doc/smtp.md, TLS). */
  gboolean unprotected = !self->conn.tls || (self->conn.tls_unverified && !self->tls_insecure);

  if (unprotected && !self->conn.loopback && !self->allow_plaintext_auth) {
    smtp_io_fail(self, g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_NOPERM,
                                   "smtp server '%s': refusing AUTH over %s to a remote server "
                                   "(--allow-plaintext-auth to allow it)",
                                   self->server_name,
                                   self->conn.tls ? "TLS with an unverified certificate"
                                                  : "an unencrypted connection"));
    return;
  }
  if (!smtp_auth_pick(self, &error)) {
    smtp_io_fail(self, error);
    return;
  }
  smtp_io_set_state(self, SMTP_STATE_AUTH);
  self->auth_step = 0;
  line = smtp_auth_command(self, &shown);
  smtp_io_queue(self, line, shown);
  smtp_io_send(self);
}

/* The answer to a 334 challenge, or NULL with @error. */
static char *
smtp_auth_response(FarceurSmtpClient *self, const FarceurSmtpReply *reply, GError **error)
{
  switch (self->auth_mech) {
    case SMTP_AUTH_PLAIN:
      return smtp_auth_plain(self->user, self->password);
    case SMTP_AUTH_LOGIN:
      if (self->auth_step < 2)
        return smtp_auth_base64(self->auth_step == 0 ? self->user : self->password);
      break;
    case SMTP_AUTH_CRAM_MD5:
      if (self->auth_step == 0)
        return smtp_auth_cram_md5(self->user, self->password, reply->lines[0], error);
      break;
  }
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL,
              "smtp server '%s': AUTH %s: unexpected challenge", self->server_name,
              smtp_auth_names[self->auth_mech]);
  return NULL;
}

static void
smtp_auth_on_reply(FarceurSmtpClient *self, FarceurSmtpReply *reply)
{
  GError *error = NULL;
  g_autofree char *response = NULL;

  if (FARCEUR_SMTP_REPLY_IS_POSITIVE(reply)) {
    self->conn.authenticated = TRUE;
    smtp_io_ready(self);
    return;
  }
  if (reply->code != 334) {
    smtp_io_fail_reply(self, reply->code / 100 == 4 ? FARCEUR_ERROR_TEMPFAIL : FARCEUR_ERROR_NOPERM,
                       "authentication failed", reply);
    return;
  }
  if ((response = smtp_auth_response(self, reply, &error)) == NULL) {
    smtp_io_fail(self, error);
    return;
  }
  self->auth_step++;
  smtp_io_queue(self, response, "***");
  smtp_io_send(self);
}

/* --- the row handed to the core ----------------------------------------- */

static const SmtpHandlerRow smtp_auth_handlers[] = {
  { SMTP_STATE_AUTH, smtp_auth_on_reply },
};

void
smtp_auth_register(FarceurSmtpClient *self)
{
  smtp_io_register(self, smtp_auth_handlers, G_N_ELEMENTS(smtp_auth_handlers));
}
