/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: the plan of a campaign: which victims form which group, and which
 * template each group gets.  Pure and deterministic: the same inputs and
 * seed give the same plan, so a campaign can be replayed with --seed.
 *
 * Victims are shuffled (Fisher-Yates over GRand seeded with @seed) and cut
 * into N groups whose sizes differ by at most one, the larger ones first.
 * N defaults to as many groups of MIN as fit.  Templates are shuffled with
 * the same generator and dealt round-robin, so each is used once before
 * any is used again. */
#include "config.h"

#include <farceur/campaign.h>
#include <farceur/error.h>

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
plan_check(guint n_victims, guint *n_groups, guint min, guint max, GError **error)
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
  if (max != 0 && (n_victims + *n_groups - 1) / *n_groups > max) {
    g_set_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA,
                "too many victims: %u do not fit in %u group%s of at most %u "
                "(ask for more groups or a larger maximum)",
                n_victims, *n_groups, *n_groups > 1 ? "s" : "", max);
    return FALSE;
  }
  return TRUE;
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
 * Returns: (transfer full) (nullable): the plan, or %NULL when the victims
 *   cannot be split as asked
 */
FarceurCampaignPlan *
farceur_campaign_plan_new(guint n_victims, guint n_groups, guint min, guint max, guint n_templates,
                          guint32 seed, GError **error)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
  g_autofree guint *victims = plan_identity(n_victims);
  g_autofree guint *templates = plan_identity(n_templates);
  FarceurCampaignPlan *plan;
  guint next = 0;

  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (min == 0)
    min = FARCEUR_CAMPAIGN_DEFAULT_GROUP_MIN;
  g_return_val_if_fail(min >= 2 && (max == 0 || max >= min), NULL);
  if (n_templates == 0) {
    g_set_error_literal(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA, "no template");
    return NULL;
  }
  if (!plan_check(n_victims, &n_groups, min, max, error))
    return NULL;
  plan_shuffle(rand, victims, n_victims);
  plan_shuffle(rand, templates, n_templates);
  plan = g_new0(FarceurCampaignPlan, 1);
  plan->seed = seed;
  plan->groups = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
  plan->templates = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint g = 0; g < n_groups; g++) {
    guint size = n_victims / n_groups + (g < n_victims % n_groups ? 1 : 0);
    GArray *group = g_array_sized_new(FALSE, FALSE, sizeof(guint), size);
    g_array_append_vals(group, victims + next, size);
    next += size;
    g_ptr_array_add(plan->groups, group);
    g_array_append_val(plan->templates, templates[g % n_templates]);
  }
  return plan;
}

/**
 * farceur_campaign_plan_free:
 * @plan: (nullable): a plan
 */
void
farceur_campaign_plan_free(FarceurCampaignPlan *plan)
{
  if (plan == NULL)
    return;
  g_ptr_array_unref(plan->groups);
  g_array_unref(plan->templates);
  g_free(plan);
}
