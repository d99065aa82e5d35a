/* The owners of the `containers` and `volumes` tables (fs/store/container_table.h,
 * volume_table.h) on a real catalog in a store made in a temporary folder: recording, finding,
 * listing, changing and deleting rows, and the figures du and fsck read from them, checked
 * against the sums the catalog's triggers keep. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "container_table.h"
#include "fsutil.h"
#include "image_record.h"
#include "store.h"
#include "tap.h"
#include "tmp_catalog.h"
#include "volume_table.h"

static dcfs_container row(const char *id, const char *name, const char *folder,
			  const char *config_file, bool variant, int64_t image_id)
{
	return (dcfs_container){.id = (char *)id, .name = (char *)name, .folder = (char *)folder,
				.config_file = (char *)config_file, .variant = variant,
				.image_id = image_id};
}

static int64_t image_id(dcfs_store *s, const char *ref)
{
	int64_t id = 0;
	dcfs_catalog_int(s->db, "SELECT id FROM images WHERE ref = ?1", ref, &id, NULL);
	return id;
}

/* Three figures recomputed from the rows: as expected, and as the catalog's sums say. */
static void check_sums(const char *names[3], const int64_t want[3], const int64_t got[3],
		       dcfs_store *s)
{
	for (int i = 0; i < 3; i++) {
		CHECK_INT(got[i], want[i]);
		CHECK_INT(got[i], dcfs_catalog_sum(s->db, names[i]));
	}
}

static void test_containers(dcfs_store *s, int64_t img)
{
	dcfs_error e = {0};
	dcfs_container a = row("a1", "proj-1", "/src/proj", "/src/proj/.devcontainer.json", false, img);
	dcfs_container b = row("b2", "proj-2", "/src/proj", "/src/proj/other.json", true, img);
	CHECK_INT(dcfs_container_table_insert(s, &a, &e), 0);
	CHECK_INT(dcfs_container_table_insert(s, &b, &e), 0);
	CHECK(dcfs_container_table_insert(s, &a, &e) < 0); /* the id is the key */
	dcfs_error_clear(&e);

	dcfs_container c = {0};
	CHECK_INT(dcfs_container_table_find(s, "/src/proj", NULL, &c, &e), 0);
	CHECK_STR(c.id, "a1");
	CHECK_STR(c.state, "created");
	CHECK_INT(c.image_id, img);
	CHECK(c.image == NULL);
	CHECK(!c.variant);
	dcfs_container_free(&c);
	CHECK_INT(dcfs_container_table_find(s, "/src/proj", "/src/proj/other.json", &c, &e), 0);
	CHECK_STR(c.id, "b2");
	CHECK(c.variant);
	dcfs_container_free(&c);
	CHECK_INT(dcfs_container_table_find(s, "/src/none", NULL, &c, &e), -ENOENT);
	CHECK_INT(dcfs_container_table_get(s, "zz", &c, &e), -ENOENT);

	CHECK_INT(dcfs_container_table_set_state(s, "a1", "running", &e), 0);
	CHECK_INT(dcfs_container_table_set_upper_bytes(s, "a1", 1000, &e), 0);
	CHECK_INT(dcfs_container_table_set_upper_bytes(s, "b2", 24, &e), 0);
	CHECK_INT(dcfs_container_table_rename(s, "b2", "renamed", &e), 0);
	CHECK_INT(dcfs_container_table_rename(s, "b2", "proj-1", &e), -EEXIST);
	dcfs_error_clear(&e);
	CHECK_INT(dcfs_container_table_get(s, "b2", &c, &e), 0);
	CHECK_STR(c.name, "renamed");
	CHECK_INT(c.upper_bytes, 24);
	dcfs_container_free(&c);

	dcfs_container *list = NULL;
	size_t n = 0;
	CHECK_INT(dcfs_container_table_list(s, &list, &n, &e), 0);
	CHECK_INT(n, 2);
	if (n == 2) /* made in the same second: by name */
		CHECK_STR(list[0].name, "proj-1");
	dcfs_container_list_free(list, n);

	char *user = NULL;
	CHECK_INT(dcfs_container_table_image_user(s, img, &user, &e), 1);
	CHECK(user && (!strcmp(user, "proj-1") || !strcmp(user, "renamed")));
	free(user);
	CHECK_INT(dcfs_container_table_image_user(s, img + 1000, &user, &e), 0);
	CHECK(user == NULL);

	dcfs_container_figures f;
	CHECK_INT(dcfs_container_table_figures(s, &f, &e), 0);
	CHECK_INT(f.images_used, 1);
	CHECK_INT(f.snapshots_used, 0);
	CHECK_INT(f.idle_bytes, 24);
	int64_t want[] = {2, 1, 1024}, got[] = {f.containers, f.running, f.upper_bytes};
	check_sums((const char *[]){"containers", "containers_running", "container_bytes"}, want,
		   got, s);

	CHECK_INT(dcfs_container_table_delete(s, "a1", &e), 0);
	CHECK_INT(dcfs_container_table_delete(s, "b2", &e), 0);
	CHECK_INT(dcfs_container_table_list(s, &list, &n, &e), 0);
	CHECK_INT(n, 0);
	dcfs_container_list_free(list, n);
	CHECK_INT(dcfs_catalog_sum(s->db, "containers"), 0);
	dcfs_error_clear(&e);
}

static void test_volumes(dcfs_store *s)
{
	dcfs_error e = {0};
	int64_t v = -1;
	CHECK_INT(dcfs_volume_table_count(s, &v, &e), 0);
	CHECK_INT(v, 0);
	CHECK_INT(dcfs_volume_table_upsert(s, "data", 100, true, &e), 0);
	CHECK_INT(dcfs_volume_table_upsert(s, "cache", 7, false, &e), 0);
	CHECK_INT(dcfs_volume_table_upsert(s, "data", 300, true, &e), 0); /* an update */
	CHECK_INT(dcfs_volume_table_count(s, &v, &e), 0);
	CHECK_INT(v, 2);

	dcfs_volume_info *list = NULL;
	size_t n = 0;
	CHECK_INT(dcfs_volumes_list(s, &list, &n, &e), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(list[0].name, "cache");
		CHECK_INT(list[0].bytes, 7);
		CHECK(!list[0].in_use);
		CHECK_STR(list[1].name, "data");
		CHECK_INT(list[1].bytes, 300);
		CHECK(list[1].in_use);
	}
	dcfs_volumes_list_free(list, n);

	dcfs_volume_figures f;
	CHECK_INT(dcfs_volume_table_figures(s, &f, &e), 0);
	CHECK_INT(f.idle_bytes, 7);
	int64_t want[] = {2, 1, 307}, got[] = {f.volumes, f.in_use, f.bytes};
	check_sums((const char *[]){"volumes", "volumes_in_use", "volume_bytes"}, want, got, s);

	CHECK_INT(dcfs_volume_table_delete(s, "data", &e), 0);
	CHECK_INT(dcfs_volume_table_delete(s, "absent", &e), 0);
	CHECK_INT(dcfs_volume_table_count(s, &v, &e), 0);
	CHECK_INT(v, 1);
	CHECK_INT(dcfs_catalog_sum(s->db, "volume_bytes"), 7);
	dcfs_error_clear(&e);
}

int main(void)
{
	tmp_store t;
	dcfs_store *s = tmp_store_open(&t, "container-table");
	dcfs_error e = {0};
	if (s) {
		int r = dcfs_image_record(s, "example:1", "{}", NULL, 0, &e);
		if (!tap_result(r == 0, __FILE__, __LINE__, "an image without layers is recorded"))
			tap_diag("  %s", e.msg ? e.msg : "?");
		test_containers(s, image_id(s, "example:1"));
		test_volumes(s);
	}
	dcfs_error_clear(&e);
	tmp_store_remove(&t);
	return tap_done();
}
