/* live.c -- live processes as memory images.
 *
 * With attach=1 (objinspect --pid) every thread is stopped with PTRACE_SEIZE +
 * PTRACE_INTERRUPT, the readable private and anonymous mappings are copied once out of
 * /proc/PID/mem, and every thread is detached again: the process resumes exactly where
 * it was, and nothing is ever written to it. With attach=0 the process is already
 * stopped by its tracer (GDB), and we only read.
 * Only code (executable file mappings) is not copied: the file-backed fallback reads it from
 * disk. Read-only data is copied: RELRO pages (.data.rel.ro, .got) were relocated by the
 * dynamic loader before they were made read-only, so the file does not hold their values.
 */
#define _GNU_SOURCE
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct tids {
	pid_t *v;
	size_t n;
} tids;

static bool tids_has(const tids *t, pid_t tid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i] == tid)
			return true;
	return false;
}

static void detach_all(tids *t)
{
	for (size_t i = 0; i < t->n; i++)
		ptrace(PTRACE_DETACH, t->v[i], NULL, NULL);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* Stops every thread; loops until no new thread appears. */
static ins_error *attach_all(int pid, tids *t)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	for (int round = 0; round < 100; round++) {
		DIR *d = opendir(dir);
		if (!d)
			return ins_err(INS_ERR_OS, "no process %d", pid);
		bool added = false;
		struct dirent *de;
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)atoi(de->d_name);
			if (tid <= 0 || tids_has(t, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
				int e = errno;
				if (e == ESRCH)
					continue;  /* the thread just exited */
				closedir(d);
				return ins_err(INS_ERR_OS, "cannot attach to process %d: %s", pid, strerror(e));
			}
			pid_t *v = realloc(t->v, (t->n + 1) * sizeof(*v));
			if (!v) {
				ptrace(PTRACE_DETACH, tid, NULL, NULL);
				closedir(d);
				return ins_err_nomem();
			}
			t->v = v;
			t->v[t->n++] = tid;
			added = true;
			ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
			int status;
			while (waitpid(tid, &status, __WALL) < 0 && errno == EINTR)
				;
		}
		closedir(d);
		if (!added)
			return NULL;
	}
	return ins_err(INS_ERR_OS, "process %d keeps creating threads; cannot stop it", pid);
}

/* ins_copy_fn over /proc/PID/mem. */
static size_t read_mem(void *arg, uint64_t addr, void *buf, size_t len)
{
	int memfd = *(int *)arg;
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(memfd, (uint8_t *)buf + got, len - got, (off_t)(addr + got));
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static ins_error *read_maps(ins_image *img, int pid, const char *sysroot)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int memfd = open(path, O_RDONLY | O_CLOEXEC);
	if (memfd < 0)
		return ins_err(INS_ERR_OS, "cannot read the memory of process %d: %s", pid, strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		close(memfd);
		return ins_err(INS_ERR_OS, "no process %d", pid);
	}
	char exe[4096] = "";
	char link[64];
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	ssize_t el = readlink(link, exe, sizeof(exe) - 1);
	exe[el > 0 ? el : 0] = '\0';
	char *del = strstr(exe, " (deleted)");
	if (del)
		*del = '\0';

	ins_error *err = NULL;
	char line[4096 + 256];
	while (!err && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, offset;
		char perms[8];
		int name_at = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &offset, &name_at) < 4)
			continue;
		char *name = line + name_at;
		name[strcspn(name, "\n")] = '\0';
		bool file = name[0] == '/';
		if (file) {
			char *d = strstr(name, " (deleted)");
			if (d)
				*d = '\0';
			err = ins_image_add_mapping(img, start, end, offset, name, sysroot);
			if (!err && img->exe_file < 0 && strcmp(name, exe) == 0)
				img->exe_file = (long)img->nfiles - 1;
		}
		if (!err && perms[0] == 'r' && (perms[1] == 'w' || perms[2] != 'x' || !file) &&
		    strcmp(name, "[vvar]") != 0 && strcmp(name, "[vsyscall]") != 0)
			err = ins_image_copy(img, read_mem, &memfd, start, end);
	}
	fclose(f);
	close(memfd);
	return err;
}

/* Every thread's stack pointer, from /proc/PID/task/TID/syscall ("NR ARGS... SP PC", or
 * "-1 SP PC" out of a system call), which the kernel gives for a thread that is stopped:
 * all of them or none (a thread that runs, a file that cannot be read: threads unknown). */
static ins_error *read_thread_sps(ins_image *img, int pid)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	bool ok = true;
	ins_error *err = NULL;
	struct dirent *de;
	while (ok && !err && (de = readdir(d))) {
		int tid = atoi(de->d_name);
		if (tid <= 0)
			continue;
		char path[96], line[512];
		snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
		FILE *f = fopen(path, "re");
		size_t n = f ? fread(line, 1, sizeof(line) - 1, f) : 0;
		if (f)
			fclose(f);
		line[n] = '\0';
		/* the next to last field */
		char *fields[16];
		size_t nf = 0;
		for (char *save = NULL, *w = strtok_r(line, " \n", &save); w && nf < 16;
		     w = strtok_r(NULL, " \n", &save))
			fields[nf++] = w;
		char *end = NULL;
		unsigned long long sp = nf >= 3 ? strtoull(fields[nf - 2], &end, 16) : 0;
		if (nf < 3 || !end || *end || !sp)
			ok = false; /* "running", or unreadable */
		else
			err = ins_image_add_thread(img, sp);
	}
	closedir(d);
	img->threads_known = ok && !err && img->nthreads;
	if (!img->threads_known)
		img->nthreads = 0;
	return err;
}

ins_error *ins_live_open(ins_image *img, const ins_source *src, ins_buf *warn)
{
	(void)warn;
	img->kind = INS_IMAGE_LIVE;
	img->pid = src->pid;
	if (src->pid <= 0)
		return ins_err(INS_ERR_USAGE, "no core file and no process id given");
	if (asprintf(&img->description, "live process %d", src->pid) < 0)
		return ins_err_nomem();
	if (src->pid == getpid())
		return ins_err(INS_ERR_USAGE, "cannot inspect myself (pid %d)", src->pid);
	if (kill(src->pid, 0) < 0 && errno == ESRCH)
		return ins_err(INS_ERR_OS, "no process %d", src->pid);
	tids t = { NULL, 0 };
	ins_error *err = src->attach ? attach_all(src->pid, &t) : NULL;
	if (!err)
		err = read_maps(img, src->pid, NULL);
	if (!err)
		err = read_thread_sps(img, src->pid);
	detach_all(&t);
	return err;
}
