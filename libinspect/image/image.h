/* image.h -- memory images: the bytes of a stopped process.
 *
 * An image is a set of *segments* (address ranges whose bytes we hold: the PT_LOAD
 * contents of a core, or the writable mappings copied out of a live process) and a set
 * of *mappings* of files (from the core's NT_FILE note or /proc/PID/maps). Bytes that no
 * segment holds -- program text, .rodata, the static types' tp_name strings -- are read
 * from the mapped file on disk at the right offset: the file-backed fallback.
 * Every read is bounds-checked; a read the image cannot satisfy fails, never crashes.
 */
#ifndef INS_IMAGE_H
#define INS_IMAGE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "hashmap.h"
#include <libinspect/program.h>

typedef struct ins_segment {
	uint64_t start, end;   /* [start, end) */
	const uint8_t *data;   /* end - start bytes */
} ins_segment;

/* A file mapped into the target; several mappings may share one file. */
typedef struct ins_file {
	char *name;            /* as the target saw it */
	char *path;            /* where we read it on this machine */
	int state;             /* 0: not opened yet, 1: mapped, -1: unreadable (missing, not a
				* regular file, not ELF), -2: not the file the image recorded */
	char *why;             /* state < 0, when known: "not a 64-bit ELF file", or how it
				* differs ("build-id X, the core has Y") */
	const uint8_t *map;
	size_t size;
	uint64_t dev, ino;     /* state 1: the file's identity */
	bool shared;           /* map belongs to an earlier file of the same identity */
	size_t base;           /* 1 + index into maps of its mapping at file offset 0, or 0 */
	uint64_t max_offset;   /* the largest file offset one of its mappings starts at */
} ins_file;

typedef struct ins_mapping {
	uint64_t start, end, offset;
	size_t file;           /* index into files */
} ins_mapping;

enum ins_image_kind { INS_IMAGE_CORE, INS_IMAGE_LIVE, INS_IMAGE_READER };

#define INS_SEG_CACHE 512 /* entries of ins_image.seg_cache */
#define INS_SEG_BITS 20   /* bits of a segment index in an entry (more segments: not cached) */

typedef struct ins_image {
	enum ins_image_kind kind;
	int pid;
	char *description;     /* "core /path" or "live process 1234" */
	char *sysroot;         /* --sysroot, or NULL */
	char *debug_dir;       /* --debug-dir (':'-separated), or NULL: /usr/lib/debug */
	ins_file_path *paths;  /* files read from a path of their own (owned strings) */
	size_t npaths;
	ins_segment *segs;     /* sorted by start, disjoint */
	size_t nsegs;
	ins_mapping *maps;     /* sorted by start */
	size_t nmaps;
	ins_file *files;
	size_t nfiles;
	size_t segs_cap, maps_cap, files_cap;  /* the arrays grow geometrically */
	uint32_t *file_index;  /* open-addressing hash of files' names: 1 + index into files */
	size_t file_index_cap;
	uint64_t hash_seed;    /* random: names in a hostile core cannot be made to collide */
	ins_map inodes;        /* hash of (dev, ino) -> 1 + index of the file that mapped it */
	long exe_file;         /* index into files of the main executable, or -1 */
	uint8_t *core_map;     /* the mmapped core (core images) */
	size_t core_size;
	uint8_t **owned;       /* copied memory (live images) */
	size_t nowned, owned_cap;
	/* the segment that last served a read in each MiB of addresses, direct-mapped by it:
	 * ((mib + 1) << INS_SEG_BITS) | segment index, 0 when none yet (any thread's: relaxed,
	 * each read checks the segment holds its bytes) */
	_Atomic uint64_t seg_cache[INS_SEG_CACHE];
	pthread_mutex_t files_lock;  /* loading a file (threads may read the image at once) */
	uint64_t *thread_sp;   /* each thread's stack pointer, nthreads of them: a core's
				* NT_PRSTATUS notes, a live process's /proc/PID/task/TID/syscall
				* while it is stopped */
	size_t nthreads, threads_cap;
	bool threads_known;    /* false: the image cannot tell (no NT_PRSTATUS, a thread that
				* was running, a host's reader) */
} ins_image;

ins_error *ins_image_open(const ins_source *src, ins_buf *warn, ins_image **out);
void ins_image_close(ins_image *img);

/* Copies len bytes at addr; false when any of them is unavailable. */
bool ins_image_read(ins_image *img, uint64_t addr, void *buf, size_t len);
/* A direct pointer to len bytes at addr when one segment or file holds them all. */
const uint8_t *ins_image_ptr(ins_image *img, uint64_t addr, size_t len);
bool ins_image_u64(ins_image *img, uint64_t addr, uint64_t *v);

/* The segment that last served a read in addr's MiB (it may not hold addr), or NULL. */
static inline const ins_segment *ins_image_seg_cached(const ins_image *img, uint64_t addr)
{
	uint64_t mib = addr >> 20, e = atomic_load_explicit(&img->seg_cache[mib % INS_SEG_CACHE], memory_order_relaxed);
	size_t i = (size_t)(e & ((1u << INS_SEG_BITS) - 1));
	return e >> INS_SEG_BITS == mib + 1 && i < img->nsegs ? &img->segs[i] : NULL;
}

/* The len bytes at addr when the segment cached for its MiB holds them all, else NULL. */
static inline const uint8_t *ins_image_cached(const ins_image *img, uint64_t addr, size_t len)
{
	const ins_segment *s = ins_image_seg_cached(img, addr);
	if (s && addr >= s->start && len <= s->end - s->start && addr - s->start <= s->end - s->start - len)
		return s->data + (addr - s->start);
	return NULL;
}

/* ins_image_ptr with the common case inline: the segment that served the last read nearby. */
static inline const uint8_t *ins_image_fast(ins_image *img, uint64_t addr, size_t len)
{
	const uint8_t *p = ins_image_cached(img, addr, len);
	return p ? p : ins_image_ptr(img, addr, len);
}
/* The 8-byte word at base + off: a pointer field of a struct. 0 when off < 0 (a field the
 * version lacks), base is 0, or the word cannot be read. */
static inline uint64_t ins_image_word(ins_image *img, uint64_t base, int64_t off)
{
	uint64_t w = 0;
	if (off < 0 || !base)
		return 0;
	const uint8_t *p = ins_image_fast(img, base + (uint64_t)off, 8);
	if (p)
		memcpy(&w, p, 8);
	else if (!ins_image_u64(img, base + (uint64_t)off, &w))
		return 0;
	return w;
}
bool ins_image_i64(ins_image *img, uint64_t addr, int64_t *v);
bool ins_image_i32(ins_image *img, uint64_t addr, int32_t *v);
/* The len bytes at addr when they are in one segment (dumped memory), else NULL; *seg is
 * the caller's hint (a segment index, updated; SIZE_MAX: none), the image is not touched
 * (only its segment cache): safe to call from several threads at once. */
const uint8_t *ins_image_seg_bytes(const ins_image *img, uint64_t addr, size_t len, size_t *seg);
/* Asks the CPU for the cache line at addr ahead of a read (a hint: nothing happens when addr
 * is in no segment). For loops over many objects, each a likely cache miss: they fetch the
 * object INS_PREFETCH_AHEAD places ahead. */
#define INS_PREFETCH_AHEAD 16
static inline void ins_image_prefetch(const ins_image *img, uint64_t addr)
{
	size_t seg = SIZE_MAX;
	const uint8_t *p = ins_image_cached(img, addr, 1);
	if (!p)
		p = ins_image_seg_bytes(img, addr, 1, &seg);
	if (p)
		__builtin_prefetch(p);
}
/* True when the bytes are in a segment (dumped memory), not only in a file on disk. */
bool ins_image_in_segments(ins_image *img, uint64_t addr, size_t len);
/* Reads a NUL-terminated string of at most max bytes into a new malloc'd string. */
char *ins_image_cstr(ins_image *img, uint64_t addr, size_t max);
/* Maps a file of the image on first use; false if it cannot be read. Only regular files
 * are opened (never a FIFO or a device: no open blocks), and only an ELF file that is the
 * one the image recorded is used: where the image holds its header page, the same
 * build-id (or, without one, the same ELF and program headers); every mapping's offset
 * within its size. Anything else (state -2; why says how) is never read: a hostile
 * core cannot make us read or print other local files. */
bool ins_image_file_load(ins_image *img, size_t file);
/* The mapping of file at file offset 0 (its ELF header), or NULL. */
const ins_mapping *ins_image_file_base(const ins_image *img, size_t file);

/* Builders used by core.c and live.c. */
ins_error *ins_image_add_segment(ins_image *img, uint64_t start, uint64_t end, const uint8_t *data);
ins_error *ins_image_add_mapping(ins_image *img, uint64_t start, uint64_t end, uint64_t offset,
				 const char *name, const char *sysroot);
void ins_image_finish(ins_image *img);  /* sorts segments and mappings, finds files' bases */
ins_error *ins_image_add_thread(ins_image *img, uint64_t sp);  /* a thread's stack pointer */
/* Reads up to len bytes at addr into buf; returns how many it read from addr on (0: the
 * byte at addr is unreadable). */
typedef size_t (*ins_copy_fn)(void *arg, uint64_t addr, void *buf, size_t len);
/* Copies the readable runs of [start, end) as segments the image owns. Unreadable pages
 * (vsyscall, guard pages) are left out wherever they are: glibc 2.42+ installs a thread
 * stack's guard pages inside its mapping (MADV_GUARD_INSTALL), and reading those fails. */
ins_error *ins_image_copy(ins_image *img, ins_copy_fn fn, void *arg, uint64_t start, uint64_t end);

ins_error *ins_core_open(ins_image *img, const ins_source *src, ins_buf *warn);
ins_error *ins_live_open(ins_image *img, const ins_source *src, ins_buf *warn);
ins_error *ins_reader_open(ins_image *img, const ins_source *src, ins_buf *warn);

#endif
