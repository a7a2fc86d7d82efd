/* dict.c -- iterating dicts of every layout family:
 *   2.7        ma_table of (hash, key, value) entries, ma_mask + 1 of them;
 *   3.6-3.10   ma_keys -> dk_size, dk_indices[dk_size * index width], then entries;
 *   3.11+      dk_log2_size, dk_log2_index_bytes, and (hash, key, value) or
 *              unicode-keyed (key, value) entries after the indices.
 * Split tables (shared keys) keep their values in ma_values.
 */
#include "object.h"

#include <string.h>

typedef struct dict_view {
	uint64_t entries, values;  /* values: 0 unless split */
	int64_t n;                 /* entries to scan */
	int64_t entry_size, key_off, value_off;
} dict_view;

static int index_width(int64_t size)
{
	return size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffLL ? 4 : 8;
}

static bool view(ins_objects *o, uint64_t dict, dict_view *v)
{
	const ins_layout *L = &o->in->L;
	ins_image *img = o->img;
	memset(v, 0, sizeof(*v));
	v->key_off = L->dentry_key;
	v->value_off = L->dentry_value;
	v->entry_size = L->sizeof_dict_entry;
	if (L->dict_table >= 0) {  /* 2.7 */
		int64_t mask;
		if (!ins_image_u64(img, dict + (uint64_t)L->dict_table, &v->entries) ||
		    !ins_image_i64(img, dict + (uint64_t)L->dict_mask, &mask))
			return false;
		v->n = mask + 1;
		return mask >= 0 && mask < (1LL << 40);
	}
	uint64_t keys;
	if (!ins_image_u64(img, dict + (uint64_t)L->dict_keys, &keys) ||
	    !ins_image_u64(img, dict + (uint64_t)L->dict_values, &v->values) ||
	    !ins_image_i64(img, keys + (uint64_t)L->dk_nentries, &v->n))
		return false;
	if (L->dk_size >= 0) {  /* 3.6-3.10 */
		int64_t size;
		if (!ins_image_i64(img, keys + (uint64_t)L->dk_size, &size) || size <= 0 || size > (1LL << 40))
			return false;
		v->entries = keys + (uint64_t)L->dk_indices + (uint64_t)(size * index_width(size));
	} else {                /* 3.11+ */
		uint8_t log2_index_bytes, kind;
		if (!ins_image_read(img, keys + (uint64_t)L->dk_log2_index_bytes, &log2_index_bytes, 1) ||
		    !ins_image_read(img, keys + (uint64_t)L->dk_kind, &kind, 1) || log2_index_bytes > 40)
			return false;
		v->entries = keys + (uint64_t)L->dk_indices + ((uint64_t)1 << log2_index_bytes);
		if (kind != 0) {  /* DICT_KEYS_UNICODE or DICT_KEYS_SPLIT */
			v->entry_size = L->sizeof_dict_uentry;
			v->key_off = L->duentry_key;
			v->value_off = L->duentry_value;
		}
		if (v->values)
			v->values += (uint64_t)L->dvalues_values;
	}
	return v->n >= 0 && v->n < (1LL << 40);
}

bool ins_dict_items(ins_objects *o, uint64_t dict, ins_dict_fn fn, void *arg)
{
	dict_view v;
	if (!view(o, dict, &v))
		return false;
	/* the common case: the entries (and split values) in one segment, read in place */
	const uint8_t *ents = ins_image_fast(o->img, v.entries, (size_t)(v.n * v.entry_size));
	const uint8_t *vals = v.values ? ins_image_ptr(o->img, v.values, (size_t)v.n * 8) : NULL;
	for (int64_t i = 0; i < v.n; i++) {
		uint64_t e = v.entries + (uint64_t)(i * v.entry_size), key, value;
		if (ents)
			memcpy(&key, ents + i * v.entry_size + v.key_off, 8);
		else if (!ins_image_u64(o->img, e + (uint64_t)v.key_off, &key))
			return false;
		if (vals) {
			memcpy(&value, vals + i * 8, 8);
		} else if (v.values) {
			if (!ins_image_u64(o->img, v.values + (uint64_t)i * 8, &value))
				return false;
		} else if (ents) {
			memcpy(&value, ents + i * v.entry_size + v.value_off, 8);
		} else if (!ins_image_u64(o->img, e + (uint64_t)v.value_off, &value)) {
			return false;
		}
		if (key && value && !fn(arg, key, value))
			break;
	}
	return true;
}

typedef struct find_str {
	ins_objects *o;
	const char *key;
	uint64_t value;
	bool found;
} find_str;

static bool match_key(void *arg, uint64_t key, uint64_t value)
{
	find_str *f = arg;
	ins_buf b = { 0 };
	size_t n = strlen(f->key);
	if (ins_str_text(f->o, key, &b, n + 1) && b.len == n && memcmp(b.data, f->key, n) == 0) {
		f->value = value;
		f->found = true;
	}
	ins_buf_free(&b);
	return !f->found;
}

bool ins_dict_get_str(ins_objects *o, uint64_t dict, const char *key, uint64_t *value)
{
	find_str f = { o, key, 0, false };
	if (!dict || !ins_dict_items(o, dict, match_key, &f) || !f.found)
		return false;
	*value = f.value;
	return true;
}
