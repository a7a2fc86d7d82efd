/* pystr.c -- reading str objects (3.x PEP 393 str; 2.7 str and unicode) as UTF-8. */
#include "object.h"

#include <string.h>

static void put_utf8(ins_buf *b, uint32_t c)
{
	char s[4];
	size_t n;
	if (c < 0x80) {
		s[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		s[0] = (char)(0xc0 | (c >> 6));
		s[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		s[0] = (char)(0xe0 | (c >> 12));
		s[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		s[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		s[0] = (char)(0xf0 | ((c >> 18) & 0x07));
		s[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		s[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		s[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	ins_buf_putn(b, s, n);
}

/* Code points of width `width` at addr, len of them, as UTF-8 of at most max bytes. */
static bool put_chars(ins_objects *o, uint64_t addr, int64_t len, int width, ins_buf *out, size_t max)
{
	if (len < 0 || (width != 1 && width != 2 && width != 4))
		return false;
	size_t start = out->len;
	uint8_t chunk[256];
	for (int64_t i = 0; i < len && out->len - start < max;) {
		int64_t n = len - i;
		if (n > (int64_t)(sizeof(chunk) / (size_t)width))
			n = (int64_t)(sizeof(chunk) / (size_t)width);
		if (!ins_image_read(o->img, addr + (uint64_t)(i * width), chunk, (size_t)(n * width)))
			return false;
		for (int64_t k = 0; k < n; k++) {
			uint32_t c;
			if (width == 1)
				c = chunk[k];
			else if (width == 2) {
				uint16_t v;
				memcpy(&v, chunk + 2 * k, 2);
				c = v;
			} else
				memcpy(&c, chunk + 4 * k, 4);
			put_utf8(out, c > 0x10ffff ? 0xfffd : c);
		}
		i += n;
	}
	return true;
}

static bool str3(ins_objects *o, uint64_t obj, ins_buf *out, size_t max)
{
	const ins_layout *L = &o->in->L;
	uint32_t state;
	int64_t len;
	if (!ins_image_read(o->img, obj + (uint64_t)L->unicode_state, &state, 4) ||
	    !ins_image_i64(o->img, obj + (uint64_t)L->unicode_length, &len))
		return false;
	int kind = (int)((state >> L->unicode_kind_bit) & 7);
	bool compact = (state >> L->unicode_compact_bit) & 1;
	bool ascii = (state >> L->unicode_ascii_bit) & 1;
	uint64_t data;
	if (compact)
		data = obj + (uint64_t)(ascii ? L->sizeof_ascii : L->sizeof_compact);
	else if (!ins_image_u64(o->img, obj + (uint64_t)L->unicode_data, &data))
		return false;
	return put_chars(o, data, len, kind, out, max);
}

bool ins_str_text(ins_objects *o, uint64_t obj, ins_buf *out, size_t max)
{
	enum ins_kind kind;
	const ins_layout *L = &o->in->L;
	if (!ins_obj_kind(o, obj, &kind))  /* not ins_obj_type: type naming calls us */
		return false;
	if (o->in->major >= 3)
		return kind == INS_K_STR && str3(o, obj, out, max);
	int64_t len;
	if (kind == INS_K_BYTES) {  /* 2.7 str */
		if (!ins_image_i64(o->img, obj + (uint64_t)L->var_size, &len))
			return false;
		return put_chars(o, obj + (uint64_t)L->bytes_sval, len, 1, out, max);
	}
	if (kind == INS_K_STR) {    /* 2.7 unicode */
		uint64_t data;
		if (!ins_image_i64(o->img, obj + (uint64_t)L->unicode_length, &len) ||
		    !ins_image_u64(o->img, obj + (uint64_t)L->unicode_data, &data))
			return false;
		return put_chars(o, data, len, (int)L->sizeof_py_unicode, out, max);
	}
	return false;
}
