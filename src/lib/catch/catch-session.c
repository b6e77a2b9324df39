/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: the session's commands, outside a mail transaction: the
 * greeting, EHLO/HELO/LHLO and the extensions offered, STARTTLS, RSET,
 * NOOP, VRFY, EXPN, HELP and QUIT (RFC 5321 4.1, RFC 3207, RFC 2033). */
#include "config.h"

#include <string.h>

#include "catch-private.h"

/* --- the greeting ---------------------------------------------------------- */

static void
catch_session_greet_now(CatchSession *session)
{
  FarceurCatchServer *server = session->server;
  const char *const ip = session->client_ip;

  catch_io_set_state(session, CATCH_STATE_COMMAND);
  if (catch_io_fail_rule(session, FARCEUR_CATCH_STAGE_GREETING, &ip, 1)) {
    session->refused = TRUE; /* RFC 5321 3.1: only QUIT from here on */
    return;
  }
  catch_io_reply(session, 220, NULL, "%s %s farceur catch", server->hostname,
                 server->lmtp ? "LMTP" : "ESMTP");
}

/* --drop, --delay and --fail rules of the greeting act on the client's address. */
static void
catch_session_greet(CatchSession *session)
{
  const char *const ip = session->client_ip;
  FarceurCatchRule *rule;

  if (catch_io_rule(session, FARCEUR_CATCH_DROP, FARCEUR_CATCH_STAGE_GREETING, &ip, 1) != NULL)
    catch_io_drop(session, "a --drop rule");
  else if ((rule
            = catch_io_rule(session, FARCEUR_CATCH_DELAY, FARCEUR_CATCH_STAGE_GREETING, &ip, 1))
           != NULL)
    catch_io_wait(session, rule->delay_ms, catch_session_greet_now);
  else
    catch_session_greet_now(session);
}

/* --- EHLO, HELO, LHLO ------------------------------------------------------ */

static void
catch_session_extensions(CatchSession *session, const char *helo)
{
  FarceurCatchServer *server = session->server;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

  g_ptr_array_add(lines, g_strdup_printf("%s greets %s", server->hostname, helo));
  g_ptr_array_add(lines, g_strdup("PIPELINING"));
  g_ptr_array_add(lines, g_strdup_printf("SIZE %" G_GUINT64_FORMAT, server->max_size));
  g_ptr_array_add(lines, g_strdup("8BITMIME"));
  g_ptr_array_add(lines, g_strdup("SMTPUTF8"));
  g_ptr_array_add(lines, g_strdup("ENHANCEDSTATUSCODES"));
  if (session->tls_version == NULL)
    g_ptr_array_add(lines, g_strdup("STARTTLS"));
  if (session->user == NULL)
    g_ptr_array_add(lines, g_strdup("AUTH PLAIN LOGIN"));
  catch_io_reply_lines(session, 250, lines);
}

/* The greeting verb this server takes: LHLO for LMTP, EHLO (unless
 * --no-ehlo) and HELO otherwise; NULL when @verb is one. */
static const char *
catch_session_wrong_greeting(CatchSession *session, CatchVerb verb)
{
  FarceurCatchServer *server = session->server;

  if (server->lmtp)
    return verb == CATCH_VERB_LHLO ? NULL : "Error: this is an LMTP server: use LHLO";
  if (verb == CATCH_VERB_LHLO)
    return "Error: this is an SMTP server: use EHLO or HELO";
  if (verb == CATCH_VERB_EHLO && server->no_ehlo)
    return "Error: EHLO not implemented here (--no-ehlo): use HELO";
  return NULL;
}

static void
catch_session_hello(CatchSession *session, CatchCommand *command)
{
  const char *wrong = catch_session_wrong_greeting(session, command->verb);
  const char *const name = command->arg;

  if (wrong != NULL) {
    catch_io_error_reply(session, session->server->no_ehlo ? 502 : 500, "5.5.1", wrong);
    return;
  }
  if (!catch_command_helo_is_valid(command->arg)) {
    g_autofree char *text = g_strdup_printf("syntax: %s domain-or-[address]", command->name);
    catch_io_error_reply(session, 501, "5.5.4", text);
    return;
  }
  if (catch_io_fail_rule(session, FARCEUR_CATCH_STAGE_HELO, &name, 1))
    return;
  session->server->handlers.end_tx(session); /* RFC 5321 4.1.4: as RSET */
  g_free(session->helo);
  session->helo = g_strdup(command->arg);
  session->esmtp = command->verb != CATCH_VERB_HELO;
  if (session->esmtp)
    catch_session_extensions(session, command->arg);
  else
    catch_io_reply(session, 250, NULL, "%s", session->server->hostname);
}

/* --- STARTTLS -------------------------------------------------------------- */

/* Whatever came in clear after STARTTLS is thrown away, never read as
 * commands of the encrypted session (CVE-2011-0411), as Postfix does. */
static void
catch_session_starttls(CatchSession *session, CatchCommand *command)
{
  gsize discarded;

  if (command->arg != NULL) {
    catch_io_error_reply(session, 501, "5.5.4", "syntax: STARTTLS");
    return;
  }
  if (session->tls_version != NULL || !session->esmtp) {
    catch_io_error_reply(session, 503, "5.5.1",
                         session->tls_version ? "Error: TLS is already active"
                                              : "Error: send EHLO first");
    return;
  }
  if ((discarded = catch_io_discard_input(session)) > 0)
    catch_io_transcript(session,
                        "* %" G_GSIZE_FORMAT " octets sent in clear after STARTTLS discarded "
                        "(CVE-2011-0411)",
                        discarded);
  catch_io_reply(session, 220, "2.0.0", "Ready to start TLS");
  catch_io_start_tls(session);
}

/* After STARTTLS the session starts again: EHLO, as if nothing was said. */
static void
catch_session_tls_up(CatchSession *session)
{
  session->server->handlers.end_tx(session);
  g_clear_pointer(&session->helo, g_free);
  g_clear_pointer(&session->user, g_free);
  session->esmtp = FALSE;
}

/* --- the rest -------------------------------------------------------------- */

static gboolean
catch_session_no_arg(CatchSession *session, CatchCommand *command)
{
  g_autofree char *text = NULL;

  if (command->arg == NULL)
    return TRUE;
  text = g_strdup_printf("syntax: %s", command->name);
  catch_io_error_reply(session, 501, "5.5.4", text);
  return FALSE;
}

static void
catch_session_rset(CatchSession *session, CatchCommand *command)
{
  if (!catch_session_no_arg(session, command))
    return;
  session->server->handlers.end_tx(session);
  catch_io_reply(session, 250, "2.0.0", "Ok");
}

static void
catch_session_noop(CatchSession *session, CatchCommand *command)
{
  catch_io_reply(session, 250, "2.0.0", "Ok");
}

static void
catch_session_vrfy(CatchSession *session, CatchCommand *command)
{
  if (command->arg == NULL) {
    catch_io_error_reply(session, 501, "5.5.4", "syntax: VRFY address");
    return;
  }
  catch_io_reply(session, 252, "2.0.0",
                 "Cannot VRFY user, but will accept message and attempt "
                 "delivery");
}

static void
catch_session_expn(CatchSession *session, CatchCommand *command)
{
  catch_io_error_reply(session, 502, "5.5.1", "Error: EXPN not implemented: no lists here");
}

static void
catch_session_help(CatchSession *session, CatchCommand *command)
{
  catch_io_reply(session, 214, "2.0.0",
                 "farceur catch, the lab's mock %s server: it keeps every message; see "
                 "farceur-catch(1)",
                 session->server->lmtp ? "LMTP" : "SMTP");
}

static void
catch_session_quit(CatchSession *session, CatchCommand *command)
{
  catch_io_reply(session, 221, "2.0.0", "Bye");
  catch_io_close(session);
}

/**
 * catch_session_protocol:
 * @session: a session
 * @smtputf8: the transaction used SMTPUTF8
 *
 * Returns: (transfer none): the `with` keyword of RFC 3848 and RFC 6531:
 *   [UTF8]SMTP/LMTP, then S for TLS and A for AUTH; ESMTP... for EHLO
 */
const char *
catch_session_protocol(CatchSession *session, gboolean smtputf8)
{
  static const char *const names[] = {
    "ESMTP",    "ESMTPS",    "ESMTPA",    "ESMTPSA",    "LMTP",      "LMTPS",
    "LMTPA",    "LMTPSA",    "UTF8SMTP",  "UTF8SMTPS",  "UTF8SMTPA", "UTF8SMTPSA",
    "UTF8LMTP", "UTF8LMTPS", "UTF8LMTPA", "UTF8LMTPSA",
  };
  guint i = (session->tls_version ? 1 : 0) + (session->user ? 2 : 0)
            + (session->server->lmtp ? 4 : 0) + (smtputf8 ? 8 : 0);

  if (!session->esmtp)
    return session->tls_version ? "SMTPS" : "SMTP";
  return names[i];
}

/**
 * catch_session_register:
 * @handlers: the server's table
 *
 * Hands in the greeting, the STARTTLS follow-up and the commands this file serves.
 */
void
catch_session_register(CatchHandlers *handlers)
{
  handlers->greet = catch_session_greet;
  handlers->tls_up = catch_session_tls_up;
  handlers->commands[CATCH_VERB_HELO] = catch_session_hello;
  handlers->commands[CATCH_VERB_EHLO] = catch_session_hello;
  handlers->commands[CATCH_VERB_LHLO] = catch_session_hello;
  handlers->commands[CATCH_VERB_STARTTLS] = catch_session_starttls;
  handlers->commands[CATCH_VERB_RSET] = catch_session_rset;
  handlers->commands[CATCH_VERB_NOOP] = catch_session_noop;
  handlers->commands[CATCH_VERB_VRFY] = catch_session_vrfy;
  handlers->commands[CATCH_VERB_EXPN] = catch_session_expn;
  handlers->commands[CATCH_VERB_HELP] = catch_session_help;
  handlers->commands[CATCH_VERB_QUIT] = catch_session_quit;
}
