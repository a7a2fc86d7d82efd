/* error.c -- error values. */
#define _GNU_SOURCE
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef INS_VERSION
#define INS_VERSION "0.0.0"
#endif

static char nomem_message[] = "out of memory";
static ins_error nomem_error = { INS_ERR_NOMEM, nomem_message };

ins_error *ins_err_nomem(void)
{
	return &nomem_error;
}

ins_error *ins_err(int code, const char *fmt, ...)
{
	ins_error *err = malloc(sizeof(*err));
	if (!err)
		return ins_err_nomem();
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&err->message, fmt, ap);
	va_end(ap);
	if (n < 0) {
		free(err);
		return ins_err_nomem();
	}
	err->code = code;
	return err;
}

void ins_error_free(ins_error *err)
{
	if (!err || err == &nomem_error)
		return;
	free(err->message);
	free(err);
}

void ins_free(void *p)
{
	free(p);
}

const char *ins_version(void)
{
	return INS_VERSION;
}
