"""Whose a container or network is: labels on everything we create, and the
test of whether its owner is gone (the clean-up of leftovers relies on it)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

LABEL = "org.worksample.sandbox"
OWNER_LABEL = "org.worksample.owner"
ROLE_LABEL = "org.worksample.role"


def owner_id() -> str:
    """`host:pid` of this process, the owner of what it starts."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_labels() -> dict[str, str]:
    return {LABEL: "1", OWNER_LABEL: owner_id()}


def is_orphaned(labels: Mapping[str, str]) -> bool:
    """The owner was a process of this host that is no longer alive.

    Another host's sandboxes are never judged from here: that host's worker
    (or its own `doctor`) removes them.
    """
    owner_host, _, pid = labels.get(OWNER_LABEL, "").rpartition(":")
    if owner_host != socket.gethostname() or not pid.isdigit():
        return False
    return not _pid_alive(int(pid))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
