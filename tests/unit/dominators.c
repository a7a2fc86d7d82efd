/* dominators.c -- the dominator tree (libinspect/analysis/dominators.c) against brute force
 * on a core: for every node x (every k-th on a large heap), drop x, mark what the roots
 * reach without it, and what is left unmarked must be exactly x's dominator subtree; and
 * every node's retained count and bytes are its own plus its children's.
 *
 *   dominators DIR CORE [SYSROOT]      DIR (a scratch directory) is unused
 *
 * Uses the library's internal headers (tests/unit.bats adds every layer to the include path). */
#include <libinspect/libinspect.h>

#include "dominators.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define MAX_CHECKED 50000

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: dominators DIR CORE [SYSROOT]\n");
		return 2;
	}
	ins_source src = {.core = argv[2], .sysroot = argc > 3 && argv[3][0] ? argv[3] : NULL};
	ins_buf warn = {0};
	ins_session *s = NULL;
	ins_error *err = ins_session_open(&src, &warn, &s);
	if (!err)
		err = ins_session_heap(s);
	ins_dominators d;
	if (!err)
		err = ins_dominators_build(s, &d);
	if (err) {
		printf("FAIL %s: %s\n", argv[2], err->message);
		return 1;
	}
	const ins_graph *g = s->graph;
	size_t n = g->n;
	CHECK(d.n == n && n > 0, "the tree has the graph's %zu nodes", n);

	/* counts and bytes: own + children's; what hangs from the virtual root (the roots, and
	 * what several roots reach) adds up to every node */
	uint64_t *cnt = calloc(n, sizeof(*cnt)), *byt = calloc(n, sizeof(*byt)), total = 0, bytes = 0;
	size_t bad_sum = 0, bad_idom = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t y = d.order[n - 1 - i];
		const ins_type *t = ins_obj_type(&s->objs, g->addr[y]);
		cnt[y] += 1;
		byt[y] += t ? ins_obj_size(&s->objs, g->addr[y], t) : 0;
		bad_sum += cnt[y] != d.count[y] || byt[y] != d.bytes[y];
		if (d.idom[y] == INS_DOM_ROOT) {
			total += cnt[y];
			bytes += byt[y];
		} else {
			cnt[d.idom[y]] += cnt[y];
			byt[d.idom[y]] += byt[y];
			bad_idom += d.root[y] != INS_ROOT_NONE || d.idom[y] >= n;
		}
	}
	CHECK(bad_sum == 0, "every retained count and size is its own plus its children's (%zu differ)", bad_sum);
	CHECK(bad_idom == 0, "every root hangs from the virtual root (%zu do not)", bad_idom);
	CHECK(total == n && bytes == d.total_bytes, "the roots retain every node: %llu of %zu, %llu of %llu bytes",
	      (unsigned long long)total, n, (unsigned long long)bytes, (unsigned long long)d.total_bytes);
	free(cnt);
	free(byt);

	/* brute force */
	uint8_t *mark = malloc(n);
	uint32_t *queue = malloc(n * sizeof(*queue));
	size_t stride = n > MAX_CHECKED ? n / MAX_CHECKED + 1 : 1, checked = 0, bad = 0, nontrivial = 0;
	for (size_t x = 0; x < n; x += stride) {
		memset(mark, 0, n);
		mark[x] = 1;
		size_t tail = 0, reached = 0;
		for (size_t r = 0; r < n; r++)
			if (d.root[r] && !mark[r]) {
				mark[r] = 1;
				queue[tail++] = (uint32_t)r;
			}
		for (size_t head = 0; head < tail; head++) {
			uint32_t v = queue[head];
			reached++;
			for (uint64_t e = g->out_start[v]; e < g->out_start[v + 1]; e++)
				if (!mark[g->out[e]]) {
					mark[g->out[e]] = 1;
					queue[tail++] = g->out[e];
				}
		}
		uint32_t *sub;
		size_t nsub;
		if ((err = ins_dominators_subtree(&d, (uint32_t)x, &sub, &nsub))) {
			printf("FAIL subtree: %s\n", err->message);
			return 1;
		}
		/* unreached: x and what only it leads to; each must be in x's subtree */
		bool same = n - reached == nsub && nsub == d.count[x];
		for (size_t i = 1; i < nsub && same; i++)
			same = !mark[sub[i]];
		if (!same && bad++ < 10)
			printf("FAIL node %zu (0x%llx): brute force frees %zu, the subtree has %zu (count %u)\n", x,
			       (unsigned long long)g->addr[x], n - reached, nsub, d.count[x]);
		nontrivial += nsub > 1;
		free(sub);
		checked++;
	}
	CHECK(bad == 0,
	      "brute force (drop x, mark from the roots) equals x's dominator subtree for %zu nodes "
	      "(%zu retain more than themselves; %zu differ)",
	      checked, nontrivial, bad);
	CHECK(nontrivial > 0, "some node retains more than itself");
	free(mark);
	free(queue);

	/* the children lists (ins_domtree_build): exactly the nodes each one dominates
	 * immediately, most bytes first; the union by type (ins_domtree_union): each node's
	 * subtree counted unless an ancestor is of its type, checked by walking up */
	ins_domtree t;
	if ((err = ins_domtree_build(&d, &t))) {
		printf("FAIL domtree: %s\n", err->message);
		return 1;
	}
	size_t bad_kids = 0;
	for (size_t x = 0; x <= n; x++)
		for (uint64_t k = t.start[x]; k < t.start[x + 1]; k++) {
			uint32_t y = t.kids[k], up = d.idom[y] == INS_DOM_ROOT ? (uint32_t)n : d.idom[y];
			bad_kids += up != x || (k > t.start[x] && d.bytes[t.kids[k - 1]] < d.bytes[y]);
		}
	CHECK(bad_kids == 0 && t.start[n + 1] == n, "every node is listed once, under its immediate dominator, "
	      "most bytes first (%zu misplaced)", bad_kids);
	ins_map type_of = { 0 };
	uint32_t *group = malloc(n * sizeof(*group));
	size_t ngroups = 0;
	for (size_t x = 0; x < n; x++) {
		const ins_type *ty = ins_obj_type(&s->objs, g->addr[x]);
		uint64_t *slot = ins_map_slot(&type_of, ty ? ty->addr : 0, 0);
		if (!*slot)
			*slot = ++ngroups;
		group[x] = (uint32_t)(*slot - 1);
	}
	uint64_t *ucount = calloc(ngroups, 8), *ubytes = calloc(ngroups, 8);
	uint64_t *wcount = calloc(ngroups, 8), *wbytes = calloc(ngroups, 8);
	size_t nested = 0;
	for (size_t x = 0; x < n; x++) {
		bool inside = false;
		for (uint32_t y = d.idom[x], k = 0; y != INS_DOM_ROOT && k < n && !inside; y = d.idom[y], k++)
			inside = group[y] == group[x];
		nested += inside;
		if (!inside) {
			wcount[group[x]] += d.count[x];
			wbytes[group[x]] += d.bytes[x];
		}
	}
	if ((err = ins_domtree_union(&d, &t, group, ngroups, ucount, ubytes))) {
		printf("FAIL union: %s\n", err->message);
		return 1;
	}
	size_t bad_union = 0;
	for (size_t k = 0; k < ngroups; k++)
		bad_union += ucount[k] != wcount[k] || ubytes[k] != wbytes[k];
	CHECK(bad_union == 0 && nested > 0, "the union of each type's subtrees equals a walk up the tree (%zu types, "
	      "%zu objects inside one of their type; %zu differ)", ngroups, nested, bad_union);
	/* the top of the largest subtree: preorder, children most bytes first, bounded */
	ins_domitem *items;
	size_t nitems;
	uint32_t big = t.kids[t.start[n]];
	if ((err = ins_domtree_top(&d, &t, big, 2, 3, &items, &nitems))) {
		printf("FAIL top: %s\n", err->message);
		return 1;
	}
	size_t bad_top = items[0].node != big || items[0].depth != 0;
	for (size_t i = 1; i < nitems; i++) {
		uint32_t parent = items[i - 1].node;
		for (size_t k = i - 1; items[k].depth >= items[i].depth && k > 0; k--)
			parent = items[k - 1].node;
		bad_top += items[i].depth > 2 || items[i].depth > items[i - 1].depth + 1 || d.idom[items[i].node] != parent;
	}
	CHECK(bad_top == 0 && nitems > 1 && nitems <= 1 + 3 + 9, "the top of the largest subtree: %zu lines in "
	      "preorder under their immediate dominators (%zu wrong)", nitems, bad_top);
	free(items);
	free(group);
	free(ucount);
	free(ubytes);
	free(wcount);
	free(wbytes);
	ins_map_free(&type_of);
	ins_domtree_free(&t);

	/* the public API says the same of the node that retains the most */
	uint32_t *top;
	size_t ntop;
	ins_program *p = NULL;
	ins_retained r;
	if (!(err = ins_dominators_top(&d, 1, &top, &ntop)) && ntop == 1 && !(err = ins_program_open(&src, &p)) &&
	    !(err = ins_program_retained(p, g->addr[top[0]], &r))) {
		size_t nchain = 0;
		for (uint32_t y = d.idom[top[0]]; y != INS_DOM_ROOT; y = d.idom[y])
			nchain += r.dominators && nchain < r.ndominators && r.dominators[nchain] == g->addr[y];
		CHECK(r.count == d.count[top[0]] && r.bytes == d.bytes[top[0]] && nchain == r.ndominators &&
			      r.total_bytes == d.total_bytes,
		      "ins_program_retained(0x%llx): %llu objects, %llu bytes, %zu dominators",
		      (unsigned long long)g->addr[top[0]], (unsigned long long)r.count, (unsigned long long)r.bytes,
		      r.ndominators);
		ins_free(r.dominators);
	} else {
		CHECK(false, "ins_program_retained: %s", err ? err->message : "no node");
	}
	ins_error *e2 = p ? ins_program_retained(p, 0x10, &r) : NULL;
	CHECK(e2 && e2->code == INS_ERR_NOT_FOUND && r.dominators == NULL, "an address that is no object is not found");
	ins_error_free(e2);
	ins_error_free(err);
	ins_program_free(p);
	free(top);
	ins_dominators_free(&d);
	ins_session_close(s);
	ins_buf_free(&warn);
	return check_summary();
}
