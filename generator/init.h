/* init.h - 'wholeself init': scaffold a new team repository.
 *
 * Writes site.yml, an example profile that passes 'wholeself check', a
 * README for the people who add themselves, a GitHub Actions workflow (the
 * same file as examples/github/team-site.yml) and a .gitignore, then makes
 * the folder a git repository with one commit.
 */
#ifndef WS_INIT_H
#define WS_INIT_H

/** Scaffolds a team repository in 'dir' (created when missing). Refuses a
 * folder that is not empty (WS_EINVALID, nothing written); WS_ERROR on I/O
 * or git failures. Messages name the path. */
int ws_init_scaffold(const char *dir);
/** Returns the CI workflow init writes (static, for tests). */
const char *ws_init_workflow(void);

#endif
