/* layout_find.c -- pick the generated layout table for a CPython version.
 *
 * ins_layouts[] (layouts_gen.c, written by tools/gen-layouts) holds one entry per
 * reference build; each covers patch releases patch_min..patch_max of one
 * major.minor. The table is short, so a linear search is all it takes.
 */
#include "layout.h"

const ins_layout *ins_layout_find(int major, int minor, int patch)
{
	for (size_t i = 0; i < ins_nlayouts; i++) {
		const ins_layout *l = &ins_layouts[i];

		if (l->major == major && l->minor == minor &&
		    patch >= l->patch_min && patch <= l->patch_max)
			return l;
	}
	return NULL;
}
