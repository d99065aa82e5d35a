/* The byte-string hash map: put, get, overwrite, growth to 100k keys, binary keys. */
#include <stdio.h>
#include <string.h>

#include "map.h"
#include "tap.h"

int main(void)
{
	dcfs_map m = {0};
	size_t v = 0;

	CHECK(!dcfs_map_get(&m, "a", 1, &v)); /* empty map */

	CHECK(dcfs_map_put(&m, "usr/bin", 7, 1) == 0);
	CHECK(dcfs_map_put(&m, "usr/lib", 7, 2) == 0);
	CHECK(dcfs_map_get(&m, "usr/bin", 7, &v) && v == 1);
	CHECK(dcfs_map_get(&m, "usr/lib", 7, &v) && v == 2);
	CHECK(!dcfs_map_get(&m, "usr", 3, &v));
	CHECK(!dcfs_map_get(&m, "usr/bin/", 8, &v));
	CHECK_INT(m.count, 2);

	/* overwrite keeps one entry */
	CHECK(dcfs_map_put(&m, "usr/bin", 7, 42) == 0);
	CHECK(dcfs_map_get(&m, "usr/bin", 7, &v) && v == 42);
	CHECK_INT(m.count, 2);

	/* the key is copied */
	char key[8] = "tmp";
	CHECK(dcfs_map_put(&m, key, 3, 7) == 0);
	memcpy(key, "xyz", 3);
	CHECK(dcfs_map_get(&m, "tmp", 3, &v) && v == 7);
	CHECK(!dcfs_map_get(&m, "xyz", 3, &v));

	/* the empty key */
	CHECK(!dcfs_map_get(&m, "", 0, &v));
	CHECK(dcfs_map_put(&m, "", 0, 99) == 0);
	CHECK(dcfs_map_get(&m, "", 0, &v) && v == 99);
	dcfs_map_free(&m);
	CHECK(m.slots == NULL && m.cap == 0 && m.count == 0);

	/* binary keys: embedded NULs, prefixes of each other, differing only in the last byte */
	const unsigned char k1[] = {0, 0, 0, 1};
	const unsigned char k2[] = {0, 0, 0, 2};
	const unsigned char k3[] = {0, 0, 0};
	const unsigned char k4[] = {0xff, 0, 0x80, 0};
	CHECK(dcfs_map_put(&m, k1, sizeof(k1), 1) == 0);
	CHECK(dcfs_map_put(&m, k2, sizeof(k2), 2) == 0);
	CHECK(dcfs_map_put(&m, k3, sizeof(k3), 3) == 0);
	CHECK(dcfs_map_put(&m, k4, sizeof(k4), 4) == 0);
	CHECK(dcfs_map_get(&m, k1, sizeof(k1), &v) && v == 1);
	CHECK(dcfs_map_get(&m, k2, sizeof(k2), &v) && v == 2);
	CHECK(dcfs_map_get(&m, k3, sizeof(k3), &v) && v == 3);
	CHECK(dcfs_map_get(&m, k4, sizeof(k4), &v) && v == 4);
	CHECK(!dcfs_map_get(&m, k1, 2, &v));
	CHECK_INT(m.count, 4);
	dcfs_map_free(&m);

	/* 100k keys: every one found with its value, none invented, growth keeps the load < 3/4 */
	enum { N = 100000 };
	char buf[64];
	bool ok = true;
	for (size_t i = 0; i < N && ok; i++) {
		int n = snprintf(buf, sizeof(buf), "layer/%zu/file", i);
		ok = dcfs_map_put(&m, buf, (size_t)n, i * 3) == 0;
	}
	CHECK(ok);
	CHECK_INT(m.count, N);
	CHECK(m.count * 4 <= m.cap * 3);
	CHECK((m.cap & (m.cap - 1)) == 0); /* a power of two */
	size_t found = 0, wrong = 0;
	for (size_t i = 0; i < N; i++) {
		int n = snprintf(buf, sizeof(buf), "layer/%zu/file", i);
		if (dcfs_map_get(&m, buf, (size_t)n, &v)) {
			found++;
			if (v != i * 3)
				wrong++;
		}
	}
	CHECK_INT(found, N);
	CHECK_INT(wrong, 0);
	size_t phantom = 0;
	for (size_t i = N; i < 2 * N; i++) {
		int n = snprintf(buf, sizeof(buf), "layer/%zu/file", i);
		if (dcfs_map_get(&m, buf, (size_t)n, &v))
			phantom++;
	}
	CHECK_INT(phantom, 0);
	/* overwrite them all: the count stays */
	ok = true;
	for (size_t i = 0; i < N && ok; i++) {
		int n = snprintf(buf, sizeof(buf), "layer/%zu/file", i);
		ok = dcfs_map_put(&m, buf, (size_t)n, i) == 0;
	}
	CHECK(ok);
	CHECK_INT(m.count, N);
	CHECK(dcfs_map_get(&m, "layer/99999/file", 16, &v) && v == 99999);
	dcfs_map_free(&m);

	/* 100k 32-byte binary keys (the ingest keys chunks by raw digest) */
	ok = true;
	unsigned char d[32];
	for (size_t i = 0; i < N && ok; i++) {
		memset(d, 0, sizeof(d));
		memcpy(d + 24, &i, sizeof(i));
		ok = dcfs_map_put(&m, d, sizeof(d), i + 1) == 0;
	}
	CHECK(ok);
	found = 0;
	for (size_t i = 0; i < N; i++) {
		memset(d, 0, sizeof(d));
		memcpy(d + 24, &i, sizeof(i));
		if (dcfs_map_get(&m, d, sizeof(d), &v) && v == i + 1)
			found++;
	}
	CHECK_INT(found, N);
	dcfs_map_free(&m);
	return tap_done();
}
