/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the re-parse of a composed message, the composer's last safety
 * check (the idea of CPython's verify_generated_headers, extended to the MIME
 * part tree).  The check of single values is in compose-check.c.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/init.h>

#include "compose-private.h"
#include "error-text.h"

/* Appends the header fields of @object to @headers, in order. */
static void
verify_collect(GMimeObject *object, GPtrArray *headers)
{
  GMimeHeaderList *list = g_mime_object_get_header_list(object);
  int n = g_mime_header_list_get_count(list);

  for (int i = 0; i < n; i++)
    g_ptr_array_add(headers, g_mime_header_list_get_header_at(list, i));
}

static char *
verify_names(GPtrArray *headers)
{
  GString *names = g_string_new(NULL);

  for (guint i = 0; i < headers->len; i++)
    g_string_append_printf(names, "%s%s", i ? ", " : "", g_mime_header_get_name(headers->pdata[i]));
  return g_string_free(names, FALSE);
}

/* @text with runs of space and TAB made one space and the ends trimmed:
 * folding and encoded-word boundaries may move white space, nothing else. */
static char *
verify_squeeze(const char *text)
{
  GString *out = g_string_new(NULL);

  for (const char *p = text ? text : ""; *p; p++) {
    if (*p == ' ' || *p == '\t') {
      if (out->len && out->str[out->len - 1] != ' ')
        g_string_append_c(out, ' ');
    } else {
      g_string_append_c(out, *p);
    }
  }
  if (out->len && out->str[out->len - 1] == ' ')
    g_string_truncate(out, out->len - 1);
  return g_string_free(out, FALSE);
}

static gboolean
verify_mismatch(GError **error, const char *path, const char *name, const char *want,
                const char *got)
{
  g_autofree char *want_shown = compose_escape(want ? want : "");
  g_autofree char *got_shown = compose_escape(got ? got : "");

  return compose_fail(error, NULL, 0,
                      "composed message does not re-parse as built: %s header '%s' '%s' reads "
                      "back as '%s'",
                      path, name, want_shown, got_shown);
}

/* The names and addresses of @want and @got (as a reader decodes them) are
 * the same, group by group; every name is free of controls, and From and
 * Sender hold mailboxes only (RFC 5322 3.6.2). */
static gboolean
verify_same_list(InternetAddressList *want, InternetAddressList *got, const char *path,
                 const char *name, GError **error)
{
  int n = internet_address_list_length(want);

  if (internet_address_list_length(got) != n)
    return verify_mismatch(error, path, name, "", "another number of addresses");
  for (int i = 0; i < n; i++) {
    InternetAddress *w = internet_address_list_get_address(want, i);
    InternetAddress *g = internet_address_list_get_address(got, i);
    g_autofree char *got_name = compose_address_name(g);
    g_autofree char *want_name = compose_address_name(w);
    if (INTERNET_ADDRESS_IS_GROUP(w) != INTERNET_ADDRESS_IS_GROUP(g)
        || g_strcmp0(want_name, got_name) != 0)
      return verify_mismatch(error, path, name, want_name, got_name);
    if (!farceur_compose_check_header_value("display name", got_name ? got_name : "", error))
      return FALSE;
    if (INTERNET_ADDRESS_IS_GROUP(g)) {
      if (g_ascii_strcasecmp(name, "From") == 0 || g_ascii_strcasecmp(name, "Sender") == 0)
        return verify_mismatch(error, path, name, want_name, "a group");
      if (!verify_same_list(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(w)),
                            internet_address_group_get_members(INTERNET_ADDRESS_GROUP(g)), path,
                            name, error))
        return FALSE;
    } else if (g_strcmp0(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(w)),
                         internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(g)))
               != 0) {
      return verify_mismatch(error, path, name,
                             internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(w)),
                             internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(g)));
    }
  }
  return TRUE;
}

static InternetAddressList *
verify_parse_list(GMimeHeader *header)
{
  const char *raw = g_mime_header_get_raw_value(header);
  InternetAddressList *list
      = internet_address_list_parse(NULL, raw ? raw : g_mime_header_get_value(header));

  return list ? list : internet_address_list_new();
}

/* The intended addresses of @header: the message's own list for its address
 * fields (no second parse), else @header's value parsed. */
static InternetAddressList *
verify_want_list(GMimeObject *outer, GMimeHeader *header)
{
  const ComposeAddressField *field = compose_address_field_lookup(g_mime_header_get_name(header));

  if (field != NULL && outer != NULL && GMIME_IS_MESSAGE(outer))
    return g_object_ref(g_mime_message_get_addresses(GMIME_MESSAGE(outer), field->type));
  return verify_parse_list(header);
}

/* One header as a reader decodes it against the value it was built with.
 * Content-Type and Content-Disposition are compared as parameters (see
 * verify_same_params), address headers as address lists. */
static gboolean
verify_same_value(GMimeObject *outer, GMimeHeader *want, GMimeHeader *got, const char *path,
                  GError **error)
{
  const char *name = g_mime_header_get_name(want);
  g_autofree char *want_value = NULL;
  g_autofree char *got_value = NULL;
  g_autofree char *what = NULL;

  if (compose_is_address_name(name)) {
    g_autoptr(InternetAddressList) want_list = verify_want_list(outer, want);
    g_autoptr(InternetAddressList) got_list = verify_parse_list(got);
    return verify_same_list(want_list, got_list, path, name, error);
  }
  if (g_ascii_strcasecmp(name, "Content-Type") == 0
      || g_ascii_strcasecmp(name, "Content-Disposition") == 0)
    return TRUE;
  want_value = verify_squeeze(g_mime_header_get_value(want));
  got_value = verify_squeeze(g_mime_header_get_value(got));
  if (strcmp(want_value, got_value) != 0)
    return verify_mismatch(error, path, name, want_value, got_value);
  what = g_strdup_printf("header '%s' as read back", name);
  return farceur_compose_check_header_value(what, got_value, error);
}

/* The headers of @want (preceded by those of @outer, the message, for the
 * top-level part) against those of @got: same names in the same order, the
 * same decoded values. */
static gboolean
verify_same_headers(GMimeObject *outer, GMimeObject *want, GMimeObject *got, const char *path,
                    GError **error)
{
  g_autoptr(GPtrArray) want_headers = g_ptr_array_new();
  g_autoptr(GPtrArray) got_headers = g_ptr_array_new();
  g_autofree char *want_names = NULL;
  g_autofree char *got_names = NULL;

  if (outer)
    verify_collect(outer, want_headers);
  verify_collect(want, want_headers);
  verify_collect(got, got_headers);
  want_names = verify_names(want_headers);
  got_names = verify_names(got_headers);
  if (strcmp(want_names, got_names) != 0)
    return compose_fail(error, NULL, 0,
                        "composed message does not re-parse as built: %s headers [%s] read back as "
                        "[%s]",
                        path, want_names, got_names);
  for (guint i = 0; i < want_headers->len; i++)
    if (!verify_same_value(outer, want_headers->pdata[i], got_headers->pdata[i], path, error))
      return FALSE;
  return TRUE;
}

/* The parameters of a Content-Type or Content-Disposition, decoded (RFC
 * 2231 and the encoded-words some readers decode in quoted values). */
static gboolean
verify_same_params(GMimeParamList *want, GMimeParamList *got, const char *path, GError **error)
{
  int n = want ? g_mime_param_list_length(want) : 0;

  if ((got ? g_mime_param_list_length(got) : 0) != n)
    return verify_mismatch(error, path, "Content-Type", "", "another number of parameters");
  for (int i = 0; i < n; i++) {
    GMimeParam *w = g_mime_param_list_get_parameter_at(want, i);
    GMimeParam *g = g_mime_param_list_get_parameter_at(got, i);
    if (g_ascii_strcasecmp(g_mime_param_get_name(w), g_mime_param_get_name(g)) != 0
        || g_strcmp0(g_mime_param_get_value(w), g_mime_param_get_value(g)) != 0)
      return verify_mismatch(error, path, g_mime_param_get_name(w), g_mime_param_get_value(w),
                             g_mime_param_get_value(g));
    if (!farceur_compose_check_header_value("parameter as read back", g_mime_param_get_value(g),
                                            error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
verify_same_mime_params(GMimeObject *want, GMimeObject *got, const char *path, GError **error)
{
  GMimeContentDisposition *want_disposition = g_mime_object_get_content_disposition(want);
  GMimeContentDisposition *got_disposition = g_mime_object_get_content_disposition(got);

  if (!verify_same_params(g_mime_content_type_get_parameters(g_mime_object_get_content_type(want)),
                          g_mime_content_type_get_parameters(g_mime_object_get_content_type(got)),
                          path, error))
    return FALSE;
  if ((want_disposition == NULL) != (got_disposition == NULL))
    return verify_mismatch(error, path, "Content-Disposition", "", "another disposition");
  if (want_disposition == NULL)
    return TRUE;
  if (g_strcmp0(g_mime_content_disposition_get_disposition(want_disposition),
                g_mime_content_disposition_get_disposition(got_disposition))
      != 0)
    return verify_mismatch(error, path, "Content-Disposition",
                           g_mime_content_disposition_get_disposition(want_disposition),
                           g_mime_content_disposition_get_disposition(got_disposition));
  return verify_same_params(g_mime_content_disposition_get_parameters(want_disposition),
                            g_mime_content_disposition_get_parameters(got_disposition), path,
                            error);
}

static gboolean verify_same_part(GMimeObject *outer, GMimeObject *want, GMimeObject *got,
                                 const char *path, GError **error);

static gboolean
verify_same_children(GMimeMultipart *want, GMimeMultipart *got, const char *path, GError **error)
{
  int n = g_mime_multipart_get_count(want);

  if (g_mime_multipart_get_count(got) != n)
    return compose_fail(error, NULL, 0,
                        "composed message does not re-parse as built: %s has %d parts, "
                        "read back %d",
                        path, n, g_mime_multipart_get_count(got));
  for (int i = 0; i < n; i++) {
    g_autofree char *sub
        = g_strdup_printf("%s%s%d", path, strcmp(path, "message") ? "." : " part ", i + 1);
    if (!verify_same_part(NULL, g_mime_multipart_get_part(want, i),
                          g_mime_multipart_get_part(got, i), sub, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
verify_same_part(GMimeObject *outer, GMimeObject *want, GMimeObject *got, const char *path,
                 GError **error)
{
  g_autofree char *want_type
      = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(want));
  g_autofree char *got_type
      = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(got));

  if (g_ascii_strcasecmp(want_type, got_type) != 0
      || GMIME_IS_MULTIPART(want) != GMIME_IS_MULTIPART(got))
    return compose_fail(error, NULL, 0,
                        "composed message does not re-parse as built: %s is %s, read back as %s",
                        path, want_type, got_type);
  if (!verify_same_headers(outer, want, got, path, error)
      || !verify_same_mime_params(want, got, path, error))
    return FALSE;
  if (GMIME_IS_MULTIPART(want))
    return verify_same_children(GMIME_MULTIPART(want), GMIME_MULTIPART(got), path, error);
  return TRUE;
}

/* Base64 bodies are left out of the re-parse: the base64 alphabet holds
 * neither a boundary delimiter ("--" at the start of a line) nor anything a
 * parser could take for a header, and skipping them keeps the check cheap
 * and a 1 GB attachment on disk.  Every other body (the text and HTML the
 * variables land in) goes through the parser.  Each swapped part and its
 * content are appended to @saved. */
static void
verify_hide_bodies(GMimeObject *object, GMimeDataWrapper *none, GPtrArray *saved)
{
  if (GMIME_IS_MULTIPART(object)) {
    int n = g_mime_multipart_get_count(GMIME_MULTIPART(object));
    for (int i = 0; i < n; i++)
      verify_hide_bodies(g_mime_multipart_get_part(GMIME_MULTIPART(object), i), none, saved);
  } else if (GMIME_IS_PART(object)
             && g_mime_part_get_content_encoding(GMIME_PART(object))
                    == GMIME_CONTENT_ENCODING_BASE64) {
    GMimePart *part = GMIME_PART(object);

    g_ptr_array_add(saved, g_object_ref(part));
    g_ptr_array_add(saved, g_object_ref(g_mime_part_get_content(part)));
    g_mime_part_set_content(part, none);
  }
}

static void
verify_restore_bodies(GPtrArray *saved)
{
  for (guint i = 0; i + 1 < saved->len; i += 2)
    g_mime_part_set_content(saved->pdata[i], saved->pdata[i + 1]);
}

/* Serialises @message without its base64 bodies into a memory stream. */
static GMimeStream *
verify_serialise(GMimeMessage *message, GError **error)
{
  g_autoptr(GPtrArray) saved = g_ptr_array_new_with_free_func(g_object_unref);
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new();
  g_autoptr(GMimeStream) empty = g_mime_stream_mem_new();
  g_autoptr(GMimeDataWrapper) none
      = g_mime_data_wrapper_new_with_stream(empty, GMIME_CONTENT_ENCODING_DEFAULT);
  gboolean ok;

  verify_hide_bodies(g_mime_message_get_mime_part(message), none, saved);
  ok = g_mime_object_write_to_stream(GMIME_OBJECT(message), NULL, stream) != -1;
  verify_restore_bodies(saved);
  if (!ok) {
    farceur_set_errno_error(error, FARCEUR_ERROR_IO, errno, "cannot serialise message");
    return NULL;
  }
  g_mime_stream_reset(stream);
  return g_steal_pointer(&stream);
}

/* RFC 5322 2.1.1: no line over 998 octets (without its line end).  The
 * hidden base64 bodies are written by GMime in 76-column lines. */
static gboolean
verify_line_lengths(GMimeStream *stream, GError **error)
{
  GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
  gsize start = 0;

  for (gsize i = 0; i <= bytes->len; i++) {
    if (i < bytes->len && bytes->data[i] != '\n')
      continue;
    if (i - start > 998)
      return compose_fail(error, NULL, 0,
                          "composed message has a line of %" G_GSIZE_FORMAT " octets (at most 998)",
                          i - start);
    start = i + 1;
  }
  return TRUE;
}

/**
 * farceur_compose_verify:
 * @message: a composed message
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Serialises @message, parses the result again with GMime's parser and
 * checks that the header names of the message and of every MIME part, and
 * the part tree (types, number of children), are exactly the ones the
 * objects hold: a value that smuggled in a header line or a boundary would
 * show up as an extra header or part.  Then each header is decoded as a
 * reader would (RFC 2047 words, RFC 2231 parameters, address lists) and
 * compared with the value it was built from: an encoded-word that decodes
 * to CR LF, or a display name read back as a group, fails here.  Decoded
 * values may hold no control character, From and Sender no group, and no
 * line may exceed 998 octets.  Base64 bodies are skipped (see
 * above), so the check costs a few kilobytes whatever the attachments'
 * size.  @message is left as it was.
 *
 * Returns: %TRUE when the message reads back as it was built
 */
gboolean
farceur_compose_verify(GMimeMessage *message, GError **error)
{
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  g_autoptr(GMimeObject) again = NULL;

  g_return_val_if_fail(GMIME_IS_MESSAGE(message), FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  farceur_init();
  stream = verify_serialise(message, error);
  if (stream == NULL || !verify_line_lengths(stream, error))
    return FALSE;
  /* Parsed as a MIME entity rather than a message: the header block comes
   * back as one list, and no time goes into re-parsing addresses and dates
   * (the check is about header names and parts, not their values). */
  parser = g_mime_parser_new_with_stream(stream);
  again = g_mime_parser_construct_part(parser, NULL);
  if (again == NULL)
    return compose_fail(error, NULL, 0, "composed message does not re-parse");
  return verify_same_part(GMIME_OBJECT(message), g_mime_message_get_mime_part(message), again,
                          "message", error);
}
