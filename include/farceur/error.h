/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: error domain shared by the library.
 *
 * One domain for the whole library rather than one per module: every caller
 * (the CLI, a batch) needs only the category of a failure to decide what to
 * do about it, while the message itself names the module, file and line.
 * The library never turns a category into an exit status: the farceur
 * command does that (src/cli/cli-status.c).
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
 * @FARCEUR_ERROR_USAGE: the caller asked for something meaningless
 * @FARCEUR_ERROR_DATA: bad input data: template, victims, message
 * @FARCEUR_ERROR_NOINPUT: an input file is missing or unreadable
 * @FARCEUR_ERROR_UNAVAILABLE: server unavailable or every recipient refused
 * @FARCEUR_ERROR_CANTCREAT: cannot create an output file or folder
 * @FARCEUR_ERROR_IO: I/O error while reading or writing
 * @FARCEUR_ERROR_TEMPFAIL: temporary failure, retry later
 * @FARCEUR_ERROR_PROTOCOL: the remote side broke the protocol
 * @FARCEUR_ERROR_NOPERM: permission: authentication failed, TLS refused
 * @FARCEUR_ERROR_CONFIG: configuration error
 * @FARCEUR_ERROR_INTERNAL: a failure no category fits (an error of a domain
 *   farceur_error_classify() does not know): a bug to report
 *
 * The categories of failure.  Errors of %FARCEUR_ERROR carry one as their
 * code; farceur_error_classify() gives the one of any other error.
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
  FARCEUR_ERROR_INTERNAL,
} FarceurError;

FARCEUR_API GQuark farceur_error_quark(void);

FARCEUR_API FarceurError farceur_error_classify(const GError *error);

G_END_DECLS
