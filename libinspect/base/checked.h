/* checked.h -- arithmetic on numbers read from the target.
 *
 * A corrupt or hostile image may hold any 64-bit value in a size, a count, an offset or a
 * refcount. Such a number never multiplies, adds or indexes without going through these:
 * ins_span for every base + count * size (an address, a byte count), ins_sub_sat for the
 * differences of refcounts. Both are defined for every input (no signed overflow).
 */
#ifndef INS_CHECKED_H
#define INS_CHECKED_H

#include <stdbool.h>
#include <stdint.h>

/* *out = base + n * size, for a count n and an element size read from the target: false
 * (and *out untouched) when n or size is negative or the result does not fit in 64 bits. */
static inline bool ins_span(uint64_t base, int64_t n, int64_t size, uint64_t *out)
{
	uint64_t prod, sum;
	if (n < 0 || size < 0 || __builtin_mul_overflow((uint64_t)n, (uint64_t)size, &prod) ||
	    __builtin_add_overflow(base, prod, &sum))
		return false;
	*out = sum;
	return true;
}

/* a - b, saturated at INT64_MIN and INT64_MAX: a refcount minus referrers, say. */
static inline int64_t ins_sub_sat(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

#endif
