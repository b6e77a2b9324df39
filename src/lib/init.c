/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gmime/gmime.h>

#include <farceur/init.h>

static gpointer
farceur_init_once(gpointer data)
{
  g_mime_init();
  return NULL;
}

void
farceur_init(void)
{
  static GOnce once = G_ONCE_INIT;

  g_once(&once, farceur_init_once, NULL);
}

const char *
farceur_version(void)
{
  return FARCEUR_VERSION;
}
