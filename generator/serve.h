/* serve.h - 'wholeself serve': preview the work tree on localhost.
 *
 * Builds the work tree into a private folder, serves it over HTTP with
 * libmicrohttpd, watches the content and theme folders with inotify and
 * rebuilds on change. HTML responses get a tiny script that reloads the page
 * after a rebuild; while the last build failed, every HTML request gets an
 * error page with the diagnostics instead. No third-party type appears here.
 */
#ifndef WS_SERVE_H
#define WS_SERVE_H

#include "build.h"

typedef struct {
  ws_build_opts build; /* build.out is ignored: the output is private */
  const char *host;    /* address to bind; NULL: "127.0.0.1" */
  unsigned port;       /* 0: any free port (printed at start) */
  bool quiet;          /* print only errors */
} ws_serve_opts;

/** Serves until SIGINT or SIGTERM. Returns 0 after a clean shutdown, or a
 * negative code with the message set when the server cannot start. */
int ws_serve_run(const ws_serve_opts *opts);

#endif
