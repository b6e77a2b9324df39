/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: HTML pieces of the web view.  Messages are written by whoever
 * sent them: every string from a message, a file name or a path reaches a
 * page through web_html_text() alone, inside an element or a double-quoted
 * attribute; the page code never writes such a string itself. */
#include "config.h"

#include <string.h>

#include "web-private.h"

/**
 * web_html_text:
 * @out: the page
 * @text: (nullable): any text
 *
 * The one escaping function of the web view: @text made printable
 * (farceur_inspect_printable(): invalid UTF-8, control and bidi characters
 * replaced), then `& < > " '` written as character references, so it is
 * inert both as element content and as a quoted attribute value.
 */
void
web_html_text(GString *out, const char *text)
{
  g_autofree char *printable = farceur_inspect_printable(text);
  g_autofree char *escaped = g_markup_escape_text(printable, -1);

  g_string_append(out, escaped);
}

/* Text of several lines (a body, a header block): line breaks and tabs
 * kept, CR dropped, every run between them through web_html_text(). */
void
web_html_block(GString *out, const char *text)
{
  const char *p = text ? text : "";

  while (*p) {
    gsize run = strcspn(p, "\r\n\t");
    g_autofree char *piece = g_strndup(p, run);

    web_html_text(out, piece);
    p += run;
    if (*p == '\n' || *p == '\t')
      g_string_append_c(out, *p);
    if (*p)
      p++;
  }
}

/* <TAG class="CLS">TEXT</TAG>; @tag and @cls are the page's own words. */
void
web_html_element(GString *out, const char *tag, const char *cls, const char *text)
{
  g_string_append_printf(out, "<%s", tag);
  if (cls != NULL)
    g_string_append_printf(out, " class=\"%s\"", cls);
  g_string_append_c(out, '>');
  web_html_text(out, text);
  g_string_append_printf(out, "</%s>", tag);
}

void
web_html_link(GString *out, const char *href, const char *cls, const char *text)
{
  g_string_append(out, "<a href=\"");
  web_html_text(out, href);
  g_string_append_c(out, '"');
  if (cls != NULL)
    g_string_append_printf(out, " class=\"%s\"", cls);
  g_string_append_c(out, '>');
  web_html_text(out, text);
  g_string_append(out, "</a>");
}

/* "1.2 MB" (GLib's decimal units), with the exact count as a tooltip. */
void
web_html_size(GString *out, gint64 size)
{
  g_autofree char *text = NULL;

  if (size < 0) {
    g_string_append(out, "?");
    return;
  }
  text = g_format_size((guint64)size);
  g_string_append_printf(out, "<span title=\"%" G_GINT64_FORMAT " octets\">%s</span>", size, text);
}

void
web_html_date(GString *out, GDateTime *date)
{
  g_autofree char *machine = date ? g_date_time_format(date, "%Y-%m-%dT%H:%M:%SZ") : NULL;
  g_autofree char *text = date ? g_date_time_format(date, "%Y-%m-%d %H:%M:%S") : NULL;

  if (text == NULL) {
    g_string_append(out, "<span class=\"none\">none</span>");
    return;
  }
  g_string_append_printf(out, "<time datetime=\"%s\">%s</time>", machine, text);
}

/* The head every page shares: no inline script or style anywhere, so the
 * page's Content-Security-Policy can refuse both. */
void
web_html_begin(GString *out, const char *title)
{
  g_string_append(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                       "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
  web_html_text(out, title);
  g_string_append(out, " · farceur web</title>\n"
                       "<link rel=\"icon\" href=\"data:,\">\n"
                       "<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
                       "<script src=\"/static/app.js\" defer></script>\n"
                       "</head>\n<body>\n<header class=\"top\"><a href=\"/\" class=\"brand\">"
                       "farceur web</a></header>\n<main>\n");
}

void
web_html_end(GString *out)
{
  g_string_append(out, "</main>\n</body>\n</html>\n");
}
