/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: the lab's mock SMTP server (farceur-catch(1);
 * data/doc/catch.md).  Thin over FarceurCatchServer: options, what is
 * printed at start, one line (or JSON object) per message, the transcript
 * file, and SIGINT/SIGTERM. */
#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli-output.h"
#include "cli-status.h"
#include "cli-term.h"
#include "commands.h"

typedef struct {
  /* options */
  char **listen;
  char *to;
  char *hostname;
  gboolean lmtp;
  char *tls_cert;
  char *tls_key;
  char *users;
  gint64 max_size;
  int max_connections;
  int line_limit;
  double timeout;
  gboolean no_ehlo;
  char **fail;
  char **drop;
  char **delay;
  gint64 seed;
  gboolean seeded;
  gboolean json;
  char *transcript_path;
  int exit_after;
  char *color;
  char *web;

  /* run state */
  GPtrArray *rules;
  FILE *transcript;
  FarceurInspectFormatFlags format;
  GMainLoop *loop;
  FarceurCatchServer *server;
  FarceurWebServer *web_server;
  guint signals;
} CatchCli;

static void
catch_cli_clear(CatchCli *cli)
{
  g_strfreev(cli->listen);
  g_free(cli->to);
  g_free(cli->hostname);
  g_free(cli->tls_cert);
  g_free(cli->tls_key);
  g_free(cli->users);
  g_strfreev(cli->fail);
  g_strfreev(cli->drop);
  g_strfreev(cli->delay);
  g_free(cli->transcript_path);
  g_free(cli->color);
  g_free(cli->web);
  if (cli->rules)
    g_ptr_array_unref(cli->rules);
  if (cli->transcript)
    fclose(cli->transcript);
  farceur_web_server_free(cli->web_server);
  farceur_catch_server_free(cli->server);
  if (cli->loop)
    g_main_loop_unref(cli->loop);
}

static gboolean
catch_seed_cb(const char *name, const char *value, gpointer data, GError **error)
{
  CatchCli *cli = data;
  char *end = NULL;
  guint64 seed = g_ascii_strtoull(value, &end, 10);

  if (end == value || *end != '\0' || seed > G_MAXUINT32) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--seed '%s': expected a number from 0 to 4294967295", value);
    return FALSE;
  }
  cli->seed = (gint64)seed;
  cli->seeded = TRUE;
  return TRUE;
}

static GOptionContext *
catch_context(CatchCli *cli)
{
  const GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &cli->listen,
      "Listen on ADDR:PORT, [IPV6]:PORT or smtps://ADDR:PORT (implicit TLS); repeatable "
      "(default 127.0.0.1:2525); port 0 picks a free one",
      "ADDR:PORT" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &cli->to,
      "Store into maildir:DIR or mbox:FILE (default maildir:caught)", "URL" },
    { "hostname", 0, 0, G_OPTION_ARG_STRING, &cli->hostname,
      "Name in the greeting and the Received: fields (default: this host's)", "NAME" },
    { "lmtp", 0, 0, G_OPTION_ARG_NONE, &cli->lmtp,
      "Speak LMTP (RFC 2033): LHLO, one reply per recipient", NULL },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &cli->tls_cert,
      "PEM certificate for STARTTLS and smtps:// (default: a self-signed one made at start)",
      "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &cli->tls_key,
      "PEM private key of --tls-cert (default: in the same file)", "FILE" },
    { "users", 0, 0, G_OPTION_ARG_FILENAME, &cli->users,
      "AUTH accepts only the USER:PASSWORD (or USER:{CRYPT}HASH) lines of FILE (default: any)",
      "FILE" },
    { "max-size", 0, 0, G_OPTION_ARG_INT64, &cli->max_size,
      "SIZE limit in octets (default 10240000)", "BYTES" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &cli->max_connections,
      "Sessions at once; one more gets 421 (default 200)", "N" },
    { "line-limit", 0, 0, G_OPTION_ARG_INT, &cli->line_limit,
      "Longest line, CRLF included (default 1000, RFC 5321)", "OCTETS" },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &cli->timeout,
      "How long a client may stay silent (default 300, RFC 5321)", "SECONDS" },
    { "no-ehlo", 0, 0, G_OPTION_ARG_NONE, &cli->no_ehlo,
      "Refuse EHLO (502): clients must fall back to HELO, without extensions", NULL },
    { "fail", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cli->fail,
      "Failure injection: STAGE[:GLOB]=CODE[xN][@P%][ TEXT], e.g. 'rcpt:bad*=550', "
      "'mail=451x2', 'rcpt=450@10%' (repeatable; data/doc/catch.md)",
      "RULE" },
    { "drop", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cli->drop,
      "Close the connection without a reply: STAGE[:GLOB][=[xN][@P%]], e.g. 'after-dot', "
      "'mid-data' (repeatable)",
      "RULE" },
    { "delay", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cli->delay,
      "Wait before a reply: STAGE[:GLOB]=DURATION[xN][@P%], e.g. 'greeting=5s' (repeatable)",
      "RULE" },
    { "seed", 0, 0, G_OPTION_ARG_CALLBACK, catch_seed_cb,
      "Seed of the rules' random draws (default: chosen and printed)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &cli->json,
      "One JSON object per message on stdout (data/doc/json.md)", NULL },
    { "transcript", 0, 0, G_OPTION_ARG_FILENAME, &cli->transcript_path,
      "Write every session's dialogue to FILE (#N C:/S: lines; AUTH payloads hidden)", "FILE" },
    { "exit-after", 0, 0, G_OPTION_ARG_INT, &cli->exit_after,
      "Stop once N messages are stored (transactions in flight finish)", "N" },
    { "color", 0, 0, G_OPTION_ARG_STRING, &cli->color, "Colour the lines: auto, always, never",
      "WHEN" },
    { "web", 0, 0, G_OPTION_ARG_STRING, &cli->web,
      "Also show what is caught to a browser, as farceur web does, at ADDR:PORT "
      "(e.g. 127.0.0.1:8025; port 0 picks a free one); open pages hear of each new message",
      "ADDR:PORT" },
    { NULL },
  };
  GOptionContext *context = cli_context_new(
      "catch", "", "Receive mail as a mock SMTP server: store it with its envelope, show it.");
  GOptionGroup *group = g_option_group_new("catch", "", "", cli, NULL);

  g_option_group_add_entries(group, entries);
  g_option_context_set_main_group(context, group);
  g_option_context_set_description(
      context, "Listens on loopback unless told otherwise; never relays.  Ctrl-C or SIGTERM:\n"
               "transactions in flight finish, the other sessions get 421, exit 0.");
  return context;
}

/* ---- start ---- */

static gboolean
catch_add_rules(CatchCli *cli, FarceurCatchAction action, char **specs, GError **error)
{
  for (guint i = 0; specs && specs[i]; i++) {
    FarceurCatchRule *rule = farceur_catch_rule_parse(action, specs[i], error);
    if (rule == NULL)
      return FALSE;
    g_ptr_array_add(cli->rules, rule);
  }
  return TRUE;
}

static gboolean
catch_check_options(CatchCli *cli, int argc, GError **error)
{
  if (argc > 1) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "catch takes no arguments");
    return FALSE;
  }
  if (cli->max_size < 0 || cli->max_connections < 0 || cli->line_limit < 0 || cli->timeout < 0
      || cli->timeout > 86400 || cli->exit_after < 0) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE,
                        "--max-size, --max-connections, --line-limit, --timeout (up to a day) "
                        "and --exit-after must not be negative");
    return FALSE;
  }
  if (!cli_term_style(STDOUT_FILENO, cli->color, &(CliTermStyle){ 0 }, error))
    return FALSE;
  return catch_add_rules(cli, FARCEUR_CATCH_FAIL, cli->fail, error)
         && catch_add_rules(cli, FARCEUR_CATCH_DROP, cli->drop, error)
         && catch_add_rules(cli, FARCEUR_CATCH_DELAY, cli->delay, error);
}

static void
catch_transcript_cb(guint session, const char *line, gpointer user_data)
{
  CatchCli *cli = user_data;

  fprintf(cli->transcript, "#%u %s\n", session, line);
  fflush(cli->transcript);
}

static void
catch_message_cb(const FarceurCatchMessage *message, gpointer user_data)
{
  CatchCli *cli = user_data;

  if (cli->json) {
    cli_output_json(farceur_catch_message_to_json(message));
  } else {
    g_autofree char *line = farceur_catch_message_format(message, cli->format);
    puts(line);
  }
  cli_output_flush();
  if (cli->web_server != NULL)
    farceur_web_server_refresh(cli->web_server);
}

static void
catch_stopped_cb(gpointer user_data)
{
  CatchCli *cli = user_data;

  g_main_loop_quit(cli->loop);
}

static FarceurCatchServer *
catch_new_server(CatchCli *cli, GError **error)
{
  FarceurCatchOptions options;

  farceur_catch_options_init(&options);
  options.listen = (const char *const *)cli->listen;
  options.store = cli->to;
  options.hostname = cli->hostname;
  options.lmtp = cli->lmtp;
  options.tls_cert = cli->tls_cert;
  options.tls_key = cli->tls_key;
  options.users_file = cli->users;
  options.max_size = (guint64)cli->max_size;
  options.max_connections = (guint)cli->max_connections;
  options.line_limit = (guint)cli->line_limit;
  options.timeout_ms = (guint)(cli->timeout * 1000);
  options.no_ehlo = cli->no_ehlo;
  options.rules = cli->rules;
  options.seed = (guint32)cli->seed;
  options.exit_after = (guint)cli->exit_after;
  options.message_func = catch_message_cb;
  options.message_data = cli;
  options.transcript_func = cli->transcript ? catch_transcript_cb : NULL;
  options.transcript_data = cli;
  options.stopped_func = catch_stopped_cb;
  options.stopped_data = cli;
  return farceur_catch_server_new(&options, error);
}

/* What it listens on, where it stores, the certificate, the rules, the seed. */
static void
catch_print_start(CatchCli *cli)
{
  GPtrArray *addresses = farceur_catch_server_get_addresses(cli->server);

  for (guint i = 0; i < addresses->len; i++) {
    g_autoptr(FarceurTargetUrl) url = farceur_target_url_parse(addresses->pdata[i], NULL);
    g_printerr("farceur catch: listening on %s\n", (char *)addresses->pdata[i]);
    if (url != NULL && url->host != NULL && !farceur_target_host_is_loopback(url->host))
      g_printerr("farceur catch: warning: %s is not a loopback address: anyone who reaches it "
                 "can leave mail here (it is never relayed)\n",
                 url->host);
  }
  g_printerr("farceur catch: storing into %s\n", farceur_catch_server_describe_store(cli->server));
  g_printerr("farceur catch: TLS certificate %s, SHA-256 fingerprint %s\n",
             farceur_catch_server_is_self_signed(cli->server) ? "made at start (self-signed)"
                                                              : cli->tls_cert,
             farceur_catch_server_get_fingerprint(cli->server));
  if (cli->web_server != NULL) {
    g_autofree char *address = farceur_web_server_get_url(cli->web_server);
    g_printerr("farceur catch: showing what is caught at %s\n", address);
    if (!farceur_web_server_is_loopback(cli->web_server))
      g_printerr("farceur catch: warning: %s is not a loopback address: anyone who can reach "
                 "it can read these messages\n",
                 address);
  }
  g_printerr("farceur catch: AUTH accepts %s\n",
             cli->users ? "the users of --users" : "any user and password");
  for (guint i = 0; i < cli->rules->len; i++) {
    g_autofree char *text = farceur_catch_rule_describe(cli->rules->pdata[i]);
    g_printerr("farceur catch: rule %u: %s\n", i + 1, text);
  }
  if (cli->rules->len > 0)
    g_printerr("farceur catch: random draws seeded with %" G_GINT64_FORMAT
               " (--seed %" G_GINT64_FORMAT " replays them)\n",
               cli->seed, cli->seed);
  g_printerr("farceur catch: ready; Ctrl-C stops\n");
}

/* --web: a FarceurWebServer on the store, in the same main loop; it reads
 * what the catch server wrote (maildir:DIR or mbox:FILE). */
static gboolean
catch_start_web(CatchCli *cli, GError **error)
{
  g_autoptr(FarceurTargetUrl) url
      = farceur_target_url_parse(cli->to ? cli->to : FARCEUR_CATCH_DEFAULT_STORE, error);
  const char *inputs[2] = { NULL, NULL };

  if (url == NULL)
    return FALSE;
  inputs[0] = url->path;
  cli->web_server = farceur_web_server_new(inputs, NULL, error);
  if (cli->web_server == NULL || !farceur_web_server_listen(cli->web_server, cli->web, error))
    return FALSE;
  return TRUE;
}

/* ---- stop ---- */

static gboolean
catch_signal_cb(gpointer user_data)
{
  CatchCli *cli = user_data;

  if (++cli->signals == 1)
    g_printerr("farceur catch: stopping: transactions in flight finish (again: stop now)\n");
  farceur_catch_server_stop(cli->server, cli->signals > 1);
  return G_SOURCE_CONTINUE;
}

static void
catch_print_end(CatchCli *cli)
{
  guint stored = farceur_catch_server_get_stored(cli->server);

  for (guint i = 0; i < cli->rules->len; i++) {
    guint fired = farceur_catch_rule_get_fired(cli->rules->pdata[i]);
    g_printerr("farceur catch: rule %u acted %u time%s\n", i + 1, fired, fired == 1 ? "" : "s");
  }
  g_printerr("farceur catch: %u message%s stored\n", stored, stored == 1 ? "" : "s");
}

static int
catch_run(CatchCli *cli, int argc)
{
  GError *error = NULL;
  CliTermStyle style;
  guint sigint, sigterm;

  if (!catch_check_options(cli, argc, &error))
    return cli_report_error("catch", error);
  cli_term_style(STDOUT_FILENO, cli->color, &style, NULL);
  cli->format = style.colour ? FARCEUR_INSPECT_FORMAT_COLOUR : FARCEUR_INSPECT_FORMAT_PLAIN;
  if (!cli->seeded)
    cli->seed = g_random_int();
  if (cli->transcript_path && (cli->transcript = fopen(cli->transcript_path, "w")) == NULL) {
    g_set_error(&error, FARCEUR_ERROR, FARCEUR_ERROR_CANTCREAT, "transcript '%s': %s",
                cli->transcript_path, g_strerror(errno));
    return cli_report_error("catch", error);
  }
  if ((cli->server = catch_new_server(cli, &error)) == NULL
      || !farceur_catch_server_start(cli->server, NULL, &error)
      || (cli->web != NULL && !catch_start_web(cli, &error)))
    return cli_report_error("catch", error);
  cli->loop = g_main_loop_new(NULL, FALSE);
  sigint = g_unix_signal_add(SIGINT, catch_signal_cb, cli);
  sigterm = g_unix_signal_add(SIGTERM, catch_signal_cb, cli);
  catch_print_start(cli);
  g_main_loop_run(cli->loop);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  catch_print_end(cli);
  return 0;
}

int
cli_cmd_catch(int argc, char **argv)
{
  CatchCli cli = { 0 };
  g_autoptr(GOptionContext) context = catch_context(&cli);
  int status;

  cli.rules = g_ptr_array_new_with_free_func((GDestroyNotify)farceur_catch_rule_free);
  if (!cli_parse(context, "catch", &argc, &argv, &status)) {
    catch_cli_clear(&cli);
    return status;
  }
  status = catch_run(&cli, argc);
  catch_cli_clear(&cli);
  return status;
}
