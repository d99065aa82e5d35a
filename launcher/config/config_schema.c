/* The devcontainer.json schema (see config_schema.h): the properties of the spec's
 * devContainer.base.schema.json (general, image, Dockerfile and Docker Compose configurations)
 * and the legacy top-level ones the reference CLI still reads, each with its JSON type(s),
 * its value check and what dcfs does with it. Nearest-name lookup for misspellings. */
#include "config_schema.h"

#include <ctype.h>
#include <string.h>

#include "cleanup.h"

#define S DCFS_JT_STRING
#define I DCFS_JT_INTEGER
#define B DCFS_JT_BOOL
#define O DCFS_JT_OBJECT
#define A DCFS_JT_ARRAY
#define OBJ(props) {props, ELEMENTSOF(props)}

static const char lifecycle_names[] = "initializeCommand|onCreateCommand|updateContentCommand|"
				      "postCreateCommand|postStartCommand|postAttachCommand";
static const char compose_note[] = "run by the compose tool present, on podman or docker";
static const char port_attrs[] = "dcfs does not act on port attributes (labels, auto-forward "
				 "actions, protocols)";

static const dcfs_schema_prop build_props[] = {
	{"dockerfile", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, "built by podman, buildah or docker"},
	{"context", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"args", O, DCFS_SV_STRING_MAP, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"target", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"options", A, DCFS_SV_STRINGS, NULL, NULL, DCFS_SUPPORTED, "passed to the builder"},
	{"cacheFrom", S | A, DCFS_SV_STRINGS, NULL, NULL, DCFS_SUPPORTED, "passed to the builder"},
};

static const dcfs_schema_prop gpu_props[] = {
	{"cores", I, DCFS_SV_ANY, NULL, NULL, DCFS_IGNORED, NULL},
	{"memory", S, DCFS_SV_SIZE, NULL, NULL, DCFS_IGNORED, NULL},
};
static const dcfs_schema_object gpu_object = OBJ(gpu_props);

static const dcfs_schema_prop host_props[] = {
	{"cpus", I, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, "checked against the online CPUs"},
	{"memory", S, DCFS_SV_SIZE, NULL, NULL, DCFS_SUPPORTED, "checked against MemTotal"},
	{"storage", S, DCFS_SV_SIZE, NULL, NULL, DCFS_SUPPORTED,
	 "checked against the free space of the store's filesystem"},
	{"gpu", B | S | O, DCFS_SV_GPU, NULL, &gpu_object, DCFS_IGNORED,
	 "not checked: dcfs gives containers no GPU"},
};

static const dcfs_schema_prop mount_props[] = {
	{"type", S, DCFS_SV_ENUM, "bind|volume", NULL, DCFS_SUPPORTED, NULL},
	{"source", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"target", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
	/* not in the spec's mount object; dcfs takes it as Docker's --mount does */
	{"readonly", B, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
};

static const dcfs_schema_prop port_attr_props[] = {
	{"onAutoForward", S, DCFS_SV_ENUM,
	 "notify|openBrowser|openBrowserOnce|openPreview|silent|ignore", NULL, DCFS_IGNORED, NULL},
	{"elevateIfNeeded", B, DCFS_SV_ANY, NULL, NULL, DCFS_IGNORED, NULL},
	{"label", S, DCFS_SV_ANY, NULL, NULL, DCFS_IGNORED, NULL},
	{"requireLocalPort", B, DCFS_SV_ANY, NULL, NULL, DCFS_IGNORED, NULL},
	{"protocol", S, DCFS_SV_ENUM, "http|https", NULL, DCFS_IGNORED, NULL},
};

static const dcfs_schema_prop secret_props[] = {
	{"description", S, DCFS_SV_ANY, NULL, NULL, DCFS_IGNORED, NULL},
	{"documentationUrl", S, DCFS_SV_ANY, NULL, NULL, DCFS_IGNORED, NULL},
};

static const dcfs_schema_object build_object = OBJ(build_props);
static const dcfs_schema_object host_object = OBJ(host_props);
static const dcfs_schema_object mount_object = OBJ(mount_props);
static const dcfs_schema_object port_attr_object = OBJ(port_attr_props);
static const dcfs_schema_object secret_object = OBJ(secret_props);

#define LIFECYCLE(name, note) {name, S | A | O, DCFS_SV_COMMAND, NULL, NULL, DCFS_SUPPORTED, note}

static const dcfs_schema_prop top_props[] = {
	{"$schema", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, "not used"},
	{"name", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, "shown by tools"},
	/* image configurations */
	{"image", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, "pulled when the store lacks it"},
	{"appPort", I | S | A, DCFS_SV_APP_PORT, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"runArgs", A, DCFS_SV_STRINGS, NULL, NULL, DCFS_SUPPORTED, "the docker flags dcfs knows"},
	{"workspaceFolder", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"workspaceMount", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"shutdownAction", S, DCFS_SV_ENUM, "none|stopContainer|stopCompose", NULL,
	 DCFS_SUPPORTED, "\"none\": dcfs down leaves the container running unless -f"},
	{"overrideCommand", B, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
	/* Dockerfile and Docker Compose configurations */
	{"build", O, DCFS_SV_NESTED, NULL, &build_object, DCFS_SUPPORTED, NULL},
	{"dockerFile", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, "as build.dockerfile"},
	{"context", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, "as build.context"},
	{"dockerComposeFile", S | A, DCFS_SV_STRINGS, NULL, NULL, DCFS_SUPPORTED, compose_note},
	{"service", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, compose_note},
	{"runServices", A, DCFS_SV_STRINGS, NULL, NULL, DCFS_SUPPORTED, compose_note},
	/* the container */
	{"containerEnv", O, DCFS_SV_STRING_MAP, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"remoteEnv", O, DCFS_SV_STRING_MAP, "null", NULL, DCFS_SUPPORTED, NULL},
	{"containerUser", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"remoteUser", S, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"updateRemoteUserUID", B, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"userEnvProbe", S, DCFS_SV_ENUM, "none|loginShell|loginInteractiveShell|interactiveShell",
	 NULL, DCFS_SUPPORTED, NULL},
	{"init", B, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"privileged", B, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"capAdd", A, DCFS_SV_STRINGS, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"securityOpt", A, DCFS_SV_STRINGS, NULL, NULL, DCFS_SUPPORTED, NULL},
	{"mounts", A, DCFS_SV_MOUNTS, NULL, &mount_object, DCFS_SUPPORTED, NULL},
	{"hostRequirements", O, DCFS_SV_NESTED, NULL, &host_object, DCFS_SUPPORTED,
	 "`up` warns when the machine does not meet them"},
	/* ports */
	{"forwardPorts", A, DCFS_SV_PORTS, NULL, NULL, DCFS_SUPPORTED,
	 "`up` says which of them listen"},
	{"portsAttributes", O, DCFS_SV_OBJECT_OF, NULL, &port_attr_object, DCFS_IGNORED,
	 port_attrs},
	{"otherPortsAttributes", O, DCFS_SV_NESTED, NULL, &port_attr_object, DCFS_IGNORED,
	 port_attrs},
	/* lifecycle */
	LIFECYCLE("initializeCommand", "run on the host"),
	LIFECYCLE("onCreateCommand", NULL),
	LIFECYCLE("updateContentCommand", NULL),
	LIFECYCLE("postCreateCommand", NULL),
	LIFECYCLE("postStartCommand", NULL),
	LIFECYCLE("postAttachCommand", NULL),
	{"waitFor", S, DCFS_SV_ENUM, lifecycle_names, NULL, DCFS_SUPPORTED, NULL},
	/* features */
	{"features", O, DCFS_SV_FEATURES, NULL, NULL, DCFS_SUPPORTED,
	 "each installed once as a layer of its own"},
	{"overrideFeatureInstallOrder", A, DCFS_SV_STRINGS, NULL, NULL, DCFS_SUPPORTED, NULL},
	/* tools */
	{"customizations", O, DCFS_SV_ANY, NULL, NULL, DCFS_SUPPORTED,
	 "kept for the tools they are for (printed by read-configuration)"},
	{"secrets", O, DCFS_SV_OBJECT_OF, NULL, &secret_object, DCFS_IGNORED,
	 "dcfs asks for no secrets and sets none: use remoteEnv or containerEnv"},
	/* legacy, moved under customizations.vscode as the reference CLI does */
	{"extensions", A, DCFS_SV_STRINGS, NULL, NULL, DCFS_RECORDED,
	 "recorded with the container; dcfs installs no editor extensions"},
	{"settings", O, DCFS_SV_ANY, NULL, NULL, DCFS_IGNORED,
	 "editor settings: dcfs runs no editor (kept as customizations.vscode.settings)"},
	{"devPort", I | DCFS_JT_NULL, DCFS_SV_ANY, NULL, NULL, DCFS_IGNORED,
	 "the editor server's port: dcfs runs no editor server"},
};

const dcfs_schema_object dcfs_schema_devcontainer = OBJ(top_props);

const dcfs_schema_prop *dcfs_schema_find(const dcfs_schema_object *o, const char *name)
{
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->props[i].name, name))
			return &o->props[i];
	return NULL;
}

/* Optimal string alignment distance (a swap of neighbours counts once), case-insensitive;
 * names longer than 63 characters are far from every known one. */
static size_t distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	if (n > 63 || m > 63)
		return 64;
	size_t d[64][64];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++)
		for (size_t j = 1; j <= m; j++) {
			int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ca != cb);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[n][m];
}

const char *dcfs_schema_nearest(const dcfs_schema_object *o, const char *name)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, len = strlen(name);
	for (size_t i = 0; i < o->n; i++) {
		size_t d = distance(name, o->props[i].name);
		if (d < best_d)
			best = o->props[i].name, best_d = d;
	}
	/* a case difference (0), or up to one edit in three characters, at most 3 */
	return best && (best_d == 0 || (best_d <= 3 && best_d * 3 <= len)) ? best : NULL;
}
