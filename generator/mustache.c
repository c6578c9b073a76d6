#include "mustache.h"

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "xalloc.h"

/* How deep sections, parents and blocks may nest inside one template. Render
 * recursion is this times WS_MUSTACHE_MAX_DEPTH, so both stay small enough
 * for an 8 MB stack even under AddressSanitizer. */
#define MAX_NESTING 64

typedef enum {
  T_TEXT,
  T_ESCAPED,
  T_RAW,
  T_SECTION,
  T_INVERTED,
  T_PARTIAL,
  T_PARENT,
  T_BLOCK
} tok_kind;

typedef struct tok tok;
struct tok {
  unsigned char kind;
  bool bol;        /* T_TEXT starts a source line: intrinsic indent is cut */
  bool dynamic;    /* the partial or parent name is a path into the context */
  bool indented;   /* expansion goes on lines of its own, with 'indent' */
  bool intrinsic;  /* block content had its own indentation removed */
  unsigned nparts; /* name parts ("a.b" is 2); 0 is the implicit iterator */
  const uint32_t *hashes; /* ws_str_hash32 of every part, in 'own' after the
                           * name; NULL for partial names and "." */
  unsigned line, col;
  const char *text; /* T_TEXT: the bytes; else the NUL-separated name */
  size_t len;
  char *own;          /* what 'text' points to when the token owns it */
  const char *indent; /* whitespace from the source */
  size_t ilen;
  tok *kids; /* sections, blocks; for a parent, its blocks only */
  size_t nkids;
};

struct ws_mustache {
  char *name;
  char *src; /* text tokens point into this copy */
  tok *toks;
  size_t ntoks;
};

static void names_of(const tok *toks, size_t n, ws_mustache_name_fn key,
                     ws_mustache_name_fn include, void *payload) {
  for (size_t i = 0; i < n; i++) {
    const tok *t = &toks[i];
    const char *part = t->text;
    if (t->kind == T_TEXT || t->kind == T_BLOCK) {
      /* text shows nothing from the context; a block is a slot */
    } else if (t->kind == T_PARTIAL || t->kind == T_PARENT) {
      include(t->dynamic ? NULL : t->text, payload);
    } else {
      for (unsigned k = 0; k < t->nparts; k++, part += strlen(part) + 1)
        key(part, payload);
    }
    if (t->dynamic) /* the name of a dynamic partial is looked up too */
      for (unsigned k = 0; k < t->nparts; k++, part += strlen(part) + 1)
        key(part, payload);
    names_of(t->kids, t->nkids, key, include, payload);
  }
}

void ws_mustache_names(const ws_mustache *tpl, ws_mustache_name_fn key,
                       ws_mustache_name_fn include, void *payload) {
  names_of(tpl->toks, tpl->ntoks, key, include, payload);
}

/* ------------------------------------------------------------------ */
/* Parsing                                                            */

typedef struct {
  tok *items;
  size_t len, cap;
} tokvec;

typedef struct {
  tok open;
  tokvec kids;
  const char *name; /* as written, to match the closing tag */
  size_t nlen;
  size_t ws_start, ts; /* leading whitespace of the opening tag */
  bool left_clear;     /* opening tag clears on the left: pair candidate */
  bool standalone;
  bool dynamic;
} level;

typedef struct {
  char sigil; /* 0 for a plain variable */
  const char *s;
  size_t n; /* content, trimmed, without the sigil */
  size_t start, end;
  unsigned line, col;
} tag;

typedef struct {
  const char *name;
  const char *src;
  size_t len;
  size_t pos; /* where the pending text starts */
  bool bol;   /* 'pos' is at the start of a line */
  size_t counted, line_start;
  unsigned line;
  const char *otag, *ctag;
  size_t olen, clen;
  level *lv; /* MAX_NESTING levels; lv[0] is the template itself */
  size_t depth;
} parser;

static void tok_release(tok *t);

static void free_toks(tok *toks, size_t n) {
  for (size_t i = 0; i < n; i++)
    tok_release(&toks[i]);
  free(toks);
}

static void tok_release(tok *t) {
  free(t->own);
  free_toks(t->kids, t->nkids);
}

static void push(tokvec *v, const tok *t) {
  if (v->len == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 8;
    v->items = ws_xreallocarray(v->items, v->cap, sizeof(tok));
  }
  v->items[v->len++] = *t;
}

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static unsigned clamp(size_t n) {
  return n > UINT_MAX ? UINT_MAX : (unsigned)n;
}

/* Counts lines up to 'off'; tags are met in order, so each byte is counted
 * once and compiling stays linear. */
static void locate(parser *p, size_t off, unsigned *line, unsigned *col) {
  const char *s = p->src;
  while (p->counted < off) {
    const char *nl = memchr(s + p->counted, '\n', off - p->counted);
    if (!nl) {
      p->counted = off;
      break;
    }
    p->line++;
    p->counted = (size_t)(nl - s) + 1;
    p->line_start = p->counted;
  }
  *line = p->line;
  *col = clamp(off - p->line_start + 1);
}

static size_t find(const parser *p, size_t from, const char *needle,
                   size_t nlen) {
  while (from < p->len && p->len - from >= nlen) {
    const char *hit = memchr(p->src + from, needle[0], p->len - from);
    if (!hit)
      break;
    size_t at = (size_t)(hit - p->src);
    if (p->len - at < nlen)
      break;
    if (memcmp(hit, needle, nlen) == 0)
      return at;
    from = at + 1;
  }
  return SIZE_MAX;
}

/* Finds 'c' directly followed by the closing delimiter, as in "}}}". */
static size_t find_pair(const parser *p, size_t start, char c) {
  for (size_t from = start;;) {
    size_t at = find(p, from, p->ctag, p->clen);
    if (at == SIZE_MAX)
      return at;
    if (at > start && p->src[at - 1] == c)
      return at - 1;
    from = at + 1;
  }
}

static int fail(const parser *p, unsigned line, unsigned col,
                const char *what) {
  return ws_error(WS_EINVALID, "%s:%u:%u: %s", p->name, line, col, what);
}

static int scan_tag(parser *p, size_t ts, tag *out) {
  size_t cs = ts + p->olen, end;
  char c = cs < p->len ? p->src[cs] : '\0';
  out->sigil = c && strchr("#^/!><$&{=", c) ? c : '\0';
  if (out->sigil)
    cs++;
  out->start = ts;
  locate(p, ts, &out->line, &out->col);
  if (out->sigil == '{' || out->sigil == '=')
    end = find_pair(p, cs, out->sigil == '{' ? '}' : '=');
  else
    end = find(p, cs, p->ctag, p->clen);
  if (end == SIZE_MAX)
    return fail(p, out->line, out->col, "unclosed tag");
  out->end = end + p->clen + (out->sigil == '{' || out->sigil == '=');
  out->s = p->src + cs;
  out->n = end - cs;
  while (out->n && is_space(out->s[0]))
    out->s++, out->n--;
  while (out->n && is_space(out->s[out->n - 1]))
    out->n--;
  return 0;
}

/* Left clearance: only blanks since the start of the line. Sets 'ws' to
 * where those blanks begin. */
static bool left_clear(const parser *p, size_t ts, size_t *ws) {
  size_t i = ts;
  while (i > p->pos && (p->src[i - 1] == ' ' || p->src[i - 1] == '\t'))
    i--;
  *ws = i;
  return i == p->pos ? p->bol : p->src[i - 1] == '\n';
}

static bool right_clear(const parser *p, size_t te, size_t *after) {
  size_t i = te;
  *after = te;
  while (i < p->len && (p->src[i] == ' ' || p->src[i] == '\t'))
    i++;
  if (i < p->len && p->src[i] == '\n')
    i++;
  else if (i + 1 < p->len && p->src[i] == '\r' && p->src[i + 1] == '\n')
    i += 2;
  else if (i < p->len)
    return false;
  *after = i;
  return true;
}

static level *top(parser *p) {
  return &p->lv[p->depth];
}

static void flush_text(parser *p, size_t end) {
  if (end > p->pos) {
    tok t = {.kind = T_TEXT, .bol = p->bol};
    t.text = p->src + p->pos;
    t.len = end - p->pos;
    push(&top(p)->kids, &t);
  }
}

/* Stores a name as NUL-separated parts; "." alone is the implicit iterator.
 * Partial and block names are kept whole ('split' false). */
static void set_name(tok *t, const char *s, size_t n, bool split) {
  size_t parts = 1, at = (n + 1 + 3) / 4 * 4; /* hashes go after the name */
  for (size_t i = 0; split && i < n; i++)
    parts += s[i] == '.';
  t->own = ws_xmalloc(at + parts * sizeof(uint32_t));
  memcpy(t->own, s, n);
  t->own[n] = '\0';
  t->text = t->own;
  t->len = n;
  t->nparts = 1;
  if (!split)
    return;
  if (n == 1 && s[0] == '.') {
    t->nparts = 0;
    return;
  }
  for (size_t i = 0; i < n; i++)
    if (t->own[i] == '.') {
      t->own[i] = '\0';
      t->nparts++;
    }
  /* A dotted name's later parts are looked up as often as its first. */
  uint32_t *hashes = (uint32_t *)(void *)(t->own + at);
  const char *part = t->own;
  for (unsigned k = 0; k < t->nparts; k++, part += strlen(part) + 1)
    hashes[k] = ws_str_hash32(part);
  t->hashes = hashes;
}

static int set_delims(parser *p, const tag *tg) {
  size_t i = 0, j;
  while (i < tg->n && !is_space(tg->s[i]))
    i++;
  for (j = i; j < tg->n && is_space(tg->s[j]); j++)
    ;
  bool ok = i > 0 && j < tg->n && j > i;
  for (size_t k = j; ok && k < tg->n; k++)
    ok = !is_space(tg->s[k]);
  ok = ok && !memchr(tg->s, '=', tg->n);
  if (!ok)
    return fail(p, tg->line, tg->col, "invalid delimiter change");
  p->otag = tg->s;
  p->olen = i;
  p->ctag = tg->s + j;
  p->clen = tg->n - j;
  return 0;
}

/* Splits "*name" into the dynamic flag and the trimmed name. */
static bool strip_star(const char **s, size_t *n) {
  if (*n == 0 || (*s)[0] != '*')
    return false;
  (*s)++, (*n)--;
  while (*n && is_space((*s)[0]))
    (*s)++, (*n)--;
  return true;
}

static tok_kind kind_of(char sigil) {
  switch (sigil) {
  case '#':
    return T_SECTION;
  case '^':
    return T_INVERTED;
  case '>':
    return T_PARTIAL;
  case '<':
    return T_PARENT;
  case '$':
    return T_BLOCK;
  case '&':
  case '{':
    return T_RAW;
  default:
    return T_ESCAPED;
  }
}

/* Which blanks around a tag belong to the tag rather than to the text: the
 * spec's standalone lines, extended to parents and blocks, whose bodies are
 * partly ignored so that one side of them never counts. */
typedef struct {
  bool left, right;
  bool trim_left, eat_right;
  size_t ws, after;
} clearance;

/* 'name' and 'n' are the name as written, for matching the closing tag. */
static void open_level(parser *p, const tag *tg, const tok *t, const char *name,
                       size_t n, const clearance *c) {
  level *l = &p->lv[++p->depth];
  memset(l, 0, sizeof(*l));
  l->open = *t;
  l->name = name;
  l->nlen = n;
  l->dynamic = t->dynamic;
  l->ws_start = c->ws;
  l->ts = tg->start;
  l->left_clear = c->left;
  l->standalone = c->trim_left || c->eat_right;
}

/* Cuts 'plen' bytes of 'prefix' from every line start of a text token. */
static void strip_text(tok *t, const char *prefix, size_t plen) {
  char *buf = ws_xmalloc(t->len + 1);
  size_t n = 0;
  bool at_start = t->bol;
  for (size_t i = 0; i < t->len;) {
    if (at_start && t->len - i >= plen &&
        memcmp(t->text + i, prefix, plen) == 0)
      i += plen;
    at_start = false;
    while (i < t->len && !at_start) {
      at_start = t->text[i] == '\n';
      buf[n++] = t->text[i++];
    }
  }
  buf[n] = '\0';
  free(t->own);
  t->own = buf;
  t->text = buf;
  t->len = n;
}

/* Removes a block's intrinsic indentation from everything inside it. A
 * nested block that already removed its own only has its indent adjusted,
 * which keeps nested blocks indented relative to the surrounding one. */
static void strip_indent(tok *toks, size_t n, const char *prefix, size_t plen) {
  for (size_t i = 0; i < n; i++) {
    tok *t = &toks[i];
    if (t->kind == T_TEXT) {
      strip_text(t, prefix, plen);
      continue;
    }
    if (t->indented && t->ilen >= plen &&
        memcmp(t->indent, prefix, plen) == 0) {
      t->indent += plen;
      t->ilen -= plen;
    }
    if (!(t->kind == T_BLOCK && t->intrinsic))
      strip_indent(t->kids, t->nkids, prefix, plen);
  }
}

/* The indentation of a block's first line, when its opening tag stood on a
 * line of its own. */
static void intrinsic_indent(tok *b) {
  const tok *first = &b->kids[0];
  const char *s = "";
  size_t n = 0;
  if (first->kind == T_TEXT && first->bol) {
    s = first->text;
    while (n < first->len && (s[n] == ' ' || s[n] == '\t'))
      n++;
  } else if (first->indented) {
    s = first->indent;
    n = first->ilen;
  }
  if (n)
    strip_indent(b->kids, b->nkids, s, n);
  b->indent = s;
  b->ilen = n;
  b->intrinsic = true;
  b->indented = true;
}

/* Finishes a block: its indentation comes from its content, from its own
 * line, or from a pair of tags that together stand alone. */
static void close_block(parser *p, level *l, tok *t, bool pair) {
  level *outer = &p->lv[p->depth - 1];
  if (l->standalone && t->nkids) {
    intrinsic_indent(t);
  } else if (l->standalone) {
    t->indented = true;
  } else if (pair && outer->open.kind != T_PARENT) {
    tokvec *v = &outer->kids;
    size_t ws = l->ts - l->ws_start;
    if (ws && v->len && v->items[v->len - 1].kind == T_TEXT) {
      v->items[v->len - 1].len -= ws;
      if (v->items[v->len - 1].len == 0)
        tok_release(&v->items[--v->len]);
    }
    t->indent = p->src + l->ws_start;
    t->ilen = ws;
    t->indented = true;
  }
}

/* A parent keeps only its blocks: other text inside it is ignored. */
static void keep_blocks(tok *t) {
  size_t n = 0;
  for (size_t i = 0; i < t->nkids; i++) {
    if (t->kids[i].kind == T_BLOCK)
      t->kids[n++] = t->kids[i];
    else
      tok_release(&t->kids[i]);
  }
  t->nkids = n;
}

static int close_level(parser *p, const tag *tg, bool right) {
  const char *s = tg->s;
  size_t n = tg->n;
  bool dynamic = strip_star(&s, &n);
  int shown = (int)(tg->n > 64 ? 64 : tg->n);
  if (p->depth == 0)
    return ws_error(WS_EINVALID,
                    "%s:%u:%u: closing tag '%.*s' without an opening tag",
                    p->name, tg->line, tg->col, shown, tg->s);
  level *l = top(p);
  if (n != l->nlen || dynamic != l->dynamic || memcmp(s, l->name, n) != 0)
    return ws_error(WS_EINVALID,
                    "%s:%u:%u: closing tag '%.*s' does not match '%.*s' "
                    "opened at %u:%u",
                    p->name, tg->line, tg->col, shown, tg->s,
                    (int)(l->nlen > 64 ? 64 : l->nlen), l->name, l->open.line,
                    l->open.col);
  tok t = l->open;
  t.kids = l->kids.items;
  t.nkids = l->kids.len;
  if (t.kind == T_PARENT)
    keep_blocks(&t);
  else if (t.kind == T_BLOCK)
    close_block(p, l, &t, !l->standalone && l->left_clear && right);
  p->depth--;
  push(&top(p)->kids, &t);
  return 0;
}

static void clear_for(parser *p, const tag *tg, clearance *c) {
  char s = tg->sigil;
  level *l = top(p);
  bool in_body = p->depth > 0 && l->open.kind == T_PARENT;
  bool closes_override = p->depth > 1 && l->open.kind == T_BLOCK &&
                         p->lv[p->depth - 1].open.kind == T_PARENT;
  c->left = left_clear(p, tg->start, &c->ws);
  c->right = right_clear(p, tg->end, &c->after);
  c->trim_left = c->eat_right = false;
  if (!s || s == '&' || s == '{')
    return;
  if (s == '<')
    c->trim_left = c->left;
  else if (s == '$' && in_body)
    c->eat_right = c->right;
  else if (s == '/' && in_body)
    c->eat_right = c->right && l->standalone;
  else if (s == '/' && closes_override)
    c->trim_left = c->left;
  else
    c->trim_left = c->eat_right = c->left && c->right;
}

static bool opens_level(char sigil) {
  return sigil == '#' || sigil == '^' || sigil == '<' || sigil == '$';
}

static int add_tag(parser *p, const tag *tg, const clearance *c) {
  const char *s = tg->s;
  size_t n = tg->n;
  tok t = {.kind = (unsigned char)kind_of(tg->sigil),
           .line = tg->line,
           .col = tg->col};
  if (tg->sigil == '>' || tg->sigil == '<')
    t.dynamic = strip_star(&s, &n);
  if (n == 0)
    return fail(p, tg->line, tg->col, "empty tag name");
  if (opens_level(tg->sigil) && p->depth + 1 >= MAX_NESTING)
    return ws_error(WS_EINVALID, "%s:%u:%u: sections nested deeper than %d",
                    p->name, tg->line, tg->col, MAX_NESTING - 1);
  set_name(&t, s, n, t.kind <= T_INVERTED || t.dynamic);
  if (c->trim_left) {
    t.indented = true;
    t.indent = p->src + c->ws;
    t.ilen = tg->start - c->ws;
  }
  if (opens_level(tg->sigil))
    open_level(p, tg, &t, s, n, c);
  else
    push(&top(p)->kids, &t);
  return 0;
}

static int handle_tag(parser *p, const tag *tg) {
  clearance c;
  clear_for(p, tg, &c);
  flush_text(p, c.trim_left ? c.ws : tg->start);
  p->pos = c.eat_right ? c.after : tg->end;
  p->bol = c.eat_right;
  switch (tg->sigil) {
  case '!':
    return 0;
  case '=':
    return set_delims(p, tg);
  case '/':
    return close_level(p, tg, c.right);
  default:
    return add_tag(p, tg, &c);
  }
}

static int parse(parser *p) {
  int error = 0;
  while (error == 0) {
    size_t ts = find(p, p->pos, p->otag, p->olen);
    tag tg = {0};
    if (ts == SIZE_MAX) {
      flush_text(p, p->len);
      p->pos = p->len;
      break;
    }
    if ((error = scan_tag(p, ts, &tg)) == 0)
      error = handle_tag(p, &tg);
  }
  if (error == 0 && p->depth > 0) {
    level *l = top(p);
    error = ws_error(WS_EINVALID, "%s:%u:%u: unclosed section '%.*s'", p->name,
                     l->open.line, l->open.col,
                     (int)(l->nlen > 64 ? 64 : l->nlen), l->name);
  }
  return error;
}

int ws_mustache_compile(ws_mustache **out, const char *name, const char *src,
                        size_t len) {
  ws_mustache *tpl;
  parser p = {.len = len, .bol = true, .line = 1};
  int error;
  assert(out && name && (src || len == 0));
  tpl = ws_xcalloc(1, sizeof(*tpl));
  *out = NULL;
  tpl->name = ws_xstrdup(name);
  tpl->src = len ? ws_xstrndup(src, len) : ws_xstrdup("");
  p.name = tpl->name;
  p.src = tpl->src;
  p.otag = "{{", p.olen = 2;
  p.ctag = "}}", p.clen = 2;
  p.lv = ws_xcalloc(MAX_NESTING, sizeof(level));
  error = parse(&p);
  tpl->toks = p.lv[0].kids.items;
  tpl->ntoks = p.lv[0].kids.len;
  for (size_t d = 1; d <= p.depth; d++) {
    free(p.lv[d].open.own);
    free_toks(p.lv[d].kids.items, p.lv[d].kids.len);
  }
  free(p.lv);
  if (error < 0)
    ws_mustache_free(tpl);
  else
    *out = tpl;
  return error;
}

void ws_mustache_free(ws_mustache *tpl) {
  if (!tpl)
    return;
  free_toks(tpl->toks, tpl->ntoks);
  free(tpl->src);
  free(tpl->name);
  free(tpl);
}

const char *ws_mustache_name(const ws_mustache *tpl) {
  return tpl->name;
}

/* ------------------------------------------------------------------ */
/* Environment                                                        */

typedef struct {
  char *name;       /* NULL: empty slot */
  ws_mustache *tpl; /* NULL: the loader said there is no such template */
  uint64_t hash;
} slot;

struct ws_mustache_env {
  ws_mustache_load_fn load;
  void *payload;
  pthread_mutex_t lock; /* guards the cache; templates are immutable */
  slot *slots;
  size_t cap, len; /* cap is a power of two */
};

static slot *find_slot(slot *slots, size_t cap, const char *name, uint64_t h) {
  for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
    if (!slots[i].name ||
        (slots[i].hash == h && strcmp(slots[i].name, name) == 0))
      return &slots[i];
}

static void grow_slots(ws_mustache_env *env) {
  size_t cap = env->cap * 2;
  slot *slots = ws_xcalloc(cap, sizeof(slot));
  for (size_t i = 0; i < env->cap; i++)
    if (env->slots[i].name)
      *find_slot(slots, cap, env->slots[i].name, env->slots[i].hash) =
          env->slots[i];
  free(env->slots);
  env->slots = slots;
  env->cap = cap;
}

ws_mustache_env *ws_mustache_env_new(ws_mustache_load_fn load, void *payload) {
  ws_mustache_env *env = ws_xcalloc(1, sizeof(*env));
  env->load = load;
  env->payload = payload;
  env->cap = 16;
  env->slots = ws_xcalloc(env->cap, sizeof(slot));
  pthread_mutex_init(&env->lock, NULL);
  return env;
}

void ws_mustache_env_free(ws_mustache_env *env) {
  if (!env)
    return;
  for (size_t i = 0; i < env->cap; i++) {
    free(env->slots[i].name);
    ws_mustache_free(env->slots[i].tpl);
  }
  free(env->slots);
  pthread_mutex_destroy(&env->lock);
  free(env);
}

/* Caches 'tpl' (NULL: not found) unless another thread was quicker; returns
 * the cached one. */
static ws_mustache *remember(ws_mustache_env *env, const char *name, uint64_t h,
                             ws_mustache *tpl, bool *found) {
  pthread_mutex_lock(&env->lock);
  slot *s = find_slot(env->slots, env->cap, name, h);
  if (s->name) {
    ws_mustache_free(tpl);
  } else {
    s->name = ws_xstrdup(name);
    s->hash = h;
    s->tpl = tpl;
    *found = tpl != NULL;
    if (++env->len * 2 > env->cap)
      grow_slots(env);
    pthread_mutex_unlock(&env->lock);
    return tpl;
  }
  tpl = s->tpl;
  *found = tpl != NULL;
  pthread_mutex_unlock(&env->lock);
  return tpl;
}

static int not_found(const char *name) {
  return ws_error(WS_ENOTFOUND, "no template '%s'", name);
}

int ws_mustache_env_get(const ws_mustache **out, ws_mustache_env *env,
                        const char *name) {
  uint64_t h = ws_str_hash(name);
  ws_mustache *tpl = NULL;
  ws_str src = WS_STR_INIT;
  bool found;
  int error;
  *out = NULL;
  pthread_mutex_lock(&env->lock);
  slot *s = find_slot(env->slots, env->cap, name, h);
  bool cached = s->name != NULL;
  tpl = s->tpl;
  pthread_mutex_unlock(&env->lock);
  if (cached) {
    *out = tpl;
    return tpl ? 0 : not_found(name);
  }
  /* Load and compile unlocked, so a slow loader does not stall other
   * threads and may itself use the environment. */
  error = env->load(&src, name, env->payload);
  if (error == 0)
    error = ws_mustache_compile(&tpl, name, src.ptr, src.len);
  ws_str_release(&src);
  if (error < 0 && error != WS_ENOTFOUND)
    return error;
  *out = remember(env, name, h, tpl, &found);
  return found ? 0 : not_found(name);
}

/* ------------------------------------------------------------------ */
/* Rendering                                                          */

/* The context stack and the chain of parent overrides live on the C stack,
 * linked innermost first, so rendering allocates nothing of its own. */
typedef struct frame {
  const ws_value *v;
  const struct frame *up;
} frame;

typedef struct ovr {
  const tok *blocks;
  size_t n;
  const ws_mustache *tpl; /* where the blocks were written */
  const struct ovr *outer;
} ovr;

typedef struct recording recording;

typedef struct {
  ws_str *out;
  ws_mustache_env *env;
  bool pending; /* at a line start: the indentation is still due */
  ws_mustache_memo *memo;
  recording *rec; /* while a partial is rendered for the memo */
} rstate;

typedef struct {
  const ws_mustache *tpl; /* for messages */
  const frame *ctx;
  const ovr *ovr;
  const char *indent;
  size_t ilen;
  unsigned depth;
} scope;

static int render_toks(rstate *st, const scope *sc, const tok *toks, size_t n);

/* ------------------------------------------------------------------ */
/* The memo of partials                                               */

/* What a name found outside the key map while a partial was recorded. */
typedef struct {
  const tok *t;
  bool found;
  ws_value_type type; /* a scalar's: lists and maps are not remembered */
  bool boolean;
  double number;
  size_t at, len; /* a string's bytes, in the variant's 'strings' */
} escape;

/* One rendering of a partial against a key map, and what it depended on
 * outside that map. Never changed once in the memo. */
typedef struct variant {
  struct variant *next;
  unsigned depth; /* partials deeper than the limit fail to render */
  bool pending_in, pending_out;
  size_t nescapes;
  escape *escapes;
  const char *strings;
  const char *text;
  size_t len;
} variant;

typedef struct memo_key {
  struct memo_key *next;
  const ws_mustache *tpl;
  const ws_value *map;
  bool seen; /* rendered once: a person page's own avatar never repeats */
  unsigned nvariants;
  variant *variants;
} memo_key;

#define MEMO_STRIPES 32
#define MEMO_VARIANTS 4

typedef struct {
  pthread_mutex_t mu;
  memo_key **buckets;
  size_t cap, len; /* cap is a power of two */
} stripe;

struct ws_mustache_memo {
  stripe stripes[MEMO_STRIPES];
  atomic_size_t replays;
};

struct recording {
  const frame *outside; /* the frame just beyond the key map's */
  escape *escapes;
  size_t n, cap;
  ws_str strings;
  bool spoiled; /* met what a replay could not stand for */
};

static bool same_name(const tok *a, const tok *b) {
  return a == b || (a->nparts == b->nparts && a->len == b->len &&
                    memcmp(a->text, b->text, a->len) == 0);
}

static void note_escape(recording *rec, const tok *t, const ws_value *v) {
  for (size_t i = 0; i < rec->n; i++)
    if (same_name(rec->escapes[i].t, t))
      return; /* the same name finds the same value out there */
  if (v && (v->type == WS_VALUE_LIST || v->type == WS_VALUE_MAP ||
            v->type == WS_VALUE_REF)) {
    rec->spoiled = true;
    return;
  }
  if (rec->n == rec->cap) {
    rec->cap = rec->cap ? rec->cap * 2 : 8;
    rec->escapes = ws_xreallocarray(rec->escapes, rec->cap, sizeof(escape));
  }
  escape *e = &rec->escapes[rec->n++];
  *e = (escape){.t = t, .found = v != NULL};
  if (!v)
    return;
  e->type = v->type;
  if (v->type == WS_VALUE_BOOL)
    e->boolean = v->u.boolean;
  else if (v->type == WS_VALUE_NUMBER)
    e->number = v->u.number;
  else if (v->type == WS_VALUE_STRING) {
    e->at = rec->strings.len;
    e->len = v->u.string.len;
    ws_str_put(&rec->strings, v->u.string.ptr, v->u.string.len);
  }
}

static bool same_value(const escape *e, const char *strings,
                       const ws_value *v) {
  if (!v || !e->found)
    return !v && !e->found;
  if (v->type != e->type)
    return false;
  switch (v->type) {
  case WS_VALUE_NULL:
    return true;
  case WS_VALUE_BOOL:
    return v->u.boolean == e->boolean;
  case WS_VALUE_NUMBER:
    return memcmp(&v->u.number, &e->number, sizeof(double)) == 0;
  case WS_VALUE_STRING:
    return v->u.string.len == e->len &&
           memcmp(v->u.string.ptr, strings + e->at, e->len) == 0;
  default:
    return false;
  }
}

static const ws_value *first_part(const frame **f, const frame *stop,
                                  const tok *t);
static const ws_value *rest_parts(const ws_value *v, const tok *t);

static bool fits(const variant *x, const rstate *st, const scope *sc) {
  if (x->depth != sc->depth || x->pending_in != st->pending)
    return false;
  for (size_t i = 0; i < x->nescapes; i++) {
    const frame *f = sc->ctx->up;
    const ws_value *v =
        rest_parts(first_part(&f, NULL, x->escapes[i].t), x->escapes[i].t);
    if (!same_value(&x->escapes[i], x->strings, v))
      return false;
  }
  return true;
}

static uint64_t memo_hash(const ws_mustache *tpl, const ws_value *map) {
  uint64_t h = (uint64_t)(uintptr_t)tpl * 0x9E3779B97F4A7C15u;
  h ^= (uint64_t)(uintptr_t)map * 0xC2B2AE3D27D4EB4Fu;
  return h ^ (h >> 29);
}

static void grow_stripe(stripe *s) {
  size_t cap = s->cap ? s->cap * 2 : 64;
  memo_key **buckets = ws_xcalloc(cap, sizeof(memo_key *));
  for (size_t i = 0; i < s->cap; i++)
    for (memo_key *k = s->buckets[i], *next; k; k = next) {
      next = k->next;
      size_t b = (memo_hash(k->tpl, k->map) >> 5) & (cap - 1);
      k->next = buckets[b];
      buckets[b] = k;
    }
  free(s->buckets);
  s->buckets = buckets;
  s->cap = cap;
}

/* The key of 'tpl' and 'map' in 's' (locked), added if new. */
static memo_key *key_of(stripe *s, const ws_mustache *tpl, const ws_value *map,
                        uint64_t h) {
  memo_key *k = NULL;
  if (s->cap)
    for (k = s->buckets[(h >> 5) & (s->cap - 1)]; k; k = k->next)
      if (k->tpl == tpl && k->map == map)
        return k;
  if (s->len >= s->cap)
    grow_stripe(s);
  k = ws_xcalloc(1, sizeof(*k));
  k->tpl = tpl;
  k->map = map;
  size_t b = (h >> 5) & (s->cap - 1);
  k->next = s->buckets[b];
  s->buckets[b] = k;
  s->len++;
  return k;
}

/* One allocation holds the variant, its escapes, strings and text. */
static variant *make_variant(const recording *rec, const rstate *st,
                             const scope *sc, bool pending_in, size_t from) {
  size_t len = st->out->len - from;
  size_t esc = rec->n * sizeof(escape);
  char *block = ws_xmalloc(sizeof(variant) + esc + rec->strings.len + len);
  variant *x = (variant *)(void *)block;
  char *escapes = block + sizeof(variant);
  char *strings = escapes + esc, *text = strings + rec->strings.len;
  if (esc)
    memcpy(escapes, rec->escapes, esc);
  if (rec->strings.len)
    memcpy(strings, rec->strings.ptr, rec->strings.len);
  if (len)
    memcpy(text, st->out->ptr + from, len);
  *x = (variant){.depth = sc->depth,
                 .pending_in = pending_in,
                 .pending_out = st->pending,
                 .nescapes = rec->n,
                 .escapes = (escape *)(void *)escapes,
                 .strings = strings,
                 .text = text,
                 .len = len};
  return x;
}

static bool memo_applies(const rstate *st, const scope *inner) {
  return st->memo && !st->rec && inner->ilen == 0 && inner->ctx &&
         inner->ctx->v && inner->ctx->v->lasting &&
         inner->ctx->v->type == WS_VALUE_MAP;
}

/* Renders the partial of 'sc' (its template, key map innermost) from the
 * memo when a variant fits; else renders it, and records it the second
 * time the key is met. */
static int render_memo(rstate *st, const scope *sc) {
  const ws_mustache *tpl = sc->tpl;
  uint64_t h = memo_hash(tpl, sc->ctx->v);
  stripe *s = &st->memo->stripes[h & (MEMO_STRIPES - 1)];
  const variant *hit = NULL;
  pthread_mutex_lock(&s->mu);
  memo_key *k = key_of(s, tpl, sc->ctx->v, h);
  for (const variant *x = k->variants; x && !hit; x = x->next)
    if (fits(x, st, sc))
      hit = x;
  bool record = !hit && k->seen && k->nvariants < MEMO_VARIANTS;
  k->seen = true;
  pthread_mutex_unlock(&s->mu);
  if (hit) {
    ws_str_put(st->out, hit->text, hit->len);
    st->pending = hit->pending_out;
    atomic_fetch_add_explicit(&st->memo->replays, 1, memory_order_relaxed);
    return 0;
  }
  if (!record)
    return render_toks(st, sc, tpl->toks, tpl->ntoks);
  recording rec = {.outside = sc->ctx->up, .strings = WS_STR_INIT};
  bool pending_in = st->pending;
  size_t from = st->out->len;
  st->rec = &rec;
  int error = render_toks(st, sc, tpl->toks, tpl->ntoks);
  st->rec = NULL;
  if (error == 0 && !rec.spoiled) {
    variant *x = make_variant(&rec, st, sc, pending_in, from);
    pthread_mutex_lock(&s->mu);
    if (k->nvariants < MEMO_VARIANTS) {
      x->next = k->variants;
      k->variants = x;
      k->nvariants++;
      x = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    free(x);
  }
  free(rec.escapes);
  ws_str_release(&rec.strings);
  return error;
}

ws_mustache_memo *ws_mustache_memo_new(void) {
  ws_mustache_memo *m = ws_xcalloc(1, sizeof(*m));
  for (size_t i = 0; i < MEMO_STRIPES; i++)
    pthread_mutex_init(&m->stripes[i].mu, NULL);
  atomic_init(&m->replays, 0);
  return m;
}

void ws_mustache_memo_free(ws_mustache_memo *m) {
  if (!m)
    return;
  for (size_t i = 0; i < MEMO_STRIPES; i++) {
    stripe *s = &m->stripes[i];
    for (size_t b = 0; b < s->cap; b++)
      for (memo_key *k = s->buckets[b], *next; k; k = next) {
        next = k->next;
        for (variant *x = k->variants, *xn; x; x = xn) {
          xn = x->next;
          free(x);
        }
        free(k);
      }
    free(s->buckets);
    pthread_mutex_destroy(&s->mu);
  }
  free(m);
}

size_t ws_mustache_memo_replays(ws_mustache_memo *m) {
  return m ? atomic_load(&m->replays) : 0;
}

/* The first part of the name of 't' in the frames from '*f' up to, not
 * including, 'stop'; '*f' is left past the frame that had it. */
static const ws_value *first_part(const frame **f, const frame *stop,
                                  const tok *t) {
  const ws_value *v = NULL;
  for (; *f != stop && !v; *f = (*f)->up)
    v = ws_value_get_hashed((*f)->v, t->text, t->hashes[0]);
  return v;
}

/* The rest of a dotted name resolves in what the first part found only.
 * Most names have one part: that case stays in the caller. */
static inline const ws_value *rest_parts(const ws_value *v, const tok *t) {
  if (t->nparts <= 1)
    return v;
  const char *part = t->text;
  for (unsigned i = 1; v && i < t->nparts; i++) {
    part += strlen(part) + 1;
    v = ws_value_get_hashed(v, part, t->hashes[i]);
  }
  return v;
}

static void note_escape(recording *rec, const tok *t, const ws_value *v);

static const ws_value *lookup(rstate *st, const frame *ctx, const tok *t) {
  if (t->nparts == 0)
    return ctx ? ws_value_deref(ctx->v) : NULL;
  const frame *f = ctx;
  recording *rec = st->rec;
  const ws_value *v = first_part(&f, rec ? rec->outside : NULL, t);
  if (!v && rec && f == rec->outside) {
    /* Beyond the memo's key map: what the name finds there is noted. */
    v = rest_parts(first_part(&f, NULL, t), t);
    note_escape(rec, t, v);
    return v;
  }
  return rest_parts(v, t);
}

static void flush_indent(rstate *st, const scope *sc) {
  if (st->pending && sc->ilen)
    ws_str_put(st->out, sc->indent, sc->ilen);
  st->pending = false;
}

/* Template text gets the indentation after each of its newlines; values
 * never do, as the spec asks. */
static void put_text(rstate *st, const scope *sc, const tok *t) {
  const char *s = t->text, *end = s + t->len;
  if (t->len == 0)
    return;
  flush_indent(st, sc);
  if (sc->ilen == 0) {
    ws_str_put(st->out, s, t->len);
  } else {
    while (s < end) {
      const char *nl = memchr(s, '\n', (size_t)(end - s));
      const char *stop = nl ? nl + 1 : end;
      ws_str_put(st->out, s, (size_t)(stop - s));
      s = stop;
      if (s < end)
        ws_str_put(st->out, sc->indent, sc->ilen);
    }
  }
  st->pending = end[-1] == '\n';
}

static void put_value(rstate *st, const scope *sc, const tok *t) {
  const ws_value *v = lookup(st, sc->ctx, t);
  flush_indent(st, sc);
  if (v && v->type == WS_VALUE_STRING && t->kind == T_ESCAPED)
    ws_str_put_html(st->out, v->u.string.ptr, v->u.string.len);
  else
    ws_value_put_text(st->out, v);
}

static int render_section(rstate *st, const scope *sc, const tok *t) {
  const ws_value *v = lookup(st, sc->ctx, t);
  scope inner = *sc;
  frame f = {v, sc->ctx};
  int error = 0;
  if (t->kind == T_INVERTED)
    return ws_value_truthy(v) ? 0 : render_toks(st, sc, t->kids, t->nkids);
  if (!ws_value_truthy(v))
    return 0;
  inner.ctx = &f;
  if (v->type != WS_VALUE_LIST)
    return render_toks(st, &inner, t->kids, t->nkids);
  for (size_t i = 0; i < v->u.list.len && error == 0; i++) {
    f.v = ws_value_deref(v->u.list.items[i]);
    error = render_toks(st, &inner, t->kids, t->nkids);
  }
  return error;
}

static int too_deep(const scope *sc, const tok *t) {
  return ws_error(WS_EINVALID,
                  "%s:%u:%u: more than %d nested partials, parents or blocks",
                  sc->tpl->name, t->line, t->col, WS_MUSTACHE_MAX_DEPTH);
}

/* Sets up the scope an expansion renders in: on lines of its own it adds
 * its indentation to the current one, inline it has none. Returns the
 * joined indentation to free, if one had to be built. */
static char *enter(rstate *st, const scope *sc, const tok *t, scope *inner) {
  char *joined = NULL;
  *inner = *sc;
  inner->depth = sc->depth + 1;
  if (!t->indented) {
    flush_indent(st, sc);
    inner->indent = "";
    inner->ilen = 0;
    return NULL;
  }
  st->pending = true;
  if (sc->ilen && t->ilen) {
    joined = ws_xmalloc(sc->ilen + t->ilen);
    memcpy(joined, sc->indent, sc->ilen);
    memcpy(joined + sc->ilen, t->indent, t->ilen);
    inner->indent = joined;
    inner->ilen = sc->ilen + t->ilen;
  } else if (t->ilen) {
    inner->indent = t->indent;
    inner->ilen = t->ilen;
  }
  return joined;
}

/* Finds the template a partial or parent tag names; *out stays NULL when
 * there is none, which renders as nothing. */
static int resolve(const ws_mustache **out, rstate *st, const scope *sc,
                   const tok *t) {
  const char *name = t->text;
  *out = NULL;
  if (t->dynamic) {
    name = ws_value_cstr(lookup(st, sc->ctx, t));
    if (!name)
      return 0;
  }
  if (!st->env)
    return 0;
  if (sc->depth >= WS_MUSTACHE_MAX_DEPTH)
    return too_deep(sc, t);
  int error = ws_mustache_env_get(out, st->env, name);
  return error == WS_ENOTFOUND ? 0 : error;
}

static int render_include(rstate *st, const scope *sc, const tok *t) {
  const ws_mustache *tpl;
  scope inner;
  int error = resolve(&tpl, st, sc, t);
  if (error < 0 || !tpl)
    return error;
  char *joined = enter(st, sc, t, &inner);
  ovr o = {t->kids, t->nkids, sc->tpl, sc->ovr};
  inner.tpl = tpl;
  if (t->kind == T_PARENT) {
    inner.ovr = &o;
    if (st->rec) /* its blocks may come from outside the partial */
      st->rec->spoiled = true;
  }
  if (t->kind == T_PARTIAL && memo_applies(st, &inner))
    error = render_memo(st, &inner);
  else
    error = render_toks(st, &inner, tpl->toks, tpl->ntoks);
  free(joined);
  return error;
}

/* The outermost override wins, so a child can replace what its parent
 * passes to the grandparent. */
static const tok *find_override(const scope *sc, const tok *t,
                                const ws_mustache **tpl) {
  const tok *found = NULL;
  for (const ovr *o = sc->ovr; o; o = o->outer)
    for (size_t i = 0; i < o->n; i++)
      if (strcmp(o->blocks[i].text, t->text) == 0) {
        found = &o->blocks[i];
        *tpl = o->tpl;
        break;
      }
  return found;
}

static int render_block(rstate *st, const scope *sc, const tok *t) {
  const ws_mustache *tpl = sc->tpl;
  const tok *content = find_override(sc, t, &tpl);
  scope inner;
  int error;
  /* An override may name its own block again: count it like a partial. */
  if (content && sc->depth >= WS_MUSTACHE_MAX_DEPTH)
    return too_deep(sc, t);
  if (st->rec) /* overrides come from the templates around the partial */
    st->rec->spoiled = true;
  char *joined = enter(st, sc, t, &inner);
  if (!content) {
    content = t;
    inner.depth = sc->depth;
  }
  inner.tpl = tpl;
  error = render_toks(st, &inner, content->kids, content->nkids);
  free(joined);
  return error;
}

static int render_toks(rstate *st, const scope *sc, const tok *toks, size_t n) {
  int error = 0;
  for (size_t i = 0; i < n && error == 0; i++) {
    const tok *t = &toks[i];
    switch ((tok_kind)t->kind) {
    case T_TEXT:
      put_text(st, sc, t);
      break;
    case T_ESCAPED:
    case T_RAW:
      put_value(st, sc, t);
      break;
    case T_SECTION:
    case T_INVERTED:
      error = render_section(st, sc, t);
      break;
    case T_PARTIAL:
    case T_PARENT:
      error = render_include(st, sc, t);
      break;
    case T_BLOCK:
      error = render_block(st, sc, t);
      break;
    }
  }
  return error;
}

int ws_mustache_render(ws_str *out, const ws_mustache *tpl, const ws_value *ctx,
                       ws_mustache_env *env) {
  return ws_mustache_render_memo(out, tpl, ctx, env, NULL);
}

int ws_mustache_render_memo(ws_str *out, const ws_mustache *tpl,
                            const ws_value *ctx, ws_mustache_env *env,
                            ws_mustache_memo *memo) {
  assert(out && tpl);
  size_t entry = out->len;
  frame root = {ctx, NULL};
  rstate st = {out, env, false, memo, NULL};
  scope sc = {tpl, ctx ? &root : NULL, NULL, "", 0, 0};
  int error = render_toks(&st, &sc, tpl->toks, tpl->ntoks);
  if (error < 0)
    ws_str_truncate(out, entry);
  return error;
}
