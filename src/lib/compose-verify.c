/* farceur: the composer's safety checks: control characters in values, and
 * the re-parse of a composed message (the idea of CPython's
 * verify_generated_headers, extended to the MIME part tree).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <farceur/error.h>
#include <farceur/gmime-autoptr.h>
#include <farceur/init.h>

#include "compose-private.h"

gboolean
compose_fail(GError **error, const FarceurTemplate *tmpl, guint line, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start(args, format);
  what = g_strdup_vprintf(format, args);
  va_end(args);
  if (tmpl != NULL && line > 0)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "template '%s' line %u: %s", tmpl->file,
                line, what);
  else if (tmpl != NULL)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "template '%s': %s", tmpl->file, what);
  else
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, what);
  return FALSE;
}

/**
 * farceur_check_header_value:
 * @what: what the value is, for the message ("sender address", "header 'Subject'")
 * @value: a value about to go into a header, an address or a MIME parameter
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Refuses what could end a header line or hide in one: CR, LF, NUL (a
 * caller holding a length can only pass a NUL through the middle of its
 * text, which this cannot see: check the length first), any other C0
 * control but TAB, DEL, and text that is not UTF-8.  GMime writes some
 * values (ASCII MIME parameters) raw, so this runs before GMime sees them.
 *
 * Returns: %TRUE when @value is safe
 */
gboolean
farceur_check_header_value(const char *what, const char *value, GError **error)
{
  for (const guchar *p = (const guchar *)value; *p; p++) {
    if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
      g_autofree char *shown = g_strescape(value, NULL);
      return compose_fail(error, NULL, 0, "invalid %s '%s': control character 0x%02x", what, shown,
                          *p);
    }
  }
  if (!g_utf8_validate(value, -1, NULL)) {
    g_autofree char *shown = g_strescape(value, NULL);
    return compose_fail(error, NULL, 0, "invalid %s '%s': not valid UTF-8", what, shown);
  }
  return TRUE;
}

/* Appends "Name, Name, ..." of the header fields of @object, in order. */
static void
verify_append_names(GMimeObject *object, GString *names)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list(object);
  int n = g_mime_header_list_get_count(headers);

  for (int i = 0; i < n; i++) {
    GMimeHeader *header = g_mime_header_list_get_header_at(headers, i);
    g_string_append_printf(names, "%s%s", names->len ? ", " : "", g_mime_header_get_name(header));
  }
}

static gboolean verify_same_part(GMimeObject *outer, GMimeObject *want, GMimeObject *got,
                                 const char *path, GError **error);

/* The header names of @want (preceded by those of @outer, the message, for
 * the top-level part) against those of @got. */
static gboolean
verify_same_headers(GMimeObject *outer, GMimeObject *want, GMimeObject *got, const char *path,
                    GError **error)
{
  g_autoptr(GString) want_names = g_string_new(NULL);
  g_autoptr(GString) got_names = g_string_new(NULL);

  if (outer)
    verify_append_names(outer, want_names);
  verify_append_names(want, want_names);
  verify_append_names(got, got_names);
  if (g_string_equal(want_names, got_names))
    return TRUE;
  return compose_fail(error, NULL, 0,
                      "composed message does not re-parse as built: %s headers [%s] read back as "
                      "[%s]",
                      path, want_names->str, got_names->str);
}

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
  if (!verify_same_headers(outer, want, got, path, error))
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
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_IO, "cannot serialise message: %s",
                g_strerror(errno));
    return NULL;
  }
  g_mime_stream_reset(stream);
  return g_steal_pointer(&stream);
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
 * show up as an extra header or part.  Base64 bodies are skipped (see
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

  farceur_init();
  stream = verify_serialise(message, error);
  if (stream == NULL)
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

/**
 * farceur_message_write:
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
farceur_message_write(GMimeObject *object, GMimeStream *stream, GError **error)
{
  farceur_init();
  if (g_mime_object_write_to_stream(object, NULL, stream) == -1
      || g_mime_stream_flush(stream) == -1) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_IO, "cannot write message: %s",
                g_strerror(errno));
    return FALSE;
  }
  return TRUE;
}
