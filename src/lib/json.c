/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: small JsonBuilder helpers shared by the --json outputs, and the
 * lists of the JSON input files people write (json-lenient.c parses them). */
#include "config.h"

#include <string.h>

#include <farceur/json.h>

/**
 * farceur_json_add_string_member:
 * @builder: a builder inside an object
 * @name: the member's name
 * @value: (nullable): its value; %NULL becomes JSON null
 */
void
farceur_json_add_string_member(JsonBuilder *builder, const char *name, const char *value)
{
  g_return_if_fail(JSON_IS_BUILDER(builder));
  g_return_if_fail(name != NULL);

  json_builder_set_member_name(builder, name);
  if (value != NULL)
    json_builder_add_string_value(builder, value);
  else
    json_builder_add_null_value(builder);
}

/**
 * farceur_json_add_strings_member:
 * @builder: a builder inside an object
 * @name: the member's name
 * @values: (nullable) (element-type utf8): its values; %NULL is an empty array
 */
void
farceur_json_add_strings_member(JsonBuilder *builder, const char *name, GPtrArray *values)
{
  g_return_if_fail(JSON_IS_BUILDER(builder));
  g_return_if_fail(name != NULL);

  json_builder_set_member_name(builder, name);
  json_builder_begin_array(builder);
  for (guint i = 0; values != NULL && i < values->len; i++)
    json_builder_add_string_value(builder, values->pdata[i]);
  json_builder_end_array(builder);
}

/* ---- lists in the JSON people wrote ---- */

/**
 * farceur_json_elements:
 * @node: an array or an object
 *
 * Returns: (transfer container) (element-type JsonNode): an array's
 *   elements, or an object's member values in file order
 */
GPtrArray *
farceur_json_elements(JsonNode *node)
{
  GPtrArray *out = g_ptr_array_new();

  g_return_val_if_fail(node != NULL, out);
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    JsonArray *array = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(array); i++)
      g_ptr_array_add(out, json_array_get_element(array, i));
  } else if (JSON_NODE_HOLDS_OBJECT(node)) {
    JsonObject *object = json_node_get_object(node);
    g_autoptr(GList) members = json_object_get_members(object);
    for (GList *m = members; m != NULL; m = m->next)
      g_ptr_array_add(out, json_object_get_member(object, m->data));
  }
  return out;
}

/**
 * farceur_json_pick_member:
 * @object: a top-level object
 * @holds: whether a member's value is the kind of list wanted
 * @words: (array zero-terminated=1): words a member's name may hold to be
 *   chosen among several ("message", "victim")
 *
 * Which member holds the list: the only one @holds accepts, else the first
 * whose name holds one of @words (without case).
 *
 * Returns: (transfer none) (nullable): its name
 */
const char *
farceur_json_pick_member(JsonObject *object, gboolean (*holds)(JsonNode *node),
                         const char *const *words)
{
  g_autoptr(GList) members = NULL;
  const char *only = NULL;
  guint candidates = 0;

  g_return_val_if_fail(object != NULL && holds != NULL && words != NULL, NULL);
  members = json_object_get_members(object);
  for (GList *m = members; m != NULL; m = m->next)
    if (holds(json_object_get_member(object, m->data)))
      only = m->data, candidates++;
  if (candidates == 1)
    return only;
  for (GList *m = members; m != NULL; m = m->next) {
    g_autofree char *lower = g_ascii_strdown(m->data, -1);
    for (gsize w = 0; words[w] != NULL; w++)
      if (strstr(lower, words[w]) && holds(json_object_get_member(object, m->data)))
        return m->data;
  }
  return NULL;
}
