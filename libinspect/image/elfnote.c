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

int ins_note_header_build_id(const uint8_t *d, size_t n, uint8_t id[40], size_t *len)
{
	Elf64_Ehdr eh;
	if (n < sizeof(eh))
		return 0;
	memcpy(&eh, d, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > n ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > n - eh.e_phoff)
		return 0;
	int result = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, d + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE)
			continue;
		/* the bytes hold file offset 0 onwards: a note segment is at its p_offset */
		if (ph.p_offset > n || ph.p_filesz > n - ph.p_offset) {
			result = -1;
			continue;
		}
		ins_note note;
		if (ins_note_build_id(d + ph.p_offset, ph.p_filesz, &note) && note.descsz <= 40) {
			memcpy(id, note.desc, note.descsz);
			*len = note.descsz;
			return 1;
		}
	}
	return result;
}
