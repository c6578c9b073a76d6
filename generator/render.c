#include "render.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "image.h"
#include "mustache.h"
#include "str.h"
#include "xalloc.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct ws_renderer {
  const ws_site *site;
  ws_theme *theme;
  ws_source *src;
  ws_output *out;
  ws_value *site_ctx; /* the "site" object shared by every page */
  ws_value **people;  /* one context per person, in site order */
};
typedef ws_renderer renderer;

/* --- small builders --- */

static ws_value *str_list(const ws_strlist *l)
{
  ws_value *v = ws_value_list();
  for (size_t i = 0; i < l->len; i++)
    ws_value_push(v, ws_value_strz(l->items[i]));
  return v;
}

static ws_value *tag_links(const ws_strlist *l, const char *section)
{
  ws_value *v = ws_value_list();
  for (size_t i = 0; i < l->len; i++) {
    ws_value *t = ws_value_map();
    char *slug = ws_slugify(l->items[i]);
    ws_str url = WS_STR_INIT;
    ws_str_printf(&url, "%s/%s/", section, slug);
    ws_value_set_str(t, "name", l->items[i]);
    ws_value_set_str(t, "slug", slug);
    ws_value_set_str(t, "url", url.ptr);
    ws_str_release(&url);
    ws_value_push(v, t);
    free(slug);
  }
  return v;
}

static ws_value *type_list(unsigned bits)
{
  ws_value *v = ws_value_list();
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++) {
    if (!(bits & (1u << t)))
      continue;
    ws_value *m = ws_value_map();
    ws_value_set_str(m, "name", ws_mentor_type_name(t));
    ws_value_set_str(m, "definition", ws_mentor_type_definition(t));
    ws_str url = WS_STR_INIT;
    ws_str_printf(&url, "mentoring/%s/", ws_mentor_type_name(t));
    ws_value_set_str(m, "url", url.ptr);
    ws_str_release(&url);
    ws_value_push(v, m);
  }
  return v;
}

static ws_value *names_of(unsigned bits, const char *const *names, size_t n)
{
  ws_value *v = ws_value_list();
  for (size_t i = 0; i < n; i++)
    if (bits & (1u << i))
      ws_value_push(v, ws_value_strz(names[i]));
  return v;
}

static ws_value *type_names(unsigned bits)
{
  ws_value *v = ws_value_list();
  for (unsigned t = 0; t < WS_MENTOR__COUNT; t++)
    if (bits & (1u << t))
      ws_value_push(v, ws_value_strz(ws_mentor_type_name(t)));
  return v;
}

/* Sets 'key' to 'list' and "has_<key>" to whether it has items: Mustache
 * cannot ask a list for its length, and themes wrap lists in <ul>. */
static void set_list(ws_value *map, const char *key, ws_value *list)
{
  ws_str has = WS_STR_INIT;
  ws_str_printf(&has, "has_%s", key);
  ws_value_set_bool(map, has.ptr, list->u.list.len > 0);
  ws_value_set(map, key, list);
  ws_str_release(&has);
}

/* --- avatars --- */

static size_t utf8_len(unsigned char c)
{
  return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
         : (c >> 3) == 30 ? 4 : 1;
}

static unsigned decode(const unsigned char *s, size_t n)
{
  if (n == 1)
    return s[0];
  unsigned cp = s[0] & (0x7fu >> n);
  for (size_t i = 1; i < n; i++)
    cp = (cp << 6) | (s[i] & 0x3fu);
  return cp;
}

/* Marks that belong to the letter before them: combining diacritics, Indic
 * vowel signs and viramas, the zero-width joiner and variation selectors. */
static bool is_mark(unsigned cp)
{
  return (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x900 && cp <= 0x903) ||
         (cp >= 0x93a && cp <= 0x94f) || (cp >= 0x951 && cp <= 0x957) ||
         (cp >= 0x962 && cp <= 0x963) || (cp >= 0x981 && cp <= 0x983) ||
         (cp >= 0x9bc && cp <= 0x9cd) || (cp >= 0x64b && cp <= 0x65f) ||
         cp == 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f) ||
         (cp >= 0x1f3fb && cp <= 0x1f3ff);
}

/* Appends the first letter (with its marks) of the word at 's'. */
static void put_first_letter(ws_str *out, const char *s, size_t len)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t n = utf8_len(u[0]);
  if (n > len)
    return;
  if (n == 1)
    ws_str_putc(out, (char)(u[0] >= 'a' && u[0] <= 'z' ? u[0] - 32 : u[0]));
  else
    ws_str_put(out, s, n);
  for (size_t i = n; i < len;) {
    size_t k = utf8_len(u[i]);
    if (i + k > len || !is_mark(decode(u + i, k)))
      break;
    ws_str_put(out, s + i, k);
    /* A zero-width joiner glues the next character to this one. */
    if (decode(u + i, k) == 0x200d && i + k < len) {
      size_t k2 = utf8_len(u[i + k]);
      if (i + k + k2 <= len)
        ws_str_put(out, s + i + k, k2);
      i += k2;
    }
    i += k;
  }
}

static bool word_char(unsigned char c)
{
  return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

char *ws_render_initials(const char *name)
{
  const char *words[2] = {NULL, NULL};
  size_t lens[2] = {0, 0};
  const char *p = name;
  while (*p) {
    while (*p && !word_char((unsigned char)*p))
      p++;
    if (!*p)
      break;
    const char *start = p;
    while (*p && word_char((unsigned char)*p) && *p != ' ')
      p++;
    if (!words[0]) {
      words[0] = start;
      lens[0] = (size_t)(p - start);
    } else {
      words[1] = start;
      lens[1] = (size_t)(p - start);
    }
  }
  ws_str out = WS_STR_INIT;
  for (size_t i = 0; i < 2; i++)
    if (words[i])
      put_first_letter(&out, words[i], lens[i]);
  if (!out.len)
    ws_str_putc(&out, '?');
  return ws_str_detach(&out);
}

unsigned ws_render_hue(const char *slug)
{
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)slug; *p; p++)
    h = (h ^ *p) * 16777619u;
  return h % 360;
}

/* --- the person context --- */

static void set_photo(ws_value *v, const ws_profile *p)
{
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

static ws_value *mentoring_value(const ws_profile *p)
{
  static const char *const formats[] = {"one-on-one", "group"};
  static const char *const modes[] = {"virtual", "in-person"};
  ws_value *m = ws_value_map();
  ws_value *seek = ws_value_map(), *offer = ws_value_map();
  ws_value_set(seek, "types", type_list(p->seek_types));
  set_list(seek, "topics", str_list(&p->seek_topics));
  ws_value_set_bool(seek, "cross_team", p->cross_team);
  ws_value_set(offer, "types", type_list(p->offer_types));
  set_list(offer, "topics", str_list(&p->offer_topics));
  ws_value_set_num(offer, "capacity", p->capacity);
  ws_value_set(m, "seeking", seek);
  ws_value_set(m, "offering", offer);
  ws_value_set_bool(m, "is_seeking", p->seek_types != 0);
  ws_value_set_bool(m, "is_offering", p->offer_types != 0);
  set_list(m, "formats", names_of(p->formats, formats, 2));
  set_list(m, "modes", names_of(p->modes, modes, 2));
  return m;
}

ws_value *ws_render_person(const ws_site *site, size_t i)
{
  const ws_profile *p = site->people[i];
  ws_value *v = ws_value_map();
  ws_str url = WS_STR_INIT;
  ws_str_printf(&url, "people/%s/", p->slug);
  ws_value_set_str(v, "slug", p->slug);
  ws_value_set_str(v, "url", url.ptr);
  ws_str_release(&url);
  struct {
    const char *key, *val;
  } texts[] = {{"name", p->name},           {"pronouns", p->pronouns},
               {"pronunciation", p->pronunciation}, {"role", p->role},
               {"team", p->team},           {"location", p->location},
               {"timezone", p->timezone},   {"joined", p->joined},
               {"dream_job", p->dream_job}, {"summary", p->summary},
               {"body", p->body_html}};
  for (size_t k = 0; k < COUNT(texts); k++)
    if (texts[k].val && *texts[k].val)
      ws_value_set_str(v, texts[k].key, texts[k].val);
  if (p->team) {
    char *slug = ws_slugify(p->team);
    ws_str turl = WS_STR_INIT;
    ws_str_printf(&turl, "teams/%s/", slug);
    ws_value_set_str(v, "team_url", turl.ptr);
    ws_str_release(&turl);
    free(slug);
  }
  char *initials = ws_render_initials(p->name);
  ws_value_set_str(v, "initials", initials);
  free(initials);
  ws_value_set_num(v, "hue", ws_render_hue(p->slug));
  set_photo(v, p);
  set_list(v, "strengths", tag_links(&p->strengths, "strengths"));
  ws_strlist top = {p->strengths.items,
                    p->strengths.len < 3 ? p->strengths.len : 3};
  set_list(v, "top_strengths", tag_links(&top, "strengths"));
  set_list(v, "learning", tag_links(&p->learning, "strengths"));
  set_list(v, "passion_projects", str_list(&p->passion_projects));
  ws_value_set(v, "mentoring", mentoring_value(p));
  if (p->goal_short || p->goal_long) {
    ws_value *g = ws_value_map();
    ws_value_set_str(g, "short_term", p->goal_short);
    ws_value_set_str(g, "long_term", p->goal_long);
    ws_value_set(v, "goals", g);
  }
  if (p->links)
    set_list(v, "links", ws_value_copy(p->links));
  return v;
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

static ws_value *nav_value(const char *section)
{
  ws_value *nav = ws_value_list();
  for (size_t i = 0; i < COUNT(nav_items); i++) {
    ws_value *n = ws_value_map();
    ws_value_set_str(n, "label", nav_items[i].label);
    ws_value_set_str(n, "href", nav_items[i].path);
    ws_value_set_bool(n, "current",
                      strcmp(section, nav_items[i].section) == 0);
    ws_value_push(nav, n);
  }
  return nav;
}

/* Every page links relative to itself, so the site works from any folder,
 * from file:// and under any base URL. */
static char *root_for(const char *path)
{
  ws_str root = WS_STR_INIT;
  for (const char *p = path; *p; p++)
    if (*p == '/')
      ws_str_puts(&root, "../");
  return ws_str_detach(&root);
}

typedef ws_page page_info;

ws_value *ws_render_context(ws_renderer *r, const ws_page *pg)
{
  ws_value *ctx = ws_value_map();
  ws_value *page = ws_value_map();
  char *root = root_for(pg->file);
  const char *base = ws_value_cstr(ws_value_get(r->site_ctx, "base_url"));
  ws_str path = WS_STR_INIT, canon = WS_STR_INIT;
  ws_str_puts(&path, pg->file);
  if (path.len >= 10 && strcmp(path.ptr + path.len - 10, "index.html") == 0)
    ws_str_truncate(&path, path.len - 10);
  if (base && *base)
    ws_str_printf(&canon, "%s%s", base, path.ptr);
  ws_value_set_str(page, "title", pg->title);
  ws_value_set_str(page, "description", pg->description);
  ws_value_set_str(page, "path", path.ptr);
  if (canon.len)
    ws_value_set_str(page, "canonical", canon.ptr);
  ws_value_set_str(page, "section", pg->section);
  ws_value_set(ctx, "site", ws_value_copy(r->site_ctx));
  ws_value_set(ctx, "page", page);
  ws_value_set_str(ctx, "root", root);
  ws_value_set(ctx, "nav", nav_value(pg->section));
  free(root);
  ws_str_release(&path);
  ws_str_release(&canon);
  return ctx;
}

int ws_render_page(ws_renderer *r, const ws_page *pg, ws_value *ctx)
{
  const ws_mustache *tpl;
  ws_str html = WS_STR_INIT;
  int error = ws_theme_template(&tpl, r->theme, pg->template);
  if (error == 0)
    error = ws_mustache_render(&html, tpl, ctx, ws_theme_env(r->theme));
  if (error == 0)
    error = ws_output_write(r->out, pg->file, html.ptr, html.len);
  ws_str_release(&html);
  ws_value_free(ctx);
  return error;
}

static ws_value *people_list(renderer *r)
{
  ws_value *l = ws_value_list();
  for (size_t i = 0; i < r->site->npeople; i++)
    ws_value_push(l, ws_value_copy(r->people[i]));
  return l;
}

static int render_index(renderer *r)
{
  const char *title = ws_value_cstr(ws_value_get(r->site_ctx, "title"));
  const char *desc =
      ws_value_cstr(ws_value_get(r->site_ctx, "description"));
  page_info pg = {"index", "index.html", "people", title, desc};
  ws_value *ctx = ws_render_context(r, &pg);
  ws_value_set(ctx, "people", people_list(r));
  ws_value_set_num(ctx, "count", (double)r->site->npeople);
  return ws_render_page(r, &pg, ctx);
}

static int copy_photo(renderer *r, const ws_profile *p)
{
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

static int render_person(renderer *r, size_t i)
{
  const ws_profile *p = r->site->people[i];
  ws_str file = WS_STR_INIT, desc = WS_STR_INIT;
  int error;
  ws_str_printf(&file, "people/%s/index.html", p->slug);
  if (p->summary && *p->summary)
    ws_str_puts(&desc, p->summary);
  else
    ws_str_printf(&desc, "%s%s%s", p->name, p->role ? ", " : "",
                  p->role ? p->role : "");
  page_info pg = {"person", file.ptr, "people", p->name, desc.ptr};
  ws_value *ctx = ws_render_context(r, &pg);
  ws_value_set(ctx, "person", ws_value_copy(r->people[i]));
  error = ws_render_page(r, &pg, ctx);
  if (error == 0 && p->photo && p->photo_type != WS_IMAGE_UNKNOWN)
    error = copy_photo(r, p);
  ws_str_release(&file);
  ws_str_release(&desc);
  return error;
}

static int render_404(renderer *r)
{
  page_info pg = {"404", "404.html", "", "Page not found",
                  "This page does not exist."};
  ws_value *ctx = ws_render_context(r, &pg);
  /* A 404 page is served at any depth, so it links from the site root. */
  const char *base = ws_value_cstr(ws_value_get(r->site_ctx, "base_url"));
  ws_value_set_str(ctx, "root", base && *base ? base : "/");
  return ws_render_page(r, &pg, ctx);
}

static int write_asset(const char *rel, const char *data, size_t len,
                       void *payload)
{
  renderer *r = payload;
  ws_str path = WS_STR_INIT;
  ws_str_printf(&path, "assets/%s", rel);
  int error = ws_output_write(r->out, path.ptr, data, len);
  ws_str_release(&path);
  return error;
}

int ws_render_write(ws_renderer *r, const char *file, const char *data,
                    size_t len)
{
  return ws_output_write(r->out, file, data, len);
}

const ws_site *ws_renderer_site(const ws_renderer *r)
{
  return r->site;
}

ws_source *ws_renderer_source(ws_renderer *r)
{
  return r->src;
}

const ws_value *ws_renderer_person(const ws_renderer *r, size_t i)
{
  return r->people[i];
}

const ws_value *ws_renderer_site_value(const ws_renderer *r)
{
  return r->site_ctx;
}

/* The page families beyond the directory and person pages; each lives in a
 * module of its own and writes its pages through ws_render_page. */
static int (*const families[])(ws_renderer *) = {NULL};

static int render_families(renderer *r)
{
  int error = 0;
  for (size_t i = 0; i < COUNT(families) && error == 0; i++)
    if (families[i])
      error = families[i](r);
  return error;
}

static int render_search(renderer *r)
{
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
    ws_value_set(e, "formats",
                 names_of(p->formats,
                          (const char *const[]){"one-on-one", "group"}, 2));
    ws_value_set(e, "modes",
                 names_of(p->modes,
                          (const char *const[]){"virtual", "in-person"}, 2));
    ws_value_push(list, e);
  }
  ws_str json = WS_STR_INIT;
  ws_value_put_json(&json, list);
  ws_str_putc(&json, '\n');
  int error = ws_output_write(r->out, "search.json", json.ptr, json.len);
  ws_str_release(&json);
  ws_value_free(list);
  return error;
}

static void put_xml(ws_str *out, const char *s)
{
  ws_str_put_html(out, s, strlen(s));
}

static int render_sitemap(renderer *r)
{
  const char *base = ws_value_cstr(ws_value_get(r->site_ctx, "base_url"));
  ws_str xml = WS_STR_INIT;
  ws_str_puts(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<urlset xmlns=\"http://www.sitemaps.org/schemas/"
                    "sitemap/0.9\">\n");
  ws_str_puts(&xml, "  <url><loc>");
  put_xml(&xml, base);
  ws_str_puts(&xml, "</loc></url>\n");
  for (size_t i = 0; i < r->site->npeople; i++) {
    ws_str_puts(&xml, "  <url><loc>");
    put_xml(&xml, base);
    ws_str_puts(&xml, "people/");
    put_xml(&xml, r->site->people[i]->slug);
    ws_str_puts(&xml, "/</loc></url>\n");
  }
  ws_str_puts(&xml, "</urlset>\n");
  int error = ws_output_write(r->out, "sitemap.xml", xml.ptr, xml.len);
  ws_str_release(&xml);
  return error;
}

static ws_value *site_value(const ws_site *site, const ws_render_opts *opts)
{
  ws_value *s = ws_value_map();
  const char *base = opts->base_url
                         ? opts->base_url
                         : ws_site_config(site, "base_url", "");
  ws_str b = WS_STR_INIT;
  ws_str_puts(&b, base);
  if (b.len && b.ptr[b.len - 1] != '/')
    ws_str_putc(&b, '/');
  ws_value_set_str(s, "title", opts->title ? opts->title
                                           : ws_site_config(site, "title",
                                                            "Our team"));
  ws_value_set_str(s, "description",
                   ws_site_config(site, "description",
                                  "Who we are, what we are good at, and how "
                                  "we help each other grow."));
  ws_value_set_str(s, "base_url", b.ptr);
  ws_value_set_str(s, "language", ws_site_config(site, "language", "en"));
  ws_value_set_str(s, "generator", "wholeself " WS_VERSION);
  char date[32] = "";
  time_t t = (time_t)opts->build_time;
  struct tm tm;
  if (t > 0 && gmtime_r(&t, &tm))
    strftime(date, sizeof(date), "%Y-%m-%d", &tm);
  if (*date)
    ws_value_set_str(s, "build_date", date);
  ws_value_set_num(s, "people_count", (double)site->npeople);
  ws_str_release(&b);
  return s;
}

int ws_render_site(const ws_site *site, ws_theme *theme, ws_source *src,
                   ws_output *out, const ws_render_opts *opts)
{
  renderer r = {site, theme, src, out, site_value(site, opts), NULL};
  int error = 0;
  r.people = ws_xcalloc(site->npeople ? site->npeople : 1, sizeof(ws_value *));
  for (size_t i = 0; i < site->npeople; i++)
    r.people[i] = ws_render_person(site, i);
  if ((error = render_index(&r)) < 0)
    goto cleanup;
  for (size_t i = 0; i < site->npeople && error == 0; i++)
    error = render_person(&r, i);
  if (error == 0)
    error = render_families(&r);
  if (error == 0)
    error = render_404(&r);
  if (error == 0)
    error = ws_theme_assets(theme, write_asset, &r);
  if (error == 0)
    error = render_search(&r);
  if (error == 0)
    error = render_sitemap(&r);
cleanup:
  for (size_t i = 0; i < site->npeople; i++)
    ws_value_free(r.people[i]);
  free(r.people);
  ws_value_free(r.site_ctx);
  return error;
}
