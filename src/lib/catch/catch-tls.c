/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: the server's certificate.  From files (--tls-cert,
 * --tls-key) through GIO, or made at start: GnuTLS (which glib-networking
 * already uses for the TLS itself) generates a P-256 key and a self-signed
 * certificate in memory for the server's name, localhost, 127.0.0.1 and
 * ::1, valid for 30 days; GIO loads it from PEM.  Nothing is written to
 * disk.  Its SHA-256 fingerprint is what a client checks. */
#include "config.h"

#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <farceur/error.h>

#include "catch-private.h"

#define CATCH_TLS_DAYS 30

static GTlsCertificate *
catch_tls_fail(GError **error, const char *step, int rc)
{
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_INTERNAL,
              "cannot make a self-signed certificate: %s: %s", step, gnutls_strerror(rc));
  return NULL;
}

/* Subject alternative names: this host's name, localhost and the loopback addresses. */
static int
catch_tls_names(gnutls_x509_crt_t crt, const char *hostname)
{
  static const guint8 v4[4] = { 127, 0, 0, 1 };
  static const guint8 v6[16] = { [15] = 1 };
  int rc;

  if ((rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, hostname,
                                                 strlen(hostname), GNUTLS_FSAN_APPEND))
          < 0
      || (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                                    GNUTLS_FSAN_APPEND))
             < 0
      || (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4, sizeof v4,
                                                    GNUTLS_FSAN_APPEND))
             < 0)
    return rc;
  return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v6, sizeof v6,
                                              GNUTLS_FSAN_APPEND);
}

static int
catch_tls_fill(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *hostname)
{
  guint8 serial[16];
  time_t now = time(NULL);
  int rc;

  if ((rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial)) < 0)
    return rc;
  serial[0] &= 0x7f; /* a positive number */
  if ((rc = gnutls_x509_crt_set_version(crt, 3)) < 0
      || (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof serial)) < 0
      || (rc = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0
      || (rc = gnutls_x509_crt_set_expiration_time(crt, now + CATCH_TLS_DAYS * 86400)) < 0
      || (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, hostname,
                                             strlen(hostname)))
             < 0
      || (rc = catch_tls_names(crt, hostname)) < 0
      || (rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0
      || (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0
      || (rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0
      || (rc = gnutls_x509_crt_set_key(crt, key)) < 0)
    return rc;
  return gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
}

/* The certificate and its key as one PEM text, which GIO reads. */
static GTlsCertificate *
catch_tls_to_gio(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, GError **error)
{
  gnutls_datum_t cert_pem = { NULL, 0 }, key_pem = { NULL, 0 };
  GTlsCertificate *certificate = NULL;
  int rc;

  if ((rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cert_pem)) < 0
      || (rc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                                 &key_pem))
             < 0) {
    catch_tls_fail(error, "export", rc);
  } else {
    g_autofree char *pem = g_strdup_printf("%.*s%.*s", (int)cert_pem.size, cert_pem.data,
                                           (int)key_pem.size, key_pem.data);
    certificate = g_tls_certificate_new_from_pem(pem, -1, error);
    gnutls_memset(pem, 0, strlen(pem));
  }
  if (key_pem.data != NULL)
    gnutls_memset(key_pem.data, 0, key_pem.size);
  gnutls_free(key_pem.data);
  gnutls_free(cert_pem.data);
  return certificate;
}

/**
 * catch_tls_self_signed:
 * @hostname: the server's name
 * @error: return location for the error
 *
 * Returns: (transfer full): a new certificate with its private key, or %NULL
 */
GTlsCertificate *
catch_tls_self_signed(const char *hostname, GError **error)
{
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  GTlsCertificate *certificate = NULL;
  int rc;

  if ((rc = gnutls_x509_privkey_init(&key)) < 0
      || (rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                            GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0))
             < 0)
    catch_tls_fail(error, "key", rc);
  else if ((rc = gnutls_x509_crt_init(&crt)) < 0 || (rc = catch_tls_fill(crt, key, hostname)) < 0)
    catch_tls_fail(error, "certificate", rc);
  else
    certificate = catch_tls_to_gio(crt, key, error);
  if (crt != NULL)
    gnutls_x509_crt_deinit(crt);
  if (key != NULL)
    gnutls_x509_privkey_deinit(key);
  return certificate;
}

/**
 * catch_tls_load:
 * @cert_file: a PEM file: the certificate (chain), and the key when @key_file is %NULL
 * @key_file: (nullable): its PEM private key
 * @error: return location for a %FARCEUR_ERROR_CONFIG error
 *
 * Returns: (transfer full): the certificate, or %NULL
 */
GTlsCertificate *
catch_tls_load(const char *cert_file, const char *key_file, GError **error)
{
  g_autoptr(GError) local = NULL;
  GTlsCertificate *certificate = key_file
                                     ? g_tls_certificate_new_from_files(cert_file, key_file, &local)
                                     : g_tls_certificate_new_from_file(cert_file, &local);

  if (certificate == NULL)
    g_set_error(error, FARCEUR_ERROR,
                g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? FARCEUR_ERROR_NOINPUT
                                                                         : FARCEUR_ERROR_CONFIG,
                "TLS certificate '%s'%s%s: %s", cert_file, key_file ? " with key " : "",
                key_file ? key_file : "", local->message);
  return certificate;
}

/**
 * catch_tls_fingerprint:
 * @certificate: a certificate
 *
 * Returns: (transfer full): the SHA-256 of its DER form, "AB:CD:...", as
 *   `openssl x509 -fingerprint -sha256` shows it
 */
char *
catch_tls_fingerprint(GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;
  g_autofree char *hex = NULL;
  GString *out = g_string_new(NULL);

  g_object_get(certificate, "certificate", &der, NULL);
  hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, der->data, der->len);
  for (gsize i = 0; hex[i] != '\0'; i += 2)
    g_string_append_printf(out, "%s%c%c", i ? ":" : "", g_ascii_toupper(hex[i]),
                           g_ascii_toupper(hex[i + 1]));
  return g_string_free(out, FALSE);
}

/**
 * catch_tls_version_name:
 * @version: what GIO says was negotiated
 *
 * Returns: (transfer full) (nullable): "TLSv1.3", "TLSv1.2", ... as
 *   Postfix and OpenSSL write them, or %NULL when unknown
 */
char *
catch_tls_version_name(GTlsProtocolVersion version)
{
  switch (version) {
    case G_TLS_PROTOCOL_VERSION_SSL_3_0:
      return g_strdup("SSLv3");
    case G_TLS_PROTOCOL_VERSION_TLS_1_0:
      return g_strdup("TLSv1");
    case G_TLS_PROTOCOL_VERSION_TLS_1_1:
      return g_strdup("TLSv1.1");
    case G_TLS_PROTOCOL_VERSION_TLS_1_2:
      return g_strdup("TLSv1.2");
    case G_TLS_PROTOCOL_VERSION_TLS_1_3:
      return g_strdup("TLSv1.3");
    default:
      return NULL;
  }
}
