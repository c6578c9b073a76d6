/* history.c - times the history walk of a repository and its peak memory.
 *
 * Usage: build/bench/history [--cache] REPO [CONTENT] [RUNS]
 * Opens REPO at HEAD, walks the history of CONTENT/people RUNS times (default
 * 3) and prints the median wall time, the counts found and the peak resident
 * memory of the process (getrusage), so that `make bench` can quote them.
 * With --cache the walk goes through the history cache in REPO's git
 * directory (the first run may create it); without, it never touches it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "error.h"
#include "source.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  bool cached = argc > 1 && strcmp(argv[1], "--cache") == 0;
  if (cached) {
    argv++;
    argc--;
  }
  if (argc < 2) {
    fprintf(stderr, "usage: %s [--cache] REPO [CONTENT] [RUNS]\n", argv[0]);
    return 2;
  }
  ws_source_opts opts = {argv[1], NULL, argc > 2 ? argv[2] : NULL, false};
  int runs = argc > 3 ? atoi(argv[3]) : 3;
  if (runs < 1 || runs > 100)
    runs = 3;
  ws_source_global_init();
  ws_source *src = NULL;
  if (ws_source_open(&src, &opts) < 0) {
    fprintf(stderr, "history: %s\n", ws_error_last());
    return 3;
  }
  double times[100];
  size_t revs = 0, changes = 0, files = 0, walked = 0;
  const char *cache = NULL;
  for (int i = 0; i < runs; i++) {
    ws_source_history *h = NULL;
    double t0 = now();
    int rc = cached ? ws_source_history_load_cached(&h, src, "people")
                    : ws_source_history_load(&h, src, "people");
    if (rc < 0) {
      fprintf(stderr, "history: %s\n", ws_error_last());
      ws_source_free(src);
      return 3;
    }
    times[i] = now() - t0;
    revs = h->nrevs;
    changes = h->nchanges;
    files = h->nfiles;
    walked = h->walked;
    cache = h->cache;
    ws_source_history_free(h);
  }
  qsort(times, (size_t)runs, sizeof(double), cmp_double);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("history walk: %zu commits with changes, %zu changes, %zu profiles: "
         "median %.3f s of %d runs (min %.3f s), peak RSS %.1f MiB\n",
         revs, changes, files, times[runs / 2], runs, times[0],
         (double)ru.ru_maxrss / 1024.0);
  if (cached)
    printf("history cache: %s; the last run walked %zu commits\n",
           cache ? cache : "not used", walked);
  ws_source_free(src);
  ws_source_global_shutdown();
  return 0;
}
