/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur catch: failure-injection rules (data/doc/catch.md, Failure
 * injection).  The grammar, one rule per option:
 *
 *   --fail  STAGE[:GLOB]=CODE[xN][@P%][ TEXT]
 *   --drop  STAGE[:GLOB][=[xN][@P%]]
 *   --delay STAGE[:GLOB]=DURATION[xN][@P%]
 *
 * STAGE: greeting, helo (ehlo, lhlo), auth, mail, rcpt, data, mid-data
 * (--drop only), dot, after-dot (--drop only).  GLOB (* and ?, any case,
 * no '=')
 * matches the client's address (greeting), its HELO name, the user (auth),
 * the sender (mail), a recipient (rcpt, data, dot: any of them; with LMTP
 * each one at the dot).  xN: the first N times it matches; @P%: with
 * chance P (a seeded GRand).  DURATION: 250ms, 5s, 2m.
 */
#include "config.h"

#include <string.h>

#include <farceur/error.h>

#include "catch-private.h"

static const struct {
  const char *name;
  FarceurCatchStage stage;
} catch_stage_names[] = {
  { "greeting", FARCEUR_CATCH_STAGE_GREETING },   { "helo", FARCEUR_CATCH_STAGE_HELO },
  { "ehlo", FARCEUR_CATCH_STAGE_HELO },           { "lhlo", FARCEUR_CATCH_STAGE_HELO },
  { "auth", FARCEUR_CATCH_STAGE_AUTH },           { "mail", FARCEUR_CATCH_STAGE_MAIL },
  { "rcpt", FARCEUR_CATCH_STAGE_RCPT },           { "data", FARCEUR_CATCH_STAGE_DATA },
  { "mid-data", FARCEUR_CATCH_STAGE_MID_DATA },   { "dot", FARCEUR_CATCH_STAGE_DOT },
  { "after-dot", FARCEUR_CATCH_STAGE_AFTER_DOT },
};

static const char *const catch_action_options[] = { "--fail", "--drop", "--delay" };

/* What each stage's GLOB is matched against, for the description. */
static const char *const catch_stage_subjects[] = {
  [FARCEUR_CATCH_STAGE_GREETING] = "from a client address",
  [FARCEUR_CATCH_STAGE_HELO] = "for a HELO name",
  [FARCEUR_CATCH_STAGE_AUTH] = "for a user",
  [FARCEUR_CATCH_STAGE_MAIL] = "for a sender",
  [FARCEUR_CATCH_STAGE_RCPT] = "for a recipient",
  [FARCEUR_CATCH_STAGE_DATA] = "when a recipient is",
  [FARCEUR_CATCH_STAGE_MID_DATA] = "when a recipient is",
  [FARCEUR_CATCH_STAGE_DOT] = "when a recipient is",
  [FARCEUR_CATCH_STAGE_AFTER_DOT] = "when a recipient is",
};

static const char *const catch_stage_events[] = {
  [FARCEUR_CATCH_STAGE_GREETING] = "the greeting",
  [FARCEUR_CATCH_STAGE_HELO] = "EHLO/HELO/LHLO",
  [FARCEUR_CATCH_STAGE_AUTH] = "AUTH",
  [FARCEUR_CATCH_STAGE_MAIL] = "MAIL FROM",
  [FARCEUR_CATCH_STAGE_RCPT] = "RCPT TO",
  [FARCEUR_CATCH_STAGE_DATA] = "DATA",
  [FARCEUR_CATCH_STAGE_MID_DATA] = "the message as it arrives",
  [FARCEUR_CATCH_STAGE_DOT] = "the final dot (not stored)",
  [FARCEUR_CATCH_STAGE_AFTER_DOT] = "the final dot, once stored",
};

static gboolean
catch_rule_fail(GError **error, const FarceurCatchRule *rule, const char *why)
{
  g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_USAGE, "bad %s '%s': %s",
              catch_action_options[rule->action], rule->spec, why);
  return FALSE;
}

static gboolean
catch_rule_stage(FarceurCatchRule *rule, const char *name, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS(catch_stage_names); i++)
    if (g_ascii_strcasecmp(name, catch_stage_names[i].name) == 0) {
      rule->stage = catch_stage_names[i].stage;
      if (rule->action != FARCEUR_CATCH_DROP
          && (rule->stage == FARCEUR_CATCH_STAGE_MID_DATA
              || rule->stage == FARCEUR_CATCH_STAGE_AFTER_DOT))
        return catch_rule_fail(error, rule, "mid-data and after-dot are for --drop only");
      return TRUE;
    }
  return catch_rule_fail(error, rule,
                         "unknown stage: expected greeting, helo, auth, mail, rcpt, data, "
                         "mid-data, dot or after-dot");
}

/* Reads a decimal number at *p, moving past it. */
static gboolean
catch_rule_number(const char **p, guint max, guint *out)
{
  guint64 n = 0;
  const char *start = *p;

  while (g_ascii_isdigit(**p)) {
    n = n * 10 + (guint)(**p - '0');
    if (n > max)
      return FALSE;
    (*p)++;
  }
  *out = (guint)n;
  return *p > start;
}

/* "250ms", "5s", "2m", up to an hour. */
static gboolean
catch_rule_duration(FarceurCatchRule *rule, const char **p, GError **error)
{
  guint n, unit;

  if (!catch_rule_number(p, 3600000, &n))
    return catch_rule_fail(error, rule, "expected a duration such as 500ms, 5s or 2m");
  if (g_str_has_prefix(*p, "ms"))
    unit = 1;
  else if (**p == 's')
    unit = 1000;
  else if (**p == 'm')
    unit = 60000;
  else
    return catch_rule_fail(error, rule, "a duration needs its unit: ms, s or m");
  *p += unit == 1 ? 2 : 1;
  if (n > 3600000 / unit)
    return catch_rule_fail(error, rule, "a delay of more than an hour");
  rule->delay_ms = n * unit;
  return TRUE;
}

/* "550", then an optional reply text after a space. */
static gboolean
catch_rule_code(FarceurCatchRule *rule, const char **p, GError **error)
{
  if (!catch_rule_number(p, 599, &rule->code) || rule->code < 400)
    return catch_rule_fail(error, rule, "expected a reply code from 400 to 599");
  return TRUE;
}

/* "x2" and "@10%" / "@2.5%", in either order. */
static gboolean
catch_rule_modifiers(FarceurCatchRule *rule, const char **p, GError **error)
{
  rule->percent_tenths = 1000;
  while (**p == 'x' || **p == '@') {
    if (*(*p)++ == 'x') {
      if (!catch_rule_number(p, 1000000, &rule->times) || rule->times == 0)
        return catch_rule_fail(error, rule, "xN needs a count from 1");
      continue;
    }
    guint whole = 0, tenth = 0;
    if (!catch_rule_number(p, 100, &whole))
      return catch_rule_fail(error, rule, "@P% needs a percentage");
    if (**p == '.') {
      (*p)++;
      if (!catch_rule_number(p, 9, &tenth))
        return catch_rule_fail(error, rule, "@P% takes one decimal at most");
    }
    if (*(*p)++ != '%' || whole * 10 + tenth > 1000 || whole * 10 + tenth == 0)
      return catch_rule_fail(error, rule, "@P% needs a percentage above 0, up to 100, and '%'");
    rule->percent_tenths = whole * 10 + tenth;
  }
  return TRUE;
}

/* The default reply text: the enhanced code the class calls for, and which
 * rule it was, so that whoever reads the client's error knows. */
static void
catch_rule_default_text(FarceurCatchRule *rule, const char *given)
{
  if (given != NULL && g_ascii_isdigit(given[0]) && given[1] == '.')
    rule->text = g_strdup(given);
  else
    rule->text = g_strdup_printf("%u.0.0 %s", rule->code / 100,
                                 given ? given : "failure injected by farceur catch");
}

static gboolean
catch_rule_value(FarceurCatchRule *rule, const char *value, GError **error)
{
  const char *p = value;

  if (rule->action == FARCEUR_CATCH_FAIL && !catch_rule_code(rule, &p, error))
    return FALSE;
  if (rule->action == FARCEUR_CATCH_DELAY && !catch_rule_duration(rule, &p, error))
    return FALSE;
  if (!catch_rule_modifiers(rule, &p, error))
    return FALSE;
  if (*p == ' ' && rule->action == FARCEUR_CATCH_FAIL && p[1] != '\0') {
    catch_rule_default_text(rule, p + 1);
    return TRUE;
  }
  if (*p != '\0')
    return catch_rule_fail(error, rule, "unexpected text after the rule");
  if (rule->action == FARCEUR_CATCH_FAIL)
    catch_rule_default_text(rule, NULL);
  return TRUE;
}

static gboolean
catch_rule_is_clean(const char *spec)
{
  for (const char *p = spec; *p; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f)
      return FALSE;
  return g_utf8_validate(spec, -1, NULL);
}

/* "STAGE[:GLOB]" before the '=' (or, for --drop, before the modifiers). */
static gboolean
catch_rule_head(FarceurCatchRule *rule, const char *head, GError **error)
{
  const char *colon = strchr(head, ':');
  g_autofree char *stage = colon ? g_strndup(head, colon - head) : g_strdup(head);

  if (!catch_rule_stage(rule, stage, error))
    return FALSE;
  if (colon != NULL) {
    if (colon[1] == '\0')
      return catch_rule_fail(error, rule, "an empty GLOB after ':'");
    rule->glob = g_strdup(colon + 1);
    g_autofree char *lower = g_utf8_strdown(rule->glob, -1);
    rule->match = g_pattern_spec_new(lower);
  }
  return TRUE;
}

/* "HEAD=VALUE": a GLOB cannot hold '='; --drop may have no '=' at all. */
static gboolean
catch_rule_parse_spec(FarceurCatchRule *rule, GError **error)
{
  const char *eq = strchr(rule->spec, '=');
  g_autofree char *head = NULL;

  if (!catch_rule_is_clean(rule->spec))
    return catch_rule_fail(error, rule, "control character or invalid UTF-8");
  if (eq == NULL && rule->action == FARCEUR_CATCH_FAIL)
    return catch_rule_fail(error, rule, "expected STAGE[:GLOB]=CODE");
  if (eq == NULL && rule->action == FARCEUR_CATCH_DELAY)
    return catch_rule_fail(error, rule, "expected STAGE[:GLOB]=DURATION");
  head = eq ? g_strndup(rule->spec, eq - rule->spec) : g_strdup(rule->spec);
  return catch_rule_head(rule, head, error) && catch_rule_value(rule, eq ? eq + 1 : "", error);
}

/**
 * farceur_catch_rule_parse:
 * @action: which option the rule came with
 * @spec: the rule (see #FarceurCatchRule)
 * @error: return location for a %FARCEUR_ERROR_USAGE error
 *
 * Returns: (transfer full): the rule, or %NULL when @spec is not one
 */
FarceurCatchRule *
farceur_catch_rule_parse(FarceurCatchAction action, const char *spec, GError **error)
{
  g_autoptr(FarceurCatchRule) rule = NULL;

  g_return_val_if_fail(spec != NULL, NULL);
  g_return_val_if_fail(action <= FARCEUR_CATCH_DELAY, NULL);
  rule = g_new0(FarceurCatchRule, 1);
  rule->action = action;
  rule->spec = g_strdup(spec);
  if (!catch_rule_parse_spec(rule, error))
    return NULL;
  return g_steal_pointer(&rule);
}

static char *
catch_rule_how_often(const FarceurCatchRule *rule)
{
  g_autofree char *times = rule->times ? g_strdup_printf("the first %u time%s", rule->times,
                                                         rule->times == 1 ? "" : "s")
                                       : g_strdup("every time");

  if (rule->percent_tenths == 1000)
    return g_steal_pointer(&times);
  return g_strdup_printf("%s, with a chance of %u.%u%%", times, rule->percent_tenths / 10,
                         rule->percent_tenths % 10);
}

/**
 * farceur_catch_rule_describe:
 * @rule: a rule
 *
 * Returns: (transfer full): what the rule does, in a sentence:
 *   "--fail rcpt:bad*=550: RCPT TO for a recipient matching 'bad*' gets
 *   '550 5.0.0 failure injected by farceur catch', every time"
 */
char *
farceur_catch_rule_describe(const FarceurCatchRule *rule)
{
  g_autofree char *often = catch_rule_how_often(rule);
  g_autofree char *which
      = rule->glob
            ? g_strdup_printf(" %s matching '%s'", catch_stage_subjects[rule->stage], rule->glob)
            : g_strdup("");
  g_autofree char *what = NULL;

  if (rule->action == FARCEUR_CATCH_FAIL)
    what = g_strdup_printf("gets '%u %s'", rule->code, rule->text);
  else if (rule->action == FARCEUR_CATCH_DROP)
    what = g_strdup("drops the connection without a reply");
  else
    what = g_strdup_printf("waits %u ms before the reply", rule->delay_ms);
  return g_strdup_printf("%s %s: %s%s %s, %s", catch_action_options[rule->action], rule->spec,
                         catch_stage_events[rule->stage], which, what, often);
}

/**
 * farceur_catch_rule_get_fired:
 * @rule: a rule
 *
 * Returns: how many times the rule acted so far
 */
guint
farceur_catch_rule_get_fired(const FarceurCatchRule *rule)
{
  g_return_val_if_fail(rule != NULL, 0);
  return rule->fired;
}

void
farceur_catch_rule_free(FarceurCatchRule *rule)
{
  if (rule == NULL)
    return;
  g_free(rule->spec);
  g_free(rule->glob);
  g_clear_pointer(&rule->match, g_pattern_spec_free);
  g_free(rule->text);
  g_free(rule);
}

static gboolean
catch_rule_matches(const FarceurCatchRule *rule, const char *const *subjects, guint n)
{
  if (rule->match == NULL)
    return TRUE;
  for (guint i = 0; i < n; i++) {
    g_autofree char *lower = subjects[i] ? g_utf8_strdown(subjects[i], -1) : NULL;

    if (lower != NULL && g_pattern_spec_match_string(rule->match, lower))
      return TRUE;
  }
  return FALSE;
}

/**
 * catch_rules_fire:
 * @rules: (nullable) (element-type FarceurCatchRule): the rules, in order
 * @rand: the seeded generator; drawn only for a rule with a chance
 * @action: what is asked for
 * @stage: where the session is
 * @subjects: (array length=n) (nullable): what a GLOB is matched against;
 *   a rule matches when its GLOB matches any of them
 * @n: their count
 *
 * The first rule of @action and @stage that matches, has acts left and
 * wins its draw acts: its count goes up.
 *
 * Returns: (transfer none) (nullable): the rule that acts
 */
FarceurCatchRule *
catch_rules_fire(GPtrArray *rules, GRand *rand, FarceurCatchAction action, FarceurCatchStage stage,
                 const char *const *subjects, guint n)
{
  for (guint i = 0; rules != NULL && i < rules->len; i++) {
    FarceurCatchRule *rule = rules->pdata[i];

    if (rule->action != action || rule->stage != stage || !catch_rule_matches(rule, subjects, n))
      continue;
    if (rule->times != 0 && rule->fired >= rule->times)
      continue;
    if (rule->percent_tenths < 1000
        && (guint)g_rand_int_range(rand, 0, 1000) >= rule->percent_tenths)
      continue;
    rule->fired++;
    return rule;
  }
  return NULL;
}
