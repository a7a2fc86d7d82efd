/* check.h -- the unit tests' one assertion: prints "ok" or "FAIL" and a description per
 * check, counts failures; check_summary() prints the total and gives the exit status. */
#ifndef INS_TEST_CHECK_H
#define INS_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...) do { \
	printf("%s ", (cond) ? "ok  " : "FAIL"); \
	printf(__VA_ARGS__); \
	printf("%s\n", (cond) ? "" : "   <-- " #cond); \
	if (!(cond)) failures++; \
} while (0)

static inline int check_summary(void)
{
	printf("%s: %d failure%s\n", failures ? "FAIL" : "ok  ", failures, failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}

#endif
