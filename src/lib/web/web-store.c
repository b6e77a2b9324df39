/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the messages the web view serves, kept up to date.
 *
 * Each input (a Maildir, a folder, an mbox, a file) is listed by
 * farceur_input_list(), the one home of what an input holds; each file
 * listed is read once, and again only when its size or modification time
 * changes.  A message is kept as where it is stored (file, start, end) and
 * its list row, never as a parsed message: a page reads it again
 * (farceur_input_read_range()).  GFileMonitors on the input, and on the
 * folders new/ and cur/ where a Maildir's messages arrive, trigger a new
 * listing shortly after anything changes there.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include <farceur/error.h>
#include "error-text.h"
#include "web-private.h"

#define WEB_STORE_SETTLE_MS 150 /* a burst of file events, one new listing */
#define WEB_STORE_MAX_WARNINGS 64

typedef struct {
  WebStore *store;
  char *arg;
  GPtrArray *monitors; /* (element-type GFileMonitor) */
  GSource *pending;    /* a listing due soon */
} WebInput;

/* A file as it was when it was read, and the messages it held. */
typedef struct {
  WebInput *input;
  gint64 mtime_us;
  gint64 size;
  GPtrArray *ids; /* (element-type utf8) */
} WebFile;

struct _WebStore {
  GMainContext *context;
  GPtrArray *inputs;   /* (element-type WebInput) */
  GHashTable *entries; /* id -> WebEntry */
  GHashTable *files;   /* path -> WebFile */
  GPtrArray *rows;     /* (nullable) sorted rows, rebuilt on demand */
  GPtrArray *warnings; /* (element-type utf8) */
  WebStoreChanged changed;
  gpointer data;
};

static void
web_store_entry_free(gpointer data)
{
  WebEntry *entry = data;

  g_free(entry->id);
  g_free(entry->path);
  g_free(entry->source);
  farceur_web_row_free(entry->row);
  g_free(entry);
}

static void
web_store_file_free(gpointer data)
{
  WebFile *file = data;

  g_ptr_array_unref(file->ids);
  g_free(file);
}

static void
web_store_warn(WebStore *store, const char *text)
{
  for (guint i = 0; i < store->warnings->len; i++)
    if (strcmp(store->warnings->pdata[i], text) == 0)
      return;
  if (store->warnings->len == WEB_STORE_MAX_WARNINGS)
    g_ptr_array_add(store->warnings, g_strdup("further warnings omitted"));
  if (store->warnings->len < WEB_STORE_MAX_WARNINGS)
    g_ptr_array_add(store->warnings, g_strdup(text));
}

/* ---- reading files --------------------------------------------------------- */

/* Forgets the messages of @path; returns their arrival times by id, so that
 * a message still there after a new reading keeps its place in the list. */
static GHashTable *
web_store_forget_file(WebStore *store, const char *path)
{
  GHashTable *arrived = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  WebFile *file = g_hash_table_lookup(store->files, path);

  for (guint i = 0; file != NULL && i < file->ids->len; i++) {
    const char *id = file->ids->pdata[i];
    WebEntry *entry = g_hash_table_lookup(store->entries, id);

    if (entry == NULL)
      continue;
    g_hash_table_insert(arrived, g_strdup(id), g_memdup2(&entry->row->arrived, sizeof(gint64)));
    g_hash_table_remove(store->entries, id);
  }
  g_hash_table_remove(store->files, path);
  return arrived;
}

static void
web_store_add(WebStore *store, WebFile *file, FarceurInputMessage *msg, GHashTable *arrived)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurInspectMessage) inspect = NULL;
  WebEntry *entry;
  gint64 *before;

  inspect = farceur_inspect_message(msg, FARCEUR_INSPECT_NO_DIGESTS, &error);
  if (inspect == NULL) {
    web_store_warn(store, error->message);
    return;
  }
  entry = g_new0(WebEntry, 1);
  entry->path = g_strdup(msg->path);
  entry->source = g_strdup(msg->source);
  entry->index = msg->index;
  entry->start = msg->stored->bound_start;
  entry->end = msg->stored->bound_end;
  entry->id = farceur_web_id(entry->path, entry->index, entry->start);
  entry->row = farceur_web_row_new(inspect, entry->id);
  before = g_hash_table_lookup(arrived, entry->id);
  entry->row->arrived = before ? *before : file->mtime_us;
  g_ptr_array_add(file->ids, g_strdup(entry->id));
  g_hash_table_replace(store->entries, entry->id, entry);
}

static void
web_store_read_file(WebStore *store, WebInput *input, const char *path, const GStatBuf *st)
{
  g_autoptr(GHashTable) arrived = web_store_forget_file(store, path);
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurInput) reader = farceur_input_open(path, &error);
  WebFile *file = g_new0(WebFile, 1);
  FarceurInputMessage *msg;

  file->input = input;
  file->mtime_us = (gint64)st->st_mtim.tv_sec * G_USEC_PER_SEC + st->st_mtim.tv_nsec / 1000;
  file->size = st->st_size;
  file->ids = g_ptr_array_new_with_free_func(g_free);
  g_hash_table_replace(store->files, g_strdup(path), file);
  while (reader != NULL && ((msg = farceur_input_next(reader, &error)) != NULL || error != NULL)) {
    if (msg == NULL) {
      web_store_warn(store, error->message);
      g_clear_error(&error);
      continue;
    }
    web_store_add(store, file, msg, arrived);
    farceur_input_message_free(msg);
  }
  if (reader == NULL)
    web_store_warn(store, error->message);
}

/* Reads the files of @listed that are new or changed; returns whether any was. */
static gboolean
web_store_read_listed(WebStore *store, WebInput *input, GPtrArray *listed)
{
  gboolean changed = FALSE;

  for (guint i = 0; i < listed->len; i++) {
    const char *path = listed->pdata[i];
    WebFile *file = g_hash_table_lookup(store->files, path);
    GStatBuf st;

    if (g_stat(path, &st) != 0)
      continue; /* gone since it was listed: the next listing forgets it */
    if (file != NULL && file->size == st.st_size
        && file->mtime_us == (gint64)st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000)
      continue;
    web_store_read_file(store, input, path, &st);
    changed = TRUE;
  }
  return changed;
}

/* Forgets the files of @input it no longer lists; returns whether any. */
static gboolean
web_store_forget_unlisted(WebStore *store, WebInput *input, GPtrArray *listed)
{
  g_autoptr(GHashTable) present = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
  GHashTableIter iter;
  gpointer path, file;

  for (guint i = 0; i < listed->len; i++)
    g_hash_table_add(present, listed->pdata[i]);
  g_hash_table_iter_init(&iter, store->files);
  while (g_hash_table_iter_next(&iter, &path, &file))
    if (((WebFile *)file)->input == input && !g_hash_table_contains(present, path))
      g_ptr_array_add(gone, g_strdup(path));
  for (guint i = 0; i < gone->len; i++)
    g_hash_table_unref(web_store_forget_file(store, gone->pdata[i]));
  return gone->len > 0;
}

/* Lists @input again; returns whether its messages changed. */
static gboolean
web_store_scan(WebStore *store, WebInput *input)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) listed = farceur_input_list(input->arg, &error);
  gboolean changed;

  if (listed == NULL) {
    web_store_warn(store, error->message);
    listed = g_ptr_array_new_with_free_func(g_free); /* it went: forget its files */
  }
  changed = web_store_forget_unlisted(store, input, listed);
  changed |= web_store_read_listed(store, input, listed);
  if (changed)
    g_clear_pointer(&store->rows, g_ptr_array_unref);
  return changed;
}

/* ---- watching ---------------------------------------------------------------- */

static gboolean
web_store_settled_cb(gpointer data)
{
  WebInput *input = data;
  WebStore *store = input->store;

  g_clear_pointer(&input->pending, g_source_unref);
  if (web_store_scan(store, input) && store->changed != NULL)
    store->changed(store->data);
  return G_SOURCE_REMOVE;
}

static void
web_store_changed_cb(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                     gpointer data)
{
  WebInput *input = data;

  if (input->pending != NULL || event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED)
    return;
  input->pending = g_timeout_source_new(WEB_STORE_SETTLE_MS);
  g_source_set_callback(input->pending, web_store_settled_cb, input, NULL);
  g_source_attach(input->pending, input->store->context);
}

static void
web_store_monitor(WebInput *input, const char *path, gboolean folder)
{
  g_autoptr(GFile) file = g_file_new_for_path(path);
  g_autoptr(GError) error = NULL;
  GFileMonitor *monitor;

  if (folder)
    monitor = g_file_monitor_directory(file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  else
    monitor = g_file_monitor_file(file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (monitor == NULL) {
    g_autofree char *text = g_strdup_printf("cannot watch '%s': %s", path, error->message);

    web_store_warn(input->store, text);
    return;
  }
  g_signal_connect(monitor, "changed", G_CALLBACK(web_store_changed_cb), input);
  g_ptr_array_add(input->monitors, monitor);
}

/* The input itself, and for a folder its new/ and cur/ when it has them
 * (where a Maildir's messages arrive; what they hold is still decided by
 * farceur_input_list()).  Monitors report to the thread-default context
 * of their creation: the store's. */
static void
web_store_watch(WebStore *store, WebInput *input)
{
  static const char *const maildir[] = { "new", "cur" };
  gboolean folder = g_file_test(input->arg, G_FILE_TEST_IS_DIR);

  g_main_context_push_thread_default(store->context);
  web_store_monitor(input, input->arg, folder);
  for (gsize i = 0; folder && i < G_N_ELEMENTS(maildir); i++) {
    g_autofree char *sub = g_build_filename(input->arg, maildir[i], NULL);

    if (g_file_test(sub, G_FILE_TEST_IS_DIR))
      web_store_monitor(input, sub, TRUE);
  }
  g_main_context_pop_thread_default(store->context);
}

/* ---- the store --------------------------------------------------------------- */

static void
web_store_input_free(gpointer data)
{
  WebInput *input = data;

  for (guint i = 0; i < input->monitors->len; i++) {
    g_signal_handlers_disconnect_by_data(input->monitors->pdata[i], input);
    g_file_monitor_cancel(input->monitors->pdata[i]);
  }
  g_ptr_array_unref(input->monitors);
  if (input->pending != NULL) {
    g_source_destroy(input->pending);
    g_source_unref(input->pending);
  }
  g_free(input->arg);
  g_free(input);
}

/**
 * web_store_new:
 * @inputs: (array zero-terminated=1): Maildirs, folders, mboxes, files
 * @context: the main context the monitors report to
 * @changed: (nullable): called from @context when messages came or went
 * @data: for @changed
 * @error: FARCEUR_ERROR_NOINPUT when an input does not exist, FARCEUR_ERROR_USAGE
 *   for standard input
 *
 * Reads every input and starts watching them.  A file that cannot be read
 * is a warning (web_store_warnings()), not an error.
 *
 * Returns: (transfer full) (nullable): the store
 */
WebStore *
web_store_new(const char *const *inputs, GMainContext *context, WebStoreChanged changed,
              gpointer data, GError **error)
{
  WebStore *store = g_new0(WebStore, 1);

  store->context = g_main_context_ref(context);
  store->inputs = g_ptr_array_new_with_free_func(web_store_input_free);
  store->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, web_store_entry_free);
  store->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, web_store_file_free);
  store->warnings = g_ptr_array_new_with_free_func(g_free);
  store->changed = changed;
  store->data = data;
  for (guint i = 0; inputs[i] != NULL; i++) {
    WebInput *input;
    GStatBuf st;

    if (strcmp(inputs[i], "-") == 0) {
      g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                  "standard input cannot be served: give a Maildir, an mbox or a folder");
      web_store_free(store);
      return NULL;
    }
    if (g_stat(inputs[i], &st) != 0) {
      farceur_set_errno_error(error, FARCEUR_ERROR_NOINPUT, errno, "cannot read input '%s'",
                              inputs[i]);
      web_store_free(store);
      return NULL;
    }
    input = g_new0(WebInput, 1);
    input->store = store;
    input->arg = g_strdup(inputs[i]);
    input->monitors = g_ptr_array_new_with_free_func(g_object_unref);
    g_ptr_array_add(store->inputs, input);
    web_store_watch(store, input);
    web_store_scan(store, input);
  }
  return store;
}

void
web_store_free(WebStore *store)
{
  if (store == NULL)
    return;
  g_ptr_array_unref(store->inputs);
  g_hash_table_unref(store->entries);
  g_hash_table_unref(store->files);
  g_clear_pointer(&store->rows, g_ptr_array_unref);
  g_ptr_array_unref(store->warnings);
  g_main_context_unref(store->context);
  g_free(store);
}

/* Newest first: latest arrival, then (same time) the later name, then
 * the later message of an mbox. */
static int
web_store_compare_entries(gconstpointer a, gconstpointer b)
{
  const WebEntry *x = *(WebEntry *const *)a;
  const WebEntry *y = *(WebEntry *const *)b;
  int names;

  if (x->row->arrived != y->row->arrived)
    return x->row->arrived < y->row->arrived ? 1 : -1;
  if ((names = strcmp(y->path, x->path)) != 0)
    return names;
  return x->index < y->index ? 1 : x->index > y->index ? -1 : 0;
}

/* (transfer none) (element-type FarceurWebRow): every message, newest first. */
GPtrArray *
web_store_rows(WebStore *store)
{
  g_autoptr(GPtrArray) entries = NULL;
  GHashTableIter iter;
  gpointer entry;

  if (store->rows != NULL)
    return store->rows;
  entries = g_ptr_array_sized_new(g_hash_table_size(store->entries));
  g_hash_table_iter_init(&iter, store->entries);
  while (g_hash_table_iter_next(&iter, NULL, &entry))
    g_ptr_array_add(entries, entry);
  g_ptr_array_sort(entries, web_store_compare_entries);
  store->rows = g_ptr_array_sized_new(entries->len);
  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add(store->rows, ((WebEntry *)entries->pdata[i])->row);
  return store->rows;
}

const WebEntry *
web_store_lookup(WebStore *store, const char *id)
{
  return g_hash_table_lookup(store->entries, id);
}

FarceurInputMessage *
web_store_read(WebStore *store, const WebEntry *entry, GError **error)
{
  return farceur_input_read_range(entry->path, entry->start, entry->end, entry->source,
                                  entry->index, error);
}

/* Lists every input again now; tells the caller when something changed. */
void
web_store_rescan(WebStore *store)
{
  gboolean changed = FALSE;

  for (guint i = 0; i < store->inputs->len; i++)
    changed |= web_store_scan(store, store->inputs->pdata[i]);
  if (changed && store->changed != NULL)
    store->changed(store->data);
}

/* The octets of @entry as stored, not parsed. */
GMimeStream *
web_store_open_raw(WebStore *store, const WebEntry *entry, GError **error)
{
  return farceur_input_open_range(entry->path, entry->start, entry->end, error);
}

GPtrArray *
web_store_warnings(WebStore *store)
{
  return store->warnings;
}

guint
web_store_count(WebStore *store)
{
  return g_hash_table_size(store->entries);
}
