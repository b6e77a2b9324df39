/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the human form of an inspected message (farceur-inspect(1)). */
#include "config.h"

#include <string.h>

#include <farceur/inspect.h>

#include "inspect-private.h"

#define TEXT_BOLD "\033[1m"
#define TEXT_DIM "\033[2m"
#define TEXT_RED "\033[31m"
#define TEXT_GREEN "\033[32m"
#define TEXT_YELLOW "\033[33m"
#define TEXT_CYAN "\033[36m"
#define TEXT_RESET "\033[0m"

typedef struct {
  GString *out;
  FarceurInspectFormatFlags flags;
  int path_width; /* the path column: the longest path, at least 4 */
} InspectText;

gboolean
inspect_text_unsafe(gunichar c)
{
  return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x200e || c == 0x200f
         || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/**
 * farceur_inspect_printable:
 * @text: (nullable): text from a message
 *
 * Message text on a terminal or in a page must not move the cursor, change
 * colours or reverse the direction of a file name ("gpj.exe"): such
 * characters (C0, DEL, C1, bidirectional controls) become '?', invalid
 * UTF-8 U+FFFD.  A TAB stays: it is the white space a folded header line
 * keeps once unfolded (RFC 5322 2.2.3), and moves nothing but to the next
 * column.
 *
 * Returns: (transfer full): @text, safe to show ("" for %NULL)
 */
char *
farceur_inspect_printable(const char *text)
{
  g_autofree char *valid = g_utf8_make_valid(text ? text : "", -1);
  GString *out = g_string_sized_new(strlen(valid));

  for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);

    if (inspect_text_unsafe(c) && c != '\t')
      g_string_append_c(out, '?');
    else
      g_string_append_unichar(out, c);
  }
  return g_string_free(out, FALSE);
}

static void
inspect_text_colour(InspectText *text, const char *colour, const char *value)
{
  g_autofree char *safe = farceur_inspect_printable(value);

  if (text->flags & FARCEUR_INSPECT_FORMAT_COLOUR)
    g_string_append_printf(text->out, "%s%s%s", colour, safe, TEXT_RESET);
  else
    g_string_append(text->out, safe);
}

static char *
inspect_text_size(gint64 size)
{
  if (size < 1024)
    return g_strdup_printf("%" G_GINT64_FORMAT " B", size);
  if (size < 1024 * 1024)
    return g_strdup_printf("%.1f KB", size / 1024.0);
  if (size < G_GINT64_CONSTANT(1024) * 1024 * 1024)
    return g_strdup_printf("%.1f MB", size / (1024.0 * 1024));
  return g_strdup_printf("%.1f GB", size / (1024.0 * 1024 * 1024));
}

/**
 * farceur_inspect_format_addresses:
 * @addresses: (element-type FarceurInspectAddress): addresses of a header
 *
 * Returns: (transfer full): "Name <addr>, addr2", safe to print
 */
char *
farceur_inspect_format_addresses(GPtrArray *addresses)
{
  GString *out = g_string_new(NULL);

  for (guint i = 0; i < addresses->len; i++) {
    FarceurInspectAddress *a = addresses->pdata[i];
    g_autofree char *addr = farceur_inspect_printable(a->addr);
    g_autofree char *name = a->name ? farceur_inspect_printable(a->name) : NULL;

    if (i > 0)
      g_string_append(out, ", ");
    if (name)
      g_string_append_printf(out, "%s <%s>", name, addr);
    else
      g_string_append(out, addr);
  }
  return g_string_free(out, FALSE);
}

static void
inspect_text_addresses(InspectText *text, const char *label, GPtrArray *addresses)
{
  g_autofree char *list = NULL;

  if (addresses->len == 0)
    return;
  list = farceur_inspect_format_addresses(addresses);
  g_string_append_printf(text->out, "  %-10s%s\n", label, list);
}

static void
inspect_text_flag(InspectText *text, const char *line)
{
  g_string_append(text->out, "  ");
  inspect_text_colour(text, TEXT_RED, "! ");
  inspect_text_colour(text, TEXT_RED, line);
  g_string_append_c(text->out, '\n');
}

static void
inspect_text_envelope(InspectText *text, const FarceurInspectMessage *msg)
{
  const FarceurInspectEnvelope *env = msg->envelope;
  g_autofree char *from = farceur_inspect_printable(env->mail_from ? env->mail_from : "?");
  g_autofree char *rcpts = NULL;
  g_autofree char *sources = NULL;

  g_ptr_array_add(env->rcpt_to, NULL);
  rcpts = g_strjoinv(">, <", (char **)env->rcpt_to->pdata);
  g_ptr_array_remove_index(env->rcpt_to, env->rcpt_to->len - 1);
  g_ptr_array_add(env->sources, NULL);
  sources = g_strjoinv(", ", (char **)env->sources->pdata);
  g_ptr_array_remove_index(env->sources, env->sources->len - 1);
  g_string_append_printf(text->out, "  %-10sMAIL FROM:<%s>", "Envelope:", from);
  if (env->rcpt_to->len > 0) {
    g_autofree char *safe = farceur_inspect_printable(rcpts);

    g_string_append_printf(text->out, "  RCPT TO:<%s>", safe);
  }
  g_string_append_printf(text->out, "  (from %s)\n", sources);
  if (env->sender_mismatch) {
    g_autofree char *line
        = g_strdup_printf("envelope sender domain differs from the From domain: %s vs %s", from,
                          ((FarceurInspectAddress *)msg->from->pdata[0])->addr);
    inspect_text_flag(text, line);
  }
  for (guint i = 0; i < env->envelope_only->len; i++) {
    g_autofree char *line = g_strdup_printf("recipient only in the envelope (Bcc): %s",
                                            (char *)env->envelope_only->pdata[i]);
    inspect_text_flag(text, line);
  }
}

static void
inspect_text_summary(InspectText *text, const FarceurInspectMessage *msg)
{
  g_autofree char *size = inspect_text_size(msg->size);
  g_autofree char *date = msg->date ? g_date_time_format(msg->date, "%Y-%m-%d %H:%M:%S UTC") : NULL;

  inspect_text_colour(text, TEXT_BOLD, msg->source);
  g_string_append_printf(text->out, "  (%s)\n", size);
  if (msg->subject) {
    g_string_append_printf(text->out, "  %-10s", "Subject:");
    inspect_text_colour(text, TEXT_BOLD, msg->subject);
    g_string_append_c(text->out, '\n');
  }
  inspect_text_addresses(text, "From:", msg->from);
  inspect_text_addresses(text, "To:", msg->to);
  inspect_text_addresses(text, "Cc:", msg->cc);
  inspect_text_addresses(text, "Reply-To:", msg->reply_to);
  if (date)
    g_string_append_printf(text->out, "  %-10s%s\n", "Date:", date);
  if (msg->envelope)
    inspect_text_envelope(text, msg);
}

static void
inspect_text_headers(InspectText *text, GPtrArray *headers)
{
  g_string_append(text->out, "  Headers:\n");
  for (guint i = 0; i < headers->len; i++) {
    FarceurInspectHeader *header = headers->pdata[i];
    g_autofree char *name = farceur_inspect_printable(header->name);
    g_autofree char *value = farceur_inspect_printable(header->value);

    g_string_append_printf(text->out, "    %s: %s\n", name, value);
  }
}

/* ---- the tree ----------------------------------------------------------- */

static gboolean
inspect_text_is_last(GPtrArray *parts, guint i)
{
  guint depth = ((FarceurInspectPart *)parts->pdata[i])->depth;

  for (guint j = i + 1; j < parts->len; j++) {
    guint d = ((FarceurInspectPart *)parts->pdata[j])->depth;

    if (d == depth)
      return FALSE;
    if (d < depth)
      return TRUE;
  }
  return TRUE;
}

static const FarceurInspectPart *
inspect_text_parent(GPtrArray *parts, guint i)
{
  guint depth = ((FarceurInspectPart *)parts->pdata[i])->depth;

  while (depth > 0 && i-- > 0)
    if (((FarceurInspectPart *)parts->pdata[i])->depth == depth - 1)
      return parts->pdata[i];
  return NULL;
}

static void
inspect_text_field(InspectText *text, const char *colour, const char *before, const char *value,
                   const char *after)
{
  g_autofree char *safe = farceur_inspect_printable(value);
  g_autofree char *field = g_strconcat(before, safe, after, NULL);

  g_string_append(text->out, "  ");
  if ((text->flags & FARCEUR_INSPECT_FORMAT_COLOUR) && *colour)
    g_string_append_printf(text->out, "%s%s%s", colour, field, TEXT_RESET);
  else
    g_string_append(text->out, field);
}

static void
inspect_text_leaf(InspectText *text, const FarceurInspectPart *part)
{
  gboolean glyphs = text->flags & FARCEUR_INSPECT_FORMAT_GLYPHS;
  g_autofree char *decoded = inspect_text_size(part->decoded_size);
  g_autofree char *encoded = inspect_text_size(part->encoded_size);
  g_autofree char *sizes = NULL;
  g_autofree char *sha = NULL;

  if (part->filename)
    inspect_text_field(text, TEXT_GREEN, "\"", part->filename, "\"");
  if (part->disposition)
    inspect_text_field(text, "", "", part->disposition, "");
  if (part->encoding)
    inspect_text_field(text, "", "", part->encoding, "");
  if (part->encoded_size != part->decoded_size)
    sizes = g_strdup_printf("%s %s %s", encoded, glyphs ? "→" : "->", decoded);
  inspect_text_field(text, "", "", sizes ? sizes : decoded, "");
  if (part->sha256) {
    sha = g_strdup_printf("sha256 %.8s%s", part->sha256, glyphs ? "…" : "...");
    inspect_text_field(text, TEXT_DIM, "", sha, "");
  }
  if (part->content_id)
    inspect_text_field(text, TEXT_DIM, "<", part->content_id, ">");
}

static void
inspect_text_node(InspectText *text, GPtrArray *parts, guint i, gboolean *open)
{
  const FarceurInspectPart *part = parts->pdata[i];
  const FarceurInspectPart *parent = inspect_text_parent(parts, i);
  gboolean glyphs = text->flags & FARCEUR_INSPECT_FORMAT_GLYPHS;
  gboolean last = inspect_text_is_last(parts, i);
  gboolean numbered = part->kind != FARCEUR_INSPECT_MULTIPART
                      || (parent && parent->kind == FARCEUR_INSPECT_MULTIPART);

  for (guint l = 0; l < part->depth; l++)
    g_string_append(text->out, open[l] ? (glyphs ? "│  " : "|  ") : "   ");
  if (glyphs)
    g_string_append(text->out, last ? "└─ " : "├─ ");
  else
    g_string_append(text->out, last ? "`- " : "|- ");
  open[part->depth] = !last;
  if (numbered)
    g_string_append_printf(text->out, "%-*s ", text->path_width, part->path);
  inspect_text_colour(text, TEXT_CYAN, part->content_type);
  if (part->charset) {
    g_autofree char *safe = farceur_inspect_printable(part->charset);

    g_string_append_printf(text->out, "; charset=%s", safe);
  }
  if (part->kind == FARCEUR_INSPECT_LEAF)
    inspect_text_leaf(text, part);
  g_string_append_c(text->out, '\n');
}

static void
inspect_text_warnings(InspectText *text, GPtrArray *warnings)
{
  if (warnings->len == 0)
    return;
  g_string_append(text->out, "  Warnings:\n");
  for (guint i = 0; i < warnings->len; i++) {
    g_string_append(text->out, "    ");
    inspect_text_colour(text, TEXT_YELLOW, warnings->pdata[i]);
    g_string_append_c(text->out, '\n');
  }
}

/**
 * farceur_inspect_message_format:
 * @msg: a model
 * @flags: colours and glyphs (for a terminal) or plain ASCII
 *
 * One block: source and size, decoded Subject/From/To/Cc/Reply-To/Date, the
 * envelope with mismatch flags, the headers when collected, the MIME tree,
 * the warnings.  Every string from the message is made printable.
 *
 * Returns: (transfer full): the text, ending with a newline
 */
char *
farceur_inspect_message_format(const FarceurInspectMessage *msg, FarceurInspectFormatFlags flags)
{
  InspectText text = { NULL, flags, 4 };
  g_autofree gboolean *open = NULL;

  g_return_val_if_fail(msg != NULL, NULL);

  text.out = g_string_new(NULL);
  open = g_new0(gboolean, FARCEUR_INSPECT_MAX_DEPTH + 2);
  for (guint i = 0; i < msg->parts->len; i++) {
    const FarceurInspectPart *part = msg->parts->pdata[i];

    text.path_width = MAX(text.path_width, (int)strlen(part->path));
  }

  inspect_text_summary(&text, msg);
  if (msg->headers)
    inspect_text_headers(&text, msg->headers);
  for (guint i = 0; i < msg->parts->len; i++)
    inspect_text_node(&text, msg->parts, i, open);
  inspect_text_warnings(&text, msg->warnings);
  return g_string_free(text.out, FALSE);
}
