/* gindex.c -- the saved index of a core: writing it, mapping it, checking it (gindex.h). */
#define _GNU_SOURCE
#include "gindex.h"

#include "checked.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The format: a header, then the sections, each at a multiple of ALIGN. Native byte order
 * (x86-64 only, as the rest). Change GI_VERSION with any change of what is stored or how. */
#define GI_MAGIC "OBJIDX\r\n"
#define GI_VERSION 2u
#define ALIGN 64u
#define MAX_NODES 0x7ffffff0u /* graph.c's bounds */
#define MAX_EDGES 0xfffffff0u
#define MAX_WARN (1u << 20)   /* bytes of warnings per step */
#define SAMPLES 509           /* address index lookups checked when it is mapped */

enum {
	S_HEAP_OBJS, /* empty when the heap is the graph's first nheap addresses (no duplicates) */
	S_HEAP_TYPE_OF,
	S_HEAP_TYPES,
	S_ADDR,
	S_OUT_START,
	S_OUT,
	S_OUT_FLAGS,
	S_IN_START,
	S_IN,
	S_HIDDEN_IN,
	S_HIDDEN_LIST, /* (node, count) pairs: as many as its size says */
	S_INFERRED,
	S_SLOTS,
	S_WILD,
	S_DOM_IDOM,
	S_DOM_ROOT,
	S_DOM_COUNT,
	S_DOM_BYTES,
	S_DOM_ORDER,
	S_WARN_HEAP,
	S_WARN_GRAPH,
	S_WARN_DOM,
	S_N
};

typedef struct gi_section {
	uint64_t off, size, hash;
} gi_section;

typedef struct gi_key {
	uint64_t core_size;
	int64_t core_mtime, core_mtime_ns;
	uint64_t core_pages; /* ELF header, program headers, notes */
	uint64_t files;      /* every mapped file: name, path, size, mtime; exe; sysroot; debug dir */
	uint64_t options;    /* OBJINSPECT_EMULATION */
	uint64_t lib;        /* the libinspect binary: path, size, mtime */
} gi_key;

#define INS_GI_UNHASHED 1u /* flags: the header and sections carry no hashes (the fuzzer) */

typedef struct gi_header {
	char magic[8];
	uint32_t version, header_size;
	uint64_t file_size;
	uint32_t flags, reserved;
	uint64_t header_hash; /* of the header with this field 0 */
	gi_key key;
	/* the heap */
	uint64_t heap_n, heap_ntypes, heap_ntracked, heap_nfrozen;
	int64_t heap_ngens;
	uint64_t heap_gen_start[INS_MAX_GENS + 2];
	/* the graph */
	uint64_t n, ntracked, nheap, nedges, nemulated, ninferred, nwild;
	uint64_t index_cap, index_n, index_nwild;
	double emu_seconds;
	uint64_t emu[3]; /* emulated, failed, wrote */
	/* the dominators */
	uint64_t has_dom, dom_nroots, dom_total_bytes;
	gi_section sec[S_N];
} gi_header;

/* tests/fuzz/recipe.py (IDX_*) damages the header at these offsets */
_Static_assert(sizeof(gi_header) == 848 && offsetof(gi_header, flags) == 24 && offsetof(gi_header, sec) == 320 &&
		       S_N == 22,
	       "change tests/fuzz/recipe.py's IDX_* and mutate.py's IDX_FIELDS with the header");

struct ins_gindex {
	const uint8_t *map;
	size_t size;
	const gi_header *h;
	bool hashed;
	int8_t checked[S_N]; /* 0: not yet, 1: its hash is right, -1: wrong */
	int8_t heap_ok, graph_ok, dom_ok; /* 0: not checked yet, 1 good, -1 bad */
};

/* ---------------------------------------------------------------- hashing */

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

#define P1 0x9e3779b185ebca87ULL
#define P2 0xc2b2ae3d27d4eb4fULL

/* Four independent lanes of xor, multiply by an odd constant, rotate: each a bijection of
 * the word, so that any change of one word changes the result; fast enough to check a file
 * of hundreds of MB in tens of milliseconds. Fed a block at a time (hs_*) so that a section
 * can be checked while each block is in the cache (see scan). */
typedef struct hstate {
	uint64_t h[4];
} hstate;

static void hs_init(hstate *st, uint64_t seed)
{
	*st = (hstate){ { seed ^ P1, seed ^ P2, seed + P1, seed - P2 } };
}

/* n: a multiple of 32 */
static void hs_blocks(hstate *st, const uint8_t *b, size_t n)
{
	uint64_t h[4] = { st->h[0], st->h[1], st->h[2], st->h[3] };
	for (size_t i = 0; i + 32 <= n; i += 32)
		for (int k = 0; k < 4; k++) {
			uint64_t w;
			memcpy(&w, b + i + 8 * k, 8);
			h[k] = rotl((h[k] ^ w) * P1, 31);
		}
	memcpy(st->h, h, sizeof(h));
}

/* the last ntail (< 32) bytes of n in all */
static uint64_t hs_final(hstate *st, const uint8_t *tail_bytes, size_t ntail, size_t n)
{
	uint64_t tail[4] = { 0 }, *h = st->h;
	memcpy(tail, tail_bytes, ntail);
	for (int k = 0; k < 4; k++)
		h[k] = rotl((h[k] ^ tail[k]) * P1, 31);
	return fmix(h[0] ^ rotl(h[1], 17) ^ rotl(h[2], 29) ^ rotl(h[3], 43) ^ (uint64_t)n * P2);
}

static uint64_t hash_bytes(uint64_t seed, const void *p, size_t n)
{
	hstate st;
	size_t whole = n & ~(size_t)31;
	hs_init(&st, seed);
	hs_blocks(&st, p, whole);
	return hs_final(&st, (const uint8_t *)p + whole, n - whole, n);
}

static uint64_t hash_u64(uint64_t h, uint64_t v)
{
	return hash_bytes(h, &v, sizeof(v));
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	return s ? hash_bytes(h ^ 1, s, strlen(s)) : hash_u64(h, 0x5a5a5a5a);
}

/* ---------------------------------------------------------------- the key */

static uint64_t hash_stat(uint64_t h, const char *path)
{
	struct stat st;
	if (!path || stat(path, &st) != 0)
		return hash_u64(h, UINT64_MAX);
	h = hash_u64(h, (uint64_t)st.st_size);
	h = hash_u64(h, (uint64_t)st.st_mtim.tv_sec);
	h = hash_u64(h, (uint64_t)st.st_mtim.tv_nsec);
	return hash_u64(h, (uint64_t)st.st_ino);
}

/* The ELF header, the program headers and every PT_NOTE's contents of the mapped core. */
static uint64_t hash_core_pages(const ins_image *img)
{
	const uint8_t *m = img->core_map;
	size_t size = img->core_size;
	Elf64_Ehdr eh;
	if (!m || size < sizeof(eh))
		return hash_bytes(7, m ? m : (const uint8_t *)"", m ? size : 0);
	memcpy(&eh, m, sizeof(eh));
	uint64_t h = hash_bytes(7, m, sizeof(eh)), end;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || !ins_span(eh.e_phoff, eh.e_phnum, sizeof(Elf64_Phdr), &end) ||
	    end > size)
		return h;
	h = hash_bytes(h, m + eh.e_phoff, end - eh.e_phoff);
	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, m + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE || ph.p_offset >= size)
			continue;
		uint64_t len = ph.p_filesz < size - ph.p_offset ? ph.p_filesz : size - ph.p_offset;
		h = hash_bytes(h, m + ph.p_offset, (size_t)len);
	}
	return h;
}

static ins_error *make_key(ins_session *s, const char *core, gi_key *k)
{
	memset(k, 0, sizeof(*k));
	struct stat st;
	if (!core || stat(core, &st) != 0)
		return ins_err(INS_ERR_OS, "cannot stat the core %s: %s", core ? core : "(none)", strerror(errno));
	k->core_size = (uint64_t)st.st_size;
	k->core_mtime = (int64_t)st.st_mtim.tv_sec;
	k->core_mtime_ns = (int64_t)st.st_mtim.tv_nsec;
	const ins_image *img = s->img;
	k->core_pages = hash_core_pages(img);
	uint64_t h = hash_u64(11, img->nfiles);
	for (size_t i = 0; i < img->nfiles; i++) {
		h = hash_str(h, img->files[i].name);
		h = hash_str(h, img->files[i].path);
		h = hash_stat(h, img->files[i].path);
	}
	h = hash_u64(h, (uint64_t)img->exe_file);
	h = hash_str(h, img->sysroot);
	k->files = hash_str(h, img->debug_dir);
	const char *emu = getenv("OBJINSPECT_EMULATION");
	k->options = hash_u64(hash_u64(13, GI_VERSION), !emu || strcmp(emu, "0") != 0);
	Dl_info dl;
	if (dladdr((void *)(uintptr_t)make_key, &dl) && dl.dli_fname)
		k->lib = hash_stat(hash_str(17, dl.dli_fname), dl.dli_fname);
	return NULL;
}

static const char *key_differs(const gi_key *a, const gi_key *b)
{
	if (a->core_size != b->core_size || a->core_mtime != b->core_mtime || a->core_mtime_ns != b->core_mtime_ns ||
	    a->core_pages != b->core_pages)
		return "core changed";
	if (a->files != b->files)
		return "the executable or a library changed";
	if (a->options != b->options)
		return "made with other options";
	if (a->lib != b->lib)
		return "made by another build of libinspect";
	return NULL;
}

char *ins_gindex_default_path(const char *core)
{
	char *p;
	return asprintf(&p, "%s%s", core, INS_GI_SUFFIX) < 0 ? NULL : p;
}

/* ---------------------------------------------------------------- writing */

typedef struct part {
	const void *p;
	uint64_t size;
} part;

static ins_error *write_all(int fd, const void *p, size_t n, const char *path)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n > (1u << 30) ? (1u << 30) : n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ins_err(INS_ERR_OS, "cannot write the index %s: %s", path, w < 0 ? strerror(errno) : "short write");
		b += w;
		n -= (size_t)w;
	}
	return NULL;
}

ins_error *ins_gindex_write(ins_session *s, const char *core, const char *path, const ins_dominators *d,
			    const ins_buf *warnings[INS_GI_NSTEPS], const uint64_t emu[3], ins_gindex_info *info)
{
	const ins_heap *hp = &s->heap;
	const ins_graph *g = s->graph;
	if (!s->walked || !g)
		return ins_err(INS_ERR_FAIL, "no graph to write");
	gi_header *H = calloc(1, sizeof(*H));
	if (!H)
		return ins_err_nomem();
	memcpy(H->magic, GI_MAGIC, 8);
	H->version = GI_VERSION;
	H->header_size = sizeof(*H);
	ins_error *err = make_key(s, core, &H->key);
	if (err) {
		free(H);
		return err;
	}
	H->heap_n = hp->n;
	H->heap_ntypes = hp->ntypes;
	H->heap_ntracked = hp->ntracked;
	H->heap_nfrozen = hp->nfrozen;
	H->heap_ngens = hp->ngens;
	memcpy(H->heap_gen_start, hp->gen_start, sizeof(H->heap_gen_start));
	H->n = g->n;
	H->ntracked = g->ntracked;
	H->nheap = g->nheap;
	H->nedges = g->nedges;
	H->nemulated = g->nemulated;
	H->ninferred = g->ninferred;
	H->nwild = g->nwild;
	H->index_cap = g->index.cap;
	H->index_n = g->index.n;
	H->index_nwild = g->index.nwild;
	H->emu_seconds = g->emu_seconds;
	memcpy(H->emu, emu, sizeof(H->emu));
	bool shared = hp->n == g->nheap && (!hp->n || memcmp(hp->objs, g->addr, hp->n * sizeof(*hp->objs)) == 0);
	part parts[S_N] = { 0 };
	parts[S_HEAP_OBJS] = (part){ hp->objs, shared ? 0 : hp->n * sizeof(*hp->objs) };
	parts[S_HEAP_TYPE_OF] = (part){ hp->type_of, hp->n * sizeof(*hp->type_of) };
	parts[S_HEAP_TYPES] = (part){ hp->types, hp->ntypes * sizeof(*hp->types) };
	parts[S_ADDR] = (part){ g->addr, g->n * sizeof(*g->addr) };
	parts[S_OUT_START] = (part){ g->out_start, (g->n + 1) * sizeof(*g->out_start) };
	parts[S_OUT] = (part){ g->out, g->nedges * sizeof(*g->out) };
	parts[S_OUT_FLAGS] = (part){ g->out_flags, g->out_flags ? (g->nedges + 3) / 4 : 0 };
	parts[S_IN_START] = (part){ g->in_start, (g->n + 1) * sizeof(*g->in_start) };
	parts[S_IN] = (part){ g->in, g->nedges * sizeof(*g->in) };
	parts[S_HIDDEN_IN] = (part){ g->hidden_in, g->hidden_in ? g->n * sizeof(*g->hidden_in) : 0 };
	parts[S_HIDDEN_LIST] = (part){ g->hidden_list, g->nhidden_list * 2 * sizeof(*g->hidden_list) };
	parts[S_INFERRED] = (part){ g->inferred, g->ninferred * sizeof(*g->inferred) };
	parts[S_SLOTS] = (part){ g->index.slots, g->index.cap * sizeof(*g->index.slots) };
	parts[S_WILD] = (part){ g->index.wild, g->index.nwild * sizeof(*g->index.wild) };
	if (d && d->n == g->n) {
		H->has_dom = 1;
		H->dom_nroots = d->nroots;
		H->dom_total_bytes = d->total_bytes;
		parts[S_DOM_IDOM] = (part){ d->idom, d->n * sizeof(*d->idom) };
		parts[S_DOM_ROOT] = (part){ d->root, d->n * sizeof(*d->root) };
		parts[S_DOM_COUNT] = (part){ d->count, d->n * sizeof(*d->count) };
		parts[S_DOM_BYTES] = (part){ d->bytes, d->n * sizeof(*d->bytes) };
		parts[S_DOM_ORDER] = (part){ d->order, d->n * sizeof(*d->order) };
	}
	for (int i = 0; i < INS_GI_NSTEPS; i++)
		if (warnings && warnings[i] && warnings[i]->data && warnings[i]->len <= MAX_WARN)
			parts[S_WARN_HEAP + i] = (part){ warnings[i]->data, warnings[i]->len };
	uint64_t off = (sizeof(*H) + ALIGN - 1) / ALIGN * ALIGN;
	for (int i = 0; i < S_N; i++) {
		H->sec[i].off = off;
		H->sec[i].size = parts[i].size;
		H->sec[i].hash = hash_bytes((uint64_t)i, parts[i].size ? parts[i].p : "", parts[i].size);
		off += (parts[i].size + ALIGN - 1) / ALIGN * ALIGN;
	}
	H->file_size = off;
	H->header_hash = hash_bytes(3, H, sizeof(*H));

	struct stat cst, ist;
	if (stat(core, &cst) == 0 && stat(path, &ist) == 0 && cst.st_dev == ist.st_dev && cst.st_ino == ist.st_ino) {
		free(H);
		return ins_err(INS_ERR_USAGE, "the index %s would replace the core itself", path);
	}
	char *tmp;
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		free(H);
		return ins_err_nomem();
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			err = ins_err(INS_ERR_OS, "cannot write the index %s: its directory is not writable (%s); "
						  "objinspect's --index-file PATH puts it elsewhere", path, strerror(errno));
		else
			err = ins_err(INS_ERR_OS, "cannot write the index %s: %s", path, strerror(errno));
		free(tmp);
		free(H);
		return err;
	}
	static const uint8_t zeros[ALIGN];
	err = write_all(fd, H, sizeof(*H), path);
	uint64_t at = sizeof(*H);
	for (int i = 0; !err && i < S_N; i++) {
		if (H->sec[i].off > at)
			err = write_all(fd, zeros, H->sec[i].off - at, path);
		if (!err && parts[i].size)
			err = write_all(fd, parts[i].p, parts[i].size, path);
		at = H->sec[i].off + parts[i].size;
	}
	if (!err && off > at)
		err = write_all(fd, zeros, off - at, path);
	if (close(fd) != 0 && !err)
		err = ins_err(INS_ERR_OS, "cannot write the index %s: %s", path, strerror(errno));
	if (!err && rename(tmp, path) != 0)
		err = ins_err(INS_ERR_OS, "cannot write the index %s: %s", path, strerror(errno));
	if (err)
		unlink(tmp);
	else if (info)
		*info = (ins_gindex_info){ off, g->n, g->nedges, g->ntracked, H->has_dom != 0 };
	free(tmp);
	free(H);
	return err;
}

/* ---------------------------------------------------------------- opening */

void ins_gindex_close(ins_gindex *gi)
{
	if (!gi)
		return;
	if (gi->map)
		munmap((void *)gi->map, gi->size);
	free(gi);
}

/* Section i holds exactly count elements of size elem, inside the file. */
static bool sec_shape(const gi_header *H, size_t file_size, int i, uint64_t count, uint64_t elem)
{
	uint64_t want, end;
	const gi_section *s = &H->sec[i];
	return ins_span(0, (int64_t)(count > INT64_MAX ? -1 : (int64_t)count), (int64_t)elem, &want) &&
	       s->size == want && s->off % ALIGN == 0 && s->off >= sizeof(gi_header) &&
	       !__builtin_add_overflow(s->off, s->size, &end) && end <= file_size;
}

static const char *check_shape(const gi_header *H, size_t size)
{
	if (H->heap_ngens < 1 || H->heap_ngens > INS_MAX_GENS || H->heap_n > MAX_NODES ||
	    H->heap_ntypes > H->heap_n + 1 || H->n > MAX_NODES || H->nedges > MAX_EDGES || H->nheap > H->n ||
	    H->ntracked > H->nheap || H->ninferred > H->n || H->nemulated > H->n || H->index_nwild >= 0x7fffffffu ||
	    H->index_nwild > H->nwild || H->index_n != H->n + H->index_nwild || H->index_cap > (1ull << 32) ||
	    H->index_cap < 1 || H->index_n >= H->index_cap ||
	    (H->has_dom != 0 && H->has_dom != 1) || H->dom_nroots > H->n)
		return "counts out of range";
	bool shared = H->sec[S_HEAP_OBJS].size == 0 && H->heap_n;
	if ((shared && H->heap_n != H->nheap) || (!shared && !sec_shape(H, size, S_HEAP_OBJS, H->heap_n, 8)) ||
	    !sec_shape(H, size, S_HEAP_TYPE_OF, H->heap_n, 4) || !sec_shape(H, size, S_HEAP_TYPES, H->heap_ntypes, 8) ||
	    !sec_shape(H, size, S_ADDR, H->n, 8) || !sec_shape(H, size, S_OUT_START, H->n + 1, 4) ||
	    !sec_shape(H, size, S_OUT, H->nedges, 4) || !sec_shape(H, size, S_OUT_FLAGS, H->sec[S_OUT_FLAGS].size ? (H->nedges + 3) / 4 : 0, 1) ||
	    !sec_shape(H, size, S_IN_START, H->n + 1, 4) || !sec_shape(H, size, S_IN, H->nedges, 4) ||
	    !sec_shape(H, size, S_HIDDEN_IN, H->sec[S_HIDDEN_IN].size ? H->n : 0, 1) ||
	    H->sec[S_HIDDEN_LIST].size / 8 > H->n || !sec_shape(H, size, S_HIDDEN_LIST, H->sec[S_HIDDEN_LIST].size / 8, 8) ||
	    !sec_shape(H, size, S_INFERRED, H->ninferred, 4) ||
	    !sec_shape(H, size, S_SLOTS, H->index_cap, 4) || !sec_shape(H, size, S_WILD, H->index_nwild, 8))
		return "a section does not fit";
	uint64_t nd = H->has_dom ? H->n : 0;
	if (!sec_shape(H, size, S_DOM_IDOM, nd, 4) || !sec_shape(H, size, S_DOM_ROOT, nd, 1) ||
	    !sec_shape(H, size, S_DOM_COUNT, nd, 4) || !sec_shape(H, size, S_DOM_BYTES, nd, 8) ||
	    !sec_shape(H, size, S_DOM_ORDER, nd, 4))
		return "a section does not fit";
	for (int i = S_WARN_HEAP; i <= S_WARN_DOM; i++)
		if (H->sec[i].size > MAX_WARN || !sec_shape(H, size, i, H->sec[i].size, 1))
			return "a section does not fit";
	return NULL;
}

enum ins_gi_status ins_gindex_open(ins_session *s, const char *core, const char *path, ins_gindex **out,
				   const char **why)
{
	*out = NULL;
	*why = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return INS_GI_ABSENT;
		*why = "cannot open it";
		return INS_GI_CORRUPT;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*why = "not a regular file";
		return INS_GI_CORRUPT;
	}
	if ((uint64_t)st.st_size < sizeof(gi_header)) {
		close(fd);
		*why = "truncated";
		return INS_GI_CORRUPT;
	}
	size_t size = (size_t)st.st_size;
	const uint8_t *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		*why = "cannot map it";
		return INS_GI_CORRUPT;
	}
	ins_gindex *gi = calloc(1, sizeof(*gi));
	if (!gi) {
		munmap((void *)map, size);
		*why = "out of memory";
		return INS_GI_CORRUPT;
	}
	gi->map = map;
	gi->size = size;
	gi->h = (const gi_header *)map;
	const gi_header *H = gi->h;
	enum ins_gi_status st_ = INS_GI_CORRUPT;
	gi_header copy;
	memcpy(&copy, H, sizeof(copy));
	copy.header_hash = 0;
	gi->hashed = !(H->flags & INS_GI_UNHASHED);
	if (memcmp(H->magic, GI_MAGIC, 8) != 0) {
		*why = "not an objinspect index";
	} else if (H->version != GI_VERSION || H->header_size != sizeof(gi_header)) {
		*why = "made by another version of objinspect";
		st_ = INS_GI_STALE;
	} else if (H->file_size != size) {
		*why = H->file_size > size ? "truncated" : "trailing bytes";
	} else if (H->flags & ~INS_GI_UNHASHED) {
		*why = "unknown flags";
	} else if (gi->hashed && hash_bytes(3, &copy, sizeof(copy)) != H->header_hash) {
		*why = "header damaged";
	} else if ((*why = check_shape(H, size))) {
		/* corrupt */
	} else {
		gi_key k;
		ins_error *err = make_key(s, core, &k);
		if (err) {
			*why = "cannot read the core's identity";
			ins_error_free(err);
		} else if ((*why = key_differs(&H->key, &k))) {
			st_ = INS_GI_STALE;
		} else if (H->heap_ngens != s->in->ngens) {
			*why = "made for another interpreter";
		} else {
			*out = gi;
			return INS_GI_OK;
		}
	}
	ins_gindex_close(gi);
	return st_;
}

/* ---------------------------------------------------------------- the sections */

static const void *sec(const ins_gindex *gi, int i)
{
	return gi->map + gi->h->sec[i].off;
}

/* ---- checking sections: hashed and checked a block at a time, each block checked while it
 * is in the cache from hashing it (one pass over memory, not two); two threads take the
 * sections one at a time, the largest first. */

enum chk {
	CHK_NONE,
	CHK_CSR,   /* offsets of a CSR array: from 0, never decreasing, ending at limit */
	CHK_BELOW, /* every value below limit */
	CHK_FLAGS, /* edge flags (two bits an edge): none both inferred and borrowed, which no traversal gives */
	CHK_SLOTS, /* the address index: entries in range (limit nodes, nwild wild ones), used counted */
	CHK_IN     /* referrers: below limit, each node's in source order (runs of start) */
};

typedef struct scan {
	int sec;
	enum chk chk;
	uint64_t limit, nwild, want; /* CHK_SLOTS: want entries used; CHK_IN: counted (descents
				      * at a node's first referrer) */
	const uint32_t *start; /* CHK_IN: in_start, checked before (CHK_CSR) */
	/* what it found */
	uint32_t last, bad;    /* last: the previous block's last value */
	uint8_t flags;
	uint64_t used;         /* CHK_SLOTS: entries used; CHK_IN: descents */
	uint64_t node;         /* CHK_IN: the next node whose first referrer is to be seen */
} scan;

#define SCAN_BLOCK ((size_t)64 << 10)
#define LANES 16 /* the checks' inner loops go LANES values at a time (they vectorize) */

/* Nonzero when some v[i] (i < k) is lim or more. */
static uint32_t not_below(const uint32_t *v, size_t k, uint32_t lim)
{
	uint32_t bad = 0;
	size_t i = 0;
	for (; i + LANES <= k; i += LANES)
		for (int j = 0; j < LANES; j++)
			bad |= v[i + j] >= lim;
	for (; i < k; i++)
		bad |= v[i] >= lim;
	return bad;
}

/* How many times v[i] > v[i + 1] (i + 1 < k). */
static uint64_t descents(const uint32_t *v, size_t k)
{
	uint64_t d = 0;
	size_t i = 0;
	for (; i + LANES < k; i += LANES) {
		uint32_t dd = 0;
		for (int j = 0; j < LANES; j++)
			dd += v[i + j] > v[i + j + 1];
		d += dd;
	}
	for (; i + 1 < k; i++)
		d += v[i] > v[i + 1];
	return d;
}

/* elements [first, first + k) of the section, at p (k > 0) */
static void check_block(scan *c, const uint8_t *p, size_t first, size_t k)
{
	const uint32_t *v = (const uint32_t *)(const void *)p;
	uint64_t d = first && c->chk != CHK_FLAGS ? c->last > v[0] : 0;  /* across the blocks */
	switch (c->chk) {
	case CHK_NONE:
		return;
	case CHK_CSR:
		c->bad |= (first ? 0 : v[0] != 0) | (d + descents(v, k) != 0);
		break;
	case CHK_BELOW:
		c->bad |= not_below(v, k, (uint32_t)c->limit);
		break;
	case CHK_FLAGS: {
		uint8_t f = c->flags;
		size_t i = 0;
		for (; i + 4 * LANES <= k; i += 4 * LANES)
			for (int j = 0; j < 4 * LANES; j++)
				f |= p[i + j] & (p[i + j] >> 1) & 0x55;
		for (; i < k; i++)
			f |= p[i] & (p[i] >> 1) & 0x55;
		c->flags = f;
		return;
	}
	case CHK_SLOTS: {
		/* a node + 1 up to limit, or INS_NT_WILD | an index below nwild */
		uint32_t bad = 0, used = 0, node_max = (uint32_t)c->limit + 1, wild_max = (uint32_t)c->nwild;
		size_t i = 0;
		for (; i + LANES <= k; i += LANES)
			for (int j = 0; j < LANES; j++) {
				uint32_t x = v[i + j];
				used += x != 0;
				bad |= (x & ~INS_NT_WILD) >= ((x & INS_NT_WILD) ? wild_max : node_max);
			}
		for (; i < k; i++) {
			used += v[i] != 0;
			bad |= (v[i] & ~INS_NT_WILD) >= ((v[i] & INS_NT_WILD) ? wild_max : node_max);
		}
		c->used += used;
		c->bad |= bad;
		break;
	}
	case CHK_IN: {
		/* values below limit, and no descent but where a node's referrers begin: all the
		 * descents counted, less those at the first referrer of a node */
		c->bad |= not_below(v, k, (uint32_t)c->limit);
		c->used += d + descents(v, k);
		size_t end = first + k, t = c->node;
		uint64_t want = 0;
		uint32_t at = (uint32_t)first;  /* start[t] read once a node, clamped into the block */
		for (; t < c->limit && (at = c->start[t]) < end; t++) {
			size_t x = at >= first ? at - first : 0;
			uint32_t prev = x ? v[x - 1] : c->last;
			want += (at > 0) & (at >= first) & (at < c->start[t + 1]) & (prev > v[x]);
		}
		c->node = t;
		c->want += want;
		break;
	}
	}
	c->last = v[k - 1];
}

static size_t elem_size(enum chk chk)
{
	return chk == CHK_FLAGS ? 1 : 4;
}

/* Hashes section c->sec (unless done before) and checks it a block at a time. */
static void scan_section(ins_gindex *gi, scan *c)
{
	const gi_section *S = &gi->h->sec[c->sec];
	const uint8_t *p = sec(gi, c->sec);
	size_t n = (size_t)S->size, es = elem_size(c->chk);
	bool hash = gi->hashed && !gi->checked[c->sec];
	if (!hash && c->chk == CHK_NONE)
		return;
	hstate st;
	hs_init(&st, (uint64_t)c->sec);
	for (size_t off = 0; off < n; off += SCAN_BLOCK) {
		size_t len = n - off < SCAN_BLOCK ? n - off : SCAN_BLOCK;
		if (hash)
			hs_blocks(&st, p + off, len & ~(size_t)31);
		if (c->chk != CHK_NONE)
			check_block(c, p + off, off / es, len / es);
	}
	if (hash) {
		size_t whole = n & ~(size_t)31;
		gi->checked[c->sec] = hs_final(&st, p + whole, n - whole, n) == S->hash ? 1 : -1;
	}
}

/* The sections' checks passed: hashes right, values as their kind wants. */
static bool scans_ok(const ins_gindex *gi, const scan *c, size_t n, bool *damaged)
{
	bool ok = true;
	*damaged = false;
	for (size_t i = 0; i < n; i++) {
		*damaged |= gi->hashed && gi->checked[c[i].sec] < 0;
		uint64_t count = elem_size(c[i].chk) == 1 ? gi->h->sec[c[i].sec].size : gi->h->sec[c[i].sec].size / 4;
		switch (c[i].chk) {
		case CHK_NONE:
			break;
		case CHK_CSR:
			ok &= !c[i].bad && count > 0 && c[i].last == c[i].limit;
			break;
		case CHK_BELOW:
			ok &= !c[i].bad;
			break;
		case CHK_IN:
			ok &= !c[i].bad && c[i].used == c[i].want;
			break;
		case CHK_FLAGS:
			ok &= !c[i].flags;
			break;
		case CHK_SLOTS:
			ok &= !c[i].bad && c[i].used == c[i].want;
			break;
		}
	}
	return ok && !*damaged;
}

/* Scans taken one at a time by each thread, the largest first (they are in that order). */
typedef struct scan_queue {
	ins_gindex *gi;
	scan *c;
	size_t n;
	_Atomic size_t next;
} scan_queue;

static void *scan_run(void *arg)
{
	scan_queue *q = arg;
	for (size_t i; (i = atomic_fetch_add_explicit(&q->next, 1, memory_order_relaxed)) < q->n;)
		scan_section(q->gi, &q->c[i]);
	return NULL;
}

static int cmp_scan_size(const void *x, const void *y, void *arg)
{
	const gi_header *H = arg;
	uint64_t a = H->sec[((const scan *)x)->sec].size, b = H->sec[((const scan *)y)->sec].size;
	return a < b ? 1 : a > b ? -1 : 0;
}

/* Runs the scans, by two threads when the work is big enough; true when all passed. */
static bool scan_all(ins_gindex *gi, scan *c, size_t n, size_t work, bool *damaged)
{
	qsort_r(c, n, sizeof(*c), cmp_scan_size, (void *)gi->h);
	scan_queue q = { .gi = gi, .c = c, .n = n };
	ins_run_two(scan_run, &q, ins_session_threads(work) > 1 ? &q : NULL);
	return scans_ok(gi, c, n, damaged);
}

static bool heap_check(ins_gindex *gi, const char **why)
{
	const gi_header *H = gi->h;
	bool shared = H->sec[S_HEAP_OBJS].size == 0, damaged;
	scan c[] = { { .sec = shared ? S_ADDR : S_HEAP_OBJS }, { .sec = S_HEAP_TYPES }, { .sec = S_WARN_HEAP },
		     { .sec = S_HEAP_TYPE_OF, .chk = CHK_BELOW, .limit = H->heap_ntypes } };
	bool ok = scan_all(gi, c, sizeof(c) / sizeof(*c), H->heap_n, &damaged);
	if (damaged) {
		*why = "the heap's sections are damaged";
		return false;
	}
	int ng = (int)H->heap_ngens;
	if (H->heap_gen_start[0] != 0 || H->heap_gen_start[ng + 1] != H->heap_n ||
	    H->heap_ntracked != H->heap_gen_start[ng] || H->heap_nfrozen != H->heap_n - H->heap_ntracked) {
		*why = "the generations do not add up";
		return false;
	}
	for (int g = 0; g <= ng; g++)
		if (H->heap_gen_start[g] > H->heap_gen_start[g + 1]) {
			*why = "the generations do not add up";
			return false;
		}
	if (!ok) {
		*why = "a type index is out of range";
		return false;
	}
	return true;
}

bool ins_gindex_heap(ins_gindex *gi, ins_heap *h, const char **why)
{
	*why = "the heap's sections are damaged";
	if (!gi->heap_ok)
		gi->heap_ok = heap_check(gi, why) ? 1 : -1;
	if (gi->heap_ok < 0)
		return false;
	const gi_header *H = gi->h;
	memset(h, 0, sizeof(*h));
	h->objs = (uint64_t *)sec(gi, H->sec[S_HEAP_OBJS].size ? S_HEAP_OBJS : S_ADDR);
	h->type_of = (uint32_t *)sec(gi, S_HEAP_TYPE_OF);
	h->types = (uint64_t *)sec(gi, S_HEAP_TYPES);
	h->ntypes = H->heap_ntypes;
	h->n = H->heap_n;
	h->ngens = (int)H->heap_ngens;
	for (int g = 0; g <= h->ngens + 1; g++)
		h->gen_start[g] = H->heap_gen_start[g];
	h->ntracked = H->heap_ntracked;
	h->nfrozen = H->heap_nfrozen;
	return true;
}

/* Each node's referrers are in source order, as the build leaves them (refwalk and suspects
 * skip parallel edges by looking at the previous one: CHK_IN). The reverse index is not
 * compared with the forward one edge by edge (a random access per edge, half the time of a
 * load): the hashes catch damage, and a crafted file that is consistent in its bounds can make
 * the answers wrong but not the reads. */
static bool graph_check(ins_gindex *gi, ins_graph *g, const char **why)
{
	scan c[] = { { .sec = S_ADDR },
		     { .sec = S_OUT_START, .chk = CHK_CSR, .limit = g->nedges },
		     { .sec = S_OUT, .chk = CHK_BELOW, .limit = g->n },
		     { .sec = S_OUT_FLAGS, .chk = CHK_FLAGS },
		     { .sec = S_INFERRED, .chk = CHK_BELOW, .limit = g->n },
		     { .sec = S_WILD },
		     { .sec = S_WARN_GRAPH },
		     { .sec = S_IN_START, .chk = CHK_CSR, .limit = g->nedges },
		     { .sec = S_IN, .chk = CHK_IN, .limit = g->n, .start = g->in_start },
		     { .sec = S_HIDDEN_IN },
		     { .sec = S_HIDDEN_LIST },
		     { .sec = S_SLOTS, .chk = CHK_SLOTS, .limit = g->n, .nwild = g->index.nwild, .want = g->index.n } };
	bool damaged, ok = scan_all(gi, c, sizeof(c) / sizeof(*c), g->n, &damaged);
	if (damaged) {
		*why = "the graph's sections are damaged";
		return false;
	}
	*why = "the graph does not hold together";
	if (!ok)
		return false;
	/* the nodes listed with their hidden references: in order, each once */
	for (size_t k = 0; k < g->nhidden_list; k++)
		if (g->hidden_list[2 * k] >= g->n || (k && g->hidden_list[2 * k] <= g->hidden_list[2 * k - 2]))
			return false;
	/* lookups find their nodes (the hash is the one this build uses) */
	for (size_t k = 0; k < SAMPLES && g->n; k++) {
		size_t i = k * (g->n / SAMPLES + 1) % g->n;
		uint32_t node;
		if (!ins_graph_node(g, g->addr[i], &node) || node != i)
			return false;
	}
	return true;
}

bool ins_gindex_graph(ins_gindex *gi, ins_graph *g, const char **why)
{
	const gi_header *H = gi->h;
	ins_graph v = { 0 };
	v.addr = (uint64_t *)sec(gi, S_ADDR);
	v.n = H->n;
	v.ntracked = H->ntracked;
	v.nheap = H->nheap;
	v.out_start = (uint32_t *)sec(gi, S_OUT_START);
	v.out = (uint32_t *)sec(gi, S_OUT);
	v.out_flags = H->sec[S_OUT_FLAGS].size ? (uint8_t *)sec(gi, S_OUT_FLAGS) : NULL;
	v.in_start = (uint32_t *)sec(gi, S_IN_START);
	v.in = (uint32_t *)sec(gi, S_IN);
	v.hidden_in = H->sec[S_HIDDEN_IN].size ? (uint8_t *)sec(gi, S_HIDDEN_IN) : NULL;
	v.hidden_list = (uint32_t *)sec(gi, S_HIDDEN_LIST);
	v.nhidden_list = H->sec[S_HIDDEN_LIST].size / 8;
	v.nedges = H->nedges;
	v.nemulated = H->nemulated;
	v.emu_seconds = H->emu_seconds;
	v.ninferred = H->ninferred;
	v.inferred = (uint32_t *)sec(gi, S_INFERRED);
	v.nwild = H->nwild;
	v.index.slots = (uint32_t *)sec(gi, S_SLOTS);
	v.index.cap = H->index_cap;
	v.index.n = H->index_n;
	v.index.wild = (uint64_t *)sec(gi, S_WILD);
	v.index.nwild = v.index.wild_cap = H->index_nwild;
	*why = "the graph does not hold together";
	if (!gi->graph_ok)
		gi->graph_ok = graph_check(gi, &v, why) ? 1 : -1;
	if (gi->graph_ok < 0)
		return false;
	*g = v;
	return true;
}

bool ins_gindex_has_dominators(const ins_gindex *gi)
{
	return gi->h->has_dom == 1;
}

static bool dom_check(ins_gindex *gi, const ins_dominators *d, const char **why)
{
	scan c[] = { { .sec = S_DOM_IDOM }, { .sec = S_DOM_ROOT }, { .sec = S_DOM_COUNT },
		     { .sec = S_DOM_BYTES }, { .sec = S_DOM_ORDER }, { .sec = S_WARN_DOM } };
	bool damaged;
	scan_all(gi, c, sizeof(c) / sizeof(*c), d->n, &damaged);
	if (damaged) {
		*why = "the dominator tree's sections are damaged";
		return false;
	}
	*why = "the dominator tree does not hold together";
	size_t n = d->n, nroots = 0;
	uint32_t *pos = malloc((n ? n : 1) * sizeof(*pos));
	uint32_t *cnt = malloc((n ? n : 1) * sizeof(*cnt));
	uint64_t *sub = calloc(n ? n : 1, sizeof(*sub));
	bool ok = pos && cnt && sub;
	if (ok) {
		memset(pos, 0xff, n * sizeof(*pos));
		for (size_t k = 0; ok && k < n; k++) {
			uint32_t x = d->order[k];
			ok = x < n && pos[x] == UINT32_MAX;
			if (ok)
				pos[x] = (uint32_t)k;
		}
	}
	for (size_t k = 0; ok && k < n; k++) {
		uint32_t x = d->order[k], up = d->idom[x];
		ok = d->root[x] <= INS_ROOT_UNREACHED && (up == INS_DOM_ROOT || (up < n && pos[up] < k));
		nroots += d->root[x] != INS_ROOT_NONE;
		cnt[x] = 1;
	}
	/* counts add up; bytes are at least their children's, and their own sizes add up */
	uint64_t total = 0;
	for (size_t k = n; ok && k-- > 0;) {
		uint32_t x = d->order[k], up = d->idom[x];
		ok = cnt[x] == d->count[x] && d->bytes[x] >= sub[x] &&
		     !__builtin_add_overflow(total, d->bytes[x] - sub[x], &total);
		if (ok && up != INS_DOM_ROOT) {
			cnt[up] += cnt[x];
			ok = !__builtin_add_overflow(sub[up], d->bytes[x], &sub[up]);
		}
	}
	ok = ok && nroots == d->nroots && total == d->total_bytes;
	free(pos);
	free(cnt);
	free(sub);
	return ok;
}

bool ins_gindex_dominators(ins_gindex *gi, ins_dominators *d, const char **why)
{
	const gi_header *H = gi->h;
	*why = "no dominator tree";
	if (H->has_dom != 1)
		return false;
	ins_dominators v = { 0 };
	v.n = H->n;
	v.idom = (uint32_t *)sec(gi, S_DOM_IDOM);
	v.root = (uint8_t *)sec(gi, S_DOM_ROOT);
	v.count = (uint32_t *)sec(gi, S_DOM_COUNT);
	v.bytes = (uint64_t *)sec(gi, S_DOM_BYTES);
	v.order = (uint32_t *)sec(gi, S_DOM_ORDER);
	v.nroots = H->dom_nroots;
	v.total_bytes = H->dom_total_bytes;
	v.mapped = true;
	if (!gi->dom_ok)
		gi->dom_ok = dom_check(gi, &v, why) ? 1 : -1;
	if (gi->dom_ok < 0)
		return false;
	*d = v;
	return true;
}

bool ins_gindex_check(ins_gindex *gi, const char **why)
{
	ins_heap h;
	ins_graph g;
	ins_dominators d;
	return ins_gindex_heap(gi, &h, why) && ins_gindex_graph(gi, &g, why) &&
	       (!ins_gindex_has_dominators(gi) || ins_gindex_dominators(gi, &d, why));
}

/* Warnings are whole lines that start with "warning: ", of printable text (UTF-8 too). */
static bool warnings_ok(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (n - i < 10 || memcmp(p + i, "warning: ", 9) != 0)
			return false;
		const char *nl = memchr(p + i, '\n', n - i);
		if (!nl)
			return false;
		for (const char *c = p + i; c < nl; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return false;
		i = (size_t)(nl - p) + 1;
	}
	return true;
}

void ins_gindex_replay(const ins_gindex *gi, enum ins_gi_step step, ins_buf *warn)
{
	int i = S_WARN_HEAP + (int)step;
	const gi_section *s = &gi->h->sec[i];
	if (s->size && warnings_ok(sec(gi, i), s->size))
		ins_buf_putn(warn, sec(gi, i), s->size);
}

void ins_gindex_emu_stats(const ins_gindex *gi, uint64_t *emulated, uint64_t *failed, uint64_t *wrote)
{
	*emulated = gi->h->emu[0];
	*failed = gi->h->emu[1];
	*wrote = gi->h->emu[2];
}
