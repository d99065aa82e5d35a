/* The pure parts of userEnvProbe (see user_env_probe.h): its modes, the probe's output parsed
 * into an environment, the reference CLI's PATH merge, and remoteEnv set over the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "jsonc.h"
#include "runtime.h"
#include "user_env_probe.h"

static const struct {
	const char *mode, *flags;
} modes[] = {
	{"loginInteractiveShell", "-lic"},
	{"loginShell", "-lc"},
	{"interactiveShell", "-ic"},
	{"none", NULL},
};

bool dcfs_user_env_probe_known(const char *mode)
{
	for (size_t i = 0; mode && i < ELEMENTSOF(modes); i++)
		if (!strcmp(mode, modes[i].mode))
			return true;
	return false;
}

const char *dcfs_user_env_probe_flags(const char *mode)
{
	if (!mode)
		mode = DCFS_USER_ENV_PROBE_DEFAULT;
	for (size_t i = 0; i < ELEMENTSOF(modes); i++)
		if (!strcmp(mode, modes[i].mode))
			return modes[i].flags;
	return NULL;
}

/* The first (or last) occurrence of `needle` (`n` bytes, n > 0) in the `len` bytes at `hay`, or
 * NULL. */
static const char *find(const char *hay, size_t len, const char *needle, size_t n, bool last)
{
	const char *found = NULL;
	for (size_t i = 0; i + n <= len && (last || !found); i++)
		if (!memcmp(hay + i, needle, n))
			found = hay + i;
	return found;
}

/* Add one "NAME=value" entry (`n` bytes, maybe with a banner before NAME) to `env`: 0, or
 * -ENOMEM. */
static int add_entry(cJSON *env, const char *entry, size_t n)
{
	const char *eq = memchr(entry, '=', n);
	if (!eq)
		return 0;
	const char *name = entry;
	for (const char *p = entry; p < eq; p++)
		if (*p == '\n' || *p == '\r')
			name = p + 1; /* an interactive shell's banner, before the first entry */
	_cleanup_free_ char *key = strndup(name, (size_t)(eq - name));
	_cleanup_free_ char *value = strndup(eq + 1, n - (size_t)(eq + 1 - entry));
	if (!key || !value)
		return -ENOMEM;
	if (!*key || !strcmp(key, "PWD"))
		return 0;
	return dcfs_env_set(env, key, value);
}

cJSON *dcfs_user_env_parse(const char *out, size_t len, const char *marker, char sep)
{
	size_t mlen = strlen(marker);
	const char *first = mlen ? find(out, len, marker, mlen, false) : NULL;
	size_t rest = first ? len - (size_t)(first - out) : 0;
	const char *last = first ? find(first, rest, marker, mlen, true) : NULL;
	if (!first || last == first)
		return NULL;
	_cleanup_json_ cJSON *env = cJSON_CreateArray();
	for (const char *p = first + mlen; env && p < last;) {
		const char *end = memchr(p, sep, (size_t)(last - p));
		if (!end)
			end = last;
		if (add_entry(env, p, (size_t)(end - p)) < 0)
			return NULL;
		p = end + 1;
	}
	return env && env->child ? TAKE_PTR(env) : NULL;
}

/* PATH's entries: a NULL-terminated vector pointing into `copy` (modified), room for `extra`
 * more; NULL when out of memory. */
static char **split_path(char *copy, size_t extra, size_t *n)
{
	size_t cap = 2 + extra;
	for (const char *p = copy; *p; p++)
		cap += *p == ':';
	char **v = calloc(cap, sizeof(char *));
	*n = 0;
	for (char *p = copy, *tok; v && (tok = strsep(&p, ":"));)
		v[(*n)++] = tok;
	return v;
}

static bool is_sbin(const char *dir)
{
	for (const char *p = strstr(dir, "/sbin"); p; p = strstr(p + 1, "/sbin"))
		if (p[5] == '\0' || p[5] == '/')
			return true;
	return false;
}

char *dcfs_user_env_merge_path(const char *probed, const char *container, bool root)
{
	_cleanup_free_ char *pcopy = strdup(probed), *ccopy = strdup(container);
	size_t np = 0, nc = 0;
	_cleanup_free_ char **cv = ccopy ? split_path(ccopy, 0, &nc) : NULL;
	_cleanup_free_ char **pv = pcopy && cv ? split_path(pcopy, nc, &np) : NULL;
	if (!pv)
		return NULL;
	size_t at = 0; /* where the next missing entry goes */
	for (size_t i = 0; i < nc; i++) {
		size_t j = 0;
		while (j < np && strcmp(pv[j], cv[i]))
			j++;
		if (j < np) {
			at = j + 1;
			continue;
		}
		if (!root && is_sbin(cv[i]))
			continue;
		memmove(pv + at + 1, pv + at, (np - at) * sizeof(char *));
		pv[at++] = cv[i];
		np++;
	}
	size_t len = 1;
	for (size_t i = 0; i < np; i++)
		len += strlen(pv[i]) + 1;
	char *joined = malloc(len), *w = joined;
	for (size_t i = 0; joined && i < np; i++)
		w += sprintf(w, "%s%s", i ? ":" : "", pv[i]);
	if (joined)
		*w = '\0';
	return joined;
}

cJSON *dcfs_user_env_apply(const cJSON *base, const cJSON *over)
{
	_cleanup_json_ cJSON *env = base ? cJSON_Duplicate(base, true) : cJSON_CreateArray();
	const cJSON *it;
	cJSON_ArrayForEach(it, over)
	{
		const char *kv = cJSON_GetStringValue(it), *eq = kv ? strchr(kv, '=') : NULL;
		_cleanup_free_ char *key = eq ? strndup(kv, (size_t)(eq - kv)) : NULL;
		if (!env || (eq && (!key || dcfs_env_set(env, key, eq + 1) < 0)))
			return NULL;
	}
	return TAKE_PTR(env);
}
