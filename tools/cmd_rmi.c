/* dcfs rmi REF...: remove images, then reclaim the layers, contents and chunks only they used. */
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "gc.h"
#include "image_list.h"
#include "ref.h"

int cmd_rmi(int argc, char **argv, dcfs_cli *cli)
{
	if (argc < 2)
		return cli_usage(cli, "expected at least one REF");
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			return cli_usage(cli, "unknown option '%s'", argv[i]);
	dcfs_store *s = NULL;
	if (cli_store(cli, &s) < 0)
		return 1;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		/* Accept both the short form the store uses and any spelling of it. */
		dcfs_ref ref;
		_cleanup_free_ char *name = NULL;
		if (dcfs_ref_parse(argv[i], &ref, NULL) == 0) {
			name = dcfs_ref_name(&ref);
			dcfs_ref_free(&ref);
		}
		dcfs_error err _cleanup_error_ = {0};
		int r = dcfs_image_remove(s, name ? name : argv[i], &err);
		if (r == -ENOENT && name && strcmp(name, argv[i]) != 0)
			r = dcfs_image_remove(s, argv[i], &err);
		if (r < 0) {
			fprintf(stderr, "dcfs: rmi: %s\n", err.msg);
			rc = 1;
			continue;
		}
		printf("Untagged: %s\n", name ? name : argv[i]);
	}
	dcfs_gc_stats st = {0};
	if (dcfs_gc(s, false, &st, &cli->err) < 0)
		return 1;
	char freed[16];
	cli_human_size(st.chunk_bytes, freed);
	printf("Deleted: %llu layers, %llu chunks, %s reclaimed\n", (unsigned long long)st.layers,
	       (unsigned long long)st.chunks, freed);
	return rc;
}
