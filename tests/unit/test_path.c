/* dcfs_path_normalize, dcfs_path_parent, dcfs_path_base. */
#include <errno.h>
#include <stdlib.h>

#include "path.h"
#include "tap.h"

static void normalizes(const char *in, const char *want)
{
	char *out = NULL;
	int r = dcfs_path_normalize(in, &out);
	tap_result(r == 0 && tap_str_eq(out, want), __FILE__, __LINE__, "normalize '%s' -> '%s'", in,
		   want);
	if (r != 0 || !tap_str_eq(out, want))
		tap_diag("  got r=%d out='%s'", r, out ? out : "(null)");
	free(out);
}

static void refuses(const char *in)
{
	char *out = NULL;
	int r = dcfs_path_normalize(in, &out);
	tap_result(r == -EPERM && out == NULL, __FILE__, __LINE__, "normalize '%s' refused with -EPERM",
		   in);
	if (r != -EPERM)
		tap_diag("  got r=%d out='%s'", r, out ? out : "(null)");
	if (r == 0)
		free(out);
}

static void parent_base(const char *path, const char *parent, const char *base)
{
	char *p = dcfs_path_parent(path);
	tap_result(tap_str_eq(p, parent), __FILE__, __LINE__, "parent of '%s' is '%s'", path, parent);
	free(p);
	tap_result(tap_str_eq(dcfs_path_base(path), base), __FILE__, __LINE__, "base of '%s' is '%s'",
		   path, base);
}

int main(void)
{
	normalizes("./a//b/", "a/b");
	normalizes("/abs", "abs");
	normalizes("", "");
	normalizes(".", "");
	normalizes("/", "");
	normalizes("//./", "");
	normalizes("./", "");
	normalizes("a", "a");
	normalizes("a/./b/.", "a/b");
	normalizes("/usr/bin/env", "usr/bin/env");
	normalizes("a///b////c/", "a/b/c");
	normalizes(".hidden/..x/...", ".hidden/..x/...");
	normalizes("a b/c\tx", "a b/c\tx");

	refuses("..");
	refuses("../a");
	refuses("a/../b");
	refuses("a/..");
	refuses("/../etc/passwd");
	refuses("./a/b/../../..");

	parent_base("a/b/c", "a/b", "c");
	parent_base("a", "", "a");
	parent_base("", "", "");
	parent_base("usr/bin", "usr", "bin");

	/* The normalized form is a fixed point. */
	char *once = NULL, *twice = NULL;
	CHECK(dcfs_path_normalize("//x/./y//z/", &once) == 0);
	CHECK(once && dcfs_path_normalize(once, &twice) == 0);
	CHECK_STR(twice, once);
	free(once);
	free(twice);
	return tap_done();
}
