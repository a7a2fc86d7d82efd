/* image_bounds.c -- every read of a memory image is bounds-checked: inside a segment,
 * straddling its end, across two adjacent segments, in gaps, at address 0, near
 * UINT64_MAX (no wrap-around), in the file-backed fallback past the end of the file, and
 * ins_image_cstr with no NUL within its limit. The image is built by hand. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "check.h"


/* Segment layout (addresses) */
#define A_START 0x1000u     /* [A_START, A_START + 0x100): bytes (i % 251) + 1, never 0 */
#define B_START 0x1100u     /* adjacent to A, same length: bytes 0xff - (i % 200) */
#define C_START 0x5000u     /* 16 bytes: "hello\0" then 'x' */
#define LOW_START 0x20u     /* [0x20, 0x30) */
#define TOP_LEN 16u         /* [UINT64_MAX - 16, UINT64_MAX): the highest a segment reaches */
#define FILE_MAP 0x9000u    /* a 0x1000-byte mapping of a 100-byte file */
#define FILE_LEN 100u

static uint8_t a[0x100], b[0x100], c[16], low[16], top[TOP_LEN], dumped[8];

static void segment(ins_image *img, uint64_t start, const uint8_t *data, size_t len)
{
	ins_error *err = ins_image_add_segment(img, start, start + len, data);
	if (err) {
		printf("FAIL ins_image_add_segment: %s\n", err->message);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	for (size_t i = 0; i < sizeof(a); i++) {
		a[i] = (uint8_t)(i % 251 + 1);
		b[i] = (uint8_t)(0xff - i % 200);
	}
	memcpy(c, "hello\0xxxxxxxxxx", 16);
	memset(low, 0x11, sizeof(low));
	memset(top, 0x7e, sizeof(top));

	/* a 100-byte file, mapped over a whole page at FILE_MAP; it starts like a 64-bit ELF
	 * file, since an image uses only the files a core could have recorded */
	char path[4096];
	snprintf(path, sizeof(path), "%s/image_bounds.XXXXXX", dir);
	int fd = mkstemp(path);
	uint8_t fbytes[FILE_LEN];
	for (size_t i = 0; i < FILE_LEN; i++)
		fbytes[i] = (uint8_t)(0xa0 + i % 16);
	memcpy(fbytes, "\177ELF\2", 5);
	if (fd < 0 || write(fd, fbytes, FILE_LEN) != (ssize_t)FILE_LEN) {
		printf("FAIL cannot write a temporary file in %s\n", dir);
		return 1;
	}
	close(fd);

	ins_image *img = calloc(1, sizeof(*img));
	img->exe_file = -1;
	/* added out of order: ins_image_finish sorts */
	segment(img, C_START, c, sizeof(c));
	segment(img, B_START, b, sizeof(b));
	segment(img, UINT64_MAX - TOP_LEN, top, sizeof(top));
	segment(img, A_START, a, sizeof(a));
	segment(img, LOW_START, low, sizeof(low));
	/* dumped bytes inside the file mapping: they win over the file's */
	memset(dumped, 0x5d, sizeof(dumped));
	segment(img, FILE_MAP + 40, dumped, sizeof(dumped));
	ins_error *err = ins_image_add_mapping(img, FILE_MAP, FILE_MAP + 0x1000, 0, path, NULL);
	if (err) {
		printf("FAIL ins_image_add_mapping: %s\n", err->message);
		return 1;
	}
	ins_image_finish(img);

	uint8_t buf[0x300], want[64];
	uint64_t v;

	/* inside one segment */
	memset(buf, 0, sizeof(buf));
	CHECK(ins_image_read(img, A_START + 0x10, buf, 32) && memcmp(buf, a + 0x10, 32) == 0,
	      "read 32 bytes inside a segment");
	CHECK(ins_image_read(img, A_START, buf, sizeof(a)) && memcmp(buf, a, sizeof(a)) == 0,
	      "read of a whole segment");
	const uint8_t *p = ins_image_ptr(img, A_START + 4, 8);
	CHECK(p == a + 4, "ptr inside a segment points into its data");
	CHECK(ins_image_fast(img, A_START + 4, 8) == a + 4, "fast ptr inside a segment");
	CHECK(ins_image_u64(img, C_START + 8, &v) && memcmp(&v, c + 8, 8) == 0, "u64 at the last 8 bytes of a segment");

	/* straddling the end of a segment with a gap after it */
	CHECK(!ins_image_read(img, C_START + 12, buf, 8), "read straddling the end of a segment fails");
	CHECK(!ins_image_ptr(img, C_START + 12, 8), "ptr straddling the end of a segment is NULL");
	CHECK(!ins_image_fast(img, C_START + 12, 8), "fast ptr straddling the end of a segment is NULL");
	CHECK(!ins_image_u64(img, C_START + 12, &v), "u64 straddling the end of a segment fails");
	CHECK(!ins_image_in_segments(img, C_START + 12, 8), "in_segments straddling the end is false");
	CHECK(ins_image_in_segments(img, C_START + 8, 8), "in_segments up to the end is true");
	CHECK(!ins_image_read(img, C_START + sizeof(c), buf, 1), "read of the first byte after a segment fails");
	CHECK(!ins_image_read(img, A_START - 1, buf, 2), "read starting one byte before a segment fails");

	/* across two adjacent segments */
	memcpy(want, a + sizeof(a) - 8, 8);
	memcpy(want + 8, b, 8);
	memset(buf, 0, sizeof(buf));
	CHECK(ins_image_read(img, B_START - 8, buf, 16) && memcmp(buf, want, 16) == 0,
	      "read across two adjacent segments returns both halves");
	CHECK(ins_image_u64(img, B_START - 4, &v) && memcmp(&v, want + 4, 8) == 0,
	      "u64 across two adjacent segments");
	CHECK(!ins_image_read(img, B_START - 8, buf, 8 + sizeof(b) + 1),
	      "read across adjacent segments and past the second fails");

	/* address 0 and the gap below the first segment */
	CHECK(!ins_image_read(img, 0, buf, 1), "read of 1 byte at address 0 fails");
	CHECK(!ins_image_u64(img, 0, &v), "u64 at address 0 fails");
	CHECK(!ins_image_ptr(img, 0, 8), "ptr at address 0 is NULL");
	CHECK(!ins_image_read(img, LOW_START - 8, buf, 16), "read from a gap into a segment fails");
	CHECK(ins_image_read(img, LOW_START, buf, 16) && memcmp(buf, low, 16) == 0, "read of the low segment");
	char *s0 = ins_image_cstr(img, 0, 16);
	CHECK(s0 == NULL, "cstr at address 0 is NULL");
	free(s0);

	/* the top of the address space: nothing may wrap around to address 0 */
	uint64_t near = UINT64_MAX - 3;
	CHECK(!ins_image_read(img, near, buf, 8), "read of 8 bytes at UINT64_MAX-3 fails");
	CHECK(!ins_image_u64(img, near, &v), "u64 at UINT64_MAX-3 fails");
	CHECK(!ins_image_ptr(img, near, 8), "ptr at UINT64_MAX-3 is NULL");
	CHECK(!ins_image_fast(img, near, 8), "fast ptr at UINT64_MAX-3 is NULL");
	CHECK(!ins_image_in_segments(img, near, 8), "in_segments at UINT64_MAX-3 is false");
	CHECK(ins_image_read(img, near, buf, 3) && memcmp(buf, top + TOP_LEN - 3, 3) == 0,
	      "read of the 3 bytes up to the top segment's end");
	CHECK(!ins_image_read(img, UINT64_MAX, buf, 1), "read at UINT64_MAX fails");
	CHECK(!ins_image_read(img, UINT64_MAX - TOP_LEN - 4, buf, 8), "read into the top segment from below fails");
	char *st = ins_image_cstr(img, near, 64);
	CHECK(st == NULL, "cstr at UINT64_MAX-3 with no NUL is NULL");
	free(st);

	/* the file-backed fallback: the mapping is a page, the file only 100 bytes */
	CHECK(ins_image_read(img, FILE_MAP + 90, buf, 10) && memcmp(buf, fbytes + 90, 10) == 0,
	      "read of the file's last 10 bytes through its mapping");
	CHECK(!ins_image_read(img, FILE_MAP + 96, buf, 8), "read straddling the end of the mapped file fails");
	CHECK(!ins_image_read(img, FILE_MAP + 0x800, buf, 8), "read inside the mapping but past the file's end fails");
	CHECK(!ins_image_ptr(img, FILE_MAP + 0xffc, 8), "ptr straddling the end of a mapping is NULL");
	CHECK(!ins_image_in_segments(img, FILE_MAP, 8), "file-backed bytes are not in_segments");
	memcpy(want, fbytes + 32, 8);
	memcpy(want + 8, dumped, 8);
	memcpy(want + 16, fbytes + 48, 8);
	CHECK(ins_image_read(img, FILE_MAP + 32, buf, 24) && memcmp(buf, want, 24) == 0,
	      "a read from the file into a dumped segment and out again takes each byte from its owner");
	CHECK(!ins_image_ptr(img, FILE_MAP + 32, 16), "no single pointer spans file and segment");

	/* ins_image_cstr */
	char *s = ins_image_cstr(img, C_START, 64);
	CHECK(s && strcmp(s, "hello") == 0, "cstr of \"hello\" (got %s)", s ? s : "NULL");
	free(s);
	s = ins_image_cstr(img, C_START, 3);
	CHECK(s == NULL, "cstr of \"hello\" with max 3 is NULL (no NUL within max)");
	free(s);
	s = ins_image_cstr(img, A_START, 64);
	CHECK(s == NULL, "cstr with no NUL within max is NULL");
	free(s);
	s = ins_image_cstr(img, A_START, 0x1000);
	CHECK(s == NULL, "cstr running off two adjacent segments into a gap is NULL");
	free(s);
	b[5] = 0;  /* now a string from A runs into B and ends there */
	s = ins_image_cstr(img, B_START - 8, 64);
	memcpy(want, a + sizeof(a) - 8, 8);
	memcpy(want + 8, b, 5);
	CHECK(s && strlen(s) == 13 && memcmp(s, want, 13) == 0, "cstr across adjacent segments");
	free(s);
	s = ins_image_cstr(img, FILE_MAP + 50, 200);
	CHECK(s == NULL, "cstr running past the end of a mapped file is NULL");
	free(s);

	free(img->segs);
	img->segs = NULL;
	img->nsegs = 0;
	ins_image_close(img);
	unlink(path);
	return check_summary();
}
