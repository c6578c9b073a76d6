/* mustache.h - the Mustache template engine: compile once, render many.
 *
 * Implements the core spec (variables, sections, inverted sections,
 * comments, set-delimiter, partials) plus template inheritance
 * ({{<parent}} / {{$block}}) and dynamic names ({{>*name}}). Lambdas are not
 * supported. Escaped interpolation escapes & < > " and '.
 */
#ifndef WS_MUSTACHE_H
#define WS_MUSTACHE_H

#include <stddef.h>

#include "str.h"
#include "value.h"

/** How deep partials and parents may nest before rendering fails. */
#define WS_MUSTACHE_MAX_DEPTH 64

typedef struct ws_mustache ws_mustache;
typedef struct ws_mustache_env ws_mustache_env;

/** Fills 'out' with the source of the template 'name'. Returns 0, or
 * WS_ENOTFOUND when there is no such template (a missing partial renders as
 * nothing, as the spec asks), or another negative code with ws_error set. */
typedef int (*ws_mustache_load_fn)(ws_str *out, const char *name,
                                   void *payload);

/** Compiles 'len' bytes of 'src' as the template 'name'. A malformed template
 * fails with WS_EINVALID and the message "name:line:col: what is wrong".
 * Free with ws_mustache_free. */
int ws_mustache_compile(ws_mustache **out, const char *name, const char *src,
                        size_t len);
/** Frees 'tpl'; NULL does nothing. */
void ws_mustache_free(ws_mustache *tpl);
/** Returns the name 'tpl' was compiled with. Borrowed. */
const char *ws_mustache_name(const ws_mustache *tpl);

/** Called with a name found in a template. */
typedef void (*ws_mustache_name_fn)(const char *name, void *payload);
/** Calls 'key' with every key the template 'tpl' can look up in a context
 * (each part of a dotted name) and 'include' with the name of every partial
 * and parent it includes; a dynamic name ({{>*x}}) calls 'include' with
 * NULL, which means "any template". Names may repeat. What a template can
 * show is reached only through these keys, which is what lets a page's
 * fingerprint leave out the rest. */
void ws_mustache_names(const ws_mustache *tpl, ws_mustache_name_fn key,
                       ws_mustache_name_fn include, void *payload);

/** Creates an environment that finds partials and parents through 'load'
 * and caches them compiled. Safe to share between threads. */
ws_mustache_env *ws_mustache_env_new(ws_mustache_load_fn load, void *payload);
/** Frees 'env' and every template it compiled; NULL does nothing. */
void ws_mustache_env_free(ws_mustache_env *env);
/** Loads and compiles 'name' through the environment's loader, or returns
 * the cached template. The result is borrowed from 'env'. */
int ws_mustache_env_get(const ws_mustache **out, ws_mustache_env *env,
                        const char *name);

/** Renders 'tpl' against 'ctx', appending to 'out'; partials and parents come
 * from 'env' (NULL: none). On failure (a broken partial, nesting deeper than
 * WS_MUSTACHE_MAX_DEPTH) 'out' is cut back to its length on entry and the
 * message names the template, line and column. Thread-safe. */
int ws_mustache_render(ws_str *out, const ws_mustache *tpl, const ws_value *ctx,
                       ws_mustache_env *env);

/** A memo of partials: a site shows each person's card on many pages, and
 * renders it once for all the pages where it comes out the same. A partial
 * included where the innermost context is a map marked 'lasting' (value.h)
 * is remembered by template and map. What the rendering looked up outside
 * that map is remembered with it, as it was, and the text is used again
 * only where those lookups give the same scalars. Partials that reach a
 * block, a parent or a list or map outside the key map are not remembered,
 * nor are indented ones. Output is the same with or without a memo. Safe
 * to share between threads; the templates and every map marked 'lasting'
 * that a render saw must outlive the memo. */
typedef struct ws_mustache_memo ws_mustache_memo;

/** Creates an empty memo. */
ws_mustache_memo *ws_mustache_memo_new(void);
/** Frees 'memo'; NULL does nothing. */
void ws_mustache_memo_free(ws_mustache_memo *memo);
/** How many partials the memo has given text for instead of rendering. */
size_t ws_mustache_memo_replays(ws_mustache_memo *memo);
/** ws_mustache_render with a memo of partials ('memo' NULL: none). */
int ws_mustache_render_memo(ws_str *out, const ws_mustache *tpl,
                            const ws_value *ctx, ws_mustache_env *env,
                            ws_mustache_memo *memo);

#endif
