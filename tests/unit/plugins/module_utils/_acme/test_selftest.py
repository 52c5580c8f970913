# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""selftest.py against real servers on loopback: http.server web nodes and DNS over sockets.

- http-01: ``http.server`` instances on ephemeral 127.0.0.1 ports stand for web nodes; their
  handlers route by ``Host`` header and path like a virtual-host web server.
- dns-01 with ``dns_resolvers``: pebble-challtestsrv (skipped with the reason when the binary
  is missing, failed instead when CERTFLEET_REQUIRE_CHALLTESTSRV is set, as the pipeline does),
  records set through its management API.
- dns-01 without resolvers: a small authoritative server written with dnspython (SOA, NS, A,
  TXT, CNAME; no recursion) serves two zones, so the walk to the authoritative servers and a
  CNAME into another zone run over real DNS exchanges.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest
import requests

from ansible_collections.certfleet.acme.plugins.module_utils._acme import selftest
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.selftest import (
    SelfTestResult,
    authoritative_servers,
    check_dns_txt,
    check_http01,
    parse_dns_resolver,
    parse_http_node,
)
from ansible_collections.certfleet.acme.tests.unit.plugins.module_utils._acme.helpers import FakeClock

TOKEN = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
THUMB = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
KEYAUTH = f"{TOKEN}.{THUMB}"
PATH = f"/.well-known/acme-challenge/{TOKEN}"
_COLLECTION_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 5)
# The project's Pebble cache: beside the tests in a checkout, four levels further up from the build
# tree (build/ansible_collections/certfleet/acme) that scripts/unit.sh and make test run them in.
_CHALLTESTSRV_CANDIDATES = [
    os.path.join(root, ".cache", "pebble", "current", "usr", "bin", "pebble-challtestsrv")
    for root in (_COLLECTION_ROOT, os.path.join(_COLLECTION_ROOT, *[".."] * 4))
]
CHALLTESTSRV = next((path for path in _CHALLTESTSRV_CANDIDATES if os.access(path, os.X_OK)), _CHALLTESTSRV_CANDIDATES[0])


def proof_for(identifier: str, url_host: str | None = None) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "token": TOKEN,
        "path": PATH,
        "url": f"http://{url_host or identifier}{PATH}",
        "content": KEYAUTH,
    }


@pytest.fixture
def closed_port() -> Iterator[Callable[[int], int]]:
    """Loopback ports that nothing answers on and nothing else can take while the test runs.

    Each is bound by a socket of this test that never listens (TCP: connections are refused)
    or never reads (UDP: queries go unanswered). A port found free and then let go could be
    taken by another process before the test used it.
    """
    held: list[socket.socket] = []

    def take(kind: int = socket.SOCK_STREAM) -> int:
        sock = socket.socket(socket.AF_INET, kind)
        held.append(sock)
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

    yield take
    for sock in held:
        sock.close()


def spare_port_pair() -> tuple[int, int]:
    """A port free for TCP and UDP alike, and another free for TCP, for a server that binds them itself.

    Free when asked only: ``ChallTestSrv`` starts again on other ports when its binding fails.
    """
    for _attempt in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
                other.bind(("127.0.0.1", 0))
                return port, other.getsockname()[1]
    raise RuntimeError("no free port")


# -- web nodes --------------------------------------------------------------------------------


class Node:
    """One web node: ``routes[(host, path)] = (status, headers, body)``; ``("*", path)`` ignores Host."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[tuple[str, str], tuple[int, dict[str, str], bytes]] = {}
        # (host, path) -> (seconds between bytes, whether to hang after the body, promising more)
        self.slow: dict[tuple[str, str], tuple[float, bool]] = {}
        self.release = threading.Event()
        self.requests: list[dict[str, Any]] = []
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                host = (self.headers.get("Host") or "").lower()
                name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
                node.requests.append({"host": host, "path": self.path, "headers": dict(self.headers)})
                route = node.routes.get((name, self.path)) or node.routes.get(("*", self.path))
                status, headers, body = route or (404, {}, b"404 page not found\n")
                drip, hang = node.slow.get((name, self.path)) or node.slow.get(("*", self.path)) or (0.0, False)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body) * 1000 if hang else len(body)))
                self.end_headers()
                try:
                    for start in range(0, len(body), 1 if drip else len(body) or 1):
                        self.wfile.write(body[start : start + (1 if drip else len(body))])
                        self.wfile.flush()
                        if drip and node.release.wait(drip):
                            return
                    if hang:
                        node.release.wait(30)
                except OSError:  # the client went away, as a capped reader does
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        server_class = ThreadingHTTPServer
        if ":" in host:
            server_class = type("V6Server", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
        self.server = server_class((host, 0), Handler)
        self.port = self.server.server_address[1]
        self.address = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def serve(
        self, host: str, path: str, body: str | bytes, status: int = 200, headers: dict[str, str] | None = None, drip: float = 0.0, hang: bool = False
    ) -> None:
        """``drip``: seconds between single bytes; ``hang``: promise a thousand times the body, send it, then wait."""
        self.routes[(host, path)] = (status, headers or {}, body.encode() if isinstance(body, str) else body)
        self.slow[(host, path)] = (drip, hang)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def nodes():
    started: list[Node] = []

    def start(host: str = "127.0.0.1") -> Node:
        node = Node(host)
        started.append(node)
        return node

    yield start
    for node in started:
        node.close()


# -- http-01 --------------------------------------------------------------------------------


def test_http_without_nodes_fetches_the_url(nodes):
    node = nodes()
    node.serve("*", PATH, KEYAUTH + "\n")
    clock = FakeClock()
    result = check_http01(proof_for("a.example", node.address), nodes=None, attempts=3, delay=2.0, timeout=5, sleep=clock.sleep)
    assert result.ok and result.attempts == 1 and clock.waits == []
    assert result.seen[0]["status"] == 200 and result.seen[0]["node"] is None
    assert "is served correctly by http://" in result.message
    assert node.requests[0]["host"] == node.address


def test_http_every_node_must_serve_the_key_authorization(nodes):
    good, bad = nodes(), nodes()
    good.serve("a.example", PATH, KEYAUTH)
    clock = FakeClock()
    result = check_http01(proof_for("a.example"), nodes=[good.address, bad.address], attempts=3, delay=1.5, timeout=5, sleep=clock.sleep)
    assert not result.ok
    assert result.attempts == 3 and result.max_attempts == 3
    assert clock.waits == [1.5, 1.5]
    assert [entry["status"] for entry in result.seen] == [200, 404]
    assert [entry["ok"] for entry in result.seen] == [True, False]
    assert result.seen[1]["length"] == len(b"404 page not found\n") and "body" not in result.seen[1]
    assert "404 page not found" not in result.message
    assert f"http://{bad.address}{PATH} (Host: a.example) answered 404, expected the key authorization {KEYAUTH}" in result.message
    assert "failed after 3 attempt(s): 1 of 2 node(s) wrong" in result.message
    assert good.address not in result.message
    assert result.expected == KEYAUTH
    assert len(good.requests) == 3 and len(bad.requests) == 3


def test_http_all_nodes_right(nodes):
    first, second = nodes(), nodes()
    for node in (first, second):
        node.serve("a.example", PATH, KEYAUTH + "\r\n  ")
    result = check_http01(proof_for("a.example"), nodes=[first.address, f"http://{second.address}/"], attempts=2, delay=1, timeout=5)
    assert result.ok and result.attempts == 1
    assert f"all 2 node(s) ({first.address}, {second.address})" in result.message
    assert [r["host"] for r in first.requests + second.requests] == ["a.example", "a.example"]


def test_http_host_header_routes_to_the_identifier(nodes):
    node = nodes()
    node.serve("a.example", PATH, KEYAUTH)
    node.serve("b.example", PATH, "something else")
    assert check_http01(proof_for("a.example"), nodes=[node.address], attempts=1, delay=0, timeout=5).ok
    result = check_http01(proof_for("b.example"), nodes=[node.address], attempts=1, delay=0, timeout=5)
    assert not result.ok
    assert f"(Host: b.example) answered 200 with 14 byte(s) that are not a key authorization, expected the key authorization {KEYAUTH}" in result.message
    assert "something else" not in json.dumps(result.to_dict())
    result = check_http01(proof_for("c.example"), nodes=[node.address], attempts=1, delay=0, timeout=5)
    assert "(Host: c.example) answered 404" in result.message


def test_http_content_appears_on_third_attempt(nodes):
    node = nodes()
    node.serve("a.example", PATH, "stale")
    clock = FakeClock(on_wait={2: lambda: node.serve("a.example", PATH, KEYAUTH)})
    result = check_http01(proof_for("a.example"), nodes=[node.address], attempts=5, delay=4, timeout=5, sleep=clock.sleep)
    assert result.ok and result.attempts == 3
    assert clock.waits == [4, 4]
    assert "(attempt 3 of 5)" in result.message
    assert len(node.requests) == 3


def test_http_body_is_never_shown(nodes):
    """A node may answer with an internal page: its length and kind reach the task output, never its text."""
    node = nodes()
    node.serve("a.example", PATH, "x" * 500)
    result = check_http01(proof_for("a.example"), nodes=[node.address], attempts=1, delay=0, timeout=5)
    entry = result.seen[0]
    assert (entry["length"], entry["truncated"], entry["looks_like"]) == (500, False, "other")
    assert "xxxx" not in json.dumps(result.to_dict())
    assert "answered 200 with 500 byte(s) that are not a key authorization, expected the key authorization" in result.message


def test_http_body_read_stops_at_the_cap(nodes):
    """A node that sends a huge (here: endless) body costs 8 KiB and no wait, not the whole body."""
    node = nodes()
    node.serve("a.example", PATH, "secret-internal-page " * 1000, hang=True)
    started = time.monotonic()
    result = check_http01(proof_for("a.example"), nodes=[node.address], attempts=1, delay=0, timeout=3)
    assert time.monotonic() - started < 2
    entry = result.seen[0]
    assert (entry["status"], entry["length"], entry["truncated"], entry["error"]) == (200, selftest.MAX_BODY_BYTES, True, None)
    assert f"answered 200 with 8192 byte(s) (cut at 8192) that are not a key authorization, expected the key authorization {KEYAUTH}" in result.message
    assert "secret" not in json.dumps(result.to_dict())


def test_http_body_dripped_slowly_is_bounded_by_the_timeout(nodes):
    """Each byte within the socket timeout, but the body as a whole must not take longer than the timeout either."""
    node = nodes()
    node.serve("a.example", PATH, KEYAUTH, drip=0.1)
    started = time.monotonic()
    result = check_http01(proof_for("a.example"), nodes=[node.address], attempts=1, delay=0, timeout=1)
    assert time.monotonic() - started < 3
    assert not result.ok and result.seen[0]["error"] == "did not send its answer within 1s"
    assert f"(Host: a.example) did not send its answer within 1s, expected the key authorization {KEYAUTH}" in result.message


def test_http_key_authorization_of_another_token_or_account_is_named_not_shown(nodes):
    other_token = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"
    other_thumb = "AAAAsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    node = nodes()
    node.serve("a.example", PATH, f"{other_token}.{THUMB}\n")
    node.serve("b.example", PATH, f"{TOKEN}.{other_thumb}")
    token_result = check_http01(proof_for("a.example"), nodes=[node.address], attempts=1, delay=0, timeout=5)
    assert token_result.seen[0]["looks_like"] == "other_token"
    assert "that are the key authorization of another token, expected" in token_result.message
    account_result = check_http01(proof_for("b.example"), nodes=[node.address], attempts=1, delay=0, timeout=5)
    assert account_result.seen[0]["looks_like"] == "other_account"
    assert "that are this token's key authorization for another account key, expected" in account_result.message
    shown = json.dumps([token_result.to_dict(), account_result.to_dict()])
    assert other_token not in shown and other_thumb not in shown


def test_http_redirect_to_the_same_name_stays_on_the_node(nodes):
    node, other = nodes(), nodes()
    for n in (node, other):
        n.serve("a.example", PATH, "", status=301, headers={"Location": f"http://a.example/acme/{TOKEN}"})
    node.serve("a.example", f"/acme/{TOKEN}", KEYAUTH)
    result = check_http01(proof_for("a.example"), nodes=[node.address, other.address], attempts=1, delay=0, timeout=5)
    assert [entry["ok"] for entry in result.seen] == [True, False]
    assert result.seen[0]["redirects"] == [f"http://a.example/acme/{TOKEN}"]
    assert [(r["host"], r["path"]) for r in node.requests] == [("a.example", PATH), ("a.example", f"/acme/{TOKEN}")]
    assert f"http://{other.address}{PATH} (Host: a.example) redirected to http://a.example/acme/{TOKEN}, which answered 404" in result.message


def test_http_relative_redirect_without_nodes(nodes):
    node = nodes()
    node.serve("*", PATH, "", status=302, headers={"Location": "/elsewhere"})
    node.serve("*", "/elsewhere", KEYAUTH)
    result = check_http01(proof_for("a.example", node.address), attempts=1, delay=0, timeout=5)
    assert result.ok
    assert result.seen[0]["redirects"] == [f"http://{node.address}/elsewhere"]


def test_http_redirect_to_another_name_is_not_followed(nodes):
    """A web node must not steer the self-test to another host (an internal service, say): only the name itself."""
    node, elsewhere = nodes(), nodes()
    node.serve("a.example", PATH, "", status=307, headers={"Location": f"http://{elsewhere.address}/internal/secret?x=1"})
    elsewhere.serve("*", "/internal/secret?x=1", KEYAUTH)
    result = check_http01(proof_for("a.example"), nodes=[node.address], attempts=1, delay=0, timeout=5)
    assert not result.ok and elsewhere.requests == []
    assert result.seen[0]["status"] == 307 and result.seen[0]["redirects"] == []
    assert (
        f"(Host: a.example) redirected to http://{elsewhere.address}, which the self-test does not follow: "
        "only redirects to a.example itself over http or https on port 80 or 443 are, expected the key authorization"
    ) in result.message
    assert "secret" not in result.message


@pytest.mark.parametrize(
    "location, shown",
    [
        ("http://a.example:8080/x", "http://a.example:8080"),
        ("https://a.example:8443/x", "https://a.example:8443"),
        ("http://A.Example.:22/x", "http://a.example.:22"),
    ],
)
def test_http_redirect_to_another_port_of_the_name_is_not_followed(nodes, location, shown):
    """RFC 8555 section 8.3 as CAs apply it: redirects to ports 80 and 443 only."""
    node = nodes()
    node.serve("a.example", PATH, "", status=302, headers={"Location": location})
    result = check_http01(proof_for("a.example"), nodes=[node.address], attempts=1, delay=0, timeout=5)
    assert not result.ok and len(node.requests) == 1
    assert f"redirected to {shown}, which the self-test does not follow" in result.message


def test_http_redirect_to_the_name_over_https_goes_to_443_on_the_node(nodes):
    class Recording(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self.urls: list[str] = []

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            self.urls.append(url)
            return super().request(method, url, *args, **kwargs)

    node = nodes()
    node.serve("a.example", PATH, "", status=301, headers={"Location": f"https://a.example{PATH}"})
    session = Recording()
    result = check_http01(proof_for("a.example"), nodes=[node.address], attempts=1, delay=0, timeout=2, session=session)
    session.close()
    assert result.seen[0]["redirects"] == [f"https://a.example{PATH}"]
    assert session.urls == [f"http://{node.address}{PATH}", f"https://127.0.0.1:443{PATH}"]
    assert f"redirected to https://a.example{PATH}, which " in result.message


def test_http_redirect_to_another_scheme_is_not_followed(nodes):
    node = nodes()
    node.serve("a.example", PATH, "", status=302, headers={"Location": "ftp://a.example/token"})
    result = check_http01(proof_for("a.example"), nodes=[node.address], attempts=1, delay=0, timeout=5)
    assert not result.ok and result.seen[0]["status"] == 302
    assert "redirected to ftp://a.example/token, which a CA does not follow (only to http or https)" in result.message


def test_http_redirect_loop_is_bounded(nodes):
    node = nodes()
    node.serve("*", PATH, "", status=302, headers={"Location": PATH})
    result = check_http01(proof_for("a.example", node.address), attempts=1, delay=0, timeout=5)
    assert not result.ok
    assert "redirected more than 10 times" in result.message
    assert len(node.requests) == 11


def test_http_unreachable_node(closed_port):
    port = closed_port()
    result = check_http01(proof_for("a.example"), nodes=[f"127.0.0.1:{port}"], attempts=2, delay=0, timeout=2, sleep=FakeClock().sleep)
    assert not result.ok and result.attempts == 2
    assert result.seen[0]["status"] is None
    assert f"http://127.0.0.1:{port}{PATH} (Host: a.example) could not be reached (connection refused)" in result.message


def test_http_node_checks_ignore_proxy_environment(nodes, monkeypatch, closed_port):
    node = nodes()
    node.serve("a.example", PATH, KEYAUTH)
    dead = closed_port()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{dead}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = requests.Session()
    result = check_http01(proof_for("a.example"), nodes=[node.address], attempts=1, delay=0, timeout=5, session=session)
    assert result.ok, result.message
    assert session.trust_env is True  # the caller's session is given back as it was
    session.close()


def test_http_ipv6_node(nodes):
    try:
        node = nodes("::1")
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    node.serve("[2001:db8::1]", PATH, KEYAUTH)
    result = check_http01(proof_for("2001:db8::1", "[2001:db8::1]"), nodes=[node.address], attempts=1, delay=0, timeout=5)
    assert result.ok, result.message
    assert node.requests[0]["host"] == "[2001:db8::1]"


def test_result_to_dict(nodes):
    node = nodes()
    result = check_http01(proof_for("a.example"), nodes=[node.address], attempts=1, delay=0, timeout=5)
    data = result.to_dict()
    assert isinstance(result, SelfTestResult)
    assert set(data) == {"challenge", "target", "ok", "attempts", "max_attempts", "expected", "seen", "message"}
    assert data["challenge"] == "http-01" and data["target"] == "a.example" and data["ok"] is False
    assert set(data["seen"][0]) == {"node", "url", "host", "status", "length", "truncated", "looks_like", "redirects", "error", "ok"}
    json.dumps(data)


@pytest.mark.parametrize(
    "raw, parsed",
    [
        ("web1", ("web1", 80)),
        ("web1.example.com:8080", ("web1.example.com", 8080)),
        ("10.0.0.7", ("10.0.0.7", 80)),
        (" 10.0.0.7:81 ", ("10.0.0.7", 81)),
        ("[::1]:5002", ("::1", 5002)),
        ("[2001:db8::1]", ("2001:db8::1", 80)),
        ("2001:db8::1", ("2001:db8::1", 80)),
        ("http://127.0.0.1:5002", ("127.0.0.1", 5002)),
        ("http://[::1]:81/", ("::1", 81)),
        ("HTTP://web1", ("web1", 80)),
    ],
)
def test_parse_http_node(raw, parsed):
    assert parse_http_node(raw) == parsed


@pytest.mark.parametrize(
    "raw, why",
    [
        ("", "empty entry"),
        ("https://web1", "uses 'https'"),
        ("ftp://web1", "uses 'ftp'"),
        ("http://web1/.well-known/acme-challenge/", "more than a scheme, host and port"),
        ("web1:http", "not a number"),
        ("web1:0", "not a number from 1 to 65535"),
        ("web1:70000", "not a number from 1 to 65535"),
        ("[web1]:80", "not an IPv6 address"),
        ("2001:db8::1:80:zz", "not a valid IPv6 address"),
        ("web 1", "neither an IP address nor a valid host name"),
        ("web1..example", "neither an IP address nor a valid host name"),
        (":80", "names no host"),
        ("http://web1:99999", "not a valid URL"),
    ],
)
def test_parse_http_node_rejects(raw, why):
    with pytest.raises(AcmeOptionError) as caught:
        parse_http_node(raw)
    assert caught.value.option == "http_nodes"
    assert why in caught.value.msg
    assert caught.value.msg.startswith("http_nodes")


def test_check_http01_rejects_bad_nodes_before_any_request():
    with pytest.raises(AcmeOptionError, match="http_nodes: 'web1:x'"):
        check_http01(proof_for("a.example"), nodes=["127.0.0.1:1", "web1:x"], attempts=1, delay=0, timeout=1, session=object())


def test_check_bounds():
    with pytest.raises(AcmeOptionError) as caught:
        check_http01(proof_for("a.example"), attempts=0, delay=0, timeout=1)
    assert caught.value.option == "self_test_attempts"
    with pytest.raises(AcmeOptionError) as caught:
        check_dns_txt("x.example", ["v"], resolvers=["127.0.0.1"], attempts=1, delay=-1, timeout=1)
    assert caught.value.option == "self_test_delay"


# -- dns-01 through configured resolvers: pebble-challtestsrv --------------------------------


class ChallTestSrv:
    """pebble-challtestsrv on ports of its own, started again on others when one was taken meanwhile.

    It does not exit when a port is taken (it logs the bind error and goes on), and whatever
    took the port may accept connections: it counts as started once a TXT record set through
    its management port is answered on its DNS port.
    """

    def __init__(self, binary: str, log_dir: str) -> None:
        for attempt in range(5):
            self.dns_port, self.mgmt_port = spare_port_pair()
            self.log_path = os.path.join(log_dir, f"challtestsrv-{attempt}.log")
            with open(self.log_path, "wb") as log:
                self.process = subprocess.Popen(
                    [binary, "-dnsserver", f"127.0.0.1:{self.dns_port}", "-management", f"127.0.0.1:{self.mgmt_port}"]
                    + ["-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", ""],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            self.resolver = f"127.0.0.1:{self.dns_port}"
            if self._answering_within(10):
                return
            self.stop()
        raise RuntimeError(f"pebble-challtestsrv found one of its ports taken five times: {self.output()}")

    def output(self) -> str:
        with open(self.log_path, "rb") as log:
            return log.read().decode(errors="replace")

    def _answering_within(self, seconds: float) -> bool:
        """True once a record set through the management port is served on the DNS port; False when a port was taken."""
        probe = f"_probe.{uuid.uuid4().hex[:12]}.example.test"
        deadline = time.monotonic() + seconds
        while "address already in use" not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pebble-challtestsrv did not start: {self.stop()}")
            try:
                self.add_txt(probe, "ready")
                answer = dns.query.udp(dns.message.make_query(probe, dns.rdatatype.TXT), "127.0.0.1", port=self.dns_port, timeout=0.5)
                if any(b"ready" in rdata.strings for rrset in answer.answer for rdata in rrset):
                    return True
            except (OSError, dns.exception.DNSException, AssertionError):
                pass
            time.sleep(0.05)  # polling for readiness, bounded by the deadline
        return False

    def post(self, endpoint: str, body: dict[str, str]) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{self.mgmt_port}/{endpoint}", data=json.dumps(body).encode(), method="POST")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=5) as response:
            assert response.status == 200

    def add_txt(self, host: str, value: str) -> None:
        self.post("set-txt", {"host": host + ".", "value": value})

    def set_cname(self, host: str, target: str) -> None:
        self.post("set-cname", {"host": host + ".", "target": target + "."})

    def set_servfail(self, host: str) -> None:
        self.post("set-servfail", {"host": host + "."})

    def stop(self) -> str:
        """Ends the server this fixture started (by its own process handle) and returns its output."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        return self.output()


@pytest.fixture(scope="module")
def challtestsrv(tmp_path_factory):
    """The server for the tests of configured resolvers.

    Missing, they are skipped, unless CERTFLEET_REQUIRE_CHALLTESTSRV is set (the pipeline sets
    it, after bootstrap fetched Pebble): there a missing binary is a fault, not a reason to skip.
    """
    if not os.access(CHALLTESTSRV, os.X_OK):
        why = f"pebble-challtestsrv not found at {os.path.normpath(CHALLTESTSRV)} (fetch Pebble into .cache/pebble first)"
        if os.environ.get("CERTFLEET_REQUIRE_CHALLTESTSRV"):
            pytest.fail(f"{why}; CERTFLEET_REQUIRE_CHALLTESTSRV is set, so the DNS self-tests may not be skipped", pytrace=False)
        pytest.skip(why)
    server = ChallTestSrv(CHALLTESTSRV, str(tmp_path_factory.mktemp("challtestsrv")))
    yield server
    server.stop()


@pytest.fixture
def record_name() -> str:
    """A fresh ``_acme-challenge`` name per test: challtestsrv keeps its records for the module."""
    return f"_acme-challenge.{uuid.uuid4().hex[:12]}.example.test"


def test_dns_value_present(challtestsrv, record_name):
    challtestsrv.add_txt(record_name, "good-value")
    clock = FakeClock()
    result = check_dns_txt(record_name, ["good-value"], resolvers=[challtestsrv.resolver], attempts=3, delay=2, timeout=3, sleep=clock.sleep)
    assert result.ok and result.attempts == 1 and clock.waits == []
    assert result.challenge == "dns-01" and result.target == record_name
    assert result.seen[0]["values"] == ["good-value"] and result.seen[0]["server"] == challtestsrv.resolver
    assert f"TXT {record_name} shows every expected value on {challtestsrv.resolver} (attempt 1 of 3)" == result.message


def test_dns_value_missing_shows_what_was_seen(challtestsrv, record_name):
    challtestsrv.add_txt(record_name, "leftover")
    clock = FakeClock()
    result = check_dns_txt(record_name, ["wanted"], resolvers=[challtestsrv.resolver], attempts=2, delay=5, timeout=3, sleep=clock.sleep)
    assert not result.ok and result.attempts == 2 and clock.waits == [5]
    assert result.expected == ["wanted"]
    assert result.seen[0]["values"] == ["leftover"]
    assert result.message == (
        f"dns-01 self-test of TXT {record_name} failed after 2 attempt(s): expected 'wanted'; "
        f"saw {challtestsrv.resolver} for {record_name}: TXT 'leftover' (missing 'wanted')"
    )


def test_dns_no_record(challtestsrv, record_name):
    result = check_dns_txt(record_name, ["wanted"], resolvers=[challtestsrv.resolver], attempts=1, delay=0, timeout=3)
    assert not result.ok
    assert result.seen[0]["rcode"] == "NOERROR" and result.seen[0]["values"] == []
    assert result.message.endswith(f"{challtestsrv.resolver} for {record_name}: no TXT record")


def test_dns_apex_and_wildcard_values_on_one_name(challtestsrv, record_name):
    challtestsrv.add_txt(record_name, "apex-value")
    partial = check_dns_txt(record_name, ["apex-value", "wildcard-value"], resolvers=[challtestsrv.resolver], attempts=1, delay=0, timeout=3)
    assert not partial.ok
    assert "TXT 'apex-value' (missing 'wildcard-value')" in partial.message
    assert "expected 'apex-value', 'wildcard-value'" in partial.message
    challtestsrv.add_txt(record_name, "wildcard-value")
    challtestsrv.add_txt(record_name, "old-leftover")
    result = check_dns_txt(record_name, ["apex-value", "wildcard-value"], resolvers=[challtestsrv.resolver], attempts=1, delay=0, timeout=3)
    assert result.ok, result.message
    assert sorted(result.seen[0]["values"]) == ["apex-value", "old-leftover", "wildcard-value"]


def test_dns_value_appears_on_third_attempt(challtestsrv, record_name):
    clock = FakeClock(on_wait={2: lambda: challtestsrv.add_txt(record_name, "late")})
    result = check_dns_txt(record_name, ["late"], resolvers=[challtestsrv.resolver], attempts=4, delay=10, timeout=3, sleep=clock.sleep)
    assert result.ok and result.attempts == 3 and clock.waits == [10, 10]
    assert "(attempt 3 of 4)" in result.message


def test_dns_every_resolver_must_agree(challtestsrv, record_name, closed_port):
    challtestsrv.add_txt(record_name, "v")
    dead = closed_port(socket.SOCK_DGRAM)
    result = check_dns_txt(record_name, ["v"], resolvers=[challtestsrv.resolver, f"127.0.0.1:{dead}"], attempts=1, delay=0, timeout=0.5)
    assert not result.ok
    assert [entry["ok"] for entry in result.seen] == [True, False]
    assert f"127.0.0.1:{dead} for {record_name}: " in result.message
    assert challtestsrv.resolver not in result.message.split("saw ", 1)[1]


def test_dns_cname_answered_by_a_recursive_resolver(challtestsrv, record_name):
    target = f"{uuid.uuid4().hex[:8]}.acme-delegation.other.test"
    challtestsrv.set_cname(record_name, target)
    challtestsrv.add_txt(target, "delegated")
    result = check_dns_txt(record_name, ["delegated"], resolvers=[challtestsrv.resolver], attempts=1, delay=0, timeout=3)
    assert result.ok, result.message
    assert result.seen[0]["cname"] == [target]
    assert "(through CNAME)" in result.message
    missing = check_dns_txt(record_name, ["other"], resolvers=[challtestsrv.resolver], attempts=1, delay=0, timeout=3)
    assert f"for {record_name} -> {target}: TXT 'delegated' (missing 'other')" in missing.message


def test_dns_servfail(challtestsrv, record_name):
    challtestsrv.set_servfail(record_name)
    result = check_dns_txt(record_name, ["v"], resolvers=[challtestsrv.resolver], attempts=1, delay=0, timeout=3)
    assert not result.ok
    assert result.message.endswith(f"{challtestsrv.resolver} for {record_name}: answered SERVFAIL")


@pytest.mark.parametrize(
    "raw, parsed",
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:48053", ("127.0.0.1", 48053)),
        ("ns1.example.com", ("ns1.example.com", 53)),
        ("ns1.example.com:5353", ("ns1.example.com", 5353)),
        ("[::1]:53", ("::1", 53)),
        ("[::1]", ("::1", 53)),
        ("::1", ("::1", 53)),
    ],
)
def test_parse_dns_resolver(raw, parsed):
    assert parse_dns_resolver(raw) == parsed


@pytest.mark.parametrize(
    "raw, why",
    [
        ("", "empty entry"),
        ("   ", "empty entry"),
        ("https://dns.example/dns-query", "is a URL"),
        ("127.0.0.1:", "not a number"),
        ("127.0.0.1:dns", "not a number"),
        ("127.0.0.1:65536", "not a number from 1 to 65535"),
        ("[127.0.0.1]:53", "not an IPv6 address"),
        ("::1:53:xyz", "not a valid IPv6 address"),
        ("ns1 .example", "neither an IP address nor a valid host name"),
        ("300.1.2.3", "neither an IP address nor a valid host name"),
    ],
)
def test_parse_dns_resolver_rejects(raw, why):
    with pytest.raises(AcmeOptionError) as caught:
        parse_dns_resolver(raw)
    assert caught.value.option == "dns_resolvers"
    assert why in caught.value.msg


def test_check_dns_txt_rejects_bad_resolvers_before_any_query():
    with pytest.raises(AcmeOptionError, match=r"dns_resolvers: '\[::1\]:x'") as caught:
        check_dns_txt("_acme-challenge.a.example", ["v"], resolvers=["127.0.0.1:1", "[::1]:x"], attempts=1, delay=0, timeout=1)
    assert caught.value.to_result()["option"] == "dns_resolvers"


@pytest.mark.parametrize(
    "name, why",
    [
        ("_acme-challenge.a..b.example", "it has an empty label"),
        ("_acme-challenge." + "x" * 64 + ".example", "more than the 63 DNS allows"),
        ("_acme-challenge." + "abcdefghi." * 25 + "example", "more than the 253 DNS allows"),
        ("_acme-challenge.bücher.example", "outside ASCII"),
    ],
)
def test_check_dns_txt_refuses_a_name_that_is_no_dns_name_before_any_query(name, why):
    with pytest.raises(AcmeOptionError) as caught:
        check_dns_txt(name, ["v"], resolvers=["127.0.0.1:1"], attempts=1, delay=0, timeout=0.2)
    assert caught.value.option == "dns_records"
    assert caught.value.msg.startswith("dns_records name ") and why in caught.value.msg


def test_missing_dnspython_is_named(monkeypatch):
    monkeypatch.setattr(selftest, "DNSPYTHON_IMPORT_ERROR", "Traceback: No module named 'dns'")
    with pytest.raises(AcmeError, match="Python library dnspython"):
        check_dns_txt("_acme-challenge.a.example", ["v"], resolvers=["127.0.0.1"], attempts=1, delay=0, timeout=1)


# -- dns-01 against authoritative servers: a small authoritative server ---------------------


def _rrset(name: str, rdtype: str, *values: str) -> dns.rrset.RRset:
    return dns.rrset.from_text(name, 60, "IN", rdtype, *values)


class AuthoritativeServer:
    """UDP-only authoritative DNS for a few zones: answers, CNAMEs (not chased), NODATA and NXDOMAIN with SOA.

    ``extra[qname]`` lists RRsets added to the answer for ``qname`` (a server that lies about other names).
    """

    def __init__(self, records: dict[str, dict[str, list[str]]], zones: list[str]) -> None:
        self.extra: dict[str, list[dns.rrset.RRset]] = {}
        self.records = {dns.name.from_text(name): data for name, data in records.items()}
        self.zones = [dns.name.from_text(zone) for zone in zones]
        self.queries: list[tuple[str, str]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        qname, qtype = question.name, dns.rdatatype.to_text(question.rdtype)
        self.queries.append((qname.to_text(), qtype))
        zone = max((z for z in self.zones if qname.is_subdomain(z)), key=len, default=None)
        if zone is None:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        data = self.records.get(qname, {})
        if qtype in data:
            response.answer.append(_rrset(qname.to_text(), qtype, *data[qtype]))
        elif "CNAME" in data:
            response.answer.append(_rrset(qname.to_text(), "CNAME", *data["CNAME"]))
        else:
            exists = any(name.is_subdomain(qname) for name in self.records)
            if not exists:
                response.set_rcode(dns.rcode.NXDOMAIN)
            response.authority.append(_rrset(zone.to_text(), "SOA", *self.records[zone]["SOA"]))
        response.answer.extend(self.extra.get(qname.to_text(), []))
        return response

    def serve(self) -> None:
        while self.running:
            try:
                wire, peer = self.sock.recvfrom(4096)
            except OSError:
                continue
            self.sock.sendto(self.answer(dns.message.from_wire(wire)).to_wire(), peer)

    def stop(self) -> None:
        self.running = False
        self.thread.join(5)
        self.sock.close()

    def resolver(self) -> dns.resolver.Resolver:
        """Stands in for the system resolver in the walk to the authoritative servers."""
        resolver = dns.resolver.Resolver(configure=False)
        resolver.port = self.port
        resolver.nameservers = ["127.0.0.1"]
        resolver.lifetime = 3
        return resolver

    def find_servers(self, name: str) -> list[tuple[str, int]]:
        return authoritative_servers(name, timeout=3, resolver=self.resolver(), port=self.port)


SOA = "ns1.{zone} hostmaster.{zone} 1 3600 600 86400 60"


@pytest.fixture
def authoritative():
    server = AuthoritativeServer(
        {
            "example.test": {"SOA": [SOA.format(zone="example.test.")], "NS": ["ns1.example.test."]},
            "ns1.example.test": {"A": ["127.0.0.1"]},
            "_acme-challenge.a.example.test": {"TXT": ['"apex"', '"wild" "card"']},
            "_acme-challenge.c.example.test": {"CNAME": ["c.acme.other.test."]},
            "_acme-challenge.d.example.test": {"CNAME": ["d.acme.other.test."]},
            "other.test": {"SOA": [SOA.format(zone="other.test.")], "NS": ["ns.other.test."]},
            "ns.other.test": {"A": ["127.0.0.1"]},
            "c.acme.other.test": {"TXT": ['"delegated"']},
        },
        zones=["example.test", "other.test"],
    )
    yield server
    server.stop()


def test_authoritative_servers_walks_to_the_zone(authoritative):
    assert authoritative.find_servers("_acme-challenge.a.example.test") == [("127.0.0.1", authoritative.port)]
    # A name that does not exist yet still finds its zone through the SOA in the negative answer.
    assert authoritative.find_servers("_acme-challenge.new.example.test") == [("127.0.0.1", authoritative.port)]
    assert ("example.test.", "NS") in authoritative.queries


def test_dns_authoritative_value_present(authoritative):
    # One TXT record of two character-strings is one value ("wild" "card" -> "wildcard").
    result = check_dns_txt("_acme-challenge.a.example.test", ["apex", "wildcard"], attempts=1, delay=0, timeout=3, find_servers=authoritative.find_servers)
    assert result.ok, result.message
    assert sorted(result.seen[0]["values"]) == ["apex", "wildcard"]
    assert result.seen[0]["server"] == f"127.0.0.1:{authoritative.port}"


def test_dns_authoritative_value_missing(authoritative):
    clock = FakeClock()
    result = check_dns_txt(
        "_acme-challenge.a.example.test.",
        ["apex", "wild", "card"],
        attempts=2,
        delay=1,
        timeout=3,
        sleep=clock.sleep,
        find_servers=authoritative.find_servers,
    )
    assert not result.ok and clock.waits == [1]
    assert sorted(result.seen[0]["values"]) == ["apex", "wildcard"]
    assert "expected 'apex', 'wild', 'card'; saw " in result.message
    assert "(missing 'wild', 'card')" in result.message


def test_dns_authoritative_nxdomain(authoritative):
    result = check_dns_txt("_acme-challenge.b.example.test", ["v"], attempts=1, delay=0, timeout=3, find_servers=authoritative.find_servers)
    assert not result.ok and result.seen[0]["rcode"] == "NXDOMAIN"
    assert result.message.endswith("for _acme-challenge.b.example.test: no TXT record (NXDOMAIN)")


def test_dns_cname_into_another_zone_is_followed(authoritative):
    result = check_dns_txt("_acme-challenge.c.example.test", ["delegated"], attempts=1, delay=0, timeout=3, find_servers=authoritative.find_servers)
    assert result.ok, result.message
    pointer, final = result.seen
    assert pointer["cname"] == ["c.acme.other.test"] and pointer["followed"] == "c.acme.other.test"
    assert final["name"] == "c.acme.other.test" and final["values"] == ["delegated"]
    assert ("c.acme.other.test.", "TXT") in authoritative.queries


def test_dns_cname_to_a_name_without_the_record_shows_the_whole_path(authoritative):
    """_acme-challenge delegated to another zone, where nobody published the value."""
    result = check_dns_txt("_acme-challenge.d.example.test", ["v"], attempts=1, delay=0, timeout=3, find_servers=authoritative.find_servers)
    assert not result.ok
    assert result.message.endswith(f"saw 127.0.0.1:{authoritative.port} for _acme-challenge.d.example.test -> d.acme.other.test: no TXT record (NXDOMAIN)"), (
        result.message
    )
    result = check_dns_txt("_acme-challenge.c.example.test", ["not-there"], attempts=1, delay=0, timeout=3, find_servers=authoritative.find_servers)
    assert "for _acme-challenge.c.example.test -> c.acme.other.test: TXT 'delegated' (missing 'not-there')" in result.message


def test_dns_txt_of_other_names_in_the_answer_does_not_count(authoritative):
    """Only the RRset owned by the name asked (or its CNAME chain) counts; the others are named as ignored."""
    authoritative.extra["_acme-challenge.b.example.test."] = [_rrset("_acme-challenge.b.example.test.evil.test.", "TXT", '"v"')]
    authoritative.extra["_acme-challenge.a.example.test."] = [
        _rrset("other.example.test.", "TXT", '"v"'),
        _rrset("x.example.test.", "CNAME", "y.example.test."),
    ]
    missing = check_dns_txt("_acme-challenge.b.example.test", ["v"], attempts=1, delay=0, timeout=3, find_servers=authoritative.find_servers)
    assert not missing.ok and missing.seen[0]["values"] == []
    assert missing.seen[0]["ignored"] == ["_acme-challenge.b.example.test.evil.test"]
    assert missing.message.endswith(
        "for _acme-challenge.b.example.test: no TXT record (NXDOMAIN); ignored the answer's records for other names: _acme-challenge.b.example.test.evil.test"
    )
    other = check_dns_txt("_acme-challenge.a.example.test", ["v"], attempts=1, delay=0, timeout=3, find_servers=authoritative.find_servers)
    assert not other.ok and sorted(other.seen[0]["values"]) == ["apex", "wildcard"]
    assert other.seen[0]["cname"] == [] and other.seen[0]["followed"] is None
    assert "(missing 'v'); ignored the answer's records for other names: other.example.test, x.example.test" in other.message
    # Its own values still count as they did.
    assert check_dns_txt("_acme-challenge.a.example.test", ["apex"], attempts=1, delay=0, timeout=3, find_servers=authoritative.find_servers).ok


def test_dns_cname_with_configured_resolver_asks_it_for_the_target(authoritative):
    # An authoritative server as dns_resolvers entry: it does not chase the CNAME, so it is asked for the target.
    result = check_dns_txt("_acme-challenge.c.example.test", ["delegated"], resolvers=[f"127.0.0.1:{authoritative.port}"], attempts=1, delay=0, timeout=3)
    assert result.ok, result.message
    assert [entry["name"] for entry in result.seen] == ["_acme-challenge.c.example.test", "c.acme.other.test"]


def test_dns_authoritative_servers_not_found():
    def broken(name: str) -> list[tuple[str, int]]:
        raise dns.resolver.NoNameservers("no name servers")

    result = check_dns_txt("_acme-challenge.a.example.test", ["v"], attempts=2, delay=0, timeout=1, find_servers=broken, sleep=FakeClock().sleep)
    assert not result.ok and result.attempts == 2
    assert "_acme-challenge.a.example.test: could not find its authoritative name servers (NoNameservers" in result.message


def test_dns_unroutable_authoritative_server_is_skipped(authoritative, monkeypatch):
    # A host without IPv6 cannot reach a zone's IPv6 servers; the reachable ones decide.
    real = dns.query.udp_with_fallback

    def udp(query, where, **kwargs):
        if where == "2001:db8::53":
            raise OSError(errno.ENETUNREACH, "Network is unreachable")
        return real(query, where, **kwargs)

    monkeypatch.setattr(dns.query, "udp_with_fallback", udp)
    servers = [("127.0.0.1", authoritative.port), ("2001:db8::53", 53)]
    result = check_dns_txt("_acme-challenge.a.example.test", ["apex"], attempts=1, delay=0, timeout=3, find_servers=lambda name: servers)
    assert result.ok, result.message
    assert result.seen[1]["unreachable"] is True
    # Configured resolvers always count.
    result = check_dns_txt(
        "_acme-challenge.a.example.test", ["apex"], resolvers=[f"127.0.0.1:{authoritative.port}", "[2001:db8::53]"], attempts=1, delay=0, timeout=3
    )
    assert not result.ok
    assert "[2001:db8::53]:53 for _acme-challenge.a.example.test: could not be reached (Network is unreachable)" in result.message
