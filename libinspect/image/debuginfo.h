/* debuginfo.h -- detached debug info, found the way gdb finds it.
 *
 * A stripped build (a distribution's /usr/bin/python3.14: .dynsym only) gets its full symbol
 * table (the static symbols too) from its detached debug file when one is installed
 * (Debian's pythonX.Y-dbg), looked for as gdb does:
 *   DIR/.build-id/xx/yyyy.debug          by the file's build-id, for each debug directory DIR;
 *   FILEDIR/LINK, FILEDIR/.debug/LINK,   by the name in its .gnu_debuglink (checked with its
 *   DIR/FILEDIR/LINK                     CRC, or the build-id when both have one).
 * DIR is each of the ':'-separated --debug-dir directories (default /usr/lib/debug), prefixed
 * with --sysroot when there is one, as gdb prefixes its debug-file-directory with its sysroot;
 * FILEDIR is the file's directory as the target named it (prefixed the same way). A candidate
 * counts only when it carries the same build-id (or CRC) and a .symtab.
 */
#ifndef INS_DEBUGINFO_H
#define INS_DEBUGINFO_H

#include <gelf.h>
#include <libelf.h>

#include "image.h"

typedef struct ins_debug_file {
	char *path;
	uint8_t *map;
	size_t size;
	Elf *elf;            /* libelf over map */
	Elf_Scn *symtab;     /* its .symtab */
	size_t strndx;
} ins_debug_file;

/* The ':'-separated debug directories looked in: --debug-dir, or the default. */
const char *ins_debug_dirs(const ins_image *img);
/* Finds and opens the debug file of file f of img (elf: libelf over f; id: its build-id, or
 * NULL). False when there is none. */
bool ins_debug_file_open(const ins_image *img, const ins_file *f, Elf *elf, const uint8_t *id, size_t idlen,
			 ins_debug_file *out);
void ins_debug_file_close(ins_debug_file *d);

#endif
