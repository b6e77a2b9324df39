/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>

#include <farceur/error.h>

/* The formatter would space the quark string out to "farceur - error - quark". */
/* clang-format off */
G_DEFINE_QUARK(farceur-error-quark, farceur_error)
/* clang-format on */

static FarceurError
farceur_error_classify_io(const GError *error)
{
  switch (error->code) {
    case G_IO_ERROR_NOT_FOUND:
      return FARCEUR_ERROR_NOINPUT;
    case G_IO_ERROR_PERMISSION_DENIED:
      return FARCEUR_ERROR_NOPERM;
    case G_IO_ERROR_TIMED_OUT:
      return FARCEUR_ERROR_TEMPFAIL;
    case G_IO_ERROR_CONNECTION_REFUSED:
    case G_IO_ERROR_HOST_UNREACHABLE:
    case G_IO_ERROR_NETWORK_UNREACHABLE:
      return FARCEUR_ERROR_UNAVAILABLE;
    default:
      return FARCEUR_ERROR_IO;
  }
}

/**
 * farceur_error_classify:
 * @error: a #GError from farceur, GIO, GLib or GMime
 *
 * The one mapping from failures to their category.  An error of
 * %FARCEUR_ERROR is its own category; GLib's option, key file and file
 * errors, GIO's I/O, TLS and resolver errors are placed by their domain and
 * code; anything else is %FARCEUR_ERROR_INTERNAL.
 *
 * Returns: the category of @error
 */
FarceurError
farceur_error_classify(const GError *error)
{
  g_return_val_if_fail(error != NULL, FARCEUR_ERROR_INTERNAL);

  if (error->domain == FARCEUR_ERROR)
    return error->code >= 0 && error->code <= FARCEUR_ERROR_INTERNAL ? (FarceurError)error->code
                                                                     : FARCEUR_ERROR_INTERNAL;
  if (error->domain == G_OPTION_ERROR)
    return FARCEUR_ERROR_USAGE;
  if (error->domain == G_KEY_FILE_ERROR)
    return FARCEUR_ERROR_CONFIG;
  if (error->domain == G_FILE_ERROR)
    return error->code == G_FILE_ERROR_NOENT ? FARCEUR_ERROR_NOINPUT : FARCEUR_ERROR_IO;
  if (error->domain == G_IO_ERROR)
    return farceur_error_classify_io(error);
  if (error->domain == G_TLS_ERROR)
    return FARCEUR_ERROR_NOPERM;
  if (error->domain == G_RESOLVER_ERROR)
    return FARCEUR_ERROR_UNAVAILABLE;
  return FARCEUR_ERROR_INTERNAL;
}
