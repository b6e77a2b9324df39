/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur compose: render one template to a message (farceur-compose(1); data/doc/formats.md, Templates). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "cli.h"
#include "cli-status.h"
#include "commands.h"

typedef struct {
  char *from;
  char **to;
  char **cc;
  char **bcc;
  char **vars;
  char **attach;
  char *output;
  char *date;
  char *message_id;
  int index;
} ComposeOptions;

static void
compose_options_clear(ComposeOptions *opts)
{
  g_free(opts->from);
  g_strfreev(opts->to);
  g_strfreev(opts->cc);
  g_strfreev(opts->bcc);
  g_strfreev(opts->vars);
  g_strfreev(opts->attach);
  g_free(opts->output);
  g_free(opts->date);
  g_free(opts->message_id);
}

static GOptionContext *
compose_context_new(ComposeOptions *opts)
{
  const GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &opts->from, "Sender: binds {{sender.*}}", "ADDR" },
    { "to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts->to,
      "Recipient (repeatable): all bind {{recipients.*}}, the first {{recipient.*}}", "ADDR" },
    { "cc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts->cc, "Carbon copy (repeatable)", "ADDR" },
    { "bcc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts->bcc, "Blind copy (repeatable)", "ADDR" },
    { "var", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts->vars, "Set {{KEY}} (repeatable; wins)",
      "KEY=VALUE" },
    { "attach", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opts->attach, "Attach FILE (repeatable)",
      "FILE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opts->output, "Write to FILE, not stdout", "FILE" },
    { "index", 0, 0, G_OPTION_ARG_INT, &opts->index,
      "Message N (from 1) of a messages file or folder holding several", "N" },
    { "date", 0, 0, G_OPTION_ARG_STRING, &opts->date,
      "Fixed Date (ISO 8601 or RFC 5322); default $SOURCE_DATE_EPOCH, else now", "DATE" },
    { "message-id", 0, 0, G_OPTION_ARG_STRING, &opts->message_id,
      "Fixed Message-ID (without <>); also makes the boundaries reproducible", "ID" },
    { NULL },
  };
  GOptionContext *context = cli_context_new(
      "compose", "TEMPLATE",
      "Render one template (or one message of a lab messages file) to a MIME message.");

  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_set_description(
      context,
      "TEMPLATE is a .tmpl file, a folder of them, or a messages file (messages separated\n"
      "by '==' lines).  When it holds more than one message, --index N picks one.\n"
      "In a messages file the body may follow Subject without a blank line: there\n"
      "only well-known header names (From, To, Cc, Reply-To, Attach, Html, Priority,\n"
      "X-..., see template.c) continue the header block, so 'Note: ...' is body text.\n"
      "From/To/Cc headers in the template win over --from/--to/--cc.\n"
      "With --message-id and --date (or SOURCE_DATE_EPOCH) the output is byte-for-byte\n"
      "reproducible.\n\n"
      "Exit status: 0 ok, 64 usage, 65 bad template or value, 66 missing input,\n"
      "73 cannot create the output, 74 I/O error.");
  return context;
}

static gboolean G_GNUC_PRINTF(2, 3) compose_usage(GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, message);
  return FALSE;
}

static GHashTable *
compose_parse_vars(char **vars, GError **error)
{
  g_autoptr(GHashTable) table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

  if (!cli_parse_vars(vars, table, error))
    return NULL;
  return g_steal_pointer(&table);
}

/* --date, else $SOURCE_DATE_EPOCH (reproducible-builds.org), else NULL: now. */
static gboolean
compose_parse_date(const char *text, GDateTime **date, GError **error)
{
  const char *epoch = g_getenv("SOURCE_DATE_EPOCH");

  if (text == NULL && epoch != NULL && *epoch) {
    char *end = NULL;
    gint64 secs = g_ascii_strtoll(epoch, &end, 10);
    if (*end != '\0')
      return compose_usage(error, "bad SOURCE_DATE_EPOCH '%s': expected seconds", epoch);
    *date = g_date_time_new_from_unix_utc(secs);
    return *date != NULL || compose_usage(error, "bad SOURCE_DATE_EPOCH '%s'", epoch);
  }
  if (text == NULL)
    return TRUE;
  *date = g_date_time_new_from_iso8601(text, NULL);
  if (*date == NULL)
    *date = g_mime_utils_header_decode_date(text);
  return *date != NULL
         || compose_usage(error, "bad --date '%s': expected ISO 8601 or RFC 5322", text);
}

static FarceurTemplate *
compose_pick(GPtrArray *all, const char *path, int index, GError **error)
{
  if (index == 0 && all->len == 1)
    return g_ptr_array_steal_index(all, 0);
  if (index == 0) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "'%s' holds %u messages: choose one with --index 1..%u", path, all->len, all->len);
    return NULL;
  }
  if (index < 0 || (guint)index > all->len) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                "--index %d out of range: '%s' holds %u message(s)", index, path, all->len);
    return NULL;
  }
  return g_ptr_array_steal_index(all, index - 1);
}

static GMimeStream *
compose_open_output(const char *path, GError **error)
{
  int fd;

  if (path == NULL || strcmp(path, "-") == 0) {
    /* a pipe stream: stdout may be a pipe, where GMimeStreamFs's seeks fail */
    GMimeStream *out = g_mime_stream_pipe_new(1);
    g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(out), FALSE);
    return out;
  }
  fd = g_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    g_autofree char *why = g_strdup(g_strerror(errno));
    why[0] = g_ascii_tolower(why[0]); /* house style: lower case */
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT, "cannot create '%s': %s", path, why);
    return NULL;
  }
  /* written front to back: a pipe stream (no seeks; flush is not fsync) */
  return g_mime_stream_pipe_new(fd);
}

/* A half-written output file is removed (a device such as /dev/full is not). */
static void
compose_remove_partial(const char *path)
{
  if (path != NULL && strcmp(path, "-") != 0 && g_file_test(path, G_FILE_TEST_IS_REGULAR)
      && !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
    g_unlink(path);
}

static gboolean
compose_run(ComposeOptions *opts, const char *path, GError **error)
{
  g_autoptr(GHashTable) vars = compose_parse_vars(opts->vars, error);
  g_autoptr(GDateTime) date = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(FarceurTemplate) tmpl = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GMimeStream) out = NULL;

  if (vars == NULL || !compose_parse_date(opts->date, &date, error))
    return FALSE;
  all = farceur_template_load_all(path, error);
  if (all == NULL || (tmpl = compose_pick(all, path, opts->index, error)) == NULL)
    return FALSE;
  FarceurComposeRequest request = {
    .from = opts->from,
    .to = (const char *const *)opts->to,
    .cc = (const char *const *)opts->cc,
    .bcc = (const char *const *)opts->bcc,
    .attach = (const char *const *)opts->attach,
    .vars = vars,
    .date = date,
    .message_id = opts->message_id,
  };
  message = farceur_compose_message(tmpl, &request, error);
  if (message == NULL || (out = compose_open_output(opts->output, error)) == NULL)
    return FALSE;
  if (farceur_compose_write_message(GMIME_OBJECT(message), out, error))
    return TRUE;
  compose_remove_partial(opts->output);
  return FALSE;
}

int
cli_cmd_compose(int argc, char **argv)
{
  ComposeOptions opts = { 0 };
  g_autoptr(GOptionContext) context = compose_context_new(&opts);
  GError *error = NULL;
  gboolean ok;
  int status;

  if (!cli_parse(context, "compose", &argc, &argv, &status)) {
    compose_options_clear(&opts);
    return status;
  }
  if (argc != 2) {
    compose_options_clear(&opts);
    g_set_error_literal(&error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                        "expected one TEMPLATE (see farceur compose --help)");
    return cli_report_error("compose", error);
  }
  ok = compose_run(&opts, argv[1], &error);
  compose_options_clear(&opts);
  return ok ? 0 : cli_report_error("compose", error);
}
