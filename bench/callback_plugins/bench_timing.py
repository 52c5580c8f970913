# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""Ansible callback for bench/: wall time and ACME requests of each task, summed over its runs.

A task's time runs from its start to the start of the next task (or the end of the play), so
the time Ansible spends between tasks (templating, includes, loading files) is counted with the
task before it. Tasks are keyed by their file and line, so the tasks of a file included once per
certificate add up to one entry each.

With BENCH_PEBBLE_LOG naming Pebble's log, the requests Pebble logged while a task ran are
counted for that task (by method and path, the last part of the path, an ID, left out). The
play runs on one host, one task at a time, so every request belongs to exactly one task.

The result goes to the JSON file named by BENCH_TIMING_FILE when the playbook ends.
"""

from __future__ import annotations

import json
import os
import re
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timing
type: aggregate
short_description: Time and ACME requests per task for the certfleet.acme benchmark
description:
  - Sums the wall time of each task over all its runs, counts the requests Pebble logged
    during each (E(BENCH_PEBBLE_LOG)), and writes both to E(BENCH_TIMING_FILE) as JSON.
requirements:
  - enable it with E(ANSIBLE_CALLBACKS_ENABLED)
"""

# "Pebble 2026/11/29 00:32:49 HEAD /nonce-plz -> calling handler()"
REQUEST_LINE = re.compile(r"^Pebble \S+ \S+ ([A-Z]+) (\S+) -> calling handler\(\)$", re.MULTILINE)


def request_kind(method: str, path: str) -> str:
    """'POST /my-order/<id>' -> 'POST /my-order/'; paths of one part stay as they are."""
    path = path.split("?", 1)[0]
    head, sep, _last = path.rpartition("/")
    return f"{method} {head}{sep}" if head else f"{method} {path}"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._started_at = time.monotonic()
        self._first_task_at: float | None = None
        self._current: tuple[str, str] | None = None
        self._current_start = 0.0
        self._tasks: dict[tuple[str, str], dict] = {}
        self._pebble_log = os.environ.get("BENCH_PEBBLE_LOG") or None
        self._log_offset = self._log_size()

    def _log_size(self) -> int:
        if not self._pebble_log:
            return 0
        try:
            return os.path.getsize(self._pebble_log)
        except OSError:
            return 0

    def _requests_since_offset(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        if not self._pebble_log:
            return counts
        end = self._log_size()
        if end > self._log_offset:
            with open(self._pebble_log, "rb") as handle:
                handle.seek(self._log_offset)
                chunk = handle.read(end - self._log_offset).decode("utf-8", "replace")
            for method, path in REQUEST_LINE.findall(chunk):
                kind = request_kind(method, path)
                counts[kind] = counts.get(kind, 0) + 1
        self._log_offset = max(end, self._log_offset)
        return counts

    def _close_current(self) -> float:
        now = time.monotonic()
        requests = self._requests_since_offset()
        if self._current is not None:
            entry = self._tasks[self._current]
            entry["runs"] += 1
            entry["seconds"] += now - self._current_start
            for kind, count in requests.items():
                entry["requests"][kind] = entry["requests"].get(kind, 0) + count
            self._current = None
        return now

    def v2_playbook_on_task_start(self, task, is_conditional):
        now = self._close_current()
        if self._first_task_at is None:
            self._first_task_at = now
        # The name may hold the templated certificate name: the first one seen stands for all.
        self._current = (task.get_path() or "", task.action or "")
        self._tasks.setdefault(self._current, {"name": task.get_name(), "runs": 0, "seconds": 0.0, "requests": {}})
        self._current_start = now

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        now = self._close_current()
        path = os.environ.get("BENCH_TIMING_FILE")
        if not path:
            return
        root = os.environ.get("BENCH_PATH_ROOT", "")
        tasks = []
        for (where, action), entry in self._tasks.items():
            if root and where.startswith(root):
                where = where[len(root) :].lstrip("/")
            tasks.append(
                {
                    "path": where,
                    "name": entry["name"],
                    "action": action,
                    "runs": entry["runs"],
                    "seconds": round(entry["seconds"], 4),
                    "requests": dict(sorted(entry["requests"].items())),
                }
            )
        tasks.sort(key=lambda t: -t["seconds"])
        first = self._first_task_at if self._first_task_at is not None else now
        result = {
            "before_first_task_seconds": round(first - self._started_at, 4),
            "tasks_seconds": round(now - first, 4),
            "tasks": tasks,
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=1)
