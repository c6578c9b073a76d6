/* error.h - error codes and the per-thread error message.
 *
 * A failing function sets the message once, where the failure is found, and
 * returns a negative code; callers pass the code up unchanged.
 */
#ifndef WS_ERROR_H
#define WS_ERROR_H

enum {
  WS_OK = 0,
  WS_ERROR = -1,     /* environment: I/O, repository, resources */
  WS_ENOTFOUND = -3, /* a named thing does not exist */
  WS_EINVALID = -4   /* invalid input (content, template, usage) */
};

/** Records the message for this thread and returns 'code'. */
int ws_error(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Returns this thread's last message, or "" when there is none. */
const char *ws_error_last(void);
/** Forgets this thread's last message. */
void ws_error_clear(void);

#endif
