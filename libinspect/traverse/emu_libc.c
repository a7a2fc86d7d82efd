/* emu_libc.c -- string and memory functions for emulated code (see emu_libc.h). */
#include "emu_libc.h"

#include <string.h>

#define MAX_STR (1u << 20)  /* longest string read */

enum {
	F_NONE, F_STRLEN, F_STRNLEN, F_STRCHR, F_STRCHRNUL, F_STRRCHR, F_STRCMP, F_STRNCMP,
	F_MEMCMP, F_MEMCHR, F_MEMRCHR, F_MEMCPY, F_MEMSET,
};

static const struct {
	const char *name;
	int id;
} names[] = {
	{ "strlen", F_STRLEN }, { "strnlen", F_STRNLEN }, { "strchr", F_STRCHR }, { "index", F_STRCHR },
	{ "strchrnul", F_STRCHRNUL }, { "strrchr", F_STRRCHR }, { "rindex", F_STRRCHR },
	{ "strcmp", F_STRCMP }, { "strncmp", F_STRNCMP }, { "memcmp", F_MEMCMP }, { "bcmp", F_MEMCMP },
	{ "memchr", F_MEMCHR }, { "memrchr", F_MEMRCHR }, { "memcpy", F_MEMCPY }, { "memmove", F_MEMCPY },
	{ "__memcpy_chk", F_MEMCPY }, { "__memmove_chk", F_MEMCPY }, { "memset", F_MEMSET },
	{ "__memset_chk", F_MEMSET },
};

int ins_emu_libc_id(const char *name)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(names[i].name, name) == 0)
			return names[i].id;
	return F_NONE;
}

static bool byte_at(const ins_emu_mem *m, uint64_t addr, uint8_t *c)
{
	return m->read(m->ctx, addr, c, 1);
}

/* The length of the string at s, at most max; false if it runs into absent memory. */
static bool str_len(const ins_emu_mem *m, uint64_t s, uint64_t max, uint64_t *len)
{
	uint8_t c;
	for (uint64_t i = 0; i < max && i < MAX_STR; i++) {
		if (!byte_at(m, s + i, &c))
			return false;
		if (!c) {
			*len = i;
			return true;
		}
	}
	*len = max < MAX_STR ? max : MAX_STR;
	return max <= MAX_STR;
}

/* strchr/strchrnul/strrchr/memchr/memrchr over at most n bytes (strings stop at NUL). */
static bool find_byte(const ins_emu_mem *m, uint64_t s, uint8_t ch, uint64_t n, bool string, bool last,
		      bool nul_ok, uint64_t *ret)
{
	*ret = 0;
	uint8_t c;
	if (last && !string) {
		for (uint64_t i = n; i-- > 0;) {
			if (!byte_at(m, s + i, &c))
				return false;
			if (c == ch) {
				*ret = s + i;
				return true;
			}
		}
		return true;
	}
	for (uint64_t i = 0; i < n && i < MAX_STR; i++) {
		if (!byte_at(m, s + i, &c))
			return false;
		if (c == ch) {
			*ret = s + i;
			if (!last || !c)
				return true;
		}
		if (string && !c) {
			if (nul_ok && !*ret)
				*ret = s + i;
			return true;
		}
	}
	return !string || n < MAX_STR;
}

static bool compare(const ins_emu_mem *m, uint64_t a, uint64_t b, uint64_t n, bool string, uint64_t *ret)
{
	uint8_t x, y;
	for (uint64_t i = 0; i < n && i < MAX_STR; i++) {
		if (!byte_at(m, a + i, &x) || !byte_at(m, b + i, &y))
			return false;
		if (x != y) {
			*ret = (uint64_t)(int64_t)((int)x - (int)y);
			return true;
		}
		if (string && !x)
			break;
	}
	*ret = 0;
	return true;
}

bool ins_emu_libc_call(int id, const uint64_t a[3], const ins_emu_mem *m, uint64_t *ret)
{
	uint8_t buf[4096];
	switch (id) {
	case F_STRLEN:
		return str_len(m, a[0], UINT64_MAX, ret);
	case F_STRNLEN:
		return str_len(m, a[0], a[1], ret);
	case F_STRCHR:
		return find_byte(m, a[0], (uint8_t)a[1], UINT64_MAX, true, false, false, ret);
	case F_STRCHRNUL:
		return find_byte(m, a[0], (uint8_t)a[1], UINT64_MAX, true, false, true, ret);
	case F_STRRCHR:
		return find_byte(m, a[0], (uint8_t)a[1], UINT64_MAX, true, true, false, ret);
	case F_MEMCHR:
		return find_byte(m, a[0], (uint8_t)a[1], a[2], false, false, false, ret);
	case F_MEMRCHR:
		return a[2] <= MAX_STR && find_byte(m, a[0], (uint8_t)a[1], a[2], false, true, false, ret);
	case F_STRCMP:
		return compare(m, a[0], a[1], UINT64_MAX, true, ret);
	case F_STRNCMP:
		return compare(m, a[0], a[1], a[2], true, ret);
	case F_MEMCMP:
		return a[2] <= MAX_STR && compare(m, a[0], a[1], a[2], false, ret);
	case F_MEMCPY:
	case F_MEMSET:
		if (a[2] > MAX_STR)
			return false;
		*ret = a[0];
		for (uint64_t done = 0; done < a[2];) {
			size_t k = a[2] - done < sizeof(buf) ? (size_t)(a[2] - done) : sizeof(buf);
			if (id == F_MEMSET)
				memset(buf, (int)(uint8_t)a[1], k);
			else if (!m->read(m->ctx, a[1] + done, buf, k))
				return false;
			if (!m->write(m->ctx, a[0] + done, buf, k))
				return false;
			done += k;
		}
		return true;
	}
	return false;
}
