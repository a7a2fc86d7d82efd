/* elfsym.h -- symbols of the ELF files mapped into an image.
 *
 * An ins_elf is one mapped ELF file (an executable or a shared library) opened from
 * disk with libelf, with its load bias in the target: runtime address = st_value + bias.
 * Lookups search .symtab (which has gcmodule.c's static `generations`, getversion.c's
 * `version.0`, ...) when the file has one, else the .symtab of its detached debug file when
 * one is installed (debuginfo.h), else .dynsym (all a stripped build has).
 */
#ifndef INS_ELFSYM_H
#define INS_ELFSYM_H

#include <stdbool.h>
#include <stdint.h>

#include "image.h"

typedef struct ins_elf ins_elf;

/* Opens file index `file` of img; fails if it is not a readable ELF file. */
ins_error *ins_elf_open(ins_image *img, size_t file, ins_elf **out);
void ins_elf_close(ins_elf *elf);

/* Runtime address (and size) of a data or function symbol, local symbols included. */
bool ins_elf_lookup(const ins_elf *elf, const char *name, uint64_t *addr, uint64_t *size);
/* ".symtab", ".symtab of its debug file PATH" or ".dynsym": the best table found. */
const char *ins_elf_table(const ins_elf *elf);
const char *ins_elf_path(const ins_elf *elf);
/* Compares the file's build-id with the one in the image's memory, when the image holds
 * the file's first page: an error naming the file if they differ. */
ins_error *ins_elf_check_build_id(const ins_elf *elf, ins_image *img);

/* Calls fn(arg, name, slot) for every GOT entry of file `file` of img that the dynamic
 * linker filled with the address of symbol `name` (JUMP_SLOT and GLOB_DAT relocations);
 * slot is the entry's runtime address. False if the file is no readable x86-64 ELF file. */
typedef void (*ins_got_fn)(void *arg, const char *name, uint64_t slot);
bool ins_elf_got(ins_image *img, size_t file, ins_got_fn fn, void *arg);

/* Calls fn(arg, start, end) for the runtime range of every executable PT_LOAD segment of
 * file `file` of img (its code). False if the file is no readable ELF file. */
typedef void (*ins_range_fn)(void *arg, uint64_t start, uint64_t end);
bool ins_elf_exec_ranges(ins_image *img, size_t file, ins_range_fn fn, void *arg);

#endif
