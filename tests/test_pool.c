/* test_pool.c - the thread pool: every index runs exactly once, whatever
 * the number of jobs and of indices around the sizes of its chunks; the
 * first failure is returned with its message and stops the handing out. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "error.h"
#include "pool.h"

typedef struct {
  atomic_uint *runs;
  size_t fail_at; /* (size_t)-1: never */
  atomic_size_t calls;
} counting;

static int count(void *payload, size_t i) {
  counting *c = payload;
  atomic_fetch_add(&c->calls, 1);
  atomic_fetch_add(&c->runs[i], 1);
  if (i == c->fail_at)
    return ws_error(WS_ERROR, "index %zu failed", i);
  return 0;
}

Test(pool, every_index_runs_once) {
  static const size_t sizes[] = {0,   1,   2,   63,   64,   65,
                                 127, 128, 129, 1000, 10007};
  static const unsigned jobs[] = {1, 2, 3, 8};
  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
    for (size_t j = 0; j < sizeof(jobs) / sizeof(jobs[0]); j++) {
      size_t n = sizes[s];
      counting c = {calloc(n + 1, sizeof(atomic_uint)), (size_t)-1, 0};
      cr_assert_eq(ws_pool_run(jobs[j], n, count, &c), 0);
      for (size_t i = 0; i < n; i++)
        cr_expect_eq(atomic_load(&c.runs[i]), 1,
                     "index %zu of %zu ran %u times (%u jobs)", i, n,
                     atomic_load(&c.runs[i]), jobs[j]);
      cr_expect_eq(atomic_load(&c.calls), n);
      free(c.runs);
    }
}

Test(pool, the_first_failure_stops_the_work) {
  size_t n = 100000;
  for (unsigned jobs = 1; jobs <= 4; jobs++) {
    counting c = {calloc(n, sizeof(atomic_uint)), 10, 0};
    int rc = ws_pool_run(jobs, n, count, &c);
    cr_expect_eq(rc, WS_ERROR, "%u jobs", jobs);
    cr_expect_str_eq(ws_error_last(), "index 10 failed");
    cr_expect_eq(atomic_load(&c.runs[10]), 1);
    /* The others finish at most the chunk they hold. */
    cr_expect_lt(atomic_load(&c.calls), n / 2, "%u jobs: %zu calls", jobs,
                 atomic_load(&c.calls));
    free(c.runs);
  }
}
