/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: text messages files as the course lab's students wrote them
 * (data/doc/formats.md, Text messages files): how messages are separated,
 * where each one's subject is.
 *
 * A text file holds messages separated by a line made of one rule
 * character repeated ("==", "----", "////", "******"), the same line at
 * every boundary; each message has a "Subject:" line or its first line is
 * the subject.  When the messages have Subject lines, those decide where
 * messages start: the separator is the rule line before each of them, and
 * a Subject line with none before it is refused (a forgotten or unknown
 * separator would otherwise merge two messages into one).  Without Subject
 * lines the rule lines decide; two different ones, or a separator-like line
 * of another character, are refused as ambiguous.  Rule lines that separate
 * nothing are kept as text, with a warning naming them.  A file with no
 * separator, no subject and no blank line holds one message per line. */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include <farceur/template.h>

#include "template-private.h"

#define MESSAGES_RULE_CHARS "=-/*#~_"       /* separators farceur recognises */
#define MESSAGES_OTHER_CHARS "+%&@$^|\\:<>" /* repeated, they look like one */

typedef enum { RULE_NONE, RULE_KNOWN, RULE_OTHER } MessagesRule;

typedef struct {
  const char *path;
  char **lines;  /* CR of CRLF removed */
  guint n_lines; /* without the empty string after a final newline */
  guint first;   /* the first line after the leading '#' comments */
  const FarceurMessagesFormat *format;
  FarceurSubjectRule subject;
  FarceurReadFile *file;
  TemplateContext ctx;
  gboolean *boundary; /* per line: it separates two messages */
  char *separator;
} MessagesText;

static gboolean
messages_is_blank(const char *line)
{
  return line[strspn(line, " \t")] == '\0';
}

/* A line made of one character repeated, at least twice (blanks around
 * allowed); "-- " is a signature delimiter, not a separator. */
static MessagesRule
messages_rule(const char *line, char **key)
{
  g_autofree char *trimmed = g_strstrip(g_strdup(line));
  gsize n = strlen(trimmed);
  char c = trimmed[0];
  MessagesRule rule;

  if (n < 2 || strcmp(line, "-- ") == 0 || strspn(trimmed, (char[]){ c, '\0' }) != n)
    return RULE_NONE;
  if (strchr(MESSAGES_RULE_CHARS, c) != NULL)
    rule = RULE_KNOWN;
  else if (strchr(MESSAGES_OTHER_CHARS, c) != NULL)
    rule = RULE_OTHER;
  else
    return RULE_NONE;
  if (key != NULL)
    *key = g_steal_pointer(&trimmed);
  return rule;
}

/* "Subject: x" or "Subject : x", as a line of a messages file. */
gboolean
template_is_subject_line(const char *line)
{
  line += strspn(line, " \t");
  if (g_ascii_strncasecmp(line, "subject", 7) != 0)
    return FALSE;
  line += 7;
  line += strspn(line, " \t");
  return *line == ':';
}

/* "Name: value" or "Name : value", as a message's header lines are. */
static gboolean
messages_is_header_like(const char *line)
{
  gsize n = 0;

  while (g_ascii_isalnum(line[n]) || line[n] == '-' || line[n] == '_')
    n++;
  return n > 0 && line[n + strspn(line + n, " \t")] == ':';
}

static gboolean
messages_is_separator(const MessagesText *m, guint i, char **key)
{
  g_autofree char *found = NULL;

  if (m->format->separator != NULL) {
    g_autofree char *trimmed = g_strstrip(g_strdup(m->lines[i]));
    if (strcmp(trimmed, m->format->separator) != 0)
      return FALSE;
    if (key)
      *key = g_steal_pointer(&trimmed);
    return TRUE;
  }
  if (messages_rule(m->lines[i], &found) == RULE_NONE)
    return FALSE;
  if (key)
    *key = g_steal_pointer(&found);
  return TRUE;
}

/* ---- where messages start: Subject lines ---- */

/* Takes *@key as the file's separator when it has none yet (seen first on
 * line @line, kept in *@first); FALSE when the file has another one. */
static gboolean
messages_adopt(MessagesText *m, char **key, guint line, guint *first)
{
  if (m->separator != NULL)
    return strcmp(*key, m->separator) == 0;
  m->separator = g_steal_pointer(key);
  *first = line;
  return TRUE;
}

/* The rule line before the Subject line @s (blank and header lines may sit
 * between them), or -1. */
static int
messages_rule_before(const MessagesText *m, guint s)
{
  int j = (int)s - 1;

  while (j >= (int)m->first && !messages_is_separator(m, j, NULL)
         && (messages_is_blank(m->lines[j]) || messages_is_header_like(m->lines[j])))
    j--;
  return j >= (int)m->first && messages_is_separator(m, j, NULL) ? j : -1;
}

static guint
messages_first_subject(const MessagesText *m)
{
  for (guint i = m->first; i < m->n_lines; i++)
    if (template_is_subject_line(m->lines[i]))
      return i;
  return m->n_lines;
}

/* Every other line equal to the separator separates too (the message after
 * it then needs its own Subject line); when no Subject line told which
 * line separates, the one rule line the file uses, if there is only one. */
static void
messages_mark_same(MessagesText *m)
{
  g_autofree char *only = NULL;
  gboolean several = FALSE;

  for (guint i = m->first; m->separator == NULL && i < m->n_lines; i++) {
    g_autofree char *key = NULL;
    if (!messages_is_separator(m, i, &key)
        || (m->format->separator == NULL && messages_rule(m->lines[i], NULL) != RULE_KNOWN))
      continue;
    if (only == NULL)
      only = g_steal_pointer(&key);
    else
      several = several || strcmp(only, key) != 0;
  }
  if (m->separator == NULL && only != NULL && !several)
    m->separator = g_steal_pointer(&only);
  for (guint i = m->first; m->separator != NULL && i < m->n_lines; i++) {
    g_autofree char *key = NULL;
    if (messages_is_separator(m, i, &key) && strcmp(key, m->separator) == 0)
      m->boundary[i] = TRUE;
  }
}

/* Each Subject line after the first needs a separator before it. */
static gboolean
messages_mark_by_subjects(MessagesText *m, GError **error)
{
  guint first = messages_first_subject(m), k = 1, sep_line = 0;

  for (guint s = first + 1; s < m->n_lines; s++) {
    int j;
    g_autofree char *key = NULL;
    if (!template_is_subject_line(m->lines[s]))
      continue;
    k++;
    j = messages_rule_before(m, s);
    if (j < 0)
      return template_fail_messages(
          error, m->path, s + 1,
          "a second 'Subject:' line in message %u (which starts on line %u): "
          "if it starts a new message, put a separator line such as '==' "
          "before it",
          k - 1, first + 1);
    messages_is_separator(m, j, &key);
    if (!messages_adopt(m, &key, j + 1, &sep_line))
      return template_fail_messages(error, m->path, j + 1,
                                    "separator '%s' differs from '%s' on line %u: separate every "
                                    "message with the same line",
                                    key, m->separator, sep_line);
    m->boundary[j] = TRUE;
    first = s;
  }
  messages_mark_same(m);
  return TRUE;
}

/* ---- where messages start: rule lines ---- */

static gboolean
messages_mark_by_rules(MessagesText *m, GError **error)
{
  guint first_line = 0;
  g_autofree char *unknown = NULL;
  guint unknown_line = 0;

  for (guint i = m->first; i < m->n_lines; i++) {
    g_autofree char *key = NULL;
    MessagesRule rule = m->format->separator
                            ? (messages_is_separator(m, i, &key) ? RULE_KNOWN : RULE_NONE)
                            : messages_rule(m->lines[i], &key);
    if (rule == RULE_OTHER && unknown == NULL)
      unknown = g_steal_pointer(&key), unknown_line = i + 1;
    if (rule != RULE_KNOWN)
      continue;
    if (!messages_adopt(m, &key, i + 1, &first_line))
      return template_fail_messages(error, m->path, i + 1,
                                    "'%s' and '%s' (line %u) could both separate messages: say "
                                    "which with --messages-format separator=LINE",
                                    key, m->separator, first_line);
    m->boundary[i] = TRUE;
  }
  if (unknown != NULL && m->separator == NULL)
    return template_fail_messages(
        error, m->path, unknown_line,
        "'%s' looks like a separator line farceur does not know: separate "
        "messages with a line such as '==', or say so with "
        "--messages-format separator=%s",
        unknown, unknown);
  return TRUE;
}

/* Rule lines that separate nothing, inside a message, are kept as text and
 * named in a warning; those before the first or after the last message
 * are only tolerated. */
static void
messages_warn_stray_rules(const MessagesText *m)
{
  guint last = m->n_lines, k = 1;
  gboolean content = FALSE;

  while (last > m->first
         && (messages_is_blank(m->lines[last - 1])
             || messages_rule(m->lines[last - 1], NULL) != RULE_NONE))
    last--;
  for (guint i = m->first; i < last; i++) {
    g_autofree char *key = NULL;
    if (m->boundary[i]) {
      k += content;
      content = FALSE;
      continue;
    }
    if (messages_rule(m->lines[i], &key) == RULE_NONE) {
      content = content || !messages_is_blank(m->lines[i]);
      continue;
    }
    if (content)
      farceur_read_file_warn(m->file, i + 1, "'%s' inside message %u is kept as text: %s", key, k,
                             m->separator ? "no 'Subject:' line follows it"
                                          : "it separates no two messages");
  }
}

/* ---- messages ---- */

typedef struct {
  guint start, end; /* lines [start, end) without blank lines around */
} MessagesBlock;

/* A line a message neither starts nor ends with: a blank one, or the
 * separator (one before the first message or after the last). */
static gboolean
messages_is_edge(const MessagesText *m, guint i)
{
  g_autofree char *key = NULL;

  if (messages_is_blank(m->lines[i]))
    return TRUE;
  if (!messages_is_separator(m, i, &key))
    return FALSE;
  return m->separator ? strcmp(key, m->separator) == 0
                      : messages_rule(m->lines[i], NULL) == RULE_KNOWN;
}

static GArray *
messages_blocks(const MessagesText *m)
{
  GArray *blocks = g_array_new(FALSE, FALSE, sizeof(MessagesBlock));
  guint start = m->first;

  for (guint i = m->first; i <= m->n_lines; i++) {
    MessagesBlock b = { start, i };
    if (i < m->n_lines && !m->boundary[i])
      continue;
    while (b.start < b.end && messages_is_edge(m, b.start))
      b.start++;
    while (b.end > b.start && messages_is_edge(m, b.end - 1))
      b.end--;
    if (b.end > b.start)
      g_array_append_val(blocks, b);
    start = i + 1;
  }
  return blocks;
}

static char *
messages_join(const MessagesText *m, guint start, guint end)
{
  GString *out = g_string_new(NULL);

  for (guint i = start; i < end; i++)
    g_string_append_printf(out, "%s\n", m->lines[i]);
  return g_string_free(out, FALSE);
}

static FarceurTemplate *
messages_block_header(const MessagesText *m, const MessagesBlock *b, guint k, GError **error)
{
  g_autofree char *text = NULL;
  FarceurTemplate *tmpl;
  gboolean has_subject = FALSE;

  for (guint i = b->start; i < b->end && !has_subject; i++)
    has_subject = template_is_subject_line(m->lines[i]);
  if (!has_subject) {
    template_fail_messages(
        error, m->path, b->start + 1,
        "message %u has no 'Subject:' line (the others have one): add one, or read "
        "first lines as subjects with --messages-format subject=first-line",
        k);
    return NULL;
  }
  text = messages_join(m, b->start, b->end);
  tmpl = template_parse_with(text, strlen(text), &m->ctx, b->start + 1, error);
  if (tmpl && farceur_template_get_header(tmpl, "Subject")[0] == '\0')
    farceur_read_file_warn(m->file, b->start + 1, "message %u has an empty subject", k);
  return tmpl;
}

static FarceurTemplate *
messages_block_first_line(const MessagesText *m, const MessagesBlock *b, GError **error)
{
  guint body = b->start + (m->subject == FARCEUR_SUBJECT_NONE ? 0 : 1);
  g_autofree char *subject = NULL;
  g_autofree char *text = NULL;

  if (m->subject != FARCEUR_SUBJECT_NONE)
    subject = g_strstrip(g_strdup(m->lines[b->start]));
  while (body < b->end && messages_is_blank(m->lines[body]))
    body++;
  text = messages_join(m, body, b->end);
  return template_new_message(&m->ctx, subject ? subject : "", text, subject ? b->start + 1 : 0,
                              body + 1, error);
}

static GPtrArray *
messages_make(const MessagesText *m, GArray *blocks, GError **error)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_template_free);

  for (guint k = 0; k < blocks->len; k++) {
    const MessagesBlock *b = &g_array_index(blocks, MessagesBlock, k);
    FarceurTemplate *tmpl = m->subject == FARCEUR_SUBJECT_HEADER
                                ? messages_block_header(m, b, k + 1, error)
                                : messages_block_first_line(m, b, error);
    if (tmpl == NULL)
      return NULL;
    tmpl->index = k + 1;
    g_ptr_array_add(all, tmpl);
  }
  return g_steal_pointer(&all);
}

/* One message per line: no separator, no Subject line, no blank line. */
static gboolean
messages_are_lines(const MessagesText *m)
{
  guint content = 0;

  if (m->format->kind == FARCEUR_MESSAGES_LINES)
    return TRUE;
  if (m->format->kind != FARCEUR_MESSAGES_AUTO || m->format->separator != NULL
      || m->subject == FARCEUR_SUBJECT_HEADER)
    return FALSE;
  for (guint i = m->first; i < m->n_lines; i++) {
    if (m->boundary[i] || template_is_subject_line(m->lines[i]))
      return FALSE;
    if (messages_is_blank(m->lines[i]))
      return FALSE;
    content++;
  }
  return content >= 2;
}

static void
messages_describe(const MessagesText *m, GPtrArray *all, const char *format, const char *subject)
{
  FarceurReadFile *file = m->file;

  if (file == NULL)
    return;
  farceur_read_file_set(&file->format, format);
  farceur_read_file_set(&file->separator, m->separator);
  farceur_read_file_set(&file->subject, subject);
  file->count = all->len;
  for (guint i = 0; i < all->len; i++)
    g_ptr_array_add(file->subjects,
                    g_strdup(farceur_template_get_header(all->pdata[i], "Subject")));
  g_free(file->summary);
  if (m->separator != NULL)
    file->summary = g_strdup_printf("%u message%s, separator '%s', subject from %s", all->len,
                                    all->len == 1 ? "" : "s", m->separator, subject);
  else
    file->summary
        = g_strdup_printf("%u message%s, %s, subject from %s", all->len, all->len == 1 ? "" : "s",
                          strcmp(format, "lines") == 0 ? "one per line" : "no separator", subject);
}

static const char *
messages_subject_text(FarceurSubjectRule rule)
{
  switch (rule) {
    case FARCEUR_SUBJECT_HEADER:
      return "'Subject:' lines";
    case FARCEUR_SUBJECT_FIRST_LINE:
      return "the first line";
    case FARCEUR_SUBJECT_FILE_NAME:
      return "the file name";
    default:
      return "nowhere (no subject)";
  }
}

static GPtrArray *
messages_lines(MessagesText *m, GError **error)
{
  g_autoptr(GArray) blocks = g_array_new(FALSE, FALSE, sizeof(MessagesBlock));
  GPtrArray *all;

  if (m->subject == FARCEUR_SUBJECT_AUTO)
    m->subject = FARCEUR_SUBJECT_NONE;
  for (guint i = m->first; i < m->n_lines; i++) {
    MessagesBlock b = { i, i + 1 };
    if (!messages_is_blank(m->lines[i]))
      g_array_append_val(blocks, b);
  }
  all = messages_make(m, blocks, error);
  if (all)
    messages_describe(m, all, "lines", messages_subject_text(m->subject));
  return all;
}

/* '#' lines at the very top are comments, as the lab's files had them. */
static guint
messages_skip_comments(char **lines, guint n)
{
  guint i = 0;

  while (i < n && (lines[i][0] == '#' || messages_is_blank(lines[i]))
         && !(lines[i][0] == '#' && messages_rule(lines[i], NULL) != RULE_NONE))
    i++;
  while (i > 0 && messages_is_blank(lines[i - 1]))
    i--;
  for (guint j = 0; j < i; j++)
    if (lines[j][0] == '#')
      return i;
  return 0;
}

static GPtrArray *
messages_read_text(MessagesText *m, const char *text, GError **error)
{
  g_auto(GStrv) lines = farceur_read_file_lines(text, -1, &m->n_lines);
  g_autoptr(GArray) blocks = NULL;
  g_autofree gboolean *boundary = g_new0(gboolean, m->n_lines + 1);
  GPtrArray *all;

  m->lines = lines;
  m->boundary = boundary;
  m->first = messages_skip_comments(lines, m->n_lines);
  if (m->subject == FARCEUR_SUBJECT_AUTO && messages_first_subject(m) < m->n_lines)
    m->subject = FARCEUR_SUBJECT_HEADER;
  if (m->format->kind != FARCEUR_MESSAGES_LINES
      && !(m->subject == FARCEUR_SUBJECT_HEADER ? messages_mark_by_subjects(m, error)
                                                : messages_mark_by_rules(m, error)))
    return NULL;
  if (messages_are_lines(m))
    return messages_lines(m, error);
  if (m->subject == FARCEUR_SUBJECT_AUTO)
    m->subject = FARCEUR_SUBJECT_FIRST_LINE;
  messages_warn_stray_rules(m);
  blocks = messages_blocks(m);
  if (blocks->len == 0) {
    template_fail_messages(error, m->path, 1, "no message in the file");
    return NULL;
  }
  all = messages_make(m, blocks, error);
  if (all)
    messages_describe(m, all, "blocks", messages_subject_text(m->subject));
  return all;
}

/**
 * template_read_text:
 * @path: the file, for messages
 * @text: its text, UTF-8
 * @format: how to read it
 * @file: (nullable): where to record what was read
 * @error: return location for an error naming the file and line
 *
 * Returns: (transfer full) (element-type FarceurTemplate): one template per message
 */
GPtrArray *
template_read_text(const char *path, const char *text, const FarceurMessagesFormat *format,
                   FarceurReadFile *file, GError **error)
{
  g_autofree char *dir = g_path_get_dirname(path);
  MessagesText m
      = { path, NULL, 0, 0, format, format->subject, file, { path, dir, TRUE }, NULL, NULL };
  GPtrArray *all = messages_read_text(&m, text, error);

  g_free(m.separator);
  return all;
}
