/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The catch unit tests: the session tests (test-catch-session.c). */
#pragma once

void catch_add_session_tests(void);
