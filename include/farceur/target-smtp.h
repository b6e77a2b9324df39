/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: settings of the session targets (smtp:, smtp+starttls:, smtps:,
 * lmtp:, exec:, HOST:PORT).  They apply to a target opened with
 * farceur_target_open() before its first delivery; local targets (maildir:,
 * mbox:) accept and ignore them.
 */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>

#include "envelope.h"
#include "target.h"

#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * FarceurTranscriptFunc:
 * @line: one line of the dialogue, "C: ..." or "S: ...", without line end;
 *   AUTH payloads replaced by "***"
 * @user_data: the data given with the function
 */
typedef void (*FarceurTranscriptFunc)(const char *line, gpointer user_data);

/**
 * FarceurSmtpOptions:
 * @helo: (nullable): the EHLO/LHLO name; the host name when %NULL
 * @user: (nullable): AUTH user; the URL's user wins when both are given
 * @password: (nullable): AUTH password, copied (and wiped when the target is
 *   freed); how to obtain it is the caller's business
 * @auth_mechanism: (nullable): PLAIN, LOGIN, CRAM-MD5; the best offered when %NULL
 * @tls_ca_file: (nullable): PEM file of the CAs to trust instead of the system's
 * @tls_insecure: skip certificate verification
 * @allow_plaintext_auth: allow AUTH without TLS to a non-loopback server
 * @timeout_ms: every wait (connect, each reply); 0 for the defaults of
 *   data/doc/smtp.md, Timeouts (10 s to connect, 30 s for the greeting,
 *   RFC 5321 4.5.3.2 after it)
 * @no_pipelining: never use PIPELINING, even when offered
 * @transcript: (nullable): called with each line of the dialogue
 * @transcript_data: for @transcript
 * @max_per_session: end each session with QUIT after this many
 *   transactions and go on with a new one; 0: no limit of ours (a server's
 *   own limit, 421 and dropped connections are recovered from anyway:
 *   data/doc/smtp.md, Sessions)
 * @notice: (nullable): called with a line for a person when first contact
 *   takes over a second ("waiting for the greeting from 127.0.0.1:1080,
 *   30 s…"); a command-line tool shows it on a terminal
 * @notice_data: for @notice
 */
typedef struct {
  const char *helo;
  const char *user;
  const char *password;
  const char *auth_mechanism;
  const char *tls_ca_file;
  gboolean tls_insecure;
  gboolean allow_plaintext_auth;
  guint timeout_ms;
  gboolean no_pipelining;
  FarceurTranscriptFunc transcript;
  gpointer transcript_data;
  guint max_per_session;
  FarceurTranscriptFunc notice;
  gpointer notice_data;
} FarceurSmtpOptions;

FARCEUR_API gboolean farceur_target_set_smtp_options(FarceurTarget *target,
                                                     const FarceurSmtpOptions *options,
                                                     GError **error);

/**
 * FarceurTargetCommitFunc:
 * @envelope: the transaction's envelope
 * @user_data: the data given with the function
 * @error: return location for an error
 *
 * Called by a session target right before the final dot, when the message
 * is about to become the server's: the moment to record durably that its
 * fate is unknown should the connection die now.  Returning %FALSE aborts
 * the transaction without the dot (the message is deferred).
 *
 * Returns: %TRUE to send the dot
 */
typedef gboolean (*FarceurTargetCommitFunc)(const FarceurEnvelope *envelope, gpointer user_data,
                                            GError **error);

FARCEUR_API void farceur_target_set_commit_func(FarceurTarget *target, FarceurTargetCommitFunc func,
                                                gpointer user_data);

FARCEUR_API gboolean farceur_target_is_session(const FarceurTarget *target);
FARCEUR_API void farceur_target_hint_last(FarceurTarget *target);

G_END_DECLS
