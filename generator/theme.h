/* theme.h - where templates and assets come from.
 *
 * A theme is a folder of Mustache templates (NAME.mustache) and an assets/
 * folder. It is found by name in $WHOLESELF_THEMES, next to the binary
 * (../themes: the build tree) and in the install prefix
 * (share/wholeself/themes), or given as a path. A site overrides any single
 * file of its theme by committing it as themes/<name>/<file> in its content
 * folder.
 *
 * A theme's optional theme.yml may say 'inherits: NAME': templates and
 * assets the theme lacks then come from theme NAME (overrides of NAME's
 * files in the site apply too). The bundled 'minimal' theme inherits from
 * 'default'.
 */
#ifndef WS_THEME_H
#define WS_THEME_H

#include <stddef.h>

#include "digest.h"
#include "mustache.h"
#include "source.h"

typedef struct ws_theme ws_theme;

/** Opens the theme 'name_or_path' (NULL: "default"), with overrides read
 * from 'src' (may be NULL). WS_ENOTFOUND when no folder holds the theme; the
 * message lists where it looked. Free with ws_theme_free. */
int ws_theme_open(ws_theme **out, const char *name_or_path, ws_source *src);
/** Frees 't'; NULL does nothing. */
void ws_theme_free(ws_theme *t);
/** Returns the compiled template 'name' (borrowed from 't'). A missing or
 * malformed template fails with a message naming the file, line and col. */
int ws_theme_template(const ws_mustache **out, ws_theme *t, const char *name);
/** Returns the environment that resolves the theme's partials. Borrowed. */
ws_mustache_env *ws_theme_env(ws_theme *t);
/** Returns the theme's folder on disk (borrowed). */
const char *ws_theme_dir(const ws_theme *t);
/** Returns the theme 't' inherits from (theme.yml 'inherits'), or NULL.
 * Borrowed from 't'. */
const ws_theme *ws_theme_parent(const ws_theme *t);

/** Sets '*out' to the fingerprint of every template of 't', its parents
 * and the site's overrides of them: when it is unchanged, so is every page
 * rendered from the same context. */
int ws_theme_digest(ws_theme *t, ws_digest *out);

typedef int (*ws_theme_asset_fn)(const char *rel, const char *data, size_t len,
                                 void *payload);
/** Calls 'fn' for every asset (rel is relative to assets/), overrides
 * applied, in path order; stops at the first negative return. */
int ws_theme_assets(ws_theme *t, ws_theme_asset_fn fn, void *payload);

#endif
