/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: reading messages from files, Maildirs, mboxes and stdin.
 *
 * Every input becomes a list of files; each file is either one message or an
 * mbox (its first line starts with "From "), which is walked message by
 * message with one persistent GMime parser in GMIME_FORMAT_MBOX mode.  Parts
 * stay on disk (GMime's persist_stream), so memory is bounded by the headers
 * of the largest message, not by the file.  A stdin that cannot seek is
 * spooled to an unlinked temporary file first, for the same reason.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/input.h>

#include "error-text.h"

#define INPUT_STDIN "-"
#define INPUT_WARNING_ITEM_MAX 120 /* bytes of the offending value quoted in a warning */

struct _FarceurInput {
  GPtrArray *files; /* paths still to read, in order; "-" is stdin */
  guint next_file;

  /* the file being read */
  GMimeParser *parser;
  GMimeStream *stream; /* the parser's */
  char *label;         /* "path" or "-" */
  gboolean mbox;       /* several messages, "From " separated */
  gboolean done;       /* a single-message file already returned its message */
  guint index;         /* messages read from this file */
  gint64 size;         /* bytes of a single-message file */
  gint64 start;        /* where it starts in the stream (stdin: its offset) */
};

static int
input_compare_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static gboolean
input_fail_errno(GError **error, int code, const char *what, const char *path, int saved_errno)
{
  farceur_set_errno_error(error, code, saved_errno, "%s '%s'", what, path);
  return FALSE;
}

/* Appends to @files the regular files of @dir, sorted by name (byte order).
 * Names starting with '.' are skipped, as Maildir readers and mblaze do. */
static gboolean
input_list_dir(GPtrArray *files, const char *dir, GError **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) local = NULL;
  g_autoptr(GDir) d = g_dir_open(dir, 0, &local);
  const char *name;

  if (d == NULL) {
    g_autofree char *why = farceur_file_error_text(local);
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT, "cannot read folder '%s': %s", dir,
                why);
    return FALSE;
  }
  while ((name = g_dir_read_name(d)) != NULL) {
    g_autofree char *path = NULL;

    if (name[0] == '.')
      continue;
    path = g_build_filename(dir, name, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add(names, g_steal_pointer(&path));
  }
  g_ptr_array_sort(names, input_compare_names);
  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add(files, g_steal_pointer(&names->pdata[i]));
  return TRUE;
}

static gboolean
input_is_maildir(const char *dir)
{
  g_autofree char *cur = g_build_filename(dir, "cur", NULL);
  g_autofree char *new = g_build_filename(dir, "new", NULL);

  return g_file_test(cur, G_FILE_TEST_IS_DIR) && g_file_test(new, G_FILE_TEST_IS_DIR);
}

static gboolean
input_add_dir(GPtrArray *files, const char *dir, GError **error)
{
  g_autofree char *cur = NULL;
  g_autofree char *new = NULL;

  if (!input_is_maildir(dir))
    return input_list_dir(files, dir, error);
  cur = g_build_filename(dir, "cur", NULL);
  new = g_build_filename(dir, "new", NULL);
  return input_list_dir(files, new, error) && input_list_dir(files, cur, error);
}

/**
 * farceur_input_list:
 * @arg: a message file, a Maildir, a folder of message files, an mbox, or "-" for stdin
 * @error: return location for a #GError (FARCEUR_ERROR_NOINPUT when @arg is missing)
 *
 * The files @arg holds, in the order farceur_input_next() reads them.  A
 * folder with `cur/` and `new/` is a Maildir (the files of new/ then cur/,
 * each sorted by name); any other folder means its regular files, sorted by
 * name; names starting with '.' are skipped.  Anything else is itself.
 *
 * Returns: (transfer full) (element-type filename) (nullable): the paths
 */
GPtrArray *
farceur_input_list(const char *arg, GError **error)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  GStatBuf st;

  g_return_val_if_fail(arg != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (strcmp(arg, INPUT_STDIN) != 0 && g_stat(arg, &st) != 0) {
    input_fail_errno(error, FARCEUR_ERROR_NOINPUT, "cannot read input", arg, errno);
    return NULL;
  }
  if (strcmp(arg, INPUT_STDIN) != 0 && S_ISDIR(st.st_mode)) {
    if (!input_add_dir(files, arg, error))
      return NULL;
  } else {
    g_ptr_array_add(files, g_strdup(arg));
  }
  return g_steal_pointer(&files);
}

/**
 * farceur_input_open:
 * @arg: a message file, a Maildir, a folder of message files, an mbox, or "-" for stdin
 * @error: return location for a #GError (FARCEUR_ERROR_NOINPUT when @arg is missing)
 *
 * Lists what @arg holds (farceur_input_list()); files are opened one at a
 * time by farceur_input_next().
 *
 * Returns: (transfer full) (nullable): the input, or %NULL with @error set
 */
FarceurInput *
farceur_input_open(const char *arg, GError **error)
{
  GPtrArray *files;
  FarceurInput *input;

  g_return_val_if_fail(arg != NULL, NULL);
  if ((files = farceur_input_list(arg, error)) == NULL)
    return NULL;
  input = g_new0(FarceurInput, 1);
  input->files = files;
  return input;
}

static void
input_close_file(FarceurInput *input)
{
  g_clear_object(&input->parser);
  g_clear_object(&input->stream);
  g_clear_pointer(&input->label, g_free);
  input->mbox = input->done = FALSE;
  input->index = 0;
  input->size = 0;
  input->start = 0;
}

/**
 * farceur_input_free:
 * @input: (nullable): an input
 *
 * Closes the file being read and frees @input.  Messages already returned stay valid.
 */
void
farceur_input_free(FarceurInput *input)
{
  if (input == NULL)
    return;
  input_close_file(input);
  g_ptr_array_unref(input->files);
  g_free(input);
}

/* Copies all of fd 0 into an unlinked temporary file and returns its
 * descriptor, rewound; a pipe cannot be re-read by the parser's substreams. */
static int
input_spool_stdin(GError **error)
{
  g_autofree char *tmp = NULL;
  char buf[65536];
  ssize_t n;
  int fd = g_file_open_tmp("farceur-stdin-XXXXXX", &tmp, error);

  if (fd < 0)
    return -1;
  g_unlink(tmp);
  while ((n = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 || write(fd, buf, n) != n) {
      input_fail_errno(error, FARCEUR_ERROR_IO, "cannot spool", "stdin", errno);
      close(fd);
      return -1;
    }
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

/* A descriptor for stdin that can seek: stdin itself when it is a regular
 * file (from its current offset), else a spooled copy. */
static int
input_open_stdin(GError **error)
{
  struct stat st;

  if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) && lseek(STDIN_FILENO, 0, SEEK_CUR) >= 0)
    return fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
  return input_spool_stdin(error);
}

static int
input_open_fd(const char *path, GError **error)
{
  int fd;

  if (strcmp(path, INPUT_STDIN) == 0)
    return input_open_stdin(error);
  fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    input_fail_errno(error, FARCEUR_ERROR_NOINPUT, "cannot open message", path, errno);
  return fd;
}

/* Opens @path and decides between one message and an mbox from its first bytes. */
/* A single-message regular file of at most this many bytes is read into
 * memory: GMime then serialises its body without a seek and a read per
 * 4 KB, and the message no longer depends on the file once parsed. */
#define INPUT_SMALL_MAX (1024 * 1024)

/* The whole of a small single-message file in a memory stream, or %NULL
 * (larger, not a regular file, an mbox, or a short read) to stream it. */
static GMimeStream *
input_small_stream(int fd, const struct stat *st, off_t start, gboolean mbox)
{
  g_autoptr(GByteArray) bytes = NULL;
  gsize len;
  gsize got = 0;

  if (mbox || !S_ISREG(st->st_mode) || start != 0 || st->st_size > INPUT_SMALL_MAX)
    return NULL;
  len = (gsize)st->st_size;
  bytes = g_byte_array_sized_new((guint)len);
  g_byte_array_set_size(bytes, (guint)len);
  while (got < len) {
    ssize_t n = pread(fd, bytes->data + got, len - got, (off_t)got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return NULL; /* changed under us: let the streaming path see it */
    got += (gsize)n;
  }
  return g_mime_stream_mem_new_with_byte_array(g_steal_pointer(&bytes));
}

static gboolean
input_open_file(FarceurInput *input, const char *path, GError **error)
{
  g_autoptr(GMimeStream) stream = NULL;
  char head[5] = { 0 };
  off_t start;
  struct stat st;
  int fd = input_open_fd(path, error);

  if (fd < 0)
    return FALSE;
  start = lseek(fd, 0, SEEK_CUR);
  if (fstat(fd, &st) != 0 || start < 0 || S_ISDIR(st.st_mode)) {
    input_fail_errno(error, FARCEUR_ERROR_NOINPUT, "cannot read message", path,
                     S_ISDIR(st.st_mode) ? EISDIR : errno);
    close(fd);
    return FALSE;
  }
  input->mbox = pread(fd, head, sizeof head, start) == sizeof head
                && memcmp(head, "From ", sizeof head) == 0;
  input->size = st.st_size - start;
  input->start = start;
  stream = input_small_stream(fd, &st, start, input->mbox);
  if (stream != NULL)
    close(fd);
  else
    stream = g_mime_stream_fs_new(fd);
  input->parser = g_mime_parser_new_with_stream(stream);
  input->stream = g_object_ref(stream);
  g_mime_parser_set_format(input->parser, input->mbox ? GMIME_FORMAT_MBOX : GMIME_FORMAT_MESSAGE);
  input->label = g_strdup(path);
  return TRUE;
}

static const char *
input_warning_text(GMimeParserWarning code)
{
  switch (code) {
    case GMIME_WARN_DUPLICATED_HEADER:
      return "duplicated header";
    case GMIME_WARN_DUPLICATED_PARAMETER:
      return "duplicated parameter";
    case GMIME_WARN_UNENCODED_8BIT_HEADER:
      return "unencoded 8-bit header";
    case GMIME_WARN_INVALID_CONTENT_TYPE:
      return "invalid content type";
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE:
      return "invalid RFC 2047 header value";
    case GMIME_WARN_MALFORMED_MULTIPART:
      return "malformed multipart";
    case GMIME_WARN_TRUNCATED_MESSAGE:
      return "truncated message";
    case GMIME_WARN_MALFORMED_MESSAGE:
      return "malformed message";
    case GMIME_CRIT_INVALID_HEADER_NAME:
      return "invalid header name";
    case GMIME_CRIT_CONFLICTING_HEADER:
      return "conflicting header";
    case GMIME_CRIT_CONFLICTING_PARAMETER:
      return "conflicting parameter";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
      return "multipart without boundary";
    case GMIME_WARN_INVALID_PARAMETER:
      return "invalid parameter";
    case GMIME_WARN_INVALID_ADDRESS_LIST:
      return "invalid address list";
    case GMIME_CRIT_NESTING_OVERFLOW:
      return "MIME nesting too deep";
    case GMIME_WARN_PART_WITHOUT_CONTENT:
      return "part without content";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
      return "part without headers or content";
  }
  return "parser warning";
}

/* GMime's warning callback: one line per warning, capped in number and
 * length, valid UTF-8 whatever bytes the item held. */
static void
input_warning_cb(gint64 offset, GMimeParserWarning code, const char *item, gpointer user_data)
{
  GPtrArray *warnings = user_data;
  g_autofree char *clip = NULL;
  g_autofree char *valid = NULL;
  GString *line;

  if (warnings->len > FARCEUR_INPUT_MAX_WARNINGS)
    return;
  if (warnings->len == FARCEUR_INPUT_MAX_WARNINGS) {
    g_ptr_array_add(warnings, g_strdup("further warnings omitted"));
    return;
  }
  line = g_string_new(NULL);
  if (offset >= 0)
    g_string_append_printf(line, "offset %" G_GINT64_FORMAT ": ", offset);
  g_string_append(line, input_warning_text(code));
  if (item != NULL && *item != '\0') {
    clip = g_strndup(item, INPUT_WARNING_ITEM_MAX);
    valid = g_utf8_make_valid(g_strstrip(clip), -1);
    g_string_append_printf(line, " (%s)", valid);
  }
  g_ptr_array_add(warnings, g_string_free(line, FALSE));
}

/* GMime keeps the parser options (and so the callback's user data) in the
 * objects it builds and may warn later, when a header is decoded: both are
 * tied to the message's lifetime. */
static GMimeMessage *
input_construct(GMimeParser *parser, GPtrArray *warnings)
{
  GMimeParserOptions *options = g_mime_parser_options_new();
  GMimeMessage *message;

  g_mime_parser_options_set_warning_callback(options, input_warning_cb, warnings);
  message = g_mime_parser_construct_message(parser, options);
  if (message == NULL) {
    g_mime_parser_options_free(options);
    return NULL;
  }
  g_object_set_data_full(G_OBJECT(message), "farceur-input-options", options,
                         (GDestroyNotify)g_mime_parser_options_free);
  g_object_set_data_full(G_OBJECT(message), "farceur-input-warnings", g_ptr_array_ref(warnings),
                         (GDestroyNotify)g_ptr_array_unref);
  return message;
}

static FarceurInputMessage *
input_message_new(GMimeMessage *message, char *source, gint64 size, GPtrArray *warnings)
{
  FarceurInputMessage *msg = g_new0(FarceurInputMessage, 1);

  msg->message = message;
  msg->source = source;
  msg->size = size;
  msg->warnings = g_ptr_array_ref(warnings);
  return msg;
}

/* The octets of the mbox message just parsed: from its first header line to
 * the next "From " line, less the line end before that one, the separator
 * mbox writers add (and GMime leaves out too). */
static GMimeStream *
input_mbox_stored(FarceurInput *input)
{
  gint64 begin = g_mime_parser_get_headers_begin(input->parser);
  gint64 end = g_mime_parser_tell(input->parser);
  char tail[2] = { 0, 0 };

  if (!g_mime_parser_eos(input->parser) && end - begin >= 2) {
    g_autoptr(GMimeStream) last = g_mime_stream_substream(input->stream, end - 2, end);
    if (g_mime_stream_read(last, tail, 2) == 2 && tail[1] == '\n')
      end -= tail[0] == '\r' ? 2 : 1;
  }
  return g_mime_stream_substream(input->stream, begin, end);
}

/* The next message of the open file, or %NULL at its end (file closed) or on
 * error (file closed too, so the caller may go on with the next file). */
static FarceurInputMessage *
input_read_message(FarceurInput *input, GError **error)
{
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
  FarceurInputMessage *msg;
  GMimeMessage *message;
  gint64 size = input->size;
  char *source;

  if (input->done || (input->mbox && g_mime_parser_eos(input->parser))) {
    input_close_file(input);
    return NULL;
  }
  message = input_construct(input->parser, warnings);
  if (message == NULL) {
    if (input->mbox && g_mime_parser_eos(input->parser)) {
      input_close_file(input);
      return NULL;
    }
    if (input->mbox)
      g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                  "cannot parse message '%s#%u': no header block", input->label, input->index + 1);
    else
      g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                  "cannot parse message '%s': no header block", input->label);
    input_close_file(input);
    return NULL;
  }
  input->index++;
  if (input->mbox) {
    size = g_mime_parser_tell(input->parser) - g_mime_parser_get_headers_begin(input->parser);
    source = g_strdup_printf("%s#%u", input->label, input->index);
  } else {
    input->done = TRUE;
    source = g_strdup(input->label);
  }
  msg = input_message_new(message, source, size, warnings);
  msg->path = g_strdup(input->label);
  msg->index = input->mbox ? input->index : 0;
  /* its own position: GMime's fs streams seek before each read */
  if (input->mbox)
    msg->stored = input_mbox_stored(input);
  else
    msg->stored = g_mime_stream_substream(input->stream, input->start, input->start + input->size);
  return msg;
}

/**
 * farceur_input_next:
 * @input: an input
 * @error: return location for a #GError
 *
 * Parses the next message.  On error (a file that vanished or cannot be
 * parsed: FARCEUR_ERROR_NOINPUT or FARCEUR_ERROR_DATA naming it) the file is
 * skipped, so calling again goes on with the next one.
 *
 * Returns: (transfer full) (nullable): the message, or %NULL at the end (no
 *   error) or on error
 */
FarceurInputMessage *
farceur_input_next(FarceurInput *input, GError **error)
{
  GError *local = NULL;
  FarceurInputMessage *msg;

  g_return_val_if_fail(input != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  for (;;) {
    if (input->parser == NULL) {
      if (input->next_file >= input->files->len)
        return NULL;
      if (!input_open_file(input, input->files->pdata[input->next_file++], error))
        return NULL;
    }
    msg = input_read_message(input, &local);
    if (msg != NULL)
      return msg;
    if (local != NULL) {
      g_propagate_error(error, local);
      return NULL;
    }
  }
}

/**
 * farceur_input_message_free:
 * @msg: (nullable): a message read by farceur_input_next()
 */
void
farceur_input_message_free(FarceurInputMessage *msg)
{
  if (msg == NULL)
    return;
  g_clear_object(&msg->message);
  g_clear_object(&msg->stored);
  g_free(msg->source);
  g_free(msg->path);
  g_ptr_array_unref(msg->warnings);
  g_free(msg);
}

/**
 * farceur_input_parse_stream:
 * @stream: a message's octets, read from the start (g_mime_stream_reset)
 * @label: what to call it in the error
 * @error: return location for a %FARCEUR_ERROR_DATA or %FARCEUR_ERROR_IO error
 *
 * Parses one message held in a stream (a stored message kept as octets).
 * Its parts stay in @stream, which must outlive the message.
 *
 * Returns: (transfer full) (nullable): the message
 */
GMimeMessage *
farceur_input_parse_stream(GMimeStream *stream, const char *label, GError **error)
{
  g_autoptr(GMimeParser) parser = NULL;
  GMimeMessage *message;

  g_return_val_if_fail(GMIME_IS_STREAM(stream), NULL);
  g_return_val_if_fail(label != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (g_mime_stream_reset(stream) == -1) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_IO, "%s: cannot read it again", label);
    return NULL;
  }
  parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
  if ((message = g_mime_parser_construct_message(parser, NULL)) == NULL)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "cannot parse %s: no header block",
                label);
  return message;
}

/**
 * farceur_input_open_stored:
 * @path: a file holding one message
 * @error: return location for a %FARCEUR_ERROR_NOINPUT error
 *
 * The octets of @path as they are, without parsing them: in memory up to
 * 1 MiB, else read from the file as they are needed.
 *
 * Returns: (transfer full) (nullable): a stream over the whole file
 */
GMimeStream *
farceur_input_open_stored(const char *path, GError **error)
{
  GMimeStream *stream;
  struct stat st;
  int fd;

  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  fd = input_open_fd(path, error);
  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    input_fail_errno(error, FARCEUR_ERROR_NOINPUT, "cannot read message", path,
                     S_ISDIR(st.st_mode) ? EISDIR : errno);
    close(fd);
    return NULL;
  }
  if ((stream = input_small_stream(fd, &st, 0, FALSE)) != NULL)
    close(fd);
  else
    stream = g_mime_stream_fs_new_with_bounds(fd, 0, st.st_size);
  return stream;
}

/**
 * farceur_input_open_range:
 * @path: a file
 * @start: where the octets start
 * @end: where they end
 * @error: return location for a %FARCEUR_ERROR_NOINPUT error
 *
 * A stream over octets @start to @end of @path, read from the file as they
 * are needed, not parsed: a message's octets as stored, served again.
 *
 * Returns: (transfer full) (nullable): the stream, or %NULL with @error set
 *   (the file is gone, or shorter than @end: it changed)
 */
GMimeStream *
farceur_input_open_range(const char *path, gint64 start, gint64 end, GError **error)
{
  struct stat st;
  int fd;

  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(start >= 0 && end >= start, NULL);
  if (strcmp(path, INPUT_STDIN) == 0) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT, "cannot read stdin again");
    return NULL;
  }
  if ((fd = input_open_fd(path, error)) < 0)
    return NULL;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < end) {
    close(fd);
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT,
                "cannot read '%s' again: the file changed", path);
    return NULL;
  }
  return g_mime_stream_fs_new_with_bounds(fd, start, end);
}

/**
 * farceur_input_read_range:
 * @path: the file a message was read from (FarceurInputMessage.path)
 * @start: where its octets start in the file (the bound_start of its @stored stream)
 * @end: where they end (the bound_end of its @stored stream)
 * @source: what to call it (FarceurInputMessage.source)
 * @index: its place in an mbox, from 1; 0 for a file holding one message
 * @error: return location for a %FARCEUR_ERROR_NOINPUT or %FARCEUR_ERROR_DATA error
 *
 * Reads again one message that farceur_input_next() returned earlier,
 * from its octets as stored (farceur_input_open_range()), without walking
 * the messages before it: a viewer keeps (path, start, end) rather than the
 * parsed message.  The parts stay in the file, as with farceur_input_next().
 *
 * Returns: (transfer full) (nullable): the message, or %NULL with @error
 *   set (the file is gone, or shorter than @end: it changed)
 */
FarceurInputMessage *
farceur_input_read_range(const char *path, gint64 start, gint64 end, const char *source,
                         guint index, GError **error)
{
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  FarceurInputMessage *msg;
  GMimeMessage *message;

  g_return_val_if_fail(source != NULL, NULL);
  if ((stream = farceur_input_open_range(path, start, end, error)) == NULL)
    return NULL;
  parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
  if ((message = input_construct(parser, warnings)) == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "cannot parse message '%s': no header block", source);
    return NULL;
  }
  msg = input_message_new(message, g_strdup(source), end - start, warnings);
  msg->path = g_strdup(path);
  msg->index = index;
  msg->stored = g_mime_stream_substream(stream, start, end);
  return msg;
}
