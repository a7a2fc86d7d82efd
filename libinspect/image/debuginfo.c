/* debuginfo.c -- detached debug info, found the way gdb finds it (see debuginfo.h). */
#define _GNU_SOURCE
#include "debuginfo.h"
#include "elfnote.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_DEBUG_DIR "/usr/lib/debug"

/* The CRC-32 that .gnu_debuglink carries (gdb's gnu_debuglink_crc32: the IEEE polynomial). */
static uint32_t crc32_of(const uint8_t *d, size_t n)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		crc ^= d[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (uint32_t)-(int32_t)(crc & 1));
	}
	return ~crc;
}

/* The section called name, or NULL. */
static Elf_Scn *section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		const char *n;
		if (gelf_getshdr(scn, sh) && (n = elf_strptr(elf, shstrndx, sh->sh_name)) && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

/* .gnu_debuglink: the debug file's name and its CRC; false if the file has none. */
static bool debuglink(Elf *elf, char *name, size_t cap, uint32_t *crc)
{
	GElf_Shdr sh;
	Elf_Scn *scn = section(elf, ".gnu_debuglink", &sh);
	Elf_Data *d = scn && sh.sh_type != SHT_NOBITS ? elf_getdata(scn, NULL) : NULL;
	if (!d || !d->d_buf || d->d_size < 8)
		return false;
	const char *s = d->d_buf;
	size_t len = strnlen(s, d->d_size);
	size_t at = (len + 4) & ~(size_t)3;  /* the CRC follows the name, 4-aligned */
	if (!len || len >= cap || len >= d->d_size || at + 4 > d->d_size || memchr(s, '/', len))
		return false;
	memcpy(name, s, len + 1);
	memcpy(crc, (const uint8_t *)d->d_buf + at, 4);
	return true;
}

/* The build-id among the candidate's note sections (a debug file keeps them). */
static bool file_build_id(Elf *elf, const uint8_t **id, size_t *len)
{
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		ins_note note;
		if (d && d->d_buf && ins_note_build_id(d->d_buf, d->d_size, &note)) {
			*id = note.desc;
			*len = note.descsz;
			return true;
		}
	}
	return false;
}

/* Opens path as the debug file: a readable x86-64 ELF file with a .symtab whose build-id is
 * id (when id), else whose CRC is crc (when check_crc). */
static bool try_open(const char *path, const uint8_t *id, size_t idlen, bool check_crc, uint32_t crc,
		     ins_debug_file *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	void *map = MAP_FAILED;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 64)
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	size_t size = (size_t)st.st_size;
	Elf *elf = elf_memory(map, size);
	GElf_Ehdr eh;
	bool ok = elf && elf_kind(elf) == ELF_K_ELF && gelf_getehdr(elf, &eh) && eh.e_machine == EM_X86_64;
	if (ok) {
		const uint8_t *fid;
		size_t flen;
		if (id)
			ok = file_build_id(elf, &fid, &flen) && flen == idlen && memcmp(fid, id, idlen) == 0;
		else
			ok = check_crc && crc32_of(map, size) == crc;
	}
	Elf_Scn *symtab = NULL;
	size_t strndx = 0;
	for (Elf_Scn *scn = NULL; ok && (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB && sh.sh_size) {
			symtab = scn;
			strndx = sh.sh_link;
			break;
		}
	}
	if (!ok || !symtab || !(out->path = strdup(path))) {
		if (elf)
			elf_end(elf);
		munmap(map, size);
		return false;
	}
	out->map = map;
	out->size = size;
	out->elf = elf;
	out->symtab = symtab;
	out->strndx = strndx;
	return true;
}

/* root + a + b + c into buf; false if it does not fit. */
static bool join(char *buf, size_t cap, const char *root, const char *a, const char *b, const char *c)
{
	int n = snprintf(buf, cap, "%s%s%s%s", root ? root : "", a, b, c);
	return n > 0 && (size_t)n < cap;
}

const char *ins_debug_dirs(const ins_image *img)
{
	return img->debug_dir && *img->debug_dir ? img->debug_dir : DEFAULT_DEBUG_DIR;
}

bool ins_debug_file_open(const ins_image *img, const ins_file *f, Elf *elf, const uint8_t *id, size_t idlen,
			 ins_debug_file *out)
{
	memset(out, 0, sizeof(*out));
	char path[4096], link[256], dirs[4096], hex[2 * 64 + 1];
	uint32_t crc = 0;
	bool has_link = debuglink(elf, link, sizeof(link), &crc);
	if (!id || !idlen || idlen > 64)
		id = NULL;
	for (size_t i = 0; id && i < idlen; i++)
		sprintf(hex + 2 * i, "%02x", id[i]);
	const char *root = img->sysroot;
	snprintf(dirs, sizeof(dirs), "%s", ins_debug_dirs(img));
	/* by build-id, in each debug directory */
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); id && d; d = strtok_r(NULL, ":", &save)) {
		char sub[16];
		snprintf(sub, sizeof(sub), "/.build-id/%.2s/", hex);
		if (join(path, sizeof(path), root, d, sub, hex + 2) && strlen(path) + 7 < sizeof(path)) {
			strcat(path, ".debug");
			if (try_open(path, id, idlen, false, 0, out))
				return true;
		}
	}
	if (!has_link)
		return false;
	/* by .gnu_debuglink: next to the file (as this machine has it), in .debug/ there, and in
	 * each debug directory under the file's directory as the target named it */
	char filedir[4096], namedir[4096];
	snprintf(filedir, sizeof(filedir), "%s", f->path);
	char *slash = strrchr(filedir, '/');
	if (!slash)
		return false;
	slash[1] = 0;
	snprintf(namedir, sizeof(namedir), "%s", f->name);
	slash = strrchr(namedir, '/');
	if (slash)
		slash[1] = 0;
	if (join(path, sizeof(path), NULL, filedir, link, "") && strcmp(path, f->path) != 0 &&
	    try_open(path, id, idlen, true, crc, out))
		return true;
	if (join(path, sizeof(path), NULL, filedir, ".debug/", link) && try_open(path, id, idlen, true, crc, out))
		return true;
	snprintf(dirs, sizeof(dirs), "%s", ins_debug_dirs(img));
	save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); slash && d; d = strtok_r(NULL, ":", &save))
		if (join(path, sizeof(path), root, d, namedir, link) && try_open(path, id, idlen, true, crc, out))
			return true;
	return false;
}

void ins_debug_file_close(ins_debug_file *d)
{
	if (d->elf)
		elf_end(d->elf);
	if (d->map)
		munmap(d->map, d->size);
	free(d->path);
	memset(d, 0, sizeof(*d));
}
