/* cmd_show.c -- show-refs, show-backrefs, show-chain: objgraph's pictures of the reference
 * graph (show_refs, show_backrefs, show_chain, drawn by its _show_graph), written as
 * graphviz DOT and, for .png and .svg, rendered by graphviz's dot.
 *
 * The picture follows objgraph's conventions: a breadth-first walk from the start objects
 * (font red) that draws each object it reaches as a box labelled with its type name, its
 * refcount with --refcounts, and its short repr; boxes shade from white to dark grey with
 * depth, modules are green, an object whose class defines __del__ carries a small red
 * "__del__" circle, and an object with more than --too-many neighbours gets one red
 * "N more references" box for the rest. Edges carry the label of the reference (attribute
 * or global name, key, [index], field), weighted as objgraph weights its labels.
 * show-dominators draws a dominator subtree (dominators.h) the same way: an arrow from each
 * object to those it immediately dominates, each box labelled with what it retains. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chain.h"
#include "commands.h"
#include "dominators.h"
#include "graph.h"

extern char **environ;

#define SHOW_MAX_DEPTH 3    /* objgraph.show_refs and show_backrefs */
#define SHOW_TOO_MANY 10
#define REPR_MAX 40         /* objgraph._short_repr: repr(obj)[:40] */
#define DOT_MISSING "graphviz's dot is not installed (apt-get install graphviz)"

/* ---------------------------------------------------------------- the output file */

typedef struct output {
	const char *path;
	char format[4];  /* dot, png, svg */
	bool created;    /* the file did not exist before: removed again on failure */
} output;

/* Is program an executable file in $PATH (objgraph's _program_in_path)? */
static bool in_path(const char *program)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char file[4096];
		if (snprintf(file, sizeof(file), "%.*s/%s", (int)len, len ? p : ".", program) < (int)sizeof(file) &&
		    access(file, X_OK) == 0)
			return true;
		p += len + (end != NULL);
	}
	return false;
}

/* The format the extension names, dot for an image, and a writable path: checked before
 * the graph is built, so bad arguments fail at once. */
static ins_error *open_output(const char *path, output *o)
{
	memset(o, 0, sizeof(*o));
	if (!path || !*path)
		return ins_err(INS_ERR_USAGE, "--output FILE.dot|.png|.svg is required");
	const char *ext = strrchr(path, '.'), *slash = strrchr(path, '/');
	static const char *const formats[] = { "dot", "png", "svg" };
	for (size_t i = 0; ext && (!slash || ext > slash) && i < 3; i++)
		if (strcasecmp(ext + 1, formats[i]) == 0)
			memcpy(o->format, formats[i], 4);
	if (!o->format[0])
		return ins_err(INS_ERR_USAGE, "--output '%s': the file name must end in .dot, .png or .svg", path);
	if (strcmp(o->format, "dot") != 0 && !in_path("dot"))
		return ins_err(INS_ERR_FAIL, DOT_MISSING);
	struct stat st;
	bool existed = stat(path, &st) == 0;
	if (existed && S_ISDIR(st.st_mode))
		return ins_err(INS_ERR_OS, "cannot write %s: %s", path, strerror(EISDIR));
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return ins_err(INS_ERR_OS, "cannot write %s: %s", path, strerror(errno));
	close(fd);
	o->path = path;
	o->created = !existed;
	return NULL;
}

static ins_error *write_all(int fd, const char *path, const ins_buf *b)
{
	for (size_t off = 0; off < b->len;) {
		ssize_t k = write(fd, b->data + off, b->len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return ins_err(INS_ERR_OS, "cannot write %s: %s", path, strerror(k < 0 ? errno : EIO));
		off += (size_t)k;
	}
	return NULL;
}

static ins_error *write_file(const char *path, const ins_buf *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return ins_err(INS_ERR_OS, "cannot write %s: %s", path, strerror(errno));
	ins_error *err = write_all(fd, path, b);
	if (close(fd) && !err)
		err = ins_err(INS_ERR_OS, "cannot write %s: %s", path, strerror(errno));
	return err;
}

/* The first line of text, for an error message. */
static void first_line(const ins_buf *text, ins_buf *out)
{
	const char *p = text->data ? text->data : "";
	size_t n = strcspn(p, "\n");
	ins_buf_putn(out, p, n);
}

/* dot -Tformat -oOUT IN, without a shell; its stderr is collected: the first line goes
 * into the error if dot fails, and the warnings of a successful run into warn. */
static ins_error *run_dot(const char *format, const char *out, const char *in, ins_buf *warn)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC))
		return ins_err(INS_ERR_OS, "pipe: %s", strerror(errno));
	char tflag[8], *oflag = NULL;
	snprintf(tflag, sizeof(tflag), "-T%s", format);
	if (asprintf(&oflag, "-o%s", out) < 0) {  /* one word: a path may start with '-' */
		close(pfd[0]);
		close(pfd[1]);
		return ins_err_nomem();
	}
	char *argv[] = { "dot", tflag, oflag, (char *)in, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc = posix_spawn_file_actions_init(&fa);
	if (!rc)
		rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	if (!rc)
		rc = posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(oflag);
	close(pfd[1]);
	if (rc) {
		close(pfd[0]);
		if (rc == ENOENT)
			return ins_err(INS_ERR_FAIL, DOT_MISSING);
		return ins_err(INS_ERR_OS, "cannot run graphviz's dot: %s", strerror(rc));
	}
	ins_buf errs = { 0 };
	char chunk[4096];
	for (;;) {
		ssize_t k = read(pfd[0], chunk, sizeof(chunk));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (errs.len < 65536)
			ins_buf_putn(&errs, chunk, (size_t)k);
	}
	close(pfd[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ins_buf_free(&errs);
			return ins_err(INS_ERR_OS, "waiting for graphviz's dot: %s", strerror(errno));
		}
	}
	ins_error *err = NULL;
	ins_buf msg = { 0 };
	first_line(&errs, &msg);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !errs.len)  /* a spawn that reports exec late */
		err = ins_err(INS_ERR_FAIL, DOT_MISSING);
	else if (WIFSIGNALED(status))
		err = ins_err(INS_ERR_FAIL, "graphviz's dot was killed by signal %d", WTERMSIG(status));
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		err = ins_err(INS_ERR_FAIL, "graphviz's dot failed (exit status %d)%s%s", WEXITSTATUS(status),
			      msg.len ? ": " : "", msg.data ? msg.data : "");
	else if (errs.len) {
		/* warnings: one "dot: " line each */
		for (const char *p = errs.data; *p;) {
			size_t n = strcspn(p, "\n");
			if (n)
				ins_buf_printf(warn, "warning: dot: %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	ins_buf_free(&msg);
	ins_buf_free(&errs);
	return err;
}

/* Writes the DOT text to o->path, or renders it there through a temporary .dot file. */
static ins_error *emit(const output *o, const ins_buf *dot, ins_buf *warn)
{
	if (strcmp(o->format, "dot") == 0)
		return write_file(o->path, dot);
	const char *dir = getenv("TMPDIR");
	char *tmp = NULL;
	if (asprintf(&tmp, "%s/objgraph-XXXXXX.dot", dir && *dir ? dir : "/tmp") < 0)
		return ins_err_nomem();
	int fd = mkostemps(tmp, 4, O_CLOEXEC);
	if (fd < 0) {
		ins_error *err = ins_err(INS_ERR_OS, "cannot create a temporary file %s: %s", tmp, strerror(errno));
		free(tmp);
		return err;
	}
	ins_error *err = write_all(fd, tmp, dot);
	if (close(fd) && !err)
		err = ins_err(INS_ERR_OS, "cannot write %s: %s", tmp, strerror(errno));
	if (!err)
		err = run_dot(o->format, o->path, tmp, warn);
	unlink(tmp);
	free(tmp);
	return err;
}

/* ---------------------------------------------------------------- the picture */

typedef struct show {
	ins_session *s;
	ins_graph *g;
	bool back;                /* referrers (show_backrefs) or referents (show_refs) */
	long max_depth, too_many;
	bool refcounts;
	const char *filter;       /* --filter TYPE, or NULL */
	const uint8_t *only;      /* show-chain: per node, 1 if it is on a chain */
	const ins_map *ignore;    /* --extra-ignore addresses */
	const ins_map *cull;      /* show-backrefs: the proper modules, not expanded */
	int32_t *depth;           /* per node: -1 until queued */
	uint32_t *queue;
	size_t head, tail;
	ins_buf *dot;
	size_t nodes, edges;
	const ins_dominators *dom; /* show-dominators: the tree, its children lists */
	const ins_domtree *domt;
} show;

/* objgraph's _quote (\ " and newlines escaped for a DOT string); bytes that are not UTF-8
 * (a repr cut in the middle of a character) become U+FFFD, which dot accepts. */
static void quote(ins_buf *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		if (c == '\\' || c == '"') {
			ins_buf_putc(out, '\\');
			ins_buf_putc(out, (char)c);
			i++;
			continue;
		}
		if (c == '\n') {
			ins_buf_puts(out, "\\n");
			i++;
			continue;
		}
		if (c < 0x80) {
			ins_buf_putc(out, (char)c);
			i++;
			continue;
		}
		size_t len = (c & 0xe0) == 0xc0 && c >= 0xc2 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 && c <= 0xf4 ? 4 : 0;
		bool ok = len && i + len <= n;
		for (size_t k = 1; ok && k < len; k++)
			ok = (u[i + k] & 0xc0) == 0x80;
		if (ok && ((c == 0xe0 && u[i + 1] < 0xa0) || (c == 0xed && u[i + 1] >= 0xa0) ||
			   (c == 0xf0 && u[i + 1] < 0x90) || (c == 0xf4 && u[i + 1] >= 0x90)))
			ok = false;
		if (ok) {
			ins_buf_putn(out, s + i, len);
			i += len;
		} else {
			ins_buf_puts(out, "\xef\xbf\xbd");
			i++;
		}
	}
}

/* The first max characters (UTF-8 code points) of text. */
static size_t prefix_chars(const char *text, size_t len, size_t max)
{
	size_t i = 0;
	for (size_t chars = 0; i < len; i++) {
		if (((unsigned char)text[i] & 0xc0) == 0x80)
			continue;
		if (chars++ == max)
			break;
	}
	return i;
}

/* objgraph's _short_repr cuts repr(obj) to 40 characters except for what it names (types,
 * modules, builtins, methods, frames) or counts (tuple, list, dict, set). */
static bool repr_cut(const ins_type *t)
{
	switch (t->kind) {
	case INS_K_TYPE: case INS_K_MODULE: case INS_K_CFUNCTION: case INS_K_METHOD: case INS_K_FRAME:
	case INS_K_LIST: case INS_K_TUPLE: case INS_K_DICT: case INS_K_SET:
		return false;
	default:
		return true;
	}
}

static void put_id(ins_buf *b, uint64_t addr)
{
	ins_buf_printf(b, "o%llu", (unsigned long long)addr);  /* objgraph's _obj_node_id: 'o%d' % id(obj) */
}

/* objgraph's _gradient: the colour at depth, from start to end as depth goes to max. */
static void gradient(const double start[3], const double end[3], long depth, long max, double hsv[3])
{
	if (max == 0) {
		memcpy(hsv, start, 3 * sizeof(double));
		return;
	}
	double f = (double)depth / (double)max;
	for (int i = 0; i < 3; i++)
		hsv[i] = start[i] * (1 - f) + end[i] * f;
}

/* One object's box: objgraph's _obj_label, its depth's colour, the __del__ marker. */
static void put_node(show *sh, uint32_t x, long depth)
{
	ins_session *s = sh->s;
	ins_buf *b = sh->dot;
	uint64_t addr = sh->g->addr[x];
	const ins_type *t = ins_obj_type(&s->objs, addr);
	ins_buf label = { 0 }, repr = { 0 };
	ins_buf_puts(&label, t ? t->name : "?");
	int64_t refcnt;
	bool immortal;
	if (sh->refcounts && ins_obj_refcnt(&s->objs, addr, &refcnt, &immortal)) {
		if (immortal)
			ins_buf_puts(&label, " [immortal]");
		else
			ins_buf_printf(&label, " [%lld]", (long long)refcnt);
	}
	ins_buf_putc(&label, '\n');
	if (t)
		ins_obj_repr(&s->objs, addr, t, &repr);
	else
		ins_buf_puts(&repr, "(unrepresentable)");
	size_t n = repr.len;
	if (t && repr_cut(t))
		n = prefix_chars(repr.data ? repr.data : "", repr.len, REPR_MAX);
	ins_buf_putn(&label, repr.data ? repr.data : "", n);
	if (sh->dom)
		ins_buf_printf(&label, "\nretains %llu objects, %llu bytes", (unsigned long long)sh->dom->count[x],
			       (unsigned long long)sh->dom->bytes[x]);
	ins_buf_puts(b, "  ");
	put_id(b, addr);
	ins_buf_puts(b, "[label=\"");
	quote(b, label.data ? label.data : "", label.len);
	ins_buf_puts(b, "\"];\n");
	ins_buf_free(&label);
	ins_buf_free(&repr);

	static const double white[3] = { 0, 0, 1 }, grey[3] = { 0, 0, .3 };
	double hsv[3];
	gradient(white, grey, depth, sh->max_depth, hsv);
	if (t && t->kind == INS_K_MODULE) {
		hsv[0] = .3;
		hsv[1] = 1;
	}
	ins_buf_puts(b, "  ");
	put_id(b, addr);
	ins_buf_printf(b, "[fillcolor=\"%g,%g,%g\"];\n", hsv[0], hsv[1], hsv[2]);
	if (hsv[2] < 0.5) {
		ins_buf_puts(b, "  ");
		put_id(b, addr);
		ins_buf_puts(b, "[fontcolor=white];\n");
	}
	if (t && ins_type_finalizer(&sh->s->objs, t) != INS_FIN_NONE) {  /* hasattr(type, '__del__') */
		ins_buf_puts(b, "  ");
		put_id(b, addr);
		ins_buf_puts(b, "->");
		put_id(b, addr);
		ins_buf_puts(b, "_has_a_del[color=red,style=dotted,len=0.25,weight=10];\n  ");
		put_id(b, addr);
		ins_buf_puts(b, "_has_a_del[label=\"__del__\",shape=doublecircle,height=0.25,color=red,"
			     "fillcolor=\"0,.5,1\",fontsize=6];\n");
	}
}

/* Is the neighbour y drawn at all: not ignored, and through the filter? */
static bool accepted(show *sh, uint32_t y)
{
	uint64_t addr = sh->g->addr[y], v;
	if (sh->ignore && ins_map_get(sh->ignore, addr, &v))
		return false;
	if (sh->only && !sh->only[y])
		return false;
	if (sh->filter) {
		const ins_type *t = ins_obj_type(&sh->s->objs, addr);
		/* as count and by-type: a dotted name is matched against module.qualname */
		if (!t || strcmp(strchr(sh->filter, '.') ? t->qualname : t->name, sh->filter) != 0)
			return false;
	}
	return true;
}

/* One edge to draw: from the expanded node to `other` (or from other to it, backwards):
 * a reference from the source to target, labelled from a traversal of the source. */
typedef struct drawn {
	uint32_t other;
	uint64_t target;
	uint64_t pos;       /* show-refs: its place among the source's edges in the graph */
	size_t k, seen;     /* by target: the k-th reference from the source to target */
	bool inferred, found;
	uint8_t kind;
	ins_buf label;
} drawn;

typedef struct labeller {
	show *sh;
	drawn *d;
	size_t n, next;     /* by position: d in the order of pos, next the first unlabelled */
	uint64_t pos;       /* by position: the edges to graph nodes met so far */
	bool by_pos;
} labeller;

static void take_label(labeller *l, drawn *d, const ins_edge *e)
{
	d->found = true;
	d->kind = e->kind;
	d->inferred = d->inferred || (e->flags & INS_EF_INFERRED);
	ins_edge_label(&l->sh->s->objs, e, &d->label);
}

static void label_edge(void *arg, const ins_edge *e)
{
	labeller *l = arg;
	uint32_t node;
	if (e->flags & INS_EF_HIDDEN)
		return;
	if (!l->by_pos) {
		for (size_t i = 0; i < l->n; i++)
			if (l->d[i].target == e->target && l->d[i].seen++ == l->d[i].k)
				take_label(l, &l->d[i], e);
		return;
	}
	/* the graph keeps a source's edges in traversal order, less those to non-objects */
	if (l->next >= l->n || !ins_graph_node(l->sh->g, e->target, &node))
		return;
	drawn *d = &l->d[l->next];
	if (l->pos++ != d->pos)
		return;
	l->next++;
	if (d->target == e->target)  /* else out of step: labelled by target below */
		take_label(l, d, e);
}

/* Labels the edges in d, which all come from src: by target and rank (one edge per source,
 * show-backrefs), or by position in the source's edges, which is one traversal for them all
 * (show-refs, where the edges out of one node can be many). */
static void label_edges(show *sh, uint64_t src, drawn *d, size_t n, bool by_pos)
{
	labeller l = { .sh = sh, .d = d, .n = n, .by_pos = by_pos };
	ins_traverse(sh->s->trav, src, NULL, label_edge, &l);
	if (!by_pos)
		return;
	const ins_graph *g = sh->g;
	uint32_t x;
	if (!ins_graph_node(g, src, &x))
		return;
	for (size_t i = 0; i < n; i++) {
		if (d[i].found)
			continue;
		uint64_t begin = g->out_start[x];
		d[i].k = 0;
		for (uint64_t f = begin; f < begin + d[i].pos; f++)
			d[i].k += g->out[f] == d[i].other;
		label_edges(sh, src, &d[i], 1, false);
	}
}

/* objgraph's _edge_label weights: 10 for an object's own parts (its __dict__, a field, a
 * __slots__ member), 2 for a name (a global, an attribute in a __dict__, a local). */
static void put_edge(show *sh, uint64_t from, uint64_t to, drawn *d)
{
	ins_buf *b = sh->dot;
	if (!d->found && !d->label.len)  /* inferred by a scan the traversal no longer does */
		ins_buf_puts(&d->label, "(inferred)");
	ins_buf_puts(b, "  ");
	put_id(b, from);
	ins_buf_puts(b, " -> ");
	put_id(b, to);
	ins_buf_puts(b, " [label=\"");
	quote(b, d->label.data ? d->label.data : "", d->label.len);
	ins_buf_putc(b, '"');
	if (d->inferred || !d->found)
		ins_buf_puts(b, ",style=dashed");
	else if (d->kind == INS_EDGE_FIELD || d->kind == INS_EDGE_CNAME)
		ins_buf_puts(b, ",weight=10");
	else if (d->kind == INS_EDGE_STRNAME || (d->kind == INS_EDGE_KEY && d->label.len && d->label.data[0] != '['))
		ins_buf_puts(b, ",weight=2");
	ins_buf_puts(b, "];\n");
	sh->edges++;
}

static void put_too_many(show *sh, uint64_t addr, long depth, size_t skipped)
{
	ins_buf *b = sh->dot;
	static const double red[3] = { 0, 1, 1 }, dark[3] = { 0, 1, .3 };
	double hsv[3];
	gradient(red, dark, depth + 1, sh->max_depth, hsv);
	ins_buf_puts(b, "  ");
	if (sh->back) {
		ins_buf_puts(b, "too_many_");
		put_id(b, addr);
		ins_buf_puts(b, "->");
		put_id(b, addr);
	} else {
		put_id(b, addr);
		ins_buf_puts(b, "->too_many_");
		put_id(b, addr);
	}
	ins_buf_puts(b, "[color=red,style=dotted,len=0.25,weight=10];\n  too_many_");
	put_id(b, addr);
	ins_buf_printf(b, "[label=\"%zu more %s\",shape=box,height=0.25,color=red,fillcolor=\"%g,%g,%g\",fontsize=6];\n",
		       skipped, sh->domt ? "dominated" : sh->back ? "backreferences" : "references", hsv[0], hsv[1],
		       hsv[2]);
	ins_buf_puts(b, "  too_many_");
	put_id(b, addr);
	ins_buf_puts(b, "[fontcolor=white];\n");
}

/* Draws the references of node x (at depth) to at most too_many accepted neighbours, and
 * queues those not seen yet. */
static ins_error *expand(show *sh, uint32_t x, long depth)
{
	ins_graph *g = sh->g;
	size_t cap = sh->too_many > 0 ? (size_t)sh->too_many : 1, n = 0, skipped = 0;
	if (cap > 4096)
		cap = 4096;
	drawn *d = calloc(cap, sizeof(*d));
	if (!d)
		return ins_err_nomem();
	uint64_t begin = sh->back ? g->in_start[x] : g->out_start[x];
	uint64_t end = sh->back ? g->in_start[x + 1] : g->out_start[x + 1];
	for (uint64_t e = begin; e < end; e++) {
		uint32_t y;
		if (sh->back) {
			/* gc.get_referrers: each tracked referrer once */
			y = g->in[e];
			if (y >= g->ntracked || (e > begin && g->in[e - 1] == y))
				continue;
		} else {
			/* gc.get_referents: every reference, parallel ones too */
			y = g->out[e];
		}
		if (!accepted(sh, y))
			continue;
		if (n >= (size_t)sh->too_many) {
			skipped++;
			continue;
		}
		if (n == cap) {
			drawn *v = realloc(d, 2 * cap * sizeof(*d));
			if (!v) {
				free(d);
				return ins_err_nomem();
			}
			memset(v + cap, 0, cap * sizeof(*v));
			d = v;
			cap *= 2;
		}
		d[n++] = (drawn){ .other = y, .target = g->addr[sh->back ? x : y], .pos = e - begin,
				  .inferred = !sh->back && (ins_graph_edge_flags(g, e) & INS_EF_INFERRED) };
	}
	if (sh->back)  /* one referrer each: its first reference to x */
		for (size_t i = 0; i < n; i++)
			label_edges(sh, g->addr[d[i].other], &d[i], 1, false);
	else
		label_edges(sh, g->addr[x], d, n, true);
	for (size_t i = 0; i < n; i++) {
		uint32_t y = d[i].other;
		if (sh->back)
			put_edge(sh, g->addr[y], g->addr[x], &d[i]);
		else
			put_edge(sh, g->addr[x], g->addr[y], &d[i]);
		ins_buf_free(&d[i].label);
		if (sh->depth[y] < 0) {
			sh->depth[y] = (int32_t)(depth + 1);
			sh->queue[sh->tail++] = y;
		}
	}
	free(d);
	if (skipped)
		put_too_many(sh, g->addr[x], depth, skipped);
	return NULL;
}

/* show-dominators: arrows from x to the first too_many objects it immediately dominates (most
 * bytes first), labelled as x's reference to them when it has one, else dashed. */
static ins_error *expand_dominated(show *sh, uint32_t x, long depth)
{
	const ins_graph *g = sh->g;
	const ins_domtree *t = sh->domt;
	uint64_t first = t->start[x], end = t->start[x + 1], skipped = 0;
	for (uint64_t k = first; k < end; k++) {
		uint32_t y = t->kids[k];
		if (k - first >= (uint64_t)sh->too_many) {
			skipped = end - k;
			break;
		}
		bool direct = false;
		for (uint64_t e = g->out_start[x]; e < g->out_start[x + 1] && !direct; e++)
			direct = g->out[e] == y;
		drawn d = { .other = y, .target = g->addr[y], .found = direct };
		if (direct)
			ins_graph_edge_label(sh->s->trav, &sh->s->objs, g->addr[x], g->addr[y], 0, &d.label);
		put_edge(sh, g->addr[x], g->addr[y], &d);
		ins_buf_free(&d.label);
		if (sh->depth[y] < 0) {
			sh->depth[y] = (int32_t)(depth + 1);
			sh->queue[sh->tail++] = y;
		}
	}
	if (skipped)
		put_too_many(sh, g->addr[x], depth, (size_t)skipped);
	return NULL;
}

/* objgraph's _show_graph: breadth-first from the start nodes, every node drawn when it is
 * taken from the queue, expanded while above max_depth. */
static ins_error *draw(show *sh, const uint32_t *start, size_t nstart)
{
	ins_graph *g = sh->g;
	ins_buf *b = sh->dot;
	sh->depth = malloc((g->n ? g->n : 1) * sizeof(*sh->depth));
	sh->queue = malloc((g->n ? g->n : 1) * sizeof(*sh->queue));
	if (!sh->depth || !sh->queue)
		return ins_err_nomem();
	memset(sh->depth, 0xff, g->n * sizeof(*sh->depth));
	ins_buf_puts(b, "digraph ObjectGraph {\n  node[shape=box, style=filled, fillcolor=white];\n");
	for (size_t i = 0; i < nstart; i++) {
		if (sh->depth[start[i]] >= 0)
			continue;
		ins_buf_puts(b, "  ");
		put_id(b, g->addr[start[i]]);
		ins_buf_puts(b, "[fontcolor=red];\n");
		sh->depth[start[i]] = 0;
		sh->queue[sh->tail++] = start[i];
	}
	while (sh->head < sh->tail) {
		uint32_t x = sh->queue[sh->head++];
		long depth = sh->depth[x];
		uint64_t v;
		sh->nodes++;
		put_node(sh, x, depth);
		if (depth >= sh->max_depth)
			continue;
		if (sh->cull && ins_map_get(sh->cull, g->addr[x], &v))
			continue;  /* show_backrefs stops at modules in sys.modules */
		ins_error *err = sh->domt ? expand_dominated(sh, x, depth) : expand(sh, x, depth);
		if (err)
			return err;
	}
	ins_buf_puts(b, "}\n");
	return b->oom ? ins_err_nomem() : NULL;
}

/* ---------------------------------------------------------------- the commands */

typedef enum { SHOW_REFS, SHOW_BACKREFS, SHOW_CHAIN, SHOW_DOMINATORS } show_kind;

static ins_error *show_common(const call *c, show_kind kind)
{
	ins_session *s = c->s;
	const args *a = c->a;
	output o;
	ins_error *err = open_output(a->output, &o);
	if (err)
		return err;
	uint64_t *addrs = calloc((size_t)a->npos, sizeof(*addrs));
	uint32_t *start = calloc((size_t)a->npos, sizeof(*start));
	uint8_t *only = NULL;
	ins_map ignore = { 0 }, modules = { 0 };
	ins_buf dot = { 0 };
	show sh = { 0 };
	ins_dominators dom = { 0 };
	ins_domtree domt = { 0 };
	if (!addrs || !start) {
		err = ins_err_nomem();
		goto done;
	}
	for (int i = 0; i < a->npos && !err; i++)
		err = ins_cmd_object(s, a->pos[i], &addrs[i]);
	for (int i = 0; i < a->nignore && !err; i++) {
		uint64_t x;
		if (!(err = ins_cmd_object(s, a->ignore[i], &x)) && !ins_map_slot(&ignore, x, 1))
			err = ins_err_nomem();
	}
	if (err || (err = ins_session_graph(s)))
		goto done;
	ins_graph *g = s->graph;
	for (int i = 0; i < a->npos; i++)
		if (!ins_graph_node(g, addrs[i], &start[i])) {
			err = ins_err(INS_ERR_NOT_FOUND, "0x%llx is not in the heap's reference graph",
				      (unsigned long long)addrs[i]);
			goto done;
		}
	sh = (show){ .s = s, .g = g, .back = kind != SHOW_REFS && kind != SHOW_DOMINATORS, .refcounts = a->refcounts,
		     .dot = &dot, .ignore = &ignore, .filter = kind != SHOW_CHAIN ? a->filter : NULL };
	sh.max_depth = a->max_depth >= 0 ? a->max_depth : SHOW_MAX_DEPTH;
	sh.too_many = a->too_many >= 0 ? a->too_many : SHOW_TOO_MANY;
	if (kind == SHOW_DOMINATORS) {
		if ((err = ins_dominators_build(s, &dom)) || (err = ins_domtree_build(&dom, &domt)))
			goto done;
		sh.dom = &dom;
		sh.domt = &domt;
	} else if (kind != SHOW_REFS) {
		if ((err = ins_chain_proper_modules(s, &modules))) {
			if (kind == SHOW_CHAIN || err->code == INS_ERR_NOMEM)
				goto done;
			/* a picture without the cut at modules is still a picture */
			ins_buf_printf(c->warn, "warning: %s; modules are expanded too\n", err->message);
			ins_error_free(err);
			err = NULL;
		} else {
			sh.cull = &modules;
		}
	}
	if (kind == SHOW_CHAIN) {
		/* objgraph.show_chain(find_backref_chain(obj, is_proper_module)...): the backrefs of
		 * each object, as deep as its longest chain, through the chains' objects only */
		long search = a->max_depth >= 0 ? a->max_depth : INS_CHAIN_MAX_DEPTH;
		size_t longest = 1;
		if (!(only = calloc(g->n ? g->n : 1, 1))) {
			err = ins_err_nomem();
			goto done;
		}
		for (int i = 0; i < a->npos; i++) {
			uint32_t *chain;
			size_t n;
			bool found;
			if ((err = ins_chain_find(s, start[i], search, &modules, NULL, &ignore, &chain, &n, &found)))
				goto done;
			for (size_t k = 0; k < n; k++)
				only[chain[k]] = 1;
			if (n > longest)
				longest = n;
			free(chain);
			if (!found)
				ins_buf_printf(c->warn, "warning: no chain from a module in sys.modules leads to 0x%llx "
					       "(searched %ld levels)\n", (unsigned long long)addrs[i], search);
		}
		sh.only = only;
		sh.max_depth = (long)longest - 1;
	}
	if ((err = draw(&sh, start, (size_t)a->npos)) || (err = emit(&o, &dot, c->warn)))
		goto done;
	if (a->json) {
		ins_buf_puts(c->out, "{\"output\":");
		ins_json_str(c->out, o.path);
		ins_buf_printf(c->out, ",\"nodes\":%zu,\"edges\":%zu}\n", sh.nodes, sh.edges);
	} else {
		ins_buf_printf(c->out, "%s %s (%zu nodes, %zu edges)\n",
			       strcmp(o.format, "dot") == 0 ? "Graph written to" : "Image generated as", o.path, sh.nodes,
			       sh.edges);
	}
done:
	if (err && o.created)
		unlink(o.path);
	free(sh.depth);
	free(sh.queue);
	ins_domtree_free(&domt);
	ins_dominators_free(&dom);
	ins_buf_free(&dot);
	ins_map_free(&modules);
	ins_map_free(&ignore);
	free(only);
	free(addrs);
	free(start);
	return err;
}

ins_error *ins_cmd_show_refs(const call *c)
{
	return show_common(c, SHOW_REFS);
}

ins_error *ins_cmd_show_backrefs(const call *c)
{
	return show_common(c, SHOW_BACKREFS);
}

ins_error *ins_cmd_show_chain(const call *c)
{
	return show_common(c, SHOW_CHAIN);
}

ins_error *ins_cmd_show_dominators(const call *c)
{
	return show_common(c, SHOW_DOMINATORS);
}
