"""The registry client's URL policy: a registry (or a token realm it names, or a redirect it
answers with) cannot make dcfs fetch anything but https, or plain http to this machine; Basic
credentials never go over plain http to another host; an oversized manifest says so.

Each test runs small HTTP stand-ins (registry_standin.Answering) on loopback addresses that record
what they receive."""
import json
import socket

import pytest

from registry_standin import Answering

USER = "dev:s3cret"
BASIC = "Basic ZGV2OnMzY3JldA=="  # base64 of USER
MAX_BODY = 16 << 20


@pytest.fixture
def servers():
    started = []

    def start(answer, addr="127.0.0.1"):
        s = Answering(answer, addr)
        started.append(s)
        return s

    yield start
    for s in started:
        s.close()


def challenge(realm):
    def answer(path, headers):
        if path.startswith("/v2/") and "/manifests/" in path:
            if headers.get("Authorization") == "Bearer tok":
                return 404, [("Content-Type", "application/json")], b'{"errors":[]}'
            return 401, [("WWW-Authenticate",
                          f'Bearer realm="{realm}",service="test",scope="repository:img:pull"')], b""
        if path.startswith("/token"):
            return 200, [("Content-Type", "application/json")], json.dumps({"token": "tok"}).encode()
        return 404, [], b""
    return answer


def one_line(p):
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


def pull(dcfs, host, env=None):
    return dcfs("pull", f"{host}/img:v1", check=1, env={"DCFS_REGISTRY_AUTH": USER, **(env or {})})


def test_gopher_realm_is_refused_before_connecting(dcfs, store, servers):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    realm = f"gopher://127.0.0.1:{listener.getsockname()[1]}/1token"
    try:
        reg = servers(challenge(realm))
        line = one_line(pull(dcfs, reg.host))
        assert "refusing to fetch gopher://127.0.0.1" in line, line
        assert "not gopher" in line, line
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever connected
    finally:
        listener.close()


@pytest.mark.parametrize("realm", ["file:///etc/passwd", "dict://127.0.0.1:2628/d:x"])
def test_other_scheme_realms_are_refused(dcfs, store, servers, realm):
    reg = servers(challenge(realm))
    line = one_line(pull(dcfs, reg.host))
    assert f"refusing to fetch {realm}" in line, line
    assert "token realm" in line, line
    assert all(auth is None for _, auth in reg.seen), reg.seen


def test_plain_http_realm_on_another_host_gets_no_credentials(dcfs, store, servers):
    auth = servers(challenge("unused"), addr="127.0.0.2")
    reg = servers(challenge(f"http://{auth.host}/token"))
    line = one_line(pull(dcfs, reg.host))
    assert "manifest unknown" in line, line  # the token was fetched and used
    tokens = [s for s in auth.seen if s[0].startswith("/token")]
    assert tokens, auth.seen
    assert all(a is None for _, a in tokens), f"credentials sent over http to another host: {tokens}"
    assert ("Bearer tok" in [a for _, a in reg.seen]), reg.seen


def test_realm_on_the_registry_itself_gets_the_credentials(dcfs, store, servers):
    holder = {}
    reg = servers(lambda path, headers: holder["answer"](path, headers))
    holder["answer"] = challenge(f"http://{reg.host}/token")
    line = one_line(pull(dcfs, reg.host))
    assert "manifest unknown" in line, line
    tokens = [a for p, a in reg.seen if p.startswith("/token")]
    assert tokens == [BASIC], reg.seen


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1:1/x"])
def test_redirect_to_another_scheme_is_refused(dcfs, store, servers, target):
    reg = servers(lambda path, headers: (302, [("Location", target)], b""))
    line = one_line(pull(dcfs, reg.host))
    assert f"refusing to fetch {target}" in line, line


# A redirect to plain http on a host other than this machine is refused by the same check
# (tests/unit/test_registry_url.c covers the policy): no test here sends anything to an
# address outside the loopback range.


def test_oversized_manifest_says_so(dcfs, store, servers):
    big = b"{" + b" " * (MAX_BODY + 100) + b"}"
    reg = servers(lambda path, headers: (200, [("Content-Type",
                                                "application/vnd.oci.image.manifest.v1+json")], big))
    line = one_line(dcfs("pull", f"{reg.host}/img:v1", check=1))
    assert f"manifest of {reg.host}/img:v1 is larger than {MAX_BODY} bytes" in line, line
    assert "Failed writing" not in line, line


def test_credentials_do_not_follow_a_redirect_to_another_host(dcfs, store, servers):
    auth = servers(challenge("unused"), addr="127.0.0.2")
    holder = {}
    reg = servers(lambda path, headers: holder["answer"](path, headers))
    registry = challenge(f"http://{reg.host}/token")

    def answer(path, headers):
        if path.startswith("/token"):  # the realm is the registry, which sends us elsewhere
            return 302, [("Location", f"http://{auth.host}{path}")], b""
        return registry(path, headers)
    holder["answer"] = answer
    line = one_line(pull(dcfs, reg.host))
    assert "manifest unknown" in line, line
    assert [a for p, a in reg.seen if p.startswith("/token")] == [BASIC], reg.seen
    tokens = [s for s in auth.seen if s[0].startswith("/token")]
    assert tokens and all(a is None for _, a in tokens), tokens
