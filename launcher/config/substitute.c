/* Variable substitution (see substitute.h), after the reference CLI's variableSubstitution.ts:
 * a scan for `${...}`, a split at ':', a switch on the variable name. The reference runs the
 * local variables, then `${devcontainerId}`, then `${containerEnv:...}` as separate passes; one
 * pass here gives the same result unless a substituted value itself holds `${...}`. */
#include "substitute.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "hash.h"
#include "jsonc.h"
#include "strbuf.h"

static const char *basename_of(const char *path, size_t *len)
{
	/* path.posix.basename: trailing slashes are ignored */
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *slash = memrchr(path, '/', n);
	const char *b = slash ? slash + 1 : path;
	*len = (size_t)(path + n - b);
	return b;
}

static const char *env_lookup(dcfs_subst_lookup fn, void *data, const char *name)
{
	return fn ? fn(name, data) : getenv(name);
}

/* args: what follows the variable name, ':'-separated (NULL when there is no ':'). */
static int lookup_value(const dcfs_subst_ctx *ctx, dcfs_subst_lookup fn, void *data,
			const char *match, size_t match_len, const char *args, dcfs_strbuf *b,
			dcfs_error *e)
{
	if (!args)
		return dcfs_error_set(
			e, EINVAL,
			"'%.*s' in %s can not be resolved because no environment variable"
			" name is given",
			(int)match_len, match, ctx->source ? ctx->source : "devcontainer.json");
	const char *colon = strchr(args, ':');
	_cleanup_free_ char *name = strndup(args, colon ? (size_t)(colon - args) : strlen(args));
	if (!name)
		return -ENOMEM;
	const char *v = env_lookup(fn, data, name);
	if (v)
		return dcfs_strbuf_put(b, v, strlen(v));
	if (colon) {
		/* The default is everything after the name, ':' included ("${localEnv:URL:http://x}"):
		 * the reference CLI cuts it at the next ':', which breaks URLs and paths with ports. */
		const char *def = colon + 1;
		return dcfs_strbuf_put(b, def, strlen(def));
	}
	return 0;
}

static int put_folder(dcfs_strbuf *b, const char *folder, bool base, const char *match, size_t match_len)
{
	if (!folder)
		return dcfs_strbuf_put(b, match, match_len);
	size_t n = strlen(folder);
	const char *s = base ? basename_of(folder, &n) : folder;
	return dcfs_strbuf_put(b, s, n);
}

/* One `${inner}`; `match` is the whole text with its braces. */
static int replace_one(const dcfs_subst_ctx *ctx, const char *match, size_t match_len,
		       const char *inner, dcfs_strbuf *b, dcfs_error *e)
{
	const char *colon = strchr(inner, ':');
	size_t vlen = colon ? (size_t)(colon - inner) : strlen(inner);
	const char *args = colon ? colon + 1 : NULL;
#define IS(name) (vlen == strlen(name) && !strncmp(inner, name, vlen))
	if (IS("env") || IS("localEnv"))
		return lookup_value(ctx, ctx->local_env, ctx->local_env_data, match, match_len,
				    args, b, e);
	if (IS("localWorkspaceFolder") || IS("localWorkspaceFolderBasename"))
		return put_folder(b, ctx->local_workspace_folder, vlen > 20, match, match_len);
	if (IS("containerWorkspaceFolder") || IS("containerWorkspaceFolderBasename"))
		return put_folder(b, ctx->container_workspace_folder, vlen > 24, match, match_len);
	if (IS("devcontainerId") && ctx->devcontainer_id)
		return dcfs_strbuf_put(b, ctx->devcontainer_id, strlen(ctx->devcontainer_id));
	if (IS("containerEnv") && ctx->container_env)
		return lookup_value(ctx, ctx->container_env, ctx->container_env_data, match,
				    match_len, args, b, e);
#undef IS
	return dcfs_strbuf_put(b, match, match_len);
}

/* JavaScript's '.' does not match line terminators: \n, \r, U+2028, U+2029. */
static size_t line_terminator(const char *p)
{
	if (*p == '\n' || *p == '\r')
		return 1;
	if ((unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
	    ((unsigned char)p[2] == 0xa8 || (unsigned char)p[2] == 0xa9))
		return 3;
	return 0;
}

/* The next `${...}` from p: its '$' in *open, its '}' returned; NULL when there is none. One
 * pass: the earliest `${` of a line is matched by the first '}' after it on that line; when the
 * line ends first, no `${` before that end can match, so the scan goes on from there (looking
 * again from each `${` made 80,000 of them on a line take seconds). */
static const char *next_match(const char *p, const char **open, size_t *scanned)
{
	const char *start = NULL, *q = p;
	for (; *q; q++) {
		size_t t = start ? line_terminator(q) : 0;
		if (!start && q[0] == '$' && q[1] == '{')
			start = q++;
		else if (start && *q == '}')
			break;
		else if (t) {
			start = NULL;
			q += t - 1;
		}
	}
	if (scanned)
		*scanned += (size_t)(q - p) + 1;
	if (!*q)
		return NULL;
	*open = start;
	return q;
}

int dcfs_subst_string(const dcfs_subst_ctx *ctx, const char *in, char **out, dcfs_error *e)
{
	dcfs_strbuf b = {0};
	int r = dcfs_strbuf_put(&b, "", 0);
	const char *p = in;
	while (r >= 0 && *p) {
		const char *start = NULL;
		const char *close = next_match(p, &start, ctx->scanned);
		if (!close) {
			r = dcfs_strbuf_put(&b, p, strlen(p));
			break;
		}
		r = dcfs_strbuf_put(&b, p, (size_t)(start - p));
		_cleanup_free_ char *inner = strndup(start + 2, (size_t)(close - start - 2));
		if (r >= 0)
			r = inner ? replace_one(ctx, start, (size_t)(close - start + 1), inner, &b,
						e)
				  : -ENOMEM;
		p = close + 1;
	}
	if (r < 0) {
		free(b.s);
		return r == -ENOMEM ? dcfs_error_set(e, ENOMEM, "out of memory") : r;
	}
	*out = b.s;
	return 0;
}

static int subst_tree(const dcfs_subst_ctx *ctx, cJSON *json, dcfs_error *e)
{
	if (cJSON_IsString(json)) {
		char *s = NULL;
		int r = dcfs_subst_string(ctx, json->valuestring, &s, e);
		if (r < 0)
			return r;
		free(json->valuestring);
		json->valuestring = s;
		return 0;
	}
	for (cJSON *c = json->child; c; c = c->next) {
		int r = subst_tree(ctx, c, e);
		if (r < 0)
			return r;
	}
	return 0;
}

int dcfs_subst_json(const dcfs_subst_ctx *ctx, cJSON *json, dcfs_error *e)
{
	dcfs_subst_ctx c = *ctx;
	_cleanup_free_ char *cwf = NULL;
	if (ctx->container_workspace_folder) {
		int r = dcfs_subst_string(ctx, ctx->container_workspace_folder, &cwf, e);
		if (r < 0)
			return r;
		c.container_workspace_folder = cwf;
	}
	return subst_tree(&c, json, e);
}

/* 256 bits in base 32, most significant digit first, as 52 digits (4 zero bits on top). */
static void base32_digits(const dcfs_hash *h, char out[53])
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	for (int i = 0; i < 52; i++) {
		int v = 0;
		for (int k = 5 * i; k < 5 * i + 5; k++) {
			int bit = k < 4 ? 0 : (h->b[(k - 4) / 8] >> (7 - (k - 4) % 8)) & 1;
			v = v << 1 | bit;
		}
		out[i] = digits[v];
	}
	out[52] = '\0';
}

int dcfs_devcontainer_id(const char *local_folder, const char *config_file, char out[53],
			 dcfs_error *e)
{
	_cleanup_json_ cJSON *labels = cJSON_CreateObject();
	if (!labels || !cJSON_AddStringToObject(labels, "devcontainer.config_file", config_file) ||
	    !cJSON_AddStringToObject(labels, "devcontainer.local_folder", local_folder))
		return dcfs_error_set(e, ENOMEM, "out of memory");
	_cleanup_free_ char *text = cJSON_PrintUnformatted(labels);
	if (!text)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	dcfs_hash h;
	dcfs_hash_buf(text, strlen(text), &h);
	base32_digits(&h, out);
	return 0;
}
