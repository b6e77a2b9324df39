/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: JSON victims files (data/doc/formats.md, Victims files).
 *
 * The shapes students wrote, read by json-glib (farceur_json_parse_lenient()
 * for what Gson's lenient mode accepted):
 *   ["a@x.org", "Bob <b@y.org>"]                          strings
 *   [{"firstName": ..., "lastName": ..., "address": ...}]  objects
 *   {"victims": [...]}                                     under a key
 *   {"emails": {"email1": {"mail": ...}, ...}}             an object of entries
 * In an object the address is the member named email (or mail, address,
 * courriel...), else the one string member holding an '@'; the name is
 * "name", or first and last name members; every other string or number
 * member becomes a variable. */
#include "config.h"

#include <string.h>

#include <farceur/campaign.h>
#include <farceur/error.h>
#include <farceur/json.h>

#include "campaign-private.h"

static const char *const json_address_keys[] = { "email",   "e_mail",        "mail",
                                                 "address", "addr",          "courriel",
                                                 "adresse", "email_address", NULL };
static const char *const json_name_keys[]
    = { "name", "full_name", "fullname", "display_name", "displayname", NULL };
static const char *const json_first_keys[]
    = { "first_name", "firstname", "prenom", "given_name", "givenname", NULL };
static const char *const json_last_keys[]
    = { "last_name", "lastname", "nom", "surname", "family_name", "familyname", NULL };
static const char *const json_container_words[]
    = { "victim", "email", "mail", "address", "people", "person", "target", "list", NULL };

/* The member of @object whose column name (victims_column_name()) is one
 * of @keys, or NULL. */
static const char *
json_member(JsonObject *object, const char *const *keys)
{
  g_autoptr(GList) members = json_object_get_members(object);

  for (gsize k = 0; keys[k] != NULL; k++)
    for (GList *m = members; m != NULL; m = m->next) {
      g_autofree char *name = victims_column_name(m->data);
      if (name != NULL && strcmp(name, keys[k]) == 0)
        return m->data;
    }
  return NULL;
}

static const char *
json_string(JsonObject *object, const char *member)
{
  JsonNode *node = member ? json_object_get_member(object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node)
      || json_node_get_value_type(node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(node);
}

/* The string member holding an '@' when no member is named like an address. */
static const char *
json_address_member(JsonObject *object)
{
  g_autoptr(GList) members = json_object_get_members(object);
  const char *found = json_member(object, json_address_keys);
  guint n = 0;

  if (found != NULL)
    return found;
  for (GList *m = members; m != NULL; m = m->next) {
    const char *value = json_string(object, m->data);
    if (value != NULL && strchr(value, '@') != NULL)
      found = m->data, n++;
  }
  return n == 1 ? found : NULL;
}

static gboolean
json_is_entries(JsonNode *node)
{
  return JSON_NODE_HOLDS_ARRAY(node)
         || (JSON_NODE_HOLDS_OBJECT(node)
             && json_address_member(json_node_get_object(node)) == NULL);
}

static GPtrArray *
json_entries(VictimsParser *p, JsonNode *root, GError **error)
{
  const char *member = NULL;

  if (JSON_NODE_HOLDS_ARRAY(root)) {
    p->detail = g_strdup("JSON array");
    return farceur_json_elements(root);
  } else if (JSON_NODE_HOLDS_OBJECT(root)
             && (member = farceur_json_pick_member(json_node_get_object(root), json_is_entries,
                                                   json_container_words))
                    != NULL) {
    p->detail = g_strdup_printf("JSON, under '%s'", member);
    return farceur_json_elements(json_object_get_member(json_node_get_object(root), member));
  } else {
    p->line = 1;
    victims_fail(p, error,
                 "cannot tell where the victims are: expected an array of addresses or of "
                 "{\"email\": ...} objects, or an object holding one");
    return NULL;
  }
}

/* Moves the parser to the line where @text appears next in the file. */
static void
json_seek(VictimsParser *p, const char *text)
{
  const char *at;

  if (text == NULL || text[0] == '\0' || (at = strstr(p->text + p->cursor, text)) == NULL)
    return;
  for (const char *c = p->text + p->cursor; c < at; c++)
    p->line += *c == '\n';
  p->cursor = at - p->text;
}

static char *
json_name(JsonObject *object)
{
  const char *name = json_string(object, json_member(object, json_name_keys));
  const char *first = json_string(object, json_member(object, json_first_keys));
  const char *last = json_string(object, json_member(object, json_last_keys));

  if (name != NULL)
    return g_strdup(name);
  if (first != NULL || last != NULL)
    return g_strstrip(g_strdup_printf("%s %s", first ? first : "", last ? last : ""));
  return NULL;
}

static void
json_vars(FarceurVictim *victim, JsonObject *object, const char *address)
{
  g_autoptr(GList) members = json_object_get_members(object);

  for (GList *m = members; m != NULL; m = m->next) {
    JsonNode *node = json_object_get_member(object, m->data);
    g_autofree char *column = victims_column_name(m->data);
    if (column == NULL || strcmp(m->data, address) == 0 || !JSON_NODE_HOLDS_VALUE(node))
      continue;
    if (json_node_get_value_type(node) == G_TYPE_STRING)
      g_hash_table_replace(victim->vars, g_steal_pointer(&column),
                           g_strdup(json_node_get_string(node)));
    else if (json_node_get_value_type(node) == G_TYPE_INT64)
      g_hash_table_replace(victim->vars, g_steal_pointer(&column),
                           g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node)));
  }
}

static void
json_entry(VictimsParser *p, JsonNode *node, guint k)
{
  JsonObject *object;
  const char *member, *address;
  g_autofree char *name = NULL;
  FarceurVictim *victim;

  if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING) {
    json_seek(p, json_node_get_string(node));
    victims_add_text(p, json_node_get_string(node));
    return;
  }
  if (!JSON_NODE_HOLDS_OBJECT(node)
      || (member = json_address_member(json_node_get_object(node))) == NULL) {
    g_autofree char *why = g_strdup_printf("entry %u holds no address", k);
    victims_invalid(p, "", why);
    return;
  }
  object = json_node_get_object(node);
  address = json_string(object, member);
  json_seek(p, address);
  if (address == NULL || (victim = victims_add_text(p, address)) == NULL) {
    if (address == NULL)
      victims_invalid(p, "", "an address that is not a string");
    return;
  }
  name = json_name(object);
  if (victims_set_display_name(p, victim, name))
    json_vars(victim, object, member);
}

/**
 * victims_read_json:
 * @p: the parser
 * @text: the file's text, UTF-8
 * @error: return location for an error about the file as a whole
 *
 * Returns: %FALSE when the file is not JSON or holds no recognisable list
 */
gboolean
victims_read_json(VictimsParser *p, const char *text, GError **error)
{
  g_autoptr(GError) local = NULL;
  JsonNode *root = farceur_json_parse_lenient(text, p->note, &local);
  g_autoptr(GPtrArray) entries = NULL;

  if (root == NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "victims '%s' %s (read as JSON)", p->file,
                local->message);
    return FALSE;
  }
  entries = json_entries(p, root, error);
  p->text = text;
  p->cursor = 0;
  p->line = 1;
  for (guint k = 0; entries != NULL && k < entries->len; k++)
    json_entry(p, entries->pdata[k], k + 1);
  json_node_unref(root);
  return entries != NULL;
}
