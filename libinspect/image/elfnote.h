/* elfnote.h -- walking the notes of an ELF note segment (a core's NT_FILE and NT_AUXV,
 * a file's NT_GNU_BUILD_ID), bounds-checked. */
#ifndef INS_ELFNOTE_H
#define INS_ELFNOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ins_note {
	uint32_t type;
	const char *name;      /* namesz bytes, not always NUL-terminated */
	size_t namesz;
	const uint8_t *desc;
	size_t descsz;
	size_t desc_off;       /* offset of desc from the start of the segment */
} ins_note;

/* The note at *off in the n bytes at d, advancing *off past it; false at the end or when
 * the rest is malformed (*malformed is set then). */
bool ins_note_next(const uint8_t *d, size_t n, size_t *off, ins_note *note, bool *malformed);
/* The NT_GNU_BUILD_ID note of a note segment, if it has one. */
bool ins_note_build_id(const uint8_t *d, size_t n, ins_note *note);
/* The build-id of the 64-bit ELF file whose first n bytes are at d (a whole file, or the
 * copy of its header page a core holds), copied to id (at most 40 bytes): 1 found; 0 it has
 * none, or d is no ELF header; -1 a note segment lies beyond the n bytes, so we cannot tell. */
int ins_note_header_build_id(const uint8_t *d, size_t n, uint8_t id[40], size_t *len);

#endif
