/* cmd_index.c -- index: saves what the graph commands rebuild on every run (gindex.h). */
#define _GNU_SOURCE
#include <time.h>

#include "commands.h"
#include "gindex.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

ins_error *ins_cmd_index(const call *c)
{
	ins_session *s = c->s;
	if (!c->src->core || !s->index_path)  /* GDB (ins_cli_run) names no core file */
		return ins_err(INS_ERR_USAGE, "index: objinspect only, of a core file (objinspect CORE index): a live "
					      "process has no index, and GDB keeps the graph of a stop for all its commands");
	ins_gindex_info info;
	double t0 = now();
	ins_error *err = ins_session_write_index(s, &info);
	if (err)
		return err;
	double secs = now() - t0;
	if (c->a->json) {
		ins_buf_puts(c->out, "{\"index\":");
		ins_json_str(c->out, s->index_path);
		ins_buf_printf(c->out, ",\"bytes\":%llu,\"nodes\":%zu,\"tracked\":%zu,\"edges\":%zu,\"dominators\":%s,"
			       "\"seconds\":%.6f}\n", (unsigned long long)info.bytes, info.nodes, info.tracked, info.edges,
			       info.dominators ? "true" : "false", secs);
	} else {
		ins_buf_printf(c->out, "wrote %s: %zu objects (%zu tracked), %zu references%s; %.1f MB in %.3f s\n",
			       s->index_path, info.nodes, info.tracked, info.edges,
			       info.dominators ? ", the dominator tree" : "", (double)info.bytes / 1e6, secs);
	}
	return NULL;
}
