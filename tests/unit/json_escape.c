/* json_escape.c -- ins_json_str/strn: quotes and backslashes escaped, control characters
 * as \u00XX, every byte that is not part of valid UTF-8 replaced by \ufffd, valid
 * multi-byte UTF-8 kept as it is; and the text buffer under it (growth, printf, take). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"


/* ins_json_strn of n bytes of in must give exactly want. */
static void json_is(const char *what, const char *in, size_t n, const char *want)
{
	ins_buf b = { 0 };
	ins_json_strn(&b, in, n);
	char *got = ins_buf_take(&b);
	CHECK(strcmp(got, want) == 0, "%s: %s", what, got);
	if (strcmp(got, want) != 0)
		printf("     expected %s\n", want);
	free(got);
}

#define JSON_IS(what, lit, want) json_is(what, lit, sizeof(lit) - 1, want)

int main(void)
{
	JSON_IS("plain ASCII", "abc XYZ 0123 ~", "\"abc XYZ 0123 ~\"");
	JSON_IS("empty string", "", "\"\"");
	JSON_IS("double quote", "say \"hi\"", "\"say \\\"hi\\\"\"");
	JSON_IS("backslash", "C:\\dir\\", "\"C:\\\\dir\\\\\"");
	JSON_IS("newline, tab, CR", "a\nb\tc\r", "\"a\\u000ab\\u0009c\\u000d\"");
	JSON_IS("control characters 0x01 and 0x1f", "\x01-\x1f", "\"\\u0001-\\u001f\"");
	JSON_IS("a NUL byte inside the string", "a\0b", "\"a\\u0000b\"");
	JSON_IS("DEL (0x7f) is not a control character for JSON", "\x7f", "\"\x7f\"");

	/* valid UTF-8 is kept byte for byte */
	JSON_IS("2-byte UTF-8 (e acute)", "caf\xc3\xa9", "\"caf\xc3\xa9\"");
	JSON_IS("3-byte UTF-8 (euro sign)", "\xe2\x82\xac", "\"\xe2\x82\xac\"");
	JSON_IS("4-byte UTF-8 (U+1F600)", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
	JSON_IS("highest code point U+10FFFF", "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
	JSON_IS("U+0080 (smallest 2-byte)", "\xc2\x80", "\"\xc2\x80\"");

	/* invalid UTF-8: each offending byte becomes \ufffd */
	JSON_IS("a lone 0xff", "a\xff" "b", "\"a\\ufffdb\"");
	JSON_IS("a lone continuation byte", "\x80", "\"\\ufffd\"");
	JSON_IS("overlong 2-byte (0xc0 0xaf)", "\xc0\xaf", "\"\\ufffd\\ufffd\"");
	JSON_IS("0xc1 lead byte (overlong)", "\xc1\xbf", "\"\\ufffd\\ufffd\"");
	JSON_IS("2-byte sequence cut by the end", "x\xc3", "\"x\\ufffd\"");
	JSON_IS("3-byte sequence cut by the end", "\xe2\x82", "\"\\ufffd\\ufffd\"");
	JSON_IS("4-byte sequence cut by the end", "\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\"");
	JSON_IS("lead byte followed by ASCII", "\xc3(", "\"\\ufffd(\"");
	JSON_IS("encoded surrogate (0xed 0xa0 0x80)", "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	JSON_IS("overlong 3-byte (0xe0 0x80 0xaf)", "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	JSON_IS("overlong 4-byte (0xf0 0x80 0x80 0xaf)", "\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	JSON_IS("above U+10FFFF (0xf4 0x90 0x80 0x80)", "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	JSON_IS("U+10FFFF itself is kept", "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
	JSON_IS("0xf5 lead byte (beyond U+10FFFF)", "\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	JSON_IS("a valid character after invalid bytes", "\xff\xc3\xa9\"", "\"\\ufffd\xc3\xa9\\\"\"");

	/* only n bytes are read: a string cut in the middle of a character */
	json_is("strn stops at n inside a character", "\xc3\xa9xyz", 1, "\"\\ufffd\"");

	ins_buf b = { 0 };
	ins_json_str(&b, NULL);
	ins_buf_putc(&b, ' ');
	ins_json_key(&b, "k\"ey", true);
	ins_json_addr(&b, 0x7f00dead0010ULL);
	ins_json_key(&b, "n", false);
	ins_buf_printf(&b, "%d", 42);
	char *s = ins_buf_take(&b);
	CHECK(strcmp(s, "null \"k\\\"ey\":\"0x7f00dead0010\",\"n\":42") == 0, "json null, keys, addresses: %s", s);
	free(s);

	/* the buffer grows well past its first allocation and keeps every byte */
	for (int i = 0; i < 5000; i++)
		ins_buf_printf(&b, "%04d,", i);
	s = ins_buf_take(&b);
	int good = strlen(s) == 25000;
	char expect[8];
	for (int i = 0; good && i < 5000; i++) {
		snprintf(expect, sizeof(expect), "%04d,", i);
		good = memcmp(s + 5 * i, expect, 5) == 0;
	}
	CHECK(good, "25000 bytes written in 5000 printfs come back intact");
	free(s);
	s = ins_buf_take(&b);
	CHECK(s && s[0] == '\0', "take of an empty buffer gives an empty string, not NULL");
	free(s);
	ins_buf_free(&b);

	return check_summary();
}
