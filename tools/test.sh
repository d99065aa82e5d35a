#!/usr/bin/env bash
# Build and test everything, as CI does: a -Werror build, a sanitizer (ASan + UBSan) build, the
# unit tests and the integration tests against the sanitizer build. Ends with one line,
# "N passed, M failed", and exits non-zero when anything failed (a failed build counts as one).
#
#   tools/test.sh             (Debian 12, as root)
#   PYTEST_ARGS="-k import" tools/test.sh
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

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

step "dependencies"
if ! bash tools/install-deps.sh; then
	fail "tools/install-deps.sh"
	summary
	exit 1
fi

step "-Werror build (build-werror/)"
if ! { setup build-werror -Dwerror=true -Dbuildtype=debugoptimized && meson compile -C build-werror; }; then
	fail "-Werror build"
fi

step "sanitizer build (build-asan/)"
asan_ok=1
if ! { setup build-asan -Db_sanitize=address,undefined -Db_lundef=false &&
	meson compile -C build-asan; }; then
	fail "sanitizer build"
	asan_ok=0
fi

if [[ $asan_ok -eq 1 ]]; then
	step "unit tests (meson test -C build-asan)"
	testlog=build-asan/meson-logs/testlog.json
	rm -f "$testlog"
	meson test -C build-asan --print-errorlogs
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

	step "integration tests (pytest tests/integration)"
	junit=$root/build-asan/pytest-junit.xml
	rm -f "$junit"
	rc=0
	if [[ -d tests/integration ]]; then
		# shellcheck disable=SC2086 # PYTEST_ARGS is split on purpose
		DCFS_BIN=$root/build-asan/tools/dcfs "$python" -m pytest -q -rfE -p no:cacheprovider \
			--junitxml="$junit" ${PYTEST_ARGS:-} tests/integration </dev/null
		rc=$?
	else
		rc=5
	fi
	if [[ $rc -eq 5 ]]; then
		echo "integration tests: none collected"
	else
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
			problems+=("$bad integration test(s)")
		elif [[ $rc -ne 0 ]]; then
			fail "pytest (exit $rc)"
		fi
		echo "integration tests: $ok passed, $bad failed"
	fi
fi

summary
[[ $failed -eq 0 ]]
