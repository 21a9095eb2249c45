"""Keep a grading's internal network away from the host itself.

Docker's `internal` networks stop traffic to the outside world, but not to the
host: a container can still open connections to any service the host listens
on, through the bridge's own address. For each AI-track grading network we
insert two INPUT rules for its bridge interface: replies to connections the
host opened (the grader reading the mock's admin API) are accepted, everything
else from that bridge is dropped. Container-to-container traffic on the bridge
never reaches INPUT and is untouched.
"""

from __future__ import annotations

import shutil
import subprocess

from worksample.sandboxes._errors import SandboxError

COMMENT = "worksample-isolate"


def _iptables(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["iptables", "-w", "5", *args], capture_output=True, text=True, check=False
    )


def _rules(interface: str) -> list[list[str]]:
    tag = ["-m", "comment", "--comment", f"{COMMENT}:{interface}"]
    return [
        ["-i", interface, *tag, "-j", "DROP"],
        [
            "-i",
            interface,
            "-m",
            "conntrack",
            "--ctstate",
            "ESTABLISHED,RELATED",
            *tag,
            "-j",
            "ACCEPT",
        ],
    ]


def block_host_input(interface: str) -> None:
    """Insert the rules (the ACCEPT of replies ends up first, then the DROP)."""
    if shutil.which("iptables") is None:
        raise SandboxError(
            "iptables is missing: the AI track's network cannot be kept "
            "from reaching this host's services"
        )
    for rule in _rules(interface):
        result = _iptables("-I", "INPUT", "1", *rule)
        if result.returncode != 0:
            unblock_host_input(interface)
            raise SandboxError(
                f"cannot isolate network {interface} from the host "
                f"(iptables, needs root): {result.stderr.strip()}"
            )


def unblock_host_input(interface: str) -> None:
    for rule in _rules(interface):
        while _iptables("-C", "INPUT", *rule).returncode == 0:
            _iptables("-D", "INPUT", *rule)


def blocked_interfaces() -> set[str]:
    if shutil.which("iptables") is None:
        return set()
    listing = _iptables("-S", "INPUT").stdout
    found = set()
    for line in listing.splitlines():
        marker = f"{COMMENT}:"
        if marker in line:
            found.add(line.split(marker, 1)[1].split()[0].strip('"'))
    return found
