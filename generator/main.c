/* main.c - the program entry; everything else is in cli. */
#include "cli.h"

int main(int argc, char **argv) {
  return ws_cli_main(argc, argv);
}
