/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the plan of a campaign: which victims form which group, and which
 * template each group gets.  Pure and deterministic: the same inputs and
 * seed give the same plan, so a campaign can be replayed with --seed.
 *
 * Victims are shuffled (Fisher-Yates over GRand seeded with @seed).  Two
 * rules, as the lab's editions had them:
 *   - every victim in N groups whose sizes differ by at most one, the
 *     larger ones first (RES: "numberOfGroups"); N defaults to as many
 *     groups of MIN as fit;
 *   - when the groups cannot hold every victim at their largest, N groups
 *     of MIN-MAX members picked from the list, each size drawn with the same
 *     generator, the rest unused (DAI: "form N groups of 2-5").
 * Templates are shuffled with the same generator and dealt round-robin, so
 * each is used once before any is used again.  campaign_plan_for() turns a
 * configuration's wishes (people per group, a group count from a file) into
 * N, MIN and MAX. */
#include "config.h"

#include <farceur/campaign.h>
#include <farceur/error.h>

#include "campaign-private.h"

static void
plan_shuffle(GRand *rand, guint *items, guint n)
{
  for (guint i = n; i > 1; i--) {
    guint j = g_rand_int_range(rand, 0, i);
    guint tmp = items[i - 1];
    items[i - 1] = items[j];
    items[j] = tmp;
  }
}

static guint *
plan_identity(guint n)
{
  guint *items = g_new(guint, MAX(n, 1));

  for (guint i = 0; i < n; i++)
    items[i] = i;
  return items;
}

static gboolean
plan_check(guint n_victims, guint *n_groups, guint min, GError **error)
{
  if (*n_groups == 0)
    *n_groups = n_victims / min;
  if (*n_groups == 0 || n_victims < (guint64)*n_groups * min) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "not enough victims: %u group%s of at least %u need%s %" G_GUINT64_FORMAT
                " victims, there %s %u",
                MAX(*n_groups, 1), *n_groups > 1 ? "s" : "", min, *n_groups > 1 ? "" : "s",
                (guint64)MAX(*n_groups, 1) * min, n_victims == 1 ? "is" : "are", n_victims);
    return FALSE;
  }
  return TRUE;
}

/* The size of each group: balanced when every victim fits, else drawn in
 * [@min, @max] (the DAI rule), which always fits since n_groups * max < n. */
static guint *
plan_sizes(GRand *rand, guint n_victims, guint n_groups, guint min, guint max, gboolean *picked)
{
  guint *sizes = g_new(guint, n_groups);

  *picked = max != 0 && (n_victims + n_groups - 1) / n_groups > max;
  for (guint g = 0; g < n_groups; g++)
    sizes[g] = *picked ? (guint)g_rand_int_range(rand, min, max + 1)
                       : n_victims / n_groups + (g < n_victims % n_groups ? 1 : 0);
  return sizes;
}

/**
 * farceur_campaign_plan_new:
 * @n_victims: how many victims there are
 * @n_groups: how many groups, 0 for as many groups of @min as fit
 * @min: smallest group, 0 for FARCEUR_CAMPAIGN_DEFAULT_GROUP_MIN
 * @max: largest group, 0 for no limit
 * @n_templates: how many templates there are (at least one)
 * @seed: the shuffle seed
 * @error: return location for a %FARCEUR_ERROR_DATA error
 *
 * Every victim in balanced groups when they fit in @n_groups groups of at
 * most @max; else @n_groups groups of @min to @max picked at random, the
 * other victims unused.
 *
 * Returns: (transfer full): the plan, or %NULL when there are too few victims
 */
FarceurCampaignPlan *
farceur_campaign_plan_new(guint n_victims, guint n_groups, guint min, guint max, guint n_templates,
                          guint32 seed, GError **error)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
  g_autofree guint *victims = plan_identity(n_victims);
  g_autofree guint *templates = plan_identity(n_templates);
  g_autofree guint *sizes = NULL;
  FarceurCampaignPlan *plan;
  guint next = 0;

  if (min == 0)
    min = FARCEUR_CAMPAIGN_DEFAULT_GROUP_MIN;
  g_return_val_if_fail(min >= 2 && (max == 0 || max >= min), NULL);
  if (n_templates == 0) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "no template");
    return NULL;
  }
  if (!plan_check(n_victims, &n_groups, min, error))
    return NULL;
  plan_shuffle(rand, victims, n_victims);
  plan_shuffle(rand, templates, n_templates);
  plan = g_new0(FarceurCampaignPlan, 1);
  sizes = plan_sizes(rand, n_victims, n_groups, min, max, &plan->picked);
  plan->seed = seed;
  plan->groups = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
  plan->templates = g_array_new(FALSE, FALSE, sizeof(guint));
  plan->unused = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint g = 0; g < n_groups; g++) {
    GArray *group = g_array_sized_new(FALSE, FALSE, sizeof(guint), sizes[g]);
    g_array_append_vals(group, victims + next, sizes[g]);
    next += sizes[g];
    g_ptr_array_add(plan->groups, group);
    g_array_append_val(plan->templates, templates[g % n_templates]);
  }
  g_array_append_vals(plan->unused, victims + next, n_victims - next);
  return plan;
}

void
farceur_campaign_plan_free(FarceurCampaignPlan *plan)
{
  if (plan == NULL)
    return;
  g_ptr_array_unref(plan->groups);
  g_array_unref(plan->templates);
  g_array_unref(plan->unused);
  g_free(plan);
}

/* ---- what a configuration asks for ---- */

typedef struct {
  guint groups, min, max;
} PlanShape;

/* People per group (groupSize=4): N groups of exactly that many when N is
 * given and they fit, else as few balanced groups of at most that many as
 * hold everyone. */
static void
plan_people_per_group(const FarceurCampaignConfig *c, guint n, PlanShape *s, FarceurReadFile *note)
{
  guint size = c->group_size;

  if (s->groups == 0) {
    s->groups = MAX((n + size - 1) / size, 1);
    s->min = MIN(2, size), s->max = size;
    return;
  }
  if ((guint64)s->groups * size <= n) {
    s->min = s->max = size;
    return;
  }
  s->min = n >= 3 * s->groups ? 3 : 2;
  s->max = size;
  farceur_read_file_warn(note, 0,
                         "%u groups of %u need %u victims, there are %u: groups of %u-%u instead",
                         s->groups, size, s->groups * size, n, s->min, size);
}

/* A group count from a file the victims cannot fill with groups of 3:
 * groups of 2 (a sender and one recipient) if that works, else fewer
 * groups; a warning says which.  On the command line it is an error. */
static void
plan_soften(const FarceurCampaignConfig *c, guint n, PlanShape *s, FarceurReadFile *note)
{
  guint asked = s->groups;

  if (!c->groups_from_file || c->group_min != 0 || c->group_size != 0 || s->groups == 0
      || n >= 3 * s->groups)
    return;
  if (n >= 2 * s->groups) {
    s->min = 2;
    farceur_read_file_warn(note, 0,
                           "%u victims cannot make %u groups of at least 3: some groups have 2 "
                           "(a sender and one recipient)",
                           n, asked);
    return;
  }
  s->groups = MAX(n / 3, 1);
  farceur_read_file_warn(note, 0,
                         "%u victims cannot make the %u groups asked for: making %u (add victims "
                         "or ask for fewer groups)",
                         n, asked, s->groups);
}

/**
 * campaign_plan_for:
 * @config: the campaign's configuration
 * @n_victims: how many victims there are
 * @n_templates: how many templates
 * @seed: the shuffle seed
 * @note: (nullable): where to warn when the groups asked for are changed
 * @error: return location for an error
 *
 * Returns: (transfer full): the plan
 */
FarceurCampaignPlan *
campaign_plan_for(const FarceurCampaignConfig *config, guint n_victims, guint n_templates,
                  guint32 seed, FarceurReadFile *note, GError **error)
{
  PlanShape s = { config->groups, config->group_min, config->group_max };

  if (config->group_size != 0 && config->group_min == 0 && config->group_max == 0)
    plan_people_per_group(config, n_victims, &s, note);
  else
    plan_soften(config, n_victims, &s, note);
  return farceur_campaign_plan_new(n_victims, s.groups, s.min, s.max, n_templates, seed, error);
}
