/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A scripted SMTP server for tests: a GThreadedSocketService on
 * 127.0.0.1:0 that plays a fixed list of replies and records what the
 * client sent, so a test can assert the exact client transcript.
 *
 * Each step reads one client unit (a command line, or after a 354 reply
 * the message up to its terminating ".") and then sends its reply; the
 * first step reads nothing (its reply is the greeting).  The transcript
 * has one line per unit: "C: <line>" when the server had to wait for it,
 * "C+ <line>" when it was already buffered with the previous one (what
 * PIPELINING looks like), "C: <data>" for a message, and markers in
 * brackets for what should not happen ("[early data]", "[bare LF]"). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  SCRIPTED_CLOSE = 1 << 0,        /* close the connection after this step's reply */
  SCRIPTED_HANG = 1 << 1,         /* send nothing; wait until the client closes */
  SCRIPTED_CHECK_IDLE = 1 << 2,   /* wait 300 ms before replying; note any client byte */
  SCRIPTED_DROP_IN_DATA = 1 << 3, /* after this 354, read 64 KB of content and close */
} ScriptedFlags;

typedef struct {
  const char *reply; /* sent verbatim; NULL: nothing */
  ScriptedFlags flags;
} ScriptedStep;

typedef struct _ScriptedServer ScriptedServer;

ScriptedServer *scripted_server_new(const ScriptedStep *steps, gsize n_steps);
GSocketConnectable *scripted_server_get_address(ScriptedServer *server);
guint16 scripted_server_get_port(ScriptedServer *server);
const char *scripted_server_wait(ScriptedServer *server);
GBytes *scripted_server_get_message(ScriptedServer *server, guint index);
guint scripted_server_get_n_messages(ScriptedServer *server);
void scripted_server_free(ScriptedServer *server);

GBytes *scripted_server_unstuff(GBytes *wire);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScriptedServer, scripted_server_free)

G_END_DECLS
