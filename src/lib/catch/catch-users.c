/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: the --users file (data/doc/catch.md, Authentication).
 *
 *   # comment
 *   alice:secret                    a password in clear
 *   bob:{CRYPT}$y$j9T$...           a crypt(3) hash (yescrypt, sha512crypt,
 *                                   bcrypt...: mkpasswd, openssl passwd -6)
 *
 * One USER:PASSWORD per line; the password is what follows the first ':'.
 * Hashes are checked by libcrypt (crypt_r), clear passwords compared in
 * constant time.  What the client sent is wiped by the caller.
 */
#include "config.h"

#include <crypt.h>
#include <string.h>

#include <farceur/error.h>

#include "catch-private.h"
#include "error-text.h"

#define CATCH_USERS_MAX_FILE (1024 * 1024)
#define CATCH_USERS_CRYPT "{CRYPT}"

struct _CatchUsers {
  GHashTable *passwords; /* user -> password or "{CRYPT}hash" */
};

static gboolean
catch_users_fail(GError **error, const char *path, guint line, const char *why)
{
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CONFIG, "users file '%s' line %u: %s", path, line,
              why);
  return FALSE;
}

static gboolean
catch_users_line(CatchUsers *users, const char *path, guint n, const char *line, GError **error)
{
  const char *colon = strchr(line, ':');
  g_autofree char *user = NULL;

  if (colon == NULL || colon == line)
    return catch_users_fail(error, path, n, "expected USER:PASSWORD or USER:{CRYPT}HASH");
  user = g_strndup(line, colon - line);
  if (!g_utf8_validate(line, -1, NULL) || strpbrk(user, " \t") != NULL)
    return catch_users_fail(error, path, n, "a user name with white space or invalid UTF-8");
  if (g_str_has_prefix(colon + 1, CATCH_USERS_CRYPT)
      && crypt_checksalt(colon + 1 + strlen(CATCH_USERS_CRYPT)) != CRYPT_SALT_OK)
    return catch_users_fail(error, path, n, "a {CRYPT} hash that libcrypt does not accept");
  if (g_hash_table_contains(users->passwords, user))
    return catch_users_fail(error, path, n, "a user listed twice");
  g_hash_table_insert(users->passwords, g_steal_pointer(&user), g_strdup(colon + 1));
  return TRUE;
}

static gboolean
catch_users_parse(CatchUsers *users, const char *path, char *text, GError **error)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++) {
    char *line = lines[i];
    gsize len = strlen(line);

    if (len > 0 && line[len - 1] == '\r')
      line[len - 1] = '\0';
    if (line[0] == '\0' || line[0] == '#')
      continue;
    if (!catch_users_line(users, path, i + 1, line, error))
      return FALSE;
  }
  return TRUE;
}

void
catch_users_free(CatchUsers *users)
{
  if (users == NULL)
    return;
  g_hash_table_unref(users->passwords);
  g_free(users);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CatchUsers, catch_users_free)

/**
 * catch_users_load:
 * @path: the users file
 * @error: return location for the error (missing file, bad line)
 *
 * Returns: (transfer full): the users, or %NULL
 */
CatchUsers *
catch_users_load(const char *path, GError **error)
{
  g_autoptr(CatchUsers) users = g_new0(CatchUsers, 1);
  g_autoptr(GError) local = NULL;
  g_autofree char *text = NULL;
  gsize len;

  users->passwords = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (!g_file_get_contents(path, &text, &len, &local)) {
    g_autofree char *why = farceur_file_error_text(local);
    g_set_error(error, FARCEUR_ERROR,
                g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? FARCEUR_ERROR_NOINPUT
                                                                         : FARCEUR_ERROR_CONFIG,
                "users file '%s': %s", path, why);
    return NULL;
  }
  if (len > CATCH_USERS_MAX_FILE || memchr(text, '\0', len) != NULL) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_CONFIG,
                "users file '%s': not a text file of at most 1 MiB", path);
    return NULL;
  }
  if (!catch_users_parse(users, path, text, error))
    return NULL;
  return g_steal_pointer(&users);
}

/* Compares without stopping at the first difference. */
static gboolean
catch_users_same(const char *a, const char *b)
{
  gsize la = strlen(a), lb = strlen(b);
  guchar diff = la != lb;

  for (gsize i = 0; i < la; i++)
    diff |= (guchar)a[i] ^ (guchar)b[i % (lb ? lb : 1)];
  return diff == 0;
}

static gboolean
catch_users_crypt(const char *hash, const char *password)
{
  g_autofree struct crypt_data *data = g_new0(struct crypt_data, 1);
  const char *computed = crypt_r(password, hash, data);
  gboolean same = computed != NULL && computed[0] != '*' && catch_users_same(computed, hash);

  explicit_bzero(data, sizeof *data);
  return same;
}

/**
 * catch_users_check:
 * @users: the users
 * @user: the user the client gave
 * @password: the password it gave
 *
 * Returns: %TRUE when @user is listed with @password
 */
gboolean
catch_users_check(const CatchUsers *users, const char *user, const char *password)
{
  const char *stored = g_hash_table_lookup(users->passwords, user);

  if (stored == NULL)
    return FALSE;
  if (g_str_has_prefix(stored, CATCH_USERS_CRYPT))
    return catch_users_crypt(stored + strlen(CATCH_USERS_CRYPT), password);
  return catch_users_same(password, stored);
}

guint
catch_users_count(const CatchUsers *users)
{
  return g_hash_table_size(users->passwords);
}
