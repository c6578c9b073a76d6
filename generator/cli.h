/* cli.h - argv, subcommands and exit codes.
 *
 * Exit codes: 0 success; 1 invalid content (diagnostics printed); 2 usage
 * error; 3 environment error (no repository, unreadable ref, I/O failure).
 */
#ifndef WS_CLI_H
#define WS_CLI_H

enum {
  WS_EXIT_OK = 0,
  WS_EXIT_CONTENT = 1,
  WS_EXIT_USAGE = 2,
  WS_EXIT_ENV = 3
};

/** Runs the command line 'argv' and returns the process exit code. */
int ws_cli_main(int argc, char **argv);

#endif
