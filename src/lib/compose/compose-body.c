/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the MIME body of a composed message.
 *
 *   multipart/mixed                  (only with attachments)
 *   ├─ multipart/alternative         (only with an Html: file)
 *   │  ├─ text/plain
 *   │  └─ multipart/related          (only when the HTML uses cid: images)
 *   │     ├─ text/html
 *   │     └─ image/png  inline, Content-ID
 *   └─ application/pdf  attachment
 *
 * GMime does the MIME work (encodings, RFC 2231 parameters, boundaries);
 * attachments are GMimeStreamGIO streams over the file, opened when the
 * message is written and read a buffer at a time, never held in memory.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gmime/gmime-stream-gio.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"

#include "compose-private.h"
#include "error-text.h"

/* Not in gmime-autoptr.h (only the composer uses them). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeTextPart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeContentDisposition, g_object_unref)

/* A text part in UTF-8 with the smallest transfer encoding that stays 7-bit
 * safe: 7bit, else quoted-printable (also for lines over 998 octets and
 * "From " lines), else base64 (GMime's GMimeFilterBest decides).  Not
 * g_mime_text_part_set_text(): it would pick ISO-8859-1 when the text fits. */
static GMimeObject *
compose_text_part(const char *subtype, const char *text)
{
  g_autoptr(GMimeTextPart) part = g_mime_text_part_new_with_subtype(subtype);
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
  g_autoptr(GMimeDataWrapper) content
      = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
  GMimeContentEncoding encoding;

  g_mime_text_part_set_charset(part, "utf-8");
  g_mime_part_set_content(GMIME_PART(part), content);
  encoding
      = g_mime_part_get_best_content_encoding(GMIME_PART(part), GMIME_ENCODING_CONSTRAINT_7BIT);
  if (encoding == GMIME_CONTENT_ENCODING_DEFAULT)
    encoding = GMIME_CONTENT_ENCODING_7BIT;
  g_mime_part_set_content_encoding(GMIME_PART(part), encoding);
  return GMIME_OBJECT(g_steal_pointer(&part));
}

/* CRLF and lone CR become LF, so no bare CR can reach a 7bit body.
 * Hand-written: GMimeFilterDos2Unix keeps lone CRs. */
static void
compose_normalise_newlines(char *text)
{
  char *out = text;

  for (const char *in = text; *in; in++) {
    if (*in == '\r') {
      *out++ = '\n';
      if (in[1] == '\n')
        in++;
    } else {
      *out++ = *in;
    }
  }
  *out = '\0';
}

static char *
compose_read_html(const FarceurTemplate *tmpl, GHashTable *vars, GError **error)
{
  g_autofree char *html = NULL;
  g_autoptr(GError) local = NULL;
  gsize length = 0;
  char *expanded;

  if (!g_file_get_contents(tmpl->html_path, &html, &length, &local)) {
    g_autofree char *why = farceur_file_error_text(local);
    g_autofree char *path = compose_escape(tmpl->html_path);
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "Html file '%s' (template '%s' line %u): %s", path, tmpl->file, tmpl->html_line,
                why);
    return NULL;
  }
  if (strlen(html) != length || !g_utf8_validate(html, length, NULL)) {
    compose_fail(error, tmpl, tmpl->html_line, "Html file '%s' is not UTF-8 text", tmpl->html_path);
    return NULL;
  }
  compose_normalise_newlines(html);
  expanded = farceur_template_expand(html, vars, tmpl->html_path, 1, error);
  if (expanded != NULL)
    compose_normalise_newlines(expanded); /* a value may hold CR LF */
  return expanded;
}

/* Sets a MIME parameter and forces its RFC 2231 charset to UTF-8 (GMime
 * would otherwise pick ISO-8859-1 whenever the value fits). */
static void
compose_set_utf8_param(GMimeParamList *params, const char *name, const char *value)
{
  g_mime_param_list_set_parameter(params, name, value);
  g_mime_param_set_charset(g_mime_param_list_get_parameter(params, name), "utf-8");
}

/* The MIME type of @path: from its name, sniffing its first bytes when the
 * name says nothing certain.  multipart/ and message/ types cannot travel
 * as base64 (RFC 2046 5.1, 5.2): they become application/octet-stream. */
static char *
compose_guess_type(GFile *file, const char *name)
{
  gboolean uncertain = TRUE;
  g_autofree char *guess = g_content_type_guess(name, NULL, 0, &uncertain);
  g_autofree char *mime = NULL;

  if (uncertain) {
    guchar buf[4096];
    gsize got = 0;
    g_autoptr(GFileInputStream) in = g_file_read(file, NULL, NULL);
    if (in && g_input_stream_read_all(G_INPUT_STREAM(in), buf, sizeof buf, &got, NULL, NULL)) {
      g_free(guess);
      guess = g_content_type_guess(name, buf, got, NULL);
    }
  }
  mime = g_content_type_get_mime_type(guess);
  if (mime == NULL || g_str_has_prefix(mime, "multipart/") || g_str_has_prefix(mime, "message/")
      || strchr(mime, '/') == NULL)
    return g_strdup("application/octet-stream");
  return g_steal_pointer(&mime);
}

/* The charset of a text attachment, from a bounded look at its start
 * (COMPOSE_SNIFF bytes; the file is streamed later, never read whole):
 * "us-ascii" when the whole file was seen and is ASCII, "utf-8" when what
 * was seen is UTF-8 (a character cut at the end of the look is allowed),
 * %NULL otherwise (unknown: the caller decides). */
#define COMPOSE_SNIFF 65536

static gboolean
compose_is_ascii(const guchar *buf, gsize length)
{
  for (gsize i = 0; i < length; i++)
    if (buf[i] >= 0x80)
      return FALSE;
  return TRUE;
}

static const char *
compose_text_charset(GFile *file)
{
  g_autofree guchar *buf = g_malloc(COMPOSE_SNIFF);
  g_autoptr(GFileInputStream) in = g_file_read(file, NULL, NULL);
  gsize got = 0;
  const char *end = NULL;

  if (in == NULL
      || !g_input_stream_read_all(G_INPUT_STREAM(in), buf, COMPOSE_SNIFF, &got, NULL, NULL))
    return NULL;
  if (memchr(buf, '\0', got) != NULL)
    return NULL;
  if (got < COMPOSE_SNIFF && compose_is_ascii(buf, got))
    return "us-ascii";
  if (g_utf8_validate_len((const char *)buf, got, &end))
    return "utf-8";
  /* a multi-byte character cut by the end of the look */
  if (got == COMPOSE_SNIFF && (const guchar *)end >= buf + got - 3
      && g_utf8_get_char_validated(end, buf + got - (const guchar *)end) == (gunichar)-2)
    return "utf-8";
  return NULL;
}

/* Error for attachment @spec of @tmpl (or of --attach when @tmpl is NULL):
 * "attachment 'x.pdf' (template 'a.tmpl' line 3): no such file". */
static gboolean
compose_attach_fail(GError **error, const FarceurTemplate *tmpl, const FarceurAttachSpec *spec,
                    int code, const char *why)
{
  g_autofree char *path = compose_escape(spec->path);

  if (tmpl != NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "attachment '%s' (template '%s' line %u): %s", path, tmpl->file, spec->line, why);
    return FALSE;
  }
  g_set_error(error, FARCEUR_ERROR, code, "attachment '%s': %s", path, why);
  return FALSE;
}

static gboolean
compose_check_attach(const FarceurTemplate *tmpl, const FarceurAttachSpec *spec, GError **error)
{
  GStatBuf st;
  g_autofree char *why = NULL;

  if (g_stat(spec->path, &st) != 0 || (S_ISREG(st.st_mode) && g_access(spec->path, R_OK) != 0)) {
    why = farceur_errno_text(errno);
    return compose_attach_fail(error, tmpl, spec, FARCEUR_ERROR_NOINPUT, why);
  }
  if (!S_ISREG(st.st_mode))
    return compose_attach_fail(error, tmpl, spec, FARCEUR_ERROR_NOINPUT, "not a regular file");
  return TRUE;
}

/* Checks the values of @spec that end up in MIME parameters and headers. */
static gboolean
compose_check_attach_values(const FarceurTemplate *tmpl, const FarceurAttachSpec *spec,
                            const char *name, const char *type, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (!farceur_compose_check_header_value("attachment name", name, &local)
      || !farceur_compose_check_header_value("attachment type", type, &local)
      || (spec->cid && !farceur_compose_check_header_value("attachment cid", spec->cid, &local)))
    return compose_attach_fail(error, tmpl, spec, FARCEUR_ERROR_DATA, local->message);
  if (strchr(type, '/') == NULL || strchr(type, ';') != NULL
      || g_ascii_strncasecmp(type, "multipart/", 10) == 0
      || g_ascii_strncasecmp(type, "message/", 8) == 0)
    return compose_attach_fail(error, tmpl, spec, FARCEUR_ERROR_DATA,
                               "type must be a non-multipart, non-message MIME type");
  /* GMime writes an ASCII parameter as it is, and readers (GMime, Python)
   * decode encoded-words even inside quoted parameter values. */
  if (strstr(name, "=?") != NULL && strstr(strstr(name, "=?") + 2, "?=") != NULL)
    return compose_attach_fail(error, tmpl, spec, FARCEUR_ERROR_DATA,
                               "name looks like an RFC 2047 encoded-word");
  if (spec->cid && strpbrk(spec->cid, "<>\" ") != NULL)
    return compose_attach_fail(error, tmpl, spec, FARCEUR_ERROR_DATA, "bad cid");
  return TRUE;
}

static void
compose_set_file_content(GMimePart *part, GFile *file)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_gio_new(g_object_ref(file));
  g_autoptr(GMimeDataWrapper) content
      = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);

  g_mime_part_set_content(part, content);
  g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
}

static GMimeObject *
compose_attachment(const FarceurTemplate *tmpl, const FarceurAttachSpec *spec, GError **error)
{
  g_autoptr(GFile) file = g_file_new_for_path(spec->path);
  g_autofree char *name
      = spec->name ? g_strdup(spec->name) : g_filename_display_basename(spec->path);
  g_autofree char *type = NULL;
  g_autofree char *media = NULL;
  g_autoptr(GMimeContentDisposition) disposition = g_mime_content_disposition_new();
  g_autoptr(GMimePart) part = NULL;
  const char *charset;

  if (!compose_check_attach(tmpl, spec, error))
    return NULL;
  type = spec->type ? g_ascii_strdown(spec->type, -1) : compose_guess_type(file, name);
  if (!compose_check_attach_values(tmpl, spec, name, type, error))
    return NULL;
  /* A text file says its charset; a guessed text type whose start is not
   * UTF-8 (or holds NUL) travels as application/octet-stream rather than as
   * text of an unknown charset (a reader would guess it wrong); a type given
   * in the template is kept, without charset. */
  charset = g_str_has_prefix(type, "text/") ? compose_text_charset(file) : NULL;
  if (charset == NULL && spec->type == NULL && g_str_has_prefix(type, "text/")) {
    g_free(type);
    type = g_strdup("application/octet-stream");
  }
  media = g_strndup(type, strcspn(type, "/")); /* checked: "type/subtype", no parameters */
  part = g_mime_part_new_with_type(media, type + strlen(media) + 1);
  if (charset != NULL)
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", charset);
  compose_set_utf8_param(
      g_mime_content_type_get_parameters(g_mime_object_get_content_type(GMIME_OBJECT(part))),
      "name", name);
  g_mime_content_disposition_set_disposition(disposition,
                                             spec->is_inline ? "inline" : "attachment");
  compose_set_utf8_param(g_mime_content_disposition_get_parameters(disposition), "filename", name);
  g_mime_object_set_content_disposition(GMIME_OBJECT(part), disposition);
  if (spec->cid)
    g_mime_part_set_content_id(part, spec->cid);
  compose_set_file_content(part, file);
  return GMIME_OBJECT(g_steal_pointer(&part));
}

/* TRUE when the HTML refers to @spec by "cid:ID" (RFC 2392), the whole ID:
 * "cid:logo2" is not a reference to "logo".  An ID ends where a URL or an
 * HTML attribute does (quote, space, '>', ')', ...). */
static gboolean
compose_is_related(const FarceurAttachSpec *spec, const char *html)
{
  g_autofree char *ref = NULL;
  gsize length;

  if (html == NULL || spec->cid == NULL)
    return FALSE;
  ref = g_strconcat("cid:", spec->cid, NULL);
  length = strlen(ref);
  for (const char *p = strstr(html, ref); p; p = strstr(p + 1, ref)) {
    char next = p[length];
    if (next == '\0' || strchr("\"'<>() \t\n;,?#&", next) != NULL)
      return TRUE;
  }
  return FALSE;
}

static GMimeObject *
compose_multipart(const char *subtype, GMimeObject *first)
{
  GMimeMultipart *multipart = g_mime_multipart_new_with_subtype(subtype);

  g_mime_multipart_add(multipart, first);
  return GMIME_OBJECT(multipart);
}

/* text/html, wrapped in multipart/related with the inline parts it uses. */
static GMimeObject *
compose_html(const FarceurTemplate *tmpl, const char *html, GPtrArray *attached, GError **error)
{
  g_autoptr(GMimeObject) part = compose_text_part("html", html);
  g_autoptr(GMimeObject) related = NULL;

  for (guint i = 0; i < tmpl->attachments->len; i++) {
    const FarceurAttachSpec *spec = tmpl->attachments->pdata[i];
    GMimeObject *inline_part;
    if (!compose_is_related(spec, html))
      continue;
    inline_part = compose_attachment(tmpl, spec, error);
    if (inline_part == NULL)
      return NULL;
    if (related == NULL) {
      related = compose_multipart("related", part);
      g_mime_object_set_content_type_parameter(related, "type", "text/html");
    }
    g_mime_multipart_add(GMIME_MULTIPART(related), inline_part);
    g_object_unref(inline_part);
    g_ptr_array_add(attached, (gpointer)spec);
  }
  return related ? g_steal_pointer(&related) : g_steal_pointer(&part);
}

/* text/plain, or multipart/alternative of text/plain and the HTML; text/html
 * alone for a lab message whose body is HTML. */
static GMimeObject *
compose_text(const FarceurTemplate *tmpl, GHashTable *vars, GPtrArray *attached, GError **error)
{
  g_autofree char *text = farceur_template_expand(tmpl->body ? tmpl->body : "", vars, tmpl->file,
                                                  tmpl->body_line, error);
  g_autofree char *html = NULL;
  g_autoptr(GMimeObject) plain = NULL;
  g_autoptr(GMimeObject) html_part = NULL;
  GMimeObject *alternative;

  if (text == NULL)
    return NULL;
  compose_normalise_newlines(text);
  if (tmpl->body_is_html && tmpl->html_path == NULL)
    return compose_html(tmpl, text, attached, error); /* a lab message said "type: html" */
  plain = compose_text_part("plain", text);
  if (tmpl->html_path == NULL)
    return g_steal_pointer(&plain);
  html = compose_read_html(tmpl, vars, error);
  if (html == NULL)
    return NULL;
  html_part = compose_html(tmpl, html, attached, error);
  if (html_part == NULL)
    return NULL;
  alternative = compose_multipart("alternative", plain);
  g_mime_multipart_add(GMIME_MULTIPART(alternative), html_part);
  return alternative;
}

static gboolean
compose_add_attachment(GMimeObject **body, GMimeObject *part)
{
  if (!GMIME_IS_MULTIPART(*body)
      || !g_mime_content_type_is_type(g_mime_object_get_content_type(*body), "multipart",
                                      "mixed")) {
    GMimeObject *mixed = compose_multipart("mixed", *body);
    g_object_unref(*body);
    *body = mixed;
  }
  g_mime_multipart_add(GMIME_MULTIPART(*body), part);
  g_object_unref(part);
  return TRUE;
}

static gboolean
compose_add_extra(GMimeObject **body, const char *path, GError **error)
{
  FarceurAttachSpec spec = { .path = (char *)path };
  GMimeObject *part = compose_attachment(NULL, &spec, error);

  return part != NULL && compose_add_attachment(body, part);
}

GMimeObject *
compose_body_new(const FarceurTemplate *tmpl, GHashTable *vars, const char *const *extra,
                 GError **error)
{
  g_autoptr(GPtrArray) attached = g_ptr_array_new();
  g_autoptr(GMimeObject) body = compose_text(tmpl, vars, attached, error);

  if (body == NULL)
    return NULL;
  for (guint i = 0; i < tmpl->attachments->len; i++) {
    const FarceurAttachSpec *spec = tmpl->attachments->pdata[i];
    GMimeObject *part;
    if (g_ptr_array_find(attached, spec, NULL))
      continue;
    part = compose_attachment(tmpl, spec, error);
    if (part == NULL)
      return NULL;
    compose_add_attachment(&body, part);
  }
  for (gsize i = 0; extra && extra[i]; i++)
    if (!compose_add_extra(&body, extra[i], error))
      return NULL;
  return g_steal_pointer(&body);
}

static void
compose_seed_one(GMimeObject *object, const char *seed, guint *counter)
{
  g_autofree char *input = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *boundary = NULL;
  int n;

  if (!GMIME_IS_MULTIPART(object))
    return;
  input = g_strdup_printf("%s/%u", seed, (*counter)++);
  digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, input, -1);
  boundary = g_strdup_printf("=-%.24s", digest);
  g_mime_multipart_set_boundary(GMIME_MULTIPART(object), boundary);
  n = g_mime_multipart_get_count(GMIME_MULTIPART(object));
  for (int i = 0; i < n; i++)
    compose_seed_one(g_mime_multipart_get_part(GMIME_MULTIPART(object), i), seed, counter);
}

/* Deterministic boundaries "=-" + 24 hex digits of SHA-256(seed/N), in the
 * style of GMime's own "=-" + random ones (a "=" never occurs in
 * quoted-printable output, so no QP body can contain the delimiter). */
void
compose_seed_boundaries(GMimeObject *object, const char *seed)
{
  guint counter = 0;

  compose_seed_one(object, seed, &counter);
}
