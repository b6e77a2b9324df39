/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: prank templates (data/doc/formats.md, Templates): one template
 * parsed, loaded, and its placeholders expanded.  The messages files of the
 * course lab, which hold several messages, are read by template-messages.c
 * (text) and template-json.c (JSON) into templates made here.
 *
 * Hand-written: the template format is farceur's own (a header block with
 * pseudo-headers, {{placeholders}}), so neither GMime nor GLib parses it.
 * GMime does all the real header work later, when the message is composed.
 */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include <farceur/template.h>

#include "error-text.h"
#include "template-private.h"

#define TEMPLATE_MAX_NAME 64 /* placeholder names */

static gboolean template_vfail(GError **error, const char *what, const char *file, guint line,
                               const char *format, va_list args) G_GNUC_PRINTF(5, 0);

static gboolean
template_vfail(GError **error, const char *what, const char *file, guint line, const char *format,
               va_list args)
{
  g_autofree char *text = g_strdup_vprintf(format, args);

  if (line > 0)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "%s '%s' line %u: %s", what, file, line,
                text);
  else
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "%s '%s': %s", what, file, text);
  return FALSE;
}

/* "template 'FILE' line N: what" (without the line when @line is 0). */
gboolean
template_fail(GError **error, const char *file, guint line, const char *format, ...)
{
  va_list args;

  va_start(args, format);
  template_vfail(error, "template", file, line, format, args);
  va_end(args);
  return FALSE;
}

/* "messages 'FILE' line N: what", about a messages file as a whole. */
gboolean
template_fail_messages(GError **error, const char *file, guint line, const char *format, ...)
{
  va_list args;

  va_start(args, format);
  template_vfail(error, "messages", file, line, format, args);
  va_end(args);
  return FALSE;
}

/**
 * farceur_template_header_free:
 * @header: (nullable): a header of a template, or an expanded copy
 */
void
farceur_template_header_free(FarceurTemplateHeader *header)
{
  if (header == NULL)
    return;
  g_free(header->name);
  g_free(header->value);
  g_free(header->folded);
  g_free(header);
}

static void
template_attach_free(gpointer data)
{
  FarceurAttachSpec *spec = data;

  g_free(spec->path);
  g_free(spec->name);
  g_free(spec->type);
  g_free(spec->cid);
  g_free(spec);
}

void
farceur_template_free(FarceurTemplate *tmpl)
{
  if (tmpl == NULL)
    return;
  g_free(tmpl->file);
  g_free(tmpl->dir);
  g_ptr_array_unref(tmpl->headers);
  g_ptr_array_unref(tmpl->attachments);
  g_free(tmpl->html_path);
  g_free(tmpl->body);
  g_free(tmpl);
}

FarceurTemplate *
template_new(const TemplateContext *ctx)
{
  FarceurTemplate *tmpl = g_new0(FarceurTemplate, 1);

  tmpl->file = g_strdup(ctx->file);
  tmpl->dir = g_strdup(ctx->dir ? ctx->dir : ".");
  tmpl->headers = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_template_header_free);
  tmpl->attachments = g_ptr_array_new_with_free_func(template_attach_free);
  return tmpl;
}

/**
 * farceur_template_get_header:
 * @tmpl: a template
 * @name: a header name, compared case-insensitively
 *
 * Returns: (nullable) (transfer none): the unexpanded value of the first
 *   header called @name
 */
const char *
farceur_template_get_header(const FarceurTemplate *tmpl, const char *name)
{
  g_return_val_if_fail(tmpl != NULL, NULL);
  g_return_val_if_fail(name != NULL, NULL);

  for (guint i = 0; i < tmpl->headers->len; i++) {
    FarceurTemplateHeader *header = tmpl->headers->pdata[i];
    if (g_ascii_strcasecmp(header->name, name) == 0)
      return header->value;
  }
  return NULL;
}

/* A header field name: printable US-ASCII except ':' (RFC 5322 2.2). */
static gsize
template_field_name_length(const char *line)
{
  gsize n = 0;

  while (line[n] > 32 && line[n] < 127 && line[n] != ':')
    n++;
  return line[n] == ':' ? n : 0;
}

/* In a lab messages file "Subject : x" (a blank before the colon, as
 * French typography has it) is a Subject line too: returns the length of
 * the name and sets *@colon to the colon's offset. */
static gsize
template_lab_name_length(const char *line, gsize *colon)
{
  gsize n = template_field_name_length(line), blanks;

  *colon = n;
  if (n > 0 || line[0] == '\0')
    return n;
  while (line[n] > 32 && line[n] < 127 && line[n] != ':')
    n++;
  blanks = n + strspn(line + n, " \t");
  if (n == 0 || line[blanks] != ':' || blanks == n)
    return 0;
  *colon = blanks;
  return n;
}

/* Refuses bytes that have no business in a UTF-8 text template: NUL (it would
 * cut the text), a CR not followed by LF, other C0 controls but TAB. */
static gboolean
template_check_text(const char *text, gsize length, const TemplateContext *ctx, guint first_line,
                    GError **error)
{
  const char *bad = NULL;
  guint line = first_line;

  for (gsize i = 0; i < length; i++) {
    guchar c = (guchar)text[i];
    if (c == '\n')
      line++;
    else if (c == '\r' && i + 1 < length && text[i + 1] == '\n')
      continue;
    else if ((c < 0x20 && c != '\t') || c == 0x7f)
      return template_fail(error, ctx->file, line, "control character 0x%02x", c);
  }
  if (!g_utf8_validate_len(text, length, &bad)) {
    line = first_line;
    for (const char *p = text; p < bad; p++)
      line += *p == '\n';
    return template_fail(error, ctx->file, line, "not valid UTF-8");
  }
  return TRUE;
}

/* Splits "a; b=c; d=\"e; f\"" on semicolons outside double quotes. */
static GPtrArray *
template_split_params(const char *value)
{
  GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
  GString *item = g_string_new(NULL);
  gboolean quoted = FALSE;

  for (const char *p = value;; p++) {
    if (*p == '"')
      quoted = !quoted;
    if (*p == '\0' || (*p == ';' && !quoted)) {
      g_ptr_array_add(items, g_strstrip(g_strdup(item->str)));
      g_string_truncate(item, 0);
      if (*p == '\0')
        break;
      continue;
    }
    g_string_append_c(item, *p);
  }
  g_string_free(item, TRUE);
  return items;
}

static char *
template_unquote(const char *value)
{
  gsize n = strlen(value);

  if (n >= 2 && value[0] == '"' && value[n - 1] == '"')
    return g_strndup(value + 1, n - 2);
  return g_strdup(value);
}

static char *
template_resolve(const TemplateContext *ctx, const char *path)
{
  if (g_path_is_absolute(path))
    return g_strdup(path);
  return g_build_filename(ctx->dir ? ctx->dir : ".", path, NULL);
}

/* A MIME type "type/subtype" made of RFC 2045 token characters. */
static gboolean
template_is_mime_type(const char *type)
{
  const char *slash = strchr(type, '/');

  if (slash == NULL || slash == type || slash[1] == '\0')
    return FALSE;
  for (const char *p = type; *p; p++)
    if (p != slash && (*p <= 32 || *p >= 127 || strchr("()<>@,;:\\\"/[]?=", *p) != NULL))
      return FALSE;
  return TRUE;
}

/* A Content-ID (without <>) is a msg-id: visible ASCII, no brackets. */
static gboolean
template_is_content_id(const char *cid)
{
  if (*cid == '\0')
    return FALSE;
  for (const char *p = cid; *p; p++)
    if (*p <= 32 || *p >= 127 || *p == '<' || *p == '>' || *p == '"')
      return FALSE;
  return TRUE;
}

static gboolean
template_attach_param(FarceurAttachSpec *spec, const char *param, const TemplateContext *ctx,
                      GError **error)
{
  const char *eq = strchr(param, '=');
  g_autofree char *key = g_strstrip(eq ? g_strndup(param, eq - param) : g_strdup(param));
  g_autofree char *value = eq ? template_unquote(g_strstrip((char *)eq + 1)) : NULL;

  if (g_ascii_strcasecmp(key, "inline") == 0 && value == NULL)
    spec->is_inline = TRUE;
  else if (g_ascii_strcasecmp(key, "name") == 0 && value && *value)
    g_free(spec->name), spec->name = g_steal_pointer(&value);
  else if (g_ascii_strcasecmp(key, "type") == 0 && value && template_is_mime_type(value))
    g_free(spec->type), spec->type = g_ascii_strdown(value, -1);
  else if (g_ascii_strcasecmp(key, "cid") == 0 && value && template_is_content_id(value))
    g_free(spec->cid), spec->cid = g_steal_pointer(&value);
  else
    return template_fail(error, ctx->file, spec->line, "bad Attach parameter '%s'", param);
  return TRUE;
}

/* Attach: PATH[; name=NAME][; type=TYPE][; inline][; cid=ID] */
static gboolean
template_parse_attach(FarceurTemplate *tmpl, const FarceurTemplateHeader *header,
                      const TemplateContext *ctx, GError **error)
{
  g_autoptr(GPtrArray) items = template_split_params(header->value);
  FarceurAttachSpec *spec = g_new0(FarceurAttachSpec, 1);
  g_autofree char *path = template_unquote(items->pdata[0]);

  spec->line = header->line;
  g_ptr_array_add(tmpl->attachments, spec);
  if (*path == '\0')
    return template_fail(error, ctx->file, header->line, "Attach without a file name");
  spec->path = template_resolve(ctx, path);
  for (guint i = 1; i < items->len; i++)
    if (!template_attach_param(spec, items->pdata[i], ctx, error))
      return FALSE;
  if (spec->cid)
    spec->is_inline = TRUE; /* a part referenced by cid: is shown inline */
  return TRUE;
}

static gboolean
template_parse_html(FarceurTemplate *tmpl, const FarceurTemplateHeader *header,
                    const TemplateContext *ctx, GError **error)
{
  g_autofree char *path = template_unquote(header->value);

  if (tmpl->html_path != NULL)
    return template_fail(error, ctx->file, header->line, "second Html header (first on line %u)",
                         tmpl->html_line);
  if (*path == '\0')
    return template_fail(error, ctx->file, header->line, "Html without a file name");
  tmpl->html_path = template_resolve(ctx, path);
  tmpl->html_line = header->line;
  return TRUE;
}

/* Files the unfolded header, or consumes it when it is a pseudo-header. */
static gboolean
template_add_header(FarceurTemplate *tmpl, FarceurTemplateHeader *header,
                    const TemplateContext *ctx, GError **error)
{
  gboolean ok = TRUE;

  g_strstrip(header->value);
  if (g_ascii_strcasecmp(header->name, "Attach") == 0)
    ok = template_parse_attach(tmpl, header, ctx, error);
  else if (g_ascii_strcasecmp(header->name, "Html") == 0)
    ok = template_parse_html(tmpl, header, ctx, error);
  else if (ctx->lenient && g_ascii_strcasecmp(header->name, "Type") == 0
           && (g_ascii_strcasecmp(header->value, "html") == 0
               || g_ascii_strcasecmp(header->value, "text") == 0))
    tmpl->body_is_html = g_ascii_strcasecmp(header->value, "html") == 0; /* "type: html" */
  else {
    g_ptr_array_add(tmpl->headers, header);
    return TRUE;
  }
  farceur_template_header_free(header);
  return ok;
}

typedef struct {
  char **lines;
  guint first_line;
  guint index; /* current line, 0-based */
} TemplateLines;

static gboolean
template_is_blank(const char *line)
{
  return line[strspn(line, " \t")] == '\0';
}

/* Reads one header (its name @name_length long, its colon at @colon) and
 * its folded continuation lines. */
static FarceurTemplateHeader *
template_read_header(TemplateLines *in, gsize name_length, gsize colon)
{
  FarceurTemplateHeader *header = g_new0(FarceurTemplateHeader, 1);
  const char *line = in->lines[in->index];
  GString *value = g_string_new(line + colon + 1);
  GString *folded = g_string_new(value->str);
  gboolean is_folded = FALSE;

  header->name = g_strndup(line, name_length);
  header->line = in->first_line + in->index;
  /* Unfold (RFC 5322 2.2.3): drop the line break, keep the white space.
   * The folded form is kept too, for placeholder errors (see template.h). */
  while (in->lines[in->index + 1] != NULL
         && (in->lines[in->index + 1][0] == ' ' || in->lines[in->index + 1][0] == '\t')
         && !template_is_blank(in->lines[in->index + 1])) {
    in->index++;
    g_string_append(value, in->lines[in->index]);
    g_string_append_printf(folded, "\n%s", in->lines[in->index]);
    is_folded = TRUE;
  }
  in->index++;
  header->value = g_string_free(value, FALSE);
  header->folded = g_string_free(folded, !is_folded);
  return header;
}

/* In a lab messages file the body may follow Subject without a blank line,
 * so a first body line "Note: ..." would read as a header.  There, after
 * the first header, only these names (and X-...) continue the header
 * block; any other line starts the body.  Templates (.tmpl) are strict. */
static gboolean
template_is_lab_header(const char *line, gsize length)
{
  static const char *const known[] = {
    "Subject",      "From",     "To",          "Cc",         "Bcc",        "Reply-To",
    "Sender",       "Attach",   "Html",        "Priority",   "Importance", "Keywords",
    "Organization", "Comments", "In-Reply-To", "References", "Type",       NULL,
  };

  if (length > 2 && g_ascii_strncasecmp(line, "X-", 2) == 0)
    return TRUE;
  for (gsize i = 0; known[i]; i++)
    if (strlen(known[i]) == length && g_ascii_strncasecmp(line, known[i], length) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
template_parse_headers(FarceurTemplate *tmpl, TemplateLines *in, const TemplateContext *ctx,
                       GError **error)
{
  while (in->lines[in->index] != NULL) {
    const char *line = in->lines[in->index];
    gsize colon = 0;
    gsize name_length
        = ctx->lenient ? template_lab_name_length(line, &colon) : template_field_name_length(line);

    if (*line == '\0') {
      in->index++; /* the blank line that ends the header block */
      return TRUE;
    }
    if (ctx->lenient && tmpl->headers->len > 0
        && (name_length == 0 || !template_is_lab_header(line, name_length)))
      return TRUE; /* lab messages file: the body starts right after Subject */
    if (name_length == 0)
      return template_fail(error, ctx->file, in->first_line + in->index,
                           "expected 'Name: value' or a blank line before the body, got '%.40s'",
                           line);
    if (!ctx->lenient)
      colon = name_length;
    if (!template_add_header(tmpl, template_read_header(in, name_length, colon), ctx, error))
      return FALSE;
  }
  return TRUE;
}

static char *
template_join_body(char **lines)
{
  GString *body = g_string_new(NULL);

  for (guint i = 0; lines[i] != NULL; i++) {
    g_string_append(body, lines[i]);
    if (lines[i + 1] != NULL)
      g_string_append_c(body, '\n');
  }
  return g_string_free(body, FALSE);
}

FarceurTemplate *
template_parse_with(const char *text, gsize length, const TemplateContext *ctx, guint first_line,
                    GError **error)
{
  g_autoptr(FarceurTemplate) tmpl = template_new(ctx);
  g_auto(GStrv) lines = NULL;
  TemplateLines in = { NULL, first_line, 0 };

  if (length >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
    text += 3, length -= 3; /* a UTF-8 byte order mark some editors add */
  if (!template_check_text(text, length, ctx, first_line, error))
    return NULL;
  lines = farceur_read_file_lines(text, length, NULL); /* a CR is only half a CRLF here */
  in.lines = lines;
  if (!template_parse_headers(tmpl, &in, ctx, error))
    return NULL;
  if (farceur_template_get_header(tmpl, "Subject") == NULL)
    return template_fail(error, ctx->file, first_line, "no Subject header"), NULL;
  tmpl->body_line = first_line + in.index;
  tmpl->body = template_join_body(lines + in.index);
  return g_steal_pointer(&tmpl);
}

/**
 * farceur_template_parse:
 * @text: the template text (UTF-8; LF or CRLF line ends)
 * @length: length of @text, or -1 when it is nul-terminated
 * @file: the name to use in error messages
 * @dir: (nullable): the folder Attach: and Html: paths are relative to
 * @first_line: the line number of @text's first line in @file
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Parses one template.  Checks the syntax, the pseudo-headers and that a
 * Subject is present; placeholders are checked when they are expanded.
 *
 * Returns: (transfer full): the template, or %NULL on error
 */
FarceurTemplate *
farceur_template_parse(const char *text, gssize length, const char *file, const char *dir,
                       guint first_line, GError **error)
{
  TemplateContext ctx = { file, dir, FALSE };

  g_return_val_if_fail(text != NULL, NULL);
  g_return_val_if_fail(file != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  return template_parse_with(text, length < 0 ? strlen(text) : (gsize)length, &ctx,
                             first_line ? first_line : 1, error);
}

char *
template_read_file(const char *path, gsize *length, GError **error)
{
  g_autoptr(GError) local = NULL;
  char *text = NULL;

  if (!g_file_get_contents(path, &text, length, &local)) {
    int code = g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? FARCEUR_ERROR_NOINPUT
                                                                        : FARCEUR_ERROR_IO;
    g_autofree char *why = farceur_file_error_text(local);
    g_set_error(error, FARCEUR_ERROR, code, "cannot read template '%s': %s", path, why);
    return NULL;
  }
  if (*length > TEMPLATE_MAX_SIZE) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "template '%s' is larger than %d MB",
                path, TEMPLATE_MAX_SIZE >> 20);
    g_free(text);
    return NULL;
  }
  return text;
}

/**
 * farceur_template_load:
 * @path: a template file
 * @error: return location for an error
 *
 * Returns: (transfer full): the template, or %NULL on error
 */
FarceurTemplate *
farceur_template_load(const char *path, GError **error)
{
  gsize length = 0;
  g_autofree char *text = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  text = template_read_file(path, &length, error);
  dir = g_path_get_dirname(path);
  if (text == NULL)
    return NULL;
  return farceur_template_parse(text, length, path, dir, 1, error);
}

/* A control character in @text but TAB (and LF when @lf_ok), or NULL. */
static const char *
template_find_control(const char *text, gboolean lf_ok)
{
  for (const char *p = text; *p; p++)
    if (((guchar)*p < 0x20 && *p != '\t' && !(lf_ok && *p == '\n')) || *p == 0x7f)
      return p;
  return NULL;
}

/**
 * template_new_message:
 * @ctx: the file and folder it comes from
 * @subject: its subject, "" for none
 * @body: its body; CR LF and CR become LF
 * @subject_line: where the subject is in the file (0: nowhere)
 * @body_line: where the body starts
 * @error: return location for a %FARCEUR_ERROR_DATA error: a control
 *   character, or a line break in the subject
 *
 * A template made of a subject and a body read from a messages file that
 * is not in the template syntax (a first line, a file name, JSON).
 *
 * Returns: (transfer full): the template
 */
FarceurTemplate *
template_new_message(const TemplateContext *ctx, const char *subject, const char *body,
                     guint subject_line, guint body_line, GError **error)
{
  g_autoptr(FarceurTemplate) tmpl = template_new(ctx);
  FarceurTemplateHeader *header;
  g_autoptr(GString) text = g_string_new(body);
  const char *bad;

  g_string_replace(text, "\r\n", "\n", 0);
  g_string_replace(text, "\r", "\n", 0);
  if ((bad = template_find_control(subject, FALSE)) != NULL)
    return template_fail(error, ctx->file, subject_line,
                         "the subject holds control character 0x%02x", (guchar)*bad),
           NULL;
  if ((bad = template_find_control(text->str, TRUE)) != NULL)
    return template_fail(error, ctx->file, body_line, "control character 0x%02x in the body",
                         (guchar)*bad),
           NULL;
  header = g_new0(FarceurTemplateHeader, 1);
  header->name = g_strdup("Subject");
  header->value = g_strdup(subject);
  header->line = subject_line;
  g_ptr_array_add(tmpl->headers, header);
  tmpl->body = g_string_free(g_steal_pointer(&text), FALSE);
  tmpl->body_line = body_line;
  return g_steal_pointer(&tmpl);
}

static gboolean
template_is_placeholder_name(const char *name, gsize length)
{
  if (length == 0 || length > TEMPLATE_MAX_NAME)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!(g_ascii_isalnum(name[i]) || name[i] == '_' || name[i] == '.' || name[i] == '-'))
      return FALSE;
  return TRUE;
}

/* Looks up the placeholder between @open ("{{") and @close ("}}"). */
static const char *
template_lookup(const char *open, const char *close, GHashTable *vars, const char *file, guint line,
                GError **error)
{
  const char *name = open + 2, *end = close;
  g_autofree char *key = NULL;
  const char *value;

  while (name < end && (*name == ' ' || *name == '\t'))
    name++;
  while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  if (!template_is_placeholder_name(name, end - name)) {
    template_fail(error, file, line, "malformed placeholder '%.*s'", (int)(close + 2 - open), open);
    return NULL;
  }
  key = g_strndup(name, end - name);
  value = vars ? g_hash_table_lookup(vars, key) : NULL;
  if (value == NULL)
    template_fail(error, file, line, "unknown placeholder '{{%s}}'", key);
  return value;
}

/**
 * farceur_template_expand:
 * @text: text holding `{{name}}` placeholders (blanks inside the braces allowed)
 * @vars: (nullable) (element-type utf8 utf8): name -> value
 * @file: the file @text comes from, for error messages
 * @first_line: the line of @text's first line in @file
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Replaces every placeholder by its value.  Values are inserted as they are:
 * the composer checks them for the context they land in (a header value may
 * hold no CR or LF).  An unknown or malformed placeholder, or a `{{` without
 * its `}}`, is an error naming @file and the line.
 *
 * Returns: (transfer full): the expanded text, or %NULL on error
 */
char *
farceur_template_expand(const char *text, GHashTable *vars, const char *file, guint first_line,
                        GError **error)
{
  g_autoptr(GString) out = NULL;
  guint line = first_line;
  const char *p = text;

  g_return_val_if_fail(text != NULL, NULL);
  g_return_val_if_fail(file != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  out = g_string_sized_new(strlen(text) + 64);
  for (;;) {
    const char *open = strstr(p, "{{"), *close, *value;
    if (open == NULL)
      break;
    for (const char *q = p; q < open; q++)
      line += *q == '\n';
    close = strstr(open + 2, "}}");
    if (close == NULL || memchr(open, '\n', close - open) != NULL) {
      template_fail(error, file, line, "'{{' without its closing '}}'");
      return NULL;
    }
    value = template_lookup(open, close, vars, file, line, error);
    if (value == NULL)
      return NULL;
    g_string_append_len(out, p, open - p);
    g_string_append(out, value);
    p = close + 2;
  }
  g_string_append(out, p);
  return g_string_free(g_steal_pointer(&out), FALSE);
}
