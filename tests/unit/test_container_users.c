/* Users inside the container, from a throwaway root's /etc/passwd and /etc/group:
 * dcfs_user_resolve (names, numbers, "user:group", missing fields, overlong and duplicate lines)
 * and dcfs_user_update_uid (the updateRemoteUserUID rewrite of both files). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"
#include "tap.h"
#include "user_uid.h"

#define PASSWD                                                                                     \
	"root:x:0:0:root:/root:/bin/bash\n"                                                        \
	"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"                                        \
	"short:x\n"                                                                                \
	"nohome:x:1001:1001\n"                                                                     \
	"badid:x:abc:1002::/home/badid:/bin/sh\n"                                                  \
	"dev:x:1000:1000:Dev,,,:/home/dev:/bin/sh\n"                                               \
	"dev:x:2000:2000::/home/second:/bin/sh\n"                                                  \
	"twin:x:1000:3000::/home/twin:/bin/sh\n"                                                   \
	"big:x:4294967294:5::/big:/bin/sh\n"                                                       \
	"over:x:4294967295:5::/over:/bin/sh\n"

#define GROUP                                                                                      \
	"root:x:0:\n"                                                                              \
	"tty:x:5:\n"                                                                               \
	"dev:x:1000:\n"                                                                            \
	"staff:x:50:dev\n"                                                                         \
	"noid:x\n"                                                                                 \
	"staff:x:51:\n"

static void write_file(const char *root, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/etc/%s", root, name);
	FILE *f = fopen(path, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static char *read_back(const char *root, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/etc/%s", root, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return strdup("(missing)");
	char *text = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&text, &cap, 0, f);
	fclose(f);
	if (n < 0) {
		free(text);
		return strdup("");
	}
	return text;
}

static void make_root(char *root, const char *passwd, const char *group)
{
	strcpy(root, "/tmp/dcfs-users-XXXXXX");
	if (!mkdtemp(root))
		abort();
	char etc[512];
	snprintf(etc, sizeof(etc), "%s/etc", root);
	if (mkdir(etc, 0755) < 0)
		abort();
	if (passwd)
		write_file(root, "passwd", passwd);
	if (group)
		write_file(root, "group", group);
}

static void remove_root(const char *root)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/etc/passwd", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/etc/group", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/etc", root);
	rmdir(p);
	rmdir(root);
}

static void resolved(const char *root, const char *spec, uint32_t uid, uint32_t gid,
		     const char *name, const char *home)
{
	dcfs_user u;
	dcfs_error e = {0};
	int r = dcfs_user_resolve(root, spec, &u, &e);
	bool ok = r == 0 && u.uid == uid && u.gid == gid && tap_str_eq(u.name, name) &&
		  tap_str_eq(u.home, home);
	if (!tap_result(ok, __FILE__, __LINE__, "'%s' is %u:%u %s %s", spec ? spec : "(null)", uid,
			gid, name ? name : "(no name)", home))
		tap_diag("  r=%d %u:%u %s %s: %s", r, u.uid, u.gid, u.name ? u.name : "(null)",
			 u.home ? u.home : "(null)", e.msg ? e.msg : "");
	if (r == 0)
		dcfs_user_free(&u);
	dcfs_error_clear(&e);
}

static void unresolved(const char *root, const char *spec, int code, const char *want)
{
	dcfs_user u;
	dcfs_error e = {0};
	int r = dcfs_user_resolve(root, spec, &u, &e);
	bool ok = r == code && e.msg && strstr(e.msg, want) && !u.name && !u.home;
	if (!tap_result(ok, __FILE__, __LINE__, "'%s' fails with '%s'", spec, want))
		tap_diag("  r=%d: %s", r, e.msg ? e.msg : "");
	if (r == 0)
		dcfs_user_free(&u);
	dcfs_error_clear(&e);
}

static void resolve(void)
{
	char root[64];
	make_root(root, PASSWD, GROUP);
	resolved(root, NULL, 0, 0, "root", "/root");
	resolved(root, "", 0, 0, "root", "/root");
	resolved(root, "root", 0, 0, "root", "/root");
	resolved(root, "0", 0, 0, "root", "/root");
	resolved(root, "daemon", 1, 1, "daemon", "/usr/sbin");
	/* a duplicate name or number: the first line wins */
	resolved(root, "dev", 1000, 1000, "dev", "/home/dev");
	resolved(root, "1000", 1000, 1000, "dev", "/home/dev");
	resolved(root, "2000", 2000, 2000, "dev", "/home/second");
	/* a line with too few fields is skipped; missing home and shell mean "/" */
	unresolved(root, "short", -ENOENT, "user 'short' is not in the container's /etc/passwd");
	resolved(root, "nohome", 1001, 1001, "nohome", "/");
	unresolved(root, "badid", -EINVAL, "bad /etc/passwd entry for 'badid'");
	/* a number absent from /etc/passwd is taken as is, its gid the same, without a name */
	resolved(root, "4242", 4242, 4242, NULL, "/");
	resolved(root, "4242:7", 4242, 7, NULL, "/");
	/* the id range: (uid_t)-1 is refused, for users and groups alike */
	resolved(root, "4294967294", 4294967294u, 5, "big", "/big");
	resolved(root, "big", 4294967294u, 5, "big", "/big");
	unresolved(root, "4294967295", -ERANGE, "user id 4294967295 is out of range");
	unresolved(root, "99999999999999999999", -ERANGE, "out of range");
	unresolved(root, "dev:4294967295", -ERANGE, "group id 4294967295 is out of range");
	/* a passwd entry whose own uid is out of range is a bad entry */
	unresolved(root, "over", -EINVAL, "bad /etc/passwd entry for 'over'");
	/* groups by name and by number; the first of two same-named groups wins */
	resolved(root, "dev:tty", 1000, 5, "dev", "/home/dev");
	resolved(root, "dev:staff", 1000, 50, "dev", "/home/dev");
	resolved(root, "dev:77", 1000, 77, "dev", "/home/dev");
	resolved(root, "1000:dev", 1000, 1000, "dev", "/home/dev");
	unresolved(root, "dev:nope", -ENOENT, "group 'nope' is not in the container's /etc/group");
	unresolved(root, "dev:noid", -ENOENT, "group 'noid'");
	unresolved(root, "nobody", -ENOENT, "user 'nobody' is not in the container's /etc/passwd");
	/* an empty group after the colon is looked up as a name, and there is none */
	unresolved(root, "dev:", -ENOENT, "group ''");
	/* names are matched whole, case and all */
	unresolved(root, "de", -ENOENT, "user 'de'");
	unresolved(root, "Dev", -ENOENT, "user 'Dev'");
	remove_root(root);

	/* without the files: names fail, numbers still work */
	make_root(root, NULL, NULL);
	unresolved(root, "root", -ENOENT, "user 'root' is not in the container's /etc/passwd");
	resolved(root, "0", 0, 0, NULL, "/");
	resolved(root, "1000:1000", 1000, 1000, NULL, "/");
	unresolved(root, "1000:staff", -ENOENT, "group 'staff'");
	remove_root(root);
}

/* A line longer than the reader's 4 KiB buffer is read in pieces: the entries after it are
 * still found, and its piece past the buffer does not become an entry. */
static void overlong(void)
{
	char *text = tap_filled("long:x:1500:1500:", 'g', 10000,
				":/home/long:/bin/sh\nafter:x:1600:1600::/home/after:/bin/sh\n");
	char root[64];
	make_root(root, text, "long:x:1500:\n");
	free(text);
	resolved(root, "after", 1600, 1600, "after", "/home/after");
	/* the entry itself still resolves to its ids (its home is past the buffer) */
	resolved(root, "long", 1500, 1500, "long", "/");
	remove_root(root);

	/* A line whose text past the buffer looks like an entry: the reader reads an
	 * overlong line's start and skips the rest, so an image's passwd line cannot define a
	 * second user. */
	const char *pad = "pad:x:1700:1700:";
	text = tap_filled(pad, 'g', 4095 - strlen(pad), "evil:x:4321:4321::/evil:/bin/sh\n");
	make_root(root, text, NULL);
	free(text);
	dcfs_user u;
	dcfs_error e = {0};
	int r = dcfs_user_resolve(root, "evil", &u, &e);
	CHECK(r == -ENOENT);
	if (r == 0)
		dcfs_user_free(&u);
	dcfs_error_clear(&e);
	remove_root(root);
}

static void updated(const char *what, const char *passwd, const char *group, const char *spec,
		    uint32_t uid, uint32_t gid, const char *want_passwd, const char *want_group,
		    uint32_t want_uid, uint32_t want_gid)
{
	char root[64];
	make_root(root, passwd, group);
	dcfs_user u;
	dcfs_error e = {0};
	int r = dcfs_user_resolve(root, spec, &u, &e);
	if (r == 0)
		r = dcfs_user_update_uid(root, &u, uid, gid, &e);
	char *p = read_back(root, "passwd"), *g = read_back(root, "group");
	bool ok = r == 0 && !strcmp(p, want_passwd) && !strcmp(g, want_group) &&
		  u.uid == want_uid && u.gid == want_gid;
	if (!tap_result(ok, __FILE__, __LINE__, "%s", what))
		tap_diag("  r=%d %u:%u: %s\n# passwd:\n%s# group:\n%s", r, u.uid, u.gid,
			 e.msg ? e.msg : "", p, g);
	free(p);
	free(g);
	if (r == 0)
		dcfs_user_free(&u);
	dcfs_error_clear(&e);
	remove_root(root);
}

static void update(void)
{
	const char *pw = "root:x:0:0:root:/root:/bin/bash\n"
			 "dev:x:1000:1000:Dev:/home/dev:/bin/sh\n"
			 "other:x:1001:1001::/home/other:/bin/sh\n";
	const char *gr = "root:x:0:\ndev:x:1000:\nother:x:1001:\nusers:x:100:dev,other\n";
	updated("the user's uid and gid, and their group's gid, change", pw, gr, "dev", 4000, 4001,
		"root:x:0:0:root:/root:/bin/bash\n"
		"dev:x:4000:4001:Dev:/home/dev:/bin/sh\n"
		"other:x:1001:1001::/home/other:/bin/sh\n",
		"root:x:0:\ndev:x:4001:\nother:x:1001:\nusers:x:100:dev,other\n", 4000, 4001);
	updated("another user has the uid: nothing changes", pw, gr, "dev", 1001, 4001, pw, gr,
		1000, 1000);
	updated("another group has the gid: the group keeps its gid", pw, gr, "dev", 4000, 100,
		"root:x:0:0:root:/root:/bin/bash\n"
		"dev:x:4000:100:Dev:/home/dev:/bin/sh\n"
		"other:x:1001:1001::/home/other:/bin/sh\n",
		gr, 4000, 100);
	updated("root is left alone", pw, gr, "root", 4000, 4001, pw, gr, 0, 0);
	updated("uid 0 is never given", pw, gr, "dev", 0, 0, pw, gr, 1000, 1000);
	updated("the same ids: nothing to do", pw, gr, "dev", 1000, 1000, pw, gr, 1000, 1000);
	updated("a user without a name (numeric, absent) is left alone", pw, gr, "5000", 4000, 4001,
		pw, gr, 5000, 5000);
	/* the last line without its newline gets one; a line with missing fields stays as is */
	updated("a last line without a newline, a short line kept",
		"root:x:0:0:root:/root:/bin/bash\nshort:x\ndev:x:1000:1000",
		"dev:x:1000:", "dev", 4000, 4001,
		"root:x:0:0:root:/root:/bin/bash\nshort:x\ndev:x:4000:4001\n", "dev:x:4001:\n",
		4000, 4001);
	/* a name that is a prefix of another is not taken for it */
	updated("only the user's own line changes",
		"dev:x:1000:1000::/home/dev:/bin/sh\ndevel:x:1002:1000::/home/devel:/bin/sh\n",
		"dev:x:1000:\n", "dev", 4000, 4001,
		"dev:x:4000:4001::/home/dev:/bin/sh\ndevel:x:1002:1000::/home/devel:/bin/sh\n",
		"dev:x:4001:\n", 4000, 4001);
	updated("without /etc/group, passwd alone changes", pw, NULL, "dev", 4000, 4001,
		"root:x:0:0:root:/root:/bin/bash\n"
		"dev:x:4000:4001:Dev:/home/dev:/bin/sh\n"
		"other:x:1001:1001::/home/other:/bin/sh\n",
		"(missing)", 4000, 4001);
}

int main(void)
{
	resolve();
	overlong();
	update();
	return tap_done();
}
