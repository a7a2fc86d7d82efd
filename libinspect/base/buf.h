/* buf.h -- growable text buffers, and JSON written into them.
 *
 * A buffer that failed to grow remembers it (oom) and ignores later writes, so callers
 * write freely and check once at the end.
 */
#ifndef INS_BUF_H
#define INS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct ins_buf {
	char *data;
	size_t len, cap;
	bool oom;
} ins_buf;

void ins_buf_putn(ins_buf *b, const char *s, size_t n);
void ins_buf_puts(ins_buf *b, const char *s);
void ins_buf_putc(ins_buf *b, char c);
void ins_buf_printf(ins_buf *b, const char *fmt, ...) INS_PRINTF(2, 3);
/* Hands the NUL-terminated contents to the caller and empties the buffer. */
char *ins_buf_take(ins_buf *b);
void ins_buf_free(ins_buf *b);

/* JSON: a quoted, escaped string (bytes that are not valid UTF-8 become \ufffd). */
void ins_json_str(ins_buf *b, const char *s);
void ins_json_strn(ins_buf *b, const char *s, size_t n);
/* "key": with a leading comma unless first. */
void ins_json_key(ins_buf *b, const char *key, bool first);
void ins_json_addr(ins_buf *b, uint64_t addr);  /* "0x7f..." */

#endif
