/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define CLI_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef CLI_COMMAND
