/* Docker-format seccomp profiles -> OCI `linux.seccomp` (see seccomp.h), after moby's
 * profiles/seccomp setupSeccomp: the architectures of the machine's archMap entry, and each
 * syscall rule whose includes (capabilities all held, architecture listed, kernel at least
 * minKernel) hold and whose excludes (a capability held, architecture listed, kernel at least
 * minKernel) do not. Architectures in includes/excludes are Go's names (amd64, arm64, ...). */
#include "seccomp.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "cleanup.h"
#include "jsonc.h"

/* Docker's default profile, built in (seccomp_default.json, see meson.build). */
extern const char dcfs_seccomp_default_json[];

typedef struct arch {
	const char *machine; /* uname's */
	const char *scmp;    /* libseccomp's */
	const char *go;	     /* Go's GOARCH, as profiles name it */
} arch;

static const arch arches[] = {
	{"x86_64", "SCMP_ARCH_X86_64", "amd64"},   {"i686", "SCMP_ARCH_X86", "386"},
	{"i586", "SCMP_ARCH_X86", "386"},	   {"i386", "SCMP_ARCH_X86", "386"},
	{"aarch64", "SCMP_ARCH_AARCH64", "arm64"}, {"armv7l", "SCMP_ARCH_ARM", "arm"},
	{"armv6l", "SCMP_ARCH_ARM", "arm"},	   {"ppc64le", "SCMP_ARCH_PPC64LE", "ppc64le"},
	{"ppc64", "SCMP_ARCH_PPC64", "ppc64"},	   {"s390x", "SCMP_ARCH_S390X", "s390x"},
	{"riscv64", "SCMP_ARCH_RISCV64", "riscv64"}, {"mips64", "SCMP_ARCH_MIPS64", "mips64"},
	{"loongarch64", "SCMP_ARCH_LOONGARCH64", "loong64"},
};

static arch arch_of(const char *machine)
{
	for (size_t i = 0; i < ELEMENTSOF(arches); i++)
		if (!strcmp(arches[i].machine, machine))
			return arches[i];
	return (arch){machine, NULL, machine};
}

typedef struct conv {
	arch a;
	unsigned kmajor, kminor;
	const cJSON *caps;
	dcfs_error *e;
} conv;

static bool has_string(const cJSON *arr, const char *s)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) if (cJSON_IsString(it) && !strcmp(it->valuestring, s)) return true;
	return false;
}

/* The kernel is at least `min` ("MAJOR.MINOR"); -EINVAL when `min` is not a version. */
static int kernel_at_least(const conv *c, const cJSON *min)
{
	unsigned major, minor;
	const char *s = cJSON_GetStringValue(min);
	if (!s || sscanf(s, "%u.%u", &major, &minor) != 2)
		return -EINVAL;
	return c->kmajor > major || (c->kmajor == major && c->kminor >= minor);
}

/* Whether the includes (`want` true) or excludes (false) object `cond` holds for the target:
 * for includes, every condition; for excludes, any. -EINVAL: a bad minKernel. */
static int holds(const conv *c, const cJSON *cond, bool want)
{
	const cJSON *arches_ = cJSON_GetObjectItemCaseSensitive(cond, "arches");
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(cond, "caps");
	const cJSON *min = cJSON_GetObjectItemCaseSensitive(cond, "minKernel");
	if (cJSON_GetArraySize(arches_) && has_string(arches_, c->a.go) != want)
		return !want;
	const cJSON *it;
	cJSON_ArrayForEach(it, caps)
	{
		if (has_string(c->caps, cJSON_GetStringValue(it) ?: "") != want)
			return !want;
	}
	if (min && !cJSON_IsNull(min)) {
		int r = kernel_at_least(c, min);
		if (r < 0 || r != want)
			return r < 0 ? r : !want;
	}
	return want;
}

/* An argument condition, checked: values are 64-bit, and cJSON keeps doubles. */
static cJSON *convert_arg(const cJSON *a)
{
	static const char *const keys[] = {"index", "value", "valueTwo"};
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; o && i < ELEMENTSOF(keys); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, keys[i]);
		double d = cJSON_IsNumber(v) ? v->valuedouble : 0;
		if (v && (!cJSON_IsNumber(v) || d < 0 || d > 9007199254740992.0 ||
			  d != (double)(long long)d)) {
			cJSON_Delete(o);
			return NULL;
		}
		cJSON_AddNumberToObject(o, keys[i], d);
	}
	const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "op"));
	if (o && !op) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddStringToObject(o, "op", op);
	return o;
}

static int bad_rule(conv *c, int i, const char *why)
{
	return dcfs_error_set(c->e, EINVAL, "syscalls[%d]: %s", i, why);
}

/* names: "names" (array of strings) or the older "name" (a string), not both. */
static cJSON *rule_names(const cJSON *rule)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(rule, "names");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(rule, "name");
	if ((names && name) || (!names && !cJSON_IsString(name)))
		return NULL;
	const char *one[] = {cJSON_GetStringValue(name)};
	if (name)
		return cJSON_CreateStringArray(one, 1);
	const cJSON *it;
	cJSON_ArrayForEach(it, names) if (!cJSON_IsString(it)) return NULL;
	return cJSON_IsArray(names) ? cJSON_Duplicate(names, true) : NULL;
}

/* The OCI rule for syscalls[i], or *out NULL when it does not apply to the target. */
static int convert_rule(conv *c, const cJSON *rule, int i, cJSON **out)
{
	*out = NULL;
	const cJSON *inc = cJSON_GetObjectItemCaseSensitive(rule, "includes");
	const cJSON *exc = cJSON_GetObjectItemCaseSensitive(rule, "excludes");
	int keep = holds(c, inc, true), excluded = holds(c, exc, false);
	if (keep < 0 || excluded < 0)
		return bad_rule(c, i, "expected minKernel as \"MAJOR.MINOR\"");
	const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rule, "action"));
	_cleanup_json_ cJSON *o = cJSON_CreateObject();
	cJSON *names = rule_names(rule);
	if (!names || !o || !cJSON_AddItemToObject(o, "names", names)) {
		cJSON_Delete(names);
		return bad_rule(c, i, "expected \"names\", an array of syscall names");
	}
	if (!action)
		return bad_rule(c, i, "expected \"action\"");
	cJSON_AddStringToObject(o, "action", action);
	const cJSON *ret = cJSON_GetObjectItemCaseSensitive(rule, "errnoRet");
	if (cJSON_IsNumber(ret))
		cJSON_AddNumberToObject(o, "errnoRet", ret->valuedouble);
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(rule, "args"), *it;
	if (cJSON_GetArraySize(args)) {
		cJSON *oa = cJSON_AddArrayToObject(o, "args");
		cJSON_ArrayForEach(it, args)
		{
			cJSON *a = convert_arg(it);
			if (!a)
				return bad_rule(c, i, "expected args of {index, value, valueTwo, op}"
						      " with integer values below 2^53");
			cJSON_AddItemToArray(oa, a);
		}
	}
	if (keep && !excluded)
		*out = TAKE_PTR(o);
	return 0;
}

/* Architectures: the archMap entry of the target's, with its subArchitectures; or the older
 * "architectures" list as it is. */
static void add_architectures(conv *c, const cJSON *profile, cJSON *out)
{
	const cJSON *map = cJSON_GetObjectItemCaseSensitive(profile, "archMap"), *it;
	/* the older list counts only without a map */
	const cJSON *old = map ? NULL : cJSON_GetObjectItemCaseSensitive(profile, "architectures");
	cJSON *list = cJSON_CreateArray();
	cJSON_ArrayForEach(it, map)
	{
		const char *a =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "architecture"));
		if (!a || !c->a.scmp || strcmp(a, c->a.scmp))
			continue;
		cJSON_AddItemToArray(list, cJSON_CreateString(a));
		const cJSON *sub;
		cJSON_ArrayForEach(sub, cJSON_GetObjectItemCaseSensitive(it, "subArchitectures"))
		{
			if (cJSON_IsString(sub))
				cJSON_AddItemToArray(list, cJSON_Duplicate(sub, false));
		}
	}
	cJSON_ArrayForEach(it, old)
	{
		if (cJSON_IsString(it))
			cJSON_AddItemToArray(list, cJSON_Duplicate(it, false));
	}
	if (cJSON_GetArraySize(list))
		cJSON_AddItemToObject(out, "architectures", list);
	else
		cJSON_Delete(list);
}

/* defaultAction, defaultErrnoRet, flags and the listener, as they are. */
static int copy_top(conv *c, const cJSON *profile, cJSON *out)
{
	const char *action =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(profile, "defaultAction"));
	if (!action)
		return dcfs_error_set(c->e, EINVAL, "expected \"defaultAction\"");
	cJSON_AddStringToObject(out, "defaultAction", action);
	const cJSON *ret = cJSON_GetObjectItemCaseSensitive(profile, "defaultErrnoRet");
	if (cJSON_IsNumber(ret))
		cJSON_AddNumberToObject(out, "defaultErrnoRet", ret->valuedouble);
	static const char *const keys[] = {"flags", "listenerPath", "listenerMetadata"};
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(profile, keys[i]);
		if (v && !cJSON_IsNull(v) && (!cJSON_IsString(v) || *v->valuestring))
			cJSON_AddItemToObject(out, keys[i], cJSON_Duplicate(v, true));
	}
	return 0;
}

int dcfs_seccomp_convert(const cJSON *profile, const dcfs_seccomp_target *t, cJSON **out,
			 dcfs_error *e)
{
	conv c = {.a = arch_of(t->machine), .caps = t->caps, .e = e};
	if (sscanf(t->kernel, "%u.%u", &c.kmajor, &c.kminor) != 2)
		return dcfs_error_set(e, EINVAL, "cannot read the kernel version '%s'", t->kernel);
	if (!cJSON_IsObject(profile))
		return dcfs_error_set(e, EINVAL, "expected a JSON object");
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(profile, "syscalls");
	if (rules && !cJSON_IsArray(rules))
		return dcfs_error_set(e, EINVAL, "expected \"syscalls\" as an array");
	_cleanup_json_ cJSON *o = cJSON_CreateObject();
	if (!o)
		return dcfs_error_set(e, ENOMEM, "out of memory");
	int r = copy_top(&c, profile, o);
	if (r < 0)
		return r;
	add_architectures(&c, profile, o);
	cJSON *syscalls = cJSON_AddArrayToObject(o, "syscalls");
	const cJSON *it;
	int i = 0;
	cJSON_ArrayForEach(it, rules)
	{
		cJSON *rule;
		if ((r = convert_rule(&c, it, i++, &rule)) < 0)
			return r;
		if (rule)
			cJSON_AddItemToArray(syscalls, rule);
	}
	*out = TAKE_PTR(o);
	return 0;
}

int dcfs_seccomp_load(const char *path, cJSON **out, dcfs_error *e)
{
	if (path)
		return dcfs_jsonc_parse_file(path, out, e);
	*out = cJSON_Parse(dcfs_seccomp_default_json);
	return *out ? 0 : dcfs_error_set(e, EINVAL, "the built-in seccomp profile does not parse");
}

int dcfs_seccomp_for(const char *path, const cJSON *caps, cJSON **out, dcfs_error *e)
{
	struct utsname u;
	if (uname(&u) < 0)
		return dcfs_error_set(e, errno, "uname: %m");
	_cleanup_json_ cJSON *profile = NULL;
	int r = dcfs_seccomp_load(path, &profile, e);
	if (r < 0)
		return path ? dcfs_error_wrap(e, "seccomp profile") : r;
	dcfs_seccomp_target t = {.machine = u.machine, .kernel = u.release, .caps = caps};
	r = dcfs_seccomp_convert(profile, &t, out, e);
	if (r < 0 && path)
		return dcfs_error_wrap(e, "seccomp profile '%s'", path);
	return r;
}
