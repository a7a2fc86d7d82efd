/* image.c -- segments, file mappings and bounds-checked reads (see image.h). */
#define _GNU_SOURCE
#include "image.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

ins_error *ins_image_open(const ins_source *src, ins_buf *warn, ins_image **out)
{
	ins_image *img = calloc(1, sizeof(*img));
	if (!img)
		return ins_err_nomem();
	img->exe_file = -1;
	ins_error *err = src->core ? ins_core_open(img, src, warn) : ins_live_open(img, src, warn);
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
		if (img->files[i].state == 1 && img->files[i].size)
			munmap((void *)img->files[i].map, img->files[i].size);
		free(img->files[i].name);
		free(img->files[i].path);
	}
	for (size_t i = 0; i < img->nowned; i++)
		free(img->owned[i]);
	if (img->core_map)
		munmap(img->core_map, img->core_size);
	free(img->owned);
	free(img->files);
	free(img->maps);
	free(img->segs);
	free(img->description);
	free(img);
}

ins_error *ins_image_add_segment(ins_image *img, uint64_t start, uint64_t end, const uint8_t *data)
{
	if (end <= start)
		return NULL;
	ins_segment *s = realloc(img->segs, (img->nsegs + 1) * sizeof(*s));
	if (!s)
		return ins_err_nomem();
	img->segs = s;
	s[img->nsegs++] = (ins_segment){ start, end, data };
	return NULL;
}

ins_error *ins_image_add_mapping(ins_image *img, uint64_t start, uint64_t end, uint64_t offset,
				 const char *name, const char *sysroot)
{
	size_t f;
	for (f = 0; f < img->nfiles; f++)
		if (strcmp(img->files[f].name, name) == 0)
			break;
	if (f == img->nfiles) {
		ins_file *files = realloc(img->files, (img->nfiles + 1) * sizeof(*files));
		if (!files)
			return ins_err_nomem();
		img->files = files;
		ins_file *file = &files[f];
		memset(file, 0, sizeof(*file));
		file->name = strdup(name);
		if (asprintf(&file->path, "%s%s", sysroot ? sysroot : "", name) < 0)
			file->path = NULL;
		if (!file->name || !file->path) {
			free(file->name);
			free(file->path);
			return ins_err_nomem();
		}
		img->nfiles++;
	}
	ins_mapping *m = realloc(img->maps, (img->nmaps + 1) * sizeof(*m));
	if (!m)
		return ins_err_nomem();
	img->maps = m;
	m[img->nmaps++] = (ins_mapping){ start, end, offset, f };
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
}

bool ins_image_file_load(ins_image *img, size_t f)
{
	ins_file *file = &img->files[f];
	if (file->state)
		return file->state == 1;
	file->state = -1;
	int fd = open(file->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p != MAP_FAILED) {
			file->map = p;
			file->size = (size_t)st.st_size;
			file->state = 1;
		}
	}
	close(fd);
	return file->state == 1;
}

const ins_mapping *ins_image_file_base(const ins_image *img, size_t file)
{
	for (size_t i = 0; i < img->nmaps; i++)
		if (img->maps[i].file == file && img->maps[i].offset == 0)
			return &img->maps[i];
	return NULL;
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
	size_t i = img->hint;
	if (i >= img->nsegs || addr < img->segs[i].start || addr >= img->segs[i].end)
		i = first_above(img->segs, img->nsegs, sizeof(*img->segs), addr);
	if (i == img->nsegs || addr < img->segs[i].start)
		return NULL;
	img->hint = i;
	return &img->segs[i];
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
