/* reader.c -- a target the host reads: memory images through a callback.
 *
 * A debugger (GDB, through the Python package) hands libinspect its own view of the inferior:
 * a read function and the address space's regions as /proc/PID/maps shows them. Like a live
 * process (live.c), every readable region but code is copied once, through the callback (read-
 * only data too: RELRO pages were relocated before they were made read-only), and code is
 * read from the files themselves (the file-backed fallback,
 * each file checked to be the one mapped). Whatever the debugger can read works the same: a
 * process it holds stopped, a core it opened with its own sysroot, a gdbserver target.
 */
#define _GNU_SOURCE
#include "image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK ((size_t)1 << 20)
#define PAGE ((uint64_t)4096)

/* ins_copy_fn over the host's all-or-nothing read: chunk by chunk, and where a chunk fails,
 * page by page up to the first unreadable page. */
static size_t read_host(void *arg, uint64_t addr, void *buf, size_t len)
{
	const ins_reader *r = arg;
	size_t got = 0;
	while (got < len) {
		size_t n = len - got < CHUNK ? len - got : CHUNK;
		if (r->read(r->arg, addr + got, (uint8_t *)buf + got, n) == 0) {
			got += n;
			continue;
		}
		while (got < len) {  /* page by page, the first up to its end */
			uint64_t at = addr + got, next = (at & ~(PAGE - 1)) + PAGE;
			size_t k = next - at < len - got ? (size_t)(next - at) : len - got;
			if (r->read(r->arg, at, (uint8_t *)buf + got, k) != 0)
				return got;
			got += k;
		}
	}
	return got;
}

/* The kernel's pages (vvar, vsyscall): nothing of the program's, and reading them may fail. */
static bool kernel_page(const char *path)
{
	return path && (strcmp(path, "[vvar]") == 0 || strcmp(path, "[vsyscall]") == 0 ||
			strcmp(path, "[vvar_vclock]") == 0);
}

static bool anonymous(const char *path)
{
	return !path || !*path || path[0] == '[';
}

ins_error *ins_reader_open(ins_image *img, const ins_source *src, ins_buf *warn)
{
	(void)warn;
	const ins_reader *r = src->reader;
	img->kind = INS_IMAGE_READER;
	img->pid = r->pid;
	if (!r->read || (r->nregions && !r->regions))
		return ins_err(INS_ERR_USAGE, "a reader needs a read function and its regions");
	if (!r->nregions)
		return ins_err(INS_ERR_INPUT, "the target has no memory regions");
	int n = r->description ? asprintf(&img->description, "%s", r->description)
		: r->pid ? asprintf(&img->description, "process %d (through a reader)", r->pid)
			 : asprintf(&img->description, "a target read through a reader");
	if (n < 0) {
		img->description = NULL;
		return ins_err_nomem();
	}
	ins_error *err = NULL;
	if (r->nthreads && !r->thread_sps)
		return ins_err(INS_ERR_USAGE, "a reader's %zu threads need their stack pointers", r->nthreads);
	for (size_t i = 0; !err && i < r->nthreads; i++)
		err = ins_image_add_thread(img, r->thread_sps[i]);
	img->threads_known = !err && r->nthreads;
	long first = -1, named = -1;
	for (size_t i = 0; !err && i < r->nregions; i++) {
		const ins_region *g = &r->regions[i];
		if (g->end <= g->start)
			continue;
		bool file = !anonymous(g->path) && g->path[0] == '/';
		if (file) {
			err = ins_image_add_mapping(img, g->start, g->end, g->offset, g->path, src->sysroot);
			if (!err && named < 0 && src->exe && strcmp(g->path, src->exe) == 0)
				named = (long)img->nfiles - 1;
			if (!err && first < 0 && g->offset == 0)
				first = (long)img->nfiles - 1;
		}
		/* everything readable but code: RELRO pages (.data.rel.ro, .got) were relocated
		 * before they were made read-only, and the file does not hold their values */
		bool copy = (g->perms & INS_MAP_READ) && (!(g->perms & INS_MAP_EXEC) || !file) && !kernel_page(g->path);
		if (!err && copy)
			err = ins_image_copy(img, read_host, (void *)r, g->start, g->end);
	}
	/* the executable: the file named exe, else the first file mapped at offset 0 (the lowest:
	 * PIE or not, it is mapped below its libraries), read from exe when that names another
	 * path (the host's copy of the target's file, as --exe does for a core) */
	img->exe_file = named >= 0 ? named : first;
	if (!err && named < 0 && first >= 0 && src->exe) {
		char *p = strdup(src->exe);
		if (!p)
			return ins_err_nomem();
		free(img->files[first].path);
		img->files[first].path = p;
	}
	return err;
}
