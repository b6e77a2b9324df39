/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: JSON messages files (data/doc/formats.md, Messages files).
 *
 * The shapes students wrote, read by json-glib (farceur_json_parse_lenient()
 * for the keys without quotes and the ';' Gson accepted):
 *   [{"subject": ..., "body": ...}, ...]           the plain array
 *   {"pranks": [{"title": ..., "body": ...}]}      the array under a key
 *   {"messages": {"message1": {...}, ...}}         an object of messages
 *   {"email": [{"email_1": {"subject": ...}}]}     each message wrapped once
 * A message's subject is its "subject" (or "title", "sujet", "objet")
 * member, its body "body" (or "content", "text", "message", ...); names are
 * compared without case. */
#include "config.h"

#include <string.h>

#include <farceur/error.h>
#include <farceur/json.h>
#include <farceur/template.h>

#include "template-private.h"

static const char *const json_subject_keys[]
    = { "subject", "title", "sujet", "objet", "titre", NULL };
static const char *const json_body_keys[]
    = { "body", "content", "text", "message", "corps", "contenu", "texte", "mail", "msg", NULL };
static const char *const json_container_words[]
    = { "message", "prank", "mail", "farce", "blague", "joke", "list", NULL };

typedef struct {
  const char *path;
  const char *text;
  gsize cursor; /* where to look for the next message's line */
  FarceurReadFile *file;
  TemplateContext ctx;
  char *where;       /* "under 'pranks'", for the summary */
  char *subject_key; /* the member names used, for the summary */
  char *body_key;
} JsonMessages;

/* The member of @object named like one of @keys (without case), or NULL. */
static const char *
json_find_member(JsonObject *object, const char *const *keys)
{
  g_autoptr(GList) members = json_object_get_members(object);

  for (gsize k = 0; keys[k] != NULL; k++)
    for (GList *m = members; m != NULL; m = m->next)
      if (g_ascii_strcasecmp(m->data, keys[k]) == 0)
        return m->data;
  return NULL;
}

static gboolean
json_is_message(JsonNode *node)
{
  return JSON_NODE_HOLDS_OBJECT(node)
         && json_find_member(json_node_get_object(node), json_subject_keys) != NULL;
}

static gboolean
json_is_container(JsonNode *node)
{
  return JSON_NODE_HOLDS_ARRAY(node) || (JSON_NODE_HOLDS_OBJECT(node) && !json_is_message(node));
}

static GPtrArray *
json_entries(JsonMessages *j, JsonNode *root, GError **error)
{
  const char *member;

  if (JSON_NODE_HOLDS_ARRAY(root)) {
    j->where = g_strdup("a JSON array");
    return farceur_json_elements(root);
  }
  if (json_is_message(root)) {
    GPtrArray *one = g_ptr_array_new();
    g_ptr_array_add(one, root);
    j->where = g_strdup("one JSON object");
    return one;
  }
  if (!JSON_NODE_HOLDS_OBJECT(root)
      || (member = farceur_json_pick_member(json_node_get_object(root), json_is_container,
                                            json_container_words))
             == NULL) {
    template_fail_messages(
        error, j->path, 1,
        "cannot tell where the messages are: expected an array of {\"subject\", \"body\"} "
        "objects, or an object holding one such array");
    return NULL;
  }
  j->where = g_strdup_printf("JSON, under '%s'", member);
  return farceur_json_elements(json_object_get_member(json_node_get_object(root), member));
}

/* {"email_1": {"subject": ...}}: a message wrapped in an object of one member. */
static JsonNode *
json_unwrap(JsonNode *node)
{
  JsonObject *object;
  g_autoptr(GList) members = NULL;

  if (!JSON_NODE_HOLDS_OBJECT(node) || json_is_message(node))
    return node;
  object = json_node_get_object(node);
  members = json_object_get_members(object);
  if (members != NULL && members->next == NULL
      && json_is_message(json_object_get_member(object, members->data)))
    return json_object_get_member(object, members->data);
  return node;
}

/* The line where @subject appears next in the file (0 when it cannot be
 * found as written, e.g. with escapes). */
static guint
json_line_of(JsonMessages *j, const char *subject)
{
  const char *at;
  guint line = 1;

  if (subject[0] == '\0' || (at = strstr(j->text + j->cursor, subject)) == NULL)
    return 0;
  j->cursor = at - j->text;
  for (const char *p = j->text; p < at; p++)
    line += *p == '\n';
  return line;
}

/* The line of a message without a subject: where its first member name
 * (or string) is, after the messages before it. */
static guint
json_line_of_node(JsonMessages *j, JsonNode *node)
{
  g_autoptr(GList) members = NULL;
  g_autofree char *quoted = NULL;

  if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
    return json_line_of(j, json_node_get_string(node));
  if (!JSON_NODE_HOLDS_OBJECT(node)
      || (members = json_object_get_members(json_node_get_object(node))) == NULL)
    return 0;
  quoted = g_strdup_printf("\"%s\"", (char *)members->data);
  return json_line_of(j, quoted);
}

static const char *
json_string_member(JsonMessages *j, JsonObject *object, const char *key, guint k, guint line,
                   GError **error)
{
  JsonNode *node = json_object_get_member(object, key);

  if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
    template_fail_messages(error, j->path, line, "message %u: '%s' is not a string", k, key);
    return NULL;
  }
  return json_node_get_string(node);
}

static void
json_note_keys(JsonMessages *j, const char *subject_key, const char *body_key)
{
  if (j->subject_key == NULL)
    j->subject_key = g_strdup(subject_key);
  if (j->body_key == NULL && body_key != NULL)
    j->body_key = g_strdup(body_key);
}

static FarceurTemplate *
json_message(JsonMessages *j, JsonNode *node, guint k, GError **error)
{
  JsonObject *object;
  const char *subject_key, *body_key, *subject, *body = "";
  guint line;

  node = json_unwrap(node);
  if (!JSON_NODE_HOLDS_OBJECT(node)
      || (subject_key = json_find_member(json_node_get_object(node), json_subject_keys)) == NULL) {
    template_fail_messages(
        error, j->path, json_line_of_node(j, node),
        "message %u has no \"subject\" (or \"title\") member: each message is an object "
        "{\"subject\": \"...\", \"body\": \"...\"}",
        k);
    return NULL;
  }
  object = json_node_get_object(node);
  if ((subject = json_string_member(j, object, subject_key, k, 0, error)) == NULL)
    return NULL;
  line = json_line_of(j, subject);
  body_key = json_find_member(object, json_body_keys);
  if (body_key == NULL)
    farceur_read_file_warn(j->file, line,
                           "message %u has no \"body\" (or \"content\") member: "
                           "its body is empty",
                           k);
  else if ((body = json_string_member(j, object, body_key, k, line, error)) == NULL)
    return NULL;
  json_note_keys(j, subject_key, body_key);
  return template_new_message(&j->ctx, subject, body, line, line, error);
}

static void
json_describe(JsonMessages *j, GPtrArray *all)
{
  FarceurReadFile *file = j->file;

  if (file == NULL)
    return;
  farceur_read_file_set(&file->format, "json");
  g_free(file->subject);
  file->subject = g_strdup_printf("'%s' members", j->subject_key);
  file->count = all->len;
  for (guint i = 0; i < all->len; i++)
    g_ptr_array_add(file->subjects,
                    g_strdup(farceur_template_get_header(all->pdata[i], "Subject")));
  g_free(file->summary);
  file->summary = g_strdup_printf("%u message%s (%s, subject from '%s', body from '%s')", all->len,
                                  all->len == 1 ? "" : "s", j->where, j->subject_key,
                                  j->body_key ? j->body_key : "nowhere");
}

static GPtrArray *
json_read(JsonMessages *j, JsonNode *root, GError **error)
{
  g_autoptr(GPtrArray) entries = json_entries(j, root, error);
  g_autoptr(GPtrArray) all = NULL;

  if (entries == NULL)
    return NULL;
  if (entries->len == 0) {
    template_fail_messages(error, j->path, 0, "no message in the file");
    return NULL;
  }
  all = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_template_free);
  for (guint k = 0; k < entries->len; k++) {
    FarceurTemplate *tmpl = json_message(j, entries->pdata[k], k + 1, error);
    if (tmpl == NULL)
      return NULL;
    tmpl->index = k + 1;
    g_ptr_array_add(all, tmpl);
  }
  json_describe(j, all);
  return g_steal_pointer(&all);
}

/**
 * template_read_json:
 * @path: the file, for messages
 * @text: its text, UTF-8
 * @file: (nullable): where to record what was read
 * @error: return location for an error naming the file and line
 *
 * Returns: (transfer full) (element-type FarceurTemplate): one template per message
 */
GPtrArray *
template_read_json(const char *path, const char *text, FarceurReadFile *file, GError **error)
{
  g_autofree char *dir = g_path_get_dirname(path);
  JsonMessages j = { path, text, 0, file, { path, dir, TRUE }, NULL, NULL, NULL };
  g_autoptr(GError) local = NULL;
  JsonNode *root = farceur_json_parse_lenient(text, file, &local);
  GPtrArray *all = NULL;

  if (root == NULL)
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "messages '%s' %s (read as JSON; --messages-format blocks reads it as text)", path,
                local->message);
  else
    all = json_read(&j, root, error);
  if (root != NULL)
    json_node_unref(root);
  g_free(j.where);
  g_free(j.subject_key);
  g_free(j.body_key);
  return all;
}
