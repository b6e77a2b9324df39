/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: what makes a campaign replayable (data/doc/formats.md, Replaying
 * a campaign).  The same seed and the same files compose the same octets,
 * so that the journal, which knows a message by its content and envelope,
 * recognises the messages an interrupted run already delivered:
 *
 * - Date: the configuration's (--date), else the newest modification time
 *   of the configuration, victims and messages files, in UTC;
 * - Message-ID: a hash of the seed, that date, the group, its members, the
 *   envelope, the variables and the template, at the sender's domain;
 * - MIME boundaries: derived from the Message-ID by the composer.
 *
 * A leaf of the campaign module: campaign.c calls it. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include <farceur/campaign.h>
#include <farceur/error.h>

#include "campaign-private.h"

/**
 * farceur_campaign_parse_date:
 * @text: an ISO 8601 date and time ("2026-04-01T09:00:00Z") or an RFC 5322 one
 *   ("Wed, 1 Apr 2026 09:00:00 +0000")
 * @error: return location for a %FARCEUR_ERROR_USAGE error
 *
 * The value of prank's --date (compose's --date reads the same forms).
 *
 * Returns: (transfer full) (nullable): the date, or %NULL
 */
GDateTime *
farceur_campaign_parse_date(const char *text, GError **error)
{
  GDateTime *date;

  g_return_val_if_fail(text != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  date = g_date_time_new_from_iso8601(text, NULL);
  if (date == NULL)
    date = g_mime_utils_header_decode_date(text);
  if (date == NULL)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "bad --date '%s': expected ISO 8601 or RFC 5322", text);
  return date;
}

static void
campaign_newer(gint64 *newest, const char *path)
{
  GStatBuf st;

  if (path != NULL && g_stat(path, &st) == 0 && (gint64)st.st_mtime > *newest)
    *newest = st.st_mtime;
}

/* The newest modification time of the files the campaign was made of, to
 * the second, in UTC: a date that stays the same from one run to the next
 * as long as the files do. */
GDateTime *
campaign_files_date(const FarceurCampaignConfig *config, GPtrArray *templates)
{
  gint64 newest = 0;

  campaign_newer(&newest, config->file);
  campaign_newer(&newest, config->victims);
  campaign_newer(&newest, config->messages);
  for (guint i = 0; i < templates->len; i++)
    campaign_newer(&newest, ((const FarceurTemplate *)templates->pdata[i])->file);
  return g_date_time_new_from_unix_utc(newest);
}

/* The domain of a Message-ID: the sender's, when it is a plain ASCII one. */
static const char *
campaign_id_domain(const char *addr)
{
  const char *at = strrchr(addr, '@');

  if (at == NULL || at[1] == '\0' || at[1] == '[' || !g_str_is_ascii(at + 1)
      || strpbrk(at + 1, "<> \t\"()") != NULL)
    return "farceur.invalid";
  return at + 1;
}

static void
campaign_hash_line(GChecksum *sum, const char *label, const char *value)
{
  g_checksum_update(sum, (const guchar *)label, -1);
  g_checksum_update(sum, (const guchar *)"=", 1);
  if (value != NULL)
    g_checksum_update(sum, (const guchar *)value, -1);
  g_checksum_update(sum, (const guchar *)"\n", 1);
}

static void campaign_hash_vars(GChecksum *sum, GHashTable *vars);

/* A member: the mailbox and the extra columns of a CSV victims file. */
static void
campaign_hash_victim(GChecksum *sum, const char *label, const FarceurVictim *victim)
{
  g_autofree char *mailbox = farceur_victim_to_mailbox(victim);

  campaign_hash_line(sum, label, mailbox);
  campaign_hash_vars(sum, victim->vars);
}

static int
campaign_compare_keys(gconstpointer a, gconstpointer b)
{
  return strcmp(a, b);
}

/* Every variable, in the order of their names. */
static void
campaign_hash_vars(GChecksum *sum, GHashTable *vars)
{
  g_autoptr(GList) keys = NULL;

  if (vars == NULL)
    return;
  keys = g_list_sort(g_hash_table_get_keys(vars), campaign_compare_keys);
  for (GList *l = keys; l != NULL; l = l->next)
    campaign_hash_line(sum, l->data, g_hash_table_lookup(vars, l->data));
}

static void
campaign_hash_template(GChecksum *sum, const FarceurTemplate *tmpl)
{
  g_autofree char *name = g_path_get_basename(tmpl->file);
  g_autofree char *index = g_strdup_printf("%u", tmpl->index);

  campaign_hash_line(sum, "template", name);
  campaign_hash_line(sum, "index", index);
  for (guint i = 0; i < tmpl->headers->len; i++) {
    const FarceurTemplateHeader *h = tmpl->headers->pdata[i];
    campaign_hash_line(sum, h->name, h->value);
  }
  campaign_hash_line(sum, "body", tmpl->body);
}

/* The Message-ID (without <>) of message @n (from 0) of @group, sent to
 * @to with @envelope: the same whenever the campaign is made again from the
 * same seed and files, and different for any other message. */
char *
campaign_message_id(const CampaignReplay *replay, const FarceurPrankGroup *group, guint n,
                    GPtrArray *to, const FarceurEnvelope *envelope)
{
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_autofree char *head
      = g_strdup_printf("farceur prank\nseed=%u\ndate=%" G_GINT64_FORMAT "\ngroup=%u\nmessage=%u\n",
                        replay->seed, g_date_time_to_unix(replay->date), group->index, n);

  g_checksum_update(sum, (const guchar *)head, -1);
  campaign_hash_victim(sum, "sender", group->sender);
  for (guint i = 0; i < to->len; i++)
    campaign_hash_victim(sum, "to", to->pdata[i]);
  campaign_hash_line(sum, "mail-from", envelope->mail_from);
  for (guint i = 0; i < envelope->rcpt_to->len; i++)
    campaign_hash_line(sum, "rcpt-to", envelope->rcpt_to->pdata[i]);
  campaign_hash_vars(sum, replay->vars);
  campaign_hash_template(sum, group->tmpl);
  return g_strdup_printf("%.32s@%s", g_checksum_get_string(sum),
                         campaign_id_domain(group->sender->addr));
}
