/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: MIME message composer and parser toolkit on GMime 3 and GLib/GIO.
 * Users include only this header.
 */
#pragma once

#define FARCEUR_INSIDE

#include <farceur/error.h>
#include <farceur/init.h>
#include <farceur/suggest.h>
#include <farceur/read-report.h>
#include <farceur/envelope.h>
#include <farceur/input.h>
#include <farceur/inspect.h>
#include <farceur/template.h>
#include <farceur/compose.h>
#include <farceur/smtp-reply.h>
#include <farceur/smtp-client.h>
#include <farceur/trace.h>
#include <farceur/target.h>
#include <farceur/campaign.h>
#include <farceur/journal.h>
#include <farceur/target-smtp.h>
#include <farceur/batch.h>
#include <farceur/catch.h>
#include <farceur/json.h>
#include <farceur/web.h>

#undef FARCEUR_INSIDE
