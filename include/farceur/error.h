/* farceur: error domain shared by the library.
 *
 * One domain for the whole library rather than one per module: every caller
 * (the CLI, a batch) needs only the category of a failure to pick an exit
 * status, while the message itself names the module, file and line.
 */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>

#include <farceur/export.h>

G_BEGIN_DECLS

#define FARCEUR_ERROR (farceur_error_quark())

/**
 * FarceurError:
 * @FARCEUR_ERROR_USAGE: the caller asked for something meaningless (sysexits 64)
 * @FARCEUR_ERROR_DATA: bad input data: template, victims, message (65)
 * @FARCEUR_ERROR_NOINPUT: an input file is missing or unreadable (66)
 * @FARCEUR_ERROR_UNAVAILABLE: server unavailable or every recipient refused (69)
 * @FARCEUR_ERROR_CANTCREAT: cannot create an output file or folder (73)
 * @FARCEUR_ERROR_IO: I/O error while reading or writing (74)
 * @FARCEUR_ERROR_TEMPFAIL: temporary failure, retry later (75)
 * @FARCEUR_ERROR_PROTOCOL: the remote side broke the protocol (76)
 * @FARCEUR_ERROR_NOPERM: permission: authentication failed, TLS refused (77)
 * @FARCEUR_ERROR_CONFIG: configuration error (78)
 */
typedef enum {
  FARCEUR_ERROR_USAGE,
  FARCEUR_ERROR_DATA,
  FARCEUR_ERROR_NOINPUT,
  FARCEUR_ERROR_UNAVAILABLE,
  FARCEUR_ERROR_CANTCREAT,
  FARCEUR_ERROR_IO,
  FARCEUR_ERROR_TEMPFAIL,
  FARCEUR_ERROR_PROTOCOL,
  FARCEUR_ERROR_NOPERM,
  FARCEUR_ERROR_CONFIG,
} FarceurError;

FARCEUR_API GQuark farceur_error_quark(void);

FARCEUR_API int farceur_error_to_exit_status(const GError *error);

G_END_DECLS
