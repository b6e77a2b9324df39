/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: "did you mean" (farceur_suggest_closest()).
 *
 * Hand-written: GLib has no edit distance (g_str_match_string() only tells
 * whether words start alike), and neither GMime nor json-glib has one.  The
 * distance is Damerau-Levenshtein in its "optimal string alignment" form:
 * insertions, deletions, substitutions and transpositions of two adjacent
 * characters each cost one, so "stmpServerAddress" is one edit away from
 * "smtpServerAddress" and "smtpServerAdress" one from "smtpServerAddress".
 * Characters are compared as ASCII without case. */
#include "config.h"

#include <string.h>

#include <farceur/suggest.h>

#define SUGGEST_MAX_LENGTH 256 /* longer words are never close to anything */

/**
 * farceur_suggest_distance:
 * @a: a word
 * @b: another
 *
 * Returns: the optimal-string-alignment distance between @a and @b,
 *   ignoring ASCII case; G_MAXUINT when either is longer than 256 bytes
 */
guint
farceur_suggest_distance(const char *a, const char *b)
{
  gsize n, m;
  g_autofree guint *d = NULL;

  g_return_val_if_fail(a != NULL && b != NULL, G_MAXUINT);
  n = strlen(a);
  m = strlen(b);
  if (n > SUGGEST_MAX_LENGTH || m > SUGGEST_MAX_LENGTH)
    return G_MAXUINT;
  d = g_new(guint, (n + 1) * (m + 1));
#define D(i, j) d[(i) * (m + 1) + (j)]
  for (gsize i = 0; i <= n; i++)
    D(i, 0) = i;
  for (gsize j = 0; j <= m; j++)
    D(0, j) = j;
  for (gsize i = 1; i <= n; i++)
    for (gsize j = 1; j <= m; j++) {
      guint cost = g_ascii_tolower(a[i - 1]) == g_ascii_tolower(b[j - 1]) ? 0 : 1;
      guint best = MIN(D(i - 1, j) + 1, D(i, j - 1) + 1);
      best = MIN(best, D(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && g_ascii_tolower(a[i - 1]) == g_ascii_tolower(b[j - 2])
          && g_ascii_tolower(a[i - 2]) == g_ascii_tolower(b[j - 1]))
        best = MIN(best, D(i - 2, j - 2) + 1);
      D(i, j) = best;
    }
  return D(n, m);
#undef D
}

/**
 * farceur_suggest_max_distance:
 * @word: a mistyped word
 *
 * How far a known name may be from @word and still be suggested: 2 edits,
 * 1 for words of 4 characters or fewer (else "port" would suggest "host").
 *
 * Returns: the largest distance worth a suggestion
 */
guint
farceur_suggest_max_distance(const char *word)
{
  g_return_val_if_fail(word != NULL, 0);
  return strlen(word) <= 4 ? 1 : 2;
}

/**
 * farceur_suggest_closest:
 * @word: a mistyped word
 * @known: (array zero-terminated=1): the names it may have meant
 * @ambiguous: (out) (optional): set when two different names are equally close
 *
 * Returns: (transfer none) (nullable): the closest name within
 *   farceur_suggest_max_distance() of @word, or %NULL; when several are
 *   equally close, the first of them (and *@ambiguous is set)
 */
const char *
farceur_suggest_closest(const char *word, const char *const *known, gboolean *ambiguous)
{
  const char *best = NULL;
  guint best_distance = farceur_suggest_max_distance(word) + 1;
  gboolean tie = FALSE;

  g_return_val_if_fail(word != NULL && known != NULL, NULL);
  for (gsize i = 0; known[i] != NULL; i++) {
    guint d = farceur_suggest_distance(word, known[i]);
    if (d < best_distance) {
      best = known[i];
      best_distance = d;
      tie = FALSE;
    } else if (d == best_distance && best != NULL && g_ascii_strcasecmp(best, known[i]) != 0) {
      tie = TRUE;
    }
  }
  if (ambiguous != NULL)
    *ambiguous = tie;
  return best;
}
