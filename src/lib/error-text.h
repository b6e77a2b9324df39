/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the house wording of file and errno errors, for every module;
 * never installed. */
#pragma once

#include <farceur/error.h>

G_BEGIN_DECLS

/* @err in house style, lower case and without GLib's wording: "no such
 * file", "permission denied", "is a folder", "a component of the path is not
 * a folder", else strerror() with a lower-case first letter. */
char *farceur_errno_text(int err);

/* The same for a G_FILE_ERROR (from g_file_get_contents() and friends);
 * "read error" for one that names no errno. */
char *farceur_file_error_text(const GError *error);

/* Sets @error to FORMAT ": " followed by the house text of @saved_errno:
 * "cannot open mbox 'x': no such file". */
void farceur_set_errno_error(GError **error, FarceurError code, int saved_errno, const char *format,
                             ...) G_GNUC_PRINTF(4, 5);

G_END_DECLS
