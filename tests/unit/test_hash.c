/* SHA-256: known vectors, hex round trip, streaming equals one-shot, hasher reuse. */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "tap.h"

static const char empty_hex[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char abc_hex[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
/* "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" (FIPS 180-2, example 2) */
static const char two_block_hex[] =
	"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

int main(void)
{
	dcfs_hash h;
	char hex[DCFS_HASH_HEX];

	dcfs_hash_buf("", 0, &h);
	dcfs_hash_to_hex(&h, hex);
	CHECK_STR(hex, empty_hex);

	dcfs_hash_buf("abc", 3, &h);
	dcfs_hash_to_hex(&h, hex);
	CHECK_STR(hex, abc_hex);

	const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	dcfs_hash_buf(msg, strlen(msg), &h);
	dcfs_hash_to_hex(&h, hex);
	CHECK_STR(hex, two_block_hex);

	/* hex round trip */
	dcfs_hash back;
	CHECK(dcfs_hash_from_hex(abc_hex, &back));
	dcfs_hash_buf("abc", 3, &h);
	CHECK_MEM(back.b, h.b, DCFS_HASH_LEN);
	dcfs_hash_to_hex(&back, hex);
	CHECK_STR(hex, abc_hex);
	CHECK(strlen(hex) == 64);

	/* malformed hex is refused */
	CHECK(!dcfs_hash_from_hex(NULL, &back));
	CHECK(!dcfs_hash_from_hex("", &back));
	CHECK(!dcfs_hash_from_hex("abc", &back));
	char bad[80];
	memcpy(bad, abc_hex, 63);
	bad[63] = '\0';
	CHECK(!dcfs_hash_from_hex(bad, &back)); /* 63 digits */
	memcpy(bad, abc_hex, 65);
	bad[64] = '0';
	bad[65] = '\0';
	CHECK(!dcfs_hash_from_hex(bad, &back)); /* 65 digits */
	memcpy(bad, abc_hex, 65);
	bad[10] = 'g';
	CHECK(!dcfs_hash_from_hex(bad, &back)); /* not hex */
	memcpy(bad, abc_hex, 65);
	bad[0] = 'B';
	CHECK(!dcfs_hash_from_hex(bad, &back)); /* uppercase: names are lowercase */

	/* streaming equals one-shot, for several split patterns over 3 MiB of data */
	size_t n = 3u << 20;
	unsigned char *data = malloc(n);
	CHECK(data != NULL);
	if (!data)
		return tap_done();
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)(x >> 16);
	}
	static const size_t steps[] = {1, 7, 63, 64, 65, 4096, 1000003, 3u << 20};
	dcfs_hasher st;
	dcfs_hasher_init(&st);
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		size_t step = steps[s];
		size_t limit = step == 1 ? 100000 : n; /* byte-by-byte over a prefix only */
		for (size_t off = 0; off < limit; off += step)
			dcfs_hasher_update(&st, data + off, off + step > limit ? limit - off : step);
		dcfs_hasher_final(&st, &h); /* also resets for the next round */
		dcfs_hash ref;
		dcfs_hash_buf(data, limit, &ref);
		tap_result(memcmp(h.b, ref.b, DCFS_HASH_LEN) == 0, __FILE__, __LINE__,
			   "streaming in steps of %zu equals one-shot", step);
	}
	/* zero-length updates change nothing, and a reused hasher starts fresh */
	dcfs_hasher_update(&st, data, 0);
	dcfs_hasher_update(&st, "ab", 2);
	dcfs_hasher_update(&st, NULL, 0);
	dcfs_hasher_update(&st, "c", 1);
	dcfs_hasher_final(&st, &h);
	dcfs_hash_to_hex(&h, hex);
	CHECK_STR(hex, abc_hex);
	dcfs_hasher_final(&st, &h);
	dcfs_hash_to_hex(&h, hex);
	CHECK_STR(hex, empty_hex);
	dcfs_hasher_free(&st);
	CHECK(st.ctx == NULL);
	free(data);
	return tap_done();
}
