/* bigmem.c -- arrays on transparent huge pages (see bigmem.h). */
#define _GNU_SOURCE
#include "bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define PAGE ((uintptr_t)4096)

/* Asks for huge pages over the whole pages of [p, p + bytes) (a hint: nothing changes
 * where the kernel does not give them, or the memory is touched already). */
static void *hint(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
	if (p && bytes >= 2 * HUGE_PAGE) {
		uintptr_t from = ((uintptr_t)p + PAGE - 1) & ~(PAGE - 1), to = ((uintptr_t)p + bytes) & ~(PAGE - 1);
		madvise((void *)from, to - from, MADV_HUGEPAGE);
	}
#endif
	return p;
}

static size_t total(size_t n, size_t size)
{
	size_t bytes;
	return __builtin_mul_overflow(n, size, &bytes) ? SIZE_MAX : bytes;
}

void *ins_big_malloc(size_t n, size_t size)
{
	size_t bytes = total(n, size);
	return bytes == SIZE_MAX ? NULL : hint(malloc(bytes ? bytes : 1), bytes);
}

void *ins_big_calloc(size_t n, size_t size)
{
	size_t bytes = total(n, size);
	if (bytes < 2 * HUGE_PAGE)
		return calloc(n ? n : 1, size ? size : 1);
	void *p = ins_big_malloc(n, size);
	return p ? memset(p, 0, bytes) : NULL;
}

void *ins_big_realloc(void *p, size_t n, size_t size)
{
	size_t bytes = total(n, size);
	return bytes == SIZE_MAX ? NULL : hint(realloc(p, bytes ? bytes : 1), bytes);
}
