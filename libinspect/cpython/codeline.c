/* codeline.c -- PyCode_Addr2Line: which source line an instruction of a code object is
 * on, from the code's line table in each of its three formats (see frames.h):
 *
 *   2.7-3.9  co_lnotab: (byte offset increment, line increment) pairs; the increment is
 *            unsigned in 2.7, a signed char from 3.6
 *   3.10     co_linetable (PEP 626): (end offset delta, signed line delta) pairs, a line
 *            delta of -128 marking instructions without a line
 *   3.11+    co_linetable, the location table: entries of one header byte (bit 7 set, a
 *            4-bit code, the length in code units - 1) and varint operands; codes 13 and
 *            14 carry a signed line delta, 10-12 a delta of 0-2, 15 means no line
 *
 * The table is a bytes object in the image; it is read whole, up to MAX_TABLE bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "frames.h"

#define MAX_TABLE (16u << 20)

/* The bytes of the bytes object at obj (malloc'd), or NULL. */
static uint8_t *read_bytes(ins_objects *o, uint64_t obj, size_t *len)
{
	const ins_layout *L = &o->in->L;
	uint64_t n;
	if (!obj || !ins_image_u64(o->img, obj + (uint64_t)L->var_size, &n) || n > MAX_TABLE)
		return NULL;
	uint8_t *p = malloc(n ? n : 1);
	if (p && !ins_image_read(o->img, obj + (uint64_t)L->bytes_sval, p, n)) {
		free(p);
		return NULL;
	}
	*len = n;
	return p;
}

/* 2.7-3.9: the line of the last pair whose offset is not past addr. */
static int lnotab_line(const uint8_t *p, size_t n, int line, int64_t addr, bool signed_deltas)
{
	int64_t at = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		at += p[i];
		if (at > addr)
			break;
		line += signed_deltas ? (int8_t)p[i + 1] : p[i + 1];
	}
	return line;
}

/* 3.10: the range [start, end) holding addr; its line, or -1. */
static int linetable310_line(const uint8_t *p, size_t n, int line, int64_t addr)
{
	int64_t end = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		int64_t start = end;
		end += p[i];
		int8_t delta = (int8_t)p[i + 1];
		if (delta != -128)
			line += delta;
		if (start <= addr && addr < end)
			return delta == -128 ? -1 : line;
	}
	return -1;
}

/* A location table varint: 6 bits a byte, bit 6 continues. */
static uint32_t varint(const uint8_t *p, size_t n, size_t *i)
{
	uint32_t v = 0;
	for (int shift = 0; *i < n && shift < 32; shift += 6) {
		uint8_t b = p[(*i)++];
		v |= (uint32_t)(b & 63) << shift;
		if (!(b & 64))
			break;
	}
	return v;
}

/* 3.11+: the entry whose code units hold addr; its line, or -1. */
static int locations_line(const uint8_t *p, size_t n, int line, int64_t addr)
{
	int64_t end = 0;
	size_t i = 0;
	while (i < n) {
		uint8_t b = p[i++];
		if (!(b & 0x80))
			continue;  /* an operand byte: entries start with bit 7 set */
		int code = (b >> 3) & 15;
		int64_t start = end;
		end += ((b & 7) + 1) * 2;
		if (code == 13 || code == 14) {
			uint32_t u = varint(p, n, &i);
			line += (u & 1) ? -(int)(u >> 1) : (int)(u >> 1);
		} else if (code >= 10 && code <= 12) {
			line += code - 10;
		}
		if (start <= addr && addr < end)
			return code == 15 ? -1 : line;
	}
	return -1;
}

int ins_code_addr2line(ins_objects *o, uint64_t code, int64_t addr)
{
	const ins_layout *L = &o->in->L;
	int32_t first = 0;
	uint64_t table = 0;
	if (!code || !ins_image_i32(o->img, code + (uint64_t)L->code_firstlineno, &first))
		return -1;
	bool lnotab = L->code_lnotab >= 0;
	if (addr < 0 && !lnotab)
		return first;
	if (!ins_image_u64(o->img, code + (uint64_t)(lnotab ? L->code_lnotab : L->code_linetable), &table))
		return -1;
	size_t n = 0;
	uint8_t *p = read_bytes(o, table, &n);
	if (!p)
		return -1;
	int line;
	if (lnotab)
		line = lnotab_line(p, n, first, addr, o->in->major >= 3);
	else if (L->code_exceptiontable < 0)
		line = linetable310_line(p, n, first, addr);
	else
		line = locations_line(p, n, first, addr);
	free(p);
	return line;
}
