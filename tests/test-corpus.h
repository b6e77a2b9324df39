/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests: one test per file of a corpus folder under tests/data. */
#pragma once

#include <string.h>

#include <glib.h>

static int
test_corpus_compare(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds PREFIX/NAME running @fn on NAME for every file of tests/data/SUBDIR
 * that @keep accepts, in name order; returns the names (they must outlive
 * g_test_run()). */
static inline GPtrArray *
test_corpus_add(const char *subdir, const char *prefix, gboolean (*keep)(const char *name),
                GTestDataFunc fn)
{
  g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "data", subdir, NULL);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  const char *name;

  g_assert_nonnull(d);
  while ((name = g_dir_read_name(d)) != NULL)
    if (keep(name))
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, test_corpus_compare);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *test = g_strdup_printf("%s/%s", prefix, (char *)names->pdata[i]);
    g_test_add_data_func(test, names->pdata[i], fn);
  }
  return names;
}
