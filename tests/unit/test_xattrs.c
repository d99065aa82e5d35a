/* The catalog's xattr encoding: add, sort, iterate; equal sets encode equally; malformed input
 * stops the iteration instead of reading past the buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "xattrs.h"

typedef struct attr {
	const char *name;
	const char *value;
	size_t value_len;
} attr;

/* Sorted by name, as memcmp orders them (a prefix sorts first). */
static const attr sorted[] = {
	{"security.capability", "\x01\x00\x00\x02", 4},
	{"trusted.overlay.opaque", "y", 1},
	{"user.a", "", 0},
	{"user.ab", "with\0nul", 8},
	{"user.b", "second", 6},
};
#define NATTRS (sizeof(sorted) / sizeof(sorted[0]))

static int build(dcfs_xattrs *x, const size_t *order)
{
	for (size_t i = 0; i < NATTRS; i++) {
		const attr *a = &sorted[order[i]];
		int r = dcfs_xattrs_add(x, a->name, a->value, a->value_len);
		if (r < 0)
			return r;
	}
	return dcfs_xattrs_sort(x);
}

/* Iterate and compare with `sorted`; returns the number of records seen, or -1 on a mismatch. */
static long walk(const unsigned char *buf, size_t len)
{
	size_t pos = 0, n = 0, nl, vl;
	const char *name;
	const void *value;
	while (dcfs_xattrs_next(buf, len, &pos, &name, &nl, &value, &vl)) {
		if (n >= NATTRS)
			return -1;
		const attr *a = &sorted[n];
		if (nl != strlen(a->name) || memcmp(name, a->name, nl) != 0 || vl != a->value_len ||
		    (vl && memcmp(value, a->value, vl) != 0))
			return -1;
		n++;
	}
	return (long)n;
}

int main(void)
{
	static const size_t forward[NATTRS] = {0, 1, 2, 3, 4};
	static const size_t backward[NATTRS] = {4, 3, 2, 1, 0};
	static const size_t shuffled[NATTRS] = {3, 0, 4, 2, 1};

	/* empty set */
	dcfs_xattrs x = {0};
	CHECK(dcfs_xattrs_sort(&x) == 0);
	CHECK_INT(x.len, 0);
	CHECK_INT(walk(x.buf, x.len), 0);

	/* round trip */
	CHECK(build(&x, forward) == 0);
	CHECK_INT(walk(x.buf, x.len), NATTRS);
	size_t want_len = 0;
	for (size_t i = 0; i < NATTRS; i++)
		want_len += 2 + strlen(sorted[i].name) + 4 + sorted[i].value_len;
	CHECK_INT(x.len, want_len);

	/* the encoding is little endian: u16 name length, name, u32 value length, value */
	CHECK(x.buf[0] == strlen(sorted[0].name) && x.buf[1] == 0);
	size_t vpos = 2 + strlen(sorted[0].name);
	CHECK(x.buf[vpos] == 4 && x.buf[vpos + 1] == 0 && x.buf[vpos + 2] == 0 && x.buf[vpos + 3] == 0);

	/* the order of addition does not matter */
	dcfs_xattrs y = {0}, z = {0};
	CHECK(build(&y, backward) == 0);
	CHECK(build(&z, shuffled) == 0);
	CHECK(y.len == x.len && memcmp(y.buf, x.buf, x.len) == 0);
	CHECK(z.len == x.len && memcmp(z.buf, x.buf, x.len) == 0);
	CHECK_INT(walk(z.buf, z.len), NATTRS);

	/* a single record sorts to itself */
	dcfs_xattrs one = {0};
	CHECK(dcfs_xattrs_add(&one, "user.only", "v", 1) == 0);
	CHECK(dcfs_xattrs_sort(&one) == 0);
	CHECK_INT(one.len, 2 + 9 + 4 + 1);
	dcfs_xattrs_free(&one);
	CHECK(one.buf == NULL && one.len == 0 && one.cap == 0);

	/* a large value */
	size_t big = 70000;
	char *bigv = malloc(big);
	CHECK(bigv != NULL);
	if (bigv) {
		memset(bigv, 'x', big);
		CHECK(dcfs_xattrs_add(&one, "user.big", bigv, big) == 0);
		CHECK(dcfs_xattrs_add(&one, "user.a", "1", 1) == 0);
		CHECK(dcfs_xattrs_sort(&one) == 0);
		size_t pos = 0, nl, vl;
		const char *name;
		const void *value;
		CHECK(dcfs_xattrs_next(one.buf, one.len, &pos, &name, &nl, &value, &vl) && nl == 6 &&
		      vl == 1);
		CHECK(dcfs_xattrs_next(one.buf, one.len, &pos, &name, &nl, &value, &vl) && nl == 8 &&
		      vl == big && memcmp(value, bigv, big) == 0);
		CHECK(!dcfs_xattrs_next(one.buf, one.len, &pos, &name, &nl, &value, &vl));
		free(bigv);
		dcfs_xattrs_free(&one);
	}

	/* malformed buffers: every truncation stops the walk early and never overreads
	 * (each prefix is copied to its own allocation so ASan catches a read past it) */
	bool all_ok = true;
	for (size_t cut = 0; cut < x.len; cut++) {
		unsigned char *copy = malloc(cut ? cut : 1);
		if (!copy)
			return tap_done();
		memcpy(copy, x.buf, cut);
		long n = walk(copy, cut);
		if (n < 0 || n >= (long)NATTRS)
			all_ok = false;
		free(copy);
	}
	CHECK(all_ok);

	/* a name length running past the end */
	unsigned char bad1[] = {0xff, 0xff, 'a', 'b'};
	CHECK_INT(walk(bad1, sizeof(bad1)), 0);
	/* a value length running past the end */
	unsigned char bad2[] = {1, 0, 'a', 0xff, 0xff, 0xff, 0xff, 'v'};
	CHECK_INT(walk(bad2, sizeof(bad2)), 0);
	/* a good record followed by a stray byte: the walk yields the record and stops */
	unsigned char bad3[] = {3, 0, 'a', 'b', 'c', 0, 0, 0, 0, 9};
	size_t pos = 0, nl, vl;
	const char *name;
	const void *value;
	CHECK(dcfs_xattrs_next(bad3, sizeof(bad3), &pos, &name, &nl, &value, &vl) && nl == 3 &&
	      memcmp(name, "abc", 3) == 0 && vl == 0);
	CHECK(!dcfs_xattrs_next(bad3, sizeof(bad3), &pos, &name, &nl, &value, &vl));
	CHECK_INT(pos, 9);

	/* a name too long for the u16 length is refused */
	size_t huge = 70000;
	char *hname = malloc(huge + 1);
	if (hname) {
		memset(hname, 'n', huge);
		hname[huge] = '\0';
		dcfs_xattrs h = {0};
		CHECK(dcfs_xattrs_add(&h, hname, "v", 1) == -E2BIG);
		CHECK_INT(h.len, 0);
		dcfs_xattrs_free(&h);
		free(hname);
	}

	dcfs_xattrs_free(&x);
	dcfs_xattrs_free(&y);
	dcfs_xattrs_free(&z);
	return tap_done();
}
