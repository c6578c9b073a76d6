/* match.h - mentoring matches, circles and the reasons behind them.
 *
 * Turns the mentoring fields of the profiles into suggested mentor-mentee
 * pairs (a min-cost maximum flow over every possible pair), mentorship
 * circles (a greedy grouping around shared topics) and unmet needs with
 * their reasons. The rules and weights are published in docs/mentoring.md;
 * the result depends only on the profiles, never on their order.
 */
#ifndef WS_MATCH_H
#define WS_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "profile.h"

/* The published weights of a pair's score (docs/mentoring.md). */
/* Coarse on purpose: the flow runs one phase per distinct path cost. */
#define WS_MATCH_W_TOPIC 2      /* per shared topic ... */
#define WS_MATCH_TOPIC_CAP 3    /* ... counting at most this many */
#define WS_MATCH_W_CROSS_TEAM 1 /* the two are on different teams */
#define WS_MATCH_W_TZ 1         /* minus this per WS_MATCH_TZ_HOURS apart */
#define WS_MATCH_TZ_HOURS 4
#define WS_MATCH_W_SPREAD 1 /* minus this per mentee the mentor has */
/** Candidates per sought type the first flow starts from: the best ones
 * and a spread of the others. Pricing adds any other pair that would
 * improve the result, so these only decide how fast the optimum is found. */
#define WS_MATCH_CANDIDATES 8
#define WS_MATCH_SPREAD_CANDIDATES 4
/** Circle sizes. */
#define WS_CIRCLE_MIN 3
#define WS_CIRCLE_MAX 8

/* One suggested pair: 'mentor' mentors 'mentee' as 'type'. */
typedef struct {
  size_t mentee, mentor; /* indices into the people given to ws_match_new */
  ws_mentor_type type;
  int score;          /* before the spreading term */
  bool reverse;       /* reverse mentoring */
  ws_strlist reasons; /* "offers coach", "both virtual", ... */
} ws_match_pair;

/* A sought type nobody could be suggested for, and why. */
typedef struct {
  size_t person;
  ws_mentor_type type;
  char *reason; /* "no one offers 'sponsor' in person in Lagos" */
} ws_match_unmet;

/* A mentorship circle around one topic. */
typedef struct {
  char *topic;     /* the most common spelling */
  char *slug;      /* ws_slugify of the topic */
  size_t *members; /* offering the topic first, then learning it */
  size_t nmembers;
  size_t noffering; /* how many of the first members offer the topic */
} ws_circle;

typedef struct ws_match {
  ws_match_pair *pairs; /* by mentee (input order), then type */
  size_t npairs;
  ws_match_unmet *unmet; /* by person (input order), then type */
  size_t nunmet;
  ws_circle *circles; /* in the order they were formed */
  size_t ncircles;
  size_t demand;    /* sought types: (seeker, type) units */
  long total_score; /* sum of pair scores */
  size_t rounds;    /* flow runs (1 unless pricing added candidates) */
  /* Per-person lookups, so pages never scan every pair for every person: */
  size_t npeople;
  size_t *mentor_start; /* npeople + 1 offsets into by_mentor */
  size_t *by_mentor;    /* pair indices grouped by mentor, in pair order */
  size_t *circle_of;    /* each person's circle, or (size_t)-1 */
  /* Read from the mentoring cache: the copy of the file that every text
   * above (reasons, topics, slugs) lies in, freed whole. NULL: each text
   * was allocated on its own. */
  char *texts;
} ws_match;

/** Matches the 'n' profiles of 'people' (any order; indices in the result
 * refer to it). Cannot fail; free the result with ws_match_free. */
ws_match *ws_match_new(ws_profile *const *people, size_t n);
/** Like ws_match_new, on 'jobs' threads (0: one per core); the result is
 * the same for any number. */
ws_match *ws_match_new_jobs(ws_profile *const *people, size_t n, unsigned jobs);
/** Frees 'm'; NULL does nothing. */
void ws_match_free(ws_match *m);
/** Fills the per-person lookups of 'm' (npeople = 'n', mentor_start,
 * by_mentor, circle_of) from its pairs and circles, whose indices must be
 * below 'n'. Used by ws_match_new and to rebuild cached matches. */
void ws_match_index(ws_match *m, size_t n);
/** Returns the first pair whose mentee is person 'i' (pairs are ordered by
 * mentee), or npairs when there is none; the person's pairs follow it. */
size_t ws_match_first_pair(const ws_match *m, size_t i);
/** Returns the first unmet need of person 'i', as ws_match_first_pair. */
size_t ws_match_first_unmet(const ws_match *m, size_t i);
/** Returns the UTC offset in minutes of the IANA zone 'tz' (standard time)
 * through 'out', or false for a zone the built-in table does not know. */
bool ws_match_tz_offset(const char *tz, int *out);

#endif
