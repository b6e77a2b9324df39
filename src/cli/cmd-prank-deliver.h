/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur prank: delivering a campaign through the delivery engine
 * (cmd-prank-deliver.c). */
#pragma once

#include "cli.h"

/**
 * PrankDeliverOptions:
 * @url: the target
 * @helo: (nullable): [smtp] helo
 * @user: (nullable): [smtp] user
 * @password_command: (nullable): [smtp] password-command
 * @tls_ca: (nullable): [smtp] tls-ca
 * @timeout_ms: per-reply timeout, 0 for the defaults
 * @connections: parallel sessions
 * @max_per_session: messages per session before a new one, 0 for no limit
 * @retries: retries after a 4xx
 * @retry_delay_ms: the first back-off
 * @journal: (nullable): the journal file
 * @resend_unknown: send again what the journal says may have arrived
 * @forget_unknown: record that what may have arrived must not be resent
 * @transcript: (nullable): where the SMTP dialogue goes
 * @json: one JSON object per group
 */
typedef struct {
  const FarceurTargetUrl *url;
  const char *helo;
  const char *user;
  const char *password_command;
  const char *tls_ca;
  guint timeout_ms;
  guint connections;
  guint max_per_session;
  guint retries;
  guint retry_delay_ms;
  const char *journal;
  gboolean resend_unknown;
  gboolean forget_unknown;
  const char *transcript;
  gboolean json;
} PrankDeliverOptions;

gboolean prank_deliver(FarceurCampaign *campaign, const PrankDeliverOptions *o, int *signal_status,
                       GError **error);
