/* layout.h -- per-version CPython layout tables.
 *
 * A layout is every offset, size and constant libinspect needs to read one CPython
 * version's objects: one struct ins_layout per reference build, generated from that
 * build's DWARF and headers by tools/gen-layouts into layouts_gen.c. The member list is
 * layout_fields.def. A member is -1 where the version does not have the thing.
 * For 3.13+, interp.c overrides the members that _Py_DebugOffsets also describes with
 * the values read from the process itself.
 */
#ifndef INS_LAYOUT_H
#define INS_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct ins_layout {
	int major, minor;          /* version this layout is for */
	int patch_min, patch_max;  /* patch releases it is known to cover */
	const char *ref_build;     /* the reference build it was generated from */
#define INS_FIELD(name, spec) int64_t name;
#include "layout_fields.def"
#undef INS_FIELD
} ins_layout;

extern const ins_layout ins_layouts[];
extern const size_t ins_nlayouts;

/* The layout for version major.minor.patch, or NULL when no table covers it. */
const ins_layout *ins_layout_find(int major, int minor, int patch);

#endif
