/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: reading messages from files, Maildirs, mboxes and stdin.
 *
 * Every input becomes a list of files; each file is either one message or an
 * mbox (its first line starts with "From ").  An mbox is split here, at every
 * line that starts with "From " (mboxrd and mboxo writers quote such lines
 * in bodies as ">From "; GMime's and Python's mbox readers split at the same
 * lines), by a scanner that reads the file in large blocks and looks at
 * nothing but line starts: GMime's parser cannot step over a message without
 * building it, and a shard (--shard) or a header-only reader (trace) must
 * not pay for the bodies it does not read.  Each message is then parsed by
 * one GMime parser, reused, over its own range of the file, so header and
 * warning offsets are offsets in the file: from the scanner's block when
 * the block holds the whole message (a few blocks at most stay pinned by
 * held messages), else from the file.  Parts stay there (GMime's
 * persist_stream): memory is bounded by the headers of the largest message
 * and a few blocks, not by the file.  A stdin that cannot seek is spooled to
 * an unlinked temporary file first, for the same reason.  A header block
 * GMime has nothing to warn about is parsed without its warning callback
 * (see "header blocks GMime has nothing to warn about" below).
 */
#define _GNU_SOURCE /* memmem */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <farceur/error.h>
#include "gmime-autoptr.h"
#include <farceur/input.h>

#include "error-text.h"

#define INPUT_STDIN "-"
#define INPUT_WARNING_ITEM_MAX 120    /* bytes of the offending value quoted in a warning */
#define INPUT_SCAN_BLOCK (128 * 1024) /* bytes read at a time from an mbox */
#define INPUT_SCAN_KEEP 8             /* bytes kept before the scan position */
/* A line longer than this is read as its head and skipped over: the
 * scanner's buffer never holds more of one line (a header line of 200 MB). */
#define INPUT_LINE_MAX FARCEUR_INPUT_MAX_FIELD

/* The scanner's buffer, shared with the messages parsed from it
 * (input_range_stream()): written only while no message holds it, else
 * replaced.  A message held pins the block it was read from: past
 * INPUT_BLOCKS_LIVE blocks alive (a caller that keeps its messages), the
 * next messages are read from the file, not from a block. */
typedef struct {
  gatomicrefcount ref;
  gint *live; /* blocks alive, shared by the scanner and its blocks */
  char data[];
} InputBlock;

#define INPUT_BLOCKS_LIVE 4

static void input_block_unref(gpointer data);

/* A file read in blocks, line by line, for the "From " lines of an mbox and
 * the header blocks of messages.  Hand-written: GMime has no way to step
 * over a message without building it (see the top of the file). */
typedef struct {
  int fd;            /* not owned */
  InputBlock *block; /* kept from file to file */
  gint *live;        /* blocks alive (g_atomic_rc_box) */
  char *buf;         /* block->data */
  gsize size;        /* allocated */
  gsize len;         /* bytes read into buf */
  gsize pos;         /* the scan position, in buf */
  gint64 base;       /* offset of buf[0] in the file */
  gboolean eof;      /* nothing more to read */
  int errsv;         /* a failed read */
  char *head;        /* the first INPUT_LINE_MAX bytes of a longer line */
} InputScan;

typedef enum {
  INPUT_END_BLANK,     /* the blank line */
  INPUT_END_SEPARATOR, /* an mbox's "From " line, left unread */
  INPUT_END_FILE,      /* the end of the file */
} InputBlockEnd;

/* One message of an mbox, as offsets in its file. */
typedef struct {
  gint64 marker;           /* its "From " line */
  gint64 begin;            /* after that line */
  gint64 end;              /* the next "From " line, or the end of the file */
  gint64 stored_end;       /* @end less the line end that separates it from the next one */
  gint64 next_line;        /* after the next "From " line */
  gboolean last;           /* no "From " line after it */
  InputBlockEnd block_end; /* how its header block ended */
} InputRange;

struct _FarceurInput {
  GPtrArray *files; /* paths still to read, in order; "-" is stdin */
  guint next_file;
  gboolean maildir; /* the files are a Maildir's */
  guint shard;      /* from 1; 0: every message */
  guint shards;
  GChecksum *checksum; /* shard keys */

  GMimeParser *parser; /* reused from message to message */

  /* the file being read (open while @stream is set) */
  GMimeStream *stream; /* owns the file; an mbox's messages are substreams of it */
  char *label;         /* "path" or "-" */
  char *key;           /* the file's shard key (farceur_input_set_shard()) */
  gboolean mbox;       /* several messages, "From " separated */
  gboolean done;       /* a single-message file already returned its message */
  guint index;         /* messages read from this file */
  gint64 size;         /* bytes of a single-message file */
  gint64 start;        /* where it starts in the stream (stdin: its offset) */
  InputScan scan;      /* an mbox, or a file read for its header block */

  /* farceur_input_next_headers(): the last header block, its fields, its name */
  GByteArray *block;
  GArray *fields; /* (element-type FarceurInputField) */
  FarceurInputHeaders headers;
  GString *source;
  GPtrArray *warnings; /* the last header block's cuts */
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
  input->maildir = g_file_test(arg, G_FILE_TEST_IS_DIR) && input_is_maildir(arg);
  input->scan.fd = -1;
  return input;
}

/**
 * farceur_input_parse_shard:
 * @text: "K/N", 1 <= K <= N
 * @shard: (out): K
 * @shards: (out): N
 * @error: return location for a %FARCEUR_ERROR_USAGE error
 *
 * Returns: whether @text names a shard
 */
gboolean
farceur_input_parse_shard(const char *text, guint *shard, guint *shards, GError **error)
{
  guint64 k = 0, n = 0;
  const char *slash;

  g_return_val_if_fail(text != NULL, FALSE);
  g_return_val_if_fail(shard != NULL && shards != NULL, FALSE);
  slash = strchr(text, '/');
  if (slash == NULL || !g_ascii_string_to_unsigned(slash + 1, 10, 1, G_MAXUINT32, &n, NULL)) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "shard '%s' is not K/N with 1 <= K <= N",
                text);
    return FALSE;
  }
  {
    g_autofree char *first = g_strndup(text, slash - text);

    if (!g_ascii_string_to_unsigned(first, 10, 1, n, &k, NULL)) {
      g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                  "shard '%s' is not K/N with 1 <= K <= N", text);
      return FALSE;
    }
  }
  *shard = (guint)k;
  *shards = (guint)n;
  return TRUE;
}

/**
 * farceur_input_set_shard:
 * @input: an input, before its first message is read
 * @shard: K, from 1 to @shards
 * @shards: N, 1 or more
 *
 * Reads only the messages of shard K of N: those whose key hashes to K.  The
 * key of a message is the name of its file (in a Maildir, without the
 * ":2,FLAGS" info, so that a message stays in its shard when it moves from
 * new/ to cur/ or changes flags; standard input is "-"), followed for a
 * message of an mbox by "#" and its place in it, from 1.  Its shard is the
 * first 8 bytes of the key's SHA-256, read as a big-endian number, modulo
 * N, plus 1.  The split depends on nothing but the names and the mbox
 * order: N runs on any machines cover a corpus exactly once
 * (data/doc/formats.md, Shards).
 */
void
farceur_input_set_shard(FarceurInput *input, guint shard, guint shards)
{
  g_return_if_fail(input != NULL);
  g_return_if_fail(shards >= 1 && shard >= 1 && shard <= shards);
  input->shard = shard;
  input->shards = shards;
  if (input->checksum == NULL)
    input->checksum = g_checksum_new(G_CHECKSUM_SHA256);
}

/* The file's part of the shard key: its name, less a Maildir's info. */
static char *
input_shard_key(const FarceurInput *input, const char *path)
{
  char *key = g_path_get_basename(path);
  char *info;

  if (input->maildir && (info = strchr(key, ':')) != NULL)
    *info = '\0';
  return key;
}

/* Whether the message at @index of the open file (0: the file is the
 * message) belongs to the shard read. */
static gboolean
input_in_shard(FarceurInput *input, guint index)
{
  guint8 digest[32];
  gsize length = sizeof digest;
  guint64 value = 0;

  if (input->shards == 0)
    return TRUE;
  g_checksum_reset(input->checksum);
  g_checksum_update(input->checksum, (const guchar *)input->key, -1);
  if (index > 0) {
    char place[16];
    int n = g_snprintf(place, sizeof place, "#%u", index);

    g_checksum_update(input->checksum, (const guchar *)place, n);
  }
  g_checksum_get_digest(input->checksum, digest, &length);
  for (guint i = 0; i < 8; i++)
    value = value << 8 | digest[i];
  return value % input->shards == input->shard - 1;
}

static void
input_close_file(FarceurInput *input)
{
  g_clear_object(&input->stream);
  g_clear_pointer(&input->label, g_free);
  g_clear_pointer(&input->key, g_free);
  input->mbox = input->done = FALSE;
  input->index = 0;
  input->size = 0;
  input->start = 0;
  input->scan.fd = -1;
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
  g_clear_object(&input->parser);
  g_ptr_array_unref(input->files);
  g_clear_pointer(&input->checksum, g_checksum_free);
  g_clear_pointer(&input->scan.block, input_block_unref);
  g_clear_pointer(&input->scan.live, g_atomic_rc_box_release);
  g_free(input->scan.head);
  g_clear_pointer(&input->warnings, g_ptr_array_unref);
  g_clear_pointer(&input->block, g_byte_array_unref);
  g_clear_pointer(&input->fields, g_array_unref);
  if (input->source)
    g_string_free(input->source, TRUE);
  g_free(input);
}

/* ---- caps on hostile headers ---------------------------------------------
 *
 * GMime keeps a header in memory, several times over, while it builds a
 * message: a header line of 200 MB costs over a gigabyte.  GMime's parser
 * has no limit of its own (its options set compliance modes and the warning
 * callback only), so the header block is metered here first, as it is read:
 * the octets of a field past FARCEUR_INPUT_MAX_FIELD and the fields past
 * FARCEUR_INPUT_MAX_HEADER are dropped, the rest kept, line ends and all;
 * GMime then reads the kept header and the body as it is.  A message smaller
 * than a field's cap cannot be over either cap and is not metered. */

#define INPUT_NAME_MAX 64             /* bytes of a field name kept for a warning */
#define INPUT_METER_BLOCK (64 * 1024) /* bytes read at a time by the meter */

typedef struct {
  GByteArray *kept;       /* nullable: the header octets within the caps */
  gint64 offset;          /* of the next octet */
  gsize field;            /* octets of the current field so far */
  gsize total;            /* octets of the header block so far */
  gsize line_len;         /* octets of the current line so far (0: at a line start) */
  gboolean line_cr;       /* the current line starts with '\r' */
  gboolean line_dropping; /* the rest of the current line is dropped */
  guint kept_at_line;     /* kept->len where the current line starts */
  gboolean cutting;       /* the current field is being cut */
  gboolean done;          /* the blank line was met */
  gint64 end;             /* where the header block ends: its blank line, or the end */
  gint64 field_start;
  char name[INPUT_NAME_MAX + 1]; /* the current field's name, printable ASCII */
  gsize name_len;
  gboolean in_name;
  gint64 field_cut; /* where the first field cut starts, or -1 */
  char cut_name[INPUT_NAME_MAX + 1];
  guint fields_cut;
  gint64 block_cut; /* where dropping for the block's cap began, or -1 */
} InputMeter;

static void
input_meter_init(InputMeter *m, GByteArray *kept, gint64 offset)
{
  memset(m, 0, sizeof *m);
  m->kept = kept;
  m->offset = m->end = m->field_start = offset;
  m->field_cut = m->block_cut = -1;
}

static gboolean
input_meter_over(const InputMeter *m)
{
  return m->field_cut >= 0 || m->block_cut >= 0;
}

static void
input_meter_line_start(InputMeter *m, char c)
{
  m->line_cr = c == '\r';
  m->line_dropping = FALSE;
  m->kept_at_line = m->kept != NULL ? m->kept->len : 0;
  if (c == ' ' || c == '\t')
    return; /* the field goes on */
  m->field = 0;
  m->field_start = m->offset;
  m->cutting = FALSE;
  m->name_len = 0;
  m->in_name = TRUE;
}

/* The octets the caps make the meter drop from here: records why (@block:
 * the block's cap, else the field's). */
static void
input_meter_note_cut(InputMeter *m, gboolean block)
{
  if (block) {
    if (m->block_cut < 0)
      m->block_cut = m->offset;
    return;
  }
  if (m->cutting)
    return;
  m->cutting = TRUE;
  m->fields_cut++;
  if (m->field_cut < 0) {
    m->field_cut = m->field_start;
    memcpy(m->cut_name, m->name, m->name_len);
    m->cut_name[m->name_len] = '\0';
  }
}

/* A dropped octet in a line that kept some: the kept part ends its line. */
static void
input_meter_drop_rest(InputMeter *m)
{
  if (m->line_dropping)
    return;
  m->line_dropping = TRUE;
  if (m->kept != NULL && m->kept->len > m->kept_at_line)
    g_byte_array_append(m->kept, (const guint8 *)"\n", 1);
}

static void
input_meter_count(InputMeter *m, char c)
{
  if (m->in_name) {
    if (c == ':' || c == '\n' || m->name_len == INPUT_NAME_MAX)
      m->in_name = FALSE;
    else
      m->name[m->name_len++] = g_ascii_isprint(c) ? c : '?';
  }
  /* the block's cap counts the octets kept: a field cut counts its cap */
  if (++m->field > FARCEUR_INPUT_MAX_FIELD || ++m->total > FARCEUR_INPUT_MAX_HEADER) {
    input_meter_note_cut(m, m->field <= FARCEUR_INPUT_MAX_FIELD);
    input_meter_drop_rest(m);
  } else if (m->kept != NULL) {
    g_byte_array_append(m->kept, (const guint8 *)&c, 1);
  }
}

/* A whole line of @len octets (its '\n' among them, not a blank line) at
 * a line start, taken at once when it keeps within both caps: what
 * input_meter_count() does octet by octet, but the name, and one append.
 * FALSE when it does not fit: then it goes octet by octet, to be cut. */
static gboolean
input_meter_whole_line(InputMeter *m, const char *line, gsize len)
{
  gsize field = line[0] == ' ' || line[0] == '\t' ? m->field : 0; /* a new field starts at 0 */

  if (field + len > FARCEUR_INPUT_MAX_FIELD || m->total + len > FARCEUR_INPUT_MAX_HEADER)
    return FALSE;
  input_meter_line_start(m, line[0]);
  for (gsize k = 0; m->in_name && k < len; k++)
    if (line[k] == ':' || line[k] == '\n' || m->name_len == INPUT_NAME_MAX)
      m->in_name = FALSE;
    else
      m->name[m->name_len++] = g_ascii_isprint(line[k]) ? line[k] : '?';
  m->field += len;
  m->total += len;
  if (m->kept != NULL)
    g_byte_array_append(m->kept, (const guint8 *)line, (guint)len);
  m->offset += (gint64)len;
  return TRUE;
}

/* Header octets, in order; stops at the blank line (not counted).  Whole
 * lines within the caps are taken a line at a time (a header of 1.5 KB was
 * 150k instructions octet by octet); the rest octet by octet. */
static void
input_meter_feed(InputMeter *m, const char *buf, gsize len)
{
  for (gsize i = 0; i < len && !m->done; i++, m->offset++) {
    char c = buf[i];

    if (m->line_len == 0 && c != '\n' && !(c == '\r' && i + 1 < len && buf[i + 1] == '\n')) {
      const char *nl = memchr(buf + i, '\n', len - i);
      if (nl != NULL && input_meter_whole_line(m, buf + i, (gsize)(nl - (buf + i)) + 1)) {
        i = (gsize)(nl - buf);
        m->offset--; /* the loop's step counts the '\n' */
        continue;
      }
    }
    if (m->line_len == 0)
      input_meter_line_start(m, c);
    if (c == '\n' && (m->line_len == 0 || (m->line_len == 1 && m->line_cr))) {
      m->done = TRUE;
      m->end = m->offset - (gint64)m->line_len;
      if (m->block_cut == m->end)
        m->block_cut = -1; /* only the blank line's CR went past the cap: nothing was cut */
      if (m->kept != NULL)
        g_byte_array_set_size(m->kept, m->kept_at_line);
      return;
    }
    input_meter_count(m, c);
    m->line_len = c == '\n' ? 0 : m->line_len + 1;
  }
  if (!m->done)
    m->end = m->offset;
}

/* The rest of a line the scanner skipped (@n octets, its '\n' among them):
 * over the field's cap by then, so dropped. */
static void
input_meter_skip_line(InputMeter *m, gsize n)
{
  m->field += n;
  input_meter_note_cut(m, FALSE);
  input_meter_drop_rest(m);
  m->offset += (gint64)n;
  m->end = m->offset;
  m->line_len = 0;
}

/* What the caps cut, as warnings of the message. */
static void
input_meter_warn(const InputMeter *m, GPtrArray *warnings)
{
  if (m->field_cut >= 0 && m->fields_cut > 1)
    g_ptr_array_add(warnings,
                    g_strdup_printf("offset %" G_GINT64_FORMAT ": header field '%s' over the "
                                    "%d MiB cap: cut there (and %u more fields)",
                                    m->field_cut, m->cut_name, FARCEUR_INPUT_MAX_FIELD >> 20,
                                    m->fields_cut - 1));
  else if (m->field_cut >= 0)
    g_ptr_array_add(warnings,
                    g_strdup_printf("offset %" G_GINT64_FORMAT ": header field '%s' over the "
                                    "%d MiB cap: cut there",
                                    m->field_cut, m->cut_name, FARCEUR_INPUT_MAX_FIELD >> 20));
  if (m->block_cut >= 0)
    g_ptr_array_add(warnings,
                    g_strdup_printf("offset %" G_GINT64_FORMAT ": header block over the %d MiB "
                                    "cap: the rest of it dropped",
                                    m->block_cut, FARCEUR_INPUT_MAX_HEADER >> 20));
}

/* Meters the header of the message at octets @start to @stop of @stream
 * (@stop -1: to its end).  FALSE on a read error. */
static gboolean
input_meter_stream(InputMeter *m, GMimeStream *stream, gint64 start, gint64 stop)
{
  g_autoptr(GMimeStream) range = g_mime_stream_substream(stream, start, stop);
  g_autofree char *buf = g_malloc(INPUT_METER_BLOCK);
  ssize_t n;

  if (range == NULL || g_mime_stream_reset(range) == -1)
    return FALSE;
  while (!m->done && (n = g_mime_stream_read(range, buf, INPUT_METER_BLOCK)) > 0)
    input_meter_feed(m, buf, (gsize)n);
  return m->done || g_mime_stream_eos(range);
}

/* The message at octets @start to @stop of @stream, its header cut to the
 * caps, or %NULL when it is within them (or could not be metered: GMime
 * reads it as it is and says what is wrong).  Warnings say what was cut. */
static GMimeStream *
input_capped_stream(GMimeStream *stream, gint64 start, gint64 stop, GPtrArray *warnings)
{
  g_autoptr(GByteArray) kept = NULL;
  g_autoptr(GMimeStream) header = NULL;
  g_autoptr(GMimeStream) body = NULL;
  GMimeStream *cat;
  InputMeter m;

  if (stop >= 0 && stop - start <= FARCEUR_INPUT_MAX_FIELD)
    return NULL;
  kept = g_byte_array_new();
  input_meter_init(&m, kept, start);
  if (!input_meter_stream(&m, stream, start, stop) || !input_meter_over(&m))
    return NULL;
  input_meter_warn(&m, warnings);
  header = g_mime_stream_mem_new_with_byte_array(g_steal_pointer(&kept));
  body = g_mime_stream_substream(stream, m.end, stop);
  cat = g_mime_stream_cat_new();
  g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), header);
  g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), body);
  return cat;
}

/* ---- a message's octets in memory, at their offsets in the file ----------
 *
 * An mbox message the scanner still holds is handed to GMime from memory:
 * GMime's fs stream seeks before each read, so a message read from the file
 * costs a seek and a read for its headers and again for each body read.
 * Hand-written: GMime's memory stream indexes its buffer by the stream
 * position, so its offsets would start at 0 where header and warning
 * offsets must be the file's.  Read-only. */

typedef struct {
  GMimeStream parent;
  GBytes *bytes; /* the octets from @base on */
  gint64 base;   /* the offset of the first one in the file */
} InputBytesStream;

typedef struct {
  GMimeStreamClass parent_class;
} InputBytesStreamClass;

static GType input_bytes_stream_get_type(void);
G_DEFINE_TYPE(InputBytesStream, input_bytes_stream, GMIME_TYPE_STREAM)

static gint64
input_bytes_end(GMimeStream *stream)
{
  InputBytesStream *self = (InputBytesStream *)stream;

  if (stream->bound_end != -1)
    return stream->bound_end;
  return self->base + (gint64)g_bytes_get_size(self->bytes);
}

static ssize_t
input_bytes_read(GMimeStream *stream, char *buf, size_t len)
{
  InputBytesStream *self = (InputBytesStream *)stream;
  gint64 n = MIN(input_bytes_end(stream) - stream->position, (gint64)len);
  const char *data = g_bytes_get_data(self->bytes, NULL);

  if (n < 0 || stream->position < self->base) {
    errno = EINVAL;
    return -1;
  }
  memcpy(buf, data + (stream->position - self->base), (size_t)n);
  stream->position += n;
  return (ssize_t)n;
}

static ssize_t
input_bytes_write(GMimeStream *stream, const char *buf, size_t len)
{
  errno = EBADF;
  return -1;
}

static int
input_bytes_flush(GMimeStream *stream)
{
  return 0;
}

static int
input_bytes_close(GMimeStream *stream)
{
  return 0;
}

static gboolean
input_bytes_eos(GMimeStream *stream)
{
  return stream->position >= input_bytes_end(stream);
}

static int
input_bytes_reset(GMimeStream *stream)
{
  stream->position = stream->bound_start;
  return 0;
}

static gint64
input_bytes_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
  gint64 end = input_bytes_end(stream);
  gint64 real = offset;

  if (whence == GMIME_STREAM_SEEK_CUR)
    real = stream->position + offset;
  else if (whence == GMIME_STREAM_SEEK_END)
    real = end + offset;
  if (real < stream->bound_start || real > end) {
    errno = EINVAL;
    return -1;
  }
  return stream->position = real;
}

static gint64
input_bytes_tell(GMimeStream *stream)
{
  return stream->position;
}

static gint64
input_bytes_length(GMimeStream *stream)
{
  return input_bytes_end(stream) - stream->bound_start;
}

static GMimeStream *input_bytes_stream_new(GBytes *bytes, gint64 base, gint64 start, gint64 end);

static GMimeStream *
input_bytes_substream(GMimeStream *stream, gint64 start, gint64 end)
{
  InputBytesStream *self = (InputBytesStream *)stream;

  return input_bytes_stream_new(self->bytes, self->base, start, end);
}

static void
input_bytes_stream_finalize(GObject *object)
{
  g_clear_pointer(&((InputBytesStream *)object)->bytes, g_bytes_unref);
  G_OBJECT_CLASS(input_bytes_stream_parent_class)->finalize(object);
}

static void
input_bytes_stream_class_init(InputBytesStreamClass *klass)
{
  GMimeStreamClass *stream_class = GMIME_STREAM_CLASS(klass);

  G_OBJECT_CLASS(klass)->finalize = input_bytes_stream_finalize;
  stream_class->read = input_bytes_read;
  stream_class->write = input_bytes_write;
  stream_class->flush = input_bytes_flush;
  stream_class->close = input_bytes_close;
  stream_class->eos = input_bytes_eos;
  stream_class->reset = input_bytes_reset;
  stream_class->seek = input_bytes_seek;
  stream_class->tell = input_bytes_tell;
  stream_class->length = input_bytes_length;
  stream_class->substream = input_bytes_substream;
}

static void
input_bytes_stream_init(InputBytesStream *self)
{
}

/* Octets @start to @end (-1: all) of @bytes, which starts at @base. */
static GMimeStream *
input_bytes_stream_new(GBytes *bytes, gint64 base, gint64 start, gint64 end)
{
  InputBytesStream *self = g_object_new(input_bytes_stream_get_type(), NULL);

  self->bytes = g_bytes_ref(bytes);
  self->base = base;
  g_mime_stream_construct(GMIME_STREAM(self), start, end);
  return GMIME_STREAM(self);
}

/* ---- header blocks GMime has nothing to warn about -------------------------
 *
 * With a warning callback set, GMime decodes every header value as it adds
 * it (to find invalid RFC 2047 words): as much work again as the whole parse
 * of a small message.  A header block that gives GMime nothing to warn about
 * is parsed without the callback, and the callback set right after (for what
 * GMime decodes later).  Hand-written: GMime says nothing of a block before
 * parsing it.  "Nothing to warn about" is judged from what GMime 3.2's parser
 * checks (the warnings of data/doc/json.md), conservatively: a block that ends
 * at a blank line, of fields "name: value" (a name of printable ASCII without
 * blanks), folded lines, printable ASCII and tabs only (no 8-bit octet, no
 * control character, no "=?"), no Content-* field but a Content-Type of
 * text/plain with at most a charset and a one-word Content-Transfer-Encoding
 * (no MIME structure to check), and no field RFC 5322 or MIME allows once
 * written twice.  The address fields are then checked after the parse
 * (input_plain_addresses_warn()). */

/* The two Content-* fields a plain header block may hold, each once: a
 * Content-Type of text/plain with at most a charset (checked whole by
 * input_plain_type_ok()), a Content-Transfer-Encoding of one word. */
typedef enum {
  INPUT_PLAIN_OTHER,
  INPUT_PLAIN_TYPE,
  INPUT_PLAIN_ENCODING,
} InputPlainField;

#define INPUT_PLAIN_TYPE_MAX 120 /* octets of a Content-Type value kept */
#define INPUT_PLAIN_SEEN_TYPE (1u << 30)
#define INPUT_PLAIN_SEEN_ENCODING (1u << 31)

typedef struct {
  gboolean plain;                      /* nothing GMime would warn about so far */
  guint fields;                        /* fields seen */
  guint32 singles;                     /* bit k: input_single_fields[k] seen */
  InputPlainField in;                  /* the field the current line belongs to */
  char type[INPUT_PLAIN_TYPE_MAX + 1]; /* the Content-Type value, unfolded */
  gsize type_len;
} InputPlain;

/* The fields RFC 5322 3.6 allows once: GMime warns when one is repeated. */
static const char *const input_single_fields[] = {
  "bcc",        "cc",       "date",   "from",    "in-reply-to", "message-id",
  "references", "reply-to", "sender", "subject", "to",
};

static void
input_plain_init(InputPlain *p)
{
  p->plain = TRUE;
  p->fields = 0;
  p->singles = 0;
  p->in = INPUT_PLAIN_OTHER;
  p->type_len = 0;
  p->type[0] = '\0';
}

static void
input_plain_name(InputPlain *p, const char *name, gsize length)
{
  p->in = INPUT_PLAIN_OTHER;
  if (length >= 8 && g_ascii_strncasecmp(name, "Content-", 8) == 0) {
    guint32 seen = 0;

    if (length == 12 && g_ascii_strncasecmp(name, "Content-Type", 12) == 0)
      p->in = INPUT_PLAIN_TYPE, seen = INPUT_PLAIN_SEEN_TYPE;
    else if (length == 25 && g_ascii_strncasecmp(name, "Content-Transfer-Encoding", 25) == 0)
      p->in = INPUT_PLAIN_ENCODING, seen = INPUT_PLAIN_SEEN_ENCODING;
    p->plain = seen != 0 && !(p->singles & seen);
    p->singles |= seen;
    return;
  }
  for (guint k = 0; k < G_N_ELEMENTS(input_single_fields); k++) {
    if (strlen(input_single_fields[k]) != length
        || g_ascii_strncasecmp(name, input_single_fields[k], length) != 0)
      continue;
    if (p->singles & (1u << k))
      p->plain = FALSE;
    p->singles |= 1u << k;
    return;
  }
}

/* Whether @c may stand in a plain header value: printable ASCII or a tab
 * ('=' too, unless "=?" follows: checked by the caller). */
static gboolean
input_plain_octet(guchar c)
{
  return (c >= ' ' && c < 0x7f) || c == '\t';
}

#define INPUT_ONES G_GUINT64_CONSTANT(0x0101010101010101)
#define INPUT_HIGH G_GUINT64_CONSTANT(0x8080808080808080)

/* Whether 8 octets may hold one input_plain_octet() refuses or an '=':
 * an octet under 0x20, 0x7f, '=', or one with its high bit set. */
static gboolean
input_plain_word_suspect(guint64 x)
{
  guint64 del = x ^ (INPUT_ONES * 0x7f);
  guint64 equals = x ^ (INPUT_ONES * '=');

  return (((((x - INPUT_ONES * 0x20) | (del - INPUT_ONES) | (equals - INPUT_ONES)) & ~x) | x)
          & INPUT_HIGH)
         != 0;
}

/* The part of a line from @u to @end holds only plain octets and no "=?";
 * 8 octets at a time while none is suspect. */
static gboolean
input_plain_value(const guchar *u, const guchar *end)
{
  while (u < end) {
    const guchar *stop = end;
    guint64 word;

    if (end - u >= 8) {
      memcpy(&word, u, sizeof word);
      if (!input_plain_word_suspect(word)) {
        u += 8;
        continue;
      }
      stop = u + 8; /* a suspect word: its octets one by one */
    }
    for (; u < stop; u++)
      if (!input_plain_octet(*u) || (*u == '=' && u + 1 < end && u[1] == '?'))
        return FALSE;
  }
  return TRUE;
}

static gboolean
input_plain_is_blank(char c)
{
  return c == ' ' || c == '\t';
}

/* The value (or part of it: a folded line) of a Content-Type or
 * Content-Transfer-Encoding field. */
static void
input_plain_content(InputPlain *p, const char *value, gsize length)
{
  if (p->in == INPUT_PLAIN_ENCODING) {
    for (gsize i = 0; i < length && p->plain; i++)
      p->plain = g_ascii_isalnum(value[i]) || value[i] == '-' || input_plain_is_blank(value[i]);
    return;
  }
  if (p->type_len + length > INPUT_PLAIN_TYPE_MAX) {
    p->plain = FALSE;
    return;
  }
  memcpy(p->type + p->type_len, value, length);
  p->type_len += length;
  p->type[p->type_len] = '\0';
}

static const char *
input_plain_skip_blanks(const char *s)
{
  while (input_plain_is_blank(*s))
    s++;
  return s;
}

/* The Content-Type value gathered, if any, is "text/plain", optionally
 * with ";" and a charset of letters, digits and "-_.:" (quoted or not):
 * nothing GMime's content type parser warns about. */
static gboolean
input_plain_type_ok(const InputPlain *p)
{
  const char *s = p->type;
  const char *start;
  gboolean quoted;

  if (!(p->singles & INPUT_PLAIN_SEEN_TYPE))
    return TRUE;
  s = input_plain_skip_blanks(s);
  if (g_ascii_strncasecmp(s, "text/plain", 10) != 0)
    return FALSE;
  s = input_plain_skip_blanks(s + 10);
  if (*s == ';')
    s = input_plain_skip_blanks(s + 1);
  if (*s == '\0')
    return TRUE;
  if (g_ascii_strncasecmp(s, "charset=", 8) != 0)
    return FALSE;
  s += 8;
  if ((quoted = *s == '"'))
    s++;
  for (start = s; g_ascii_isalnum(*s) || (*s && strchr("-_.:", *s)); s++)
    ;
  if (s == start || (quoted && *s++ != '"'))
    return FALSE;
  s = input_plain_skip_blanks(s);
  if (*s == ';')
    s = input_plain_skip_blanks(s + 1);
  return *s == '\0';
}

/* One line of a header block, its line end included. */
static void
input_plain_line(InputPlain *p, const char *line, gsize length)
{
  const guchar *u = (const guchar *)line;
  gsize i = 0;
  gsize end = length;

  if (!p->plain)
    return;
  if (end == 0 || u[end - 1] != '\n') {
    p->plain = FALSE;
    return;
  }
  end -= end >= 2 && u[end - 2] == '\r' ? 2 : 1;
  if (u[0] == ' ' || u[0] == '\t') {
    p->plain = p->fields > 0;
  } else {
    while (i < end && u[i] > ' ' && u[i] < 0x7f && u[i] != ':')
      i++;
    if (i == 0 || i == end || u[i] != ':') {
      p->plain = FALSE;
      return;
    }
    input_plain_name(p, line, i);
    p->fields++;
  }
  if (p->plain)
    p->plain = input_plain_value(u + i, u + end);
  if (p->plain && i < end && u[i] == ':')
    i++;
  if (p->plain && p->in != INPUT_PLAIN_OTHER)
    input_plain_content(p, line + i, end - i);
}

/* ---- the scanner ---------------------------------------------------------- */

static InputBlock *
input_block_new(gsize size, gint *live)
{
  InputBlock *block = g_malloc(sizeof *block + size);

  g_atomic_ref_count_init(&block->ref);
  block->live = g_atomic_rc_box_acquire(live);
  g_atomic_int_inc(live);
  return block;
}

static gpointer
input_block_ref(InputBlock *block)
{
  g_atomic_ref_count_inc(&block->ref);
  return block;
}

static void
input_block_unref(gpointer data)
{
  InputBlock *block = data;

  if (g_atomic_ref_count_dec(&block->ref)) {
    g_atomic_int_add(block->live, -1);
    g_atomic_rc_box_release(block->live);
    g_free(block);
  }
}

static void
input_scan_start(InputScan *s, int fd, gint64 offset)
{
  if (s->block == NULL) {
    s->size = INPUT_SCAN_BLOCK;
    s->live = g_atomic_rc_box_new0(gint);
    s->block = input_block_new(s->size, s->live);
    s->buf = s->block->data;
  }
  s->fd = fd;
  s->len = s->pos = 0;
  s->base = offset;
  s->eof = FALSE;
  s->errsv = 0;
}

/* Reads the next block after what the buffer holds, dropping what lies
 * before the scan position but a few bytes.  FALSE when nothing came (the
 * end of the file, or a read error in @s->errsv). */
static gboolean
input_scan_more(InputScan *s)
{
  gsize drop = s->pos > INPUT_SCAN_KEEP ? s->pos - INPUT_SCAN_KEEP : 0;
  gsize size = s->size;
  ssize_t n;

  if (s->eof)
    return FALSE;
  if (size - (s->len - drop) < INPUT_SCAN_BLOCK)
    size = MAX(size * 2, s->len - drop + INPUT_SCAN_BLOCK);
  if (size != s->size || !g_atomic_ref_count_compare(&s->block->ref, 1)) {
    InputBlock *fresh = input_block_new(size, s->live); /* a message holds the old one */

    memcpy(fresh->data, s->buf + drop, s->len - drop);
    input_block_unref(s->block);
    s->block = fresh;
    s->buf = fresh->data;
    s->size = size;
  } else if (drop > 0) {
    memmove(s->buf, s->buf + drop, s->len - drop);
  }
  s->len -= drop;
  s->pos -= drop;
  s->base += drop;
  do
    n = pread(s->fd, s->buf + s->len, s->size - s->len, (off_t)(s->base + (gint64)s->len));
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    s->errsv = n < 0 ? errno : 0;
    s->eof = TRUE;
    return FALSE;
  }
  s->len += (gsize)n;
  return TRUE;
}

/* A line of more than INPUT_LINE_MAX bytes at the scan position: its head
 * is copied aside and the rest skipped, a block at a time. */
static gboolean
input_scan_long_line(InputScan *s, gint64 *offset, const char **line, gsize *length, gsize *full)
{
  const char *nl;

  *offset = s->base + (gint64)s->pos;
  if (s->head == NULL)
    s->head = g_malloc(INPUT_LINE_MAX);
  memcpy(s->head, s->buf + s->pos, INPUT_LINE_MAX);
  *line = s->head;
  *length = INPUT_LINE_MAX;
  s->pos += INPUT_LINE_MAX;
  for (;;) {
    if ((nl = memchr(s->buf + s->pos, '\n', s->len - s->pos)) != NULL) {
      s->pos = (gsize)(nl + 1 - s->buf);
      break;
    }
    s->pos = s->len;
    if (!input_scan_more(s))
      break;
  }
  *full = (gsize)(s->base + (gint64)s->pos - *offset);
  return TRUE;
}

/* The line at the scan position, with its '\n' (none for a last line
 * without one), valid until the next call; FALSE at the end.  *length bytes
 * of it are at *line, *full is its whole length: more only for a line over
 * INPUT_LINE_MAX. */
static gboolean
input_scan_line(InputScan *s, gint64 *offset, const char **line, gsize *length, gsize *full)
{
  const char *nl;

  while ((nl = memchr(s->buf + s->pos, '\n', s->len - s->pos)) == NULL) {
    if (s->len - s->pos >= INPUT_LINE_MAX)
      return input_scan_long_line(s, offset, line, length, full);
    if (!input_scan_more(s)) {
      if (s->pos == s->len)
        return FALSE;
      nl = s->buf + s->len - 1;
      break;
    }
  }
  *offset = s->base + (gint64)s->pos;
  *line = s->buf + s->pos;
  *length = *full = (gsize)(nl + 1 - *line);
  s->pos += *length;
  return TRUE;
}

/* At a line start: at least 5 bytes there, unless the file ends first. */
static gsize
input_scan_ahead(InputScan *s)
{
  while (s->len - s->pos < 5 && input_scan_more(s))
    ;
  return s->len - s->pos;
}

static gboolean
input_is_from_line(const char *line, gsize length)
{
  return length >= 5 && memcmp(line, "From ", 5) == 0;
}

/* In a header block, "From" and blanks before a colon is a field: GMime
 * reads it so (it ends the message only where it cannot be a field). */
static gboolean
input_is_separator(const char *line, gsize length)
{
  gsize i = 4;

  if (!input_is_from_line(line, length))
    return FALSE;
  while (i < length && (line[i] == ' ' || line[i] == '\t'))
    i++;
  return i >= length || line[i] != ':';
}

/* From a line start in a body, to the next line that starts with "From "
 * (the scan stops at its start); -1 at the end of the file.  memmem finds
 * "\nFrom " in a whole block at a time: a large body is not read line by
 * line. */
static gint64
input_scan_to_from(InputScan *s)
{
  if (input_scan_ahead(s) < 5) {
    s->pos = s->len;
    return -1;
  }
  if (input_is_from_line(s->buf + s->pos, 5))
    return s->base + (gint64)s->pos;
  for (;;) {
    const char *hit = memmem(s->buf + s->pos, s->len - s->pos, "\nFrom ", 6);

    if (hit != NULL) {
      s->pos = (gsize)(hit + 1 - s->buf);
      return s->base + (gint64)s->pos;
    }
    /* the block may end inside "\nFrom ": its last 5 bytes are searched again */
    if (s->len - s->pos > 5)
      s->pos = s->len - 5;
    if (!input_scan_more(s)) {
      s->pos = s->len;
      return -1;
    }
  }
}

/* Where the line at the scan position ends (after its '\n'), without
 * reading it. */
static gint64
input_scan_peek_line(InputScan *s)
{
  gsize from = s->pos;
  const char *nl;

  while ((nl = memchr(s->buf + from, '\n', s->len - from)) == NULL) {
    gsize before = s->pos;

    from = s->len;
    if (!input_scan_more(s))
      return s->base + (gint64)s->len;
    from -= before - s->pos; /* the window moved */
  }
  return s->base + (nl + 1 - s->buf);
}

static gboolean
input_is_blank_line(const char *line, gsize length)
{
  return (length == 1 && line[0] == '\n') || (length == 2 && line[0] == '\r' && line[1] == '\n');
}

/* Reads the header block at the scan position, its lines through @meter
 * when not %NULL (kept within the caps): up to the blank line, the end of
 * the file, or in an mbox a "From " line.  Returns the offset where the
 * block ended. */
static gint64
input_scan_header_block(InputScan *s, InputMeter *meter, InputPlain *plain, gboolean mbox,
                        InputBlockEnd *how)
{
  const char *line;
  gsize length, full;
  gint64 offset;

  while (input_scan_line(s, &offset, &line, &length, &full)) {
    if (mbox && full == length && input_is_separator(line, length)) {
      s->pos -= length;
      *how = INPUT_END_SEPARATOR;
      return offset;
    }
    if (full == length && input_is_blank_line(line, length)) {
      *how = INPUT_END_BLANK;
      return offset;
    }
    if (meter != NULL) {
      input_meter_feed(meter, line, length);
      if (full > length)
        input_meter_skip_line(meter, full - length);
    }
    if (plain != NULL)
      input_plain_line(plain, line, full == length ? length : 0);
  }
  *how = INPUT_END_FILE;
  return s->base + (gint64)s->pos;
}

/* The message of the mbox at the scan position (on its "From " line):
 * its range, its header lines through @meter and @plain (each if not
 * %NULL).  FALSE at the end of the file. */
static gboolean
input_scan_message(InputScan *s, InputRange *r, InputMeter *meter, InputPlain *plain)
{
  const char *line;
  gsize length, full;
  gint64 offset;

  if (input_scan_ahead(s) == 0 || !input_scan_line(s, &offset, &line, &length, &full))
    return FALSE;
  if (input_scan_ahead(s) == 0)
    return FALSE; /* a "From " line that ends the file starts nothing, as in GMime */
  r->marker = offset;
  r->begin = s->base + (gint64)s->pos;
  if (meter != NULL)
    input_meter_init(meter, meter->kept, r->begin);
  r->end = input_scan_header_block(s, meter, plain, TRUE, &r->block_end);
  if (r->block_end != INPUT_END_SEPARATOR)
    r->end = input_scan_to_from(s);
  if (r->end < 0) {
    r->end = r->stored_end = s->base + (gint64)s->len;
    r->last = TRUE;
    return TRUE;
  }
  r->last = FALSE;
  r->next_line = input_scan_peek_line(s);
  /* less the line end before the next "From " line, as mbox writers add one */
  r->stored_end = r->end;
  if (r->end - r->begin >= 2) {
    gint64 cr = r->end - 2 - s->base;

    r->stored_end -= cr >= 0 && s->buf[cr] == '\r' ? 2 : 1;
  }
  return TRUE;
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

/* A single-message regular file of at most this many bytes is read into
 * memory: GMime then serialises its body without a seek and a read per
 * 4 KB, and the message no longer depends on the file once parsed. */
#define INPUT_SMALL_MAX (1024 * 1024)

/* Octets @start to @start + @len of @fd in a memory stream (one pread),
 * or %NULL after a short read (the file changed under us). */
static GMimeStream *
input_read_mem(int fd, off_t start, gsize len)
{
  g_autoptr(GByteArray) bytes = g_byte_array_sized_new((guint)len);
  gsize got = 0;

  g_byte_array_set_size(bytes, (guint)len);
  while (got < len) {
    ssize_t n = pread(fd, bytes->data + got, len - got, start + (off_t)got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return NULL;
    got += (gsize)n;
  }
  return g_mime_stream_mem_new_with_byte_array(g_steal_pointer(&bytes));
}

/* The whole of a small regular file read from its start in a memory
 * stream, or %NULL (larger, not a regular file, read from elsewhere: stdin
 * past its start, or a short read) to stream it. */
static GMimeStream *
input_small_stream(int fd, const struct stat *st, off_t start)
{
  if (!S_ISREG(st->st_mode) || start != 0 || st->st_size > INPUT_SMALL_MAX)
    return NULL;
  return input_read_mem(fd, 0, (gsize)st->st_size);
}

/* Whether @stream, a whole file in memory, starts as an mbox does. */
static gboolean
input_mem_is_mbox(GMimeStream *stream)
{
  GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));

  return bytes->len >= 5 && memcmp(bytes->data, "From ", 5) == 0;
}

/* Stdin's messages are the ones send keeps (stdin cannot be read twice),
 * and the local targets' writer threads read them while other threads read
 * others: over one GMime fs stream they would all move one file offset
 * (GMime seeks, then reads), and a message could be stored with another's
 * octets.  A mapping of the file has no offset to share; an fs stream only
 * where it cannot be made (an empty file). */
static GMimeStream *
input_stdin_stream(int fd)
{
  GMimeStream *stream = g_mime_stream_mmap_new(fd, PROT_READ, MAP_PRIVATE);

  return stream != NULL ? stream : g_mime_stream_fs_new(fd);
}

/* Opens @path: an mbox or a single message, told apart by the first bytes;
 * read whole into memory when it is a small single message to be parsed,
 * else through the scanner. */
static gboolean
input_open_file(FarceurInput *input, const char *path, gboolean headers, GError **error)
{
  g_autoptr(GMimeStream) stream = NULL;
  char head[5] = { 0 };
  gboolean is_stdin = strcmp(path, INPUT_STDIN) == 0;
  off_t start;
  struct stat st;
  int fd = input_open_fd(path, error);

  if (fd < 0)
    return FALSE;
  start = is_stdin ? lseek(fd, 0, SEEK_CUR) : 0; /* a file opened here starts at 0 */
  if (fstat(fd, &st) != 0 || start < 0 || S_ISDIR(st.st_mode)) {
    input_fail_errno(error, FARCEUR_ERROR_NOINPUT, "cannot read message", path,
                     S_ISDIR(st.st_mode) ? EISDIR : errno);
    close(fd);
    return FALSE;
  }
  stream = headers ? NULL : input_small_stream(fd, &st, start);
  if (stream != NULL)
    input->mbox = input_mem_is_mbox(stream);
  else
    input->mbox = pread(fd, head, sizeof head, start) == sizeof head
                  && memcmp(head, "From ", sizeof head) == 0;
  if (input->mbox) /* its messages are found by the scanner */
    g_clear_object(&stream);
  input->size = st.st_size - start;
  input->start = start;
  input->label = g_strdup(path);
  input->key = is_stdin ? g_strdup(INPUT_STDIN) : input_shard_key(input, path);
  if (stream != NULL) {
    close(fd);
  } else {
    stream = is_stdin ? input_stdin_stream(fd) : g_mime_stream_fs_new(fd);
    input_scan_start(&input->scan, fd, start);
  }
  if (input->parser == NULL && !headers)
    input->parser = g_mime_parser_new();
  input->stream = g_steal_pointer(&stream);
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

/* The parser options of a message and the warnings its callback fills. */
typedef struct {
  GMimeParserOptions *options;
  GPtrArray *warnings;
} InputKept;

static void
input_kept_free(gpointer data)
{
  InputKept *kept = data;

  g_mime_parser_options_free(kept->options);
  g_ptr_array_unref(kept->warnings);
  g_free(kept);
}

/* The options of a message, its warnings tied to them, kept with it. */
static void
input_keep_options(GMimeMessage *message, GMimeParserOptions *options, GPtrArray *warnings)
{
  InputKept *kept = g_new(InputKept, 1);

  kept->options = options;
  kept->warnings = g_ptr_array_ref(warnings);
  g_object_set_data_full(G_OBJECT(message), "farceur-input", kept, input_kept_free);
}

/* GMime keeps the parser options (and so the callback's user data) in the
 * objects it builds and may warn later, when a header is decoded: both are
 * tied to the message's lifetime. */
static GMimeMessage *
input_construct(GMimeParser *parser, GMimeStream *stream, GMimeFormat format, GPtrArray *warnings)
{
  GMimeParserOptions *options = g_mime_parser_options_new();
  GMimeMessage *message;

  g_mime_parser_init_with_stream(parser, stream);
  g_mime_parser_set_format(parser, format);
  g_mime_parser_options_set_warning_callback(options, input_warning_cb, warnings);
  message = g_mime_parser_construct_message(parser, options);
  if (message == NULL) {
    g_mime_parser_options_free(options);
    return NULL;
  }
  input_keep_options(message, options, warnings);
  return message;
}

static void
input_flag_warning(gint64 offset, GMimeParserWarning code, const char *item, gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
}

/* An octet of a local part ("._+-", letters, digits) or, @domain, of a
 * domain label (letters, digits, '-'). */
static gboolean
input_plain_atom_octet(char c, gboolean domain)
{
  return g_ascii_isalnum(c) || c == '-' || (!domain && (c == '_' || c == '+'));
}

/* Dot-separated runs of input_plain_atom_octet() (domain labels neither
 * start nor end with '-'); returns where they end, or %NULL. */
static const char *
input_plain_dot_atoms(const char *p, gboolean domain)
{
  for (;;) {
    const char *start = p;

    while (input_plain_atom_octet(*p, domain))
      p++;
    if (p == start || (domain && (*start == '-' || p[-1] == '-')))
      return NULL;
    if (*p != '.')
      return p;
    p++;
  }
}

static const char *
input_plain_blanks(const char *p)
{
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
    p++;
  return p;
}

/* A list of bare addresses, "local@domain" or "<local@domain>", of letters,
 * digits and "._+-" only, comma-separated: nothing GMime's address parser
 * warns about, so not parsed again (input_plain_addresses_warn()). */
static gboolean
input_plain_simple_addresses(const char *p)
{
  for (;;) {
    gboolean angle;

    p = input_plain_blanks(p);
    if ((angle = *p == '<'))
      p++;
    if ((p = input_plain_dot_atoms(p, FALSE)) == NULL || *p != '@')
      return FALSE;
    if ((p = input_plain_dot_atoms(p + 1, TRUE)) == NULL || (angle && *p++ != '>'))
      return FALSE;
    p = input_plain_blanks(p);
    if (*p == '\0')
      return TRUE;
    if (*p++ != ',')
      return FALSE;
  }
}

/* True when GMime would warn about an address field of @message (the
 * one check of input_plain_line() left to GMime itself): each is parsed
 * again, as GMime parsed it, with a callback that only notes a warning. */
static gboolean
input_plain_addresses_warn(GMimeMessage *message)
{
  static const char *const fields[] = { "Sender", "From", "Reply-To", "To", "Cc", "Bcc" };
  GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(message));
  int count = g_mime_header_list_get_count(list);
  g_autoptr(GMimeParserOptions) options = NULL;
  gboolean warned = FALSE;

  for (int i = 0; i < count && !warned; i++) {
    GMimeHeader *header = g_mime_header_list_get_header_at(list, i);
    const char *name = g_mime_header_get_name(header);
    const char *raw = g_mime_header_get_raw_value(header);
    InternetAddressList *parsed;
    gboolean address = FALSE;

    for (guint k = 0; k < G_N_ELEMENTS(fields) && !address; k++)
      address = g_ascii_tolower(name[0]) == g_ascii_tolower(fields[k][0])
                && g_ascii_strcasecmp(name, fields[k]) == 0;
    if (!address || raw == NULL || input_plain_simple_addresses(raw))
      continue;
    if (options == NULL) {
      options = g_mime_parser_options_new();
      g_mime_parser_options_set_warning_callback(options, input_flag_warning, &warned);
    }
    if ((parsed = internet_address_list_parse(options, raw)) != NULL)
      g_object_unref(parsed);
  }
  return warned;
}

/* input_construct() for a message whose header block gives GMime nothing
 * to warn about (@plain, input_plain_line()): parsed without the warning
 * callback, which is set right after; parsed again with it when an address
 * field would warn after all, or GMime finds no message. */
static GMimeMessage *
input_construct_plain(GMimeParser *parser, GMimeStream *stream, GMimeFormat format,
                      GPtrArray *warnings, const InputPlain *plain)
{
  GMimeParserOptions *options;
  GMimeMessage *message;

  /* what "nothing to warn about" means was read in GMime 3.2's parser */
  if (plain == NULL || !plain->plain || plain->fields == 0 || !input_plain_type_ok(plain)
      || gmime_major_version != 3 || gmime_minor_version != 2)
    return input_construct(parser, stream, format, warnings);
  options = g_mime_parser_options_new();
  g_mime_parser_init_with_stream(parser, stream);
  g_mime_parser_set_format(parser, format);
  message = g_mime_parser_construct_message(parser, options);
  if (message == NULL || input_plain_addresses_warn(message)) {
    g_clear_object(&message);
    g_mime_parser_options_free(options);
    if (g_mime_stream_reset(stream) != 0)
      return NULL;
    return input_construct(parser, stream, format, warnings);
  }
  g_mime_parser_options_set_warning_callback(options, input_warning_cb, warnings);
  input_keep_options(message, options, warnings);
  return message;
}

static FarceurInputMessage *
input_message_new(FarceurInput *input, GMimeMessage *message, gint64 size, GPtrArray *warnings)
{
  FarceurInputMessage *msg = g_new0(FarceurInputMessage, 1);

  msg->message = message;
  msg->source
      = input->mbox ? g_strdup_printf("%s#%u", input->label, input->index) : g_strdup(input->label);
  msg->size = size;
  msg->warnings = g_ptr_array_ref(warnings);
  msg->path = g_strdup(input->label);
  msg->index = input->mbox ? input->index : 0;
  return msg;
}

/* Octets @start to @end of the mbox: in the scanner's block when it still
 * holds them all (the message then holds the block) and held messages do
 * not already pin INPUT_BLOCKS_LIVE blocks, else a substream of the file. */
static GMimeStream *
input_range_stream(FarceurInput *input, gint64 start, gint64 end)
{
  const InputScan *s = &input->scan;
  g_autoptr(GBytes) bytes = NULL;

  if (start < s->base || end > s->base + (gint64)s->len || end < start
      || g_atomic_int_get(s->live) > INPUT_BLOCKS_LIVE)
    return g_mime_stream_substream(input->stream, start, end);
  bytes = g_bytes_new_with_free_func(s->buf + (start - s->base), (gsize)(end - start),
                                     input_block_unref, input_block_ref(s->block));
  return input_bytes_stream_new(bytes, start, start, end);
}

/* The end of an mbox, or a read error on it. */
static FarceurInputMessage *
input_scan_failed(FarceurInput *input, GError **error)
{
  if (input->scan.errsv != 0)
    input_fail_errno(error, FARCEUR_ERROR_IO, "cannot read", input->label, input->scan.errsv);
  input->scan.eof = TRUE;
  return NULL;
}

/* The next message of the mbox in the shard read: GMime parses its range
 * of the file.  %NULL at the end of the file, or with @error set for a
 * message without a header block (the next call goes on after it). */
static FarceurInputMessage *
input_read_mbox_message(FarceurInput *input, GError **error)
{
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GMimeStream) range = NULL;
  FarceurInputMessage *msg;
  GMimeMessage *message;
  InputPlain plain;
  InputRange r;

  for (;;) {
    gboolean wanted = input_in_shard(input, input->index + 1);

    input_plain_init(&plain);
    if (!input_scan_message(&input->scan, &r, NULL, wanted ? &plain : NULL))
      return input_scan_failed(input, error);
    input->index++;
    if (wanted)
      break;
  }
  if (input->scan.errsv != 0)
    return input_scan_failed(input, error);
  /* GMime reads the message in mbox mode from its "From " line to the end
   * of the next one: it ends it where it ended it reading the whole mbox,
   * with the same warnings (and, with CRLF, the same line end dropped), and
   * its offsets are the file's. */
  range = input_capped_stream(input->stream, r.begin, r.stored_end, warnings);
  if (range != NULL) /* a hostile header, cut: GMime reads the message alone */
    message = input_construct(input->parser, range, GMIME_FORMAT_MESSAGE, warnings);
  else {
    range = input_range_stream(input, r.marker, r.last ? r.end : r.next_line);
    message = input_construct_plain(input->parser, range, GMIME_FORMAT_MBOX, warnings,
                                    r.block_end == INPUT_END_BLANK ? &plain : NULL);
  }
  if (message == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "cannot parse message '%s#%u': no header block", input->label, input->index);
    return NULL;
  }
  msg = input_message_new(input, message, r.end - r.begin, warnings);
  /* its own position: GMime's fs streams seek before each read */
  msg->stored = g_mime_stream_substream(input->stream, r.begin, r.stored_end);
  return msg;
}

/* The header block at the start of @data (a whole message in memory)
 * through input_plain_line(); a block that does not end at a blank line
 * is not plain. */
static void
input_plain_block(InputPlain *p, const char *data, gsize len)
{
  const char *end = len > 0 ? data + len : data; /* an empty file's bytes may be NULL */

  while (data < end && p->plain) {
    const char *nl = memchr(data, '\n', (gsize)(end - data));
    gsize length;

    if (nl == NULL)
      break;
    length = (gsize)(nl + 1 - data);
    if (input_is_blank_line(data, length))
      return;
    input_plain_line(p, data, length);
    data = nl + 1;
  }
  p->plain = FALSE;
}

/* The message of a single-message file (%NULL if it is not in the shard). */
static FarceurInputMessage *
input_read_file_message(FarceurInput *input, GError **error)
{
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GMimeStream) capped = NULL;
  const InputPlain *checked = NULL;
  GMimeMessage *message;
  FarceurInputMessage *msg;
  InputPlain plain;

  input->done = TRUE;
  if (!input_in_shard(input, 0))
    return NULL;
  capped = input_capped_stream(input->stream, input->start, input->start + input->size, warnings);
  if (capped == NULL && GMIME_IS_STREAM_MEM(input->stream)) {
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(input->stream));

    input_plain_init(&plain);
    input_plain_block(&plain, (const char *)bytes->data, bytes->len);
    checked = &plain;
  }
  message = input_construct_plain(input->parser, capped ? capped : input->stream,
                                  GMIME_FORMAT_MESSAGE, warnings, checked);
  if (message == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "cannot parse message '%s': no header block", input->label);
    return NULL;
  }
  msg = input_message_new(input, message, input->size, warnings);
  msg->stored = g_mime_stream_substream(input->stream, input->start, input->start + input->size);
  return msg;
}

/* The next message of the open file, or %NULL at its end (file closed) or
 * on error (a single-message file is closed too). */
static FarceurInputMessage *
input_read_message(FarceurInput *input, GError **error)
{
  FarceurInputMessage *msg;

  if (input->mbox) {
    msg = input_read_mbox_message(input, error);
  } else {
    msg = input->done ? NULL : input_read_file_message(input, error);
  }
  if (msg == NULL && (!input->mbox || input->scan.eof))
    input_close_file(input);
  return msg;
}

/**
 * farceur_input_next:
 * @input: an input
 * @error: return location for a #GError
 *
 * Parses the next message (of the shard read, farceur_input_set_shard()).
 * On error (a file that vanished or a message that cannot be parsed:
 * FARCEUR_ERROR_NOINPUT or FARCEUR_ERROR_DATA naming it) calling again goes
 * on with the next message.
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
    if (input->stream == NULL) {
      if (input->next_file >= input->files->len)
        return NULL;
      if (!input_open_file(input, input->files->pdata[input->next_file++], FALSE, error))
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

/* ---- header blocks alone ------------------------------------------------- */

static gboolean
input_is_blank(char c)
{
  return c == ' ' || c == '\t';
}

/* The colon ending a field name, as GMime reads one: no control byte, no
 * blank inside (blanks before the colon are allowed); %NULL if none. */
static char *
input_field_colon(char *line, const char *end)
{
  gboolean blank = FALSE;

  for (char *p = line; p < end; p++) {
    if (*p == ':')
      return p > line ? p : NULL;
    if (input_is_blank(*p))
      blank = TRUE;
    else if (blank || (guchar)*p < 0x20 || *p == 0x7f)
      return NULL;
  }
  return NULL;
}

/* The end of the line at @p, after its '\n'. */
static char *
input_line_end(char *p, char *end)
{
  char *nl = memchr(p, '\n', (gsize)(end - p));

  return nl ? nl + 1 : end;
}

/* GMime reads a field name to its colon; a last line of the file that
 * ends before either a colon or a byte no name may hold leaves it with no
 * header block at all. */
static gboolean
input_name_cut_by_end(const char *line, const char *end)
{
  gboolean blank = FALSE;

  for (const char *p = line; p < end; p++) {
    if (*p == ':')
      return FALSE;
    if (input_is_blank(*p))
      blank = TRUE;
    else if (blank || (guchar)*p < 0x20 || *p == 0x7f)
      return FALSE;
  }
  return TRUE;
}

/* Splits the header block read into fields, in place: GMime's rules (a
 * field goes on over lines starting with a blank; a field whose name is not
 * one is dropped; "From " or ">From " lines before the first field are
 * framing).  FALSE where GMime finds no header block: a first line neither
 * field nor framing, a file that ends inside a field name. */
static gboolean
input_split_fields(FarceurInput *input, gint64 begin, InputBlockEnd how)
{
  char *data, *end, *p;

  g_array_set_size(input->fields, 0);
  g_byte_array_append(input->block, (const guint8 *)"", 1); /* room for the last NUL */
  data = (char *)input->block->data;
  end = data + input->block->len - 1;
  for (p = data; p < end;) {
    char *next = input_line_end(p, end);
    char *colon, *name_end, *value_end;
    FarceurInputField field;

    if (how == INPUT_END_FILE && next == end && end[-1] != '\n' && !input_is_blank(*p)
        && input_name_cut_by_end(p, end))
      return FALSE;
    while (next < end && input_is_blank(*next))
      next = input_line_end(next, end);
    if ((colon = input_field_colon(p, next)) == NULL) {
      if (input->fields->len == 0
          && !input_is_from_line(p + (*p == '>'), (gsize)(end - p) - (*p == '>')))
        return FALSE;
      p = input->fields->len == 0 ? input_line_end(p, end) : next;
      continue;
    }
    name_end = colon;
    while (name_end > p && input_is_blank(name_end[-1]))
      name_end--;
    value_end = next;
    if (value_end > colon + 1 && value_end[-1] == '\n')
      value_end--;
    if (value_end > colon + 1 && value_end[-1] == '\r')
      value_end--;
    field.name = p;
    field.value = colon + 1;
    field.offset = begin + (p - data);
    *name_end = '\0';
    *value_end = '\0';
    g_array_append_val(input->fields, field);
    p = next;
  }
  return TRUE;
}

/* The header block of the next message of the open file in the shard read
 * into input->block; FALSE at the end of the file (or on a read error). */
static gboolean
input_scan_headers(FarceurInput *input, gint64 *begin, InputBlockEnd *how)
{
  InputRange r;
  InputMeter meter;

  g_byte_array_set_size(input->block, 0);
  g_ptr_array_set_size(input->warnings, 0);
  if (!input->mbox) {
    if (input->done)
      return FALSE;
    input->done = TRUE;
    if (!input_in_shard(input, 0))
      return FALSE;
    *begin = input->start;
    input_meter_init(&meter, input->block, input->start);
    input_scan_header_block(&input->scan, &meter, NULL, FALSE, how);
    input_meter_warn(&meter, input->warnings);
    return input->scan.errsv == 0;
  }
  input_meter_init(&meter, input->block, 0);
  for (;;) {
    gboolean wanted = input_in_shard(input, input->index + 1);

    if (!input_scan_message(&input->scan, &r, wanted ? &meter : NULL, NULL))
      return FALSE;
    input->index++;
    if (wanted) {
      *begin = r.begin;
      *how = r.block_end;
      input_meter_warn(&meter, input->warnings);
      return input->scan.errsv == 0;
    }
  }
}

/* The header block of the next message of the open file, or %NULL at the
 * end of the file (closed then) or with @error set. */
static const FarceurInputHeaders *
input_read_headers(FarceurInput *input, GError **error)
{
  InputBlockEnd how = INPUT_END_BLANK;
  gint64 begin = 0;

  if (!input_scan_headers(input, &begin, &how)) {
    if (input->scan.errsv != 0)
      input_fail_errno(error, FARCEUR_ERROR_IO, "cannot read", input->label, input->scan.errsv);
    input_close_file(input);
    return NULL;
  }
  if (input->mbox)
    g_string_printf(input->source, "%s#%u", input->label, input->index);
  else
    g_string_assign(input->source, input->label);
  /* GMime finds no header block in an empty file */
  if ((!input->mbox && input->size == 0) || !input_split_fields(input, begin, how)) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "cannot parse message '%s': no header block", input->source->str);
    if (!input->mbox)
      input_close_file(input);
    return NULL;
  }
  input->headers.source = input->source->str;
  input->headers.path = input->label;
  input->headers.index = input->mbox ? input->index : 0;
  input->headers.fields = (const FarceurInputField *)(gpointer)input->fields->data;
  input->headers.n_fields = input->fields->len;
  input->headers.warnings = input->warnings;
  return &input->headers;
}

/**
 * farceur_input_next_headers:
 * @input: an input
 * @error: return location for a #GError
 *
 * Reads the header block of the next message (of the shard read), and
 * nothing of its body but the "From " lines of an mbox: for what needs only
 * headers (trace).  Fields are split as GMime splits them; their values are
 * raw.  Errors are those of farceur_input_next(); calling again goes on.
 * Do not mix with farceur_input_next() on one input.
 *
 * Returns: (transfer none) (nullable): the header block, valid until the
 *   next call on @input; %NULL at the end (no error) or on error
 */
const FarceurInputHeaders *
farceur_input_next_headers(FarceurInput *input, GError **error)
{
  GError *local = NULL;
  const FarceurInputHeaders *headers;

  g_return_val_if_fail(input != NULL, NULL);
  if (input->block == NULL) {
    input->block = g_byte_array_sized_new(4096);
    input->warnings = g_ptr_array_new_with_free_func(g_free);
    input->fields = g_array_sized_new(FALSE, FALSE, sizeof(FarceurInputField), 32);
    input->source = g_string_sized_new(256);
  }
  for (;;) {
    if (input->stream == NULL) {
      if (input->next_file >= input->files->len)
        return NULL;
      if (!input_open_file(input, input->files->pdata[input->next_file++], TRUE, error))
        return NULL;
    }
    headers = input_read_headers(input, &local);
    if (headers != NULL)
      return headers;
    if (local != NULL) {
      g_propagate_error(error, local);
      return NULL;
    }
  }
}

/**
 * farceur_input_headers_get:
 * @headers: a header block
 * @name: a field name, matched without case
 *
 * Returns: (transfer none) (nullable): the raw value of the last field
 *   named @name, as GMime keeps the last of repeated fields
 */
const char *
farceur_input_headers_get(const FarceurInputHeaders *headers, const char *name)
{
  g_return_val_if_fail(headers != NULL, NULL);
  g_return_val_if_fail(name != NULL, NULL);
  for (guint i = headers->n_fields; i > 0; i--)
    if (g_ascii_strcasecmp(headers->fields[i - 1].name, name) == 0)
      return headers->fields[i - 1].value;
  return NULL;
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

/* A message to be sent or stored is never cut: over a cap, it is refused. */
static gboolean
input_check_caps(GMimeStream *stream, const char *label, GError **error)
{
  gint64 length = g_mime_stream_length(stream);
  InputMeter m;

  if (length >= 0 && length <= FARCEUR_INPUT_MAX_FIELD)
    return TRUE;
  input_meter_init(&m, NULL, stream->bound_start);
  if (!input_meter_stream(&m, stream, stream->bound_start, stream->bound_end)
      || !input_meter_over(&m))
    return TRUE; /* within the caps (or unreadable: the parser says so) */
  if (m.field_cut >= 0)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "%s: header field '%s' at offset %" G_GINT64_FORMAT
                " is over the %d MiB cap: not read",
                label, m.cut_name, m.field_cut, FARCEUR_INPUT_MAX_FIELD >> 20);
  else
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "%s: header block over the %d MiB cap: not read", label,
                FARCEUR_INPUT_MAX_HEADER >> 20);
  return FALSE;
}

/**
 * farceur_input_parse_stream:
 * @stream: a message's octets, read from the start (g_mime_stream_reset)
 * @label: what to call it in the error
 * @error: return location for a %FARCEUR_ERROR_DATA or %FARCEUR_ERROR_IO error
 *
 * Parses one message held in a stream (a stored message kept as octets).
 * Its parts stay in @stream, which must outlive the message.  A message
 * whose header is over %FARCEUR_INPUT_MAX_FIELD or %FARCEUR_INPUT_MAX_HEADER
 * is refused (%FARCEUR_ERROR_DATA): what is parsed here is sent or stored,
 * and is never cut.
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
  if (!input_check_caps(stream, label, error))
    return NULL;
  parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
  if ((message = g_mime_parser_construct_message(parser, NULL)) == NULL)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "cannot parse %s: no header block",
                label);
  return message;
}

/**
 * farceur_input_open_stored:
 * @path: a file holding a message (alone, or in an mbox)
 * @start: where its octets start in the file
 * @end: where they end
 * @error: return location for a %FARCEUR_ERROR_NOINPUT error
 *
 * The octets of one message as they are, without parsing them: read into
 * memory with one read when at most 1 MiB (the stream's bounds are then 0
 * and its length), else read from the file as they are needed (its bounds
 * are @start and @end).  A file shorter than @end gives what it holds.
 *
 * Returns: (transfer full) (nullable): a stream over those octets
 */
GMimeStream *
farceur_input_open_stored(const char *path, gint64 start, gint64 end, GError **error)
{
  GMimeStream *stream = NULL;
  struct stat st;
  int fd;

  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(start >= 0 && end >= start, NULL);
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
  if (end - start <= INPUT_SMALL_MAX && st.st_size >= end)
    stream = input_read_mem(fd, (off_t)start, (gsize)(end - start));
  if (stream != NULL)
    close(fd);
  else
    stream = g_mime_stream_fs_new_with_bounds(fd, start, end);
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
  g_autoptr(GMimeStream) capped = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  FarceurInputMessage *msg;
  GMimeMessage *message;

  g_return_val_if_fail(source != NULL, NULL);
  if ((stream = farceur_input_open_range(path, start, end, error)) == NULL)
    return NULL;
  parser = g_mime_parser_new();
  capped = input_capped_stream(stream, start, end, warnings);
  message = input_construct(parser, capped ? capped : stream, GMIME_FORMAT_MESSAGE, warnings);
  if (message == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "cannot parse message '%s': no header block", source);
    return NULL;
  }
  msg = g_new0(FarceurInputMessage, 1);
  msg->message = message;
  msg->source = g_strdup(source);
  msg->size = end - start;
  msg->warnings = g_ptr_array_ref(warnings);
  msg->path = g_strdup(path);
  msg->index = index;
  msg->stored = g_mime_stream_substream(stream, start, end);
  return msg;
}
