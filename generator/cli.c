#include "cli.h"

#include <stdio.h>

int ws_cli_main(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  fputs("wholeself: under construction\n", stderr);
  return WS_EXIT_USAGE;
}
