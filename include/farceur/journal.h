/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the delivery journal (data/doc/formats.md, The journal).
 *
 * One JSON object per line, appended and fsync'ed as each outcome happens:
 *
 *   {"time":"2026-11-23T02:40:00Z","source":"inbox/cur/1:2,S","sha256":"3f2a...",
 *    "mail_from":"alice@example.org","state":"delivered","rcpt":["bob@example.org"],
 *    "reply":"250 2.0.0 Ok"}
 *
 * A delivery is known by the SHA-256 of the bytes that go on the wire, its
 * MAIL FROM and one recipient; the source is written for people only, so a
 * renamed or moved file, or an mbox with a message inserted, is the same
 * delivery.  Each line says what happened for the listed recipients, and a
 * later line about the same delivery supersedes an earlier one.  Reloading
 * the journal tells a re-run which deliveries are settled.
 */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>

#include <farceur/export.h>

G_BEGIN_DECLS

/**
 * FarceurJournalState:
 * @FARCEUR_JOURNAL_NONE: nothing recorded
 * @FARCEUR_JOURNAL_DELIVERED: the server took responsibility (2xx after the final dot)
 * @FARCEUR_JOURNAL_REFUSED: refused for good (5xx); not retried
 * @FARCEUR_JOURNAL_DEFERRED: refused for now (4xx, or no connection); sent again on a re-run
 * @FARCEUR_JOURNAL_UNKNOWN: the final dot went out and no reply came back: the
 *   message may have been delivered; a re-run does not send it and reports
 *   it until the user decides (resend, or forget)
 * @FARCEUR_JOURNAL_FORGOTTEN: was unknown; the user decided not to resend it
 *   (`send --forget-unknown`): settled, no longer reported
 */
typedef enum {
  FARCEUR_JOURNAL_NONE,
  FARCEUR_JOURNAL_DELIVERED,
  FARCEUR_JOURNAL_REFUSED,
  FARCEUR_JOURNAL_DEFERRED,
  FARCEUR_JOURNAL_UNKNOWN,
  FARCEUR_JOURNAL_FORGOTTEN,
} FarceurJournalState;

typedef struct _FarceurJournal FarceurJournal;

FARCEUR_API FarceurJournal *farceur_journal_open(const char *path, GError **error);
FARCEUR_API void farceur_journal_free(FarceurJournal *journal);

FARCEUR_API gboolean farceur_journal_record(FarceurJournal *journal, const char *source,
                                            const char *sha256, const char *mail_from,
                                            FarceurJournalState state, const char *const *rcpts,
                                            const char *reply, GError **error);

FARCEUR_API FarceurJournalState farceur_journal_lookup(FarceurJournal *journal, const char *sha256,
                                                       const char *mail_from, const char *rcpt);
FARCEUR_API gboolean farceur_journal_is_settled(FarceurJournal *journal, const char *sha256,
                                                const char *mail_from, const char *rcpt,
                                                gboolean resend_unknown);
FARCEUR_API guint farceur_journal_get_dropped_lines(FarceurJournal *journal);
FARCEUR_API guint farceur_journal_get_legacy_records(FarceurJournal *journal);

FARCEUR_API const char *farceur_journal_state_to_string(FarceurJournalState state);
FARCEUR_API FarceurJournalState farceur_journal_state_from_string(const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurJournal, farceur_journal_free)

G_END_DECLS
