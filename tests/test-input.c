/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

#define MSG_A "From: a@a.example\nSubject: A\n\nbody a\n"
#define MSG_B "From: b@b.example\r\nSubject: B\r\n\r\nbody b\r\n"

#define MBOX                                                                                       \
  "From a@a.example Mon Jan  1 00:00:00 2024\n"                                                    \
  "Subject: one\n\nfirst\n\n"                                                                      \
  "From b@b.example Mon Jan  1 00:00:01 2024\n"                                                    \
  "Subject: two\nContent-Type: multipart/mixed; boundary=x\n\n"                                    \
  "--x\nContent-Type: text/plain\n\nhi\n--x--\n\n"                                                 \
  "From c@c.example Mon Jan  1 00:00:02 2024\n"                                                    \
  "Subject: three\n\nlast\n"

static char *
make_tmpdir(void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp("farceur-input-XXXXXX", &error);

  g_assert_no_error(error);
  return dir;
}

static char *
write_file(const char *dir, const char *name, const char *text)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename(dir, name, NULL);

  g_file_set_contents(path, text, -1, &error);
  g_assert_no_error(error);
  return path;
}

static void
remove_tree(const char *path)
{
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", path);

  g_assert_cmpint(system(cmd), ==, 0);
}

/* Reads every message of @arg; returns "source=subject" lines joined by ' | '. */
static char *
read_all(const char *arg, GPtrArray *sizes)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurInput) input = farceur_input_open(arg, &error);
  GString *out = g_string_new(NULL);
  FarceurInputMessage *m;

  g_assert_no_error(error);
  while ((m = farceur_input_next(input, &error)) != NULL) {
    g_string_append_printf(out, "%s%s=%s", out->len ? " | " : "", m->source,
                           g_mime_message_get_subject(m->message));
    if (sizes)
      g_ptr_array_add(sizes, GINT_TO_POINTER((int)m->size));
    farceur_input_message_free(m);
  }
  g_assert_no_error(error);
  /* the end is sticky */
  g_assert_null(farceur_input_next(input, &error));
  g_assert_no_error(error);
  return g_string_free(out, FALSE);
}

static void
test_single_file(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *a = write_file(dir, "a.eml", MSG_A);
  g_autofree char *b = write_file(dir, "no-extension", MSG_B);
  g_autoptr(GPtrArray) sizes = g_ptr_array_new();
  g_autofree char *got_a = read_all(a, sizes);
  g_autofree char *got_b = read_all(b, sizes);
  g_autofree char *want_a = g_strdup_printf("%s=A", a);
  g_autofree char *want_b = g_strdup_printf("%s=B", b);

  g_assert_cmpstr(got_a, ==, want_a);
  g_assert_cmpstr(got_b, ==, want_b);
  g_assert_cmpint(GPOINTER_TO_INT(sizes->pdata[0]), ==, strlen(MSG_A));
  g_assert_cmpint(GPOINTER_TO_INT(sizes->pdata[1]), ==, strlen(MSG_B));
  remove_tree(dir);
}

static void
check_mbox(const char *text)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *path = write_file(dir, "box", text);
  g_autoptr(GPtrArray) sizes = g_ptr_array_new();
  g_autofree char *got = read_all(path, sizes);
  g_autofree char *want = g_strdup_printf("%s#1=one | %s#2=two | %s#3=three", path, path, path);

  g_assert_cmpstr(got, ==, want);
  g_assert_cmpuint(sizes->len, ==, 3);
  /* "Subject: one\n\nfirst\n\n": the From_ line is framing, not message */
  g_assert_cmpint(GPOINTER_TO_INT(sizes->pdata[0]), ==, 21);
  remove_tree(dir);
}

static void
test_mbox(void)
{
  check_mbox(MBOX);
}

static void
test_mbox_crlf(void)
{
  g_autoptr(GString) crlf = g_string_new(NULL);
  g_autofree char *dir = make_tmpdir();
  g_autofree char *path = NULL;
  g_autofree char *got = NULL;
  g_autofree char *want = NULL;
  g_autoptr(GPtrArray) sizes = g_ptr_array_new();

  for (const char *p = MBOX; *p; p++) {
    if (*p == '\n')
      g_string_append_c(crlf, '\r');
    g_string_append_c(crlf, *p);
  }
  path = write_file(dir, "box", crlf->str);
  got = read_all(path, sizes);
  want = g_strdup_printf("%s#1=one | %s#2=two | %s#3=three", path, path, path);
  g_assert_cmpstr(got, ==, want);
  g_assert_cmpint(GPOINTER_TO_INT(sizes->pdata[0]), ==, 25);
  remove_tree(dir);
}

static void
test_mbox_multipart_body(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *path = write_file(dir, "box", MBOX);
  g_autoptr(FarceurInput) input = farceur_input_open(path, NULL);
  g_autoptr(FarceurInputMessage) one = farceur_input_next(input, NULL);
  g_autoptr(FarceurInputMessage) two = farceur_input_next(input, NULL);
  GMimeObject *body;

  g_assert_nonnull(one);
  g_assert_nonnull(two);
  body = g_mime_message_get_mime_part(two->message);
  g_assert_true(GMIME_IS_MULTIPART(body));
  g_assert_cmpint(g_mime_multipart_get_count(GMIME_MULTIPART(body)), ==, 1);
  remove_tree(dir);
}

static void
test_maildir(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *cur = g_build_filename(dir, "cur", NULL);
  g_autofree char *new = g_build_filename(dir, "new", NULL);
  g_autofree char *tmp = g_build_filename(dir, "tmp", NULL);
  g_autofree char *got = NULL;
  g_autofree char *want = NULL;

  g_assert_cmpint(g_mkdir(cur, 0700), ==, 0);
  g_assert_cmpint(g_mkdir(new, 0700), ==, 0);
  g_assert_cmpint(g_mkdir(tmp, 0700), ==, 0);
  g_free(write_file(cur, "2:2,S", MSG_B));
  g_free(write_file(cur, "1:2,", MSG_A));
  g_free(write_file(new, "3", MSG_A));
  g_free(write_file(new, ".hidden", MSG_A));
  g_free(write_file(tmp, "4", MSG_A));
  got = read_all(dir, NULL);
  want = g_strdup_printf("%s/new/3=A | %s/cur/1:2,=A | %s/cur/2:2,S=B", dir, dir, dir);
  g_assert_cmpstr(got, ==, want);
  remove_tree(dir);
}

static void
test_plain_dir(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *sub = g_build_filename(dir, "sub", NULL);
  g_autofree char *got = NULL;
  g_autofree char *want = NULL;

  g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
  g_free(write_file(dir, "b.eml", MSG_B));
  g_free(write_file(dir, "a.eml", MSG_A));
  g_free(write_file(dir, "c.mbox", MBOX));
  g_free(write_file(sub, "x.eml", MSG_A));
  got = read_all(dir, NULL);
  want = g_strdup_printf("%s/a.eml=A | %s/b.eml=B | %s/c.mbox#1=one | %s/c.mbox#2=two | "
                         "%s/c.mbox#3=three",
                         dir, dir, dir, dir, dir);
  g_assert_cmpstr(got, ==, want);
  remove_tree(dir);
}

static void
test_missing(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurInput) input = farceur_input_open("/nonexistent/farceur.eml", &error);

  g_assert_null(input);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT);
  g_assert_nonnull(strstr(error->message, "'/nonexistent/farceur.eml'"));
  g_assert_cmpint(farceur_error_classify(error), ==, FARCEUR_ERROR_NOINPUT);
}

/* A file that vanishes after listing is an error naming it; the rest still reads. */
static void
test_vanished_file_skipped(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *a = write_file(dir, "a.eml", MSG_A);
  g_autofree char *b = write_file(dir, "b.eml", MSG_B);
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurInput) input = farceur_input_open(dir, &error);
  g_autoptr(FarceurInputMessage) m = NULL;

  g_assert_no_error(error);
  g_assert_cmpint(g_unlink(a), ==, 0);
  g_assert_null(farceur_input_next(input, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT);
  g_assert_nonnull(strstr(error->message, a));
  g_clear_error(&error);
  m = farceur_input_next(input, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(m->source, ==, b);
  remove_tree(dir);
}

static void
test_warnings(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *path = write_file(
      dir, "w.eml", "Subject: one\nSubject: two\nContent-Type: multipart/mixed\n\nno boundary\n");
  g_autoptr(FarceurInput) input = farceur_input_open(path, NULL);
  g_autoptr(FarceurInputMessage) m = farceur_input_next(input, NULL);
  g_autofree char *joined = NULL;

  g_assert_nonnull(m);
  g_ptr_array_add(m->warnings, NULL);
  joined = g_strjoinv("\n", (char **)m->warnings->pdata);
  g_ptr_array_remove_index(m->warnings, m->warnings->len - 1);
  g_assert_nonnull(strstr(joined, "conflicting header (Subject)"));
  g_assert_nonnull(strstr(joined, "multipart without boundary"));
  remove_tree(dir);
}

/* farceur_input_list() names the files farceur_input_next() reads, in order. */
static void
test_list(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *cur = g_build_filename(dir, "cur", NULL);
  g_autofree char *new = g_build_filename(dir, "new", NULL);
  g_autofree char *a = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint(g_mkdir(cur, 0700), ==, 0);
  g_assert_cmpint(g_mkdir(new, 0700), ==, 0);
  g_free(write_file(cur, "1:2,", MSG_A));
  g_free(write_file(new, "2", MSG_B));
  g_free(write_file(new, ".hidden", MSG_B));
  files = farceur_input_list(dir, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(files->len, ==, 2);
  g_assert_true(g_str_has_suffix(files->pdata[0], "/new/2"));
  g_assert_true(g_str_has_suffix(files->pdata[1], "/cur/1:2,"));
  g_clear_pointer(&files, g_ptr_array_unref);
  a = write_file(dir, "a.eml", MSG_A);
  files = farceur_input_list(a, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(files->len, ==, 1);
  g_assert_cmpstr(files->pdata[0], ==, a);
  g_clear_pointer(&files, g_ptr_array_unref);
  g_assert_null(farceur_input_list("/nonexistent/farceur", &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT);
  remove_tree(dir);
}

/* A message read again from its range is the one farceur_input_next() gave. */
static void
test_read_range(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *path = write_file(dir, "box", MBOX);
  g_autoptr(FarceurInput) input = farceur_input_open(path, NULL);
  g_autoptr(FarceurInputMessage) one = farceur_input_next(input, NULL);
  g_autoptr(FarceurInputMessage) two = farceur_input_next(input, NULL);
  g_autoptr(FarceurInputMessage) again = NULL;
  g_autoptr(GError) error = NULL;
  GMimeObject *body;

  g_assert_nonnull(one);
  g_assert_nonnull(two);
  again = farceur_input_read_range(path, two->stored->bound_start, two->stored->bound_end,
                                   two->source, two->index, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(g_mime_message_get_subject(again->message), ==, "two");
  g_assert_cmpstr(again->source, ==, two->source);
  g_assert_cmpuint(again->index, ==, 2);
  g_assert_cmpint(again->size, ==, two->stored->bound_end - two->stored->bound_start);
  body = g_mime_message_get_mime_part(again->message);
  g_assert_true(GMIME_IS_MULTIPART(body));
  g_assert_cmpint(again->stored->bound_start, ==, two->stored->bound_start);
  /* the same octets, unparsed */
  {
    g_autoptr(GMimeStream) raw
        = farceur_input_open_range(path, two->stored->bound_start, two->stored->bound_end, &error);
    char buf[16] = { 0 };

    g_assert_no_error(error);
    g_assert_cmpint(g_mime_stream_length(raw), ==,
                    two->stored->bound_end - two->stored->bound_start);
    g_assert_cmpint(g_mime_stream_read(raw, buf, 12), ==, 12);
    g_assert_cmpstr(buf, ==, "Subject: two");
  }
  /* a file that shrank is not read past its end */
  g_clear_pointer(&again, farceur_input_message_free);
  g_assert_cmpint(truncate(path, two->stored->bound_start), ==, 0);
  g_assert_null(farceur_input_read_range(path, two->stored->bound_start, two->stored->bound_end,
                                         two->source, 2, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT);
  remove_tree(dir);
}

/* Runs @arg "-" with fd 0 replaced by @fd. */
static char *
read_stdin_from(int fd)
{
  int saved = dup(STDIN_FILENO);
  char *got;

  g_assert_cmpint(dup2(fd, STDIN_FILENO), ==, STDIN_FILENO);
  close(fd);
  got = read_all("-", NULL);
  g_assert_cmpint(dup2(saved, STDIN_FILENO), ==, STDIN_FILENO);
  close(saved);
  return got;
}

static void
test_stdin_pipe(void)
{
  int fds[2];
  g_autofree char *got = NULL;

  g_assert_cmpint(pipe(fds), ==, 0);
  g_assert_cmpint(write(fds[1], MBOX, strlen(MBOX)), ==, strlen(MBOX));
  close(fds[1]);
  got = read_stdin_from(fds[0]);
  g_assert_cmpstr(got, ==, "-#1=one | -#2=two | -#3=three");
}

static void
test_stdin_file(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *path = write_file(dir, "a.eml", MSG_B);
  g_autofree char *got = read_stdin_from(g_open(path, O_RDONLY, 0));

  g_assert_cmpstr(got, ==, "-=B");
  remove_tree(dir);
}

/* ---- header blocks alone (farceur_input_next_headers) ---- */

#define HEADERS_MBOX                                                                               \
  "From a@a.example Mon Jan  1 00:00:00 2024\n"                                                    \
  ">From framing, not a field\n"                                                                   \
  "Received: from a\n\tby b; Mon, 1 Jan 2024 00:00:00 +0000\n"                                     \
  "From : a field named From\n"                                                                    \
  "Bad Name: dropped\n"                                                                            \
  "Subject:  one \n\nbody\nFrom the body, a separator\n"                                           \
  "From b@b.example Mon Jan  1 00:00:01 2024\n"                                                    \
  "Subject: two\r\nX: y\r\n\r\nbody\r\n"

static void
test_headers_fields(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *path = write_file(dir, "box", HEADERS_MBOX);
  g_autoptr(FarceurInput) input = farceur_input_open(path, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *first = g_strdup_printf("%s#1", path);
  const FarceurInputHeaders *h = farceur_input_next_headers(input, &error);

  g_assert_no_error(error);
  g_assert_nonnull(h);
  g_assert_cmpstr(h->source, ==, first);
  g_assert_cmpuint(h->index, ==, 1);
  g_assert_cmpuint(h->n_fields, ==, 3);
  g_assert_cmpstr(h->fields[0].name, ==, "Received");
  g_assert_cmpstr(h->fields[0].value, ==, " from a\n\tby b; Mon, 1 Jan 2024 00:00:00 +0000");
  g_assert_cmpint(h->fields[0].offset, ==,
                  strlen("From a@a.example Mon Jan  1 00:00:00 2024\n"
                         ">From framing, not a field\n"));
  g_assert_cmpstr(h->fields[1].name, ==, "From");
  g_assert_cmpstr(h->fields[1].value, ==, " a field named From");
  g_assert_cmpstr(h->fields[2].name, ==, "Subject");
  g_assert_cmpstr(farceur_input_headers_get(h, "subject"), ==, "  one ");
  /* "From the body" starts a message with no field */
  h = farceur_input_next_headers(input, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(h->index, ==, 2);
  h = farceur_input_next_headers(input, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(h->index, ==, 3);
  g_assert_cmpuint(h->n_fields, ==, 2);
  g_assert_cmpstr(h->fields[0].value, ==, " two"); /* CRLF: no CR in the value */
  g_assert_null(farceur_input_next_headers(input, &error));
  g_assert_no_error(error);
  remove_tree(dir);
}

/* The fields read alone are the fields GMime reads in the whole message. */
static void
test_headers_as_gmime(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *path = write_file(dir, "box", HEADERS_MBOX MBOX);
  g_autoptr(FarceurInput) whole = farceur_input_open(path, NULL);
  g_autoptr(FarceurInput) alone = farceur_input_open(path, NULL);
  FarceurInputMessage *m;
  guint messages = 0;

  while ((m = farceur_input_next(whole, NULL)) != NULL) {
    const FarceurInputHeaders *h = farceur_input_next_headers(alone, NULL);
    GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(m->message));
    guint k = 0;

    g_assert_nonnull(h);
    g_assert_cmpstr(h->source, ==, m->source);
    for (int i = 0; i < g_mime_header_list_get_count(list); i++) {
      GMimeHeader *header = g_mime_header_list_get_header_at(list, i);
      g_autofree char *raw = g_strdup(g_mime_header_get_raw_value(header));
      gsize len = strlen(raw);

      /* GMime keeps the line end that ends the field */
      if (len > 0 && raw[len - 1] == '\n')
        raw[--len] = '\0';
      if (len > 0 && raw[len - 1] == '\r')
        raw[--len] = '\0';
      while (k < h->n_fields && g_ascii_strncasecmp(h->fields[k].name, "Content-", 8) == 0)
        k++; /* GMime keeps those in the body part */
      g_assert_cmpuint(k, <, h->n_fields);
      g_assert_cmpstr(h->fields[k].name, ==, g_mime_header_get_name(header));
      g_assert_cmpstr(h->fields[k].value, ==, raw);
      /* GMime gives the first field after a ">From " line that line's offset */
      if (k > 0 || m->index != 1)
        g_assert_cmpint(h->fields[k].offset, ==, g_mime_header_get_offset(header));
      k++;
    }
    farceur_input_message_free(m);
    messages++;
  }
  g_assert_null(farceur_input_next_headers(alone, NULL));
  g_assert_cmpuint(messages, ==, 6);
  remove_tree(dir);
}

/* A message without a header block is an error naming it; the mbox goes on. */
static void
test_mbox_bad_message_goes_on(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autofree char *path = write_file(dir, "box",
                                     "From a Mon Jan  1 00:00:00 2024\nSubject: one\n\n"
                                     "From b Mon Jan  1 00:00:00 2024\nnot a field\n\n"
                                     "From c Mon Jan  1 00:00:00 2024\nSubject: three\n\n");
  g_autoptr(FarceurInput) input = farceur_input_open(path, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurInputMessage) one = farceur_input_next(input, &error);
  g_autoptr(FarceurInputMessage) three = NULL;

  g_assert_no_error(error);
  g_assert_cmpstr(g_mime_message_get_subject(one->message), ==, "one");
  g_assert_null(farceur_input_next(input, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "box#2': no header block"));
  g_clear_error(&error);
  three = farceur_input_next(input, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(g_mime_message_get_subject(three->message), ==, "three");
  remove_tree(dir);
}

/* N shards hold every message once; bad shards are usage errors. */
static void
test_shards(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autoptr(GString) box = g_string_new(NULL);
  g_autofree char *path = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  guint k, n;

  for (int i = 0; i < 50; i++)
    g_string_append_printf(box, "From x Mon Jan  1 00:00:00 2024\nSubject: %d\n\n", i);
  path = write_file(dir, "box", box->str);
  for (guint shard = 1; shard <= 3; shard++) {
    g_autoptr(FarceurInput) input = farceur_input_open(path, NULL);
    const FarceurInputHeaders *h;

    farceur_input_set_shard(input, shard, 3);
    while ((h = farceur_input_next_headers(input, NULL)) != NULL)
      g_assert_true(g_hash_table_add(seen, g_strdup(h->source)));
  }
  g_assert_cmpuint(g_hash_table_size(seen), ==, 50);
  g_assert_true(farceur_input_parse_shard("2/3", &k, &n, &error));
  g_assert_cmpuint(k, ==, 2);
  g_assert_cmpuint(n, ==, 3);
  g_assert_false(farceur_input_parse_shard("4/3", &k, &n, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE);
  remove_tree(dir);
}

/* ---- caps on hostile headers ---- */

#define MIB (1024 * 1024)

/* "NAME: " then @size octets of value: one line, or folded lines of 72. */
static void
append_field(GString *out, const char *name, gsize size, gboolean folded)
{
  g_string_append_printf(out, "%s: ", name);
  for (gsize i = 0; i < size; i++)
    g_string_append_c(out, folded && i % 72 == 71 ? '\n' : 'x');
  g_string_append_c(out, '\n');
  if (folded) /* every '\n' but the last starts a continuation line */
    for (gsize i = 0; i < out->len - 1; i++)
      if (out->str[i] == '\n' && out->str[i + 1] == 'x')
        out->str[i + 1] = ' ';
}

static gboolean
has_warning(GPtrArray *warnings, const char *part)
{
  for (guint i = 0; warnings != NULL && i < warnings->len; i++)
    if (strstr(warnings->pdata[i], part) != NULL)
      return TRUE;
  return FALSE;
}

static char *
body_text(GMimeMessage *message)
{
  GMimeObject *part = g_mime_message_get_mime_part(message);

  g_assert_true(GMIME_IS_TEXT_PART(part));
  return g_mime_text_part_get_text(GMIME_TEXT_PART(part));
}

/* A 3 MiB one-line Subject: cut to 1 MiB with a warning naming the field;
 * the fields after it and the body are read as they are; the octets as
 * stored are the whole file. */
static void
test_caps_field(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autoptr(GString) text = g_string_new("From: a@a.example\n");
  g_autofree char *path = NULL;
  g_autoptr(FarceurInput) input = NULL;
  g_autoptr(FarceurInputMessage) m = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *body = NULL;
  const char *subject;

  append_field(text, "Subject", 3 * MIB, FALSE);
  g_string_append(text, "X-After: kept\n\nbody here\n");
  path = write_file(dir, "big.eml", text->str);
  input = farceur_input_open(path, &error);
  m = farceur_input_next(input, &error);
  g_assert_no_error(error);
  g_assert_true(has_warning(m->warnings, "offset 18: header field 'Subject' over the 1 MiB cap"));
  subject = g_mime_object_get_header(GMIME_OBJECT(m->message), "Subject");
  g_assert_cmpuint(strlen(subject), <=, MIB);
  g_assert_cmpuint(strlen(subject), >, MIB - 16);
  g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(m->message), "X-After"), ==, "kept");
  body = body_text(m->message);
  g_assert_cmpstr(body, ==, "body here\n");
  g_assert_cmpint(m->size, ==, (gint64)text->len);
  remove_tree(dir);
}

/* In an mbox, a 2 MiB Received: folded over many lines is cut; the message
 * after it is read untouched, by the parser and by the header reader. */
static void
test_caps_folded_mbox(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autoptr(GString) text = g_string_new("From a@a.example Mon Jan  1 00:00:00 2024\n");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurInput) input = NULL;
  g_autoptr(FarceurInput) headers_input = NULL;
  const FarceurInputHeaders *h;
  FarceurInputMessage *m;

  g_string_append(text, "From: a@a.example\n");
  append_field(text, "Received", 2 * MIB, TRUE);
  g_string_append(text, "Subject: first\n\nbody one\n\n"
                        "From b@b.example Mon Jan  1 00:00:01 2024\n"
                        "Subject: second\n\nbody two\n");
  path = write_file(dir, "box", text->str);

  input = farceur_input_open(path, &error);
  m = farceur_input_next(input, &error);
  g_assert_no_error(error);
  g_assert_true(has_warning(m->warnings, "header field 'Received' over the 1 MiB cap: cut there"));
  g_assert_cmpstr(g_mime_message_get_subject(m->message), ==, "first");
  farceur_input_message_free(m);
  m = farceur_input_next(input, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(g_mime_message_get_subject(m->message), ==, "second");
  g_assert_cmpuint(m->warnings->len, ==, 0);
  farceur_input_message_free(m);

  headers_input = farceur_input_open(path, &error);
  h = farceur_input_next_headers(headers_input, &error);
  g_assert_no_error(error);
  g_assert_true(has_warning(h->warnings, "header field 'Received' over the 1 MiB cap"));
  g_assert_cmpuint(strlen(farceur_input_headers_get(h, "Received")), <=, MIB);
  g_assert_cmpstr(farceur_input_headers_get(h, "Subject"), ==, " first");
  h = farceur_input_next_headers(headers_input, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(h->warnings->len, ==, 0);
  g_assert_cmpstr(farceur_input_headers_get(h, "Subject"), ==, " second");
  remove_tree(dir);
}

/* 6,000 fields of 1,000 octets: the fields past 4 MiB are dropped, with a
 * warning; the body is still read. */
static void
test_caps_block(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autoptr(GString) text = g_string_new("Subject: early\n");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurInput) input = NULL;
  g_autoptr(FarceurInput) headers_input = NULL;
  g_autoptr(FarceurInputMessage) m = NULL;
  g_autofree char *body = NULL;
  const FarceurInputHeaders *h;

  for (int i = 0; i < 6000; i++)
    append_field(text, "X-Filler", 990, FALSE);
  g_string_append(text, "X-Late: dropped\n\nthe body\n");
  path = write_file(dir, "wide.eml", text->str);
  input = farceur_input_open(path, &error);
  m = farceur_input_next(input, &error);
  g_assert_no_error(error);
  g_assert_true(
      has_warning(m->warnings, "header block over the 4 MiB cap: the rest of it dropped"));
  g_assert_cmpstr(g_mime_message_get_subject(m->message), ==, "early");
  g_assert_null(g_mime_object_get_header(GMIME_OBJECT(m->message), "X-Late"));
  body = body_text(m->message);
  g_assert_cmpstr(body, ==, "the body\n");

  headers_input = farceur_input_open(path, &error);
  h = farceur_input_next_headers(headers_input, &error);
  g_assert_no_error(error);
  g_assert_true(has_warning(h->warnings, "header block over the 4 MiB cap"));
  g_assert_cmpuint(h->n_fields, <, 6000);
  g_assert_null(farceur_input_headers_get(h, "X-Late"));
  remove_tree(dir);
}

/* A CRLF header block of exactly the cap, and one octet over: only the
 * second is cut (the blank line's CR is not part of the block). */
static void
test_caps_block_crlf_edge(void)
{
  g_autofree char *dir = make_tmpdir();

  for (gsize over = 0; over < 2; over++) {
    g_autoptr(GString) text = g_string_new("Subject: s\r\n");
    g_autofree char *path = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(FarceurInput) input = NULL;
    g_autoptr(FarceurInputMessage) m = NULL;
    g_autofree char *filler = g_strnfill(990, 'x');
    g_autofree char *last = NULL;

    while (text->len + 1000 < FARCEUR_INPUT_MAX_HEADER - 1000)
      g_string_append_printf(text, "X-F: %s\r\n", filler);
    last = g_strnfill(FARCEUR_INPUT_MAX_HEADER + over - text->len - strlen("X-L: \r\n"), 'y');
    g_string_append_printf(text, "X-L: %s\r\n\r\nbody\r\n", last);
    path = write_file(dir, over ? "over.eml" : "exact.eml", text->str);
    input = farceur_input_open(path, &error);
    m = farceur_input_next(input, &error);
    g_assert_no_error(error);
    g_assert_cmpint(has_warning(m->warnings, "header block over the 4 MiB cap"), ==, over);
  }
  remove_tree(dir);
}

/* What is parsed to be sent or stored is refused over a cap, never cut. */
static void
test_caps_parse_stream(void)
{
  g_autoptr(GString) text = g_string_new("From: a@a.example\n");
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  append_field(text, "To", 2 * MIB, TRUE);
  g_string_append(text, "\nbody\n");
  stream = g_mime_stream_mem_new_with_buffer(text->str, text->len);
  message = farceur_input_parse_stream(stream, "'big.eml'", &error);
  g_assert_null(message);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_cmpstr(error->message, ==,
                  "'big.eml': header field 'To' at offset 18 is over the 1 MiB cap: not read");
}

/* The body of @m's single part, decoded. */
static char *
held_body(FarceurInputMessage *m)
{
  GMimeObject *part = g_mime_message_get_mime_part(m->message);
  g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
  GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));

  g_assert_true(GMIME_IS_PART(part));
  g_assert_cmpint(
      g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(part)), out), >=, 0);
  return g_strndup((const char *)bytes->data, bytes->len);
}

/* Messages of an mbox larger than the scanner's block, all held until the
 * end (GMime reads them from memory): bodies and header offsets are those
 * of the file, whichever path each message took. */
static void
test_mbox_held_messages(void)
{
  g_autofree char *dir = make_tmpdir();
  g_autoptr(GString) text = g_string_new(NULL);
  g_autoptr(GArray) offsets = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GPtrArray) held
      = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_input_message_free);
  g_autofree char *filler = g_strnfill(900, 'x');
  g_autofree char *path = NULL;
  g_autoptr(FarceurInput) input = NULL;
  g_autoptr(GError) error = NULL;
  FarceurInputMessage *m;

  for (int i = 0; i < 600; i++) {
    gint64 offset;

    g_string_append(text, "From a@a.example Mon Jan  1 00:00:00 2024\nFrom: <a@a.example>\n");
    /* every third message needs the warning callback (an 8-bit octet) */
    g_string_append(text, i % 3 == 0 ? "X-Note: caf\xe9\n" : "X-Note: plain\n");
    offset = (gint64)text->len;
    g_array_append_val(offsets, offset);
    g_string_append_printf(text, "Subject: s%d\n\nbody %d %s\n\n", i, i, filler);
  }
  path = write_file(dir, "box", text->str);
  input = farceur_input_open(path, &error);
  g_assert_no_error(error);
  while ((m = farceur_input_next(input, &error)) != NULL)
    g_ptr_array_add(held, m);
  g_assert_no_error(error);
  g_assert_cmpuint(held->len, ==, 600);
  for (guint i = 0; i < held->len; i++) {
    FarceurInputMessage *msg = held->pdata[i];
    GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(msg->message));
    g_autofree char *subject = g_strdup_printf("s%u", i);
    /* the last one keeps the mbox's last line end: no "From " line follows */
    g_autofree char *want
        = g_strdup_printf("body %u %s\n%s", i, filler, i + 1 == held->len ? "\n" : "");
    g_autofree char *got = held_body(msg);

    g_assert_cmpstr(g_mime_message_get_subject(msg->message), ==, subject);
    g_assert_cmpstr(got, ==, want);
    g_assert_cmpint(g_mime_header_get_offset(g_mime_header_list_get_header(list, "Subject")), ==,
                    g_array_index(offsets, gint64, i));
    g_assert_cmpuint(msg->warnings->len, ==, (i % 3 == 0 ? 1u : 0u));
  }
  remove_tree(dir);
}

/* @m was read and warned @warning (NULL: nothing). */
static void
assert_warned(const FarceurInputMessage *m, const char *warning)
{
  g_assert_nonnull(m);
  if (warning == NULL)
    g_assert_cmpuint(m->warnings->len, ==, 0);
  else
    g_assert_true(has_warning(m->warnings, warning));
}

/* A header block parsed without GMime's warning callback must be one GMime
 * would not warn about: each message here differs from a plain one by one
 * thing GMime warns about, and keeps its warning. */
static void
test_mbox_plain_warnings(void)
{
  static const struct {
    const char *field;
    const char *warning; /* NULL: none */
  } cases[] = {
    { "X-Note: plain\n", NULL },
    { "Subject: again\n", "conflicting header (Subject)" },
    /* parsed with the callback, though GMime lets these pass */
    { "X-Note: =?utf-8?q?bad\n", NULL },
    { "X-Note: caf\xc3\xa9\n", NULL },
    { "X-Note: caf\xe9\n", "unencoded 8-bit header" },
    /* the suspect octet in the upper half of an 8-octet word (": abcd" + it) */
    { "X-Note: abcd\xe9xyz\n", "unencoded 8-bit header" },
    { "X-Note: ab =?utf-8?q?a b?=\n", "invalid RFC 2047 header value" },
    { "X Note: spaced\n", "invalid header name" },
    { "Cc: a@, <b\n", "invalid address list" },
    { "Content-Type: multipart/mixed\n", "multipart without boundary" },
    { "Content-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: 8bit\n", NULL },
    { "Content-Type: text/plain; charset=\n", "invalid parameter (charset)" },
    { "Content-Type: text\n", "invalid content type" },
    { "Content-Type: text/plain\nContent-Type: text/html\n", "conflicting header (Content-Type)" },
    { "Content-Transfer-Encoding: 7bit\nContent-Transfer-Encoding: 7bit\n",
      "duplicated header (Content-Transfer-Encoding)" },
  };
  g_autofree char *dir = make_tmpdir();
  g_autoptr(GString) text = g_string_new(NULL);
  g_autofree char *path = NULL;
  g_autoptr(FarceurInput) input = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    g_string_append_printf(text,
                           "From a@a.example Mon Jan  1 00:00:00 2024\nFrom: <a@a.example>\n"
                           "To: b@b.example\nSubject: s\n%s\nbody\n\n",
                           cases[i].field);
  path = write_file(dir, "box", text->str);
  input = farceur_input_open(path, &error);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(FarceurInputMessage) m = farceur_input_next(input, &error);

    g_assert_no_error(error);
    assert_warned(m, cases[i].warning);
  }
  /* the same, each a file of its own (read into memory) */
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *name = g_strdup_printf("m%u.eml", i);
    g_autofree char *one = g_strdup_printf(
        "From: <a@a.example>\nTo: b@b.example\nSubject: s\n%s\nbody\n", cases[i].field);
    g_autofree char *file = write_file(dir, name, one);
    g_autoptr(FarceurInput) single = farceur_input_open(file, &error);
    g_autoptr(FarceurInputMessage) m = farceur_input_next(single, &error);

    g_assert_no_error(error);
    assert_warned(m, cases[i].warning);
  }
  remove_tree(dir);
}

/* The plain-header check reads a field 8 octets at a time: an 8-bit octet,
 * or an RFC 2047 word GMime warns about, at every place in those words
 * still makes the message parsed with GMime's warning callback. */
static void
test_plain_word_positions(void)
{
  static const struct {
    const char *what;
    const char *warning;
  } suspects[] = {
    { "\xe9", "unencoded 8-bit header" },
    { "=?utf-8?q?a b?=", "invalid RFC 2047 header value" },
  };

  for (guint s = 0; s < G_N_ELEMENTS(suspects); s++)
    for (guint k = 0; k < 17; k++) {
      g_autofree char *pad = g_strnfill(k, 'a');
      g_autofree char *text
          = g_strdup_printf("From: <a@a.example>\nTo: b@b.example\nX-Note: %s %sxyz\n\nbody\n", pad,
                            suspects[s].what);
      g_autoptr(GError) error = NULL;
      g_autoptr(FarceurInputMessage) m = NULL;
      g_autofree char *dir = make_tmpdir();
      g_autofree char *file = write_file(dir, "m.eml", text);
      g_autoptr(FarceurInput) input = farceur_input_open(file, &error);

      m = farceur_input_next(input, &error);
      g_assert_no_error(error);
      if (!has_warning(m->warnings, suspects[s].warning))
        g_error("%s after %u octets: no '%s'", s == 0 ? "an 8-bit octet" : "an RFC 2047 word", k,
                suspects[s].warning);
      remove_tree(dir);
    }
}

#if defined(__SANITIZE_ADDRESS__)
#define TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_UNDER_ASAN 1
#endif
#endif
#ifndef TEST_UNDER_ASAN
#define TEST_UNDER_ASAN 0
#endif
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* A 64 MiB header line costs what the caps allow, not its size several
 * times over (GMime alone: over 300 MB): peak memory of a process that
 * reads it whole and as headers alone. */
static void
test_caps_memory(void)
{
  if (TEST_UNDER_ASAN || RUNNING_ON_VALGRIND) {
    g_test_skip("peak memory under AddressSanitizer or valgrind is theirs, not ours");
    return;
  }
  if (g_test_subprocess()) {
    g_autofree char *dir = make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "huge.eml", NULL);
    g_autofree char *chunk = g_strnfill(MIB, 'x');
    FILE *f = fopen(path, "w");
    g_autoptr(GError) error = NULL;
    g_autoptr(FarceurInput) input = NULL;
    g_autoptr(FarceurInput) headers_input = NULL;
    g_autoptr(FarceurInputMessage) m = NULL;
    const FarceurInputHeaders *h;
    struct rusage usage;

    g_assert_nonnull(f);
    fputs("From: a@a.example\nSubject: ", f);
    for (int i = 0; i < 64; i++)
      fwrite(chunk, 1, MIB, f);
    fputs("\n\nbody\n", f);
    g_assert_cmpint(fclose(f), ==, 0);
    input = farceur_input_open(path, &error);
    m = farceur_input_next(input, &error);
    g_assert_no_error(error);
    g_assert_true(has_warning(m->warnings, "'Subject' over the 1 MiB cap"));
    headers_input = farceur_input_open(path, &error);
    h = farceur_input_next_headers(headers_input, &error);
    g_assert_no_error(error);
    g_assert_true(has_warning(h->warnings, "'Subject' over the 1 MiB cap"));
    g_assert_cmpint(getrusage(RUSAGE_SELF, &usage), ==, 0);
    g_assert_cmpint(usage.ru_maxrss, <, 48 * 1024); /* KiB */
    remove_tree(dir);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  farceur_init();
  g_test_add_func("/input/file/single", test_single_file);
  g_test_add_func("/input/mbox/lf", test_mbox);
  g_test_add_func("/input/mbox/crlf", test_mbox_crlf);
  g_test_add_func("/input/mbox/multipart", test_mbox_multipart_body);
  g_test_add_func("/input/dir/maildir", test_maildir);
  g_test_add_func("/input/dir/plain", test_plain_dir);
  g_test_add_func("/input/error/missing", test_missing);
  g_test_add_func("/input/error/vanished", test_vanished_file_skipped);
  g_test_add_func("/input/warnings", test_warnings);
  g_test_add_func("/input/list", test_list);
  g_test_add_func("/input/read-range", test_read_range);
  g_test_add_func("/input/stdin/pipe", test_stdin_pipe);
  g_test_add_func("/input/stdin/file", test_stdin_file);
  g_test_add_func("/input/headers/fields", test_headers_fields);
  g_test_add_func("/input/headers/as-gmime", test_headers_as_gmime);
  g_test_add_func("/input/mbox/bad-message-goes-on", test_mbox_bad_message_goes_on);
  g_test_add_func("/input/shards", test_shards);
  g_test_add_func("/input/caps/field", test_caps_field);
  g_test_add_func("/input/caps/folded-mbox", test_caps_folded_mbox);
  g_test_add_func("/input/caps/block-crlf-edge", test_caps_block_crlf_edge);
  g_test_add_func("/input/plain/word-positions", test_plain_word_positions);
  g_test_add_func("/input/caps/block", test_caps_block);
  g_test_add_func("/input/caps/parse-stream", test_caps_parse_stream);
  g_test_add_func("/input/caps/memory", test_caps_memory);
  g_test_add_func("/input/mbox/held-messages", test_mbox_held_messages);
  g_test_add_func("/input/mbox/plain-warnings", test_mbox_plain_warnings);
  return g_test_run();
}
