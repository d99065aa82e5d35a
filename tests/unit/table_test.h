/* For the unit tests of the table owners: made-up hashes, callbacks that record what an owner's
 * iteration gave, and the reference-count check every owner of counted rows has (the catalog in
 * a temporary folder is tmp_catalog.h's). */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "hash.h"
#include "tap.h"
#include "tmp_catalog.h"

__attribute__((unused)) static dcfs_hash hash_of(unsigned char seed)
{
	dcfs_hash h;
	memset(h.b, seed, sizeof(h.b));
	return h;
}

/* What the callbacks below saw: how many calls, the last id and counts. */
typedef struct seen {
	int count;
	int64_t id, recorded, actual;
} seen;

__attribute__((unused)) static int on_mismatch(void *u, int64_t id, int64_t recorded,
					       int64_t actual, dcfs_error *e)
{
	(void)e;
	seen *s = u;
	*s = (seen){.count = s->count + 1, .id = id, .recorded = recorded, .actual = actual};
	return 0;
}

__attribute__((unused)) static int on_blob(void *u, int64_t blob_id, dcfs_error *e)
{
	(void)e;
	seen *s = u;
	s->id = blob_id;
	s->count++;
	return 0;
}

/* An owner's reference-count check finds no wrong row; once `set` gives row `id` a count of
 * `refs` (the rows say 0), it finds that row alone, with both counts. */
__attribute__((unused)) static void check_wrong_refs(
	sqlite3 *db, int (*wrong)(sqlite3 *, dcfs_catalog_mismatch_fn, void *, dcfs_error *),
	int (*set)(sqlite3 *, int64_t, int64_t, dcfs_error *), int64_t id, int64_t refs)
{
	dcfs_error e = {0};
	seen s = {0};
	CHECK_INT(wrong(db, on_mismatch, &s, &e), 0);
	CHECK_INT(s.count, 0);
	CHECK_INT(set(db, id, refs, &e), 0);
	CHECK_INT(wrong(db, on_mismatch, &s, &e), 0);
	CHECK_INT(s.count, 1);
	CHECK_INT(s.id, id);
	CHECK_INT(s.recorded, refs);
	CHECK_INT(s.actual, 0);
	dcfs_error_clear(&e);
}
