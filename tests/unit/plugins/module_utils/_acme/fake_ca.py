"""An account whose POSTs a scripted CA answers: the stand-in the core-run tests share.

Each URL has a queue of answers: JSON data, a ``Reply``, or a callable of the payload that
returns either. Every POST is recorded in ``posts`` as ``(url, payload)``.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from ansible_collections.certfleet.acme.plugins.module_utils._acme.client import AcmeResponse
from ansible_collections.certfleet.acme.plugins.module_utils._acme.keys import generate_private_key


class Reply(AcmeResponse):
    """One answer of the fake CA: JSON data, or a PEM body with alternate links; an ``AcmeResponse`` in every other way."""

    def __init__(self, data: Any = None, *, body: str | None = None, links: list[str] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__("", 200, dict(headers or {}), body.encode("ascii") if body is not None else json.dumps(data).encode("utf-8"), {})
        self.data = data
        self._links = links or []

    @property
    def location(self) -> str | None:
        return None

    def json(self) -> Any:
        return self.data

    def links(self, rel: str) -> list[str]:
        return list(self._links) if rel == "alternate" else []


class QueuedAccount:
    """Stands in for ``Account``: answers each POST with the next answer queued for its URL."""

    def __init__(self, routes: dict[str, list[Any]], uri: str, directory_url: str = "https://ca.test/dir") -> None:
        self.key = generate_private_key("ec256")
        self.uri = uri
        # All a run reads of the client: the directory it records as the issuing CA.
        self.client = SimpleNamespace(directory_url=directory_url)
        self.routes = {url: list(answers) for url, answers in routes.items()}
        self.posts: list[tuple[str, Any]] = []

    def require_uri(self) -> str:
        return self.uri

    def post(self, url: str, payload: dict[str, Any] | None, *, context: str) -> Reply:
        self.posts.append((url, payload))
        queue = self.routes.get(url)
        assert queue, f"unexpected POST to {url} ({context})"
        answer = queue.pop(0)
        if callable(answer):
            answer = answer(payload)
        reply = answer if isinstance(answer, Reply) else Reply(answer)
        reply.url = url
        return reply

    def answers_to(self, url: str) -> list[Any]:
        """The payloads POSTed to ``url``, in order."""
        return [payload for posted, payload in self.posts if posted == url]
