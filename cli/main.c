/* main.c -- objinspect, the command-line front end: parses where the memory comes from
 * (a core, or --pid) and hands the rest to the shared command table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libinspect/cli.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: objinspect [--exe EXE] [--sysroot DIR] [--debug-dir DIR] [--index | --no-index]\n"
		   "                  [--index-file PATH] CORE COMMAND [ARGS]\n"
		   "       objinspect [--debug-dir DIR] --pid PID COMMAND [ARGS]\n\n"
		   "--debug-dir DIR[:DIR...]: where detached debug info is (default /usr/lib/debug, under\n"
		   "--sysroot when given), as gdb's debug-file-directory\n"
		   "--index: read the core's saved index (see the index command), or make and save it first;\n"
		   "without it a valid index is read when there is one; --no-index: never read one;\n"
		   "--index-file PATH: the index is PATH (default CORE.objinspect-index)\n\ncommands:\n");
	for (size_t i = 0; i < ins_command_count(); i++) {
		const ins_command_info *c = ins_command_get(i);
		fprintf(f, "  %-8s %s\n           %s\n", c->name, c->usage, c->summary);
	}
	fprintf(f, "\nexit status: 0 ok, 2 bad arguments, 3 unreadable input, 4 not Python,\n"
		   "5 unsupported Python, 6 not found, 7 corrupt heap, 8 mismatched executable, 9 system error\n");
}

static int parse_pid(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return (*s && !*end && v > 0 && v < 1 << 30) ? (int)v : -1;
}

int main(int argc, char **argv)
{
	ins_source src = { 0 };
	int i = 1, index_mode = INS_CLI_INDEX_AUTO;
	const char *index_file = NULL;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "--index") == 0 || strcmp(opt, "--no-index") == 0) {
			index_mode = opt[2] == 'i' ? INS_CLI_INDEX_USE : INS_CLI_INDEX_NEVER;
			continue;
		}
		if (strcmp(opt, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(opt, "--version") == 0) {
			printf("objinspect %s\n", ins_version());
			return 0;
		}
		if (i + 1 >= argc || (strcmp(opt, "--exe") && strcmp(opt, "--sysroot") && strcmp(opt, "--pid") &&
				      strcmp(opt, "--debug-dir") && strcmp(opt, "--index-file"))) {
			fprintf(stderr, "error: %s '%s' (try --help)\n",
				i + 1 >= argc ? "missing value for" : "unknown option", opt);
			return 2;
		}
		const char *v = argv[++i];
		if (strcmp(opt, "--exe") == 0)
			src.exe = v;
		else if (strcmp(opt, "--sysroot") == 0)
			src.sysroot = v;
		else if (strcmp(opt, "--debug-dir") == 0)
			src.debug_dir = v;
		else if (strcmp(opt, "--index-file") == 0)
			index_file = v;
		else if ((src.pid = parse_pid(v)) < 0) {
			fprintf(stderr, "error: --pid needs a process id, not '%s'\n", v);
			return 2;
		}
	}
	if (!src.pid) {
		if (i >= argc) {
			usage(stderr);
			return 2;
		}
		src.core = argv[i++];
	}
	src.attach = 1;
	if (i >= argc) {
		fprintf(stderr, "error: no command given (try --help)\n");
		return 2;
	}
	if (src.pid && (index_mode == INS_CLI_INDEX_USE || index_file)) {
		fprintf(stderr, "error: --index and --index-file are for cores: a live process has no index\n");
		return 2;
	}
	ins_ctx *ctx = ins_ctx_new();
	ins_ctx_set_index(ctx, index_mode, index_file);
	char *out = NULL, *err = NULL;
	int code = ins_run(ctx, &src, argc - i, argv + i, &out, &err);
	fputs(out, stdout);
	fputs(err, stderr);
	ins_free(out);
	ins_free(err);
	ins_ctx_free(ctx);
	return code;
}
