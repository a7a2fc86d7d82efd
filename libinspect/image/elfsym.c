/* elfsym.c -- ELF symbol lookup and build-id checks with libelf (see elfsym.h). */
#define _GNU_SOURCE
#include "elfsym.h"
#include "debuginfo.h"
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
	ins_debug_file dbg;       /* a stripped file's detached debug file, whose .symtab is used */
	char *table;              /* ins_elf_table's text */
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
	Elf *se = e->dbg.elf ? e->dbg.elf : e->elf;  /* the file that holds the table */
	Elf_Data *syms = e->symtab ? elf_getdata(e->symtab, NULL) : NULL;
	Elf_Data *strs = e->symtab ? elf_getdata(elf_getscn(se, e->strndx), NULL) : NULL;
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
	const char *in = img->kind == INS_IMAGE_CORE ? "core" : "process";
	if (!ins_image_file_load(img, file) && f->state == -2)
		return ins_err(INS_ERR_MISMATCH, "%s is not the file the process had mapped (%s); use --exe or --sysroot",
			       f->path, f->why ? f->why : "it differs");
	if (f->state != 1)
		return ins_err(INS_ERR_INPUT, "cannot read %s (mapped in the %s)%s%s", f->path, in,
			       f->why ? ": " : "", f->why ? f->why : "");
	if (elf_version(EV_CURRENT) == EV_NONE)
		return ins_err(INS_ERR_FAIL, "libelf: %s", elf_errmsg(-1));
	ins_elf *e = calloc(1, sizeof(*e));
	if (!e)
		return ins_err_nomem();
	e->file = file;
	e->path = f->path;
	e->elf = elf_memory((char *)f->map, f->size);
	GElf_Ehdr eh;
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &eh)) {
		ins_elf_close(e);
		return ins_err(INS_ERR_INPUT, "%s is not an ELF file", f->path);
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
	find_build_id(e, f);
	/* a stripped file: the .symtab of its detached debug file, when there is one */
	if (!e->symtab && ins_debug_file_open(img, f, e->elf, e->build_id, e->build_id_len, &e->dbg)) {
		e->symtab = e->dbg.symtab;
		e->strndx = e->dbg.strndx;
	}
	if (!e->symtab && dyn) {
		GElf_Shdr sh;
		gelf_getshdr(dyn, &sh);
		e->symtab = dyn;
		e->strndx = sh.sh_link;
	}
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
	ins_debug_file_close(&e->dbg);
	free(e->table);
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
	if (e->dbg.elf && !e->table && asprintf(&((ins_elf *)e)->table, ".symtab of its debug file %s", e->dbg.path) < 0)
		((ins_elf *)e)->table = NULL;
	if (e->dbg.elf)
		return e->table ? e->table : ".symtab of its debug file";
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

static ins_error *mismatch(const ins_elf *e, const ins_image *img, const char *have, const char *want)
{
	return ins_err(INS_ERR_MISMATCH,
		       "%s is not the file the process had mapped (build-id %s, the %s has %s); use --exe or --sysroot",
		       e->path, have, img->kind == INS_IMAGE_CORE ? "core" : "process", want);
}

/* The build-id of the file on disk against the bytes where the file says its note is, when
 * the image holds them. (Where the image holds the file's header page, ins_image_file_load
 * has compared it already: a file that differs from it is never opened.) */
ins_error *ins_elf_check_build_id(const ins_elf *e, ins_image *img)
{
	size_t len = e->build_id_len;
	uint8_t mem[40];
	uint64_t at = e->build_id_vaddr + e->bias;
	if (!e->build_id || len > 40 || !ins_image_in_segments(img, at, len) || !ins_image_read(img, at, mem, len) ||
	    memcmp(mem, e->build_id, len) == 0)
		return NULL;
	char want[81] = "none", have[81] = "none";
	hex(want, mem, len);
	hex(have, e->build_id, len);
	return mismatch(e, img, have, want);
}
