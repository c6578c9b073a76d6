#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "xalloc.h"

/* Work is handed out in chunks of consecutive indices, taken with one
 * atomic add: a lock per index made the two cores pass its cache line back
 * and forth for each of the 10,000 person pages, profiles and folders. A
 * chunk is small enough (64 per thread) for the threads to finish
 * together. */
typedef struct {
  int (*fn)(void *, size_t);
  void *payload;
  size_t n, chunk;
  atomic_size_t next;
  atomic_bool failed;
  int error; /* the first failure and its message, under 'mu' */
  char *message;
  pthread_mutex_t mu;
} work;

static void fail(work *w, int error) {
  pthread_mutex_lock(&w->mu);
  if (!w->error) {
    w->error = error;
    w->message = ws_xstrdup(ws_error_last());
  }
  pthread_mutex_unlock(&w->mu);
  atomic_store_explicit(&w->failed, true, memory_order_relaxed);
}

static void *worker(void *arg) {
  work *w = arg;
  for (;;) {
    size_t i =
        atomic_fetch_add_explicit(&w->next, w->chunk, memory_order_relaxed);
    if (i >= w->n)
      return NULL;
    size_t end = w->n - i > w->chunk ? i + w->chunk : w->n;
    for (; i < end; i++) {
      if (atomic_load_explicit(&w->failed, memory_order_relaxed))
        return NULL;
      int error = w->fn(w->payload, i);
      if (error < 0) {
        fail(w, error);
        return NULL;
      }
    }
  }
}

unsigned ws_pool_default_jobs(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 && n < 256 ? (unsigned)n : 1;
}

int ws_pool_run(unsigned jobs, size_t n, int (*fn)(void *payload, size_t i),
                void *payload) {
  size_t want = jobs ? jobs : ws_pool_default_jobs();
  size_t threads = want > 1 && n > 1 ? (want < n ? want : n) : 1;
  size_t chunk = n / (threads * 64);
  work w = {.fn = fn,
            .payload = payload,
            .n = n,
            .chunk = chunk ? chunk : 1,
            .mu = PTHREAD_MUTEX_INITIALIZER};
  atomic_init(&w.next, 0);
  atomic_init(&w.failed, false);
  pthread_t *ids = ws_xcalloc(threads, sizeof(pthread_t));
  size_t started = 0;
  /* If a thread cannot be started, the ones that did (and this one) still
   * do all the work. */
  for (size_t t = 1; t < threads; t++) {
    if (pthread_create(&ids[t], NULL, worker, &w) != 0)
      break;
    started = t;
  }
  worker(&w);
  for (size_t t = 1; t <= started; t++)
    pthread_join(ids[t], NULL);
  free(ids);
  pthread_mutex_destroy(&w.mu);
  if (w.error) {
    ws_error(w.error, "%s", w.message);
    free(w.message);
  }
  return w.error;
}
