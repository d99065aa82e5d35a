/* .dockerignore semantics against the cases of moby/patternmatcher's own tests (TestMatches with
 * MatchesOrParentMatches, the multi-pattern cases, the filepath.Match table, the malformed
 * patterns), its ignorefile reader's test, the examples of Docker's documentation, and the walk
 * rule for excluded folders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dockerignore.h"
#include "tap.h"

/* The answer of `q` about `path` for the lines of `text`; -1 when the text does not parse. */
static int ask(const char *text, const char *path,
	       bool (*q)(const dcfs_dockerignore *, const char *))
{
	dcfs_dockerignore *l = NULL;
	dcfs_error e = {0};
	if (dcfs_dockerignore_parse(text, strlen(text), ".dockerignore", &l, &e) < 0) {
		dcfs_error_clear(&e);
		return -1;
	}
	int r = q(l, path);
	dcfs_dockerignore_free(l);
	return r;
}

static int excluded(const char *text, const char *path)
{
	return ask(text, path, dcfs_dockerignore_match);
}

/* `s` on one line ("\n" for a newline, "\r" for a CR), for a TAP description. */
static const char *one_line(const char *s, char *buf, size_t size)
{
	size_t w = 0;
	for (; *s && w + 3 < size; s++) {
		if (*s == '\n' || *s == '\r') {
			buf[w++] = '\\';
			buf[w++] = *s == '\n' ? 'n' : 'r';
		} else {
			buf[w++] = *s;
		}
	}
	buf[w] = '\0';
	return buf;
}

#define MATCH(text, path, want)                                                                    \
	do {                                                                                       \
		char _b[256];                                                                      \
		int _got = excluded(text, path);                                                   \
		if (!tap_result(_got == (want), __FILE__, __LINE__, "'%s' on \"%s\" -> %d",        \
				one_line(text, _b, sizeof(_b)), path, want))                       \
			tap_diag("  got %d", _got);                                                \
	} while (0)

/* patternmatcher_test.go TestMatches (exact and inexact both match with parents). */
static void moby_matches(void)
{
	static const struct {
		const char *pattern, *text;
		int match;
	} t[] = {
		{"**", "file", 1}, {"**", "file/", 1}, {"**/", "file", 1}, {"**/", "file/", 1},
		{"**", "/", 1}, {"**/", "/", 1}, {"**", "dir/file", 1}, {"**/", "dir/file", 1},
		{"**", "dir/file/", 1}, {"**/", "dir/file/", 1}, {"**/**", "dir/file", 1},
		{"**/**", "dir/file/", 1}, {"dir/**", "dir/file", 1}, {"dir/**", "dir/file/", 1},
		{"dir/**", "dir/dir2/file", 1}, {"dir/**", "dir/dir2/file/", 1},
		{"**/dir", "dir", 1}, {"**/dir", "dir/file", 1}, {"**/dir2/*", "dir/dir2/file", 1},
		{"**/dir2/*", "dir/dir2/file/", 1}, {"**/dir2/**", "dir/dir2/dir3/file", 1},
		{"**/dir2/**", "dir/dir2/dir3/file/", 1}, {"**file", "file", 1},
		{"**file", "dir/file", 1}, {"**/file", "dir/file", 1}, {"**file", "dir/dir/file", 1},
		{"**/file", "dir/dir/file", 1}, {"**/file*", "dir/dir/file", 1},
		{"**/file*", "dir/dir/file.txt", 1}, {"**/file*txt", "dir/dir/file.txt", 1},
		{"**/file*.txt", "dir/dir/file.txt", 1}, {"**/file*.txt*", "dir/dir/file.txt", 1},
		{"**/**/*.txt", "dir/dir/file.txt", 1}, {"**/**/*.txt2", "dir/dir/file.txt", 0},
		{"**/*.txt", "file.txt", 1}, {"**/**/*.txt", "file.txt", 1},
		{"a**/*.txt", "a/file.txt", 1}, {"a**/*.txt", "a/dir/file.txt", 1},
		{"a**/*.txt", "a/dir/dir/file.txt", 1}, {"a/*.txt", "a/dir/file.txt", 0},
		{"a/*.txt", "a/file.txt", 1}, {"a/*.txt**", "a/file.txt", 1},
		{"a[b-d]e", "ae", 0}, {"a[b-d]e", "ace", 1}, {"a[b-d]e", "aae", 0},
		{"a[^b-d]e", "aze", 1}, {".*", ".foo", 1}, {".*", "foo", 0},
		{"abc.def", "abcdef", 0}, {"abc.def", "abc.def", 1}, {"abc.def", "abcZdef", 0},
		{"abc?def", "abcZdef", 1}, {"abc?def", "abcdef", 0}, {"**/foo/bar", "foo/bar", 1},
		{"**/foo/bar", "dir/foo/bar", 1}, {"**/foo/bar", "dir/dir2/foo/bar", 1},
		{"abc/**", "abc", 0}, {"abc/**", "abc/def", 1}, {"abc/**", "abc/def/ghi", 1},
		{"**/.foo", ".foo", 1}, {"**/.foo", "bar.foo", 0}, {"a(b)c/def", "a(b)c/def", 1},
		{"a(b)c/def", "a(b)c/xyz", 0}, {"a.|)$(}+{bc", "a.|)$(}+{bc", 1},
		{"dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
		 "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", 1},
		{"dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", 1},
		{"a\\\\", "a\\", 1}, {"a\\*b", "a*b", 1},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		MATCH(t[i].pattern, t[i].text, t[i].match);
}

/* TestMatches' multi-pattern cases and the single-function tests around them. */
static void moby_multi(void)
{
	MATCH("**\n!util/docker/web", "util/docker/web/foo", 0);
	MATCH("**\n!util/docker/web\nutil/docker/web/foo", "util/docker/web/foo", 1);
	MATCH("**\n!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
	      "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", 0);
	MATCH("**\n!dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", 0);
	MATCH("*", "fileutils.go", 1);
	MATCH("*.go", "fileutils.go", 1);
	MATCH("!fileutils.go\n*.go", "fileutils.go", 1);
	MATCH("docs\n!docs/README.md", "docs/README.md", 0);
	MATCH("docs/\n!docs/README.md", "docs/README.md", 0);
	MATCH("docs/*\n!docs/README.md", "docs/README.md", 0);
	MATCH("*.go\n!fileutils.go", "fileutils.go", 0);
	MATCH("*.go", ".", 0);
	MATCH("!", "fileutils.go", -1);
	MATCH("", "any/path/there", 0);
	MATCH("[", "any/path/there", -1);
	MATCH("docs\n  !docs/README.md", "docs/README.md", 0);
	MATCH("docs\n!docs/README.md  ", "docs/README.md", 0);
}

/* The filepath.Match table patternmatcher_test.go runs through Matches. */
static void go_filepath_match(void)
{
	static const struct {
		const char *pattern, *s;
		int match; /* -1: a malformed pattern */
	} t[] = {
		{"abc", "abc", 1}, {"*", "abc", 1}, {"*c", "abc", 1}, {"a*", "a", 1},
		{"a*", "abc", 1}, {"a*", "ab/c", 1}, {"a*/b", "abc/b", 1}, {"a*/b", "a/c/b", 0},
		{"a*b*c*d*e*/f", "axbxcxdxe/f", 1}, {"a*b*c*d*e*/f", "axbxcxdxexxx/f", 1},
		{"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", 0}, {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", 0},
		{"a*b?c*x", "abxbbxdbxebxczzx", 1}, {"a*b?c*x", "abxbbxdbxebxczzy", 0},
		{"ab[c]", "abc", 1}, {"ab[b-d]", "abc", 1}, {"ab[e-g]", "abc", 0},
		{"ab[^c]", "abc", 0}, {"ab[^b-d]", "abc", 0}, {"ab[^e-g]", "abc", 1},
		{"a\\*b", "a*b", 1}, {"a\\*b", "ab", 0}, {"a?b", "a\xe2\x98\xba" "b", 1},
		{"a[^a]b", "a\xe2\x98\xba" "b", 1}, {"a???b", "a\xe2\x98\xba" "b", 0},
		{"a[^a][^a][^a]b", "a\xe2\x98\xba" "b", 0}, {"[a-\xce\xb6]*", "\xce\xb1", 1},
		{"*[a-\xce\xb6]", "A", 0}, {"a?b", "a/b", 0}, {"a*b", "a/b", 0},
		{"[\\]a]", "]", 1}, {"[\\-]", "-", 1}, {"[x\\-]", "x", 1}, {"[x\\-]", "-", 1},
		{"[x\\-]", "z", 0}, {"[\\-x]", "x", 1}, {"[\\-x]", "-", 1}, {"[\\-x]", "a", 0},
		{"[]a]", "]", -1}, {"[-]", "-", -1}, {"[x-]", "x", -1}, {"[x-]", "-", -1},
		{"[x-]", "z", -1}, {"[-x]", "x", -1}, {"[-x]", "-", -1}, {"[-x]", "a", -1},
		{"\\", "a", -1}, {"[a-b-c]", "a", -1}, {"[", "a", -1}, {"[^", "a", -1},
		{"[^bc", "a", -1}, {"a[", "a", -1}, {"a[", "ab", -1}, {"*x", "xxx", 1},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		MATCH(t[i].pattern, t[i].s, t[i].match);
}

/* ignorefile_test.go TestReadAll: comments, blank lines, leading '/', "! " exceptions. */
static void reader(void)
{
	const char *content = "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n"
			      "! /inverted/abs/path\n";
	dcfs_dockerignore *l = NULL;
	dcfs_error e = {0};
	CHECK(dcfs_dockerignore_parse(content, strlen(content), "x", &l, &e) == 0);
	CHECK_INT(dcfs_dockerignore_count(l), 5);
	CHECK(dcfs_dockerignore_match(l, "test2"));
	CHECK(dcfs_dockerignore_match(l, "a/file/here/x"));
	CHECK(!dcfs_dockerignore_match(l, "a/file"));
	CHECK(!dcfs_dockerignore_match(l, "this is a comment"));
	dcfs_dockerignore_free(l);
	/* "!" alone (and "! ") is an error naming the file and the line */
	CHECK(dcfs_dockerignore_parse("a\n!\n", 4, "ctx/.dockerignore", &l, &e) == -EINVAL);
	CHECK(e.msg && strstr(e.msg, "ctx/.dockerignore:2:"));
	dcfs_error_clear(&e);
	CHECK(dcfs_dockerignore_parse("[x", 2, "f", &l, &e) == -EINVAL);
	CHECK(e.msg && strstr(e.msg, "f:1:"));
	dcfs_error_clear(&e);
	/* only a '#' in the first column makes a comment; a BOM and CRs go; "./" and ".." clean */
	MATCH(" #x", "#x", 1);
	MATCH("\xef\xbb\xbfsecret\r\n", "secret", 1);
	MATCH("./a/./b/../c", "a/c", 1);
	MATCH("a/b/../../c", "c", 1);
	MATCH("/", "x", 0);
	MATCH("foo/", "foo/bar", 1);
	MATCH("foo//bar", "foo/bar", 1);
}

/* Docker's documentation examples. */
static void docker_docs(void)
{
	const char *doc = "# comment\n*/temp*\n*/*/temp*\ntemp?\n";
	MATCH(doc, "somedir/temporary.txt", 1);
	MATCH(doc, "somedir/temp", 1);
	MATCH(doc, "somedir/subdir/temporary.txt", 1);
	MATCH(doc, "tempa", 1);
	MATCH(doc, "tempb/x", 1);
	MATCH(doc, "temporary.txt", 0);
	MATCH(doc, "a/b/c/temp", 0);
	MATCH("**/*.go", "a/b/c.go", 1);
	MATCH("**/*.go", "c.go", 1);
	MATCH("*.md\n!README.md", "README.md", 0);
	MATCH("*.md\n!README.md", "CHANGES.md", 1);
	MATCH("*.md\n!README*.md\nREADME-secret.md", "README-secret.md", 1);
	MATCH("*.md\n!README*.md\nREADME-secret.md", "README-public.md", 0);
	MATCH("*.md\nREADME-secret.md\n!README*.md", "README-secret.md", 0);
	MATCH("node_modules", "node_modules/a/b.js", 1);
	MATCH("node_modules", "src/node_modules", 0);
	MATCH("**/node_modules", "src/node_modules/x", 1);
	MATCH(".git", ".gitignore", 0);
}

static int walks(const char *text, const char *dir)
{
	return ask(text, dir, dcfs_dockerignore_walk_excluded);
}

/* BuildKit's rule: an excluded folder is walked only for an exception that may reach into it. */
static void walk_rule(void)
{
	CHECK_INT(walks("docs", "docs"), 0);
	CHECK_INT(walks("docs\n!docs/README.md", "docs"), 1);
	CHECK_INT(walks("docs\n!docs/README.md", "docsx"), 0);
	CHECK_INT(walks("a\n!a/b/c", "a/b"), 1);
	CHECK_INT(walks("a\n!a/b/**", "a/b"), 1);
	CHECK_INT(walks("a\n!a/b", "a/b"), 1);
	CHECK_INT(walks("a\n!a/b", "a/c"), 0);
	CHECK_INT(walks("a\n!**/keep", "a"), 1); /* a wildcard: every excluded folder is walked */
	CHECK_INT(walks("a\n!x/*.md", "a"), 1);
}

static void load(void)
{
	char dir[] = "/tmp/dcfs-ignore-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[64];
	snprintf(path, sizeof(path), "%s/.dockerignore", dir);
	dcfs_dockerignore *l = NULL;
	dcfs_error e = {0};
	CHECK(dcfs_dockerignore_load(path, &l, &e) == 0); /* missing: empty */
	CHECK_INT(dcfs_dockerignore_count(l), 0);
	CHECK(!dcfs_dockerignore_match(l, "x"));
	dcfs_dockerignore_free(l);
	FILE *f = fopen(path, "w");
	fputs("*.log\n!keep.log\n", f);
	fclose(f);
	CHECK(dcfs_dockerignore_load(path, &l, &e) == 0);
	CHECK_INT(dcfs_dockerignore_count(l), 2);
	CHECK(dcfs_dockerignore_match(l, "a.log"));
	CHECK(!dcfs_dockerignore_match(l, "keep.log"));
	dcfs_dockerignore_free(l);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	moby_matches();
	moby_multi();
	go_filepath_match();
	reader();
	docker_docs();
	walk_rule();
	load();
	return tap_done();
}
