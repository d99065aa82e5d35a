/* ${devcontainerId}: the values the spec's label-based computation gives (checked with its
 * JavaScript implementation in Node.js), and its substitution in a string. */
#include <stdlib.h>
#include <string.h>

#include "substitute.h"
#include "tap.h"

static void known_values(void)
{
	char id[53];
	dcfs_error e = {0};
	CHECK_INT(dcfs_devcontainer_id("/home/dev/proj", "/home/dev/proj/.devcontainer/devcontainer.json", id, &e), 0);
	CHECK_STR(id, "1doad7nfla9kk5en39fsj5hl42j983cs1h7n7t7u2n7pgoio33ga");
	/* escapes and UTF-8 as JSON.stringify writes them */
	CHECK_INT(dcfs_devcontainer_id("/a \"q\" \xc3\xa9", "/b/c.json", id, &e), 0);
	CHECK_STR(id, "1o230b9fqsfqpmj6au245dbbm00g7esb72s0vnpm620f5tiakkmc");
	CHECK_INT(strlen(id), 52);
}

static void substituted(void)
{
	dcfs_subst_ctx ctx = {.devcontainer_id = "abc123", .source = "devcontainer.json"};
	dcfs_error e = {0};
	char *out = NULL;
	CHECK_INT(dcfs_subst_string(&ctx, "vol-${devcontainerId}", &out, &e), 0);
	CHECK_STR(out, "vol-abc123");
	free(out);
}

int main(void)
{
	known_values();
	substituted();
	return tap_done();
}
