/* pool.h - run independent pieces of work on several threads.
 *
 * Used for the per-profile work (reading and checking profiles, rendering
 * person pages). Each index writes only its own slot, so results never
 * depend on the schedule and the output is the same for any number of jobs.
 */
#ifndef WS_POOL_H
#define WS_POOL_H

#include <stddef.h>

/** Returns the default number of jobs: the number of online cores. */
unsigned ws_pool_default_jobs(void);
/** Calls fn(payload, i) for every i < n on up to 'jobs' threads (0: one per
 * core; the calling thread is one of them). Stops handing out work after the
 * first failure and returns its code with its message (ws_error is per
 * thread, so the message is carried over); 0 when every call succeeded. */
int ws_pool_run(unsigned jobs, size_t n, int (*fn)(void *payload, size_t i),
                void *payload);

#endif
