/* workspaceMount: dcfs_workspace_mount_parse (Docker's --mount syntax, strictly) and
 * dcfs_workspace_mount_path_of. */
#include <stdlib.h>
#include <string.h>

#include "workspace_mount.h"
#include "tap.h"

static void parsed(const char *text, const char *type, const char *source, const char *target,
		   bool ro)
{
	dcfs_workspace_mount m;
	dcfs_error e = {0};
	int r = dcfs_workspace_mount_parse(text, "dc.json", &m, &e);
	bool ok = r == 0 && tap_str_eq(m.type, type) && tap_str_eq(m.source, source) &&
		  tap_str_eq(m.target, target) && m.readonly == ro;
	if (!tap_result(ok, __FILE__, __LINE__, "%s", text))
		tap_diag("  r=%d %s %s %s: %s", r, r ? "" : m.type, r ? "" : m.source,
			 r ? "" : m.target, e.msg ? e.msg : "");
	if (r == 0)
		dcfs_workspace_mount_free(&m);
	dcfs_error_clear(&e);
}

static void refused(const char *text, const char *want)
{
	dcfs_workspace_mount m;
	dcfs_error e = {0};
	int r = dcfs_workspace_mount_parse(text, "dc.json", &m, &e);
	if (!tap_result(r < 0 && e.msg && strstr(e.msg, want), __FILE__, __LINE__,
			"%s is refused with '%s'", text, want))
		tap_diag("  r=%d: %s", r, e.msg ? e.msg : "");
	dcfs_error_clear(&e);
}

static void path_of(const char *source, const char *target, const char *folder, const char *want)
{
	dcfs_workspace_mount m = {.type = "bind", .source = (char *)source, .target = (char *)target};
	char *got = dcfs_workspace_mount_path_of(&m, folder);
	if (!tap_result(want ? tap_str_eq(got, want) : !got, __FILE__, __LINE__, "%s in %s:%s is %s",
			folder, source, target, want ? want : "(none)"))
		tap_diag("  got %s", got ? got : "(none)");
	free(got);
}

int main(void)
{
	parsed("type=bind,source=/a/b,target=/w", "bind", "/a/b", "/w", false);
	parsed("src=/a/b/..,dst=/w,type=bind,consistency=cached,readonly", "bind", "/a", "/w", true);
	parsed("\"source=/a,b\",destination=/w,type=bind,ro=false", "bind", "/a,b", "/w", false);
	parsed("\"source=/say \"\"hi\"\"\",target=/w,type=bind", "bind", "/say \"hi\"", "/w", false);
	parsed("type=volume,source=data,target=/w", "volume", "data", "/w", false);
	parsed("source=data,target=/w", "volume", "data", "/w", false); /* Docker's default type */
	refused("type=tmpfs,target=/w", "dc.json: workspaceMount: type 'tmpfs' is not supported");
	refused("type=bind,source=rel,target=/w", "the bind source 'rel' is not an absolute path");
	refused("type=bind,target=/w", "a bind mount needs a source");
	refused("type=bind,source=/a,target=w", "needs an absolute target, not 'w'");
	refused("type=bind,source=/a,target=/w,bind-propagation=shared",
		"unknown key 'bind-propagation'");
	refused("type=bind,source,target=/w", "'source' needs a value");
	refused("type=volume,source=../x,target=/w", "bad volume name '../x'");
	path_of("/home/me/proj", "/workspaces/proj", "/home/me/proj", "/workspaces/proj");
	path_of("/home/me", "/workspaces", "/home/me/proj", "/workspaces/proj");
	path_of("/home/me", "/workspaces/", "/home/me/proj", "/workspaces/proj");
	path_of("/", "/host", "/home/me", "/host/home/me");
	path_of("/home/me/proj/src", "/w", "/home/me/proj", NULL);
	path_of("/home/me/pro", "/w", "/home/me/proj", NULL);
	return tap_done();
}
