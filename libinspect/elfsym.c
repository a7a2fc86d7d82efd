/* elfsym.c -- ELF symbol lookup and build-id checks with libelf (see elfsym.h). */
#define _GNU_SOURCE
#include "elfsym.h"
#include "elfnote.h"

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
	const Elf64_Sym *syms;
	size_t nsyms;
	const char *strtab;
	size_t strsz;
	uint32_t *index;  /* open-addressing hash of defined symbols' names -> syms index */
	size_t index_cap;
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
		ins_note note;
		if (ins_note_build_id(f->map + ph.p_offset, ph.p_filesz, &note)) {
			e->build_id = note.desc;
			e->build_id_len = note.descsz;
			e->build_id_vaddr = ph.p_vaddr + note.desc_off;
			return;
		}
	}
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;  /* FNV-1a */
	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ULL;
	return h;
}

/* The name of symbol i, or NULL when it is not a defined data or code symbol. */
static const char *symbol_name(const ins_elf *e, size_t i)
{
	const Elf64_Sym *sym = &e->syms[i];
	int type = ELF64_ST_TYPE(sym->st_info);
	if (sym->st_shndx == SHN_UNDEF || (type != STT_OBJECT && type != STT_FUNC && type != STT_NOTYPE) ||
	    sym->st_name >= e->strsz || !memchr(e->strtab + sym->st_name, 0, e->strsz - sym->st_name))
		return NULL;
	return e->strtab + sym->st_name;
}

/* Indexes the symbol table by name once, so lookups do not scan it. */
static bool index_symbols(ins_elf *e)
{
	Elf_Data *syms = e->symtab ? elf_getdata(e->symtab, NULL) : NULL;
	Elf_Data *strs = e->symtab ? elf_getdata(elf_getscn(e->elf, e->strndx), NULL) : NULL;
	if (!syms || !strs || !syms->d_buf || !strs->d_buf)
		return true;  /* no symbols: every lookup fails */
	e->syms = syms->d_buf;
	e->nsyms = syms->d_size / sizeof(Elf64_Sym);
	e->strtab = strs->d_buf;
	e->strsz = strs->d_size;
	for (e->index_cap = 64; e->index_cap < 2 * e->nsyms;)
		e->index_cap *= 2;
	e->index = calloc(e->index_cap, sizeof(*e->index));
	if (!e->index)
		return false;
	for (size_t i = 1; i < e->nsyms; i++) {
		const char *name = symbol_name(e, i);
		if (!name)
			continue;
		size_t slot = (size_t)name_hash(name) & (e->index_cap - 1);
		while (e->index[slot])
			slot = (slot + 1) & (e->index_cap - 1);
		e->index[slot] = (uint32_t)i;  /* the first definition of a name is found first */
	}
	return true;
}

/* Where offset 0 of the file is mapped, minus the link address of its PT_LOAD at offset 0. */
static uint64_t load_bias(const ins_image *img, size_t file, Elf *elf)
{
	const ins_mapping *base = ins_image_file_base(img, file);
	size_t phnum;
	uint64_t first_vaddr = 0;
	if (elf_getphdrnum(elf, &phnum) == 0) {
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
				first_vaddr = ph.p_vaddr - ph.p_offset;
				break;
			}
		}
	}
	return base ? base->start - (first_vaddr & ~(uint64_t)0xfff) : 0;
}

/* libelf over file `file` of img, when it is a readable x86-64 ELF file (elf_end it). */
static Elf *open_mapped(ins_image *img, size_t file)
{
	if (!ins_image_file_load(img, file) || elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	const ins_file *f = &img->files[file];
	Elf *elf = elf_memory((char *)f->map, f->size);
	GElf_Ehdr eh;
	if (elf && (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64)) {
		elf_end(elf);
		elf = NULL;
	}
	return elf;
}

bool ins_elf_exec_ranges(ins_image *img, size_t file, ins_range_fn fn, void *arg)
{
	Elf *elf = open_mapped(img, file);
	size_t phnum;
	if (!elf || elf_getphdrnum(elf, &phnum) != 0) {
		if (elf)
			elf_end(elf);
		return false;
	}
	uint64_t bias = load_bias(img, file, elf);
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && ph.p_memsz &&
		    ph.p_vaddr + bias >= ph.p_vaddr)
			fn(arg, ph.p_vaddr + bias, ph.p_vaddr + bias + ph.p_memsz);
	}
	elf_end(elf);
	return true;
}

bool ins_elf_got(ins_image *img, size_t file, ins_got_fn fn, void *arg)
{
	Elf *elf = open_mapped(img, file);
	if (!elf)
		return false;
	uint64_t bias = load_bias(img, file, elf);
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh, symsh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		Elf_Scn *symscn = elf_getscn(elf, sh.sh_link);
		Elf_Data *rel = elf_getdata(scn, NULL), *syms = symscn ? elf_getdata(symscn, NULL) : NULL;
		if (!rel || !syms || !gelf_getshdr(symscn, &symsh))
			continue;
		size_t n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Rela r;
			GElf_Sym sym;
			if (!gelf_getrela(rel, (int)i, &r))
				break;
			unsigned type = (unsigned)GELF_R_TYPE(r.r_info);
			if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) ||
			    !gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym))
				continue;
			const char *name = elf_strptr(elf, symsh.sh_link, sym.st_name);
			if (name && *name)
				fn(arg, name, r.r_offset + bias);
		}
	}
	elf_end(elf);
	return true;
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
	e->bias = load_bias(img, file, e->elf);
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
	if (!index_symbols(e)) {
		ins_elf_close(e);
		return ins_err_nomem();
	}
	*out = e;
	return NULL;
}

void ins_elf_close(ins_elf *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	free(e->index);
	free(e);
}

bool ins_elf_lookup(const ins_elf *e, const char *name, uint64_t *addr, uint64_t *size)
{
	if (!e->index)
		return false;
	for (size_t slot = (size_t)name_hash(name) & (e->index_cap - 1); e->index[slot];
	     slot = (slot + 1) & (e->index_cap - 1)) {
		const Elf64_Sym *sym = &e->syms[e->index[slot]];
		if (strcmp(e->strtab + sym->st_name, name) == 0) {
			*addr = sym->st_value + e->bias;
			if (size)
				*size = sym->st_size;
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

/* The image's own copy of the first page of the file mapped at base -- its ELF and
 * program headers and, normally, its notes -- when the image holds it in dumped memory.
 * Only dumped memory counts: the file-backed fallback would read the file on disk, which
 * may be another build, and always agree with it. */
static const uint8_t *image_header_page(ins_image *img, const ins_mapping *base, Elf64_Ehdr *eh,
					size_t *page)
{
	uint64_t n = base->end - base->start < 4096 ? base->end - base->start : 4096;
	if (n < sizeof(*eh) || !ins_image_in_segments(img, base->start, (size_t)n))
		return NULL;
	const uint8_t *d = ins_image_ptr(img, base->start, (size_t)n);
	memcpy(eh, d, sizeof(*eh));
	*page = (size_t)n;
	return d;
}

/* The build-id in that page: 1 found; 0 the page has none (or is not an ELF header);
 * -1 a note segment lies beyond the page, so we cannot tell. */
static int page_build_id(const uint8_t *d, size_t page, const Elf64_Ehdr *eh, uint8_t *id, size_t *len)
{
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > page ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > page - eh->e_phoff)
		return 0;
	int result = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, d + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE)
			continue;
		/* The page holds file offset 0 onwards: a note segment is at its p_offset. */
		if (ph.p_offset > page || ph.p_filesz > page - ph.p_offset) {
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

static ins_error *mismatch(const ins_elf *e, const ins_image *img, const char *have, const char *want)
{
	return ins_err(INS_E_MISMATCH,
		       "%s is not the file the process had mapped (build-id %s, the %s has %s); use --exe or --sysroot",
		       e->path, have, img->kind == INS_IMAGE_CORE ? "core" : "process", want);
}

/* The build-id of the file on disk against the one in the image's copy of the file's
 * header page; without that page, against the bytes where the file says its note is;
 * when neither has a build-id, the program headers (the file's layout) are compared. */
ins_error *ins_elf_check_build_id(const ins_elf *e, ins_image *img)
{
	const uint8_t *file_id = e->build_id_len <= 40 ? e->build_id : NULL;
	size_t file_len = file_id ? e->build_id_len : 0, mem_len = 0, page = 0;
	uint8_t mem[40];
	Elf64_Ehdr eh;
	const ins_mapping *base = ins_image_file_base(img, e->file);
	const uint8_t *d = base ? image_header_page(img, base, &eh, &page) : NULL;
	int found = d ? page_build_id(d, page, &eh, mem, &mem_len) : -1;
	if (found < 0) {
		if (!file_id)
			return NULL;
		uint64_t at = e->build_id_vaddr + e->bias;
		if (!ins_image_in_segments(img, at, file_len) || !ins_image_read(img, at, mem, file_len))
			return NULL;  /* the image does not hold that page: nothing to compare */
		mem_len = file_len;
	} else if (found == 0 && !file_id) {
		const ins_file *f = &img->files[e->file];
		size_t n = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
		if (memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_phoff <= page && n <= page - eh.e_phoff &&
		    (f->size < eh.e_phoff || f->size - eh.e_phoff < n ||
		     memcmp(d + eh.e_phoff, f->map + eh.e_phoff, n) != 0))
			return mismatch(e, img, "none", "none, and its program headers differ");
		return NULL;
	}
	if (mem_len == file_len && memcmp(mem, file_id, file_len) == 0)
		return NULL;
	char want[81] = "none", have[81] = "none";
	if (mem_len)
		hex(want, mem, mem_len);
	if (file_len)
		hex(have, file_id, file_len);
	return mismatch(e, img, have, want);
}
