/* error.h -- making error values (the type itself is public, in inspect.h). */
#ifndef INS_ERROR_H
#define INS_ERROR_H

#include <libinspect/errors.h>

#if defined(__GNUC__)
#define INS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define INS_PRINTF(a, b)
#endif

/* A new error with a formatted one-line message. Never returns NULL: when memory runs
 * out it returns a static out-of-memory error that ins_error_free leaves alone. */
ins_error *ins_err(int code, const char *fmt, ...) INS_PRINTF(2, 3);
ins_error *ins_err_nomem(void);

#endif
