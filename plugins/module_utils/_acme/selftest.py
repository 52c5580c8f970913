# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Self-tests: is a published proof visible *before* the CA is asked to validate it?

A failed validation costs a rate-limit slot (Let's Encrypt allows 5 per name per hour), so the
proof is fetched first the way the CA will fetch it:

- ``http-01`` (RFC 8555 section 8.3): GET ``http://<name>/.well-known/acme-challenge/<token>``
  on port 80, expecting HTTP 200 and the key authorization, trailing whitespace stripped. With
  ``http_nodes`` the same request goes to every web node with ``Host: <name>``, and every node
  must answer correctly, since the CA may reach any of them. Web nodes are untrusted: redirects
  are followed only as a CA would (http or https, ports 80 and 443, at most 10) and only to
  ``<name>`` itself (on the node, with ``http_nodes``), certificate validity ignored as CAs do;
  at most ``MAX_BODY_BYTES`` of a body are read, and the result never holds the body, only
  its length and whether it looks like another token's or account's key authorization.
- ``dns-01`` (section 8.4): TXT lookups of ``_acme-challenge.<name>`` sent straight to the
  zone's authoritative servers (so no recursive resolver's negative cache hides a fresh record)
  or to the configured ``dns_resolvers``, following CNAMEs into other zones. Every expected
  value must be present on every server; other values (apex + wildcard, leftovers) are fine.

Each check runs a bounded number of attempts with a delay between them and never raises for a
negative result: it returns a ``SelfTestResult`` saying what was expected and what was seen.
Only malformed input raises ``AcmeOptionError``.
"""

from __future__ import annotations

import dataclasses
import errno
import ipaddress
import re
import socket
import time
import traceback
import warnings
from typing import Any, Callable
from urllib.parse import urljoin, urlsplit

from ansible_collections.certfleet.acme.plugins.module_utils._acme.challenges import txt_text
from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import check_request_timeout
from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, AcmeOptionError
from ansible_collections.certfleet.acme.plugins.module_utils._acme.identifiers import check_dns_name, dns_name_problem
from ansible_collections.certfleet.acme.plugins.module_utils._acme.version import COLLECTION_VERSION
from ansible_collections.certfleet.acme.plugins.module_utils._acme.webroot import KEY_AUTHORIZATION

REQUESTS_IMPORT_ERROR: str | None
try:
    import requests
except ImportError:
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

DNSPYTHON_IMPORT_ERROR: str | None
try:
    import dns.exception
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype
    import dns.resolver
except ImportError:
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()
else:
    DNSPYTHON_IMPORT_ERROR = None

DEFAULT_ATTEMPTS = 5
DEFAULT_DELAY = 3.0
DEFAULT_TIMEOUT = 10.0
HTTP_PORT = 80
HTTPS_PORT = 443
DNS_PORT = 53
# Let's Encrypt's validation authority follows at most 10 redirects.
MAX_REDIRECTS = 10
MAX_CNAME_HOPS = 8
# Records of other names a server put in its answer: this many are named, the rest left out.
MAX_IGNORED_SHOWN = 10
MAX_BODY_BYTES = 8192
# Error texts of libraries are cut to this many characters in messages.
SHOWN_TEXT_CHARS = 200
USER_AGENT = f"certfleet.acme/{COLLECTION_VERSION} self-test"

_BRACKETED_RE = re.compile(r"^\[([^\]]+)\](?::([^:]*))?$")
# Errors meaning "this host has no route to that address family", not "the server is wrong".
_UNREACHABLE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL}


@dataclasses.dataclass
class SelfTestResult:
    """Outcome of one self-test; ``seen`` holds one entry per node or name server asked."""

    challenge: str
    target: str
    ok: bool
    attempts: int
    max_attempts: int
    expected: Any
    seen: list[dict[str, Any]]
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a module result (all keys valid Jinja identifiers)."""
        return dataclasses.asdict(self)


# -- option parsing -------------------------------------------------------------


def _valid_hostname(host: str) -> bool:
    # An all-digit last label would read as a (bad) IPv4 address, not a name.
    return dns_name_problem(host) is None and not host.rstrip(".").rsplit(".", 1)[-1].isdigit()


def _split_host_port(text: str, default_port: int, option: str, raw: str, example: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 address."""

    def bad(why: str) -> AcmeOptionError:
        return AcmeOptionError(option, f"{option}: {raw!r} {why}; write it as {example}")

    port_text: str | None = None
    match = _BRACKETED_RE.match(text)
    if match:
        host, port_text = match.group(1), match.group(2)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad("has brackets around something that is not an IPv6 address") from None
    elif text.count(":") > 1:
        try:
            host = ipaddress.IPv6Address(text).compressed
        except ValueError:
            raise bad("is not a valid IPv6 address (put a port after the address in brackets: [2001:db8::1]:port)") from None
    elif ":" in text:
        host, port_text = text.rsplit(":", 1)
    else:
        host = text
    if port_text is None:
        port = default_port
    else:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise bad(f"has port {port_text!r}, which is not a number from 1 to 65535")
        port = int(port_text)
    if not host:
        raise bad("names no host")
    if ":" not in host:
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            if not _valid_hostname(host):
                raise bad(f"has host {host!r}, which is neither an IP address nor a valid host name") from None
    return host, port


def parse_http_node(raw: str, option: str = "http_nodes") -> tuple[str, int]:
    """A web node as ``(host, port)`` from ``host``, ``host:port``, ``[v6]:port`` or ``http://host:port``."""
    example = "'host', 'host:port', '[2001:db8::1]:port' or 'http://host:port'"
    if not isinstance(raw, str) or not raw.strip():
        raise AcmeOptionError(option, f"{option} contains an empty entry; write each node as {example}")
    text = raw.strip()
    if "://" in text:
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError as exc:
            raise AcmeOptionError(option, f"{option}: {raw!r} is not a valid URL ({exc}); write it as {example}") from None
        if parts.scheme.lower() != "http":
            raise AcmeOptionError(option, f"{option}: {raw!r} uses {parts.scheme!r}; http-01 is validated over plain http, write it as {example}")
        if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
            raise AcmeOptionError(option, f"{option}: {raw!r} has more than a scheme, host and port (the challenge path is added); write it as {example}")
        text = parts.netloc
    return _split_host_port(text, HTTP_PORT, option, raw, example)


def parse_dns_resolver(raw: str, option: str = "dns_resolvers") -> tuple[str, int]:
    """A DNS server as ``(host, port)`` from ``host``, ``host:port`` or ``[v6]:port`` (default port 53)."""
    example = "'host', 'host:port' or '[2001:db8::1]:port'"
    if not isinstance(raw, str) or not raw.strip():
        raise AcmeOptionError(option, f"{option} contains an empty entry; write each server as {example}")
    if "://" in raw:
        raise AcmeOptionError(option, f"{option}: {raw!r} is a URL; DNS servers are queried over plain DNS, write it as {example}")
    return _split_host_port(raw.strip(), DNS_PORT, option, raw, example)


def _netloc(host: str, port: int | None = None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def check_self_test_bounds(attempts: Any, delay: float) -> None:
    """At least one look for each proof, and no negative pause between two looks.

    The one check of ``self_test_attempts`` and ``self_test_delay``, for acme_challenge_proof and the batch too.
    """
    if not isinstance(attempts, int) or attempts < 1:
        raise AcmeOptionError("self_test_attempts", "self_test_attempts must be at least 1")
    if delay < 0:
        raise AcmeOptionError("self_test_delay", "self_test_delay must be zero or more seconds")


def _check_bounds(attempts: int, delay: float, timeout: float) -> None:
    check_self_test_bounds(attempts, delay)
    check_request_timeout(timeout)


def _shorten(text: str, limit: int = SHOWN_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _run_attempts(
    attempts: int, delay: float, sleep: Callable[[float], None], one_round: Callable[[], tuple[bool, list[dict[str, Any]]]]
) -> tuple[bool, int, list[dict[str, Any]]]:
    """Up to ``attempts`` rounds with ``delay`` seconds between them; stops at the first success."""
    seen: list[dict[str, Any]] = []
    for attempt in range(1, attempts + 1):
        ok, seen = one_round()
        if ok:
            return True, attempt, seen
        if attempt < attempts and delay > 0:
            sleep(delay)
    return False, attempts, seen


# -- http-01 --------------------------------------------------------------------


def _describe_request_error(exc: Exception, timeout: float) -> str:
    if REQUESTS_IMPORT_ERROR is None:
        if isinstance(exc, requests.exceptions.Timeout):
            return f"gave no answer within {timeout:g}s"
        if isinstance(exc, requests.exceptions.ConnectionError):
            text = str(exc)
            for known in (
                "Connection refused",
                "Name or service not known",
                "No route to host",
                "Network is unreachable",
                "Temporary failure in name resolution",
                "Connection reset by peer",
                "Remote end closed connection",
            ):
                if known in text:
                    return f"could not be reached ({known.lower()})"
            return f"could not be reached ({_shorten(text)})"
    return f"could not be fetched ({type(exc).__name__}: {_shorten(str(exc))})"


_REDIRECTS = (301, 302, 303, 307, 308)
_DEFAULT_PORTS = {"http": HTTP_PORT, "https": HTTPS_PORT}


class _SlowBody(Exception):
    """The body did not arrive within the request's timeout."""


@dataclasses.dataclass
class _Hop:
    """Where the next request goes: ``logical`` is the URL the CA fetches, ``url`` the one asked (on the node)."""

    logical: str
    url: str
    node: tuple[str, int] | None


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return parts.scheme, _host_key(parts.hostname or ""), parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)


def _host_key(host: str) -> str:
    """A host name or address as compared: lower case, no final dot, IP addresses in one spelling."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host


def _next_hop(hop: _Hop, location: str, identifier: str, start: tuple[str, str, int]) -> _Hop | str:
    """The redirect to follow, or why it is not followed (naming scheme, host and port only).

    RFC 8555 section 8.3 and CA practice: only http or https, only ports 80 and 443, at most
    ``MAX_REDIRECTS`` hops. The self-test runs inside the operator's network, so it goes further
    than a CA: it only follows redirects to the name being validated (or to the URL it started
    from), never to another host a web node names, which could be an internal service.
    """
    logical = urljoin(hop.logical, location)
    target = urlsplit(logical)
    try:
        port = target.port
    except ValueError:
        return f"redirected to {_shorten(logical)!r}, which is not a valid URL"
    if target.scheme not in _DEFAULT_PORTS or not target.hostname:
        return f"redirected to {logical}, which a CA does not follow (only to http or https)"
    port = port or _DEFAULT_PORTS[target.scheme]
    where = f"{target.scheme}://{_netloc(target.hostname, port)}"
    same_start = (target.scheme, _host_key(target.hostname), port) == start
    if not same_start and not (_host_key(target.hostname) == _host_key(identifier) and port in (HTTP_PORT, HTTPS_PORT)):
        return f"redirected to {where}, which the self-test does not follow: only redirects to {identifier} itself over http or https on port 80 or 443 are"
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    if hop.node is None:
        return _Hop(logical, logical, None)
    # On a node, its port stands for port 80; https (or port 443) goes to 443 on the same node.
    node_port = hop.node[1] if target.scheme == "http" and port == HTTP_PORT else port
    return _Hop(logical, f"{target.scheme}://{_netloc(hop.node[0], node_port)}{path}", hop.node)


def _read_capped(response: Any, timeout: float) -> tuple[bytes, bool]:
    """At most ``MAX_BODY_BYTES`` of the body and whether it went on; never the whole of a large body.

    Read a byte at a time: each read waits at most ``timeout`` (the socket's), and the whole body
    at most ``timeout`` more, so a node that drips its answer cannot hold the self-test longer.
    """
    deadline = time.monotonic() + timeout
    body = bytearray()
    for chunk in response.iter_content(chunk_size=1):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return bytes(body[:MAX_BODY_BYTES]), True
        if time.monotonic() > deadline:
            raise _SlowBody()
    return bytes(body), False


def _get(session: Any, hop: _Hop, host_header: str, timeout: float) -> tuple[int, str | None, bytes, bool]:
    """One GET without following redirects: status, Location, the body up to the cap, whether it was cut."""
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"}
    if hop.node:
        headers["Host"] = host_header
    with warnings.catch_warnings():
        # CAs ignore certificate validity on http-01 redirects to https; so does the self-test, quietly.
        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
        response = session.request("GET", hop.url, headers=headers, timeout=timeout, verify=False, allow_redirects=False, stream=True)
    try:
        location = response.headers.get("Location") if response.status_code in _REDIRECTS else None
        body, truncated = (b"", False) if location else _read_capped(response, timeout)
    finally:
        response.close()
    return response.status_code, location, body, truncated


def _looks_like(body: bytes, content: str) -> str:
    """What an unexpected body resembles, without repeating it: another token's or account's key authorization."""
    match = KEY_AUTHORIZATION.fullmatch(body.rstrip().decode("ascii", "replace"))
    if match is None:
        return "other"
    return "other_token" if match.group("token") != content.partition(".")[0] else "other_account"


def _fetch_proof(session: Any, logical_url: str, identifier: str, node: tuple[str, int] | None, content: str, timeout: float) -> dict[str, Any]:
    """GET the proof as the CA would, from ``node`` when given, following redirects by hand (``_next_hop``).

    The entry never holds the body (a node could answer with an internal page that would land
    in a job log): only its length, whether it was cut at ``MAX_BODY_BYTES`` and what it looks like.
    """
    host_header = _netloc(identifier)
    hop = _Hop(logical_url, f"http://{_netloc(*node)}{urlsplit(logical_url).path}" if node else logical_url, node)
    start = _origin(logical_url)
    entry: dict[str, Any] = {"node": _netloc(*node) if node else None, "url": hop.url, "host": host_header, "status": None}
    entry.update({"length": None, "truncated": False, "looks_like": None, "redirects": [], "error": None, "ok": False})
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            status, location, body, truncated = _get(session, hop, host_header, timeout)
        except _SlowBody:
            entry["error"] = f"did not send its answer within {timeout:g}s"
            return entry
        except Exception as exc:  # requests raises many types; each is a negative result, not a crash
            entry["error"] = _describe_request_error(exc, timeout)
            return entry
        entry["status"] = status
        if not location:
            # Like CAs, ignore trailing whitespace (a newline added by an editor or echo).
            entry["ok"] = status == 200 and body.rstrip() == content.encode("utf-8")
            entry.update({"length": len(body), "truncated": truncated, "looks_like": "expected" if entry["ok"] else _looks_like(body, content)})
            return entry
        following = _next_hop(hop, location, identifier, start)
        if isinstance(following, str):
            entry["error"] = following
            return entry
        hop = following
        entry["redirects"].append(hop.logical)
    entry["error"] = f"redirected more than {MAX_REDIRECTS} times"
    return entry


_LOOKS_LIKE = {
    "other": "that are not a key authorization",
    "other_token": "that are the key authorization of another token",
    "other_account": "that are this token's key authorization for another account key",
}


def _describe_http(entry: dict[str, Any], content: str) -> str:
    where = entry["url"] if entry["node"] is None else f"{entry['url']} (Host: {entry['host']})"
    if entry["redirects"]:
        where += f" redirected to {entry['redirects'][-1]}, which"
    if entry["error"]:
        return f"{where} {entry['error']}, expected the key authorization {content}"
    if entry["status"] != 200:
        return f"{where} answered {entry['status']}, expected the key authorization {content}"
    cut = f" (cut at {MAX_BODY_BYTES})" if entry["truncated"] else ""
    return f"{where} answered 200 with {entry['length']} byte(s){cut} {_LOOKS_LIKE[entry['looks_like']]}, expected the key authorization {content}"


def check_http01(
    proof: dict[str, Any],
    *,
    nodes: list[str] | None = None,
    attempts: int = DEFAULT_ATTEMPTS,
    delay: float = DEFAULT_DELAY,
    timeout: float = DEFAULT_TIMEOUT,
    session: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SelfTestResult:
    """Is the ``http-01`` proof (``challenges.http01_proof``) served at its URL, or by every node?"""
    for key in ("identifier", "path", "url", "content"):
        if not isinstance(proof.get(key), str) or not proof[key]:
            raise AcmeError(f"the http-01 proof to self-test has no {key!r}", proof=proof)
    parsed_nodes = [parse_http_node(raw) for raw in nodes] if nodes else []
    _check_bounds(attempts, delay, timeout)
    identifier, content, url = proof["identifier"], proof["content"], proof["url"]

    own_session = session is None
    if own_session:
        if REQUESTS_IMPORT_ERROR:
            raise AcmeError(
                "the http-01 self-test needs the Python library requests on the host that runs the module",
                exception=REQUESTS_IMPORT_ERROR,
            )
        session = requests.Session()
    # Node checks target chosen addresses: proxies from the environment must not send them elsewhere.
    switch_env = bool(parsed_nodes) and hasattr(session, "trust_env")
    old_trust_env = getattr(session, "trust_env", None)
    if switch_env:
        session.trust_env = False

    def one_round() -> tuple[bool, list[dict[str, Any]]]:
        targets: list[tuple[str, int] | None] = list(parsed_nodes) or [None]
        entries = [_fetch_proof(session, url, identifier, node, content, timeout) for node in targets]
        return all(entry["ok"] for entry in entries), entries

    try:
        ok, used, seen = _run_attempts(attempts, delay, sleep, one_round)
    finally:
        if switch_env:
            session.trust_env = old_trust_env
        if own_session:
            session.close()

    if ok:
        where = f"all {len(seen)} node(s) ({', '.join(e['node'] for e in seen)})" if parsed_nodes else url
        message = f"http-01 proof for {identifier} is served correctly by {where} (attempt {used} of {attempts})"
    else:
        bad = [_describe_http(entry, content) for entry in seen if not entry["ok"]]
        summary = f"{len(bad)} of {len(seen)} node(s) wrong: " if parsed_nodes else ""
        message = f"http-01 self-test for {identifier} failed after {used} attempt(s): {summary}" + "; ".join(bad)
    return SelfTestResult("http-01", identifier, ok, used, attempts, content, seen, message)


# -- dns-01 ---------------------------------------------------------------------


def _require_dnspython() -> None:
    if DNSPYTHON_IMPORT_ERROR:
        raise AcmeError(
            "the DNS self-test needs the Python library dnspython (pip install dnspython) on the host that runs the module; install it or set self_test: false",
            exception=DNSPYTHON_IMPORT_ERROR,
        )


def authoritative_servers(name: str, *, timeout: float = DEFAULT_TIMEOUT, resolver: Any = None, port: int = DNS_PORT) -> list[tuple[str, int]]:
    """Addresses of the name servers of the zone that holds ``name`` (RFC 1034 section 4.2).

    The zone is found by walking up from ``name`` to the nearest SOA (``zone_for_name``), its NS
    set and their A/AAAA addresses are looked up with ``resolver`` (default: the system's).
    """
    _require_dnspython()
    if resolver is None:
        resolver = dns.resolver.Resolver()
        resolver.lifetime = timeout
    zone = dns.resolver.zone_for_name(name, resolver=resolver)
    servers: list[tuple[str, int]] = []
    for ns in resolver.resolve(zone, dns.rdatatype.NS):
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            try:
                answer = resolver.resolve(ns.target, rdtype)
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
                continue
            for address in answer:
                if (address.address, port) not in servers:
                    servers.append((address.address, port))
    return servers


def _query_txt(server: tuple[str, int], qname: str, timeout: float) -> tuple[dict[str, Any], str | None]:
    """One TXT query to one server; the entry seen, and a CNAME target the server left unresolved."""
    host, port = server
    entry: dict[str, Any] = {
        "server": _netloc(host, port),
        "name": qname.rstrip("."),
        "cname": [],
        "values": [],
        "rcode": None,
        "error": None,
        "unreachable": False,
        "followed": None,
        "ignored": [],
        "ok": False,
    }
    address = host
    if ":" not in host:
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            try:
                address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0][4][0]
            except OSError as exc:
                entry["error"] = f"could not look up the address of {host} ({exc})"
                return entry, None
    try:
        query = dns.message.make_query(qname, dns.rdatatype.TXT)
        response, _tcp = dns.query.udp_with_fallback(query, address, timeout=timeout, port=port)
    except dns.exception.Timeout:
        entry["error"] = f"gave no answer within {timeout:g}s"
        return entry, None
    except OSError as exc:
        entry["error"] = f"could not be reached ({exc.strerror or exc})"
        entry["unreachable"] = exc.errno in _UNREACHABLE_ERRNOS
        return entry, None
    except Exception as exc:  # dnspython's parse errors and the like: a broken answer is a negative result
        entry["error"] = f"gave an unusable answer ({type(exc).__name__}: {exc})"
        return entry, None
    rcode = response.rcode()
    entry["rcode"] = dns.rcode.to_text(rcode)
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        entry["error"] = f"answered {entry['rcode']}"
        return entry, None
    current = _read_answer(response, dns.name.from_text(qname), entry)
    if not entry["values"] and entry["cname"] and rcode == dns.rcode.NOERROR:
        return entry, current.to_text()
    return entry, None


def _read_answer(response: Any, qname: Any, entry: dict[str, Any]) -> Any:
    """The TXT values of ``qname`` in the answer, through its CNAMEs; returns the last name of the chain.

    Only RRsets owned by the name asked, or by a name its CNAME chain leads to, count (RFC 1034
    section 3.6.2): a server that adds TXT records of other names must not make a missing
    value look present. Those are listed in ``entry["ignored"]`` and named when nothing matched.
    """
    current = qname
    chain = [qname]
    for _hop in range(MAX_CNAME_HOPS):
        cname = response.get_rrset(response.answer, current, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if cname is None:
            break
        current = cname[0].target
        chain.append(current)
        entry["cname"].append(current.to_text().rstrip("."))
    txt = response.get_rrset(response.answer, current, dns.rdataclass.IN, dns.rdatatype.TXT)
    if txt is not None:
        # One record's character-strings form one value (as RFC 7208 section 3.3 reads them).
        entry["values"] = [txt_text(rdata) for rdata in txt]
    others = {rrset.name.to_text().rstrip(".") for rrset in response.answer if rrset.name not in chain}
    entry["ignored"] = sorted(others)[:MAX_IGNORED_SHOWN]
    return current


def _cname_path(entry: dict[str, Any], seen: list[dict[str, Any]]) -> list[str]:
    """The names that led to ``entry`` through CNAMEs answered by earlier queries, first one first."""
    sources = {str(e["followed"]).lower(): e for e in seen if e["followed"]}
    path: list[str] = []
    current = entry["name"].lower()
    for _hop in range(MAX_CNAME_HOPS):
        source = sources.get(current)
        if source is None or source is entry:
            break
        path[:0] = [source["name"], *source["cname"][:-1]]
        current = source["name"].lower()
    return path


def _describe_dns(entry: dict[str, Any], expected: list[str], via: list[str] | None = None) -> str:
    name = " -> ".join([*(via or []), entry["name"], *entry["cname"]])
    where = f"{entry['server']} for {name}" if entry["server"] else name
    if entry["error"]:
        return f"{where}: {entry['error']}"
    ignored = f"; ignored the answer's records for other names: {', '.join(entry['ignored'])}" if entry.get("ignored") else ""
    if not entry["values"]:
        reason = " (NXDOMAIN)" if entry["rcode"] == "NXDOMAIN" else ""
        return f"{where}: no TXT record{reason}{ignored}"
    missing = [value for value in expected if value not in entry["values"]]
    return f"{where}: TXT {', '.join(repr(v) for v in entry['values'])} (missing {', '.join(repr(v) for v in missing)}){ignored}"


def check_dns_txt(
    name: str,
    expected_values: list[str],
    *,
    resolvers: list[str] | None = None,
    attempts: int = DEFAULT_ATTEMPTS,
    delay: float = DEFAULT_DELAY,
    timeout: float = DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    find_servers: Callable[[str], list[tuple[str, int]]] | None = None,
    challenge: str = "dns-01",
    option: str = "dns_records",
) -> SelfTestResult:
    """Does every name server show every expected TXT value at ``name`` (following CNAMEs)?

    ``resolvers`` (``dns_resolvers``) are asked directly; without them the authoritative servers
    of each zone on the way are found with ``find_servers`` (default ``authoritative_servers``).
    A ``name`` that is no DNS name fails as ``AcmeOptionError`` of ``option`` before any query.
    """
    check_dns_name(name, option, f"{option} name")
    parsed = [parse_dns_resolver(raw) for raw in resolvers] if resolvers else []
    _check_bounds(attempts, delay, timeout)
    expected = list(dict.fromkeys(expected_values))
    if not expected:
        raise AcmeError(f"no TXT value given to self-test at {name}")
    _require_dnspython()
    display = name.rstrip(".")

    server_cache: dict[str, list[tuple[str, int]]] = {}

    def servers_for(qname: str) -> list[tuple[str, int]]:
        if parsed:
            return parsed
        if qname not in server_cache:
            finder = find_servers or (lambda n: authoritative_servers(n, timeout=timeout))
            server_cache[qname] = finder(qname)
        return server_cache[qname]

    def one_round() -> tuple[bool, list[dict[str, Any]]]:
        entries = _dns_round(name, servers_for, timeout)
        finals = [entry for entry in entries if entry["followed"] is None]
        # Servers found by the walk that this host has no route to (say IPv6 without IPv6) do not count
        # as long as another one answered; configured resolvers always count.
        counted = [e for e in finals if parsed or not e["unreachable"]] or finals
        for entry in finals:
            entry["ok"] = entry["error"] is None and all(value in entry["values"] for value in expected)
        return bool(counted) and all(entry["ok"] for entry in counted), entries

    ok, used, seen = _run_attempts(attempts, delay, sleep, one_round)
    finals = [entry for entry in seen if entry["followed"] is None]
    if ok:
        servers = ", ".join(dict.fromkeys(e["server"] for e in finals if e["ok"]))
        via = "" if not any(e["cname"] for e in seen) else " (through CNAME)"
        message = f"TXT {display} shows every expected value{via} on {servers} (attempt {used} of {attempts})"
    else:
        bad = [_describe_dns(entry, expected, _cname_path(entry, seen)) for entry in finals if not entry["ok"]]
        message = f"{challenge} self-test of TXT {display} failed after {used} attempt(s): expected {', '.join(repr(v) for v in expected)}; saw " + "; ".join(
            bad
        )
    return SelfTestResult(challenge, display, ok, used, attempts, expected, seen, message)


def _dns_round(name: str, servers_for: Callable[[str], list[tuple[str, int]]], timeout: float) -> list[dict[str, Any]]:
    """One TXT lookup of ``name`` on each of its servers, then of each CNAME target a server left unresolved."""
    entries: list[dict[str, Any]] = []
    pending = [name if name.endswith(".") else name + "."]
    asked: set[str] = set()
    while pending:
        qname = pending.pop(0)
        if qname.lower() in asked:
            continue
        asked.add(qname.lower())
        if len(asked) > MAX_CNAME_HOPS:
            entries.append(_error_entry(qname, f"more than {MAX_CNAME_HOPS} CNAMEs, stopped following"))
            break
        try:
            servers = servers_for(qname)
        except Exception as exc:  # dnspython raises many types; no server found is a negative result
            entries.append(_error_entry(qname, f"could not find its authoritative name servers ({type(exc).__name__}: {exc})"))
            continue
        if not servers:
            entries.append(_error_entry(qname, "has no authoritative name server with an address"))
            continue
        for server in servers:
            entry, follow = _query_txt(server, qname, timeout)
            entries.append(entry)
            if follow:
                # This server points elsewhere; the answer that counts comes from the target.
                entry["ok"] = True
                entry["followed"] = follow.rstrip(".")
                pending.append(follow)
    return entries


def _error_entry(qname: str, error: str) -> dict[str, Any]:
    return {
        "server": None,
        "name": qname.rstrip("."),
        "cname": [],
        "values": [],
        "rcode": None,
        "error": error,
        "unreachable": False,
        "followed": None,
        "ignored": [],
        "ok": False,
    }
