#!/usr/bin/env bash
# Build and test everything, as CI does: a -Werror build, a sanitizer (ASan + UBSan) build, the
# unit tests and the integration tests against the sanitizer build. Ends with one line,
# "N passed, M failed", and exits non-zero when anything failed (a failed build counts as one).
#
#   tools/test.sh             (Debian 12, as root)
#   PYTEST_ARGS="-k import" tools/test.sh
#
# Every step runs under `timeout` (limits below, in seconds; DCFS_LIMIT_<STEP> overrides one), so
# that a hung mount fails the run, naming the step, instead of stalling it; each integration test
# has its own limit too (tests/integration/conftest.py).
set -uo pipefail # not -e: every step runs and reports; failures are counted below
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." || exit 1
root=$PWD
python=/usr/bin/python3

passed=0
failed=0
problems=()
summarized=0
start=$(date +%s)

summary() {
	[[ $summarized -eq 1 ]] && return
	summarized=1
	echo
	if [[ ${#problems[@]} -gt 0 ]]; then
		printf 'FAILED: %s\n' "${problems[@]}"
	fi
	echo "test.sh: $(($(date +%s) - start))s"
	echo "$passed passed, $failed failed"
}
# Whatever happens, the last line is the count.
trap 'rc=$?; if [[ $summarized -eq 0 ]]; then [[ $rc -ne 0 ]] && failed=$((failed + 1)) && problems+=("test.sh stopped (exit $rc)"); summary; fi; [[ $failed -eq 0 ]] || exit 1' EXIT

fail() {
	failed=$((failed + 1))
	problems+=("$*")
}

step() { printf '\n==> %s\n' "$*"; }

# Configure DIR with OPTIONS, or update an existing configuration to them.
setup() {
	local dir=$1
	shift
	if [[ -f $dir/meson-private/coredata.dat ]]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@"
	fi
}

limit_deps=${DCFS_LIMIT_DEPS:-1800}
limit_build=${DCFS_LIMIT_BUILD:-1800}
limit_unit=${DCFS_LIMIT_UNIT:-1200}
limit_integration=${DCFS_LIMIT_INTEGRATION:-10800}
limit_fuse314=${DCFS_LIMIT_FUSE314:-3600}

# limited SECONDS LABEL COMMAND...: COMMAND (a program, or a function of this script: they are
# exported) under `timeout`, which ends its whole process group at the limit (and kills it 30 s
# later); a step stopped that way is named as hung, here and in the summary (the caller counts the
# failure). Returns COMMAND's status (124 or 137 then).
limited() {
	local secs=$1 label=$2 rc
	shift 2
	timeout --kill-after=30 "$secs" bash -c '"$@"' limited "$@"
	rc=$?
	if [[ $rc -eq 124 || $rc -eq 137 ]]; then
		echo "test.sh: $label: still running after ${secs}s: stopped (hung?)" >&2
		problems+=("$label: timed out after ${secs}s")
	fi
	return $rc
}
export -f setup

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# run_pytest LIMIT LABEL BINARY JUNIT ARGS...: run pytest against BINARY (for at most LIMIT
# seconds) and add up its results.
run_pytest() {
	local limit=$1 label=$2 bin=$3 junit=$4
	shift 4
	step "$label (pytest $*)"
	rm -f "$junit"
	local rc=0
	if [[ -d tests/integration ]]; then
		limited "$limit" "$label" env DCFS_BIN="$bin" "$python" -m pytest -q -rfE -p no:cacheprovider \
			--junitxml="$junit" "$@" </dev/null
		rc=$?
	else
		rc=5
	fi
	if [[ $rc -eq 5 ]]; then
		echo "$label: none collected"
		return
	fi
	local counts ok bad
	counts=$("$python" - "$junit" <<'PY'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 0)
    sys.exit()
suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
ok = bad = 0
for s in suites:
    n = int(s.get("tests", 0))
    f = int(s.get("failures", 0)) + int(s.get("errors", 0))
    k = int(s.get("skipped", 0))
    ok += n - f - k
    bad += f
print(ok, bad)
PY
)
	read -r ok bad <<<"$counts"
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [[ $bad -gt 0 ]]; then
		problems+=("$label: $bad failed")
	elif [[ $rc -ne 0 ]]; then
		fail "$label: pytest exit $rc"
	fi
	echo "$label: $ok passed, $bad failed"
}

step "dependencies"
# podman: a pushed image must run under it, and it builds Dockerfile configurations (buildah too);
# podman and docker.io are the engines of --engine, podman-compose and docker-compose the compose
# tools of Compose configurations
if ! limited "$limit_deps" "tools/install-deps.sh" bash tools/install-deps.sh podman buildah \
	docker.io podman-compose docker-compose; then
	fail "tools/install-deps.sh"
	summary
	exit 1
fi

step "-Werror build (build-werror/)"
if ! { limited "$limit_build" "-Werror setup" \
	setup build-werror -Dwerror=true -Dbuildtype=debugoptimized &&
	limited "$limit_build" "-Werror build" meson compile -C build-werror; }; then
	fail "-Werror build"
fi

step "sanitizer build (build-asan/)"
asan_ok=1
if ! { limited "$limit_build" "sanitizer setup" \
	setup build-asan -Db_sanitize=address,undefined -Db_lundef=false &&
	limited "$limit_build" "sanitizer build" meson compile -C build-asan; }; then
	fail "sanitizer build"
	asan_ok=0
fi

if [[ $asan_ok -eq 1 ]]; then
	step "unit tests (meson test -C build-asan)"
	testlog=build-asan/meson-logs/testlog.json
	rm -f "$testlog"
	limited "$limit_unit" "unit tests" meson test -C build-asan --print-errorlogs
	rc=$?
	counts=$("$python" - "$testlog" <<'PY'
import json, sys
ok = bad = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line).get("result")
            if r in ("OK", "EXPECTEDFAIL"):
                ok += 1
            elif r != "SKIP":
                bad += 1
except OSError:
    pass
print(ok, bad)
PY
)
	read -r ok bad <<<"$counts"
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [[ $bad -gt 0 ]]; then
		problems+=("$bad unit test(s)")
	elif [[ $rc -ne 0 ]]; then
		fail "meson test (exit $rc)"
	fi
	echo "unit tests: $ok passed, $bad failed"

	# shellcheck disable=SC2086 # PYTEST_ARGS is split on purpose
	run_pytest "$limit_integration" "integration tests" "$root/build-asan/tools/dcfs" \
		"$root/build-asan/pytest-junit.xml" \
		${PYTEST_ARGS:-} tests/integration
fi

# The builds above use the libfuse that install-deps.sh built (>= 3.17, FUSE passthrough) when it
# could; the filesystem again against the system's libfuse 3.14, the fallback a user gets when
# that cannot be built (the writeback cache instead of passthrough).
step "libfuse 3.14 fallback build (build-fuse314/)"
if [[ ${DCFS_SKIP_FUSE314:-} == 1 ]]; then
	echo "skipped (DCFS_SKIP_FUSE314=1)"
elif [[ ! -f /opt/dcfs-libfuse/lib/pkgconfig/fuse3.pc ]]; then
	echo "libfuse >= 3.17 could not be built here: the builds above are the 3.14 fallback"
elif ! { PKG_CONFIG_PATH= limited "$limit_build" "libfuse 3.14 setup" \
	setup build-fuse314 -Dbuildtype=debugoptimized -Dpkg_config_path=[] &&
	limited "$limit_build" "libfuse 3.14 build" meson compile -C build-fuse314; }; then
	fail "libfuse 3.14 build"
else
	grep -q '#define DCFS_HAVE_PASSTHROUGH' build-asan/config.h ||
		fail "the default build lacks FUSE passthrough although /opt/dcfs-libfuse has libfuse"
	! grep -q '#define DCFS_HAVE_PASSTHROUGH' build-fuse314/config.h ||
		fail "the 3.14 build has passthrough"
	run_pytest "$limit_fuse314" "filesystem tests on libfuse 3.14" "$root/build-fuse314/tools/dcfs" \
		"$root/build-fuse314/pytest-junit.xml" tests/integration/test_workspace.py \
		tests/integration/test_rootfs.py tests/integration/test_workspace_acl.py \
		tests/integration/test_posix_conformance.py tests/integration/test_mount_mode.py
fi

summary
[[ $failed -eq 0 ]]
