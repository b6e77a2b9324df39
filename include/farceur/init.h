#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * farceur_init:
 *
 * Initialise GMime (once per process, thread-safe) and set the library's
 * defaults: UTF-8 for header encoding, RFC 2047 everywhere.  Every public
 * entry point that touches GMime calls this itself; calling it again is free.
 */
void farceur_init(void);

const char *farceur_version(void);

G_END_DECLS
