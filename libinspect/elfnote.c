/* elfnote.c -- see elfnote.h. */
#include "elfnote.h"

#include <elf.h>
#include <string.h>

bool ins_note_next(const uint8_t *d, size_t n, size_t *off, ins_note *note, bool *malformed)
{
	Elf64_Nhdr nh;
	*malformed = false;
	if (*off + sizeof(nh) > n)
		return false;
	memcpy(&nh, d + *off, sizeof(nh));
	size_t name = *off + sizeof(nh);
	size_t desc = name + ((nh.n_namesz + 3) & ~(size_t)3);
	if (desc > n || nh.n_descsz > n - desc) {
		*malformed = true;
		return false;
	}
	note->type = nh.n_type;
	note->name = (const char *)d + name;
	note->namesz = nh.n_namesz;
	note->desc = d + desc;
	note->descsz = nh.n_descsz;
	note->desc_off = desc;
	size_t next = desc + ((nh.n_descsz + 3) & ~(size_t)3);
	*off = next < n ? next : n;
	return true;
}

bool ins_note_build_id(const uint8_t *d, size_t n, ins_note *note)
{
	size_t off = 0;
	bool malformed;
	while (ins_note_next(d, n, &off, note, &malformed))
		if (note->type == NT_GNU_BUILD_ID && note->namesz == 4 && memcmp(note->name, "GNU", 4) == 0)
			return true;
	return false;
}
