/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur prank: the report of the plan and of each group (cmd-prank-report.c). */
#pragma once

#include "cli.h"

void prank_report_intro(const FarceurCampaign *campaign, const FarceurCampaignConfig *config,
                        gboolean json, gboolean dry_run);
void prank_report_group(const FarceurCampaign *campaign, const FarceurPrankGroup *group,
                        gboolean json, gboolean dry_run);
void prank_report_summary(const FarceurCampaign *campaign, const FarceurBatchSummary *summary,
                          const char *target);
