/* A feature's files in the store: a local folder's digest (stable; changed by a file's bytes,
 * a mode, a name; symlinks never followed), and tarballs unpacked (a good one, plain and gzip;
 * hostile ones -- "../", absolute names, a path through a symlink, hard links, no
 * devcontainer-feature.json, a failed digest check (named, even after a bad entry) -- refused with nothing written outside and
 * nothing published). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feature_fetch_internal.h"
#include "fsutil.h"
#include "tap.h"

static char root[] = "/tmp/dcfs-test-feature-XXXXXX";

static char *at(const char *rel)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", root, rel);
	return buf[i];
}

static void put(const char *rel, const char *text, mode_t mode)
{
	int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		abort();
	fchmod(fd, mode);
	close(fd);
}

/* The folder digest of `rel`, or "error: MESSAGE". */
static char *digest(const char *rel)
{
	static char out[512];
	char d[DCFS_FEATURE_DIGEST_LEN];
	dcfs_error e = {0};
	if (dcfs_feature_digest_dir(at(rel), d, &e) < 0)
		snprintf(out, sizeof(out), "error: %s", e.msg);
	else
		snprintf(out, sizeof(out), "%s", d);
	dcfs_error_clear(&e);
	return out;
}

static void test_digest(void)
{
	mkdir(at("f"), 0755);
	mkdir(at("f/sub"), 0755);
	mkdir(at("out"), 0755);
	put("f/devcontainer-feature.json", "{}", 0644);
	put("f/install.sh", "echo hi\n", 0755);
	put("f/sub/x", "x", 0644);
	put("out/target", "one", 0644);
	symlink("../out/target", at("f/link"));
	symlink("../out", at("f/dirlink"));
	char d1[128];
	snprintf(d1, sizeof(d1), "%s", digest("f"));
	CHECK(!strncmp(d1, "sha256:", 7) && strlen(d1) == 71);
	CHECK_STR(digest("f"), d1);

	put("f/sub/x", "y", 0644);
	CHECK(strcmp(digest("f"), d1));
	put("f/sub/x", "x", 0644);
	CHECK_STR(digest("f"), d1);

	chmod(at("f/install.sh"), 0644);
	CHECK(strcmp(digest("f"), d1));
	chmod(at("f/install.sh"), 0755);
	CHECK_STR(digest("f"), d1);

	rename(at("f/sub/x"), at("f/sub/y"));
	CHECK(strcmp(digest("f"), d1));
	rename(at("f/sub/y"), at("f/sub/x"));
	CHECK_STR(digest("f"), d1);

	/* moving a file into a folder is not the same tree as a file beside it */
	rename(at("f/sub/x"), at("f/x"));
	CHECK(strcmp(digest("f"), d1));
	rename(at("f/x"), at("f/sub/x"));

	/* what the symlinks point to does not count, only their targets */
	put("out/target", "two", 0644);
	put("out/more", "more", 0644);
	CHECK_STR(digest("f"), d1);
	unlink(at("f/link"));
	symlink("../out/other", at("f/link"));
	CHECK(strcmp(digest("f"), d1));
	unlink(at("f/link"));
	symlink("../out/target", at("f/link"));
	CHECK_STR(digest("f"), d1);

	mkfifo(at("f/fifo"), 0644);
	CHECK(strstr(digest("f"), "error: ") && strstr(digest("f"), "fifo"));
	unlink(at("f/fifo"));
	CHECK(!strncmp(digest("missing"), "error: ", 7));
}

/* ---- tarballs ------------------------------------------------------------------------------ */

typedef struct tar_entry {
	const char *name;
	char type; /* 'f' file, 'd' folder, 'l' symlink, 'h' hard link */
	const char *data; /* a file's bytes, a link's target */
	mode_t mode;
} tar_entry;

/* A tar of `n` entries, gzip'd when `gz`; its length in *len. */
static void *make_tar(const tar_entry *t, size_t n, bool gz, size_t *len)
{
	size_t cap = 1 << 20;
	void *buf = malloc(cap);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gz)
		archive_write_add_filter_gzip(a);
	if (archive_write_open_memory(a, buf, cap, len) != ARCHIVE_OK)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, t[i].name);
		archive_entry_set_perm(ae, t[i].mode ? t[i].mode : 0644);
		if (t[i].type == 'd') {
			archive_entry_set_filetype(ae, AE_IFDIR);
		} else if (t[i].type == 'l') {
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_symlink(ae, t[i].data);
		} else if (t[i].type == 'h') {
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, t[i].data);
		} else {
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, (la_int64_t)strlen(t[i].data));
		}
		archive_write_header(a, ae);
		if (t[i].type == 'f')
			archive_write_data(a, t[i].data, strlen(t[i].data));
		archive_entry_free(ae);
	}
	archive_write_close(a);
	archive_write_free(a);
	return buf;
}

typedef struct mem {
	const char *buf;
	size_t len, pos;
	int finish; /* what finish returns */
} mem;

static ssize_t mem_read(void *opaque, const void **buf, dcfs_error *e)
{
	(void)e;
	mem *m = opaque;
	size_t n = m->len - m->pos > 1000 ? 1000 : m->len - m->pos;
	*buf = m->buf + m->pos;
	m->pos += n;
	return (ssize_t)n;
}

static int mem_finish(void *opaque, dcfs_error *e)
{
	mem *m = opaque;
	return m->finish < 0 ? dcfs_error_set(e, m->finish, "digest mismatch") : 0;
}

static int dir_fd(const char *rel)
{
	mkdir(at(rel), 0755);
	return open(at(rel), O_RDONLY | O_DIRECTORY);
}

static size_t count_entries(const char *rel)
{
	DIR *d = opendir(at(rel));
	size_t n = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* Unpack the tar of `t` as `name`; the error's message in *msg (NULL when none). */
static int unpack(const tar_entry *t, size_t n, bool gz, int finish, const char *name,
		  char **msg)
{
	size_t len = 0;
	void *buf = make_tar(t, n, gz, &len);
	mem m = {.buf = buf, .len = len, .finish = finish};
	dcfs_feature_stream in = {.read = mem_read, .finish = mem_finish, .opaque = &m,
				  .what = "test.tgz"};
	int tmp = dir_fd("tmp"), dest = dir_fd("dest");
	dcfs_error e = {0};
	int r = dcfs_feature_unpack(&in, tmp, dest, name, &e);
	*msg = e.msg ? strdup(e.msg) : NULL;
	dcfs_error_clear(&e);
	close(tmp);
	close(dest);
	free(buf);
	return r;
}

static const tar_entry good[] = {
	{"./", 'd', NULL, 0755},
	{"./devcontainer-feature.json", 'f', "{\"id\":\"x\"}", 0644},
	{"./install.sh", 'f', "#!/bin/sh\necho hi\n", 0755},
	{"./sub/deep/x", 'f', "deep", 0600},
	{"./link", 'l', "install.sh", 0777},
};

static void test_unpack_good(void)
{
	char *msg = NULL;
	CHECK_INT(unpack(good, ELEMENTSOF(good), true, 0, "good", &msg), 0);
	CHECK_STR(msg, NULL);
	free(msg);
	struct stat st;
	CHECK(stat(at("dest/good/install.sh"), &st) == 0 && (st.st_mode & 0777) == 0755);
	CHECK(stat(at("dest/good/sub/deep/x"), &st) == 0 && st.st_size == 4);
	char target[64] = {0};
	CHECK(readlink(at("dest/good/link"), target, sizeof(target) - 1) == 10);
	CHECK_STR(target, "install.sh");
	CHECK_INT(count_entries("tmp"), 0);

	/* plain tar, and a second fetch of a feature already there keeps the first */
	CHECK_INT(unpack(good + 1, ELEMENTSOF(good) - 1, false, 0, "plain", &msg), 0);
	free(msg);
	CHECK(stat(at("dest/plain/devcontainer-feature.json"), &st) == 0);
	CHECK_INT(unpack(good, ELEMENTSOF(good), true, 0, "good", &msg), 0);
	free(msg);
	CHECK_INT(count_entries("tmp"), 0);
}

/* `t` is refused with a message holding `why`; nothing published, nothing left in tmp. */
static void refused(const tar_entry *t, size_t n, int finish, const char *why)
{
	char *msg = NULL;
	int r = unpack(t, n, true, finish, "bad", &msg);
	tap_result(r < 0 && msg && strstr(msg, why), __FILE__, __LINE__, "refused: %s (%s)", why,
		   msg ? msg : "no message");
	free(msg);
	struct stat st;
	CHECK(lstat(at("dest/bad"), &st) < 0);
	CHECK_INT(count_entries("tmp"), 0);
}

static void test_unpack_hostile(void)
{
	const tar_entry dotdot[] = {{"devcontainer-feature.json", 'f', "{}", 0},
				    {"../../out/dotdot", 'f', "pwned", 0}};
	refused(dotdot, 2, 0, "'..'");
	const tar_entry inner[] = {{"devcontainer-feature.json", 'f', "{}", 0},
				   {"sub/../../x", 'f', "pwned", 0}};
	refused(inner, 2, 0, "'..'");
	const tar_entry abs[] = {{"devcontainer-feature.json", 'f', "{}", 0},
				 {"/tmp/dcfs-test-feature-abs", 'f', "pwned", 0}};
	refused(abs, 2, 0, "absolute");
	char outside[600];
	snprintf(outside, sizeof(outside), "%s/out", root);
	const tar_entry through[] = {{"devcontainer-feature.json", 'f', "{}", 0},
				     {"evil", 'l', outside, 0777},
				     {"evil/pwned", 'f', "pwned", 0}};
	refused(through, 3, 0, "symlink");
	const tar_entry relative[] = {{"devcontainer-feature.json", 'f', "{}", 0},
				      {"evil", 'l', "../../out", 0777},
				      {"evil/sub/pwned", 'f', "pwned", 0}};
	refused(relative, 3, 0, "symlink");
	const tar_entry hard[] = {{"devcontainer-feature.json", 'f', "{}", 0},
				  {"h", 'h', "devcontainer-feature.json", 0}};
	refused(hard, 2, 0, "hard link");
	const tar_entry none[] = {{"install.sh", 'f', "echo\n", 0755}};
	refused(none, 1, 0, "devcontainer-feature.json");
	refused(good, ELEMENTSOF(good), -EBADMSG, "digest mismatch");
	/* a bad entry in bytes that fail their digest: the digest is what is wrong */
	refused(dotdot, 2, -EBADMSG, "digest mismatch");
	struct stat st;
	CHECK(lstat(at("out/dotdot"), &st) < 0);
	CHECK(lstat(at("out/pwned"), &st) < 0 && lstat(at("out/sub"), &st) < 0);
	CHECK(lstat(at("x"), &st) < 0);
	CHECK(lstat("/tmp/dcfs-test-feature-abs", &st) < 0);

	char *msg = NULL;
	mem m = {.buf = "not a tar at all", .len = 16};
	dcfs_feature_stream in = {.read = mem_read, .opaque = &m, .what = "junk"};
	int tmp = dir_fd("tmp"), dest = dir_fd("dest");
	dcfs_error e = {0};
	CHECK(dcfs_feature_unpack(&in, tmp, dest, "junk", &e) < 0 && e.msg);
	dcfs_error_clear(&e);
	close(tmp);
	close(dest);
	free(msg);
	CHECK_INT(count_entries("tmp"), 0);
}

int main(void)
{
	void (*const tests[])(void) = {test_digest, test_unpack_good, test_unpack_hostile};
	if (!mkdtemp(root))
		return 1;
	for (size_t i = 0; i < ELEMENTSOF(tests); i++)
		tests[i]();
	dcfs_rm_rf(root);
	return tap_done();
}
