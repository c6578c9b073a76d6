#include "render.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "browse.h"
#include "contributions.h"
#include "ctxcache.h"
#include "digest.h"
#include "error.h"
#include "image.h"
#include "match.h"
#include "mentoring.h"
#include "mustache.h"
#include "pool.h"
#include "report.h"
#include "str.h"
#include "xalloc.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Digests of what the inputs of many people share, made once per build:
 * each person as mentoring.c links to them (name, slug, role, team), each
 * pair and each circle. Hashing them into every person that shows them
 * instead reached into a dozen other profiles per person. Also each
 * person's fields as the report reads them (ws_render_digest_fields),
 * made here on every core rather than by the report's one job. */
typedef struct {
  ws_digest *links;   /* by person */
  ws_digest *fields;  /* by person */
  ws_digest *history; /* by person: their ws_history */
  ws_digest *cards;   /* by person: ws_profile_card_digests */
  ws_digest *pairs;   /* by pair */
  ws_digest *circles; /* by circle */
} shared_inputs;

struct ws_renderer {
  const ws_site *site;
  ws_theme *theme;
  ws_source *src;
  ws_output *out;
  ws_value *site_ctx; /* the "site" object shared by every page */
  const char *base_url; /* its base_url, looked up once: every page needs it */
  ws_value *navs[7];  /* each section's navigation (nav_of, NAVS) */
  ws_value **people;  /* one context per person, in site order */
  char **pages;       /* page.path of every index.html written, for the
                         sitemap */
  size_t npages, cappages;
  unsigned jobs;       /* threads for the per-person work */
  pthread_mutex_t mu;  /* guards 'pages' when pages render in parallel */
  char build_date[32]; /* YYYY-MM-DD or "" */
  bool full;           /* render every page (no reuse) */
  bool record;         /* fingerprint pages (see ws_output_had_site) */
  ws_digest base;      /* the program and the templates */
  struct view *views;  /* per page template: what its pages can show */
  size_t nviews;
  ws_digest_memo *memo;     /* entry digests of the shared site and people */
  /* What every person page shows alike, and what the person template can
   * show: see person_fingerprint. */
  ws_digest person_pages;
  const struct ws_digest_keys *person_keys;
  ws_value_arena **arenas;  /* where the person contexts live */
  ws_person_shared *shared; /* tags, types, links and circles contexts share */
  /* A person whose context's entry digests an earlier build recorded for
   * the same inputs (ctxcache.h) gets an empty map, a stand-in, whose digests
   * the memo is given; it is filled in place only if a page that shows it
   * must be rendered (fill_person). */
  ws_digest program;       /* the executable's digest */
  ws_ctxcache *contexts;   /* NULL: contexts are all made */
  ws_digest *inputs;       /* per person, with 'contexts' */
  shared_inputs shared_in; /* what goes into many people's 'inputs' */
  ws_value *stand_ins;     /* per person, with 'contexts' */
  atomic_uchar *filled;    /* per person: people[i] is complete */
  size_t nstand_ins;       /* people whose context is a stand-in */
  pthread_mutex_t fill_mu; /* guards fill_arena */
  ws_value_arena *fill_arena;
  /* Cards: each person's is rendered once for all the pages where it comes
   * out the same. Person contexts are 'lasting' for it; it goes before
   * they do. */
  ws_mustache_memo *partials;
  struct size_hint *hints; /* per page template, under 'mu' */
  size_t nhints;
};
typedef ws_renderer renderer;

/* Pages of one template come out about as long as each other. A page's
 * text starts with room for the last one's: growing it from nothing took
 * a dozen steps for a person page, each copying what was there, and that
 * copying was 6% of a full build's instructions. */
struct size_hint {
  const ws_mustache *tpl;
  size_t size;
};

static size_t *hint_of(renderer *r, const ws_mustache *tpl) {
  for (size_t i = 0; i < r->nhints; i++)
    if (r->hints[i].tpl == tpl)
      return &r->hints[i].size;
  r->hints = ws_xreallocarray(r->hints, r->nhints + 1, sizeof(*r->hints));
  r->hints[r->nhints] = (struct size_hint){tpl, 0};
  return &r->hints[r->nhints++].size;
}

static void room_for(renderer *r, const ws_mustache *tpl, ws_str *html) {
  pthread_mutex_lock(&r->mu);
  size_t size = *hint_of(r, tpl);
  pthread_mutex_unlock(&r->mu);
  ws_str_grow(html, size);
}

static void note_size(renderer *r, const ws_mustache *tpl, size_t size) {
  pthread_mutex_lock(&r->mu);
  *hint_of(r, tpl) = size;
  pthread_mutex_unlock(&r->mu);
}

/* --- small builders --- */

/* Contexts point at texts that outlive them, the site's (contexts are freed
 * before the site, see render.h) and the program's, rather than copy them
 * (ws_value_borrowz): at 10,000 people the copies were megabytes of every
 * build's peak. So does this list of the site's 'l'. */
static ws_value *str_list(const ws_strlist *l) {
  ws_value *v = ws_value_list();
  for (size_t i = 0; i < l->len; i++)
    ws_value_push(v, ws_value_borrowz(l->items[i]));
  return v;
}

/* A strength (or something being learned) as a link to its page. */
static ws_value *tag_link(const char *name) {
  ws_value *t = ws_value_map();
  char *slug = ws_slugify(name);
  ws_str url = WS_STR_INIT;
  ws_str_printf(&url, "strengths/%s/", slug);
  ws_value_set_str(t, "name", name);
  ws_value_set_str(t, "slug", slug);
  ws_value_set_str(t, "url", url.ptr);
  ws_str_release(&url);
  free(slug);
  return t;
}

/* --- values person contexts share --- */

struct ws_person_shared {
  ws_mentoring_shared *mentoring;
  ws_value *types[WS_MENTOR__COUNT]; /* ws_render_mentor_type */
  /* tag name -> tag_link, open addressing; names borrowed from profiles */
  const char **names;
  ws_value **tags;
  size_t ntags, cap; /* cap: a power of two */
  ws_source *src;    /* to read a profile again: see person_body */
  /* 1 + the first person whose body could be had neither from the profile
   * cache nor from the file; 0 for none. */
  atomic_size_t lost;
};

static size_t tag_slot(const ws_person_shared *s, const char *name) {
  size_t i = (size_t)ws_str_hash(name) & (s->cap - 1);
  while (s->names[i] && strcmp(s->names[i], name) != 0)
    i = (i + 1) & (s->cap - 1);
  return i;
}

/* One value per spelling the site has (ws_site.spellings: a few dozen,
 * where the team's lists hold tens of thousands). */
static ws_person_shared *person_shared_new(const ws_site *site,
                                           ws_source *src, unsigned jobs,
                                           bool lazy) {
  ws_person_shared *s = ws_xcalloc(1, sizeof(*s));
  s->src = src;
  atomic_init(&s->lost, 0);
  s->cap = 16;
  while (s->cap < site->nspellings * 2)
    s->cap *= 2;
  s->names = ws_xcalloc(s->cap, sizeof(char *));
  s->tags = ws_xcalloc(s->cap, sizeof(ws_value *));
  for (size_t k = 0; k < site->nspellings; k++) {
    size_t i = tag_slot(s, site->spellings[k]);
    if (!s->names[i]) {
      s->names[i] = site->spellings[k];
      s->tags[i] = tag_link(site->spellings[k]);
      s->ntags++;
    }
  }
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++)
    s->types[t] = ws_render_mentor_type(t);
  s->mentoring = ws_mentoring_shared_new(site, jobs, lazy);
  return s;
}

static void person_shared_free(ws_person_shared *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->cap; i++)
    ws_value_free(s->tags[i]);
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++)
    ws_value_free(s->types[t]);
  ws_mentoring_shared_free(s->mentoring);
  free(s->names);
  free(s->tags);
  free(s);
}

/* Every shared value, for the fingerprint memo; caller frees the array.
 * The mentoring values are not among them: they are made on first use,
 * after the memo (mentoring.h), and hashed as any other value. */
static const ws_value **person_shared_values(const ws_person_shared *s,
                                             size_t *n) {
  const ws_value **all =
      ws_xcalloc(s->ntags + WS_MENTOR__COUNT + 1, sizeof(ws_value *));
  *n = 0;
  for (size_t i = 0; i < s->cap; i++)
    if (s->tags[i])
      all[(*n)++] = s->tags[i];
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++)
    all[(*n)++] = s->types[t];
  return all;
}

static ws_value *tag_links(const ws_strlist *l, const ws_person_shared *s) {
  ws_value *v = ws_value_list();
  for (size_t i = 0; i < l->len; i++) {
    const ws_value *shared = s ? s->tags[tag_slot(s, l->items[i])] : NULL;
    ws_value_push(v, shared ? ws_value_ref(shared) : tag_link(l->items[i]));
  }
  return v;
}

ws_value *ws_render_mentor_type(ws_mentor_type t) {
  ws_value *m = ws_value_map();
  ws_str url = WS_STR_INIT;
  ws_str_printf(&url, "mentoring/%s/", ws_mentor_type_name(t));
  ws_value_set_str(m, "name", ws_mentor_type_name(t));
  ws_value_set_str(m, "definition", ws_mentor_type_definition(t));
  ws_value_set_str(m, "url", url.ptr);
  ws_str_release(&url);
  return m;
}

static ws_value *type_list(unsigned bits, const ws_person_shared *s) {
  ws_value *v = ws_value_list();
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++)
    if (bits & (1u << t))
      ws_value_push(v,
                    s ? ws_value_ref(s->types[t]) : ws_render_mentor_type(t));
  return v;
}

static ws_value *names_of(unsigned bits, const char *const *names, size_t n) {
  ws_value *v = ws_value_list();
  for (size_t i = 0; i < n; i++)
    if (bits & (1u << i))
      ws_value_push(v, ws_value_borrowz(names[i]));
  return v;
}

static ws_value *type_names(unsigned bits) {
  ws_value *v = ws_value_list();
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++)
    if (bits & (1u << t))
      ws_value_push(v, ws_value_borrowz(ws_mentor_type_name(t)));
  return v;
}

/* --- avatars --- */

static size_t utf8_len(unsigned char c) {
  return c < 0x80         ? 1
         : (c >> 5) == 6  ? 2
         : (c >> 4) == 14 ? 3
         : (c >> 3) == 30 ? 4
                          : 1;
}

/* Decodes the character at 's' (at most 'len' bytes) into '*cp'; returns
 * its length. A truncated or stray byte is U+FFFD, length 1. */
static size_t next_cp(const char *s, size_t len, unsigned *cp) {
  const unsigned char *u = (const unsigned char *)s;
  size_t n = utf8_len(u[0]);
  if (n > len)
    n = 1;
  for (size_t i = 1; i < n; i++)
    if ((u[i] & 0xc0) != 0x80)
      n = 1;
  if (n == 1) {
    *cp = u[0] < 0x80 ? u[0] : 0xfffd;
    return 1;
  }
  *cp = u[0] & (0x7fu >> n);
  for (size_t i = 1; i < n; i++)
    *cp = (*cp << 6) | (u[i] & 0x3fu);
  return n;
}

/* Indic scripts (Devanagari to Malayalam) share one layout per 128-code
 * block: vowel signs, nukta and virama sit at the same offsets. */
static bool is_indic_mark(unsigned cp) {
  if (cp < 0x900 || cp > 0xd7f)
    return false;
  unsigned off = cp & 0x7f;
  return off <= 0x03 || (off >= 0x3a && off <= 0x4f && off != 0x3d) ||
         (off >= 0x51 && off <= 0x57) || off == 0x62 || off == 0x63;
}

/* Marks that belong to the letter before them: combining diacritics, Indic
 * and Thai vowel signs and viramas, Arabic harakat, Hangul conjoining
 * vowels, variation selectors, skin tones, keycaps and emoji tags. */
static bool is_mark(unsigned cp) {
  return (cp >= 0x300 && cp <= 0x36f) || is_indic_mark(cp) ||
         (cp >= 0x64b && cp <= 0x65f) || cp == 0x670 || cp == 0xe31 ||
         (cp >= 0xe34 && cp <= 0xe3a) || (cp >= 0xe47 && cp <= 0xe4e) ||
         (cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
         (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
         (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xfe20 && cp <= 0xfe2f) ||
         (cp >= 0x1f3fb && cp <= 0x1f3ff) || (cp >= 0xe0020 && cp <= 0xe007f) ||
         (cp >= 0xe0100 && cp <= 0xe01ef);
}

/* A virama or a zero-width joiner glues the next character to this one:
 * "प्रि" and a family emoji are one letter each. */
static bool is_joiner(unsigned cp) {
  return cp == 0x200d || (is_indic_mark(cp) && (cp & 0x7f) == 0x4d);
}

static bool is_regional(unsigned cp) {
  return cp >= 0x1f1e6 && cp <= 0x1f1ff;
}

/* Scripts whose letters join: two initials side by side would read as a
 * word, so a zero-width non-joiner keeps them apart. */
static bool is_joining_script(unsigned cp) {
  return (cp >= 0x600 && cp <= 0x8ff) || (cp >= 0xfb50 && cp <= 0xfeff);
}

/* The capital of a lowercase letter in Latin-1, Latin Extended-A, Greek,
 * Cyrillic and Vietnamese; other characters are returned as they are. */
static unsigned to_upper(unsigned cp) {
  if ((cp >= 'a' && cp <= 'z') || (cp >= 0xe0 && cp <= 0xfe && cp != 0xf7) ||
      (cp >= 0x3b1 && cp <= 0x3c9 && cp != 0x3c2) ||
      (cp >= 0x430 && cp <= 0x44f))
    return cp - 0x20;
  if (cp >= 0x450 && cp <= 0x45f)
    return cp - 0x50;
  if (((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177) ||
       (cp >= 0x1ea0 && cp <= 0x1ef9)) &&
      (cp & 1))
    return cp - 1;
  if (((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e)) &&
      !(cp & 1))
    return cp - 1;
  return cp;
}

static void put_cp(ws_str *out, unsigned cp) {
  if (cp < 0x80) {
    ws_str_putc(out, (char)cp);
  } else if (cp < 0x800) {
    ws_str_putc(out, (char)(0xc0 | (cp >> 6)));
    ws_str_putc(out, (char)(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    ws_str_putc(out, (char)(0xe0 | (cp >> 12)));
    ws_str_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
    ws_str_putc(out, (char)(0x80 | (cp & 0x3f)));
  } else {
    ws_str_putc(out, (char)(0xf0 | (cp >> 18)));
    ws_str_putc(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
    ws_str_putc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
    ws_str_putc(out, (char)(0x80 | (cp & 0x3f)));
  }
}

/* Appends the first letter of 's' with everything that belongs to it: its
 * marks, what a joiner glues on, the second half of a flag. Returns the
 * letter's first code point. */
static unsigned put_first_letter(ws_str *out, const char *s, size_t len) {
  unsigned first, cp;
  size_t i = next_cp(s, len, &first);
  put_cp(out, to_upper(first));
  bool glue = false;
  if (is_regional(first) && i < len) {
    size_t k = next_cp(s + i, len - i, &cp);
    if (is_regional(cp)) {
      ws_str_put(out, s + i, k);
      i += k;
    }
  }
  while (i < len) {
    size_t k = next_cp(s + i, len - i, &cp);
    if (!glue && !is_mark(cp) && cp != 0x200d)
      break;
    ws_str_put(out, s + i, k);
    glue = is_joiner(cp);
    i += k;
  }
  return first;
}

static bool is_space(const char *s, size_t len, size_t *skip) {
  unsigned cp;
  *skip = next_cp(s, len, &cp);
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == 0xa0 || cp == 0x3000;
}

/* Letters, digits and anything beyond ASCII (except spaces) can start a
 * word; ASCII punctuation such as quotes and parentheses cannot. */
static bool starts_word(unsigned char c) {
  return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

/* The part of the name before a parenthesised transliteration, as in
 * "中村 葵 (Aoi Nakamura)", so initials never mix two scripts; the whole
 * name when nothing comes before the parenthesis. */
static size_t main_part(const char *name) {
  size_t len = strlen(name);
  const char *paren = strchr(name, '(');
  const char *wide = strstr(name, "\xef\xbc\x88"); /* U+FF08 */
  if (wide && (!paren || wide < paren))
    paren = wide;
  if (!paren)
    return len;
  for (const char *p = name; p < paren; p++)
    if (starts_word((unsigned char)*p))
      return (size_t)(paren - name);
  return len;
}

char *ws_render_initials(const char *name) {
  const char *words[2] = {NULL, NULL};
  size_t lens[2] = {0, 0}, len = main_part(name), i = 0, skip;
  /* Words are separated by spaces only: "Ellison-Hayes" and "O'Brien" are
   * one word each, and a word's letter is its first one. */
  while (i < len) {
    if (is_space(name + i, len - i, &skip)) {
      i += skip;
      continue;
    }
    size_t letter = (size_t)-1;
    while (i < len && !is_space(name + i, len - i, &skip)) {
      if (letter == (size_t)-1 && starts_word((unsigned char)name[i]))
        letter = i;
      i += skip;
    }
    if (letter == (size_t)-1)
      continue;
    size_t w = words[0] ? 1 : 0;
    words[w] = name + letter;
    lens[w] = i - letter;
  }
  ws_str out = WS_STR_INIT;
  unsigned first = 0;
  for (size_t w = 0; w < 2; w++) {
    if (!words[w])
      continue;
    if (w == 1 && is_joining_script(first))
      put_cp(&out, 0x200c);
    unsigned cp = put_first_letter(&out, words[w], lens[w]);
    if (w == 0)
      first = cp;
  }
  if (!out.len)
    ws_str_putc(&out, '?');
  return ws_str_detach(&out);
}

unsigned ws_render_hue(const char *slug) {
  return ws_str_hash32(slug) % 360;
}

/* --- the person context --- */

static void set_photo(ws_value *v, const ws_profile *p) {
  if (!p->photo || p->photo_type == WS_IMAGE_UNKNOWN)
    return;
  ws_value *ph = ws_value_map();
  ws_str src = WS_STR_INIT;
  ws_str_printf(&src, "people/%s/photo.%s", p->slug,
                ws_image_ext(p->photo_type));
  ws_value_set_str(ph, "src", src.ptr);
  ws_value_set_num(ph, "width", p->photo_w);
  ws_value_set_num(ph, "height", p->photo_h);
  ws_str_release(&src);
  ws_value_set(v, "photo", ph);
}

static ws_value *mentoring_value(const ws_profile *p,
                                 const ws_person_shared *s) {
  static const char *const formats[] = {"one-on-one", "group"};
  static const char *const modes[] = {"virtual", "in-person"};
  ws_value *m = ws_value_map();
  ws_value *seek = ws_value_map(), *offer = ws_value_map();
  ws_value_set(seek, "types", type_list(p->seek_types, s));
  ws_value_set_list(seek, "topics", str_list(&p->seek_topics));
  ws_value_set_bool(seek, "cross_team", p->cross_team);
  ws_value_set(offer, "types", type_list(p->offer_types, s));
  ws_value_set_list(offer, "topics", str_list(&p->offer_topics));
  ws_value_set_num(offer, "capacity", p->capacity);
  ws_value_set(m, "seeking", seek);
  ws_value_set(m, "offering", offer);
  ws_value_set_bool(m, "is_seeking", p->seek_types != 0);
  ws_value_set_bool(m, "is_offering", p->offer_types != 0);
  ws_value_set_list(m, "formats", names_of(p->formats, formats, 2));
  ws_value_set_list(m, "modes", names_of(p->modes, modes, 2));
  return m;
}

static const char *const month_names[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

/* Dates are formatted for every event of the history (50,000 and more)
 * on every build: digits by ws_str_put_int, not printf; and the calendar
 * is worked out here (Howard Hinnant's algorithms for civil dates), since
 * gmtime_r takes a lock that threads rendering dates wait on. */
long long ws_render_days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  long long era = (y >= 0 ? y : y - 399) / 400;
  long long yoe = y - era * 400;                                   /* 0-399 */
  long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0-365 */
  long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void ws_render_person_url(ws_str *out, const char *slug) {
  ws_str_puts(out, "people/");
  ws_str_puts(out, slug);
  ws_str_putc(out, '/');
}

bool ws_render_utc(struct tm *tm, long long t) {
  long long days = t / 86400, secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    days--;
  }
  long long z = days + 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  long long doe = z - era * 146097; /* 0-146096 */
  long long yoe =
      (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0-399 */
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);   /* 0-365 */
  long long mp = (5 * doy + 2) / 153;                        /* 0-11 */
  long long y = yoe + era * 400 + (mp >= 10);
  if (y - 1900 > INT_MAX || y - 1900 < INT_MIN)
    return false; /* where gmtime_r gives up too */
  memset(tm, 0, sizeof(*tm));
  tm->tm_year = (int)(y - 1900);
  tm->tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);
  tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
  tm->tm_hour = (int)(secs / 3600);
  tm->tm_min = (int)(secs / 60 % 60);
  tm->tm_sec = (int)(secs % 60);
  tm->tm_wday = (int)((days % 7 + 11) % 7); /* 1 January 1970 was a Thursday */
  tm->tm_yday = (int)(days - ws_render_days_from_civil(y, 1, 1));
  return true;
}

void ws_render_date_tm(ws_str *out, const struct tm *tm) {
  ws_str_put_int(out, tm->tm_mday, 0);
  ws_str_putc(out, ' ');
  ws_str_puts(out, month_names[tm->tm_mon]);
  ws_str_putc(out, ' ');
  ws_str_put_int(out, tm->tm_year + 1900, 0);
}

void ws_render_iso_tm(ws_str *out, const struct tm *tm, bool date_only) {
  ws_str_put_int(out, tm->tm_year + 1900, 4);
  ws_str_putc(out, '-');
  ws_str_put_int(out, tm->tm_mon + 1, 2);
  ws_str_putc(out, '-');
  ws_str_put_int(out, tm->tm_mday, 2);
  if (date_only)
    return;
  ws_str_putc(out, 'T');
  ws_str_put_int(out, tm->tm_hour, 2);
  ws_str_putc(out, ':');
  ws_str_put_int(out, tm->tm_min, 2);
  ws_str_putc(out, ':');
  ws_str_put_int(out, tm->tm_sec, 2);
  ws_str_putc(out, 'Z');
}

void ws_render_date(ws_str *out, long long t) {
  struct tm tm;
  if (ws_render_utc(&tm, t))
    ws_render_date_tm(out, &tm);
}

void ws_render_iso(ws_str *out, long long t, bool date_only) {
  struct tm tm;
  if (ws_render_utc(&tm, t))
    ws_render_iso_tm(out, &tm, date_only);
}

static void set_date(ws_value *map, const char *key, long long t) {
  ws_str s = WS_STR_INIT, iso = WS_STR_INIT, k = WS_STR_INIT;
  ws_render_date(&s, t);
  ws_render_iso(&iso, t, true);
  ws_str_printf(&k, "%s_iso", key);
  ws_value_set_str(map, key, s.ptr);
  ws_value_set_str(map, k.ptr, iso.ptr);
  ws_str_release(&s);
  ws_str_release(&iso);
  ws_str_release(&k);
}

static ws_value *history_value(const ws_history *h) {
  ws_value *v = ws_value_map();
  ws_str s = WS_STR_INIT;
  set_date(v, "since", h->first_time);
  ws_value_set_borrowed(v, "since_author", h->first_author);
  ws_value_set_bool(v, "partial", h->partial);
  set_date(v, "updated", h->last_time);
  ws_value_set_borrowed(v, "updated_author", h->last_author);
  ws_value_set_borrowed(v, "subject", h->last_subject);
  ws_value_set_borrowed(v, "commit", h->last_commit);
  ws_str_put(&s, h->last_commit, strlen(h->last_commit) < 7 ? 0 : 7);
  ws_value_set_str(v, "short_commit", s.ptr);
  ws_value_set_num(v, "revisions", (double)h->revisions);
  ws_str_clear(&s);
  ws_str_printf(&s, "%zu revision%s", h->revisions,
                h->revisions == 1 ? "" : "s");
  ws_value_set_str(v, "revisions_label", s.ptr);
  ws_value_set_bool(v, "was_updated", h->revisions > 1);
  ws_value_set_list(v, "authors", str_list(&h->authors));
  ws_str_release(&s);
  return v;
}

/* The body of person 'i': from the profile, or, when the profile cache's
 * copy was damaged, from the file parsed again into '*again' (caller
 * frees). NULL, noted in 'shared', when neither can be had. */
static const char *person_body(const ws_person_shared *shared, size_t i,
                               const ws_profile *p, char **again) {
  const char *body = ws_profile_body(p);
  if (body || !p->cached_body)
    return body;
  if (shared && shared->src && (*again = ws_site_body_again(shared->src, p)))
    return *again;
  if (shared) {
    size_t none = 0;
    atomic_compare_exchange_strong(&((ws_person_shared *)shared)->lost, &none,
                                   i + 1);
  }
  return NULL;
}

/* Fails the build when a body was lost (see person_body). */
static int bodies_found(const renderer *r) {
  size_t lost = atomic_load(&r->shared->lost);
  if (!lost)
    return 0;
  return ws_error(WS_ERROR,
                  "%s: the profile cache's copy of its body is damaged, and "
                  "the file could not be read again",
                  r->site->people[lost - 1]->path);
}

/* The most keys a person context has: a fuller profile is still right,
 * only a little less compact. */
#define PERSON_KEYS 33

ws_value *ws_render_person(const ws_site *site, const ws_person_shared *shared,
                           size_t i) {
  const ws_profile *p = site->people[i];
  ws_value *v = ws_value_map();
  ws_str url = WS_STR_INIT;
  ws_value_map_reserve(v, PERSON_KEYS);
  /* The keys up to "hue" are added, not looked for first: each is added
   * once, to a map that starts empty. */
  ws_render_person_url(&url, p->slug);
  ws_value_add(v, "slug", ws_value_borrowz(p->slug));
  ws_value_add(v, "url", ws_value_string(url.ptr, url.len));
  ws_str_release(&url);
  struct {
    const char *key, *val;
  } texts[] = {{"name", p->name},
               {"pronouns", p->pronouns},
               {"pronunciation", p->pronunciation},
               {"role", p->role},
               {"team", p->team},
               {"location", p->location},
               {"timezone", p->timezone},
               {"joined", p->joined},
               {"dream_job", p->dream_job},
               {"summary", p->summary}};
  for (size_t k = 0; k < COUNT(texts); k++)
    if (texts[k].val && *texts[k].val)
      ws_value_add(v, texts[k].key, ws_value_borrowz(texts[k].val));
  /* The body is most of a profile's size; the site outlives every
   * context, so the context points at the profile's copy. */
  char *again = NULL;
  const char *body = person_body(shared, i, p, &again);
  if (body && *body)
    ws_value_add(v, "body", again ? ws_value_strz(again)
                                  : ws_value_borrowz(body));
  free(again);
  if (p->team) {
    char *slug = ws_slugify(p->team);
    ws_str turl = WS_STR_INIT;
    ws_str_puts(&turl, "teams/");
    ws_str_puts(&turl, slug);
    ws_str_putc(&turl, '/');
    ws_value_add(v, "team_url", ws_value_string(turl.ptr, turl.len));
    ws_value_add(v, "team_slug", ws_value_strz(slug));
    ws_str_release(&turl);
    free(slug);
  }
  char *initials = ws_render_initials(p->name);
  ws_value_add(v, "initials", ws_value_strz(initials));
  free(initials);
  ws_value_add(v, "hue", ws_value_number(ws_render_hue(p->slug)));
  set_photo(v, p);
  ws_value_set_list(v, "strengths", tag_links(&p->strengths, shared));
  ws_strlist top = {p->strengths.items,
                    p->strengths.len < 3 ? p->strengths.len : 3};
  ws_value_set_list(v, "top_strengths", tag_links(&top, shared));
  ws_value_set_list(v, "learning", tag_links(&p->learning, shared));
  ws_value_set_list(v, "passion_projects", str_list(&p->passion_projects));
  ws_value_set(v, "mentoring", mentoring_value(p, shared));
  if (p->goal_short || p->goal_long) {
    ws_value *g = ws_value_map();
    ws_value_set_borrowed(g, "short_term", p->goal_short);
    ws_value_set_borrowed(g, "long_term", p->goal_long);
    ws_value_set(v, "goals", g);
  }
  if (p->links)
    ws_value_set_list(v, "links", ws_value_copy(p->links));
  if (p->history.known)
    ws_value_set(v, "history", history_value(&p->history));
  ws_mentoring_person(v, site, shared ? shared->mentoring : NULL, i);
  return v;
}

/* --- what a person context is made from --- */

/* Texts that may be missing are hashed with ws_digester_text: NULL and ""
 * are told apart, since some keys are set for either (goals) and others
 * only for a text that is not empty. */

static void put_list(ws_digester *d, const ws_strlist *l) {
  ws_digester_texts(d, l->items, l->len);
}

static ws_digest end_digest(ws_digester *d) {
  ws_digest out = ws_digester_end(d);
  ws_digester_free(d);
  return out;
}

static ws_digest pair_digest(const ws_match_pair *p, const ws_digest *links) {
  ws_digester *d = ws_digester_new();
  ws_digester_num(d, p->type);
  ws_digester_num(d, (unsigned long long)(long long)p->score);
  ws_digester_num(d, p->reverse);
  put_list(d, &p->reasons);
  ws_digester_digest(d, &links[p->mentee]);
  ws_digester_digest(d, &links[p->mentor]);
  return end_digest(d);
}

static ws_digest circle_digest(const ws_circle *c, const ws_digest *links) {
  ws_digester *d = ws_digester_new();
  ws_digester_text(d, c->topic);
  ws_digester_text(d, c->slug);
  ws_digester_num(d, c->nmembers);
  ws_digester_num(d, c->noffering);
  for (size_t k = 0; k < c->nmembers; k++)
    ws_digester_digest(d, &links[c->members[k]]);
  return end_digest(d);
}

/* What ws_mentoring_person shows of person 'i': their pairs as mentee and
 * as mentor, their unmet needs and their circle, in its order. */
static void put_suggestions(ws_digester *d, const ws_site *site,
                            const shared_inputs *sh, size_t i) {
  const ws_match *m = site->matches;
  if (!m) {
    ws_digester_num(d, 0);
    return;
  }
  ws_digester_num(d, 1);
  size_t from = ws_match_first_pair(m, i), to = from;
  while (to < m->npairs && m->pairs[to].mentee == i)
    to++;
  ws_digester_num(d, to - from);
  for (size_t k = from; k < to; k++)
    ws_digester_digest(d, &sh->pairs[k]);
  ws_digester_num(d, m->mentor_start[i + 1] - m->mentor_start[i]);
  for (size_t k = m->mentor_start[i]; k < m->mentor_start[i + 1]; k++)
    ws_digester_digest(d, &sh->pairs[m->by_mentor[k]]);
  from = to = ws_match_first_unmet(m, i);
  while (to < m->nunmet && m->unmet[to].person == i)
    to++;
  ws_digester_num(d, to - from);
  for (size_t k = from; k < to; k++) {
    ws_digester_num(d, m->unmet[k].type);
    ws_digester_text(d, m->unmet[k].reason);
  }
  if (m->circle_of[i] == (size_t)-1) {
    ws_digester_num(d, 0);
    return;
  }
  ws_digester_num(d, 1);
  ws_digester_digest(d, &sh->circles[m->circle_of[i]]);
}

static void put_history(ws_digester *d, const ws_history *h) {
  ws_digester_num(d, h->known);
  if (!h->known)
    return;
  ws_digester_num(d, h->partial);
  ws_digester_num(d, (unsigned long long)h->first_time);
  ws_digester_num(d, (unsigned long long)h->last_time);
  ws_digester_text(d, h->first_author);
  ws_digester_text(d, h->last_author);
  ws_digester_text(d, h->last_subject);
  ws_digester_text(d, h->last_commit);
  ws_digester_num(d, h->revisions);
  put_list(d, &h->authors);
}

/* The digest of everything ws_render_person reads to make person 'i''s
 * context: a context is a function of these alone (and of the program),
 * so one whose inputs are unchanged has the entry digests recorded for
 * it (ctxcache.h). Keep it in step with ws_render_person and
 * ws_mentoring_person: a field read there and not hashed here would let a
 * page keep what that field showed before (the fields of cards are
 * hashed by ws_profile_card_digests). A profile from the profile cache
 * comes with a digest of all of its fields (profile.h), which spares
 * hashing its body again; one just parsed is hashed by its card digest,
 * summary and body. */
static ws_digest person_inputs(const ws_site *site, const shared_inputs *sh,
                               size_t i) {
  const ws_profile *p = site->people[i];
  ws_digester *d = ws_digester_new();
  if (p->digest.hi || p->digest.lo) {
    ws_digester_bytes(d, "cached", 6);
    ws_digester_digest(d, &p->digest);
  } else {
    ws_digester_bytes(d, "parsed", 6);
    ws_digester_digest(d, &sh->cards[i]);
    ws_digester_text(d, p->summary);
    ws_digester_text(d, p->body_html);
  }
  ws_digester_digest(d, &sh->history[i]);
  put_suggestions(d, site, sh, i);
  return end_digest(d);
}

/* --- pages --- */

static const struct {
  const char *label, *path, *section;
} nav_items[] = {{"People", "", "people"},
                 {"Strengths", "strengths/", "strengths"},
                 {"Teams", "teams/", "teams"},
                 {"Mentoring", "mentoring/", "mentoring"},
                 {"Contributions", "contributions/", "contributions"},
                 {"Report", "report/", "report"}};

/* The navigation of each section, made once per build: every page shows
 * one, and its links are maps the fingerprint memo knows (make_memo), so
 * 10,000 pages neither make nor hash 10,000 copies. The last one is for
 * pages in no section (404). */
#define NAVS (COUNT(nav_items) + 1)
_Static_assert(NAVS == COUNT(((renderer *)0)->navs), "one per section");

static ws_value *nav_value(const char *section) {
  ws_value *nav = ws_value_list();
  for (size_t i = 0; i < COUNT(nav_items); i++) {
    ws_value *n = ws_value_map();
    ws_value_set_str(n, "label", nav_items[i].label);
    ws_value_set_str(n, "href", nav_items[i].path);
    ws_value_set_bool(n, "current", strcmp(section, nav_items[i].section) == 0);
    ws_value_push(nav, n);
  }
  return nav;
}

static size_t nav_index(const char *section) {
  for (size_t i = 0; i < COUNT(nav_items); i++)
    if (strcmp(section, nav_items[i].section) == 0)
      return i;
  return COUNT(nav_items);
}

/* A list of references to the shared links of 'section'. */
static ws_value *nav_of(const renderer *r, const char *section) {
  const ws_value *shared = r->navs[nav_index(section)];
  ws_value *nav = ws_value_list();
  for (size_t i = 0; i < shared->u.list.len; i++)
    ws_value_push(nav, ws_value_ref(shared->u.list.items[i]));
  return nav;
}

/* Every page links relative to itself, so the site works from any folder,
 * from file:// and under any base URL. */
static char *root_for(const char *path) {
  ws_str root = WS_STR_INIT;
  for (const char *p = path; *p; p++)
    if (*p == '/')
      ws_str_puts(&root, "../");
  return ws_str_detach(&root);
}

typedef ws_page page_info;

/* A person page's fingerprint does not hash this context: keep
 * person_fingerprint in step with what goes into it. */
ws_value *ws_render_context(ws_renderer *r, const ws_page *pg) {
  ws_value *ctx = ws_value_map();
  ws_value *page = ws_value_map();
  char *root = root_for(pg->file);
  const char *base = r->base_url;
  ws_str path = WS_STR_INIT, canon = WS_STR_INIT;
  ws_str_puts(&path, pg->file);
  if (path.len >= 10 && strcmp(path.ptr + path.len - 10, "index.html") == 0)
    ws_str_truncate(&path, path.len - 10);
  if (base && *base) {
    ws_str_puts(&canon, base);
    ws_str_put(&canon, path.ptr, path.len);
  }
  /* Borrowed, not copied: a person's summary is the description of their
   * page, 10,000 of them a build, kept pages too. */
  ws_value_set_borrowed(page, "title", pg->title);
  ws_value_set_borrowed(page, "description", pg->description);
  ws_value_set_str(page, "path", path.ptr);
  if (canon.len)
    ws_value_set_str(page, "canonical", canon.ptr);
  ws_value_set_borrowed(page, "section", pg->section);
  ws_value_set(ctx, "site", ws_value_ref(r->site_ctx));
  ws_value_set(ctx, "page", page);
  ws_value_set_str(ctx, "root", root);
  ws_value_set(ctx, "nav", nav_of(r, pg->section));
  free(root);
  ws_str_release(&path);
  ws_str_release(&canon);
  return ctx;
}

/* Every family's pages reach the sitemap without the family listing them
 * again: a page is an index.html; 404.html and fragments are not. */
static void record_page(renderer *r, const char *file) {
  size_t n = strlen(file);
  if (n < 10 || strcmp(file + n - 10, "index.html") != 0)
    return;
  char *path = ws_xstrndup(file, n - 10);
  pthread_mutex_lock(&r->mu);
  if (r->npages == r->cappages) {
    r->cappages = r->cappages ? r->cappages * 2 : 1024;
    r->pages = ws_xreallocarray(r->pages, r->cappages, sizeof(char *));
  }
  r->pages[r->npages++] = path;
  pthread_mutex_unlock(&r->mu);
}

/* --- page fingerprints --- */

/* What pages of one template can show: the context keys named in it and in
 * every partial and parent it includes (NULL: any key, when it includes a
 * dynamic name), and the digests of the shared values under those keys. A
 * change to a field no such template names (a paragraph of a body, on the
 * directory) leaves those pages' fingerprints as they were. */
typedef struct view {
  char *template;
  ws_digest_keys *keys;
} view;

typedef struct {
  renderer *r;
  ws_digest_keys *keys;
  char **queue; /* templates still to read */
  size_t nqueue;
  char **seen;
  size_t nseen;
  bool any; /* a dynamic name: every key counts */
} closure;

static void closure_key(const char *name, void *payload) {
  ws_digest_keys_add(((closure *)payload)->keys, name);
}

static void closure_include(const char *name, void *payload) {
  closure *c = payload;
  if (!name) {
    c->any = true;
    return;
  }
  for (size_t i = 0; i < c->nseen; i++)
    if (strcmp(c->seen[i], name) == 0)
      return;
  c->seen = ws_xreallocarray(c->seen, c->nseen + 1, sizeof(char *));
  c->seen[c->nseen++] = ws_xstrdup(name);
  c->queue = ws_xreallocarray(c->queue, c->nqueue + 1, sizeof(char *));
  c->queue[c->nqueue++] = c->seen[c->nseen - 1];
}

/* The keys of 'name' and of everything it includes; NULL for any key. A
 * partial that does not exist renders as nothing and names nothing. */
static ws_digest_keys *template_keys(renderer *r, const char *name) {
  closure c = {r, ws_digest_keys_new(), NULL, 0, NULL, 0, false};
  closure_include(name, &c);
  while (c.nqueue && !c.any) {
    const ws_mustache *tpl;
    const char *next = c.queue[--c.nqueue];
    if (ws_theme_template(&tpl, r->theme, next) == 0)
      ws_mustache_names(tpl, closure_key, closure_include, &c);
  }
  for (size_t i = 0; i < c.nseen; i++)
    free(c.seen[i]);
  free(c.seen);
  free(c.queue);
  if (c.any) {
    ws_digest_keys_free(c.keys);
    return NULL;
  }
  return c.keys;
}

/* Person contexts are borrowed by many pages (cards on the directory, on
 * strength and team pages): each entry of each is hashed once, when a page
 * first meets it, and pages then hash only those digests. */
static void make_memo(renderer *r) {
  size_t n = r->site->npeople, nm = 0, k = 0;
  const ws_value **more = person_shared_values(r->shared, &nm);
  const ws_value **shared =
      ws_xcalloc(n + 1 + nm + NAVS * COUNT(nav_items), sizeof(ws_value *));
  for (size_t i = 0; i < n; i++)
    shared[k++] = r->people[i];
  shared[k++] = r->site_ctx;
  for (size_t i = 0; i < nm; i++)
    shared[k++] = more[i];
  for (size_t i = 0; i < NAVS; i++)
    for (size_t j = 0; j < r->navs[i]->u.list.len; j++)
      shared[k++] = r->navs[i]->u.list.items[j];
  r->memo = ws_digest_memo_new(shared, k);
  free(shared);
  free(more);
}

/* The keys pages of template 'name' can show (NULL: any), found on first
 * use; pages render on several threads, so finding them holds the lock
 * (once per template, not per page). What is returned is the key set
 * itself, which never moves, not its place in 'views', which may. */
static const ws_digest_keys *keys_for(renderer *r, const char *name) {
  const ws_digest_keys *keys = NULL;
  bool found = false;
  pthread_mutex_lock(&r->mu);
  for (size_t i = 0; i < r->nviews && !found; i++)
    if (strcmp(r->views[i].template, name) == 0) {
      keys = r->views[i].keys;
      found = true;
    }
  if (!found) {
    view v = {ws_xstrdup(name), template_keys(r, name)};
    r->views = ws_xreallocarray(r->views, r->nviews + 1, sizeof(view));
    r->views[r->nviews++] = v;
    keys = v.keys;
  }
  pthread_mutex_unlock(&r->mu);
  return keys;
}

static void views_free(renderer *r) {
  for (size_t i = 0; i < r->nviews; i++) {
    free(r->views[i].template);
    ws_digest_keys_free(r->views[i].keys);
  }
  free(r->views);
}

/* Everything a page is made from: the program and templates, which
 * template, where it goes, what of its context the template can show, and
 * the inputs of what its context will get only if it is rendered. */
static ws_digest page_fingerprint(renderer *r, const ws_page *pg,
                                  const ws_value *ctx,
                                  const ws_page_rest *rest) {
  const ws_digest_keys *keys = keys_for(r, pg->template);
  ws_digester *d = ws_digester_new();
  ws_digester_digest(d, &r->base);
  ws_digester_str(d, pg->template);
  ws_digester_str(d, pg->file);
  ws_digester_value(d, ctx, r->memo, keys);
  if (rest)
    rest->inputs(r, pg, d, rest->payload);
  ws_digest fp = ws_digester_end(d);
  ws_digester_free(d);
  return fp;
}

/* Makes the context of person 'i' in its stand-in, once, from any thread.
 * Pages being fingerprinted meanwhile never read a stand-in (the memo has its
 * digests), and a page that shows it is rendered only after this. */
static void fill_person(renderer *r, size_t i) {
  if (atomic_load_explicit(&r->filled[i], memory_order_acquire))
    return;
  pthread_mutex_lock(&r->fill_mu);
  if (!atomic_load_explicit(&r->filled[i], memory_order_relaxed)) {
    ws_value_arena *before = ws_value_arena_use(r->fill_arena);
    ws_value *v = ws_render_person(r->site, r->shared, i);
    ws_value_arena_use(before);
    r->stand_ins[i].u.map = v->u.map; /* 'v' itself stays in the arena */
    r->stand_ins[i].lasting = true;
    atomic_store_explicit(&r->filled[i], 1, memory_order_release);
  }
  pthread_mutex_unlock(&r->fill_mu);
}

/* Fills every stand-in that 'v' refers to. Only page contexts refer to person
 * contexts, and nothing a reference leads to refers to one, so references
 * are not followed. */
static void fill_reachable(renderer *r, const ws_value *v) {
  uintptr_t at, first = (uintptr_t)r->stand_ins;
  switch (v->type) {
  case WS_VALUE_REF: /* compared as numbers: it may point anywhere */
    at = (uintptr_t)v->u.ref;
    if (at >= first && at < first + r->site->npeople * sizeof(ws_value))
      fill_person(r, (at - first) / sizeof(ws_value));
    break;
  case WS_VALUE_LIST:
    for (size_t i = 0; i < v->u.list.len; i++)
      fill_reachable(r, v->u.list.items[i]);
    break;
  case WS_VALUE_MAP:
    for (size_t i = 0; i < v->u.map.len; i++)
      fill_reachable(r, v->u.map.entries[i].val);
    break;
  default:
    break;
  }
}

/* Tells whether the page 'pg' of fingerprint 'fp' can be kept; then it is
 * recorded for the sitemap. */
static bool page_kept(renderer *r, const ws_page *pg, const ws_digest *fp) {
  if (!r->record || r->full || !ws_output_reuse(r->out, pg->file, fp))
    return false;
  record_page(r, pg->file);
  return true;
}

/* Renders 'pg' from 'ctx' (freed here) and writes it, recorded with its
 * fingerprint 'fp' when fingerprints are kept. */
static int make_page(renderer *r, const ws_page *pg, ws_value *ctx,
                     const ws_page_rest *rest, const ws_digest *fp) {
  const ws_mustache *tpl;
  ws_str html = WS_STR_INIT;
  if (rest)
    rest->finish(ctx, rest->payload);
  if (r->nstand_ins)
    fill_reachable(r, ctx);
  int error = ws_theme_template(&tpl, r->theme, pg->template);
  if (error == 0) {
    room_for(r, tpl, &html);
    error = ws_mustache_render_memo(&html, tpl, ctx, ws_theme_env(r->theme),
                                    r->partials);
    note_size(r, tpl, html.len);
  }
  if (error == 0)
    error = r->record ? ws_output_write_made(r->out, pg->file, html.ptr,
                                             html.len, fp)
                      : ws_output_write(r->out, pg->file, html.ptr, html.len);
  if (error == 0)
    record_page(r, pg->file);
  ws_str_release(&html);
  ws_value_free(ctx);
  return error;
}

int ws_render_page_rest(ws_renderer *r, const ws_page *pg, ws_value *ctx,
                        const ws_page_rest *rest) {
  ws_digest fp = {0, 0};
  if (r->record)
    fp = page_fingerprint(r, pg, ctx, rest);
  if (page_kept(r, pg, &fp)) {
    ws_value_free(ctx);
    return 0;
  }
  return make_page(r, pg, ctx, rest, &fp);
}

int ws_render_page(ws_renderer *r, const ws_page *pg, ws_value *ctx) {
  return ws_render_page_rest(r, pg, ctx, NULL);
}

void ws_render_digest_value(ws_renderer *r, const ws_page *pg, ws_digester *d,
                            const ws_value *v) {
  /* The memo knows shared values by the references pages hold to them. */
  ws_value ref = {.type = WS_VALUE_REF, .u.ref = ws_value_deref(v)};
  ws_digester_value(d, &ref, r->memo, keys_for(r, pg->template));
}

static ws_value *people_list(renderer *r) {
  ws_value *l = ws_value_list();
  for (size_t i = 0; i < r->site->npeople; i++)
    ws_value_push(l, ws_value_ref(r->people[i]));
  return l;
}

static int render_index(renderer *r) {
  const char *title = ws_value_cstr(ws_value_get(r->site_ctx, "title"));
  const char *desc = ws_value_cstr(ws_value_get(r->site_ctx, "description"));
  page_info pg = {"index", "index.html", "people", title, desc};
  ws_value *ctx = ws_render_context(r, &pg);
  ws_value_set(ctx, "people", people_list(r));
  ws_value_set_num(ctx, "count", (double)r->site->npeople);
  if (*r->build_date)
    ws_value_set_str(ctx, "build_date", r->build_date);
  ws_browse_directory(r, ctx);
  return ws_render_page(r, &pg, ctx);
}

static int copy_photo(renderer *r, const ws_profile *p) {
  ws_str data = WS_STR_INIT, rel = WS_STR_INIT;
  int error = ws_source_read(&data, r->src, p->photo);
  ws_str_printf(&rel, "people/%s/photo.%s", p->slug,
                ws_image_ext(p->photo_type));
  if (error == 0)
    error = ws_output_write(r->out, rel.ptr, data.ptr, data.len);
  ws_str_release(&data);
  ws_str_release(&rel);
  return error;
}

/* --- person pages, fingerprinted without their contexts ---
 *
 * A person page's context (ws_render_context, then "person") is the site,
 * the root and the navigation, which every person page shares; the page's
 * title, description, path, canonical address and section; and the
 * person. Its fingerprint takes the shared part once per build, the page's
 * fields and the person's digest from the memo, so that a kept page costs
 * no context: making and hashing 10,000 of them was an eighth of a
 * one-profile rebuild. Keep it in step with ws_render_context. */

#define PERSON_TEMPLATE "person"

/* Makes the digest of what every person page shows alike, under the keys
 * the person template can show. */
static void hash_person_pages(renderer *r) {
  page_info pg = {PERSON_TEMPLATE, "people/-/index.html", "people", "", ""};
  ws_value *ctx = ws_render_context(r, &pg);
  ws_value_set(ctx, "page", ws_value_null()); /* each page's own: below */
  r->person_keys = keys_for(r, PERSON_TEMPLATE);
  ws_digester *d = ws_digester_new();
  ws_digester_value(d, ctx, r->memo, r->person_keys);
  r->person_pages = ws_digester_end(d);
  ws_digester_free(d);
  ws_value_free(ctx);
}

static ws_digest person_fingerprint(renderer *r, size_t i,
                                    const page_info *pg) {
  const char *base = r->base_url;
  ws_value person = {.type = WS_VALUE_REF, .u.ref = r->people[i]};
  ws_digester *d = ws_digester_new();
  ws_digester_digest(d, &r->base);
  ws_digester_str(d, pg->template);
  ws_digester_str(d, pg->file);
  ws_digester_digest(d, &r->person_pages);
  ws_digester_text(d, pg->title);
  ws_digester_text(d, pg->description);
  ws_digester_text(d, pg->section);
  ws_digester_text(d, base); /* the canonical address */
  ws_digester_value(d, &person, r->memo, r->person_keys);
  ws_digest fp = ws_digester_end(d);
  ws_digester_free(d);
  return fp;
}

static int render_person(renderer *r, size_t i) {
  const ws_profile *p = r->site->people[i];
  ws_str file = WS_STR_INIT, desc = WS_STR_INIT;
  int error = 0;
  /* Put together piece by piece and the summary borrowed: 10,000 times a
   * build, for every kept page too. */
  ws_str_puts(&file, "people/");
  ws_str_puts(&file, p->slug);
  ws_str_puts(&file, "/index.html");
  if (!p->summary || !*p->summary)
    ws_str_printf(&desc, "%s%s%s", p->name, p->role ? ", " : "",
                  p->role ? p->role : "");
  page_info pg = {PERSON_TEMPLATE, file.ptr, "people", p->name,
                  desc.len ? desc.ptr : p->summary};
  ws_digest fp = {0, 0};
  if (r->record)
    fp = person_fingerprint(r, i, &pg);
  if (!page_kept(r, &pg, &fp)) {
    ws_value *ctx = ws_render_context(r, &pg);
    ws_value_set(ctx, "person", ws_value_ref(r->people[i]));
    error = make_page(r, &pg, ctx, NULL, &fp);
  }
  if (error == 0 && p->photo && p->photo_type != WS_IMAGE_UNKNOWN)
    error = copy_photo(r, p);
  ws_str_release(&file);
  ws_str_release(&desc);
  return error;
}

static int render_404(renderer *r) {
  page_info pg = {"404", "404.html", "", "Page not found",
                  "This page does not exist."};
  ws_value *ctx = ws_render_context(r, &pg);
  /* A 404 page is served at any depth, so it links from the site root: the
   * path of base_url ("/team/" of "https://x.org/team/"), never its host, so
   * a preview on another host never loads the live site's files. */
  const char *base = r->base_url;
  const char *scheme = base ? strstr(base, "://") : NULL;
  const char *path = scheme                   ? strchr(scheme + 3, '/')
                     : base && base[0] == '/' ? base
                                              : NULL;
  ws_value_set_str(ctx, "root", path ? path : "/");
  return ws_render_page(r, &pg, ctx);
}

static int write_asset(const char *rel, const char *data, size_t len,
                       void *payload) {
  renderer *r = payload;
  ws_str path = WS_STR_INIT;
  ws_str_printf(&path, "assets/%s", rel);
  int error = ws_output_write(r->out, path.ptr, data, len);
  ws_str_release(&path);
  return error;
}

int ws_render_write(ws_renderer *r, const char *file, const char *data,
                    size_t len) {
  return ws_output_write(r->out, file, data, len);
}

const ws_site *ws_renderer_site(const ws_renderer *r) {
  return r->site;
}

const ws_value *ws_renderer_person(ws_renderer *r, size_t i) {
  if (r->nstand_ins)
    fill_person(r, i);
  return r->people[i];
}

ws_value *ws_render_person_ref(const ws_renderer *r, size_t i) {
  return ws_value_ref(r->people[i]);
}

void ws_render_digest_person(ws_renderer *r, const ws_page *pg, ws_digester *d,
                             size_t i) {
  ws_render_digest_value(r, pg, d, r->people[i]);
}

const char *ws_renderer_build_date(const ws_renderer *r) {
  return r->build_date;
}

const ws_mentoring_shared *ws_renderer_mentoring(const ws_renderer *r) {
  return r->shared->mentoring;
}

const ws_value *ws_renderer_site_value(const ws_renderer *r) {
  return r->site_ctx;
}

/* The page families beyond the directory and person pages; each lives in a
 * module of its own and writes its pages through ws_render_page. */
static int (*const families[])(ws_renderer *) = {
    ws_browse_render, ws_contributions_render, ws_mentoring_render};

/* Each family, and each page a family renders on the pool (see
 * each_step), builds its contexts in an arena of its own: pages are made of
 * thousands of small values that all go when the page is written. Nothing
 * a family makes outlives it. arena_begin puts a new arena in use on this
 * thread; arena_end frees it and puts 'before' back. */
static ws_value_arena *arena_begin(ws_value_arena **before) {
  ws_value_arena *a = ws_value_arena_new();
  *before = ws_value_arena_use(a);
  return a;
}

static void arena_end(ws_value_arena *a, ws_value_arena *before) {
  ws_value_arena_use(before);
  ws_value_arena_free(a);
}

static int render_families(renderer *r) {
  int error = 0;
  for (size_t i = 0; i < COUNT(families) && error == 0; i++) {
    ws_value_arena *before, *a = arena_begin(&before);
    error = families[i](r);
    arena_end(a, before);
  }
  return error;
}

/* search.json is made from a few of the fields of every person (slug,
 * name, role, team, strengths, learning, mentoring types, formats and
 * modes) and nothing else. Its fingerprint is made from what every card
 * shows of each person, slug included (link_step), which covers all of
 * them: a change to another field of a card only makes it again. Hashing
 * the fields themselves was 2.5% of a one-profile rebuild's CPU time at
 * 10,000 profiles, most of it in fetching them. */
static ws_digest search_fingerprint(const renderer *r) {
  ws_digester *d = ws_digester_new();
  ws_digester_digest(d, &r->base);
  ws_digester_str(d, "search.json");
  for (size_t i = 0; i < r->site->npeople; i++)
    ws_digester_digest(d, &r->shared_in.cards[i]);
  ws_digest fp = ws_digester_end(d);
  ws_digester_free(d);
  return fp;
}

static int render_search(renderer *r) {
  ws_digest fp = {0, 0};
  if (r->record) {
    fp = search_fingerprint(r);
    if (!r->full && ws_output_reuse(r->out, "search.json", &fp))
      return 0;
  }
  ws_value *list = ws_value_list();
  for (size_t i = 0; i < r->site->npeople; i++) {
    const ws_profile *p = r->site->people[i];
    ws_value *e = ws_value_map();
    ws_value_set_str(e, "slug", p->slug);
    ws_value_set_str(e, "name", p->name);
    ws_value_set_str(e, "role", p->role ? p->role : "");
    ws_value_set_str(e, "team", p->team ? p->team : "");
    ws_value_set(e, "strengths", str_list(&p->strengths));
    ws_value_set(e, "learning", str_list(&p->learning));
    ws_value_set(e, "offers", type_names(p->offer_types));
    ws_value_set(e, "seeks", type_names(p->seek_types));
    ws_value_set(
        e, "formats",
        names_of(p->formats, (const char *const[]){"one-on-one", "group"}, 2));
    ws_value_set(
        e, "modes",
        names_of(p->modes, (const char *const[]){"virtual", "in-person"}, 2));
    ws_value_push(list, e);
  }
  ws_str json = WS_STR_INIT;
  ws_value_put_json(&json, list);
  ws_str_putc(&json, '\n');
  int error =
      r->record
          ? ws_output_write_made(r->out, "search.json", json.ptr, json.len, &fp)
          : ws_output_write(r->out, "search.json", json.ptr, json.len);
  ws_str_release(&json);
  ws_value_free(list);
  return error;
}

static void put_xml(ws_str *out, const char *s) {
  ws_str_put_html(out, s, strlen(s));
}

/* Whether byte 'c' goes into a URL's path as it is. */
static bool url_safe(unsigned char c) {
  return c > ' ' && c < 0x80 && !strchr("\"#%&'<>?", c);
}

/* A sitemap holds URLs, so the UTF-8 of a tag slug is percent-encoded.
 * Runs of other bytes are copied at once: 10,555 paths at 10,000
 * profiles. */
static void put_url_path(ws_str *out, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    const unsigned char *run = p;
    while (*p && url_safe(*p))
      p++;
    ws_str_put(out, (const char *)run, (size_t)(p - run));
    if (*p)
      ws_str_printf(out, "%%%02X", *p++);
  }
}

static int cmp_cstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What the sitemap is made of: the program, the site's address and the
 * pages, sorted. */
static ws_digest sitemap_fingerprint(const renderer *r, const char *base) {
  ws_digester *d = ws_digester_new();
  ws_digester_digest(d, &r->base);
  ws_digester_str(d, "sitemap.xml");
  ws_digester_str(d, base);
  ws_digester_bytes(d, &r->npages, sizeof(r->npages));
  for (size_t i = 0; i < r->npages; i++)
    ws_digester_str(d, r->pages[i]);
  ws_digest fp = ws_digester_end(d);
  ws_digester_free(d);
  return fp;
}

/* The sitemap is kept as pages are: a push rarely adds or removes a page,
 * and making it again was 2.5 ms of a one-profile rebuild at 10,000
 * profiles, on one core. */
static int render_sitemap(renderer *r) {
  const char *base = r->base_url;
  if (!base)
    base = "";
  /* Sorted by path: the same pages in the same order, whatever order the
   * families wrote them in. */
  if (r->npages > 1)
    qsort(r->pages, r->npages, sizeof(char *), cmp_cstr);
  ws_digest fp = {0, 0};
  if (r->record) {
    fp = sitemap_fingerprint(r, base);
    if (!r->full && ws_output_reuse(r->out, "sitemap.xml", &fp))
      return 0;
  }
  ws_str xml = WS_STR_INIT;
  ws_str_puts(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<urlset xmlns=\"http://www.sitemaps.org/schemas/"
                    "sitemap/0.9\">\n");
  for (size_t i = 0; i < r->npages; i++) {
    ws_str_puts(&xml, "  <url><loc>");
    put_xml(&xml, base);
    put_url_path(&xml, r->pages[i]);
    ws_str_puts(&xml, "</loc></url>\n");
  }
  ws_str_puts(&xml, "</urlset>\n");
  int error =
      r->record
          ? ws_output_write_made(r->out, "sitemap.xml", xml.ptr, xml.len, &fp)
          : ws_output_write(r->out, "sitemap.xml", xml.ptr, xml.len);
  ws_str_release(&xml);
  return error;
}

static ws_value *site_value(const ws_site *site, const ws_render_opts *opts) {
  ws_value *s = ws_value_map();
  const char *base =
      opts->base_url ? opts->base_url : ws_site_config(site, "base_url", "");
  ws_str b = WS_STR_INIT;
  ws_str_puts(&b, base);
  if (b.len && b.ptr[b.len - 1] != '/')
    ws_str_putc(&b, '/');
  ws_value_set_str(s, "title",
                   opts->title ? opts->title
                               : ws_site_config(site, "title", "Our team"));
  ws_value_set_str(s, "description",
                   ws_site_config(site, "description",
                                  "Who we are, what we are good at, and how "
                                  "we help each other grow."));
  ws_value_set_str(s, "base_url", b.ptr);
  ws_value_set_str(s, "language", ws_site_config(site, "language", "en"));
  ws_value_set_str(s, "generator", "wholeself " WS_VERSION);
  ws_value_set_num(s, "people_count", (double)site->npeople);
  ws_str_release(&b);
  return s;
}

/* --- parallel work over people --- */

typedef struct {
  renderer *r;
  int (*fn)(renderer *, size_t);
} person_work;

static int person_step(void *payload, size_t i) {
  person_work *w = payload;
  return w->fn(w->r, i);
}

static int parallel_for(renderer *r, size_t n, int (*fn)(renderer *, size_t)) {
  person_work w = {r, fn};
  return ws_pool_run(r->jobs, n, person_step, &w);
}

typedef struct {
  renderer *r;
  int (*fn)(ws_renderer *, size_t, void *);
  void *payload;
} each_work;

static int each_step(void *payload, size_t i) {
  each_work *w = payload;
  ws_value_arena *before, *a = arena_begin(&before);
  int error = w->fn(w->r, i, w->payload);
  arena_end(a, before);
  return error;
}

int ws_render_each(ws_renderer *r, size_t n,
                   int (*fn)(ws_renderer *r, size_t i, void *payload),
                   void *payload) {
  each_work w = {r, fn, payload};
  return ws_pool_run(r->jobs, n, each_step, &w);
}

/* Person contexts live as long as the renderer, so a few dozen share an
 * arena: one each would leave most of a block unused per person. */
#define PEOPLE_PER_ARENA 64

static size_t person_arenas(const renderer *r) {
  return (r->site->npeople + PEOPLE_PER_ARENA - 1) / PEOPLE_PER_ARENA;
}

static bool recorded(const renderer *r, size_t i) {
  return r->contexts && ws_ctxcache_has(r->contexts, &r->inputs[i]);
}

static int make_people(renderer *r, size_t k) {
  size_t end = (k + 1) * PEOPLE_PER_ARENA;
  if (end > r->site->npeople)
    end = r->site->npeople;
  r->arenas[k] = ws_value_arena_new();
  ws_value_arena *before = ws_value_arena_use(r->arenas[k]);
  for (size_t i = k * PEOPLE_PER_ARENA; i < end; i++) {
    bool stand_in = recorded(r, i);
    if (stand_in) {
      r->stand_ins[i] = (ws_value){.type = WS_VALUE_MAP, .pooled = true};
      r->people[i] = &r->stand_ins[i];
    } else {
      r->people[i] = ws_render_person(r->site, r->shared, i);
      r->people[i]->lasting = true;
    }
    atomic_init(&r->filled[i], !stand_in);
  }
  ws_value_arena_use(before);
  return 0;
}

/* A profile from the profile cache brings its card and link digests; one
 * parsed without the cache has them made here. */
static int link_step(renderer *r, size_t i) {
  const ws_profile *p = r->site->people[i];
  shared_inputs *sh = &r->shared_in;
  ws_digester *d = ws_digester_new();
  ws_digest card = p->card, link = p->link;
  if (!card.hi && !card.lo && !link.hi && !link.lo)
    ws_profile_card_digests(p, &card, &link);
  ws_digester_digest(d, &card);
  ws_digester_text(d, p->slug);
  sh->cards[i] = ws_digester_end(d);
  ws_digester_digest(d, &link);
  ws_digester_text(d, p->slug);
  sh->links[i] = ws_digester_end(d);
  put_history(d, &p->history);
  sh->history[i] = ws_digester_end(d);
  ws_digester_digest(d, &sh->cards[i]);
  ws_digester_digest(d, &sh->history[i]);
  sh->fields[i] = end_digest(d);
  return 0;
}

static int pair_or_circle_step(renderer *r, size_t k) {
  const ws_match *m = r->site->matches;
  shared_inputs *sh = &r->shared_in;
  if (k < m->npairs)
    sh->pairs[k] = pair_digest(&m->pairs[k], sh->links);
  else
    sh->circles[k - m->npairs] =
        circle_digest(&m->circles[k - m->npairs], sh->links);
  return 0;
}

static int person_inputs_step(renderer *r, size_t i) {
  r->inputs[i] = person_inputs(r->site, &r->shared_in, i);
  return 0;
}

/* Hashes what the inputs of people and of the mentoring pages share. */
static void hash_shared_inputs(renderer *r) {
  size_t n = r->site->npeople ? r->site->npeople : 1;
  const ws_match *m = r->site->matches;
  shared_inputs *sh = &r->shared_in;
  sh->links = ws_xcalloc(n, sizeof(ws_digest));
  sh->fields = ws_xcalloc(n, sizeof(ws_digest));
  sh->history = ws_xcalloc(n, sizeof(ws_digest));
  sh->cards = ws_xcalloc(n, sizeof(ws_digest));
  parallel_for(r, r->site->npeople, link_step);
  if (m) {
    sh->pairs = ws_xcalloc(m->npairs + 1, sizeof(ws_digest));
    sh->circles = ws_xcalloc(m->ncircles + 1, sizeof(ws_digest));
    parallel_for(r, m->npairs + m->ncircles, pair_or_circle_step);
  }
}

/* Opens the context cache and hashes every person's inputs. */
static void open_contexts(renderer *r) {
  size_t n = r->site->npeople ? r->site->npeople : 1;
  r->inputs = ws_xcalloc(n, sizeof(ws_digest));
  r->stand_ins = ws_xcalloc(n, sizeof(ws_value));
  r->contexts = ws_ctxcache_open(r->src, &r->program);
  parallel_for(r, r->site->npeople, person_inputs_step);
}

void ws_render_digest_fields(const ws_renderer *r, ws_digester *d,
                             size_t person) {
  ws_digester_digest(d, &r->shared_in.fields[person]);
}

void ws_render_digest_link(const ws_renderer *r, ws_digester *d,
                           size_t person) {
  ws_digester_digest(d, &r->shared_in.links[person]);
}

void ws_render_digest_pair(const ws_renderer *r, ws_digester *d, size_t k) {
  ws_digester_digest(d, &r->shared_in.pairs[k]);
}

void ws_render_digest_circle(const ws_renderer *r, ws_digester *d, size_t k) {
  ws_digester_digest(d, &r->shared_in.circles[k]);
}

static int seed_step(renderer *r, size_t i) {
  ws_ctx_digests d;
  if (r->people[i] == &r->stand_ins[i] &&
      ws_ctxcache_find(r->contexts, &r->inputs[i], &d))
    ws_digest_memo_seed(r->memo, r->people[i], d.entries, d.nentries, d.views,
                        d.nviews);
  return 0;
}

/* What the memo has of context 'i': its entries and every view of it. */
static bool context_digests(void *payload, size_t i, ws_ctx_digests *out) {
  renderer *r = payload;
  out->nentries = ws_digest_memo_entries(r->memo, r->people[i], out->entries,
                                         WS_CTX_ENTRIES);
  out->nviews =
      ws_digest_memo_views(r->memo, r->people[i], out->views, WS_CTX_VIEWS);
  return out->nentries > 0 && out->nentries <= WS_CTX_ENTRIES;
}

/* Contexts made again rather than the file rewritten: up to one in
 * SAVE_AFTER (150 at 10,000 profiles). Making one costs tens of
 * microseconds; rewriting the file costs 13 ms at 10,000, on every push
 * that edits a profile. */
#define SAVE_AFTER 64

/* Records the digests of every context the memo has, when the file could
 * not be used or when more contexts than SAVE_AFTER allows were made. */
static void save_contexts(renderer *r) {
  size_t made = r->site->npeople - r->nstand_ins;
  if (r->contexts && (ws_ctxcache_ignored(r->contexts) ||
                      made * SAVE_AFTER > r->site->npeople))
    ws_ctxcache_save(r->contexts, r->site->npeople, r->inputs, context_digests,
                     r);
}

static int free_people(renderer *r, size_t k) {
  ws_value_arena_free(r->arenas[k]);
  return 0;
}

/* The directory and search.json are one file each but cost as much as
 * hundreds of person pages, so they are the first work items of the
 * person pages' pool rather than steps on their own. Like every page, each
 * builds its context in an arena of its own (see render_families). */
/* The directory, search.json and the report are made among the person
 * pages, as jobs of the same pool: each takes one thread tens of
 * milliseconds at 10,000 profiles, while the others go on with people. */
#define SITE_PAGES 3

static int person_page_step(renderer *r, size_t i) {
  ws_value_arena *before, *a = arena_begin(&before);
  int error = i == 0   ? ws_report_render(r)
              : i == 1 ? render_index(r)
              : i == 2 ? render_search(r)
                       : render_person(r, i - SITE_PAGES);
  arena_end(a, before);
  return error;
}

static void set_build_date(renderer *r, long long t) {
  struct tm tm;
  r->build_date[0] = '\0';
  if (t > 0 && ws_render_utc(&tm, t))
    strftime(r->build_date, sizeof(r->build_date), "%Y-%m-%d", &tm);
}

static int prepare_reuse(renderer *r) {
  ws_digest program, theme;
  int error = ws_theme_digest(r->theme, &theme);
  if (error < 0)
    return error;
  if (!ws_digest_program(&program))
    r->full = true; /* without knowing the program, trust nothing old */
  r->program = program;
  ws_digester *d = ws_digester_new();
  ws_digester_digest(d, &program);
  ws_digester_digest(d, &theme);
  r->base = ws_digester_end(d);
  ws_digester_free(d);
  return 0;
}

/* The stand-ins' entry digests go into the memo; 'r->nstand_ins' counts them.
 */
static void seed_people(renderer *r) {
  if (!r->stand_ins)
    return;
  for (size_t i = 0; i < r->site->npeople; i++)
    r->nstand_ins += r->people[i] == &r->stand_ins[i];
  if (r->nstand_ins)
    parallel_for(r, r->site->npeople, seed_step);
}

static void report_stats(const renderer *r, ws_render_stats *st) {
  if (!st)
    return;
  size_t filled = 0;
  for (size_t i = 0; r->nstand_ins && i < r->site->npeople; i++)
    filled += r->people[i] == &r->stand_ins[i] && atomic_load(&r->filled[i]);
  st->contexts_recorded = r->nstand_ins - filled;
  st->contexts_made = r->site->npeople - st->contexts_recorded;
  st->context_cache = r->contexts ? ws_ctxcache_ignored(r->contexts) : NULL;
  st->context_cache_used = r->contexts != NULL;
}

int ws_render_site(const ws_site *site, ws_theme *theme, ws_source *src,
                   ws_output *out, const ws_render_opts *opts) {
  renderer r = {.site = site,
                .theme = theme,
                .src = src,
                .out = out,
                .site_ctx = site_value(site, opts),
                .jobs = opts->jobs ? opts->jobs : ws_pool_default_jobs(),
                .mu = PTHREAD_MUTEX_INITIALIZER,
                .full = opts->full,
                .record = ws_output_had_site(out),
                .fill_mu = PTHREAD_MUTEX_INITIALIZER};
  int error = 0;
  size_t n = site->npeople ? site->npeople : 1;
  r.base_url = ws_value_cstr(ws_value_get(r.site_ctx, "base_url"));
  for (size_t i = 0; i < NAVS; i++)
    r.navs[i] = nav_value(i < COUNT(nav_items) ? nav_items[i].section : "");
  set_build_date(&r, opts->build_time);
  r.people = ws_xcalloc(n, sizeof(ws_value *));
  r.filled = ws_xcalloc(n, sizeof(atomic_uchar));
  r.arenas = ws_xcalloc(person_arenas(&r) + 1, sizeof(ws_value_arena *));
  r.fill_arena = ws_value_arena_new();
  r.partials = ws_mustache_memo_new();
  /* A build that records fingerprints is a rebuild: most of its person
   * contexts and mentoring pages need no mentoring value. */
  r.shared = person_shared_new(site, src, r.jobs, r.record);
  if (r.record && (error = prepare_reuse(&r)) < 0)
    goto cleanup;
  if (r.record)
    hash_shared_inputs(&r);
  if (r.record && !r.full) /* when every page is rendered, make them all */
    open_contexts(&r);
  parallel_for(&r, person_arenas(&r), make_people);
  if (r.record) {
    make_memo(&r);
    seed_people(&r);
    hash_person_pages(&r);
  }
  error = parallel_for(&r, site->npeople + SITE_PAGES, person_page_step);
  if (error == 0)
    error = render_families(&r);
  if (error == 0)
    error = render_404(&r);
  if (error == 0)
    error = ws_theme_assets(theme, write_asset, &r);
  if (error == 0)
    error = render_sitemap(&r);
  if (error == 0)
    error = bodies_found(&r);
  if (error == 0 && r.memo)
    save_contexts(&r);
  report_stats(&r, opts->stats);
cleanup:
  ws_mustache_memo_free(r.partials); /* before what it knows by address */
  parallel_for(&r, person_arenas(&r), free_people);
  ws_value_arena_free(r.fill_arena);
  free(r.people);
  free(r.filled);
  free(r.arenas);
  free(r.inputs);
  free(r.shared_in.links);
  free(r.shared_in.fields);
  free(r.shared_in.history);
  free(r.shared_in.cards);
  free(r.shared_in.pairs);
  free(r.shared_in.circles);
  free(r.stand_ins);
  person_shared_free(r.shared);
  for (size_t i = 0; i < r.npages; i++)
    free(r.pages[i]);
  free(r.pages);
  ws_value_free(r.site_ctx);
  for (size_t i = 0; i < NAVS; i++)
    ws_value_free(r.navs[i]);
  views_free(&r);
  free(r.hints);
  ws_digest_memo_free(r.memo);
  ws_ctxcache_free(r.contexts); /* after the memo: it has the keys */
  pthread_mutex_destroy(&r.mu);
  pthread_mutex_destroy(&r.fill_mu);
  return error;
}
