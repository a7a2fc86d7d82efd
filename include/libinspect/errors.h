/* libinspect/errors.h -- errors are values.
 *
 * A function that can fail returns an ins_error * (NULL on success) that the caller owns and
 * frees with ins_error_free(). Its code says what kind of failure it is (the CLI's exit
 * statuses are these codes) and its message is one line, without a trailing newline. Memory
 * the library hands out (strings, arrays) is freed with ins_free() or the type's own _free.
 */
#ifndef LIBINSPECT_ERRORS_H
#define LIBINSPECT_ERRORS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define INS_API __attribute__((visibility("default")))
#else
#define INS_API
#endif

enum ins_code {
	INS_OK = 0,
	INS_ERR_FAIL = 1,        /* generic failure */
	INS_ERR_USAGE = 2,       /* bad arguments */
	INS_ERR_INPUT = 3,       /* unreadable, empty, truncated or non-ELF input */
	INS_ERR_NOT_PYTHON = 4,  /* no CPython interpreter in the image */
	INS_ERR_UNSUPPORTED = 5, /* a CPython we have no layout for */
	INS_ERR_NOT_FOUND = 6,   /* unknown type name, address that is not an object */
	INS_ERR_CORRUPT = 7,     /* the heap or the interpreter state does not hold together */
	INS_ERR_MISMATCH = 8,    /* executable or library differs from the one in the image */
	INS_ERR_OS = 9,          /* a system call failed (ptrace, open, ...) */
	INS_ERR_NOMEM = 10,      /* out of memory: never a silently partial answer */
};

typedef struct ins_error {
	int code;       /* enum ins_code */
	char *message;  /* one line, no trailing newline */
} ins_error;

INS_API void ins_error_free(ins_error *err);
INS_API void ins_free(void *p);
/* libinspect's version, "MAJOR.MINOR.PATCH". */
INS_API const char *ins_version(void);

#ifdef __cplusplus
}
#endif
#endif
