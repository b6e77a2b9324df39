/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur inspect: the MIME tree, headers, envelope and parts of messages
 * (farceur-inspect(1); data/doc/json.md, inspect --json). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli-output.h"
#include "cli-status.h"
#include "cli-term.h"
#include "commands.h"

typedef struct {
  gboolean json;
  gboolean headers;
  gboolean force;
  char *extract;
  char *part;
  char *shard_text;
  guint shard; /* --shard K/N: K, from 1; 0: every message */
  guint shards;
  char **inputs;
  FarceurInspectFormatFlags format;
  FarceurInspectExtractor *extractor;
  FarceurJsonWriter *writer; /* --json: reused from record to record */
  gboolean part_found;
  int status;
} InspectOptions;

static void
inspect_options_clear(InspectOptions *opts)
{
  g_free(opts->extract);
  g_free(opts->part);
  g_free(opts->shard_text);
  g_strfreev(opts->inputs);
  g_clear_pointer(&opts->extractor, farceur_inspect_extractor_free);
  g_clear_pointer(&opts->writer, farceur_json_writer_free);
}

static GOptionContext *
inspect_context_new(InspectOptions *opts)
{
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opts->json, "One JSON object per message per line", NULL },
    { "headers", 0, 0, G_OPTION_ARG_NONE, &opts->headers, "Also show every header, decoded", NULL },
    { "extract", 0, 0, G_OPTION_ARG_FILENAME, &opts->extract,
      "Write the leaf parts into DIR (created if missing)", "DIR" },
    { "part", 0, 0, G_OPTION_ARG_STRING, &opts->part,
      "Only part PATH (\"1.2\"): into DIR with --extract, else its decoded body on stdout",
      "PATH" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &opts->force, "Overwrite existing files in DIR", NULL },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &opts->shard_text,
      "Only the messages of shard K of N (by file name and mbox place), for N runs in parallel",
      "K/N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opts->inputs, NULL, NULL },
    { NULL },
  };
  GOptionContext *context
      = cli_context_new("inspect", "[FILE|DIR|MBOX|-]...",
                        "Show the MIME tree, headers, envelope and attachments of messages.");

  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_set_description(
      context, "Inputs: a message file, a Maildir, a folder of message files, an mbox, or - for\n"
               "stdin (the default).  Part paths are IMAP section numbers (RFC 3501), descending\n"
               "into message/rfc822.  Sizes and sha256 are of the body after transfer decoding.\n"
               "File names from messages are made safe: written parts never leave DIR and never\n"
               "overwrite a file unless --force (even then, never through a symbolic link).\n\n"
               "Exit status: 0 ok, 64 usage, 65 bad message or unknown part, 66 missing input,\n"
               "73 cannot create a file in DIR, 74 I/O error; the most serious one wins.");
  return context;
}

/* Reports a failure; the run goes on and exits with the most serious one. */
static void
inspect_fail(InspectOptions *opts, GError *error)
{
  opts->status = cli_status_worse(opts->status, cli_report_error("inspect", error));
}

/* --part without --extract: the decoded body alone on stdout. */
static void
inspect_part_to_stdout(InspectOptions *opts, const FarceurInspectPart *part)
{
  g_autoptr(GMimeStream) out = g_mime_stream_pipe_new(STDOUT_FILENO);
  GMimeDataWrapper *content;

  g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(out), FALSE);
  if (!GMIME_IS_PART(part->object)) {
    inspect_fail(opts,
                 g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "part %s is %s: use --extract DIR",
                             part->path, part->content_type));
    return;
  }
  content = g_mime_part_get_content(GMIME_PART(part->object));
  if (content
      && (g_mime_data_wrapper_write_to_stream(content, out) < 0 || g_mime_stream_flush(out) != 0))
    inspect_fail(opts, cli_output_error(errno));
}

static void
inspect_extract_one(InspectOptions *opts, const FarceurInspectMessage *msg,
                    const FarceurInspectPart *part, GString *report)
{
  GError *error = NULL;
  g_autofree char *name = farceur_inspect_extractor_write(opts->extractor, part, &error);

  if (name == NULL) {
    inspect_fail(opts, error);
    return;
  }
  if (opts->json)
    g_printerr("farceur inspect: extracted part %s of '%s' to '%s/%s'\n", part->path, msg->source,
               opts->extract, name);
  else
    g_string_append_printf(report, "  extracted %s to %s/%s\n", part->path, opts->extract, name);
}

static void
inspect_extract(InspectOptions *opts, const FarceurInspectMessage *msg, GString *report)
{
  for (guint i = 0; i < msg->parts->len; i++) {
    const FarceurInspectPart *part = msg->parts->pdata[i];

    if (part->kind != FARCEUR_INSPECT_LEAF || (opts->part && strcmp(part->path, opts->part) != 0))
      continue;
    opts->part_found = TRUE;
    inspect_extract_one(opts, msg, part, report);
  }
}

static void
inspect_show(InspectOptions *opts, const FarceurInspectMessage *msg, gboolean first)
{
  g_autoptr(GString) report = g_string_new(NULL);

  if (opts->extractor)
    inspect_extract(opts, msg, report);
  if (opts->json) {
    farceur_inspect_message_write_json(msg, opts->writer);
    cli_output_json_writer(opts->writer);
  } else {
    g_autofree char *text = farceur_inspect_message_format(msg, opts->format);

    printf("%s%s%s", first ? "" : "\n", text, report->str);
  }
}

static void
inspect_one(InspectOptions *opts, FarceurInputMessage *input, gboolean first)
{
  FarceurInspectFlags flags = opts->headers ? FARCEUR_INSPECT_HEADERS : FARCEUR_INSPECT_NONE;
  GError *error = NULL;
  g_autoptr(FarceurInspectMessage) msg = farceur_inspect_message(input, flags, &error);
  const FarceurInspectPart *part;

  if (msg == NULL) {
    inspect_fail(opts, error);
    return;
  }
  if (opts->part && opts->extractor == NULL) {
    if ((part = farceur_inspect_message_find_part(msg, opts->part)) != NULL) {
      opts->part_found = TRUE;
      inspect_part_to_stdout(opts, part);
    }
    return;
  }
  inspect_show(opts, msg, first);
}

static void
inspect_input(InspectOptions *opts, const char *arg, guint *count)
{
  GError *error = NULL;
  g_autoptr(FarceurInput) input = farceur_input_open(arg, &error);
  FarceurInputMessage *msg;

  if (input == NULL) {
    inspect_fail(opts, error);
    return;
  }
  if (opts->shards > 0)
    farceur_input_set_shard(input, opts->shard, opts->shards);
  for (;;) {
    msg = farceur_input_next(input, &error);
    if (msg == NULL && error == NULL)
      break;
    if (msg == NULL) {
      inspect_fail(opts, g_steal_pointer(&error));
      continue;
    }
    inspect_one(opts, msg, (*count)++ == 0);
    farceur_input_message_free(msg);
    cli_output_flush();
  }
}

static FarceurInspectFormatFlags
inspect_format_for_stdout(void)
{
  CliTermStyle style;

  cli_term_style(STDOUT_FILENO, NULL, &style, NULL);
  return FARCEUR_INSPECT_FORMAT_PLAIN | (style.colour ? FARCEUR_INSPECT_FORMAT_COLOUR : 0)
         | (style.glyphs ? FARCEUR_INSPECT_FORMAT_GLYPHS : 0);
}

static int
inspect_run(InspectOptions *opts)
{
  const char *const stdin_only[] = { "-", NULL };
  const char *const *inputs = opts->inputs ? (const char *const *)opts->inputs : stdin_only;
  GError *error = NULL;
  guint count = 0;

  if (opts->extract
      && (opts->extractor = farceur_inspect_extractor_new(opts->extract, opts->force, &error))
             == NULL)
    return cli_report_error("inspect", error);
  opts->format = inspect_format_for_stdout();
  if (opts->json)
    opts->writer = farceur_json_writer_new();
  for (gsize i = 0; inputs[i]; i++)
    inspect_input(opts, inputs[i], &count);
  if (opts->part && !opts->part_found)
    inspect_fail(opts, g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_DATA, "no part '%s' in any message",
                                   opts->part));
  return opts->status;
}

int
cli_cmd_inspect(int argc, char **argv)
{
  InspectOptions opts = { 0 };
  g_autoptr(GOptionContext) context = inspect_context_new(&opts);
  GError *error = NULL;
  int status;

  if (!cli_parse(context, "inspect", &argc, &argv, &status)) {
    inspect_options_clear(&opts);
    return status;
  }
  if (opts.force && !opts.extract) {
    inspect_options_clear(&opts);
    return cli_report_error(
        "inspect", g_error_new(FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "--force needs --extract DIR"));
  }
  if (opts.shard_text
      && !farceur_input_parse_shard(opts.shard_text, &opts.shard, &opts.shards, &error)) {
    inspect_options_clear(&opts);
    return cli_report_error("inspect", error);
  }
  status = inspect_run(&opts);
  inspect_options_clear(&opts);
  return status;
}
