#include <stdio.h>

#include "cli.h"
#include "commands.h"

int
cli_cmd_version(int argc, char **argv)
{
  printf("farceur %s\n", farceur_version());
  return 0;
}
