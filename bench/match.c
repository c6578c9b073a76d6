/* bench/match.c - how fast 10,000 people get their mentoring suggestions.
 *
 * Generates a realistic organisation (teams, offices, time zones, a long
 * tail of topics, more seekers than mentors, popular and rare mentor
 * types), loads it through the profile checker, then times ws_match_new:
 * the median of 5 runs, and the peak memory the matching adds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "match.h"
#include "str.h"

#define PEOPLE 10000
#define RUNS 5

static unsigned long seed = 7;

static unsigned long rnd(unsigned long n) {
  seed = seed * 6364136223846793005ul + 1442695040888963407ul;
  return (seed >> 33) % n;
}

/* Topics follow a long tail: a few everyone knows, many only a few do. */
static unsigned long topic(void) {
  unsigned long a = rnd(150), b = rnd(150);
  return a < b ? a : b;
}

static const char *const types[] = {"advisor",    "advocate", "affirmer",
                                    "challenger", "coach",    "connector",
                                    "sponsor"};
/* Demand and supply weights per type: coaches are common, sponsors rare. */
static const unsigned long seek_w[] = {20, 8, 6, 8, 25, 10, 23};
static const unsigned long offer_w[] = {25, 10, 12, 10, 28, 10, 5};

static const char *pick_type(const unsigned long *w) {
  unsigned long r = rnd(100), acc = 0;
  for (size_t i = 0; i < 7; i++)
    if (r < (acc += w[i]))
      return types[i];
  return types[4];
}

static const char *const zones[] = {
    "Africa/Lagos",      "America/New_York", "America/Los_Angeles",
    "America/Sao_Paulo", "Asia/Kolkata",     "Asia/Tokyo",
    "Asia/Singapore",    "Europe/Berlin",    "Europe/London",
    "Europe/Warsaw",     "Australia/Sydney", "America/Chicago"};

static void put_topics(ws_str *s, const char *key, unsigned long n) {
  ws_str_printf(s, "%s: [", key);
  for (unsigned long i = 0; i < n; i++)
    ws_str_printf(s, "%stopic %lu", i ? ", " : "", topic());
  ws_str_puts(s, "]\n");
}

static ws_profile *person(size_t i) {
  ws_str s = WS_STR_INIT, slug = WS_STR_INIT;
  ws_diag diag = WS_DIAG_INIT;
  ws_profile *p = NULL;
  unsigned long office = rnd(25);
  ws_str_printf(&slug, "person-%05zu", i);
  ws_str_printf(&s, "---\nname: Person %zu\nteam: Team %lu\n", i, rnd(40));
  ws_str_printf(&s, "location: Office %lu\ntimezone: %s\n", office,
                zones[office % 12]);
  ws_str_printf(&s, "joined: %lu-%02lu-01\n", 2010 + rnd(16), 1 + rnd(12));
  if (rnd(2))
    ws_str_printf(&s, "level: %lu\n", 1 + rnd(8));
  put_topics(&s, "strengths", 3 + rnd(4));
  put_topics(&s, "learning", 1 + rnd(3));
  bool seeks = rnd(100) < 55, offers = rnd(100) < 30;
  if (seeks || offers)
    ws_str_puts(&s, "mentoring:\n");
  if (seeks) {
    ws_str_printf(&s, "  seeking:\n    types: [%s", pick_type(seek_w));
    if (rnd(2))
      ws_str_printf(&s, ", %s", pick_type(seek_w));
    ws_str_puts(&s, "]\n");
    if (rnd(5) == 0)
      ws_str_puts(&s, "    cross_team: true\n");
    ws_str_printf(&s, "    topics: [topic %lu]\n", topic());
  }
  if (offers) {
    ws_str_printf(&s, "  offering:\n    types: [%s, %s]\n", pick_type(offer_w),
                  pick_type(offer_w));
    ws_str_printf(&s, "    capacity: %lu\n    topics: [topic %lu]\n",
                  1 + rnd(3), topic());
  }
  if (seeks || offers) {
    unsigned long f = rnd(10), m = rnd(10);
    ws_str_printf(&s, "  formats: %s\n",
                  f < 6   ? "[one-on-one, group]"
                  : f < 9 ? "[one-on-one]"
                          : "[group]");
    ws_str_printf(&s, "  modes: %s\n",
                  m < 5   ? "[virtual, in-person]"
                  : m < 9 ? "[virtual]"
                          : "[in-person]");
  }
  ws_str_puts(&s, "---\nHello.\n");
  if (ws_profile_load(&p, "bench.md", slug.ptr, s.ptr, s.len, NULL, NULL,
                      &diag) < 0) {
    fprintf(stderr, "bench: generated profile rejected: %s\n%s",
            diag.len ? diag.items[0].message : "?", s.ptr);
    exit(1);
  }
  ws_diag_release(&diag);
  ws_str_release(&s);
  ws_str_release(&slug);
  return p;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time too: on a busy machine the wall clock says more about the
 * neighbours than about the matching. */
static double cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(void) {
  ws_profile **people = calloc(PEOPLE, sizeof(ws_profile *));
  double times[RUNS], cpus[RUNS];
  for (size_t i = 0; i < PEOPLE; i++)
    people[i] = person(i);
  long before = peak_kb();
  ws_match *m = NULL;
  for (int r = 0; r < RUNS; r++) {
    ws_match_free(m);
    double t0 = now(), c0 = cpu();
    m = ws_match_new(people, PEOPLE);
    times[r] = now() - t0;
    cpus[r] = cpu() - c0;
  }
  qsort(times, RUNS, sizeof(double), cmp_double);
  qsort(cpus, RUNS, sizeof(double), cmp_double);
  size_t reverse = 0;
  long spread = 0;
  for (size_t i = 0; i < m->npairs; i++)
    reverse += m->pairs[i].reverse;
  /* What the flow maximises: the scores less the spreading term. */
  for (size_t i = 0; i < PEOPLE; i++) {
    long k = (long)(m->mentor_start[i + 1] - m->mentor_start[i]);
    spread += WS_MATCH_W_SPREAD * k * (k - 1) / 2;
  }
  printf("match: %d people, %zu sought types: %zu pairs (%zu reverse), %zu "
         "unmet, %zu circles, %zu round(s)\n",
         PEOPLE, m->demand, m->npairs, reverse, m->nunmet, m->ncircles,
         m->rounds);
  printf("match: total score %ld, %ld less spreading\n", m->total_score,
         m->total_score - spread);
  printf("match: median %.1f ms of %d (min %.1f, max %.1f), CPU %.1f ms; "
         "peak memory +%.1f MB (process %.1f MB)\n",
         times[RUNS / 2] * 1e3, RUNS, times[0] * 1e3, times[RUNS - 1] * 1e3,
         cpus[RUNS / 2] * 1e3, (double)(peak_kb() - before) / 1024.0,
         (double)peak_kb() / 1024.0);
  ws_match_free(m);
  for (size_t i = 0; i < PEOPLE; i++)
    ws_profile_free(people[i]);
  free(people);
  return 0;
}
