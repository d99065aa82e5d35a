"""HTTP stand-ins for a registry, shared by the pull, push and registry URL-policy tests: small
http.server servers on a loopback port, each serving from a daemon thread until close().

  Answering(answer)          answers every GET with answer(path, headers) -> (status, headers,
                             body); records (path, Authorization) in `seen`
  StallProxy(up, head)       in front of the registry `up` ("host:port"): blob downloads send
                             their first `head` bytes, then stall until close() (slow=True
                             instead: blobs come in 64 KiB pieces, 40 ms apart)
  BearerProxy(up)            the Docker Hub token flow: reads want a token of scope
                             repository:REPO:pull, writes one of repository:REPO:pull,push
  FlakyProxy(up)             the first manifest GET answers 503, the first download of each blob
                             breaks half-way

Every one is a context manager (`with BearerProxy(registry.host) as proxy:`) and has `host`.
"""
import http.server
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


class StandIn(http.server.ThreadingHTTPServer):
    """A server of `handler` on `addr`, port chosen by the system, serving until close()."""

    def __init__(self, handler, addr="127.0.0.1"):
        super().__init__((addr, 0), handler)
        self.host = f"{addr}:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self):
        self.shutdown()
        self.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Handler(http.server.BaseHTTPRequestHandler):
    """What the stand-ins' handlers share: quiet, reply(), and forward() to the upstream."""

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            self.wfile.write(body)
        except OSError:
            pass  # dcfs hung up (an oversized body, a refused answer): what some tests expect

    def forward(self, headers, data=None):
        """This request, with `headers`, to the server's upstream: (status, body, headers)."""
        srv = self.server
        req = urllib.request.Request(f"http://{srv.upstream}{self.path}", data=data,
                                     method=self.command, headers=headers)
        try:
            r = urllib.request.urlopen(req, timeout=30)
            return r.status, r.read(), r.headers
        except urllib.error.HTTPError as err:
            return err.code, err.read(), err.headers


# ---- answering from a function ------------------------------------------------------------


class Answering(StandIn):
    """Answers every GET with `answer(path, headers) -> (status, headers, body)` and records
    (path, Authorization) of each request in `seen`."""

    def __init__(self, answer, addr="127.0.0.1"):
        self.answer = answer
        self.seen = []
        super().__init__(AnsweringHandler, addr)


class AnsweringHandler(Handler):
    def do_GET(self):
        srv = self.server
        srv.seen.append((self.path, self.headers.get("Authorization")))
        status, headers, body = srv.answer(self.path, self.headers)
        self.reply(status, body, headers)


# ---- a slow or stalling registry ----------------------------------------------------------


class StallProxy(StandIn):
    """Blob downloads send their first `head` bytes, then stall (until close(), or 120 s pass:
    then `stall_expired` is set). slow=True: blobs come in 64 KiB pieces, 40 ms apart."""

    def __init__(self, upstream, head=0, slow=False):
        self.upstream, self.head = upstream, head
        self.done = threading.Event()
        self.stall_expired = False
        super().__init__(SlowHandler if slow else StallHandler)

    def close(self):
        self.done.set()
        super().close()


class StallHandler(Handler):
    def relay_headers(self):
        """Fetch the path from upstream, send its status and headers; return its body."""
        status, body, hdrs = self.forward({"Accept": self.headers.get("Accept", "*/*")})
        self.send_response(status)
        self.send_header("Content-Type", hdrs.get("Content-Type", ""))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return body

    def do_GET(self):
        srv = self.server
        body = self.relay_headers()
        if "/blobs/" in self.path and len(body) > srv.head:
            self.wfile.write(body[:srv.head])
            self.wfile.flush()
            if not srv.done.wait(120):
                srv.stall_expired = True
            self.close_connection = True
            return
        self.wfile.write(body)


class SlowHandler(StallHandler):
    def do_GET(self):
        body = self.relay_headers()
        step = 65536 if "/blobs/" in self.path else len(body) or 1
        for off in range(0, len(body), step):
            self.wfile.write(body[off:off + step])
            self.wfile.flush()
            if step == 65536:
                time.sleep(0.04)


# ---- the token flow -----------------------------------------------------------------------


class BearerProxy(StandIn):
    """The Docker Hub token flow in front of `upstream`: a request without the right token gets
    401 and `WWW-Authenticate: Bearer realm="http://HOST/token",service="dcfs-test",scope=...`;
    reads want scope repository:REPO:pull, writes repository:REPO:pull,push (a pull,push
    token does for reads too). /token answers {"token": "tok:SCOPE"}; its request paths are
    recorded in `token_requests`, the scopes asked for in `scopes`. The rest is forwarded, with
    the upstream's address in Location headers made the proxy's."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.token_requests = []
        self.scopes = []
        super().__init__(BearerHandler)


class BearerHandler(Handler):
    def handle_any(self):
        srv = self.server
        if self.path.startswith("/token"):
            srv.token_requests.append(self.path)
            scope = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["scope"][0]
            srv.scopes.append(scope)
            return self.reply(200, json.dumps({"token": "tok:" + scope}).encode(),
                              [("Content-Type", "application/json")])
        write = self.command in ("POST", "PATCH", "PUT")
        repo = self.path[len("/v2/"):].split("/blobs/")[0].split("/manifests/")[0]
        scope = f"repository:{repo}:{'pull,push' if write else 'pull'}"
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer tok:")
        if self.path != "/v2/" and token not in (scope, f"repository:{repo}:pull,push"):
            challenge = (f'Bearer realm="http://{srv.host}/token",service="dcfs-test",'
                         f'scope="{scope}"')
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                              [("WWW-Authenticate", challenge)])
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() in ("accept", "content-type", "content-range")}
        status, body, hdrs = self.forward(headers, data)
        keep = [(k, v.replace(srv.upstream, srv.host)) for k, v in hdrs.items()
                if k.lower() in ("content-type", "location", "docker-content-digest", "range")]
        self.reply(status, body, keep)

    do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = handle_any


# ---- failures to retry --------------------------------------------------------------------


class FlakyProxy(StandIn):
    """Answers the first GET of each manifest with 503 (Retry-After: 0) and breaks the first
    download of each blob half-way (a full Content-Length, half the bytes, then a close); Range
    requests are passed on, unless `ignore_range` (then the whole blob comes again). Records
    (path, Range header) of each request in `seen`."""

    def __init__(self, upstream, ignore_range=False):
        self.upstream = upstream
        self.ignore_range = ignore_range
        self.seen = []
        self.broken = set()
        super().__init__(FlakyHandler)


class FlakyHandler(Handler):
    def do_GET(self):
        srv = self.server
        srv.seen.append((self.path, self.headers.get("Range")))
        if "/manifests/" in self.path and self.path not in srv.broken:
            srv.broken.add(self.path)
            return self.reply(503, b"try later", [("Retry-After", "0")])
        headers = {"Accept": self.headers.get("Accept", "*/*")}
        if self.headers.get("Range") and not srv.ignore_range:
            headers["Range"] = self.headers["Range"]
        status, body, hdrs = self.forward(headers)
        keep = [(k, hdrs[k]) for k in ("Content-Type", "Content-Range") if hdrs.get(k)]
        if "/blobs/" in self.path and status == 200 and len(body) > 1000 \
                and self.path not in srv.broken:
            srv.broken.add(self.path)
            self.send_response(200)
            for k, v in keep:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.reply(status, body, keep)
