/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: AUTH PLAIN (RFC 4616) and LOGIN, server side (RFC 4954).
 * Any credentials pass, or those of the --users file (catch-users.c).  The
 * user is recorded; the password is compared, wiped, and never written
 * anywhere: the transcript shows "***" for every payload.  --fail, --drop
 * and --delay rules of the auth stage act on the user. */
#include "config.h"

#include <string.h>

#include "catch-private.h"

/* "Username:" and "Password:", base64: the challenges every client expects. */
#define CATCH_AUTH_USERNAME "VXNlcm5hbWU6"
#define CATCH_AUTH_PASSWORD "UGFzc3dvcmQ6"

/* Strict base64 (g_base64_decode() skips what it does not know); "=" is
 * the empty string (RFC 4954 4). */
static guint8 *
catch_auth_decode(const char *text, gsize *len)
{
  gsize n = strlen(text);

  if (strcmp(text, "=") == 0) {
    *len = 0;
    return (guint8 *)g_strdup("");
  }
  if (n == 0 || n % 4 != 0
      || strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789+/=")
             != n)
    return NULL;
  return g_base64_decode(text, len);
}

static void
catch_auth_done(CatchSession *session)
{
  catch_io_set_state(session, CATCH_STATE_COMMAND);
  session->auth_step = 0;
  g_clear_pointer(&session->auth_user, g_free);
}

/* After a --delay rule: the user is in. */
static void
catch_auth_accept(CatchSession *session)
{
  session->user = g_steal_pointer(&session->auth_user);
  catch_io_transcript(session, "* authenticated as %s", session->user);
  catch_io_reply(session, 235, "2.7.0", "Authentication successful");
  catch_auth_done(session);
}

static gboolean
catch_auth_user_ok(const char *user, gsize len)
{
  return len > 0 && len <= 256 && memchr(user, '\0', len) == NULL
         && g_utf8_validate(user, len, NULL);
}

/* Takes @user; @password is wiped by the caller. */
static void
catch_auth_check(CatchSession *session, char *user, const char *password)
{
  FarceurCatchServer *server = session->server;
  const char *const subject = user;
  FarceurCatchRule *rule;

  g_free(session->auth_user);
  session->auth_user = user;
  if (server->users != NULL && !catch_users_check(server->users, user, password)) {
    catch_io_transcript(session, "* authentication failed for %s", user);
    catch_auth_done(session);
    catch_io_error_reply(session, 535, "5.7.8", "Error: authentication credentials invalid");
  } else if (catch_io_rule(session, FARCEUR_CATCH_DROP, FARCEUR_CATCH_STAGE_AUTH, &subject, 1)) {
    catch_io_drop(session, "a --drop rule");
  } else if ((rule
              = catch_io_rule(session, FARCEUR_CATCH_DELAY, FARCEUR_CATCH_STAGE_AUTH, &subject, 1))
             != NULL) {
    catch_io_wait(session, rule->delay_ms, catch_auth_accept);
  } else if (catch_io_fail_rule(session, FARCEUR_CATCH_STAGE_AUTH, &subject, 1)) {
    catch_auth_done(session);
  } else {
    catch_auth_accept(session);
  }
}

static void
catch_auth_malformed(CatchSession *session)
{
  catch_auth_done(session);
  catch_io_error_reply(session, 501, "5.5.2", "Error: cannot decode the AUTH response");
}

/* PLAIN: authzid NUL authcid NUL passwd; the user is authcid. */
static void
catch_auth_plain(CatchSession *session, const char *response)
{
  gsize len = 0;
  g_autofree guint8 *raw = catch_auth_decode(response, &len);
  const guint8 *nul1 = raw ? memchr(raw, '\0', len) : NULL;
  const guint8 *nul2 = nul1 ? memchr(nul1 + 1, '\0', len - (nul1 + 1 - raw)) : NULL;

  if (nul2 == NULL || !catch_auth_user_ok((const char *)nul1 + 1, nul2 - nul1 - 1)) {
    if (raw != NULL)
      explicit_bzero(raw, len);
    catch_auth_malformed(session);
    return;
  }
  {
    g_autofree char *password = g_strndup((const char *)nul2 + 1, len - (nul2 + 1 - raw));
    catch_auth_check(session, g_strndup((const char *)nul1 + 1, nul2 - nul1 - 1), password);
    explicit_bzero(password, strlen(password));
  }
  explicit_bzero(raw, len);
}

static void
catch_auth_login_user(CatchSession *session, const char *response)
{
  gsize len = 0;
  g_autofree guint8 *raw = catch_auth_decode(response, &len);

  if (raw == NULL || !catch_auth_user_ok((const char *)raw, len)) {
    catch_auth_malformed(session);
    return;
  }
  g_free(session->auth_user);
  session->auth_user = g_strndup((const char *)raw, len);
  session->auth_step = 2;
  catch_io_set_state(session, CATCH_STATE_AUTH);
  catch_io_reply(session, 334, NULL, CATCH_AUTH_PASSWORD);
}

static void
catch_auth_login_password(CatchSession *session, const char *response)
{
  gsize len = 0;
  g_autofree guint8 *raw = catch_auth_decode(response, &len);
  g_autofree char *password = NULL;

  if (raw == NULL) {
    catch_auth_malformed(session);
    return;
  }
  password = g_strndup((const char *)raw, len);
  explicit_bzero(raw, len);
  catch_auth_check(session, g_steal_pointer(&session->auth_user), password);
  explicit_bzero(password, strlen(password));
}

/* The next line of an exchange: "*" cancels it (RFC 4954 4). */
static void
catch_auth_line(CatchSession *session, const char *line, gsize len)
{
  if (strcmp(line, "*") == 0) {
    catch_auth_done(session);
    catch_io_error_reply(session, 501, "5.0.0", "Error: authentication cancelled");
  } else if (!session->auth_login) {
    catch_auth_plain(session, line);
  } else if (session->auth_step == 1) {
    catch_auth_login_user(session, line);
  } else {
    catch_auth_login_password(session, line);
  }
}

static gboolean
catch_auth_allowed(CatchSession *session)
{
  const char *why = !session->esmtp         ? "Error: send EHLO first"
                    : session->user != NULL ? "Error: already authenticated"
                    : session->tx.envelope  ? "Error: AUTH is not allowed in a mail transaction"
                                            : NULL;

  if (why != NULL)
    catch_io_error_reply(session, 503, "5.5.1", why);
  return why == NULL;
}

static void
catch_auth_command(CatchSession *session, CatchCommand *command)
{
  g_auto(GStrv) words = g_strsplit(command->arg ? command->arg : "", " ", 3);
  const char *response = words[0] && words[1] ? words[1] : NULL;

  if (!catch_auth_allowed(session))
    return;
  if (words[0] == NULL || (response != NULL && words[2] != NULL)) {
    catch_io_error_reply(session, 501, "5.5.4", "syntax: AUTH mechanism [initial-response]");
  } else if (g_ascii_strcasecmp(words[0], "PLAIN") == 0) {
    session->auth_login = FALSE;
    if (response != NULL) {
      catch_auth_plain(session, response);
    } else {
      catch_io_set_state(session, CATCH_STATE_AUTH);
      catch_io_reply(session, 334, NULL, "%s", "");
    }
  } else if (g_ascii_strcasecmp(words[0], "LOGIN") == 0) {
    session->auth_login = TRUE;
    session->auth_step = 1;
    if (response != NULL) {
      catch_auth_login_user(session, response);
    } else {
      catch_io_set_state(session, CATCH_STATE_AUTH);
      catch_io_reply(session, 334, NULL, CATCH_AUTH_USERNAME);
    }
  } else {
    catch_io_error_reply(session, 504, "5.5.4", "Error: unrecognized authentication type");
  }
  for (guint i = 0; words[i] != NULL; i++)
    explicit_bzero(words[i], strlen(words[i]));
}

/**
 * catch_auth_register:
 * @handlers: the server's table
 *
 * Hands in AUTH and the lines of its exchanges.
 */
void
catch_auth_register(CatchHandlers *handlers)
{
  handlers->commands[CATCH_VERB_AUTH] = catch_auth_command;
  handlers->auth_line = catch_auth_line;
}
