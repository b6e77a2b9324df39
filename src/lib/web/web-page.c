/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the pages of the web view, rendered on the server from the view
 * models (web-model.c).  Every value from a message goes through
 * web-html.c; the markup here is the page's own, with classes the
 * stylesheet knows (no inline style, no inline script). */
#include "config.h"

#include <string.h>

#include "web-private.h"

#define WEB_PAGE_RECIPIENTS_SHOWN 3
#define WEB_PAGE_DEPTH_CLASSES 8

/* ---- the list ----------------------------------------------------------- */

static void
web_page_mailbox(GString *out, const char *name, const char *addr)
{
  if (addr == NULL) {
    g_string_append(out, "<span class=\"none\">none</span>");
    return;
  }
  if (name != NULL) {
    web_html_element(out, "span", "name", name);
    g_string_append_c(out, ' ');
  }
  web_html_element(out, "span", "addr", addr);
}

static void
web_page_recipients(GString *out, GPtrArray *recipients)
{
  for (guint i = 0; i < recipients->len && i < WEB_PAGE_RECIPIENTS_SHOWN; i++) {
    if (i > 0)
      g_string_append(out, ", ");
    web_html_text(out, recipients->pdata[i]);
  }
  if (recipients->len > WEB_PAGE_RECIPIENTS_SHOWN)
    g_string_append_printf(out, " <span class=\"more\">and %u more</span>",
                           recipients->len - WEB_PAGE_RECIPIENTS_SHOWN);
}

static void
web_page_row_flags(GString *out, const FarceurWebRow *row)
{
  if (row->forged_from)
    g_string_append(out, "<span class=\"flag forged\" title=\"the envelope sender's domain is "
                         "not the From domain\">forged From</span> ");
  if (row->envelope_only->len > 0)
    g_string_append_printf(out,
                           "<span class=\"flag envelope-only\" title=\"recipients no To or Cc "
                           "names\">%u only in envelope</span> ",
                           row->envelope_only->len);
  if (row->attachments > 0)
    g_string_append_printf(out, "<span class=\"flag attachments\">%u attached</span>",
                           row->attachments);
}

static void
web_page_row(GString *out, const FarceurWebRow *row)
{
  g_autofree char *href = g_strconcat("/m/", row->id, NULL);

  g_string_append(out, "<tr data-id=\"");
  web_html_text(out, row->id);
  g_string_append_printf(out, "\"%s>\n<td class=\"date\">",
                         row->forged_from ? " class=\"forged\"" : "");
  web_html_date(out, row->date);
  g_string_append(out, "</td><td class=\"envelope\">");
  if (row->mail_from != NULL)
    web_html_text(out, *row->mail_from ? row->mail_from : "<>");
  else
    g_string_append(out, "<span class=\"none\">not recorded</span>");
  g_string_append(out, "</td><td class=\"from\">");
  web_page_mailbox(out, row->from_name, row->from_addr);
  g_string_append(out, "</td><td class=\"subject\">");
  web_html_link(out, href, NULL, row->subject ? row->subject : "(no subject)");
  g_string_append(out, "</td><td class=\"recipients\">");
  web_page_recipients(out, row->recipients);
  g_string_append(out, "</td><td class=\"size\">");
  web_html_size(out, row->size);
  g_string_append(out, "</td><td class=\"flags\">");
  web_page_row_flags(out, row);
  g_string_append(out, "</td></tr>\n");
}

/* The <tbody> of the list, fetched again by the page when messages arrive. */
char *
web_page_rows(GPtrArray *rows)
{
  GString *out = g_string_new(NULL);

  for (guint i = 0; i < rows->len; i++)
    web_page_row(out, rows->pdata[i]);
  return g_string_free(out, FALSE);
}

static void
web_page_warnings(GString *out, GPtrArray *warnings, const char *title)
{
  if (warnings == NULL || warnings->len == 0)
    return;
  g_string_append(out, "<section class=\"warnings\"><h2>");
  web_html_text(out, title);
  g_string_append(out, "</h2><ul>");
  for (guint i = 0; i < warnings->len; i++)
    web_html_element(out, "li", NULL, warnings->pdata[i]);
  g_string_append(out, "</ul></section>\n");
}

char *
web_page_list(GPtrArray *rows, GPtrArray *warnings)
{
  GString *out = g_string_new(NULL);
  g_autofree char *body = web_page_rows(rows);

  web_html_begin(out, "Messages");
  g_string_append_printf(out,
                         "<h1>Messages <span class=\"count\" id=\"count\">%u</span></h1>\n"
                         "<p class=\"hint\">Newest first; new messages appear as they arrive. "
                         "The envelope is what the SMTP server was told; the headers are what "
                         "the message says.</p>\n"
                         "<input type=\"search\" id=\"filter\" placeholder=\"Filter: sender, "
                         "subject, recipient…\" autocomplete=\"off\" aria-label=\"Filter\">\n"
                         "<table class=\"list\">\n<thead><tr><th>Date</th><th>Envelope "
                         "sender</th><th>From</th><th>Subject</th><th>Recipients</th><th>Size</"
                         "th><th>Flags</th></tr></thead>\n<tbody id=\"rows\">\n%s</tbody>\n"
                         "</table>\n",
                         rows->len, body);
  web_page_warnings(out, warnings, "Files that could not be read");
  web_html_end(out);
  return g_string_free(out, FALSE);
}

/* ---- a message ---------------------------------------------------------- */

static const char *
web_page_pair_note(const FarceurWebPair *pair)
{
  switch (pair->state) {
    case FARCEUR_WEB_PAIR_SAME:
      return "";
    case FARCEUR_WEB_PAIR_DIFFERENT:
      return "differs";
    case FARCEUR_WEB_PAIR_FORGED:
      return "forged From: another domain";
    case FARCEUR_WEB_PAIR_ENVELOPE_ONLY:
      return pair->sender ? "no From header" : "only in the envelope (blind copy)";
    case FARCEUR_WEB_PAIR_HEADER_ONLY:
      return pair->sender ? "no envelope sender recorded" : "only in the headers (no copy here)";
  }
  return "";
}

static void
web_page_pair(GString *out, const FarceurWebPair *pair)
{
  const char *state = farceur_web_pair_state_to_string(pair->state);
  const char *note = web_page_pair_note(pair);

  g_string_append_printf(out, "<tr class=\"%s\"><th>%s</th><td class=\"envelope\">", state,
                         pair->sender ? "MAIL FROM" : "RCPT TO");
  if (pair->envelope != NULL)
    web_html_text(out, *pair->envelope ? pair->envelope : "<> (null sender)");
  else
    g_string_append(out, "<span class=\"none\">—</span>");
  g_string_append(out, "</td><td class=\"header\">");
  if (pair->header != NULL) {
    g_string_append(out, "<span class=\"field\">");
    web_html_text(out, pair->field);
    g_string_append(out, ":</span> ");
    web_html_text(out, pair->header);
  } else {
    g_string_append(out, "<span class=\"none\">—</span>");
  }
  g_string_append(out, "</td><td class=\"note\">");
  if (*note)
    g_string_append_printf(out, "<span class=\"flag %s\">%s</span>", state, note);
  g_string_append(out, "</td></tr>\n");
}

static void
web_page_envelope(GString *out, const FarceurWebMessage *page)
{
  const FarceurInspectEnvelope *env = page->inspect->envelope;

  g_string_append(out, "<section id=\"envelope\">\n<h2>Envelope and headers</h2>\n");
  if (env == NULL) {
    g_string_append(out, "<p class=\"none\">This message records no envelope: no "
                         "Return-Path, Envelope-to, Delivered-To or Received field says what "
                         "the SMTP server was told.</p>\n</section>\n");
    return;
  }
  g_string_append(out, "<table class=\"pairs\">\n<thead><tr><th></th><th>Envelope (what the "
                       "server was told)</th><th>Headers (what the message says)</th><th></th>"
                       "</tr></thead>\n<tbody>\n");
  for (guint i = 0; i < page->pairs->len; i++)
    web_page_pair(out, page->pairs->pdata[i]);
  g_string_append(out, "</tbody>\n</table>\n<p class=\"hint\">Envelope read from: ");
  for (guint i = 0; i < env->sources->len; i++) {
    if (i > 0)
      g_string_append(out, ", ");
    web_html_text(out, env->sources->pdata[i]);
  }
  g_string_append(out, ".</p>\n</section>\n");
}

static void
web_page_addresses(GString *out, const char *label, GPtrArray *addresses)
{
  if (addresses->len == 0)
    return;
  g_string_append_printf(out, "<dt>%s</dt><dd>", label);
  for (guint i = 0; i < addresses->len; i++) {
    const FarceurInspectAddress *a = addresses->pdata[i];

    if (i > 0)
      g_string_append(out, ", ");
    web_page_mailbox(out, a->name, a->addr);
  }
  g_string_append(out, "</dd>\n");
}

static void
web_page_summary(GString *out, const FarceurInspectMessage *msg)
{
  g_string_append(out, "<dl class=\"summary\">\n");
  web_page_addresses(out, "From", msg->from);
  web_page_addresses(out, "To", msg->to);
  web_page_addresses(out, "Cc", msg->cc);
  web_page_addresses(out, "Reply-To", msg->reply_to);
  g_string_append(out, "<dt>Date</dt><dd>");
  web_html_date(out, msg->date);
  g_string_append(out, "</dd>\n");
  if (msg->message_id != NULL) {
    g_string_append(out, "<dt>Message-ID</dt><dd>");
    web_html_text(out, msg->message_id);
    g_string_append(out, "</dd>\n");
  }
  g_string_append(out, "<dt>Stored</dt><dd>");
  web_html_text(out, msg->source);
  g_string_append(out, ", ");
  web_html_size(out, msg->size);
  g_string_append(out, "</dd>\n</dl>\n");
}

/* The first 12 hex digits, the whole digest as a tooltip. */
static void
web_page_sha(GString *out, const char *sha256)
{
  g_autofree char *start = sha256 ? g_strndup(sha256, 12) : NULL;

  if (sha256 == NULL)
    return;
  g_string_append(out, "<span title=\"SHA-256 ");
  web_html_text(out, sha256);
  g_string_append(out, "\">");
  web_html_text(out, start);
  g_string_append(out, "…</span>");
}

static void
web_page_part(GString *out, const char *id, const FarceurInspectPart *part)
{
  g_autofree char *href = g_strdup_printf("/m/%s/part/%s", id, part->path);
  const char *label = part->filename ? part->filename : "download";

  g_string_append_printf(out, "<tr class=\"depth-%u %s\"><td class=\"path\">",
                         MIN(part->depth, WEB_PAGE_DEPTH_CLASSES),
                         part->kind == FARCEUR_INSPECT_LEAF ? "leaf" : "container");
  web_html_text(out, *part->path ? part->path : "(top)");
  g_string_append(out, "</td><td class=\"type\">");
  web_html_text(out, part->content_type);
  g_string_append(out, "</td><td>");
  web_html_text(out, part->charset);
  g_string_append(out, "</td><td>");
  web_html_text(out, part->encoding);
  g_string_append(out, "</td><td>");
  web_html_text(out, part->disposition);
  g_string_append(out, "</td><td class=\"size\">");
  if (part->kind == FARCEUR_INSPECT_LEAF)
    web_html_size(out, part->decoded_size);
  g_string_append(out, "</td><td class=\"sha\">");
  web_page_sha(out, part->sha256);
  g_string_append(out, "</td><td class=\"download\">");
  if (part->kind == FARCEUR_INSPECT_LEAF && GMIME_IS_PART(part->object))
    web_html_link(out, href, "download", label);
  g_string_append(out, "</td></tr>\n");
}

static void
web_page_parts(GString *out, const FarceurWebMessage *page)
{
  g_string_append(out, "<section id=\"parts\">\n<h2>MIME tree</h2>\n<table class=\"parts\">\n"
                       "<thead><tr><th>Part</th><th>Type</th><th>Charset</th><th>Encoding</th>"
                       "<th>Disposition</th><th>Size</th><th>SHA-256</th><th>File</th></tr>"
                       "</thead>\n<tbody>\n");
  for (guint i = 0; i < page->inspect->parts->len; i++)
    web_page_part(out, page->id, page->inspect->parts->pdata[i]);
  g_string_append(out, "</tbody>\n</table>\n</section>\n");
}

static void
web_page_text(GString *out, const FarceurWebMessage *page)
{
  if (page->text_part == NULL)
    return;
  g_string_append(out, "<section id=\"text\">\n<h2>Text</h2>\n<pre class=\"body\">");
  web_html_block(out, page->text);
  g_string_append(out, "</pre>\n");
  if (page->text_truncated)
    g_string_append_printf(out,
                           "<p class=\"hint\">Only the first %u KiB are shown; download "
                           "the part for the rest.</p>\n",
                           WEB_MAIL_TEXT_MAX / 1024);
  g_string_append(out, "</section>\n");
}

static void
web_page_html(GString *out, const FarceurWebMessage *page)
{
  g_autofree char *src = NULL;

  if (page->html_part == NULL)
    return;
  src = g_strdup_printf("/m/%s/html/%s", page->id, page->html_part->path);
  g_string_append(out, "<section id=\"html\">\n<h2>HTML</h2>\n<p class=\"blocked\" "
                       "id=\"blocked\">Shown in a sandbox: scripts, forms and anything from "
                       "the network are blocked");
  if (page->remote_refs > 0)
    g_string_append_printf(out,
                           ". <strong>Remote content blocked:</strong> this message refers "
                           "to %u resource%s on the network (images, style sheets…) that "
                           "would tell its sender when and where it was read",
                           page->remote_refs, page->remote_refs == 1 ? "" : "s");
  g_string_append(out, ".</p>\n<iframe sandbox=\"\" referrerpolicy=\"no-referrer\" "
                       "title=\"HTML body\" class=\"mail\" src=\"");
  web_html_text(out, src);
  g_string_append(out, "\"></iframe>\n</section>\n");
}

static void
web_page_headers(GString *out, const FarceurInspectMessage *msg)
{
  g_string_append(out, "<section id=\"headers\">\n<h2>Headers, decoded</h2>\n"
                       "<table class=\"headers\">\n<tbody>\n");
  for (guint i = 0; msg->headers && i < msg->headers->len; i++) {
    const FarceurInspectHeader *header = msg->headers->pdata[i];

    g_string_append(out, "<tr><th>");
    web_html_text(out, header->name);
    g_string_append(out, "</th><td>");
    web_html_text(out, header->value);
    g_string_append(out, "</td></tr>\n");
  }
  g_string_append(out, "</tbody>\n</table>\n</section>\n");
}

static void
web_page_raw(GString *out, const FarceurWebMessage *page)
{
  g_autofree char *href = g_strdup_printf("/m/%s/raw", page->id);

  g_string_append(out, "<section id=\"raw\">\n<h2>Source</h2>\n<pre class=\"raw\">");
  web_html_block(out, page->raw_header);
  g_string_append(out, "</pre>\n<p class=\"hint\">");
  if (page->raw_header_truncated)
    g_string_append(out, "The header block is longer than shown. ");
  g_string_append(out, "The header block as stored; ");
  web_html_link(out, href, NULL, "the whole message as stored");
  g_string_append(out, ".</p>\n</section>\n");
}

static void
web_page_links(GString *out, const char *id)
{
  static const struct {
    const char *prefix;
    const char *suffix;
    const char *text;
  } links[] = {
    { "/m/", "", "Message" },
    { "/m/", "/trace", "Trace" },
    { "/m/", "/raw", "Source" },
    { "/api/messages/", "", "JSON" },
  };

  g_string_append(out, "<nav class=\"links\"><a href=\"/\">← All messages</a>");
  for (gsize i = 0; i < G_N_ELEMENTS(links); i++) {
    g_autofree char *href = g_strconcat(links[i].prefix, id, links[i].suffix, NULL);

    g_string_append(out, " · ");
    web_html_link(out, href, NULL, links[i].text);
  }
  g_string_append(out, "</nav>\n");
}

char *
web_page_message(const FarceurWebMessage *page)
{
  GString *out = g_string_new(NULL);
  const char *subject = page->inspect->subject ? page->inspect->subject : "(no subject)";

  web_html_begin(out, subject);
  web_page_links(out, page->id);
  web_html_element(out, "h1", "subject", subject);
  web_page_summary(out, page->inspect);
  web_page_envelope(out, page);
  web_page_parts(out, page);
  web_page_text(out, page);
  web_page_html(out, page);
  web_page_headers(out, page->inspect);
  web_page_raw(out, page);
  web_page_warnings(out, page->inspect->warnings, "Warnings");
  web_html_end(out);
  return g_string_free(out, FALSE);
}

/* ---- a trace ------------------------------------------------------------ */

static const char *
web_page_tls(FarceurTls tls)
{
  return tls == FARCEUR_TLS_YES  ? "<span class=\"tls yes\">yes</span>"
         : tls == FARCEUR_TLS_NO ? "<span class=\"tls no\">no</span>"
                                 : "<span class=\"tls unknown\">?</span>";
}

/* The delay bar: an SVG rectangle, a width the page's CSP allows (no style). */
static void
web_page_bar(GString *out, const FarceurWebHop *row)
{
  char width[G_ASCII_DTOSTR_BUF_SIZE];

  if (row->hop->has_delay && row->hop->delay_s < 0) {
    g_string_append(out, "<span class=\"skew\" title=\"dated before the previous hop\">◀ "
                         "skew</span>");
    return;
  }
  if (!row->hop->has_delay)
    return;
  g_ascii_formatd(width, sizeof width, "%.1f", MAX(row->bar * 100.0, 0.5));
  g_string_append_printf(out,
                         "<svg class=\"bar\" viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" "
                         "aria-hidden=\"true\"><rect width=\"%s\" height=\"10\"/></svg>",
                         width);
}

static void
web_page_hop_cell(GString *out, const char *cls, const char *text)
{
  g_string_append_printf(out, "<td class=\"%s\">", cls);
  if (text != NULL)
    web_html_text(out, text);
  else
    g_string_append(out, "<span class=\"none\">—</span>");
  g_string_append(out, "</td>");
}

static void
web_page_hop(GString *out, const FarceurWebHop *row, guint number)
{
  const FarceurHop *hop = row->hop;

  g_string_append_printf(out, "<tr class=\"hop%s\"><td class=\"n\">%u</td>",
                         hop->anomalies ? " anomaly" : "", number);
  web_page_hop_cell(out, "from", row->from);
  web_page_hop_cell(out, "by", hop->by);
  web_page_hop_cell(out, "with", hop->with);
  g_string_append_printf(out, "<td>%s</td>", web_page_tls(hop->tls));
  web_page_hop_cell(out, "id", hop->id);
  web_page_hop_cell(out, "date", row->date);
  web_page_hop_cell(out, "delay", row->delay);
  g_string_append(out, "<td class=\"barcell\">");
  web_page_bar(out, row);
  g_string_append(out, "</td></tr>\n");
  if (row->notes->len == 0)
    return;
  g_string_append(out, "<tr class=\"notes\"><td></td><td colspan=\"8\"><ul>");
  for (guint i = 0; i < row->notes->len; i++)
    web_html_element(out, "li", NULL, row->notes->pdata[i]);
  g_string_append(out, "</ul></td></tr>\n");
}

static void
web_page_hops(GString *out, const FarceurWebTrace *page)
{
  g_string_append(out, "<table class=\"hops\" id=\"hops\">\n<thead><tr><th>#</th><th>From</th>"
                       "<th>By</th><th>With</th><th>TLS</th><th>Id</th><th>Date</th>"
                       "<th>Delay</th><th></th></tr></thead>\n<tbody>\n");
  for (guint i = 0; i < page->hops->len; i++)
    web_page_hop(out, page->hops->pdata[i], i + 1);
  g_string_append(out, "</tbody>\n</table>\n");
}

char *
web_page_trace(const FarceurWebTrace *page, gboolean graph)
{
  GString *out = g_string_new(NULL);
  g_autofree char *title
      = g_strdup_printf("Trace: %s", page->subject ? page->subject : "(no subject)");

  web_html_begin(out, title);
  web_page_links(out, page->id);
  web_html_element(out, "h1", "subject", title);
  g_string_append(out, "<p class=\"hint\">From the origin (the bottom Received: field) to the "
                       "final delivery (the top one). Date: ");
  web_html_text(out, page->sent ? page->sent : "none");
  g_string_append_printf(out, ", %u hop%s.</p>\n", page->hops->len,
                         page->hops->len == 1 ? "" : "s");
  if (page->hops->len > 0)
    web_page_hops(out, page);
  g_string_append(out, "<p class=\"total\" id=\"total\">Total transit: ");
  web_html_text(out, page->total ? page->total : "unknown");
  g_string_append(out, "</p>\n");
  web_page_warnings(out, page->trace->warnings, "Warnings");
  if (graph) {
    g_autofree char *src = g_strdup_printf("/m/%s/trace.svg", page->id);

    g_string_append(out, "<figure class=\"graph\"><img src=\"");
    web_html_text(out, src);
    g_string_append(out, "\" alt=\"The hops as a graph\"><figcaption>Hosts and hops; red "
                         "edges carry anomalies.</figcaption></figure>\n");
  }
  web_html_end(out);
  return g_string_free(out, FALSE);
}

/* ---- errors and notices ------------------------------------------------- */

char *
web_page_error(guint status, const char *detail)
{
  GString *out = g_string_new(NULL);
  g_autofree char *title = g_strdup_printf("%u %s", status, soup_status_get_phrase(status));

  web_html_begin(out, title);
  web_html_element(out, "h1", NULL, title);
  if (detail != NULL)
    web_html_element(out, "p", NULL, detail);
  g_string_append(out, "<p><a href=\"/\">All messages</a></p>\n");
  web_html_end(out);
  return g_string_free(out, FALSE);
}

/* A document for the HTML frame when the mail itself cannot be shown. */
char *
web_page_notice(const char *text)
{
  GString *out = g_string_new("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>"
                              "<body><p>");

  web_html_text(out, text);
  g_string_append(out, "</p></body></html>\n");
  return g_string_free(out, FALSE);
}
