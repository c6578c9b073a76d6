/* output.h - writing the site: a staging folder swapped into place.
 *
 * Pages are written into a staging folder beside the output folder; only
 * ws_output_commit puts it in place, with one atomic rename (an exchange
 * when an old site exists), so readers and a killed build only ever see the
 * complete old site or the complete new one. A lock file beside the output
 * serialises concurrent builds. The staging folder ('dir'.staging) is kept
 * between builds and reused: it holds the site before last, files that come
 * out the same are not rewritten, and files no longer made are swept before
 * the swap. 'dir'.manifest records the fingerprint of each page's inputs in
 * both folders, so a page whose inputs did not change is not even rendered,
 * and every file and folder they hold, so a folder unchanged since is swept
 * without reading it (docs/incremental.md).
 */
#ifndef WS_OUTPUT_H
#define WS_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "digest.h"

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
/** Writes a page like ws_output_write and records 'fp', the fingerprint of
 * everything it was made from, for later builds' ws_output_reuse. */
int ws_output_write_made(ws_output *o, const char *rel, const char *data,
                         size_t len, const ws_digest *fp);
/** Tells whether page (or file) 'rel' can be kept as an earlier build made it
 * from the same inputs (fingerprint 'fp'): the staging folder already holds it,
 * or the published folder does and it is linked into the staging folder.
 * Then it counts as written and nothing needs rendering; false means render
 * and write it. Thread-safe. */
bool ws_output_reuse(ws_output *o, const char *rel, const ws_digest *fp);
/** Tells whether the output folder held a site when 'o' was opened. A
 * build into a place that holds none (a CI runner starts empty every time)
 * has no use for fingerprints, and skips them: only the next build into
 * the same folder starts recording them. */
bool ws_output_had_site(const ws_output *o);
/** Tells whether 'rel' is a path ws_output_write accepts. */
bool ws_output_path_ok(const char *rel);
/** Puts the staging folder in place of the output folder and removes the
 * old site, sweeping on 'jobs' threads (0: one per core). */
int ws_output_commit(ws_output *o, unsigned jobs);
/** Frees 'o' and releases the lock; when not committed the old site is as
 * it was (the staging folder stays, to be reused). NULL does nothing. */
void ws_output_free(ws_output *o);
/** Returns how many files were written. */
size_t ws_output_count(const ws_output *o);
/** Returns how many HTML pages were written so far. Thread-safe: a progress
 * display may call it while pages are being written. */
size_t ws_output_pages(ws_output *o);
/** Returns how many HTML pages were kept by ws_output_reuse. Thread-safe. */
size_t ws_output_reused(ws_output *o);
/** Returns how many of the files kept were known to be in the staging
 * folder by its folder's record, without a stat of their own. */
size_t ws_output_kept_by_record(ws_output *o);

#endif
