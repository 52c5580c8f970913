# Copyright (c) 2026 certfleet.acme developers
# MIT License (see LICENSE)
"""How a module run ends: its result, or the structured error it raised, as the task's result.

Imports nothing beyond the standard library, ``errors`` and ``results``, so modules that run on managed
nodes (acme_webroot_tokens) stay light.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable

from ansible_collections.certfleet.acme.plugins.module_utils._acme.errors import AcmeError, unexpected_error_message
from ansible_collections.certfleet.acme.plugins.module_utils._acme.results import TaskResult


def exit_with(module: Any, body: Callable[[], TaskResult], before_exit: Callable[[], None] | None = None) -> None:
    """Run ``body``; exit with its result or fail with the ``AcmeError`` it raised, calling ``before_exit`` first either way."""
    try:
        result = body()
    except AcmeError as error:
        if before_exit is not None:
            before_exit()
        module.fail_json(**error.to_result())
    except Exception as error:  # a message, not a traceback; Ansible shows the traceback only at -vvv
        if before_exit is not None:
            before_exit()
        module.fail_json(msg=unexpected_error_message(error), exception=traceback.format_exc())
    if before_exit is not None:
        before_exit()
    module.exit_json(**result.to_result())
