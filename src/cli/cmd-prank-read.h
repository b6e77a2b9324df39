/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur prank: reading the campaign's files and saying what was read
 * (cmd-prank-read.c). */
#pragma once

#include "cli.h"

FarceurCampaignConfig *prank_read_config(const char *path, FarceurReadReport *report,
                                         GError **error);
void prank_read_print(const FarceurReadReport *report, const FarceurCampaign *campaign,
                      gboolean json);
gboolean prank_read_needs_rail(const FarceurTargetUrl *url, gboolean dry_run);
