/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The error domain: its quark string and the classification of foreign
 * errors into farceur's categories (data/doc/exit-status.md). */
#include <gio/gio.h>

#include <farceur/farceur.h>

static void
test_quark(void)
{
  g_assert_cmpstr(g_quark_to_string(FARCEUR_ERROR), ==, "farceur-error-quark");
}

static void
test_classify(void)
{
  static const struct {
    GQuark domain;
    int code;
    FarceurError category;
  } cases[] = {
    { 0, FARCEUR_ERROR_DATA, FARCEUR_ERROR_DATA },
    { 0, 999, FARCEUR_ERROR_INTERNAL },
    { 1, G_OPTION_ERROR_BAD_VALUE, FARCEUR_ERROR_USAGE },
    { 2, G_KEY_FILE_ERROR_PARSE, FARCEUR_ERROR_CONFIG },
    { 3, G_FILE_ERROR_NOENT, FARCEUR_ERROR_NOINPUT },
    { 3, G_FILE_ERROR_NOSPC, FARCEUR_ERROR_IO },
    { 4, G_IO_ERROR_NOT_FOUND, FARCEUR_ERROR_NOINPUT },
    { 4, G_IO_ERROR_PERMISSION_DENIED, FARCEUR_ERROR_NOPERM },
    { 4, G_IO_ERROR_TIMED_OUT, FARCEUR_ERROR_TEMPFAIL },
    { 4, G_IO_ERROR_CONNECTION_REFUSED, FARCEUR_ERROR_UNAVAILABLE },
    { 4, G_IO_ERROR_BROKEN_PIPE, FARCEUR_ERROR_IO },
    { 5, G_TLS_ERROR_BAD_CERTIFICATE, FARCEUR_ERROR_NOPERM },
    { 6, G_RESOLVER_ERROR_NOT_FOUND, FARCEUR_ERROR_UNAVAILABLE },
    { 7, 1, FARCEUR_ERROR_INTERNAL },
  };
  GQuark domains[]
      = { FARCEUR_ERROR, G_OPTION_ERROR, G_KEY_FILE_ERROR, G_FILE_ERROR,
          G_IO_ERROR,    G_TLS_ERROR,    G_RESOLVER_ERROR, g_quark_from_static_string("other") };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = g_error_new_literal(domains[cases[i].domain], cases[i].code, "x");
    g_assert_cmpint(farceur_error_classify(error), ==, cases[i].category);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/error/quark", test_quark);
  g_test_add_func("/error/classify", test_classify);
  return g_test_run();
}
