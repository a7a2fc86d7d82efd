/* core.c -- ELF core files as memory images.
 *
 * The core is mmapped. Each PT_LOAD contributes [p_vaddr, p_vaddr + p_filesz) as a
 * segment (p_memsz beyond p_filesz was not dumped). The NT_FILE note names the files
 * mapped into the process, which become the image's mappings (the file-backed
 * fallback); NT_AUXV's AT_PHDR tells which of them is the main executable.
 */
#define _GNU_SOURCE
#include "checked.h"
#include "elfnote.h"
#include "image.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

/* x86-64's struct elf_prstatus: pr_reg (struct user_regs_struct, 27 words) at 112, rsp its
 * 20th word */
#define PRSTATUS_REG 112
#define PRSTATUS_NREG 27
#define PRSTATUS_RSP 19

static ins_error *map_core(ins_image *img, const char *path)
{
	/* a FIFO or a device is never opened (it could block, or act); opened without
	 * blocking all the same, in case it changed in between */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return ins_err(INS_ERR_INPUT, "%s is not a regular file", path);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return ins_err(INS_ERR_INPUT, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ins_err(INS_ERR_INPUT, "%s is not a regular file", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return ins_err(INS_ERR_INPUT, "%s is empty, not a core file", path);
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (p == MAP_FAILED)
		return ins_err(INS_ERR_INPUT, "cannot map %s: %s", path, strerror(e));
	img->core_map = p;
	img->core_size = (size_t)st.st_size;
	return NULL;
}

/* NT_FILE: count, page size, count x {start, end, pgoff}, then count names. */
static ins_error *parse_nt_file(ins_image *img, const uint8_t *d, size_t n, const char *sysroot)
{
	uint64_t count, page;
	if (n < 16)
		return ins_err(INS_ERR_INPUT, "core file has a malformed NT_FILE note");
	memcpy(&count, d, 8);
	memcpy(&page, d + 8, 8);
	if (count > (n - 16) / 24)
		return ins_err(INS_ERR_INPUT, "core file has a malformed NT_FILE note");
	const char *names = (const char *)d + 16 + count * 24;
	const char *end = (const char *)d + n;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t e[3], offset;
		memcpy(e, d + 16 + i * 24, 24);
		const char *nul = names < end ? memchr(names, 0, (size_t)(end - names)) : NULL;
		if (!nul || e[2] > INT64_MAX || page > INT64_MAX || !ins_span(0, (int64_t)e[2], (int64_t)page, &offset))
			return ins_err(INS_ERR_INPUT, "core file has a malformed NT_FILE note");
		ins_error *err = ins_image_add_mapping(img, e[0], e[1], offset, names, sysroot);
		if (err)
			return err;
		names = nul + 1;
	}
	return NULL;
}

static uint64_t auxv_get(const uint8_t *d, size_t n, uint64_t type)
{
	for (size_t off = 0; off + 16 <= n; off += 16) {
		uint64_t kv[2];
		memcpy(kv, d + off, 16);
		if (kv[0] == type)
			return kv[1];
		if (kv[0] == AT_NULL)
			break;
	}
	return 0;
}

static ins_error *parse_notes(ins_image *img, const uint8_t *d, size_t n, const char *sysroot,
			      uint64_t *at_phdr)
{
	size_t off = 0;
	bool malformed;
	ins_note note;
	while (ins_note_next(d, n, &off, &note, &malformed)) {
		if (note.type == NT_FILE) {
			ins_error *err = parse_nt_file(img, note.desc, note.descsz, sysroot);
			if (err)
				return err;
		} else if (note.type == NT_AUXV) {
			*at_phdr = auxv_get(note.desc, note.descsz, AT_PHDR);
		} else if (note.type == NT_PRSTATUS && note.namesz >= 4 && memcmp(note.name, "CORE", 4) == 0 &&
			   note.descsz >= PRSTATUS_REG + PRSTATUS_NREG * 8) {
			/* one per thread: its registers when the core was taken */
			uint64_t sp;
			memcpy(&sp, note.desc + PRSTATUS_REG + PRSTATUS_RSP * 8, 8);
			ins_error *err = ins_image_add_thread(img, sp);
			if (err)
				return err;
			img->threads_known = true;
		}
	}
	return malformed ? ins_err(INS_ERR_INPUT, "core file has malformed notes (truncated?)") : NULL;
}

ins_error *ins_core_open(ins_image *img, const ins_source *src, ins_buf *warn)
{
	(void)warn;
	img->kind = INS_IMAGE_CORE;
	if (asprintf(&img->description, "core %s", src->core) < 0)
		return ins_err_nomem();
	ins_error *err = map_core(img, src->core);
	if (err)
		return err;
	const uint8_t *d = img->core_map;
	size_t size = img->core_size;
	const char *path = src->core;
	if (size < EI_NIDENT || memcmp(d, ELFMAG, SELFMAG) != 0)
		return ins_err(INS_ERR_INPUT, "%s is not an ELF core file", path);
	if (d[EI_CLASS] != ELFCLASS64 || d[EI_DATA] != ELFDATA2LSB)
		return ins_err(INS_ERR_INPUT, "%s: only 64-bit little-endian cores are supported", path);
	if (size < sizeof(Elf64_Ehdr))
		return ins_err(INS_ERR_INPUT, "%s is truncated (no complete ELF header)", path);
	Elf64_Ehdr eh;
	memcpy(&eh, d, sizeof(eh));
	if (eh.e_type != ET_CORE)
		return ins_err(INS_ERR_INPUT, "%s is an ELF %s, not a core file", path,
			       eh.e_type == ET_EXEC || eh.e_type == ET_DYN ? "program" : "file");
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > size ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff)
		return ins_err(INS_ERR_INPUT, "%s is truncated (program headers missing)", path);

	uint64_t at_phdr = 0, missing = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, d + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset) {
			uint64_t have = ph.p_offset > size ? 0 : size - ph.p_offset;
			missing += ph.p_filesz - have;
			continue;
		}
		if (ph.p_type == PT_LOAD && ph.p_filesz) {
			err = ins_image_add_segment(img, ph.p_vaddr, ph.p_vaddr + ph.p_filesz,
						    d + ph.p_offset);
		} else if (ph.p_type == PT_NOTE) {
			err = parse_notes(img, d + ph.p_offset, ph.p_filesz, src->sysroot, &at_phdr);
		}
		if (err)
			return err;
	}
	if (missing)
		return ins_err(INS_ERR_INPUT, "%s is truncated: %llu bytes of its memory are missing",
			       path, (unsigned long long)missing);
	if (!img->nsegs)
		return ins_err(INS_ERR_INPUT, "%s holds no memory segments", path);

	ins_image_finish(img);
	for (size_t i = 0; at_phdr && i < img->nmaps; i++)
		if (at_phdr >= img->maps[i].start && at_phdr < img->maps[i].end)
			img->exe_file = (long)img->maps[i].file;
	if (src->exe) {
		if (img->exe_file < 0)
			return ins_err(INS_ERR_INPUT, "%s does not say which file is its executable; cannot apply --exe", path);
		char *p = strdup(src->exe);
		if (!p)
			return ins_err_nomem();
		free(img->files[img->exe_file].path);
		img->files[img->exe_file].path = p;
	}
	return NULL;
}
