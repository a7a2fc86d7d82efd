/* buf.c -- growable text buffers and JSON escaping. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool buf_reserve(ins_buf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void ins_buf_putn(ins_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void ins_buf_puts(ins_buf *b, const char *s)
{
	ins_buf_putn(b, s, strlen(s));
}

void ins_buf_putc(ins_buf *b, char c)
{
	ins_buf_putn(b, &c, 1);
}

void ins_buf_printf(ins_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *ins_buf_take(ins_buf *b)
{
	char *s = b->data;
	if (!s || b->oom) {
		free(s);
		s = calloc(1, 1);
	}
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
	return s;
}

void ins_buf_free(ins_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	if (s[0] < 0x80)
		return 1;
	else if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		len = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* no overlong forms, no surrogates, nothing above U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

void ins_json_strn(ins_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	ins_buf_putc(b, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		if (c == '"' || c == '\\') {
			ins_buf_putc(b, '\\');
			ins_buf_putc(b, (char)c);
			i++;
		} else if (c < 0x20) {
			ins_buf_printf(b, "\\u%04x", c);
			i++;
		} else {
			size_t k = utf8_seq(u + i, n - i);
			if (k == 0) {
				ins_buf_puts(b, "\\ufffd");
				i++;
			} else {
				ins_buf_putn(b, s + i, k);
				i += k;
			}
		}
	}
	ins_buf_putc(b, '"');
}

void ins_json_str(ins_buf *b, const char *s)
{
	if (!s)
		ins_buf_puts(b, "null");
	else
		ins_json_strn(b, s, strlen(s));
}

void ins_json_key(ins_buf *b, const char *key, bool first)
{
	if (!first)
		ins_buf_putc(b, ',');
	ins_json_str(b, key);
	ins_buf_putc(b, ':');
}

void ins_json_addr(ins_buf *b, uint64_t addr)
{
	ins_buf_printf(b, "\"0x%llx\"", (unsigned long long)addr);
}
