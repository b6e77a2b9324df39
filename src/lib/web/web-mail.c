/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: message bodies as the web view needs them: a part decoded (for
 * a download, streamed), a text part as UTF-8 (for a page, capped), an HTML
 * part with its cid: images pointed at the server, and the count of the
 * network resources it would load (all blocked by its policy).
 *
 * GMime does the decoding (transfer encodings, charsets, line ends); what
 * is hand-written here is the reading of HTML attributes, which no library
 * of ours parses: it only counts and rewrites, it never decides what is
 * safe (the document's Content-Security-Policy does).
 */
#include "config.h"

#include <string.h>

#include "gmime-autoptr.h"
#include "web-private.h"

/* Leaves a person would call attachments: said so, or named and not inline. */
gboolean
web_mail_is_attachment(const FarceurInspectPart *part)
{
  if (part->kind != FARCEUR_INSPECT_LEAF)
    return FALSE;
  if (g_strcmp0(part->disposition, "attachment") == 0)
    return TRUE;
  return part->filename != NULL && g_strcmp0(part->disposition, "inline") != 0;
}

/**
 * web_mail_part_raw:
 * @part: a leaf of a live inspect model
 * @encoding: (out): its transfer encoding
 *
 * Returns: (transfer full) (nullable): the body of @part as stored, a view
 *   of its own (reading it leaves the part's stream where it was); %NULL
 *   when @part is not a body part (a message/ leaf only its whole message holds)
 */
GMimeStream *
web_mail_part_raw(const FarceurInspectPart *part, GMimeContentEncoding *encoding)
{
  GMimeDataWrapper *content;
  GMimeStream *stored;

  *encoding = GMIME_CONTENT_ENCODING_DEFAULT;
  if (!GMIME_IS_PART(part->object))
    return NULL;
  content = g_mime_part_get_content(GMIME_PART(part->object));
  if (content == NULL || (stored = g_mime_data_wrapper_get_stream(content)) == NULL)
    return g_mime_stream_mem_new();
  *encoding = g_mime_data_wrapper_get_encoding(content);
  return g_mime_stream_substream(stored, stored->bound_start, stored->bound_end);
}

/* The body of @part, read decoded through GMime's filters. */
static GMimeStream *
web_mail_part_filtered(const FarceurInspectPart *part)
{
  GMimeContentEncoding encoding;
  g_autoptr(GMimeStream) raw = web_mail_part_raw(part, &encoding);
  GMimeStream *filtered;

  if (raw == NULL)
    return NULL;
  filtered = g_mime_stream_filter_new(raw);
  if (encoding == GMIME_CONTENT_ENCODING_BASE64
      || encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
      || encoding == GMIME_CONTENT_ENCODING_UUENCODE) {
    g_autoptr(GMimeFilter) decode = g_mime_filter_basic_new(encoding, FALSE);

    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), decode);
  }
  return filtered;
}

static gboolean
web_mail_is_utf8(const char *charset)
{
  return charset == NULL || g_ascii_strcasecmp(charset, "utf-8") == 0
         || g_ascii_strcasecmp(charset, "utf8") == 0
         || g_ascii_strcasecmp(charset, "us-ascii") == 0;
}

/* Reads at most @max octets of @stream; *@truncated when more were left. */
static GByteArray *
web_mail_read_capped(GMimeStream *stream, gsize max, gboolean *truncated)
{
  GByteArray *bytes = g_byte_array_new();
  char buf[WEB_STREAM_CHUNK];
  ssize_t n;

  *truncated = FALSE;
  while ((n = g_mime_stream_read(stream, buf, sizeof buf)) > 0) {
    if (bytes->len + (gsize)n > max) {
      g_byte_array_append(bytes, (guint8 *)buf, max - bytes->len);
      *truncated = TRUE;
      break;
    }
    g_byte_array_append(bytes, (guint8 *)buf, n);
  }
  return bytes;
}

/**
 * web_mail_part_text:
 * @part: a text leaf of a live inspect model
 * @max: octets of UTF-8 to return at most
 * @truncated: (out): set when the text is longer
 *
 * Returns: (transfer full): the body of @part, decoded, converted from its
 *   charset to UTF-8 (an unknown charset is read as UTF-8), line ends LF,
 *   valid UTF-8 whatever it held
 */
char *
web_mail_part_text(const FarceurInspectPart *part, gsize max, gboolean *truncated)
{
  g_autoptr(GMimeStream) decoded = web_mail_part_filtered(part);
  g_autoptr(GMimeFilter) unix_ends = g_mime_filter_dos2unix_new(FALSE);
  g_autoptr(GByteArray) bytes = NULL;

  *truncated = FALSE;
  if (decoded == NULL)
    return g_strdup("");
  if (!web_mail_is_utf8(part->charset)) {
    g_autoptr(GMimeFilter) charset = g_mime_filter_charset_new(part->charset, "UTF-8");

    if (charset != NULL)
      g_mime_stream_filter_add(GMIME_STREAM_FILTER(decoded), charset);
  }
  g_mime_stream_filter_add(GMIME_STREAM_FILTER(decoded), unix_ends);
  bytes = web_mail_read_capped(decoded, max, truncated);
  return g_utf8_make_valid((const char *)bytes->data, bytes->len);
}

/**
 * web_mail_raw_header:
 * @stored: a message's octets as stored
 * @max: octets to return at most
 * @truncated: (out): set when the header block is longer
 *
 * Returns: (transfer full): the header block, up to the blank line, as valid UTF-8
 */
char *
web_mail_raw_header(GMimeStream *stored, gsize max, gboolean *truncated)
{
  g_autoptr(GMimeStream) own
      = g_mime_stream_substream(stored, stored->bound_start, stored->bound_end);
  g_autoptr(GByteArray) bytes = web_mail_read_capped(own, max, truncated);
  const char *text = (const char *)bytes->data;
  const char *blank = NULL;

  for (gsize i = 0; i + 1 < bytes->len && blank == NULL; i++)
    if (text[i] == '\n'
        && (text[i + 1] == '\n'
            || (text[i + 1] == '\r' && i + 2 < bytes->len && text[i + 2] == '\n')))
      blank = text + i + 1;
  if (blank != NULL)
    *truncated = FALSE;
  return g_utf8_make_valid(text, blank ? blank - text : (gssize)bytes->len);
}

/* ---- HTML ----------------------------------------------------------------- */

/* The attributes whose URL the browser would fetch on its own. */
static const char *const web_mail_fetching[] = {
  "src", "srcset", "background", "poster", "data", "dynsrc", "lowsrc", "href", "xlink:href",
};

static gboolean
web_mail_is_remote(const char *url)
{
  return g_ascii_strncasecmp(url, "http:", 5) == 0 || g_ascii_strncasecmp(url, "https:", 6) == 0
         || strncmp(url, "//", 2) == 0;
}

/* The name of the tag @at is inside, lower case ("" when none). */
static char *
web_mail_tag_name(const char *html, const char *at)
{
  const char *open = at;
  gsize len;

  while (open > html && *open != '<' && *open != '>')
    open--;
  if (*open != '<')
    return g_strdup("");
  open++;
  len = strspn(open, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-");
  return g_ascii_strdown(open, len);
}

/* Is the attribute NAME= ending at @eq (the '=') one that fetches? A link
 * a person has to follow (<a href>) is not counted. */
static gboolean
web_mail_attribute_fetches(const char *html, const char *eq)
{
  const char *end = eq;
  const char *start;

  while (end > html && g_ascii_isspace(end[-1]))
    end--;
  start = end;
  while (start > html && (g_ascii_isalnum(start[-1]) || start[-1] == '-' || start[-1] == ':'))
    start--;
  if (start == html || !(g_ascii_isspace(start[-1]) || start[-1] == '"' || start[-1] == '\''))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS(web_mail_fetching); i++) {
    const char *name = web_mail_fetching[i];
    g_autofree char *tag = NULL;

    if ((gsize)(end - start) != strlen(name) || g_ascii_strncasecmp(start, name, end - start) != 0)
      continue;
    tag = web_mail_tag_name(html, start);
    if (*tag == '\0')
      return FALSE; /* text, not a tag */
    if (g_ascii_strcasecmp(name, "href") == 0)
      return strcmp(tag, "a") != 0 && strcmp(tag, "area") != 0;
    return TRUE;
  }
  return FALSE;
}

/* Does @p, after an '=', a "url(" or an "@import", start a remote URL? */
static gboolean
web_mail_value_is_remote(const char *p)
{
  while (g_ascii_isspace(*p) || *p == '"' || *p == '\'')
    p++;
  return web_mail_is_remote(p);
}

/**
 * web_mail_count_remote:
 * @html: an HTML document
 *
 * Counts the references a browser would fetch from the network by itself:
 * attributes such as src, srcset, background, poster, a <link> href, and CSS
 * url() and @import, that point at http:, https: or a protocol-relative URL.
 * Approximate (the document is not parsed); its only use is to tell the
 * reader that something was blocked.
 *
 * Returns: the count
 */
guint
web_mail_count_remote(const char *html)
{
  guint count = 0;

  for (const char *p = html; *p; p++) {
    if (*p == '=' && web_mail_attribute_fetches(html, p) && web_mail_value_is_remote(p + 1))
      count++;
    else if (g_ascii_strncasecmp(p, "url(", 4) == 0 && web_mail_value_is_remote(p + 4))
      count++;
    else if (g_ascii_strncasecmp(p, "@import", 7) == 0 && web_mail_value_is_remote(p + 7))
      count++;
  }
  return count;
}

static const FarceurInspectPart *
web_mail_find_cid(const FarceurInspectMessage *msg, const char *cid)
{
  const FarceurInspectPart *loose = NULL;

  for (guint i = 0; i < msg->parts->len; i++) {
    const FarceurInspectPart *part = msg->parts->pdata[i];

    if (part->kind != FARCEUR_INSPECT_LEAF || part->content_id == NULL
        || !g_str_has_prefix(part->content_type, "image/"))
      continue;
    if (strcmp(part->content_id, cid) == 0)
      return part;
    if (loose == NULL && g_ascii_strcasecmp(part->content_id, cid) == 0)
      loose = part;
  }
  return loose;
}

/* The next "cid:" (any case) from @p that starts a URL, not a word's end. */
static const char *
web_mail_next_cid(const char *html, const char *p)
{
  for (; *p; p++)
    if (g_ascii_strncasecmp(p, "cid:", 4) == 0 && (p == html || !g_ascii_isalnum(p[-1])))
      return p;
  return NULL;
}

/**
 * web_mail_link_cids:
 * @html: an HTML document
 * @msg: the message it belongs to
 * @prefix: the URL of the message's inline parts, ending in '/'
 *
 * Points each `cid:ID` (RFC 2392) that names an image part of @msg at
 * @prefix followed by the part's path; the others are left alone (and
 * blocked).
 *
 * Returns: (transfer full): the document
 */
char *
web_mail_link_cids(const char *html, const FarceurInspectMessage *msg, const char *prefix)
{
  GString *out = g_string_sized_new(strlen(html));
  const char *p = html;
  const char *hit;

  while ((hit = web_mail_next_cid(html, p)) != NULL) {
    gsize len = strcspn(hit + 4, "\"'<>() \t\r\n");
    g_autofree char *escaped = g_strndup(hit + 4, len);
    g_autofree char *cid = g_uri_unescape_string(escaped, NULL);
    const FarceurInspectPart *part = cid ? web_mail_find_cid(msg, cid) : NULL;

    g_string_append_len(out, p, hit - p);
    if (part != NULL)
      g_string_append_printf(out, "%s%s", prefix, part->path);
    else
      g_string_append_len(out, hit, 4 + len);
    p = hit + 4 + len;
  }
  g_string_append(out, p);
  return g_string_free(out, FALSE);
}
