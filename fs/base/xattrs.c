/* The catalog's encoding of extended attributes (see xattrs.h). */
#include "xattrs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int dcfs_xattrs_add(dcfs_xattrs *x, const char *name, const void *value, size_t value_len)
{
	size_t nlen = strlen(name);
	if (nlen > UINT16_MAX || value_len > UINT32_MAX)
		return -E2BIG;
	size_t need = x->len + 2 + nlen + 4 + value_len;
	if (need > x->cap) {
		size_t cap = x->cap ? x->cap : 128;
		while (cap < need)
			cap *= 2;
		unsigned char *b = realloc(x->buf, cap);
		if (!b)
			return -ENOMEM;
		x->buf = b;
		x->cap = cap;
	}
	unsigned char *p = x->buf + x->len;
	p[0] = (unsigned char)nlen;
	p[1] = (unsigned char)(nlen >> 8);
	memcpy(p + 2, name, nlen);
	p += 2 + nlen;
	uint32_t v = (uint32_t)value_len;
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
	if (value_len)
		memcpy(p + 4, value, value_len);
	x->len = need;
	return 0;
}

bool dcfs_xattrs_next(const unsigned char *buf, size_t len, size_t *pos, const char **name,
		      size_t *name_len, const void **value, size_t *value_len)
{
	size_t p = *pos;
	if (p + 2 > len)
		return false;
	size_t nlen = (size_t)buf[p] | (size_t)buf[p + 1] << 8;
	p += 2;
	if (p + nlen + 4 > len)
		return false;
	*name = (const char *)buf + p;
	*name_len = nlen;
	p += nlen;
	size_t vlen = (size_t)buf[p] | (size_t)buf[p + 1] << 8 | (size_t)buf[p + 2] << 16 |
		      (size_t)buf[p + 3] << 24;
	p += 4;
	if (p + vlen > len)
		return false;
	*value = buf + p;
	*value_len = vlen;
	*pos = p + vlen;
	return true;
}

typedef struct rec {
	const unsigned char *start;
	size_t len;
	const char *name;
	size_t name_len;
} rec;

static int cmp_rec(const void *a, const void *b)
{
	const rec *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);
	if (c)
		return c;
	return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

int dcfs_xattrs_sort(dcfs_xattrs *x)
{
	size_t n = 0, pos = 0;
	const char *name;
	const void *value;
	size_t nl, vl;
	while (dcfs_xattrs_next(x->buf, x->len, &pos, &name, &nl, &value, &vl))
		n++;
	if (n < 2)
		return 0;
	rec *recs = calloc(n, sizeof(*recs));
	unsigned char *out = malloc(x->len);
	if (!recs || !out) {
		free(recs);
		free(out);
		return -ENOMEM;
	}
	pos = 0;
	for (size_t i = 0; i < n; i++) {
		size_t start = pos;
		dcfs_xattrs_next(x->buf, x->len, &pos, &name, &nl, &value, &vl);
		recs[i] = (rec){.start = x->buf + start, .len = pos - start, .name = name, .name_len = nl};
	}
	qsort(recs, n, sizeof(*recs), cmp_rec);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(out + off, recs[i].start, recs[i].len);
		off += recs[i].len;
	}
	free(recs);
	free(x->buf);
	x->buf = out;
	x->cap = x->len;
	return 0;
}

void dcfs_xattrs_free(dcfs_xattrs *x)
{
	free(x->buf);
	x->buf = NULL;
	x->len = x->cap = 0;
}
