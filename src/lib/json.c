/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: small JsonBuilder helpers shared by the --json outputs. */
#include "config.h"

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
