/* dcfs_engine_spec_body: a table of configurations and the fragments of the create body each
 * must give (a dotted path and its JSON), and of configurations refused with their exact
 * message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_spec.h"
#include "tap.h"

#define CFG "/cfg/.devcontainer/devcontainer.json"
#define KEEP                                                                                       \
	"\"echo Container started\\ntrap \\\"exit 0\\\" 15\\n\\nexec \\\"$@\\\"\\n"               \
	"while sleep 1 & wait $!; do :; done\""

typedef struct frag {
	const char *path; /* "HostConfig.Memory", "Cmd.0" */
	const char *json; /* NULL: absent */
} frag;

typedef struct body_case {
	const char *what, *config;
	frag want[10];
} body_case;

static const body_case bodies[] = {
	{"defaults: image, labels, the workspace bind, the keep-alive",
	 "{}",
	 {{"Image", "\"img\""},
	  {"Labels", "{\"devcontainer.local_folder\":\"/w\"}"},
	  {"HostConfig.Mounts",
	   "[{\"Type\":\"bind\",\"Source\":\"/w\",\"Target\":\"/workspaces/w\"}]"},
	  {"Entrypoint", "[\"/bin/sh\"]"},
	  {"Cmd", "[\"-c\"," KEEP ",\"-\"]"},
	  {"Env", NULL},
	  {"User", NULL}}},
	{"overrideCommand false: the image's entrypoint and command after the script",
	 "{\"overrideCommand\": false}",
	 {{"Entrypoint", "[\"/bin/sh\"]"},
	  {"Cmd", "[\"-c\"," KEEP ",\"-\",\"/init\",\"serve\",\"--port\"]"}}},
	{"feature entrypoints run before the exec",
	 "{\"entrypoints\": [\"/a.sh\", \"/b.sh\"]}",
	 {{"Cmd", "[\"-c\",\"echo Container started\\ntrap \\\"exit 0\\\" 15\\n/a.sh\\n/b.sh\\n"
		  "exec \\\"$@\\\"\\nwhile sleep 1 & wait $!; do :; done\",\"-\"]"}}},
	{"containerEnv, containerUser, init, privileged, capAdd, securityOpt",
	 "{\"containerEnv\": {\"A\": \"1\", \"B\": \"x=y\"}, \"containerUser\": \"dev\","
	 " \"init\": true, \"privileged\": true, \"capAdd\": [\"SYS_PTRACE\"],"
	 " \"securityOpt\": [\"seccomp=unconfined\"]}",
	 {{"Env", "[\"A=1\",\"B=x=y\"]"},
	  {"User", "\"dev\""},
	  {"HostConfig.Init", "true"},
	  {"HostConfig.Privileged", "true"},
	  {"HostConfig.CapAdd", "[\"SYS_PTRACE\"]"},
	  {"HostConfig.SecurityOpt", "[\"seccomp=unconfined\"]"}}},
	{"mounts of each type, strings and objects, volumes labelled",
	 "{\"mounts\": [\"type=bind,source=/h,target=/c,readonly\","
	 " \"source=v1,target=/v1\", \"type=tmpfs,target=/t\","
	 " {\"type\": \"volume\", \"source\": \"v2\", \"target\": \"/v2\"}]}",
	 {{"HostConfig.Mounts",
	   "[{\"Type\":\"bind\",\"Source\":\"/w\",\"Target\":\"/workspaces/w\"},"
	   "{\"Type\":\"bind\",\"Source\":\"/h\",\"Target\":\"/c\",\"ReadOnly\":true},"
	   "{\"Type\":\"volume\",\"Source\":\"v1\",\"Target\":\"/v1\","
	   "\"VolumeOptions\":{\"Labels\":{\"dcfs.volume\":\"1\"}}},"
	   "{\"Type\":\"tmpfs\",\"Target\":\"/t\"},"
	   "{\"Type\":\"volume\",\"Source\":\"v2\",\"Target\":\"/v2\","
	   "\"VolumeOptions\":{\"Labels\":{\"dcfs.volume\":\"1\"}}}]"}}},
	{"runArgs win over the properties; the properties' flags come after",
	 "{\"containerEnv\": {\"A\": \"1\", \"B\": \"2\"}, \"containerUser\": \"dev\","
	 " \"init\": true, \"runArgs\": [\"-e\", \"A=9\", \"--user=root\", \"--init=false\","
	 " \"-eC=3\", \"--env=D=4\"]}",
	 {{"Env", "[\"B=2\",\"A=9\",\"C=3\",\"D=4\"]"},
	  {"User", "\"root\""},
	  {"HostConfig.Init", "true"}}},
	{"names, hostname, workdir, labels, short flags",
	 "{\"runArgs\": [\"--name\", \"box\", \"-h\", \"hh\", \"-w\", \"/src\", \"-u\", \"1000\","
	 " \"-l\", \"a=b\", \"--label=flag\", \"-it\", \"-d\", \"--tty\", \"--interactive=true\","
	 " \"--detach\", \"--entrypoint\", \"/x\"]}",
	 {{"Hostname", "\"hh\""},
	  {"WorkingDir", "\"/src\""},
	  {"User", "\"1000\""},
	  {"Labels", "{\"devcontainer.local_folder\":\"/w\",\"a\":\"b\",\"flag\":\"\"}"},
	  {"Entrypoint", "[\"/bin/sh\"]"}}},
	{"network flags",
	 "{\"runArgs\": [\"--net=bridge\", \"--network\", \"devnet\", \"--network-alias\", \"app\","
	 " \"--add-host\", \"db:10.0.0.2\", \"--add-host=v6=::1\", \"--dns\", \"1.1.1.1\","
	 " \"--dns-search=example.com\", \"--dns-option\", \"ndots:2\"]}",
	 {{"HostConfig.NetworkMode", "\"devnet\""},
	  {"NetworkingConfig.EndpointsConfig.devnet", "{\"Aliases\":[\"app\"]}"},
	  {"HostConfig.ExtraHosts", "[\"db:10.0.0.2\",\"v6:::1\"]"},
	  {"HostConfig.Dns", "[\"1.1.1.1\"]"},
	  {"HostConfig.DnsSearch", "[\"example.com\"]"},
	  {"HostConfig.DnsOptions", "[\"ndots:2\"]"}}},
	{"capabilities, security, devices",
	 "{\"capAdd\": [\"NET_ADMIN\"], \"runArgs\": [\"--cap-add\", \"SYS_PTRACE\","
	 " \"--cap-drop=cap_chown\", \"--security-opt\", \"no-new-privileges\", \"--privileged\","
	 " \"--device\", \"/dev/fuse\", \"--device=/dev/a:/dev/b\", \"--device=/dev/c:/dev/d:r\","
	 " \"--device-cgroup-rule\", \"c 10:* rwm\"]}",
	 {{"HostConfig.CapAdd", "[\"SYS_PTRACE\",\"NET_ADMIN\"]"},
	  {"HostConfig.CapDrop", "[\"cap_chown\"]"},
	  {"HostConfig.SecurityOpt", "[\"no-new-privileges\"]"},
	  {"HostConfig.Privileged", "true"},
	  {"HostConfig.Devices",
	   "[{\"PathOnHost\":\"/dev/fuse\",\"PathInContainer\":\"/dev/fuse\",\"CgroupPermissions\":"
	   "\"rwm\"},{\"PathOnHost\":\"/dev/a\",\"PathInContainer\":\"/dev/b\",\"CgroupPermissions\""
	   ":\"rwm\"},{\"PathOnHost\":\"/dev/c\",\"PathInContainer\":\"/dev/d\","
	   "\"CgroupPermissions\":\"r\"}]"},
	  {"HostConfig.DeviceCgroupRules", "[\"c 10:* rwm\"]"}}},
	{"resources",
	 "{\"runArgs\": [\"-m\", \"512m\", \"--memory-swap=-1\", \"--memory-reservation\", \"1.5g\","
	 " \"--cpus=1.5\", \"-c\", \"512\", \"--cpuset-cpus\", \"0-1\", \"--pids-limit=100\","
	 " \"--shm-size\", \"64k\"]}",
	 {{"HostConfig.Memory", "536870912"},
	  {"HostConfig.MemorySwap", "-1"},
	  {"HostConfig.MemoryReservation", "1610612736"},
	  {"HostConfig.NanoCpus", "1500000000"},
	  {"HostConfig.CpuShares", "512"},
	  {"HostConfig.CpusetCpus", "\"0-1\""},
	  {"HostConfig.PidsLimit", "100"},
	  {"HostConfig.ShmSize", "65536"}}},
	{"sizes: plain bytes, units in either case",
	 "{\"runArgs\": [\"--memory=1000000\", \"--shm-size=1G\", \"--memory-swap\", \"2gb\"]}",
	 {{"HostConfig.Memory", "1000000"},
	  {"HostConfig.ShmSize", "1073741824"},
	  {"HostConfig.MemorySwap", "2147483648"}}},
	{"ulimits (a later one of a name wins), sysctls, tmpfs",
	 "{\"runArgs\": [\"--ulimit\", \"nofile=1024:4096\", \"--ulimit=nproc=100\","
	 " \"--ulimit\", \"nofile=2048\", \"--sysctl\", \"net.ipv4.ip_forward=1\","
	 " \"--tmpfs\", \"/run\", \"--tmpfs=/tmp:size=64m,mode=1777\"]}",
	 {{"HostConfig.Ulimits",
	   "[{\"Name\":\"nproc\",\"Soft\":100,\"Hard\":100},{\"Name\":\"nofile\",\"Soft\":2048,"
	   "\"Hard\":2048}]"},
	  {"HostConfig.Sysctls", "{\"net.ipv4.ip_forward\":\"1\"}"},
	  {"HostConfig.Tmpfs", "{\"/run\":\"\",\"/tmp\":\"size=64m,mode=1777\"}"}}},
	{"volumes and --mount",
	 "{\"runArgs\": [\"-v\", \"/h:/c:ro,z\", \"--volume=cache:/cache\", \"-v\", \"/anon\","
	 " \"--mount\", \"type=volume,source=m,target=/m,readonly\"]}",
	 {{"HostConfig.Binds", "[\"/h:/c:ro,z\"]"},
	  {"Volumes", "{\"/anon\":{}}"},
	  {"HostConfig.Mounts",
	   "[{\"Type\":\"bind\",\"Source\":\"/w\",\"Target\":\"/workspaces/w\"},"
	   "{\"Type\":\"volume\",\"Source\":\"cache\",\"Target\":\"/cache\","
	   "\"VolumeOptions\":{\"Labels\":{\"dcfs.volume\":\"1\"}}},"
	   "{\"Type\":\"volume\",\"Source\":\"m\",\"Target\":\"/m\",\"ReadOnly\":true,"
	   "\"VolumeOptions\":{\"Labels\":{\"dcfs.volume\":\"1\"}}}]"}}},
	{"ports",
	 "{\"runArgs\": [\"-p\", \"8080:80\", \"--publish=127.0.0.1:5432:5432/tcp\","
	 " \"-p\", \"53/udp\", \"-p\", \"[::1]:9000:9000\", \"-p\", \"7000-7001:7000-7001\","
	 " \"--expose\", \"3000\", \"-P\"]}",
	 {{"HostConfig.PortBindings",
	   "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}],"
	   "\"5432/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"5432\"}],"
	   "\"53/udp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}],"
	   "\"9000/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"9000\"}],"
	   "\"7000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"7000\"}],"
	   "\"7001/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"7001\"}]}"},
	  {"ExposedPorts", "{\"80/tcp\":{},\"5432/tcp\":{},\"53/udp\":{},\"9000/tcp\":{},"
			   "\"7000/tcp\":{},\"7001/tcp\":{},\"3000/tcp\":{}}"},
	  {"HostConfig.PublishAllPorts", "true"}}},
	{"namespaces, groups, runtime, restart, stop, read-only, logging",
	 "{\"runArgs\": [\"--ipc=host\", \"--pid\", \"host\", \"--uts=host\", \"--userns\","
	 " \"keep-id\", \"--cgroupns=private\", \"--group-add\", \"video\", \"--runtime=crun\","
	 " \"--restart\", \"on-failure:3\", \"--stop-signal=SIGINT\", \"--stop-timeout\", \"30\","
	 " \"--read-only\", \"--log-driver\", \"json-file\", \"--log-opt\", \"max-size=10m\"]}",
	 {{"HostConfig.IpcMode", "\"host\""},
	  {"HostConfig.PidMode", "\"host\""},
	  {"HostConfig.UTSMode", "\"host\""},
	  {"HostConfig.UsernsMode", "\"keep-id\""},
	  {"HostConfig.CgroupnsMode", "\"private\""},
	  {"HostConfig.GroupAdd", "[\"video\"]"},
	  {"HostConfig.RestartPolicy", "{\"Name\":\"on-failure\",\"MaximumRetryCount\":3}"},
	  {"HostConfig.LogConfig", "{\"Type\":\"json-file\",\"Config\":{\"max-size\":\"10m\"}}"}}},
	{"runtime, stop signal and timeout, read-only",
	 "{\"runArgs\": [\"--runtime=crun\", \"--stop-signal=SIGINT\", \"--stop-timeout\", \"30\","
	 " \"--read-only\", \"--restart=always\"]}",
	 {{"HostConfig.Runtime", "\"crun\""},
	  {"StopSignal", "\"SIGINT\""},
	  {"StopTimeout", "30"},
	  {"HostConfig.ReadonlyRootfs", "true"},
	  {"HostConfig.RestartPolicy", "{\"Name\":\"always\",\"MaximumRetryCount\":0}"}}},
};

typedef struct refusal {
	const char *run_args; /* JSON array */
	int code;
	const char *msg;
} refusal;

#define R(flag) CFG ": runArgs: '" flag "': "
static const refusal refusals[] = {
	{"[\"--gpus\", \"all\"]", -ENOTSUP, R("--gpus") "GPUs are not supported here"},
	{"[\"--rm\"]", -ENOTSUP, R("--rm") "a dev container must stay when it stops"},
	{"[\"--platform=linux/s390x\"]", -ENOTSUP,
	 R("--platform") "only the host's platform (linux/amd64) can run here, not 'linux/s390x'"},
	{"[\"--oom-kill-disable\"]", -ENOTSUP,
	 R("--oom-kill-disable") "not a docker run flag dcfs passes to the engine"},
	{"[\"-x\"]", -ENOTSUP, R("-x") "not a docker run flag dcfs passes to the engine"},
	{"[\"--memory\"]", -EINVAL, R("--memory") "missing its value"},
	{"[\"-m\", \"lots\"]", -EINVAL,
	 R("-m") "bad size 'lots' (expected bytes or a number with k, m, g or t)"},
	{"[\"--shm-size=-1\"]", -EINVAL,
	 R("--shm-size") "bad size '-1' (expected bytes or a number with k, m, g or t)"},
	{"[\"-p\", \"80:http\"]", -EINVAL, R("-p") "bad port '80:http'"},
	{"[\"--publish=70000\"]", -EINVAL, R("--publish") "bad port '70000'"},
	{"[\"-p\", \"80/icmp\"]", -EINVAL, R("-p") "bad port '80/icmp'"},
	{"[\"--expose=x\"]", -EINVAL, R("--expose") "bad port 'x'"},
	{"[\"--cpus=0\"]", -EINVAL, R("--cpus") "bad number of CPUs '0'"},
	{"[\"--pids-limit\", \"ten\"]", -EINVAL, R("--pids-limit") "bad number 'ten'"},
	{"[\"--ulimit=nofile\"]", -EINVAL,
	 R("--ulimit") "expected NAME=SOFT[:HARD], not 'nofile'"},
	{"[\"--ulimit=nofile=10:5\"]", -EINVAL,
	 R("--ulimit") "expected NAME=SOFT[:HARD], not 'nofile=10:5'"},
	{"[\"--cap-add=FLY\"]", -EINVAL, R("--cap-add") "unknown capability 'FLY'"},
	{"[\"--add-host=db\"]", -EINVAL, R("--add-host") "expected NAME:IP, not 'db'"},
	{"[\"--device=dev/x\"]", -EINVAL,
	 R("--device") "expected HOST[:CONTAINER[:rwm]], not 'dev/x'"},
	{"[\"--restart=sometimes\"]", -EINVAL,
	 R("--restart") "expected no, always, unless-stopped or on-failure[:N], not 'sometimes'"},
	{"[\"--cgroupns=shared\"]", -EINVAL, R("--cgroupns") "expected host or private, not 'shared'"},
	{"[\"--sysctl\", \"x\"]", -EINVAL, R("--sysctl") "expected KEY=VALUE, not 'x'"},
	{"[\"--privileged=maybe\"]", -EINVAL, R("--privileged") "expected true or false, not 'maybe'"},
	{"[\"-v\", \"rel/dir:/c\"]", -EINVAL,
	 R("-v") "the source of a bind mount must be an absolute path: 'rel/dir'"},
	{"[\"-v\", \"/h:/c:bogus\"]", -EINVAL,
	 R("-v") "expected [SOURCE:]TARGET[:OPTIONS] in '/h:/c:bogus'"},
	{"[\"--tmpfs=run\"]", -EINVAL, R("--tmpfs") "expected an absolute path in 'run'"},
	{"[\"--mount\", \"type=bind,source=/a,target=/b,bogus=1\"]", -EINVAL,
	 R("--mount") "unknown key 'bogus' (type, source, target, readonly, consistency)"},
	{"[\"--mount=type=npipe,target=/b\"]", -EINVAL,
	 R("--mount") "unsupported mount type 'npipe'"},
	{"[\"--network-alias=a\"]", -EINVAL,
	 R("--network-alias") "aliases need a user-defined --network, not 'default'"},
	{"[\"--security-opt=seccomp=none.json\"]", -EINVAL,
	 R("--security-opt") "cannot read seccomp profile 'none.json': No such file or directory"},
	{"[\"--env-file\", \"missing.env\"]", -EINVAL,
	 R("--env-file") "cannot read 'missing.env': No such file or directory"},
	{"[\"ubuntu\"]", -EINVAL,
	 CFG ": runArgs: 'ubuntu': not a flag (the image and its command are not taken from "
	     "runArgs)"},
};

static const cJSON *at(const cJSON *j, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	char *p = buf, *part;
	while (j && (part = strsep(&p, ".")))
		j = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, atoi(part))
				     : cJSON_GetObjectItemCaseSensitive(j, part);
	return j;
}

static dcfs_engine_spec spec_for(cJSON *config, const char *config_name)
{
	static const char *labels = "{\"devcontainer.local_folder\": \"/w\"}";
	static const char *vlabels = "{\"dcfs.volume\": \"1\"}";
	static const char *image = "{\"Entrypoint\": [\"/init\"], \"Cmd\": [\"serve\", \"--port\"]}";
	static cJSON *l, *v, *ic;
	if (!l) {
		l = cJSON_Parse(labels);
		v = cJSON_Parse(vlabels);
		ic = cJSON_Parse(image);
	}
	return (dcfs_engine_spec){.image = "img", .config = config, .config_name = config_name,
				  .image_config = ic, .labels = l, .workspace_source = "/w",
				  .workspace_target = "/workspaces/w", .volume_labels = v};
}

static void check_body(const body_case *t)
{
	cJSON *config = cJSON_Parse(t->config), *body = NULL;
	dcfs_engine_spec s = spec_for(config, CFG);
	dcfs_error e = {0};
	char *name = NULL;
	int r = dcfs_engine_spec_body(&s, &body, &name, &e);
	if (!tap_result(r == 0, __FILE__, __LINE__, "%s: made", t->what))
		tap_diag("  %d %s", r, e.msg ? e.msg : "");
	for (const frag *f = t->want; body && f->path; f++) {
		char *got = cJSON_PrintUnformatted(at(body, f->path));
		if (!tap_result(tap_str_eq(got, f->json), __FILE__, __LINE__, "%s: %s", t->what,
				f->path))
			tap_diag("  got %s", got ? got : "(absent)");
		free(got);
	}
	free(name);
	dcfs_error_clear(&e);
	cJSON_Delete(body);
	cJSON_Delete(config);
}

static void check_refusal(const refusal *t)
{
	char *text = NULL;
	if (asprintf(&text, "{\"runArgs\": %s}", t->run_args) < 0)
		return;
	cJSON *config = cJSON_Parse(text), *body = NULL;
	dcfs_engine_spec s = spec_for(config, CFG);
	dcfs_error e = {0};
	char *name = NULL;
	CHECK_INT(dcfs_engine_spec_body(&s, &body, &name, &e), t->code);
	CHECK_STR(e.msg, t->msg);
	CHECK(!body && !name);
	dcfs_error_clear(&e);
	cJSON_Delete(config);
	free(text);
}

/* --name comes back; --env-file and a seccomp profile are read relative to the
 * configuration's folder, the profile sent inline. */
static void name_and_env_file(void)
{
	char dir[] = "/tmp/dcfs-spec-XXXXXX", path[300], cfg[300];
	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/dev.env", dir);
	snprintf(cfg, sizeof(cfg), "%s/devcontainer.json", dir);
	FILE *f = fopen(path, "w");
	fputs("# comment\n\nA=1\n  B=two words\r\nDCFS_TEST_UNSET_VAR\n", f);
	fclose(f);
	char prof[300];
	snprintf(prof, sizeof(prof), "%s/prof.json", dir);
	f = fopen(prof, "w");
	fputs("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", f);
	fclose(f);
	cJSON *config = cJSON_Parse(
		"{\"containerEnv\": {\"A\": \"0\"}, \"securityOpt\": [\"seccomp=unconfined\"],"
		" \"runArgs\": [\"--name=dev\", \"--env-file\", \"dev.env\", \"--name\", \"dev2\","
		" \"--security-opt\", \"seccomp:prof.json\", \"--security-opt=label=disable\"]}");
	dcfs_engine_spec s = spec_for(config, cfg);
	cJSON *body = NULL;
	dcfs_error e = {0};
	char *name = NULL;
	CHECK_INT(dcfs_engine_spec_body(&s, &body, &name, &e), 0);
	CHECK_STR(name, "dev2");
	char *env = cJSON_PrintUnformatted(at(body, "Env"));
	CHECK_STR(env, "[\"A=1\",\"B=two words\"]");
	free(env);
	char *sec = cJSON_PrintUnformatted(at(body, "HostConfig.SecurityOpt"));
	CHECK_STR(sec, "[\"seccomp={\\\"defaultAction\\\": \\\"SCMP_ACT_ALLOW\\\"}\",\"label=disable\","
		       "\"seccomp=unconfined\"]");
	free(sec);
	cJSON_Delete(body);
	free(name);
	s.kind = "podman"; /* podman opens the profile itself */
	CHECK_INT(dcfs_engine_spec_body(&s, &body, &name, &e), 0);
	sec = cJSON_PrintUnformatted(at(body, "HostConfig.SecurityOpt.0"));
	char want[400];
	snprintf(want, sizeof(want), "\"seccomp=%s\"", prof);
	CHECK_STR(sec, want);
	free(sec);
	unlink(prof);
	free(name);
	cJSON_Delete(body);
	cJSON_Delete(config);
	unlink(path);
	rmdir(dir);
}

/* Property errors name the property; no workspace source: no workspace mount. */
static void properties(void)
{
	cJSON *config = cJSON_Parse("{\"mounts\": [\"type=bind,source=rel,target=/x\"]}");
	dcfs_engine_spec s = spec_for(config, CFG);
	cJSON *body = NULL;
	dcfs_error e = {0};
	CHECK_INT(dcfs_engine_spec_body(&s, &body, NULL, &e), -EINVAL);
	CHECK_STR(e.msg, CFG ": mounts[0]: the source of a bind mount must be an absolute path: 'rel'");
	dcfs_error_clear(&e);
	cJSON_Delete(config);

	config = cJSON_Parse("{\"overrideCommand\": false}");
	s = spec_for(config, CFG);
	s.workspace_source = NULL;
	s.image_config = NULL;
	s.mounts_extra = cJSON_Parse("[\"source=home,target=/home/dev\"]");
	CHECK_INT(dcfs_engine_spec_body(&s, &body, NULL, &e), 0);
	char *m = cJSON_PrintUnformatted(at(body, "HostConfig.Mounts"));
	CHECK_STR(m, "[{\"Type\":\"volume\",\"Source\":\"home\",\"Target\":\"/home/dev\","
		     "\"VolumeOptions\":{\"Labels\":{\"dcfs.volume\":\"1\"}}}]");
	char *cmd = cJSON_PrintUnformatted(at(body, "Cmd"));
	CHECK_STR(cmd, "[\"-c\"," KEEP ",\"-\"]");
	free(m);
	free(cmd);
	cJSON_Delete((cJSON *)s.mounts_extra);
	cJSON_Delete(body);
	cJSON_Delete(config);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		check_body(&bodies[i]);
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		check_refusal(&refusals[i]);
	name_and_env_file();
	properties();
	return tap_done();
}
