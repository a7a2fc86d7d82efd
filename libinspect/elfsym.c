/* elfsym.c -- ELF symbol lookup and build-id checks with libelf (see elfsym.h). */
#define _GNU_SOURCE
#include "elfsym.h"

#include <gelf.h>
#include <stdio.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

struct ins_elf {
	Elf *elf;
	size_t file;
	const char *path;
	uint64_t bias;
	Elf_Scn *symtab;  /* .symtab, else .dynsym */
	size_t strndx;
	const uint8_t *build_id;  /* inside the file's mapping */
	size_t build_id_len;
	uint64_t build_id_vaddr;  /* link-time address of the note's descriptor */
};

static void find_build_id(ins_elf *e, const ins_file *f)
{
	size_t phnum;
	if (elf_getphdrnum(e->elf, &phnum) != 0)
		return;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset > f->size || ph.p_filesz > f->size - ph.p_offset)
			continue;
		const uint8_t *d = f->map + ph.p_offset;
		size_t n = ph.p_filesz, off = 0;
		while (off + sizeof(GElf_Nhdr) <= n) {
			GElf_Nhdr nh;
			memcpy(&nh, d + off, sizeof(nh));
			size_t desc = off + sizeof(nh) + ((nh.n_namesz + 3) & ~(size_t)3);
			if (desc > n || nh.n_descsz > n - desc)
				break;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    memcmp(d + off + sizeof(nh), "GNU", 4) == 0) {
				e->build_id = d + desc;
				e->build_id_len = nh.n_descsz;
				e->build_id_vaddr = ph.p_vaddr + desc;
				return;
			}
			off = desc + ((nh.n_descsz + 3) & ~(size_t)3);
		}
	}
}

ins_error *ins_elf_open(ins_image *img, size_t file, ins_elf **out)
{
	ins_file *f = &img->files[file];
	if (!ins_image_file_load(img, file))
		return ins_err(INS_E_INPUT, "cannot read %s (mapped in the %s)", f->path,
			       img->kind == INS_IMAGE_CORE ? "core" : "process");
	if (elf_version(EV_CURRENT) == EV_NONE)
		return ins_err(INS_E_FAIL, "libelf: %s", elf_errmsg(-1));
	ins_elf *e = calloc(1, sizeof(*e));
	if (!e)
		return ins_err_nomem();
	e->file = file;
	e->path = f->path;
	e->elf = elf_memory((char *)f->map, f->size);
	GElf_Ehdr eh;
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &eh)) {
		ins_elf_close(e);
		return ins_err(INS_E_INPUT, "%s is not an ELF file", f->path);
	}
	/* bias: where offset 0 is mapped, minus the link address of the PT_LOAD at offset 0 */
	const ins_mapping *base = ins_image_file_base(img, file);
	size_t phnum;
	uint64_t first_vaddr = 0;
	if (elf_getphdrnum(e->elf, &phnum) == 0) {
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(e->elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
				first_vaddr = ph.p_vaddr - ph.p_offset;
				break;
			}
		}
	}
	e->bias = base ? base->start - (first_vaddr & ~(uint64_t)0xfff) : 0;
	Elf_Scn *scn = NULL, *dyn = NULL;
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB && sh.sh_size) {
			e->symtab = scn;
			e->strndx = sh.sh_link;
		} else if (sh.sh_type == SHT_DYNSYM && sh.sh_size) {
			dyn = scn;
		}
	}
	if (!e->symtab && dyn) {
		GElf_Shdr sh;
		gelf_getshdr(dyn, &sh);
		e->symtab = dyn;
		e->strndx = sh.sh_link;
	}
	find_build_id(e, f);
	*out = e;
	return NULL;
}

void ins_elf_close(ins_elf *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	free(e);
}

bool ins_elf_lookup(const ins_elf *e, const char *name, uint64_t *addr, uint64_t *size)
{
	if (!e->symtab)
		return false;
	Elf_Data *data = elf_getdata(e->symtab, NULL);
	GElf_Shdr sh;
	if (!data || !gelf_getshdr(e->symtab, &sh) || !sh.sh_entsize)
		return false;
	size_t n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 1; i < n; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
			continue;
		int type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_OBJECT && type != STT_FUNC && type != STT_NOTYPE)
			continue;
		const char *s = elf_strptr(e->elf, e->strndx, sym.st_name);
		if (s && strcmp(s, name) == 0) {
			*addr = sym.st_value + e->bias;
			if (size)
				*size = sym.st_size;
			return true;
		}
	}
	return false;
}

const char *ins_elf_table(const ins_elf *e)
{
	GElf_Shdr sh;
	if (!e->symtab || !gelf_getshdr(e->symtab, &sh))
		return "no symbol table";
	return sh.sh_type == SHT_SYMTAB ? ".symtab" : ".dynsym";
}

const char *ins_elf_path(const ins_elf *e)
{
	return e->path;
}

static void hex(char *out, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n && i < 40; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

ins_error *ins_elf_check_build_id(const ins_elf *e, ins_image *img)
{
	if (!e->build_id || e->build_id_len > 40)
		return NULL;
	uint64_t at = e->build_id_vaddr + e->bias;
	if (!ins_image_in_segments(img, at, e->build_id_len))
		return NULL;  /* the image does not hold that page: nothing to compare */
	uint8_t mem[40];
	if (!ins_image_read(img, at, mem, e->build_id_len) ||
	    memcmp(mem, e->build_id, e->build_id_len) == 0)
		return NULL;
	char want[81] = "", have[81] = "";
	hex(want, mem, e->build_id_len);
	hex(have, e->build_id, e->build_id_len);
	return ins_err(INS_E_MISMATCH,
		       "%s is not the file the process had mapped (build-id %s, the %s has %s); use --exe or --sysroot",
		       e->path, have, img->kind == INS_IMAGE_CORE ? "core" : "process", want);
}
