/* image.c -- segments, file mappings and bounds-checked reads (see image.h). */
#define _GNU_SOURCE
#include "image.h"
#include "elfnote.h"

#include <elf.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp_path_name(const void *a, const void *b)
{
	return strcmp(((const ins_file_path *)a)->name, ((const ins_file_path *)b)->name);
}

ins_error *ins_image_open(const ins_source *src, ins_buf *warn, ins_image **out)
{
	ins_image *img = calloc(1, sizeof(*img));
	if (!img)
		return ins_err_nomem();
	img->exe_file = -1;
	pthread_mutex_init(&img->files_lock, NULL);
	if ((src->sysroot && *src->sysroot && !(img->sysroot = strdup(src->sysroot))) ||
	    (src->debug_dir && *src->debug_dir && !(img->debug_dir = strdup(src->debug_dir))) ||
	    (src->nfiles && !(img->paths = calloc(src->nfiles, sizeof(*img->paths))))) {
		ins_image_close(img);
		return ins_err_nomem();
	}
	for (size_t i = 0; i < src->nfiles; i++) {
		if (!src->files || !src->files[i].name || !src->files[i].path) {
			ins_image_close(img);
			return ins_err(INS_ERR_USAGE, "file %zu of the options has no name or no path", i);
		}
		ins_file_path *fp = &img->paths[img->npaths++];
		fp->name = strdup(src->files[i].name);
		fp->path = strdup(src->files[i].path);
		if (!fp->name || !fp->path) {
			ins_image_close(img);
			return ins_err_nomem();
		}
	}
	if (img->npaths)  /* looked up by name (file_of); a name given twice: one of them */
		qsort(img->paths, img->npaths, sizeof(*img->paths), cmp_path_name);
	ins_error *err = src->core     ? ins_core_open(img, src, warn)
			 : src->reader ? ins_reader_open(img, src, warn)
				       : ins_live_open(img, src, warn);
	if (err) {
		ins_image_close(img);
		return err;
	}
	ins_image_finish(img);
	*out = img;
	return NULL;
}

void ins_image_close(ins_image *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->nfiles; i++) {
		if (img->files[i].state == 1 && img->files[i].size && !img->files[i].shared)
			munmap((void *)img->files[i].map, img->files[i].size);
		free(img->files[i].name);
		free(img->files[i].path);
		free(img->files[i].why);
	}
	free(img->file_index);
	free(img->thread_sp);
	ins_map_free(&img->inodes);
	for (size_t i = 0; i < img->nowned; i++)
		free(img->owned[i]);
	if (img->core_map)
		munmap(img->core_map, img->core_size);
	free(img->owned);
	free(img->files);
	free(img->maps);
	free(img->segs);
	free(img->description);
	free(img->sysroot);
	free(img->debug_dir);
	for (size_t i = 0; i < img->npaths; i++) {
		free((char *)img->paths[i].name);
		free((char *)img->paths[i].path);
	}
	free(img->paths);
	pthread_mutex_destroy(&img->files_lock);
	free(img);
}

/* Room for one more element in an array that grows geometrically: a table built from the
 * target (a core's segments, its NT_FILE entries) costs time linear in its size. */
static bool room(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? 2 * *cap : 16;
	void *p = c > SIZE_MAX / size ? NULL : realloc(*v, c * size);
	if (!p)
		return false;
	*v = p;
	*cap = c;
	return true;
}

ins_error *ins_image_add_segment(ins_image *img, uint64_t start, uint64_t end, const uint8_t *data)
{
	if (end <= start)
		return NULL;
	void *v = img->segs;
	if (!room(&v, &img->segs_cap, img->nsegs, sizeof(*img->segs)))
		return ins_err_nomem();
	img->segs = v;
	img->segs[img->nsegs++] = (ins_segment){ start, end, data };
	return NULL;
}

ins_error *ins_image_add_thread(ins_image *img, uint64_t sp)
{
	void *v = img->thread_sp;
	if (!room(&v, &img->threads_cap, img->nthreads, sizeof(*img->thread_sp)))
		return ins_err_nomem();
	img->thread_sp = v;
	img->thread_sp[img->nthreads++] = sp;
	return NULL;
}

static uint64_t name_hash(const char *s, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;  /* FNV-1a from a random state, mixed */
	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

/* The slot of name in the file index: where it is, or the empty slot where it goes. */
static size_t file_slot(const ins_image *img, const char *name)
{
	size_t mask = img->file_index_cap - 1, i = (size_t)name_hash(name, img->hash_seed) & mask;
	while (img->file_index[i] && strcmp(img->files[img->file_index[i] - 1].name, name) != 0)
		i = (i + 1) & mask;
	return i;
}

/* The index into files of the file called name, added if new; SIZE_MAX when out of memory. */
static size_t file_of(ins_image *img, const char *name, const char *sysroot)
{
	if (!img->file_index_cap) {
		if (getrandom(&img->hash_seed, sizeof(img->hash_seed), GRND_NONBLOCK) != sizeof(img->hash_seed))
			img->hash_seed = (uint64_t)(uintptr_t)img ^ (uint64_t)getpid() << 32;
	}
	if (2 * (img->nfiles + 1) > img->file_index_cap) {  /* rehash at half full */
		size_t cap = img->file_index_cap ? 2 * img->file_index_cap : 64;
		uint32_t *old = img->file_index;
		if (img->nfiles >= UINT32_MAX - 1 || !(img->file_index = calloc(cap, sizeof(*old)))) {
			img->file_index = old;
			return SIZE_MAX;
		}
		img->file_index_cap = cap;
		for (size_t f = 0; f < img->nfiles; f++)
			img->file_index[file_slot(img, img->files[f].name)] = (uint32_t)(f + 1);
		free(old);
	}
	size_t slot = file_slot(img, name);
	if (img->file_index[slot])
		return img->file_index[slot] - 1;
	void *v = img->files;
	if (!room(&v, &img->files_cap, img->nfiles, sizeof(*img->files)))
		return SIZE_MAX;
	img->files = v;
	ins_file *file = &img->files[img->nfiles];
	memset(file, 0, sizeof(*file));
	file->name = strdup(name);
	const ins_file_path key = { name, NULL }, *own = img->npaths ?
		bsearch(&key, img->paths, img->npaths, sizeof(key), cmp_path_name) : NULL;
	if (own) {  /* a path of its own: not under the sysroot */
		sysroot = NULL;
		name = own->path;
	}
	/* a name already inside the sysroot (a container's process cored by gcore from outside,
	 * which names its files by their outside paths) is not prefixed again */
	size_t rl = sysroot ? strlen(sysroot) : 0;
	while (rl > 1 && sysroot[rl - 1] == '/')
		rl--;
	if (rl > 1 && strncmp(name, sysroot, rl) == 0 && name[rl] == '/')
		sysroot = NULL;
	if (asprintf(&file->path, "%s%s", sysroot ? sysroot : "", name) < 0)
		file->path = NULL;
	if (!file->name || !file->path) {
		free(file->name);
		free(file->path);
		return SIZE_MAX;
	}
	img->file_index[slot] = (uint32_t)(++img->nfiles);
	return img->nfiles - 1;
}

ins_error *ins_image_add_mapping(ins_image *img, uint64_t start, uint64_t end, uint64_t offset,
				 const char *name, const char *sysroot)
{
	size_t f = file_of(img, name, sysroot);
	void *v = img->maps;
	if (f == SIZE_MAX || !room(&v, &img->maps_cap, img->nmaps, sizeof(*img->maps)))
		return ins_err_nomem();
	img->maps = v;
	img->maps[img->nmaps++] = (ins_mapping){ start, end, offset, f };
	return NULL;
}

ins_error *ins_image_copy(ins_image *img, ins_copy_fn fn, void *arg, uint64_t start, uint64_t end)
{
	const uint64_t page = 4096;
	uint64_t at = start;
	while (at < end) {
		uint8_t probe;
		if (fn(arg, at, &probe, 1) != 1) {  /* an unreadable page: skip it */
			at = (at & ~(page - 1)) + page;
			continue;
		}
		size_t len = end - at;
		uint8_t *p = malloc(len);
		if (!p)
			return ins_err_nomem();
		size_t got = fn(arg, at, p, len);
		if (got == 0) {
			free(p);
			at = (at & ~(page - 1)) + page;
			continue;
		}
		if (got < len) {
			uint8_t *q = realloc(p, got);
			p = q ? q : p;
		}
		if (!room((void **)&img->owned, &img->owned_cap, img->nowned + 1, sizeof(*img->owned))) {
			free(p);
			return ins_err_nomem();
		}
		img->owned[img->nowned++] = p;
		ins_error *err = ins_image_add_segment(img, at, at + got, p);
		if (err)
			return err;
		at += got;
		if (at < end)  /* the read stopped at an unreadable page */
			at = (at & ~(page - 1)) + page;
	}
	return NULL;
}

static int cmp_seg(const void *a, const void *b)
{
	const ins_segment *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_map(const void *a, const void *b)
{
	const ins_mapping *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

void ins_image_finish(ins_image *img)
{
	if (img->nsegs)
		qsort(img->segs, img->nsegs, sizeof(*img->segs), cmp_seg);
	if (img->nmaps)
		qsort(img->maps, img->nmaps, sizeof(*img->maps), cmp_map);
	for (size_t f = 0; f < img->nfiles; f++)
		img->files[f].base = img->files[f].max_offset = 0;
	for (size_t i = img->nmaps; i-- > 0;) {  /* the first in address order is the base */
		ins_file *file = &img->files[img->maps[i].file];
		if (img->maps[i].offset == 0)
			file->base = i + 1;
		if (img->maps[i].offset > file->max_offset)
			file->max_offset = img->maps[i].offset;
	}
}

static void hex(char *out, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n && i < 40; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* Does every mapping of file f start inside its size bytes? 1 yes, -2 no (why says). */
static int fits(const ins_image *img, size_t f, size_t size, char *why, size_t n)
{
	uint64_t limit = ((uint64_t)size + 4095) & ~(uint64_t)4095;
	if (img->files[f].max_offset <= limit)
		return 1;
	snprintf(why, n, "%zu bytes long, the %s maps it at offset 0x%llx", size,
		 img->kind == INS_IMAGE_CORE ? "core" : "process", (unsigned long long)img->files[f].max_offset);
	return -2;
}

/* Is the file (mapped at map, size bytes) the one the image recorded (ins_image_file_load)?
 * 1 yes; -1 it is no 64-bit ELF file; -2 it differs from the image's record. why says how. */
static int recorded(ins_image *img, size_t f, const uint8_t *map, size_t size, char *why, size_t n)
{
	const ins_file *file = &img->files[f];
	const char *in = img->kind == INS_IMAGE_CORE ? "core" : "process";
	if (size < sizeof(Elf64_Ehdr) || memcmp(map, ELFMAG, SELFMAG) != 0 || map[EI_CLASS] != ELFCLASS64) {
		snprintf(why, n, "not a 64-bit ELF file");
		return -1;
	}
	/* the image's own copy of the header page (only dumped memory counts: the fallback
	 * would read this very file) */
	const ins_mapping *base = file->base ? &img->maps[file->base - 1] : NULL;
	uint64_t page = base ? (base->end - base->start < 4096 ? base->end - base->start : 4096) : 0;
	if (page < sizeof(Elf64_Ehdr) || !ins_image_in_segments(img, base->start, (size_t)page))
		return fits(img, f, size, why, n);  /* nothing else to compare with */
	const uint8_t *d = ins_image_ptr(img, base->start, (size_t)page);
	uint8_t mem[40], disk[40];
	size_t mem_len = 0, disk_len = 0;
	int in_mem = ins_note_header_build_id(d, (size_t)page, mem, &mem_len);
	int on_disk = ins_note_header_build_id(map, size, disk, &disk_len);
	if (in_mem == 1 || (in_mem == 0 && on_disk == 1)) {
		if (on_disk == 1 && in_mem == 1 && mem_len == disk_len && memcmp(mem, disk, mem_len) == 0)
			return fits(img, f, size, why, n);
		char want[81] = "none", have[81] = "none";
		if (in_mem == 1)
			hex(want, mem, mem_len);
		if (on_disk == 1)
			hex(have, disk, disk_len);
		snprintf(why, n, "build-id %s, the %s has %s", have, in, want);
		return -2;
	}
	/* no build-id to compare: the ELF header and the program headers */
	Elf64_Ehdr eh;
	memcpy(&eh, d, sizeof(eh));
	uint64_t end = (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) + eh.e_phoff;
	if (eh.e_phoff > page || end > page)
		end = sizeof(Elf64_Ehdr);
	if (end > size || memcmp(d, map, (size_t)end) != 0) {
		snprintf(why, n, "build-id none, the %s has none, and its ELF headers differ", in);
		return -2;
	}
	return fits(img, f, size, why, n);
}

static bool file_load(ins_image *img, size_t f)
{
	ins_file *file = &img->files[f];
	if (file->state)
		return file->state == 1;
	file->state = -1;
	/* never open what is not a regular file (a FIFO would block, a device act); opened
	 * without blocking all the same, in case it changed in between */
	struct stat st, fst;
	if (stat(file->path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return false;
	int fd = open(file->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return false;
	if (fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode) && fst.st_size > 0 && fst.st_dev == st.st_dev &&
	    fst.st_ino == st.st_ino) {
		/* one file under many names (a hostile core's NT_FILE may spell it a million
		 * ways) is mapped once */
		uint64_t key = ((uint64_t)fst.st_ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)fst.st_dev) | 1;
		uint64_t *slot = ins_map_slot(&img->inodes, key, 0);
		const ins_file *same = slot && *slot ? &img->files[*slot - 1] : NULL;
		file->shared = same && same->state == 1 && same->dev == (uint64_t)fst.st_dev &&
			       same->ino == (uint64_t)fst.st_ino && same->size == (size_t)fst.st_size;
		const void *p = file->shared ? same->map : mmap(NULL, (size_t)fst.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		char why[256];
		int ok = p != MAP_FAILED ? recorded(img, f, p, (size_t)fst.st_size, why, sizeof(why)) : -1;
		if (p != MAP_FAILED && ok < 0) {
			if (!file->shared)
				munmap((void *)p, (size_t)fst.st_size);
			file->shared = false;
			file->why = strdup(why);
			file->state = ok;
		} else if (p != MAP_FAILED) {
			file->map = p;
			file->size = (size_t)fst.st_size;
			file->dev = (uint64_t)fst.st_dev;
			file->ino = (uint64_t)fst.st_ino;
			file->state = 1;
			if (slot && !*slot)
				*slot = f + 1;
		}
	}
	close(fd);
	return file->state == 1;
}

/* Under the lock: the threads of one command read the image at once (recorded() reads only
 * segments: it never comes back here). */
bool ins_image_file_load(ins_image *img, size_t f)
{
	pthread_mutex_lock(&img->files_lock);
	bool ok = file_load(img, f);
	pthread_mutex_unlock(&img->files_lock);
	return ok;
}

const ins_mapping *ins_image_file_base(const ins_image *img, size_t file)
{
	size_t b = img->files[file].base;
	return b && b <= img->nmaps ? &img->maps[b - 1] : NULL;
}

/* Segments and mappings are sorted, disjoint ranges: structs that begin with
 * uint64_t start, end. The index of the first of the n ranges (size bytes each) that
 * ends above addr -- the one holding addr if one does, else the next -- or n. */
_Static_assert(offsetof(ins_segment, start) == 0 && offsetof(ins_segment, end) == 8 &&
		       offsetof(ins_mapping, start) == 0 && offsetof(ins_mapping, end) == 8,
	       "ranges begin with start, end");

static size_t first_above(const void *ranges, size_t n, size_t size, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const uint64_t *r = (const uint64_t *)((const char *)ranges + mid * size);
		if (r[1] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const ins_segment *find_seg(ins_image *img, uint64_t addr)
{
	size_t i = SIZE_MAX;  /* no hint of our own: the cache, else a search */
	return ins_image_seg_bytes(img, addr, 1, &i) ? &img->segs[i] : NULL;
}

static const ins_mapping *find_map(const ins_image *img, uint64_t addr)
{
	size_t i = first_above(img->maps, img->nmaps, sizeof(*img->maps), addr);
	return i < img->nmaps && addr >= img->maps[i].start ? &img->maps[i] : NULL;
}

/* Pointer to the bytes at addr and how many follow contiguously, from segments first
 * and the file-backed fallback second. */
static const uint8_t *locate(ins_image *img, uint64_t addr, size_t *avail)
{
	const ins_segment *s = find_seg(img, addr);
	if (s) {
		*avail = s->end - addr;
		return s->data + (addr - s->start);
	}
	const ins_mapping *m = find_map(img, addr);
	if (!m || !ins_image_file_load(img, m->file))
		return NULL;
	const ins_file *f = &img->files[m->file];
	uint64_t off = m->offset + (addr - m->start);
	if (off >= f->size)
		return NULL;
	uint64_t n = f->size - off;
	if (n > m->end - addr)
		n = m->end - addr;
	/* A segment may start inside this mapping: its bytes win, so stop at its start. */
	size_t next = first_above(img->segs, img->nsegs, sizeof(*img->segs), addr);
	if (next < img->nsegs && img->segs[next].start - addr < n)
		n = img->segs[next].start - addr;
	*avail = n;
	return f->map + off;
}

const uint8_t *ins_image_ptr(ins_image *img, uint64_t addr, size_t len)
{
	size_t avail;
	const uint8_t *p = locate(img, addr, &avail);
	return p && avail >= len ? p : NULL;
}

bool ins_image_read(ins_image *img, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;
	while (len) {
		size_t avail;
		const uint8_t *p = locate(img, addr, &avail);
		if (!p)
			return false;
		size_t n = avail < len ? avail : len;
		memcpy(out, p, n);
		out += n;
		addr += n;
		len -= n;
		if (len && addr == 0)
			return false;  /* wrapped around */
	}
	return true;
}

/* Remembers segment i as the one serving addr's MiB. The cache is a memo beside the image,
 * not part of what it holds: readers of a const image fill it too (each entry one atomic word). */
static void seg_remember(const ins_image *img, uint64_t addr, size_t i)
{
	if (i < ((size_t)1 << INS_SEG_BITS))
		atomic_store_explicit((_Atomic uint64_t *)&img->seg_cache[(addr >> 20) % INS_SEG_CACHE],
				      (((addr >> 20) + 1) << INS_SEG_BITS) | i, memory_order_relaxed);
}

const uint8_t *ins_image_seg_bytes(const ins_image *img, uint64_t addr, size_t len, size_t *seg)
{
	size_t i = *seg;
	if (i >= img->nsegs || addr < img->segs[i].start || addr >= img->segs[i].end) {
		const ins_segment *c = ins_image_seg_cached(img, addr);
		if (c && addr >= c->start && addr < c->end) {
			i = (size_t)(c - img->segs);
		} else {
			i = first_above(img->segs, img->nsegs, sizeof(*img->segs), addr);
			if (i == img->nsegs || addr < img->segs[i].start)
				return NULL;
			seg_remember(img, addr, i);
		}
	}
	const ins_segment *s = &img->segs[i];
	if (len > s->end - addr)
		return NULL;
	*seg = i;
	return s->data + (addr - s->start);
}

bool ins_image_in_segments(ins_image *img, uint64_t addr, size_t len)
{
	const ins_segment *s = find_seg(img, addr);
	return s && s->end - addr >= len;
}

bool ins_image_u64(ins_image *img, uint64_t addr, uint64_t *v)
{
	const uint8_t *p = ins_image_fast(img, addr, 8);
	if (p) {
		memcpy(v, p, 8);
		return true;
	}
	return ins_image_read(img, addr, v, 8);
}

bool ins_image_i64(ins_image *img, uint64_t addr, int64_t *v)
{
	return ins_image_u64(img, addr, (uint64_t *)v);
}

bool ins_image_i32(ins_image *img, uint64_t addr, int32_t *v)
{
	return ins_image_read(img, addr, v, 4);
}

char *ins_image_cstr(ins_image *img, uint64_t addr, size_t max)
{
	char *s = malloc(max + 1);
	if (!s)
		return NULL;
	size_t n = 0;
	while (n < max) {
		size_t avail;
		const uint8_t *p = locate(img, addr + n, &avail);
		if (!p)
			break;
		size_t chunk = avail < max - n ? avail : max - n;
		const uint8_t *nul = memchr(p, 0, chunk);
		if (nul) {
			memcpy(s + n, p, (size_t)(nul - p));
			n += (size_t)(nul - p);
			s[n] = '\0';
			return s;
		}
		memcpy(s + n, p, chunk);
		n += chunk;
	}
	free(s);
	return NULL;  /* unreadable, or longer than max */
}
