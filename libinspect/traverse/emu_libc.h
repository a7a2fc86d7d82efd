/* emu_libc.h -- the C library's string and memory functions, done natively for emulated code.
 *
 * glibc picks each string function's variant for the CPU it runs on (IFUNC): on a machine
 * with AVX-512 the target's GOT points at code the emulator cannot run. A call that lands
 * on one of these functions is answered here instead, from the same memory the emulated
 * code sees; writes are allowed only where emulated code may write (its stack).
 */
#ifndef INS_EMU_LIBC_H
#define INS_EMU_LIBC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The emulated memory: read len bytes at addr, write them (false: not allowed or absent). */
typedef struct ins_emu_mem {
	bool (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	bool (*write)(void *ctx, uint64_t addr, const void *buf, size_t len);
	void *ctx;
} ins_emu_mem;

/* The function a symbol name stands for (1, 2, ...), or 0 when it is not one of them. */
int ins_emu_libc_id(const char *name);
/* Runs function id with the integer arguments a[0..2]; false when its memory could not be
 * read or written. */
bool ins_emu_libc_call(int id, const uint64_t a[3], const ins_emu_mem *m, uint64_t *ret);

#endif
