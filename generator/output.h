/* output.h - writing the site: a staging folder swapped into place.
 *
 * Pages are written into a staging folder beside the output folder; only
 * ws_output_commit puts it in place, with one atomic rename (an exchange
 * when an old site exists), so readers and a killed build only ever see the
 * complete old site or the complete new one. A lock file beside the output
 * serialises concurrent builds. The staging folder ('dir'.staging) is kept
 * between builds and reused: it holds the site before last, files that come
 * out the same are not rewritten, and files no longer made are swept before
 * the swap.
 */
#ifndef WS_OUTPUT_H
#define WS_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ws_output ws_output;

/** Prepares to write the site that will replace folder 'dir'. Takes the
 * lock ('dir'.lock) and makes or reuses the staging folder. Fails with WS_ERROR
 * when another build holds the lock or the folder cannot be made. */
int ws_output_open(ws_output **out, const char *dir);
/** Writes 'len' bytes of 'data' to 'rel' inside the staging folder, making
 * folders as needed. 'rel' must be a safe relative path ('/'-separated, no
 * '..', '.', empty or hidden components, no backslash, NUL or ':'):
 * WS_EINVALID otherwise. Thread-safe. */
int ws_output_write(ws_output *o, const char *rel, const char *data,
                    size_t len);
/** Tells whether 'rel' is a path ws_output_write accepts. */
bool ws_output_path_ok(const char *rel);
/** Puts the staging folder in place of the output folder and removes the
 * old site. */
int ws_output_commit(ws_output *o);
/** Frees 'o' and releases the lock; when not committed the old site is as
 * it was (the staging folder stays, to be reused). NULL does nothing. */
void ws_output_free(ws_output *o);
/** Returns how many files were written. */
size_t ws_output_count(const ws_output *o);
/** Returns how many HTML pages were written so far. Thread-safe: a progress
 * display may call it while pages are being written. */
size_t ws_output_pages(ws_output *o);

#endif
