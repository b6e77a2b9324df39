/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: helpers shared by the campaign modules (not installed). */
#pragma once

#include <farceur/campaign.h>

gboolean farceur_campaign_read_file(const char *what, const char *path, char **text, gsize *length,
                                    GError **error);
FarceurVictim *farceur_campaign_parse_mailbox(const char *text, GError **error);
