#include "config.h"

#include <gio/gio.h>

#include <farceur/error.h>

G_DEFINE_QUARK(farceur - error - quark, farceur_error)

static int
farceur_error_io_exit_status(const GError *error)
{
  switch (error->code) {
    case G_IO_ERROR_NOT_FOUND:
      return 66;
    case G_IO_ERROR_PERMISSION_DENIED:
      return 77;
    case G_IO_ERROR_TIMED_OUT:
      return 75;
    case G_IO_ERROR_CONNECTION_REFUSED:
    case G_IO_ERROR_HOST_UNREACHABLE:
    case G_IO_ERROR_NETWORK_UNREACHABLE:
      return 69;
    default:
      return 74;
  }
}

/**
 * farceur_error_to_exit_status:
 * @error: a #GError from farceur, GIO, GLib or GMime
 *
 * The one mapping from failures to sysexits(3) codes (SPEC.md, Exit status).
 *
 * Returns: the exit status for @error, 0 when @error is %NULL
 */
int
farceur_error_to_exit_status(const GError *error)
{
  static const int farceur_codes[] = { 64, 65, 66, 69, 73, 74, 75, 76, 77, 78 };

  if (error == NULL)
    return 0;
  if (error->domain == FARCEUR_ERROR && error->code >= 0
      && (gsize)error->code < G_N_ELEMENTS(farceur_codes))
    return farceur_codes[error->code];
  if (error->domain == G_OPTION_ERROR)
    return 64;
  if (error->domain == G_KEY_FILE_ERROR)
    return 78;
  if (error->domain == G_FILE_ERROR)
    return error->code == G_FILE_ERROR_NOENT ? 66 : 74;
  if (error->domain == G_IO_ERROR)
    return farceur_error_io_exit_status(error);
  if (error->domain == G_TLS_ERROR)
    return 77;
  if (error->domain == G_RESOLVER_ERROR)
    return 69;
  return 70; /* EX_SOFTWARE: a failure nobody classified is our bug */
}
