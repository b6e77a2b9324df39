/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <glib/gstdio.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

static char *
data_path(const char *name)
{
  return g_test_build_filename(G_TEST_DIST, "data", "template", name, NULL);
}

static GHashTable *
make_vars(void)
{
  GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

  g_hash_table_insert(vars, g_strdup("sender.name"), g_strdup("Alice Martin"));
  g_hash_table_insert(vars, g_strdup("recipient.first_name"), g_strdup("Bob"));
  g_hash_table_insert(vars, g_strdup("group.index"), g_strdup("3"));
  return vars;
}

/* Every y_ file parses. */
static void
test_corpus_yes(void)
{
  g_autofree char *dir_path = g_test_build_filename(G_TEST_DIST, "data", "template", NULL);
  g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
  const char *name;
  guint count = 0;

  g_assert_nonnull(dir);
  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *path = NULL;
    g_autoptr(FarceurTemplate) tmpl = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_str_has_prefix(name, "y_"))
      continue;
    path = data_path(name);
    tmpl = farceur_template_load(path, &error);
    g_assert_no_error(error);
    g_assert_nonnull(farceur_template_get_header(tmpl, "subject"));
    count++;
  }
  g_assert_cmpuint(count, >=, 6);
}

/* Every n_ file fails with the message in its .err file, naming file and line. */
static void
test_corpus_no(void)
{
  g_autofree char *dir_path = g_test_build_filename(G_TEST_DIST, "data", "template", NULL);
  g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
  const char *name;
  guint count = 0;

  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *path = NULL, *err_path = NULL, *expected = NULL, *stem = NULL;
    g_autoptr(FarceurTemplate) tmpl = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_str_has_prefix(name, "n_") || !g_str_has_suffix(name, ".tmpl"))
      continue;
    path = data_path(name);
    stem = g_strndup(name, strlen(name) - 5);
    err_path = g_strdup_printf("%s/%s.err", dir_path, stem);
    g_assert_true(g_file_get_contents(err_path, &expected, NULL, NULL));
    g_strchomp(expected);
    tmpl = farceur_template_load(path, &error);
    g_assert_null(tmpl);
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
    if (strstr(error->message, expected) == NULL || strstr(error->message, name) == NULL)
      g_error("%s: got '%s', expected '%s'", name, error->message, expected);
    count++;
  }
  g_assert_cmpuint(count, >=, 10);
}

static void
test_crlf_folded(void)
{
  g_autofree char *path = data_path("y_crlf_folded.tmpl");
  g_autoptr(FarceurTemplate) tmpl = farceur_template_load(path, NULL);

  g_assert_nonnull(tmpl);
  g_assert_cmpstr(farceur_template_get_header(tmpl, "X-Long"), ==, "a  folded\tvalue");
  g_assert_cmpstr(tmpl->body, ==, "line1\nline2\n");
  g_assert_cmpuint(tmpl->body_line, ==, 6);
}

static void
test_pseudo_headers(void)
{
  g_autofree char *path = data_path("y_pseudo_headers.tmpl");
  g_autoptr(FarceurTemplate) tmpl = farceur_template_load(path, NULL);
  FarceurAttachSpec *a, *b, *c;

  g_assert_nonnull(tmpl);
  g_assert_cmpuint(tmpl->headers->len, ==, 1); /* Attach and Html are consumed */
  g_assert_cmpuint(tmpl->attachments->len, ==, 3);
  a = tmpl->attachments->pdata[0];
  b = tmpl->attachments->pdata[1];
  c = tmpl->attachments->pdata[2];
  g_assert_true(g_str_has_suffix(a->path, "/template/flyer.pdf"));
  g_assert_false(a->is_inline);
  g_assert_null(a->cid);
  g_assert_cmpuint(a->line, ==, 2);
  g_assert_true(g_str_has_suffix(b->path, "/my logo.png"));
  g_assert_true(b->is_inline);
  g_assert_cmpstr(b->cid, ==, "logo@x");
  g_assert_cmpstr(c->name, ==, "résumé; v2.bin");
  g_assert_cmpstr(c->type, ==, "application/octet-stream");
  g_assert_true(g_str_has_suffix(tmpl->html_path, "/promo.html"));
  g_assert_cmpuint(tmpl->html_line, ==, 5);
  g_assert_cmpstr(tmpl->body, ==, "Bonjour\n");
}

static void
test_no_body(void)
{
  g_autofree char *path = data_path("y_no_body.tmpl");
  g_autoptr(FarceurTemplate) tmpl = farceur_template_load(path, NULL);

  g_assert_nonnull(tmpl);
  g_assert_cmpstr(farceur_template_get_header(tmpl, "X-A"), ==, "b");
  g_assert_cmpstr(tmpl->body, ==, "");
}

static void
test_messages_file(void)
{
  g_autofree char *path = data_path("messages.txt");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = farceur_template_load_all(path, &error);
  FarceurTemplate *first, *second;

  g_assert_no_error(error);
  g_assert_cmpuint(all->len, ==, 2);
  first = all->pdata[0];
  second = all->pdata[1];
  g_assert_cmpstr(farceur_template_get_header(first, "Subject"), ==, "First prank");
  g_assert_cmpstr(first->body, ==, "Hello, this body starts right away.\n");
  g_assert_cmpuint(first->body_line, ==, 2);
  g_assert_cmpuint(first->index, ==, 1);
  g_assert_cmpstr(farceur_template_get_header(second, "Subject"), ==, "Second");
  g_assert_cmpstr(second->body, ==, "With a blank line.\nSecond line.\n");
  g_assert_cmpuint(second->body_line, ==, 6);
  g_assert_cmpuint(second->index, ==, 2);
}

/* In a messages file, after Subject only well-known names (and X-...) stay
 * headers: "Note: ..." starts the body. */
static void
test_messages_file_lab_headers(void)
{
  g_autofree char *path = data_path("messages-note.txt");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = farceur_template_load_all(path, &error);
  FarceurTemplate *first, *second;

  g_assert_no_error(error);
  g_assert_cmpuint(all->len, ==, 2);
  first = all->pdata[0];
  second = all->pdata[1];
  g_assert_cmpstr(farceur_template_get_header(first, "X-Priority"), ==, "1");
  g_assert_null(farceur_template_get_header(first, "Note"));
  g_assert_cmpstr(first->body, ==, "Note: this is the body, not a header.\nSecond line.\n");
  g_assert_cmpuint(first->body_line, ==, 3);
  g_assert_cmpstr(farceur_template_get_header(second, "Reply-To"), ==, "a@example.org");
  g_assert_cmpstr(second->body, ==, "Body: with a colon.\n");
}

/* A placeholder error in a folded header names the line that holds it. */
static void
test_folded_error_line(void)
{
  g_autoptr(FarceurTemplate) tmpl = farceur_template_parse(
      "Subject: s\nX-Long: first part\n  second {{nope}}\n\nbody\n", -1, "f.tmpl", NULL, 1, NULL);
  g_autoptr(GHashTable) vars = g_hash_table_new(g_str_hash, g_str_equal);
  FarceurComposeRequest request = { .from = "a@example.org" };
  g_autoptr(GError) error = NULL;
  g_autoptr(GMimeMessage) message = NULL;

  g_assert_nonnull(tmpl);
  g_assert_cmpstr(farceur_template_get_header(tmpl, "X-Long"), ==, "first part  second {{nope}}");
  request.vars = vars;
  message = farceur_compose_message(tmpl, &request, &error);
  g_assert_null(message);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_cmpstr(error->message, ==, "template 'f.tmpl' line 3: unknown placeholder '{{nope}}'");
}

static void
test_messages_file_error_line(void)
{
  g_autofree char *path = data_path("messages-bad.txt");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = farceur_template_load_all(path, &error);

  g_assert_null(all);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "line 4:"));
}

static void
test_load_dir_and_missing(void)
{
  g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "data", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) none = farceur_template_load_all(dir, &error);
  g_autoptr(FarceurTemplate) missing = NULL;

  g_assert_null(none);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT);
  g_clear_error(&error);
  missing = farceur_template_load("/nonexistent/x.tmpl", &error);
  g_assert_null(missing);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_NOINPUT);
}

static void
test_expand(void)
{
  g_autoptr(GHashTable) vars = make_vars();
  g_autofree char *out = farceur_template_expand("Hi {{recipient.first_name}}, {{ sender.name }}!"
                                                 " {{group.index}}{{group.index}} { single }",
                                                 vars, "t", 1, NULL);

  g_assert_cmpstr(out, ==, "Hi Bob, Alice Martin! 33 { single }");
}

static void
test_expand_errors(void)
{
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { "a\nb\nHello {{sender.nmae}}",
      "template 't' line 12: unknown placeholder '{{sender.nmae}}'" },
    { "x {{sender.name", "template 't' line 10: '{{' without its closing '}}'" },
    { "x {{sender\n.name}}", "template 't' line 10: '{{' without its closing '}}'" },
    { "\n{{}}", "template 't' line 11: malformed placeholder '{{}}'" },
    { "{{a b}}", "template 't' line 10: malformed placeholder '{{a b}}'" },
  };
  g_autoptr(GHashTable) vars = make_vars();

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *out = farceur_template_expand(cases[i].text, vars, "t", 10, &error);
    g_assert_null(out);
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
    g_assert_cmpstr(error->message, ==, cases[i].message);
  }
}

/* A value is inserted verbatim, never re-expanded: no placeholder injection. */
static void
test_expand_no_recursion(void)
{
  g_autoptr(GHashTable) vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *out = NULL;

  g_hash_table_insert(vars, g_strdup("a"), g_strdup("{{b}}"));
  out = farceur_template_expand("{{a}}", vars, "t", 1, NULL);
  g_assert_cmpstr(out, ==, "{{b}}");
}

/* ---- messages files as students wrote them ---- */

typedef struct {
  const char *name; /* the file's name (.json chooses JSON) */
  const char *text;
  const char *format;  /* --messages-format, or NULL */
  const char *want;    /* "N: subject|subject|..." or "error: text" */
  const char *warning; /* (nullable) a warning it must give */
} MessagesCase;

static const MessagesCase messages_cases[] = {
  /* the separator: any rule character, the same line at every boundary */
  { "a.txt", "Subject: a\nx\n==\nSubject: b\ny\n", NULL, "2: a|b", NULL },
  { "a.txt", "Subject: a\nx\n----\nSubject: b\ny\n----\n", NULL, "2: a|b", NULL },
  { "a.txt", "Subject: a\nx\n////\nSubject: b\ny\n", NULL, "2: a|b", NULL },
  { "a.txt", "Subject: a\nx\n******\n\nSubject: b\ny\n", NULL, "2: a|b", NULL },
  { "a.txt", "Subject: a\nx\n###\nSubject: b\ny\n", NULL, "2: a|b", NULL },
  { "a.txt", "Subject: a\nx\n~~\nSubject: b\ny\n", NULL, "2: a|b", NULL },
  { "a.txt", "Subject: a\nx\n___\nSubject: b\ny\n", NULL, "2: a|b", NULL },
  { "a.txt", "==\nSubject: a\nx\n==\nSubject: b\ny\n==\n\n", NULL, "2: a|b", NULL },
  { "a.txt", "Subject : a\nx\n====\ntype: html\nSubject : b\n\n<p>y</p>\n", NULL, "2: a|b", NULL },
  /* Subject lines decide; a rule line that separates nothing is text, named */
  { "a.txt", "Subject: a\nx\n-----\nmore\n==\nSubject: b\ny\n", NULL, "2: a|b",
    "line 3: '-----' inside message 1 is kept as text" },
  { "a.txt", "Subject: a\nx\n-- \nsig\n==\nSubject: b\ny\n", NULL, "2: a|b", NULL },
  { "a.txt", "Subject: a\nx\nSubject: b\ny\n", NULL,
    "error: line 3: a second 'Subject:' line in message 1 (which starts on line 1)", NULL },
  { "a.txt", "Subject: a\nx\n+++\nSubject: b\ny\n", NULL, "2: a|b", NULL },
  { "a.txt", "Subject: a\nx\n==\nSubject: b\ny\n----\nSubject: c\n", NULL,
    "error: line 6: separator '----' differs from '==' on line 3", NULL },
  { "a.txt", "Subject: a\nx\n==\nno subject\n", NULL, "error: line 4: message 2 has no 'Subject:'",
    NULL },
  { "a.txt", "Subject:\nbody\n==\nSubject: b\n", NULL, "2: |b", "message 1 has an empty subject" },
  /* first lines as subjects */
  { "a.txt", "A\nx\n===\n\nB\ny\n===\n", NULL, "2: A|B", NULL },
  { "a.txt", "# comment\n#\n\nA\nx\n%%\nB\ny\n", NULL,
    "error: line 6: '%%' looks like a separator line farceur does not know", NULL },
  { "a.txt", "A\nx\n%%\nB\ny\n", "separator=%%", "2: A|B", NULL },
  { "a.txt", "A\nx\n==\nB\ny\n--\nC\n", NULL,
    "error: line 6: '--' and '==' (line 3) could both separate messages", NULL },
  { "a.txt", "A\nx\n\nstill A\n", NULL, "1: A", NULL },
  { "a.txt", "Subject: a\nx\n==\nSubject: b\ny\n", "subject=first-line", "2: Subject: a|Subject: b",
    NULL },
  /* one message per line */
  { "a.txt", "first\nsecond\nthird\n", NULL, "3: ||", NULL },
  { "a.txt", "first\nsecond\n", "lines,subject=first-line", "2: first|second", NULL },
  /* JSON */
  { "a.json", "[{\"subject\": \"a\", \"body\": \"x\"}, {\"Title\": \"b\", \"content\": \"y\"}]",
    NULL, "2: a|b", NULL },
  { "a.txt", "{\"pranks\": [{\"title\": \"a\", \"body\": \"x\"}]}", NULL, "1: a", NULL },
  { "a.json", "{\"email\": [{\"e1\": {\"subject\": \"a\", \"body\": \"x\"}}]}", NULL, "1: a",
    NULL },
  { "a.json", "{\"messages\": {\"m1\": {\"subject\": \"a\"}, \"m2\": {\"subject\": \"b\"}}}", NULL,
    "2: a|b", "message 1 has no \"body\"" },
  { "a.json", "[{subject: \"a\", body: \"x\"};]", NULL, "1: a", "keys without quotes" },
  { "a.json", "[{\"subject\": \"a\\nb\"}]", NULL, "error: the subject holds control character 0x0a",
    NULL },
  { "a.txt", "Subject: a\n==\n", "json", "error: line 1 column 7: unexpected identifier `Subject'",
    NULL },
};

static void
test_messages_formats(void)
{
  g_autofree char *dir = g_dir_make_tmp("farceur-messages-XXXXXX", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS(messages_cases); i++) {
    const MessagesCase *c = &messages_cases[i];
    g_autofree char *path = g_build_filename(dir, c->name, NULL);
    g_autoptr(FarceurReadFile) note = farceur_read_file_new("messages", path);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GString) got = g_string_new(NULL);
    FarceurMessagesFormat format = { 0 };

    g_assert_true(g_file_set_contents(path, c->text, -1, NULL));
    if (c->format)
      g_assert_true(farceur_messages_format_parse(c->format, &format, NULL));
    all = farceur_template_read_messages(path, &format, note, &error);
    if (all == NULL)
      g_string_printf(got, "error: %s", error->message);
    else
      for (guint k = 0; k < all->len; k++)
        g_string_append_printf(got, "%s%s", k ? "|" : "",
                               farceur_template_get_header(all->pdata[k], "Subject"));
    g_test_message("case %zu: %s", i, got->str);
    if (g_str_has_prefix(c->want, "error: "))
      g_assert_nonnull(strstr(got->str, c->want + strlen("error: ")));
    else {
      g_autofree char *want = g_strdup_printf("%u: %s", all->len, got->str);
      g_assert_cmpstr(want, ==, c->want);
    }
    for (guint k = 0; c->warning && k <= note->warnings->len; k++) {
      g_autofree char *shown = NULL;
      g_assert_cmpuint(k, <, note->warnings->len);
      shown = g_strdup_printf("line %u: %s", ((FarceurReadNote *)note->warnings->pdata[k])->line,
                              ((FarceurReadNote *)note->warnings->pdata[k])->text);
      if (strstr(shown, c->warning))
        break;
    }
    farceur_messages_format_clear(&format);
    g_unlink(path);
  }
  g_rmdir(dir);
}

/* One message per file in a folder: a Subject line, else the first line,
 * or the file's name. */
static void
test_messages_folder(void)
{
  g_autofree char *dir = g_dir_make_tmp("farceur-folder-XXXXXX", NULL);
  g_autofree char *a = g_build_filename(dir, "Aide pour le TP.txt", NULL);
  g_autofree char *b = g_build_filename(dir, "b.utf8", NULL);
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) named = NULL;
  FarceurMessagesFormat format = { 0 };

  g_assert_true(g_file_set_contents(a, "Salut,\r\n\r\ntu as le code ?\r\n", -1, NULL));
  g_assert_true(g_file_set_contents(b, "Subject: B\n\nbody b\n", -1, NULL));
  all = farceur_template_load_all(dir, NULL);
  g_assert_cmpuint(all->len, ==, 2);
  g_assert_cmpstr(farceur_template_get_header(all->pdata[0], "Subject"), ==, "Salut,");
  g_assert_cmpstr(((FarceurTemplate *)all->pdata[0])->body, ==, "tu as le code ?\n");
  g_assert_cmpstr(farceur_template_get_header(all->pdata[1], "Subject"), ==, "B");
  g_assert_true(farceur_messages_format_parse("files,subject=file-name", &format, NULL));
  named = farceur_template_read_messages(dir, &format, NULL, NULL);
  g_assert_cmpstr(farceur_template_get_header(named->pdata[0], "Subject"), ==, "Aide pour le TP");
  farceur_messages_format_clear(&format);
  g_unlink(a);
  g_unlink(b);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/template/corpus/y", test_corpus_yes);
  g_test_add_func("/template/corpus/n", test_corpus_no);
  g_test_add_func("/template/parse/crlf-folded", test_crlf_folded);
  g_test_add_func("/template/parse/pseudo-headers", test_pseudo_headers);
  g_test_add_func("/template/parse/no-body", test_no_body);
  g_test_add_func("/template/messages-file", test_messages_file);
  g_test_add_func("/template/messages-file/error-line", test_messages_file_error_line);
  g_test_add_func("/template/messages-file/lab-headers", test_messages_file_lab_headers);
  g_test_add_func("/template/expand/folded-error-line", test_folded_error_line);
  g_test_add_func("/template/load/dir-and-missing", test_load_dir_and_missing);
  g_test_add_func("/template/messages/formats", test_messages_formats);
  g_test_add_func("/template/messages/folder", test_messages_folder);
  g_test_add_func("/template/expand", test_expand);
  g_test_add_func("/template/expand/errors", test_expand_errors);
  g_test_add_func("/template/expand/no-recursion", test_expand_no_recursion);
  return g_test_run();
}
