#include "contributions.h"

#include <stdlib.h>
#include <string.h>

static const char *const month_names[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

static const char *const kind_names[] = {"added", "updated", "renamed",
                                         "removed"};

/* --- who an event is about --- */

/* The person now living at the event's slug, or NULL: removed people have
 * no page. The history found them (ws_event.person); an event not made
 * from it names nobody. */
static const ws_profile *person_of(const ws_site *site, const ws_event *e) {
  return e->person && e->person <= site->npeople ? site->people[e->person - 1]
                                                 : NULL;
}

/* --- the timeline --- */

/* The month of a time ("March 2019", id "2019-03"); 'tm' is NULL for a
 * time the calendar cannot hold. */
static void month_of(ws_str *label, ws_str *id, const struct tm *tm) {
  ws_str iso = WS_STR_INIT;
  if (tm)
    ws_render_iso_tm(&iso, tm, true);
  int year = atoi(iso.ptr), month = iso.len > 5 ? atoi(iso.ptr + 5) : 1;
  if (month < 1 || month > 12)
    month = 1;
  ws_str_puts(label, month_names[month - 1]);
  ws_str_putc(label, ' ');
  ws_str_put_int(label, year, 0);
  ws_str_put(id, iso.ptr, iso.len >= 7 ? 7 : iso.len);
  ws_str_release(&iso);
}

static void month_at(ws_str *label, ws_str *id, long long t) {
  struct tm tm;
  bool ok = ws_render_utc(&tm, t);
  month_of(label, id, ok ? &tm : NULL);
}

/* Texts of the event or its person, which outlive the page: borrowed. */
static void add_text(ws_value *v, const char *key, const char *text) {
  if (text)
    ws_value_add(v, key, ws_value_borrowz(text));
}

/* An event's time is shown three ways (its month, date and ISO time): it
 * is broken down once, with the event's month for 'label' and 'id'. There
 * is one map per event of the page, 50,000 in a build of a long history:
 * its keys are added, not looked for first. */
static ws_value *event_value(const ws_event *e, const ws_profile *p,
                             ws_str *label, ws_str *id) {
  ws_value *v = ws_value_map();
  ws_str s = WS_STR_INIT;
  struct tm tm;
  bool dated = ws_render_utc(&tm, e->time);
  month_of(label, id, dated ? &tm : NULL);
  ws_value_map_reserve(v, 15);
  add_text(v, "kind", kind_names[e->kind]);
  ws_value_add(v, "is_added", ws_value_bool(e->kind == WS_EVENT_ADDED));
  ws_value_add(v, "is_updated", ws_value_bool(e->kind == WS_EVENT_UPDATED));
  ws_value_add(v, "is_renamed", ws_value_bool(e->kind == WS_EVENT_RENAMED));
  ws_value_add(v, "is_removed", ws_value_bool(e->kind == WS_EVENT_REMOVED));
  if (dated)
    ws_render_date_tm(&s, &tm);
  ws_value_add(v, "date", ws_value_string(s.ptr, s.len));
  ws_str_clear(&s);
  if (dated)
    ws_render_iso_tm(&s, &tm, false);
  ws_value_add(v, "datetime", ws_value_string(s.ptr, s.len));
  add_text(v, "author", e->author);
  add_text(v, "subject", e->subject);
  add_text(v, "commit", e->commit);
  ws_value_add(v, "short_commit",
               ws_value_string(e->commit, strlen(e->commit) < 7 ? 0 : 7));
  add_text(v, "slug", e->slug);
  add_text(v, "old_slug", e->old_slug);
  add_text(v, "name", p ? p->name : e->slug);
  if (p && e->kind != WS_EVENT_REMOVED) {
    ws_str_clear(&s);
    ws_render_person_url(&s, p->slug);
    ws_value_add(v, "url", ws_value_string(s.ptr, s.len));
  }
  ws_str_release(&s);
  return v;
}

/* Page 0 is contributions/, the newest events; archive page k (from 1) is
 * contributions/page/k/. */
static void page_url(ws_str *out, size_t page) {
  if (page == 0)
    ws_str_puts(out, "contributions/");
  else
    ws_str_printf(out, "contributions/page/%zu/", page);
}

/* Archive pages are counted from the oldest event, WS_CONTRIBUTIONS_PER_PAGE
 * to a page, and only full blocks go to the archive: a push adds events to
 * the front page alone, so every archive page keeps its address and its
 * content (readers' links stay right; incremental builds keep those pages).
 * The front page holds the rest: all events when there are fewer than two
 * pages' worth, else from one page's worth up to just under two. */
static size_t archive_pages(size_t nevents) {
  size_t per = WS_CONTRIBUTIONS_PER_PAGE;
  return nevents >= 2 * per ? nevents / per - 1 : 0;
}

/* Events [*from, *to) of page 'page' in the site's newest-first list. */
static void page_range(size_t nevents, size_t page, size_t *from, size_t *to) {
  size_t per = WS_CONTRIBUTIONS_PER_PAGE;
  size_t front = nevents - archive_pages(nevents) * per;
  if (page == 0) {
    *from = 0;
    *to = front;
    return;
  }
  *to = nevents - (page - 1) * per;
  *from = *to - per;
}

/* Events [from, to) grouped into months, newest first like the events. */
static ws_value *months_value(const ws_site *site, size_t from, size_t to) {
  ws_value *months = ws_value_list();
  ws_value *events = NULL;
  ws_str label = WS_STR_INIT, id = WS_STR_INIT, last = WS_STR_INIT;
  for (size_t i = from; i < to; i++) {
    const ws_event *e = &site->events[i];
    ws_str_clear(&label);
    ws_str_clear(&id);
    ws_value *ev = event_value(e, person_of(site, e), &label, &id);
    if (!events || !ws_str_eq(&last, id.ptr)) {
      ws_value *m = ws_value_map();
      ws_value_set_str(m, "label", label.ptr);
      ws_value_set_str(m, "id", id.ptr);
      events = ws_value_list();
      ws_value_set(m, "events", events);
      ws_value_push(months, m);
      ws_str_clear(&last);
      ws_str_puts(&last, id.ptr);
    }
    ws_value_push(events, ev);
  }
  ws_str_release(&label);
  ws_str_release(&id);
  ws_str_release(&last);
  return months;
}

/* Newer is towards the front page, older towards archive page 1. */
static ws_value *pager_value(size_t page, size_t archive) {
  ws_value *v = ws_value_map();
  ws_str s = WS_STR_INIT;
  bool newer = page > 0, older = page == 0 ? archive > 0 : page > 1;
  ws_value_set_bool(v, "show", archive > 0);
  ws_value_set_bool(v, "is_archive", page > 0);
  ws_value_set_num(v, "page", (double)page);
  ws_value_set_bool(v, "has_prev", newer);
  ws_value_set_bool(v, "has_next", older);
  if (newer) {
    page_url(&s, page == archive ? 0 : page + 1);
    ws_value_set_str(v, "prev_url", s.ptr);
  }
  if (older) {
    ws_str_clear(&s);
    page_url(&s, page == 0 ? archive : page - 1);
    ws_value_set_str(v, "next_url", s.ptr);
  }
  ws_str_release(&s);
  return v;
}

/* "March 2019 to May 2019" (newest-first events [from, to)). */
static void period(ws_str *out, const ws_site *site, size_t from, size_t to) {
  ws_str first = WS_STR_INIT, last = WS_STR_INIT, id = WS_STR_INIT;
  month_at(&first, &id, site->events[to - 1].time);
  month_at(&last, &id, site->events[from].time);
  if (ws_str_eq(&first, last.ptr))
    ws_str_puts(out, first.ptr);
  else
    ws_str_printf(out, "%s to %s", first.ptr, last.ptr);
  ws_str_release(&first);
  ws_str_release(&last);
  ws_str_release(&id);
}

typedef struct {
  const ws_site *site;
  size_t from, to;
} timeline;

/* What the timeline of events [from, to) is made of: each event, and the
 * name and address of the person it links to (months_value and
 * event_value read nothing else), by the digest of a link to them (which
 * also has their role and team: a change to those only makes the page
 * again). Reading the names themselves was most of the cost: 50,000
 * events reach into profiles all over memory. */
static void timeline_inputs(ws_renderer *r, const ws_page *pg, ws_digester *d,
                            void *payload) {
  const timeline *t = payload;
  (void)pg;
  for (size_t i = t->from; i < t->to; i++) {
    const ws_event *e = &t->site->events[i];
    ws_digester_digest(d, &e->digest);
    if (!person_of(t->site, e))
      ws_digester_str(d, "\n(nobody)");
    else
      ws_render_digest_link(r, d, e->person - 1);
  }
}

static void add_months(ws_value *ctx, void *payload) {
  const timeline *t = payload;
  ws_value_set(ctx, "months", months_value(t->site, t->from, t->to));
}

static int render_page(ws_renderer *r, size_t page, size_t archive) {
  const ws_site *site = ws_renderer_site(r);
  ws_str file = WS_STR_INIT, title = WS_STR_INIT, when = WS_STR_INIT;
  size_t from, to;
  page_range(site->nevents, page, &from, &to);
  page_url(&file, page);
  ws_str_puts(&file, "index.html");
  ws_str_puts(&title, "Contributions");
  if (page > 0) {
    period(&when, site, from, to);
    ws_str_printf(&title, ", %s", when.ptr);
  }
  ws_page pg = {"contributions", file.ptr, "contributions", title.ptr,
                "Who joined the team page and who updated which profile, "
                "newest first, from the repository's history."};
  ws_value *ctx = ws_render_context(r, &pg);
  /* The events are made into values only when the page is rendered: an
   * archive page's rarely change, and a large team's history has tens of
   * thousands. */
  timeline t = {site, from, to};
  ws_page_rest rest = {timeline_inputs, add_months, &t};
  ws_value_set_bool(ctx, "has_months", to > from);
  ws_value_set_num(ctx, "count", (double)site->nevents);
  ws_value_set_bool(ctx, "partial", site->history_partial);
  ws_value *pager = pager_value(page, archive);
  if (when.len)
    ws_value_set_str(pager, "period", when.ptr);
  ws_value_set(ctx, "pager", pager);
  int error = ws_render_page_rest(r, &pg, ctx, &rest);
  ws_str_release(&file);
  ws_str_release(&title);
  ws_str_release(&when);
  return error;
}

/* --- the feed --- */

/* XML 1.0 text: escaped, control characters dropped, invalid UTF-8 made
 * U+FFFD, since commit messages may be in any encoding. */
static void put_xml(ws_str *out, const char *s) {
  const unsigned char *u = (const unsigned char *)(s ? s : "");
  while (*u) {
    unsigned char c = *u;
    size_t n = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 0;
    bool ok = n > 0;
    for (size_t k = 1; ok && k < n; k++)
      ok = (u[k] & 0xc0) == 0x80;
    if (ok && n == 2 && c < 0xc2)
      ok = false; /* overlong */
    if (ok && n == 3 &&
        ((c == 0xe0 && u[1] < 0xa0) || (c == 0xed && u[1] >= 0xa0) ||
         (c == 0xef && u[1] == 0xbf && u[2] >= 0xbe)))
      ok = false; /* overlong, surrogate, U+FFFE/U+FFFF */
    if (ok && n == 4 &&
        ((c == 0xf0 && u[1] < 0x90) || c > 0xf4 || (c == 0xf4 && u[1] >= 0x90)))
      ok = false;
    if (!ok) {
      ws_str_puts(out, "\xef\xbf\xbd");
      u++;
    } else if (n == 1 && c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      u++;
    } else if (n == 1) {
      ws_str_put_html(out, (const char *)u, 1);
      u++;
    } else {
      ws_str_put(out, (const char *)u, n);
      u += n;
    }
  }
}

static void put_elem(ws_str *out, const char *indent, const char *name,
                     const char *text) {
  ws_str_printf(out, "%s<%s>", indent, name);
  put_xml(out, text);
  ws_str_printf(out, "</%s>\n", name);
}

static void put_time(ws_str *out, const char *indent, long long t) {
  ws_str s = WS_STR_INIT;
  ws_render_iso(&s, t, false);
  put_elem(out, indent, "updated", s.ptr);
  ws_str_release(&s);
}

static void put_link(ws_str *out, const char *indent, const char *rel,
                     const char *base, const char *path) {
  ws_str href = WS_STR_INIT;
  ws_str_printf(&href, "%s%s", base, path);
  ws_str_printf(out, "%s<link rel=\"%s\" href=\"", indent, rel);
  put_xml(out, href.ptr);
  ws_str_puts(out, "\"/>\n");
  ws_str_release(&href);
}

static void entry_title(ws_str *out, const ws_event *e, const char *name) {
  switch (e->kind) {
  case WS_EVENT_ADDED:
    ws_str_printf(out, "%s joined the team page", name);
    break;
  case WS_EVENT_UPDATED:
    ws_str_printf(out, "%s's profile was updated", name);
    break;
  case WS_EVENT_RENAMED:
    ws_str_printf(out, "%s's profile moved from %s to %s", name, e->old_slug,
                  e->slug);
    break;
  case WS_EVENT_REMOVED:
    ws_str_printf(out, "%s left the team page", name);
    break;
  }
}

static void put_entry(ws_str *out, const ws_event *e, const ws_profile *p,
                      const char *base) {
  ws_str s = WS_STR_INIT;
  ws_str_puts(out, "  <entry>\n");
  ws_str_printf(&s, "urn:wholeself:%s:%s", e->commit, e->slug);
  put_elem(out, "    ", "id", s.ptr);
  ws_str_clear(&s);
  entry_title(&s, e, p ? p->name : e->slug);
  put_elem(out, "    ", "title", s.ptr);
  put_time(out, "    ", e->time);
  ws_str_puts(out, "    <author>\n");
  put_elem(out, "      ", "name", e->author);
  ws_str_puts(out, "    </author>\n");
  ws_str_clear(&s);
  if (p && e->kind != WS_EVENT_REMOVED)
    ws_render_person_url(&s, p->slug);
  else
    ws_str_puts(&s, "contributions/");
  put_link(out, "    ", "alternate", base, s.ptr);
  ws_str_clear(&s);
  ws_str_printf(&s, "%s (%.7s)", e->subject, e->commit);
  ws_str_puts(out, "    <summary type=\"text\">");
  put_xml(out, s.ptr);
  ws_str_puts(out, "</summary>\n  </entry>\n");
  ws_str_release(&s);
}

void ws_contributions_feed(ws_str *out, const ws_site *site,
                           const char *base_url, const char *title,
                           long long fallback_time) {
  ws_str s = WS_STR_INIT;
  ws_str_puts(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                   "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
  ws_str_printf(&s, "%s: contributions", title);
  put_elem(out, "  ", "title", s.ptr);
  ws_str_clear(&s);
  /* The id must never change: the feed's address when the site has one,
   * else a URN made from the title. */
  if (*base_url) {
    ws_str_printf(&s, "%sfeed.xml", base_url);
  } else {
    char *slug = ws_slugify(title);
    ws_str_printf(&s, "urn:wholeself:feed:%s", slug);
    free(slug);
  }
  put_elem(out, "  ", "id", s.ptr);
  put_time(out, "  ", site->nevents ? site->events[0].time : fallback_time);
  put_link(out, "  ", "self", base_url, "feed.xml");
  put_link(out, "  ", "alternate", base_url, "contributions/");
  ws_str_puts(out, "  <author>\n");
  put_elem(out, "    ", "name", title);
  ws_str_puts(out, "  </author>\n");
  ws_str_puts(out, "  <generator>wholeself</generator>\n");
  size_t n = site->nevents < WS_CONTRIBUTIONS_FEED_ENTRIES
                 ? site->nevents
                 : WS_CONTRIBUTIONS_FEED_ENTRIES;
  for (size_t i = 0; i < n; i++) {
    const ws_event *e = &site->events[i];
    put_entry(out, e, person_of(site, e), base_url);
  }
  ws_str_puts(out, "</feed>\n");
  ws_str_release(&s);
}

/* The feed of a site without events is dated by the build (the render
 * options only reach pages as the build date, YYYY-MM-DD). */
static long long build_time_of(const ws_renderer *r) {
  const char *d = ws_renderer_build_date(r);
  if (!d || strlen(d) != 10)
    return 0;
  int y = atoi(d), m = atoi(d + 5), day = atoi(d + 8);
  if (m < 1 || m > 12 || day < 1 || day > 31)
    return 0;
  return ws_render_days_from_civil(y, (unsigned)m, (unsigned)day) * 86400;
}

static int page_step(ws_renderer *r, size_t i, void *payload) {
  const size_t *archive = payload; /* pages besides the front page */
  return render_page(r, i, *archive);
}

int ws_contributions_render(ws_renderer *r) {
  const ws_site *site = ws_renderer_site(r);
  const ws_value *sv = ws_renderer_site_value(r);
  size_t archive = archive_pages(site->nevents);
  int error = ws_render_each(r, archive + 1, page_step, &archive);
  if (error < 0)
    return error;
  const char *base = ws_value_cstr(ws_value_get(sv, "base_url"));
  const char *title = ws_value_cstr(ws_value_get(sv, "title"));
  ws_str xml = WS_STR_INIT;
  ws_contributions_feed(&xml, site, base ? base : "", title ? title : "",
                        build_time_of(r));
  error = ws_render_write(r, "feed.xml", xml.ptr, xml.len);
  ws_str_release(&xml);
  return error;
}
