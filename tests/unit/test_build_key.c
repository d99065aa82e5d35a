/* The build key over temporary context folders: the same content gives the same key wherever it
 * is; a changed, new or removed file, a mode, a symlink target, an empty folder, the Dockerfile,
 * an arg, the target or an option change it; a touched mtime, cacheFrom and what .dockerignore
 * excludes do not; exceptions re-include; `<Dockerfile>.dockerignore` beside the Dockerfile wins
 * over the context's. With DCFS_BUILD_KEY_BENCH=DIR it also times the key of the folder DIR. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_key.h"
#include "fsutil.h"
#include "tap.h"

static char root[] = "/tmp/dcfs-bkey-XXXXXX";

static const char *at(const char *rel)
{
	static char buf[8][256];
	static int i;
	char *b = buf[i++ % 8];
	snprintf(b, sizeof(buf[0]), "%s/%s", root, rel);
	return b;
}

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s", at(rel));
	char *slash = strrchr(path, '/');
	*slash = '\0';
	dcfs_mkdir_p(path, 0755);
	*slash = '/';
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

typedef struct keyed {
	char hex[65];
} keyed;

static keyed key_of(const dcfs_build_spec *b)
{
	keyed k = {""};
	dcfs_error e = {0};
	if (!tap_result(dcfs_build_key(b, k.hex, &e) == 0, __FILE__, __LINE__, "key of %s",
			b->context))
		tap_diag("  %s", e.msg ? e.msg : "");
	dcfs_error_clear(&e);
	return k;
}

/* A spec of the Dockerfile at the root and the context `context` ("ctx" or "ctx2"). */
static dcfs_build_spec spec(const char *context)
{
	static char dockerfile[256], contexts[2][256];
	char *c = contexts[strcmp(context, "ctx") != 0];
	snprintf(dockerfile, sizeof(dockerfile), "%s", at("Dockerfile"));
	snprintf(c, sizeof(contexts[0]), "%s", at(context));
	return (dcfs_build_spec){.dockerfile = dockerfile, .context = c};
}

#define SAME(a, b) CHECK_STR((a).hex, (b).hex)
#define DIFFERENT(a, b) CHECK(strcmp((a).hex, (b).hex) != 0)

/* Write `text` at `rel`: the key of `b` stays `k` (same) or does not. */
static void after_put(const dcfs_build_spec *b, keyed k, const char *rel, const char *text,
		      bool same)
{
	put(rel, text);
	keyed now = key_of(b);
	if (!tap_result(!strcmp(now.hex, k.hex) == same, __FILE__, __LINE__,
			"key %s after writing %s", same ? "kept" : "changed", rel))
		tap_diag("  %s", now.hex);
}

static void content(void)
{
	put("Dockerfile", "FROM x\nCOPY . /src\n");
	put("ctx/a.txt", "alpha\n");
	put("ctx/sub/b.txt", "beta\n");
	dcfs_build_spec b = spec("ctx");
	keyed base = key_of(&b);
	CHECK_INT(strlen(base.hex), 64);
	SAME(key_of(&b), base);
	/* the same content elsewhere gives the same key */
	put("ctx2/a.txt", "alpha\n");
	put("ctx2/sub/b.txt", "beta\n");
	dcfs_build_spec b2 = spec("ctx2");
	SAME(key_of(&b2), base);

	after_put(&b, base, "ctx/a.txt", "alpha!\n", false);
	after_put(&b, base, "ctx/a.txt", "alpha\n", true);

	put("ctx/sub/new.txt", "");
	DIFFERENT(key_of(&b), base);
	unlink(at("ctx/sub/new.txt"));
	SAME(key_of(&b), base);

	mkdir(at("ctx/empty"), 0755);
	DIFFERENT(key_of(&b), base);
	rmdir(at("ctx/empty"));

	chmod(at("ctx/a.txt"), 0600);
	DIFFERENT(key_of(&b), base);
	chmod(at("ctx/a.txt"), 0644);
	SAME(key_of(&b), base);

	struct timespec ts[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
	CHECK(utimensat(AT_FDCWD, at("ctx/a.txt"), ts, 0) == 0);
	CHECK(utimensat(AT_FDCWD, at("ctx/sub"), ts, 0) == 0);
	SAME(key_of(&b), base); /* a touch does not rebuild */

	/* a path moved between folders with the same bytes */
	rename(at("ctx/sub/b.txt"), at("ctx/b.txt"));
	DIFFERENT(key_of(&b), base);
	rename(at("ctx/b.txt"), at("ctx/sub/b.txt"));
	SAME(key_of(&b), base);

	after_put(&b, base, "Dockerfile", "FROM x\nCOPY . /src/\n", false);
	after_put(&b, base, "Dockerfile", "FROM x\nCOPY . /src\n", true);
}

static void links(void)
{
	dcfs_build_spec b = spec("ctx");
	keyed base = key_of(&b);
	CHECK(symlink("a.txt", at("ctx/link")) == 0);
	keyed with = key_of(&b);
	DIFFERENT(with, base);
	unlink(at("ctx/link"));
	CHECK(symlink("sub/b.txt", at("ctx/link")) == 0);
	DIFFERENT(key_of(&b), with);
	unlink(at("ctx/link"));
	/* a link to a folder is not followed */
	CHECK(symlink("/usr", at("ctx/usr")) == 0);
	keyed usr = key_of(&b);
	DIFFERENT(usr, base);
	unlink(at("ctx/usr"));
	SAME(key_of(&b), base);
}

static void build_options(void)
{
	dcfs_build_spec b = spec("ctx");
	keyed base = key_of(&b);
	char *args[] = {"A=1", "B=2"}, *swapped[] = {"B=2", "A=1"}, *other[] = {"A=1", "B=3"};
	b.args = args, b.n_args = 2;
	keyed with_args = key_of(&b);
	DIFFERENT(with_args, base);
	b.args = swapped;
	DIFFERENT(key_of(&b), with_args);
	b.args = other;
	DIFFERENT(key_of(&b), with_args);
	b.args = args;
	SAME(key_of(&b), with_args);
	/* "A=1" and "B=2" as one arg or two differ */
	char *joined[] = {"A=1B=2"};
	b.args = joined, b.n_args = 1;
	DIFFERENT(key_of(&b), with_args);
	b.args = args, b.n_args = 2;

	b.target = "dev";
	keyed target = key_of(&b);
	DIFFERENT(target, with_args);
	b.target = "";
	DIFFERENT(key_of(&b), target);
	DIFFERENT(key_of(&b), with_args); /* "" is not "none" */
	b.target = "dev";

	char *opts[] = {"--network=host"};
	b.options = opts, b.n_options = 1;
	keyed options = key_of(&b);
	DIFFERENT(options, target);
	char *cache[] = {"img:cache"};
	b.cache_from = cache, b.n_cache_from = 1;
	SAME(key_of(&b), options); /* cacheFrom does not change what is built */
}

static void ignored(void)
{
	put("ctx/.dockerignore", "*.log\nlogs\n!logs/keep.txt\n");
	put("ctx/x.log", "1");
	put("ctx/logs/keep.txt", "keep");
	put("ctx/logs/other.txt", "other");
	dcfs_build_spec b = spec("ctx");
	keyed base = key_of(&b);
	after_put(&b, base, "ctx/x.log", "2", true);
	after_put(&b, base, "ctx/new.log", "3", true);
	after_put(&b, base, "ctx/logs/other.txt", "changed", true);
	after_put(&b, base, "ctx/logs/deeper/more.txt", "x", true);
	after_put(&b, base, "ctx/logs/keep.txt", "changed", false); /* the exception re-includes it */
	keyed kept = key_of(&b);
	chmod(at("ctx/logs"), 0700); /* the excluded folder above it is sent with it */
	DIFFERENT(key_of(&b), kept);
	chmod(at("ctx/logs"), 0755);

	/* the Dockerfile's own ignore file wins over the context's */
	put("Dockerfile.dockerignore", "a.txt\n");
	keyed own = key_of(&b);
	after_put(&b, own, "ctx/a.txt", "alpha changed\n", true);
	after_put(&b, own, "ctx/x.log", "4", false);
	unlink(at("Dockerfile.dockerignore"));
	put("ctx/a.txt", "alpha\n");

	/* the .dockerignore itself is part of the context unless it excludes itself */
	keyed before = key_of(&b);
	put("ctx/.dockerignore", "*.log\nlogs\n!logs/keep.txt\n.dockerignore\n");
	keyed self = key_of(&b);
	DIFFERENT(self, before);
	put("ctx/.dockerignore", "*.log\nlogs\n!logs/keep.txt\n.dockerignore\n# more\n");
	SAME(key_of(&b), self);

	put("ctx/.dockerignore", "[\n");
	dcfs_error e = {0};
	char hex[65];
	CHECK(dcfs_build_key(&b, hex, &e) == -EINVAL);
	CHECK(e.msg && strstr(e.msg, ".dockerignore:1:"));
	dcfs_error_clear(&e);
	unlink(at("ctx/.dockerignore"));
}

static void errors(void)
{
	dcfs_build_spec b = spec("ctx");
	dcfs_error e = {0};
	char hex[65];
	b.dockerfile = (char *)at("Missing");
	CHECK(dcfs_build_key(&b, hex, &e) == -ENOENT);
	CHECK(e.msg && strstr(e.msg, at("Missing")));
	dcfs_error_clear(&e);
	b = spec("ctx");
	if (geteuid() == 0) {
		tap_diag("root reads every file: the unreadable-file check is skipped");
		return;
	}
	put("ctx/secret", "s");
	chmod(at("ctx/secret"), 0);
	CHECK(dcfs_build_key(&b, hex, &e) == -EACCES);
	CHECK(e.msg && strstr(e.msg, "ctx/secret"));
	dcfs_error_clear(&e);
	unlink(at("ctx/secret"));
}

static void bench(const char *dir)
{
	char dockerfile[4096];
	snprintf(dockerfile, sizeof(dockerfile), "%s", at("Dockerfile"));
	dcfs_build_spec b = {.dockerfile = dockerfile, .context = (char *)dir};
	for (int i = 0; i < 3; i++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		keyed k = key_of(&b);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		tap_diag("key of %s: %s in %.3f s", dir, k.hex,
			 (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	}
}

int main(void)
{
	if (!mkdtemp(root))
		return 1;
	content();
	links();
	build_options();
	ignored();
	errors();
	const char *dir = getenv("DCFS_BUILD_KEY_BENCH");
	if (dir)
		bench(dir);
	dcfs_rm_rf(root);
	return tap_done();
}
