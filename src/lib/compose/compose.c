/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: template + variables -> GMimeMessage (data/doc/formats.md, Templates).
 *
 * Every value is checked for control characters before GMime sees it
 * (farceur_compose_check_header_value), addresses are parsed by GMime's
 * InternetAddressList and checked as SMTP paths, and the finished message
 * is re-parsed (farceur_compose_verify) before it is handed out.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <farceur/envelope.h>
#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/init.h>

#include "compose-private.h"
#include "error-text.h"

/* Longest header field name: RFC 2047 section 2 keeps encoded-words within
 * 76-character lines, and no registered field name comes close. */
#define COMPOSE_MAX_NAME 76
/* Longest Message-ID (without <>): a header line must stay within 998 octets. */
#define COMPOSE_MAX_ID 250

/* Headers farceur writes itself; a template may not set them. */
static const char *const compose_reserved[] = { "Date", "Message-ID", "MIME-Version", NULL };

/* RFC 5322 3.6.2: From, Sender (and Resent-From, Resent-Sender) are
 * mailbox lists: no group. */
static gboolean
compose_is_mailbox_only(const char *name)
{
  return g_ascii_strcasecmp(name, "From") == 0 || g_ascii_strcasecmp(name, "Sender") == 0
         || g_ascii_strcasecmp(name, "Resent-From") == 0
         || g_ascii_strcasecmp(name, "Resent-Sender") == 0;
}

/* Checks the mailboxes of @list (descending into groups): each address must
 * be usable as an SMTP path, and each display name, as decoded (an
 * encoded-word may hide a CR; GMime leaves group names undecoded), must be
 * free of control characters.  Names are set to their decoded form, to be
 * written back in UTF-8. */
static gboolean
compose_check_list(InternetAddressList *list, const char *what, gboolean mailboxes_only,
                   GError **error)
{
  int n = internet_address_list_length(list);

  for (int i = 0; i < n; i++) {
    InternetAddress *ia = internet_address_list_get_address(list, i);
    g_autofree char *name = compose_address_name(ia);
    internet_address_set_charset(ia, "utf-8");
    if (name && !farceur_compose_check_header_value(what, name, error))
      return FALSE;
    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      InternetAddressList *members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
      g_autofree char *shown = compose_escape(name ? name : "");
      if (mailboxes_only)
        return compose_fail(error, NULL, 0, "invalid %s: group '%s' where a mailbox is required",
                            what, shown);
      internet_address_set_name(ia, name);
      if (!compose_check_list(members, what, FALSE, error))
        return FALSE;
    } else if (!farceur_envelope_check_address(
                   internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)), error)) {
      g_prefix_error(error, "%s: ", what);
      return FALSE;
    }
  }
  return TRUE;
}

/* Parses @text ("Name <addr>, addr, ...") into a checked list. */
static InternetAddressList *
compose_parse_addresses(const char *text, const char *what, gboolean mailboxes_only, GError **error)
{
  g_autoptr(InternetAddressList) list = NULL;

  if (!farceur_compose_check_header_value(what, text, error))
    return NULL;
  list = internet_address_list_parse(NULL, text);
  if (list == NULL || internet_address_list_length(list) == 0) {
    compose_fail(error, NULL, 0, "invalid %s '%s': no address", what, text);
    return NULL;
  }
  if (!compose_check_list(list, what, mailboxes_only, error))
    return NULL;
  return g_steal_pointer(&list);
}

static InternetAddressList *
compose_parse_all(const char *const *texts, const char *what, GError **error)
{
  g_autoptr(InternetAddressList) all = internet_address_list_new();

  for (gsize i = 0; texts && texts[i]; i++) {
    g_autoptr(InternetAddressList) one = compose_parse_addresses(texts[i], what, FALSE, error);
    if (one == NULL)
      return NULL;
    internet_address_list_append(all, one);
  }
  return g_steal_pointer(&all);
}

/* The first mailbox of @list (groups flattened), or NULL. */
static InternetAddressMailbox *
compose_first_mailbox(InternetAddressList *list)
{
  int n = list ? internet_address_list_length(list) : 0;

  for (int i = 0; i < n; i++) {
    InternetAddress *ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(ia))
      return INTERNET_ADDRESS_MAILBOX(ia);
    InternetAddressMailbox *inner
        = compose_first_mailbox(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)));
    if (inner)
      return inner;
  }
  return NULL;
}

/* first_name: the first word of the display name, of what follows the comma
 * in the "Last, First" form ("Dupont, Jean" -> "Jean"); else the local part
 * up to its first '.', '_', '-' or '+', capitalised ("jean.dupont@x" -> "Jean"). */
static char *
compose_first_name(InternetAddressMailbox *mailbox)
{
  const char *name = internet_address_get_name(INTERNET_ADDRESS(mailbox));
  const char *addr = internet_address_mailbox_get_addr(mailbox);
  g_autofree char *word = NULL;
  gsize cut;

  if (name && *name) {
    const char *comma = strchr(name, ',');
    g_autofree char *trimmed = g_strstrip(g_strdup(comma && comma[1] ? comma + 1 : name));
    if (*trimmed)
      return g_strndup(trimmed, strcspn(trimmed, " \t,"));
  }
  cut = strcspn(addr, "@._-+");
  word = g_strndup(addr, cut > 0 ? cut : strcspn(addr, "@"));
  if (*word == '\0' || !g_utf8_validate(word, -1, NULL))
    return g_steal_pointer(&word);
  {
    gunichar first = g_unichar_totitle(g_utf8_get_char(word));
    char buf[8] = { 0 };
    g_unichar_to_utf8(first, buf);
    return g_strconcat(buf, g_utf8_next_char(word), NULL);
  }
}

/* Binds PREFIX.name, PREFIX.email, PREFIX.first_name.  name is the display
 * name, else the address. */
static void
compose_bind_mailbox(GHashTable *vars, const char *prefix, InternetAddressMailbox *mailbox)
{
  const char *name = internet_address_get_name(INTERNET_ADDRESS(mailbox));
  const char *addr = internet_address_mailbox_get_addr(mailbox);

  g_hash_table_insert(vars, g_strconcat(prefix, ".name", NULL),
                      g_strdup(name && *name ? name : addr));
  g_hash_table_insert(vars, g_strconcat(prefix, ".email", NULL), g_strdup(addr));
  g_hash_table_insert(vars, g_strconcat(prefix, ".first_name", NULL), compose_first_name(mailbox));
}

static void
compose_bind_recipients(GHashTable *vars, InternetAddressList *to)
{
  g_autoptr(GString) names = g_string_new(NULL);
  g_autoptr(GString) emails = g_string_new(NULL);
  int n = internet_address_list_length(to);

  for (int i = 0; i < n; i++) {
    InternetAddress *ia = internet_address_list_get_address(to, i);
    const char *name = internet_address_get_name(ia);
    const char *addr;
    if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
      continue;
    addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    g_string_append_printf(names, "%s%s", names->len ? ", " : "", name && *name ? name : addr);
    g_string_append_printf(emails, "%s%s", emails->len ? ", " : "", addr);
  }
  g_hash_table_insert(vars, g_strdup("recipients.names"),
                      g_string_free(g_steal_pointer(&names), FALSE));
  g_hash_table_insert(vars, g_strdup("recipients.emails"),
                      g_string_free(g_steal_pointer(&emails), FALSE));
  if (compose_first_mailbox(to))
    compose_bind_mailbox(vars, "recipient", compose_first_mailbox(to));
}

/* A variable may land in the body, where a line break is text: refused here
 * are only what no body may hold (not UTF-8, CR: the body's line break is
 * LF, other C0 controls but TAB and LF, DEL).  Where it lands in a header, the expanded
 * header value is checked again (no CR, LF, ...: farceur_compose_check_header_value). */
static gboolean
compose_check_body_value(const char *what, const char *value, GError **error)
{
  g_autofree char *shown = NULL;

  for (const guchar *p = (const guchar *)value; *p; p++) {
    if (*p == '\t' || *p == '\n' || (*p >= 0x20 && *p != 0x7f))
      continue;
    shown = compose_escape(value);
    return compose_fail(error, NULL, 0, "invalid %s '%s': control character 0x%02x", what, shown,
                        *p);
  }
  if (g_utf8_validate(value, -1, NULL))
    return TRUE;
  shown = compose_escape(value);
  return compose_fail(error, NULL, 0, "invalid %s '%s': not valid UTF-8", what, shown);
}

static gboolean
compose_bind_request_vars(GHashTable *vars, GHashTable *extra, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  if (extra == NULL)
    return TRUE;
  g_hash_table_iter_init(&iter, extra);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    g_autofree char *what = g_strdup_printf("value of variable '%s'", (const char *)key);
    if (!compose_check_body_value(what, value, error))
      return FALSE;
    g_hash_table_insert(vars, g_strdup(key), g_strdup(value));
  }
  return TRUE;
}

/* farceur_compose_bind_vars(), also handing out the parsed sender and
 * recipients (when @from_out/@to_out are given) so they are parsed once. */
static GHashTable *
compose_bind(const FarceurComposeRequest *request, InternetAddressList **from_out,
             InternetAddressList **to_out, GError **error)
{
  g_autoptr(GHashTable) vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(InternetAddressList) from = NULL;
  g_autoptr(InternetAddressList) to = NULL;
  g_autoptr(GDateTime) now
      = request->date ? g_date_time_ref(request->date) : g_date_time_new_now_local();

  farceur_init();
  if (request->from) {
    from = compose_parse_addresses(request->from, "sender address", TRUE, error);
    if (from == NULL)
      return NULL;
    if (compose_first_mailbox(from))
      compose_bind_mailbox(vars, "sender", compose_first_mailbox(from));
  }
  to = compose_parse_all(request->to, "recipient address", error);
  if (to == NULL)
    return NULL;
  compose_bind_recipients(vars, to);
  g_hash_table_insert(vars, g_strdup("date"), g_date_time_format(now, "%Y-%m-%d"));
  if (!compose_bind_request_vars(vars, request->vars, error))
    return NULL;
  if (from_out)
    *from_out = g_steal_pointer(&from);
  if (to_out)
    *to_out = g_steal_pointer(&to);
  return g_steal_pointer(&vars);
}

/**
 * farceur_compose_bind_vars:
 * @request: the sender, recipients and extra variables
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * The variables a template sees: `sender.name`, `sender.email`,
 * `sender.first_name` from @request->from; `recipients.names` and
 * `recipients.emails` (", "-separated) from all of @request->to;
 * `recipient.*` from the first of them; `date` (YYYY-MM-DD of
 * @request->date, else today, local time); then @request->vars on top.
 * `name` is the display name, else the address; `first_name` is the first
 * word of the display name (of its part after the comma for "Last, First"),
 * else the capitalised local part up to its first '.', '_', '-' or '+'.
 * Every address is refused when it holds a control character (CR, LF, NUL,
 * ...); a value of @request->vars may hold LF and TAB (but no CR or other
 * control), since it may be used only in the body: farceur_compose_message()
 * checks header values after expansion, where the values land.
 *
 * Returns: (transfer full) (element-type utf8 utf8) (nullable): the
 *   variables, or %NULL on error
 */
GHashTable *
farceur_compose_bind_vars(const FarceurComposeRequest *request, GError **error)
{
  g_return_val_if_fail(request != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  return compose_bind(request, NULL, NULL, error);
}

typedef struct {
  const FarceurTemplate *tmpl;
  const FarceurComposeRequest *request;
  GHashTable *vars;
  GMimeMessage *message;
  GPtrArray *headers;        /* (element-type FarceurTemplateHeader) expanded copies */
  InternetAddressList *from; /* (nullable) parsed request->from */
  InternetAddressList *to;   /* parsed request->to */
} ComposeState;

static gboolean
compose_is_reserved(const char *name)
{
  for (gsize i = 0; compose_reserved[i]; i++)
    if (g_ascii_strcasecmp(name, compose_reserved[i]) == 0)
      return TRUE;
  return g_ascii_strncasecmp(name, "Content-", 8) == 0;
}

/* A placeholder error in a folded header: expanding the folded form (line
 * breaks kept) names the line that holds the placeholder. */
static gboolean
compose_expand_error(ComposeState *state, const FarceurTemplateHeader *src, GError *local,
                     GError **error)
{
  g_autofree char *again = NULL;
  GError *better = NULL;

  if (src->folded != NULL) {
    again
        = farceur_template_expand(src->folded, state->vars, state->tmpl->file, src->line, &better);
    if (again == NULL) {
      g_propagate_error(error, better);
      return FALSE;
    }
  }
  g_propagate_error(error, g_error_copy(local));
  return FALSE;
}

/* Expands every template header into @state->headers, checking the value. */
static gboolean
compose_expand_headers(ComposeState *state, GError **error)
{
  const FarceurTemplate *tmpl = state->tmpl;

  for (guint i = 0; i < tmpl->headers->len; i++) {
    const FarceurTemplateHeader *src = tmpl->headers->pdata[i];
    g_autoptr(GError) local = NULL;
    g_autofree char *what = g_strdup_printf("header '%s'", src->name);
    FarceurTemplateHeader *header;
    char *value = farceur_template_expand(src->value, state->vars, tmpl->file, src->line, &local);
    if (value == NULL)
      return compose_expand_error(state, src, local, error);
    header = g_new0(FarceurTemplateHeader, 1);
    header->name = g_strdup(src->name);
    header->value = value;
    header->line = src->line;
    g_ptr_array_add(state->headers, header);
    if (strlen(src->name) > COMPOSE_MAX_NAME)
      return compose_fail(error, tmpl, src->line,
                          "header name '%.20s...' longer than %d characters", src->name,
                          COMPOSE_MAX_NAME);
    if (compose_is_reserved(src->name))
      return compose_fail(error, tmpl, src->line, "header '%s' is set by farceur", src->name);
    if (!farceur_compose_check_header_value(what, src->name, &local)
        || !farceur_compose_check_header_value(what, value, &local))
      return compose_fail(error, tmpl, src->line, "%s", local->message);
  }
  return TRUE;
}

/* The addresses of @field: the template's (all of its headers of that name),
 * else @fallback from the request. */
static gboolean
compose_address_header(ComposeState *state, const ComposeAddressField *field,
                       InternetAddressList *fallback, GError **error)
{
  const char *name = field->name;
  InternetAddressList *target = g_mime_message_get_addresses(state->message, field->type);
  gboolean from_template = FALSE;

  for (guint i = 0; i < state->headers->len; i++) {
    const FarceurTemplateHeader *header = state->headers->pdata[i];
    g_autoptr(GError) local = NULL;
    g_autofree char *what = NULL;
    g_autoptr(InternetAddressList) list = NULL;
    if (g_ascii_strcasecmp(header->name, name) != 0)
      continue;
    what = g_strdup_printf("'%s' address", name);
    list = compose_parse_addresses(header->value, what, compose_is_mailbox_only(name), &local);
    if (list == NULL)
      return compose_fail(error, state->tmpl, header->line, "%s", local->message);
    internet_address_list_append(target, list);
    from_template = TRUE;
  }
  if (!from_template && fallback && internet_address_list_length(fallback) > 0)
    internet_address_list_append(target, fallback);
  return TRUE;
}

static gboolean
compose_addresses(ComposeState *state, GError **error)
{
  const FarceurComposeRequest *request = state->request;
  g_autoptr(InternetAddressList) cc = compose_parse_all(request->cc, "Cc address", error);
  g_autoptr(InternetAddressList) bcc
      = cc ? compose_parse_all(request->bcc, "Bcc address", error) : NULL;
  InternetAddressList *fallback[GMIME_ADDRESS_TYPE_BCC + 1] = {
    [GMIME_ADDRESS_TYPE_FROM] = state->from,
    [GMIME_ADDRESS_TYPE_TO] = state->to,
    [GMIME_ADDRESS_TYPE_CC] = cc,
    [GMIME_ADDRESS_TYPE_BCC] = bcc,
  };
  guint n_fields;
  const ComposeAddressField *fields = compose_address_fields(&n_fields);

  if (cc == NULL || bcc == NULL)
    return FALSE;
  for (guint k = 0; k < n_fields; k++)
    if (!compose_address_header(state, &fields[k], fallback[fields[k].type], error))
      return FALSE;
  if (internet_address_list_length(g_mime_message_get_from(state->message)) == 0)
    return compose_fail(error, state->tmpl, 0, "no sender: give a From header or --from");
  return TRUE;
}

/* Appends @text as RFC 2047 Q-encoded UTF-8 words of at most 75 characters,
 * one per line (folded), never splitting a character.  Hand-written: GMime
 * has no way to force the encoding of ASCII text. */
static void
compose_encode_words(GString *raw, const char *text)
{
  g_autoptr(GString) word = g_string_new(NULL);

  for (const char *p = text; *p; p = g_utf8_next_char(p)) {
    char piece[32] = "";
    for (const char *b = p; b < g_utf8_next_char(p); b++) {
      guchar c = *b;
      gsize at = strlen(piece);
      if (g_ascii_isalnum(c) || strchr("!*+-/", c))
        g_snprintf(piece + at, sizeof piece - at, "%c", c);
      else if (c == ' ')
        g_snprintf(piece + at, sizeof piece - at, "_");
      else
        g_snprintf(piece + at, sizeof piece - at, "=%02X", c);
    }
    if (word->len + strlen(piece) > 63) {
      g_string_append_printf(raw, " =?UTF-8?Q?%s?=\n", word->str);
      g_string_truncate(word, 0);
    }
    g_string_append(word, piece);
  }
  g_string_append_printf(raw, " =?UTF-8?Q?%s?=\n", word->str);
}

/* GMime writes ASCII text as it is, so a value holding "=?...?=" would be
 * read back decoded: "=?utf-8?q?a=0D=0AX:_1?=" as "a\r\nX: 1".  When the
 * value holds "=?", or when what GMime wrote does not decode back to it,
 * the whole value is written as encoded-words, which decode to the literal
 * text (what Python's email does). */
static void
compose_fix_encoding(GMimeHeader *header, const char *value)
{
  const char *raw = g_mime_header_get_raw_value(header);
  g_autofree char *unfolded = raw ? g_mime_utils_header_unfold(raw) : NULL;
  g_autofree char *decoded = unfolded ? g_mime_utils_header_decode_text(NULL, unfolded) : NULL;
  g_autoptr(GString) encoded = NULL;

  if (*value && strstr(value, "=?") == NULL && decoded != NULL
      && strcmp(g_strstrip(decoded), value) == 0)
    return;
  if (*value == '\0')
    return;
  encoded = g_string_new(NULL);
  compose_encode_words(encoded, value);
  g_mime_header_set_raw_value(header, encoded->str);
}

static gboolean
compose_subject(ComposeState *state, GError **error)
{
  const FarceurTemplateHeader *subject = NULL;

  for (guint i = 0; i < state->headers->len; i++) {
    const FarceurTemplateHeader *header = state->headers->pdata[i];
    if (g_ascii_strcasecmp(header->name, "Subject") != 0)
      continue;
    if (subject != NULL)
      return compose_fail(error, state->tmpl, header->line,
                          "second Subject header (first on line %u)", subject->line);
    subject = header;
  }
  if (subject == NULL)
    return compose_fail(error, state->tmpl, 0, "no Subject header");
  g_mime_message_set_subject(state->message, subject->value, "utf-8");
  compose_fix_encoding(g_mime_header_list_get_header(
                           g_mime_object_get_header_list(GMIME_OBJECT(state->message)), "Subject"),
                       subject->value);
  return TRUE;
}

/* The domain of the first From address, for the Message-ID. */
static char *
compose_id_domain(GMimeMessage *message)
{
  InternetAddressMailbox *from = compose_first_mailbox(g_mime_message_get_from(message));
  const char *at = from ? strrchr(internet_address_mailbox_get_addr(from), '@') : NULL;

  if (at && at[1] && at[1] != '[' && g_str_is_ascii(at + 1))
    return g_strdup(at + 1);
  return g_strdup("farceur.invalid");
}

static gboolean
compose_date_and_id(ComposeState *state, GError **error)
{
  const FarceurComposeRequest *request = state->request;
  g_autoptr(GDateTime) now
      = request->date ? g_date_time_ref(request->date) : g_date_time_new_now_local();
  g_autofree char *domain = compose_id_domain(state->message);
  g_autofree char *id = request->message_id ? g_strdup(request->message_id)
                                            : g_mime_utils_generate_message_id(domain);

  if (!farceur_compose_check_header_value("Message-ID", id, error))
    return FALSE;
  if (strlen(id) > COMPOSE_MAX_ID)
    return compose_fail(error, NULL, 0, "invalid Message-ID '%.40s...': longer than %d characters",
                        id, COMPOSE_MAX_ID);
  if (*id == '\0' || strpbrk(id, "<> \t\"") != NULL)
    return compose_fail(error, NULL, 0, "invalid Message-ID '%s'", id);
  g_mime_message_set_date(state->message, now);
  g_mime_message_set_message_id(state->message, id);
  return TRUE;
}

/* A custom address header (Resent-To, ...): parsed and checked like To,
 * written in UTF-8 (GMime's own choice would be ISO-8859-1 when it fits). */
static gboolean
compose_other_address(ComposeState *state, const FarceurTemplateHeader *header, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *what = g_strdup_printf("'%s' address", header->name);
  g_autoptr(InternetAddressList) list
      = compose_parse_addresses(header->value, what, compose_is_mailbox_only(header->name), &local);
  g_autoptr(GString) raw = g_string_new(NULL);
  GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(state->message));
  g_autofree char *shown = NULL;

  if (list == NULL)
    return compose_fail(error, state->tmpl, header->line, "%s", local->message);
  shown = internet_address_list_to_string(list, NULL, FALSE);
  g_mime_object_append_header(GMIME_OBJECT(state->message), header->name, shown, "utf-8");
  g_string_append_c(raw, ' ');
  internet_address_list_encode(list, NULL, raw);
  g_mime_header_set_raw_value(
      g_mime_header_list_get_header_at(headers, g_mime_header_list_get_count(headers) - 1),
      raw->str);
  return TRUE;
}

static gboolean
compose_other_headers(ComposeState *state, GError **error)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(state->message));

  for (guint i = 0; i < state->headers->len; i++) {
    const FarceurTemplateHeader *header = state->headers->pdata[i];
    if (compose_address_field_lookup(header->name) != NULL
        || g_ascii_strcasecmp(header->name, "Subject") == 0)
      continue;
    if (compose_is_address_name(header->name)) {
      if (!compose_other_address(state, header, error))
        return FALSE;
      continue;
    }
    g_mime_object_append_header(GMIME_OBJECT(state->message), header->name, header->value, "utf-8");
    compose_fix_encoding(
        g_mime_header_list_get_header_at(headers, g_mime_header_list_get_count(headers) - 1),
        header->value);
  }
  return TRUE;
}

static gboolean
compose_headers(ComposeState *state, GError **error)
{
  return compose_expand_headers(state, error) && compose_addresses(state, error)
         && compose_subject(state, error) && compose_date_and_id(state, error);
}

/**
 * farceur_compose_message:
 * @tmpl: the template
 * @request: sender, recipients, variables, extra attachments, and for
 *   reproducible output a fixed date and Message-ID
 * @error: return location for an error: %FARCEUR_ERROR_DATA for a bad
 *   template, value or address (naming the template file and line),
 *   %FARCEUR_ERROR_NOINPUT for a missing --attach file
 *
 * Renders @tmpl: placeholders expanded in every header, the body and the
 * Html file; From/To/Cc (and Sender, Reply-To, Bcc) of the template win over
 * @request; other headers are copied, RFC 2047-encoded in UTF-8 as needed;
 * Date, Message-ID and MIME-Version are always set.  The body is text/plain,
 * multipart/alternative with the HTML, multipart/related for the inline
 * images the HTML names by cid:, multipart/mixed for attachments (base64,
 * RFC 2231 UTF-8 file names, streamed from disk when the message is
 * written).  The result has passed farceur_compose_verify().
 *
 * Returns: (transfer full) (nullable): the message, or %NULL on error
 */
GMimeMessage *
farceur_compose_message(const FarceurTemplate *tmpl, const FarceurComposeRequest *request,
                        GError **error)
{
  g_autoptr(GHashTable) vars = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GPtrArray) headers = NULL;
  g_autoptr(GMimeObject) body = NULL;
  g_autoptr(InternetAddressList) from = NULL;
  g_autoptr(InternetAddressList) to = NULL;
  ComposeState state = { tmpl, request, NULL, NULL, NULL, NULL, NULL };

  g_return_val_if_fail(tmpl != NULL, NULL);
  g_return_val_if_fail(request != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  state.headers = headers
      = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_template_header_free);
  farceur_init();
  vars = compose_bind(request, &from, &to, error);
  if (vars == NULL)
    return NULL;
  state.from = from;
  state.to = to;
  message = g_mime_message_new(FALSE);
  state.vars = vars;
  state.message = message;
  if (!compose_headers(&state, error))
    return NULL;
  body = compose_body_new(tmpl, vars, request->attach, error);
  if (body == NULL)
    return NULL;
  if (!compose_other_headers(&state, error))
    return NULL;
  if (request->message_id)
    compose_seed_boundaries(body, request->message_id);
  g_mime_message_set_mime_part(message, body);
  if (!farceur_compose_verify(message, error))
    return NULL;
  return g_steal_pointer(&message);
}

/**
 * farceur_compose_write_message:
 * @object: a message or a MIME part
 * @stream: where to write it
 * @error: return location for a %FARCEUR_ERROR_IO error
 *
 * Writes @object as GMime formats it, with LF line ends (the transport turns
 * them into CRLF), and flushes @stream.  Attachments are read from disk
 * while writing, a buffer at a time.
 *
 * Returns: %TRUE on success
 */
gboolean
farceur_compose_write_message(GMimeObject *object, GMimeStream *stream, GError **error)
{
  g_return_val_if_fail(GMIME_IS_OBJECT(object), FALSE);
  g_return_val_if_fail(GMIME_IS_STREAM(stream), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  farceur_init();
  if (g_mime_object_write_to_stream(object, NULL, stream) == -1
      || g_mime_stream_flush(stream) == -1) {
    farceur_set_errno_error(error, FARCEUR_ERROR_IO, errno, "cannot write message");
    return FALSE;
  }
  return TRUE;
}
