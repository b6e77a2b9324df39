/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur web: serve messages to a browser, read-only (farceur-web(1),
 * data/doc/web.md).  The server is the library's FarceurWebServer; this
 * command parses the options, says where it listens, warns when that is
 * not loopback, and runs the main loop until SIGINT or SIGTERM. */
#include <signal.h>
#include <stdio.h>

#include <glib-unix.h>

#include "cli.h"
#include "cli-output.h"
#include "cli-status.h"
#include "commands.h"

static gboolean
web_quit_cb(gpointer data)
{
  g_main_loop_quit(data);
  return G_SOURCE_CONTINUE;
}

static void
web_print_warnings(FarceurWebServer *server)
{
  GPtrArray *warnings = farceur_web_server_get_warnings(server);

  for (guint i = 0; i < warnings->len; i++)
    g_printerr("farceur web: warning: %s\n", (char *)warnings->pdata[i]);
}

/* Says where it listens; %FALSE when standard output cannot say it. */
static gboolean
web_announce(FarceurWebServer *server)
{
  g_autofree char *url = farceur_web_server_get_url(server);
  guint count = farceur_web_server_get_count(server);

  if (!farceur_web_server_is_loopback(server))
    g_printerr("farceur web: warning: %s is not a loopback address: anyone who can reach it "
               "can read these messages\n",
               url);
  printf("farceur web: %u message%s at %s (Ctrl-C stops)\n", count, count == 1 ? "" : "s", url);
  return cli_output_flush_now();
}

static int
web_serve(FarceurWebServer *server)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  guint sigint, sigterm;

  /* before saying where: whoever reads that may stop it at once */
  sigint = g_unix_signal_add(SIGINT, web_quit_cb, loop);
  sigterm = g_unix_signal_add(SIGTERM, web_quit_cb, loop);
  if (web_announce(server))
    g_main_loop_run(loop);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  return 0; /* main reports standard output */
}

int
cli_cmd_web(int argc, char **argv)
{
  g_autofree char *listen = NULL;
  g_auto(GStrv) inputs = NULL;
  GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
      "Where to listen: IP:PORT, [IPv6]:PORT or localhost:PORT "
      "(default " FARCEUR_WEB_DEFAULT_ADDRESS
      "; port 0 picks a free one). An address that is not loopback "
      "lets other machines read the messages: a warning says so",
      "ADDR" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &inputs, NULL, NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) context
      = cli_context_new("web", "FILE|DIR|MBOX...",
                        "Serve messages to a browser, read-only: the list, each message with its "
                        "envelope beside\nits headers, its MIME tree and its trace.  New "
                        "messages appear as they arrive.");
  g_autoptr(FarceurWebServer) server = NULL;
  const char *const none[] = { NULL };
  GError *error = NULL;
  int status;

  g_option_context_add_main_entries(context, entries, NULL);
  if (!cli_parse(context, "web", &argc, &argv, &status))
    return status;
  server = farceur_web_server_new(inputs ? (const char *const *)inputs : none, NULL, &error);
  if (server == NULL)
    return cli_report_error("web", error);
  web_print_warnings(server);
  if (!farceur_web_server_listen(server, listen, &error))
    return cli_report_error("web", error);
  return web_serve(server);
}
