#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "xalloc.h"

typedef struct {
  int (*fn)(void *, size_t);
  void *payload;
  size_t n, next;
  int error;
  char *message;
  pthread_mutex_t mu;
} work;

static void *worker(void *arg) {
  work *w = arg;
  for (;;) {
    pthread_mutex_lock(&w->mu);
    size_t i = w->error ? w->n : w->next++;
    pthread_mutex_unlock(&w->mu);
    if (i >= w->n)
      return NULL;
    int error = w->fn(w->payload, i);
    if (error < 0) {
      pthread_mutex_lock(&w->mu);
      if (!w->error) {
        w->error = error;
        w->message = ws_xstrdup(ws_error_last());
      }
      pthread_mutex_unlock(&w->mu);
    }
  }
}

unsigned ws_pool_default_jobs(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 && n < 256 ? (unsigned)n : 1;
}

int ws_pool_run(unsigned jobs, size_t n, int (*fn)(void *payload, size_t i),
                void *payload) {
  work w = {fn, payload, n, 0, 0, NULL, PTHREAD_MUTEX_INITIALIZER};
  size_t want = jobs ? jobs : ws_pool_default_jobs();
  size_t threads = want > 1 && n > 1 ? (want < n ? want : n) : 1;
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
