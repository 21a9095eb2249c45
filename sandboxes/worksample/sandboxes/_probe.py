"""A live check that a sandbox enforces what it promises (used by `doctor`)."""

from __future__ import annotations

from dataclasses import dataclass

from worksample.sandboxes._docker import DockerBackend
from worksample.sandboxes._errors import SandboxError
from worksample.sandboxes._limits import Limits
from worksample.sandboxes._session import SandboxBackend

PROBE_LIMITS = Limits(memory_mb=128, pids=32, call_timeout_s=20)

# No traffic is aimed at anything but this machine: the interfaces are
# listed, and a name under the reserved .invalid domain is looked up.
_NETWORK = """
import os, socket
print("interfaces", ",".join(sorted(os.listdir("/sys/class/net"))))
try:
    socket.getaddrinfo("worksample-probe.invalid", 80)
    print("dns open")
except OSError as exc:
    print("dns blocked", exc)
"""
_NO_NEW_PRIVS = "import ctypes; print(ctypes.CDLL(None).prctl(39, 0, 0, 0, 0))"
_INTERFACES = 'import os; print(",".join(sorted(os.listdir("/sys/class/net"))))'
_THREADS = """
import threading, time
n = 0
try:
    for _ in range(100):
        threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
        n += 1
except RuntimeError:
    pass
print(n)
"""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_probe(backend: SandboxBackend, image: str, runtime: str | None = None) -> list[Check]:
    """Checks of one live session; with `runtime`, also that it ran under that runtime."""
    checks: list[Check] = []
    with backend.open_session(image=image, limits=PROBE_LIMITS) as s:
        checks.append(
            Check(
                "runtime",
                runtime is None or s.runtime == runtime,
                f"the engine ran the probe under {s.runtime}"
                + (f" (asked for {runtime})" if runtime and s.runtime != runtime else ""),
            )
        )
        status = s.run(["cat", "/proc/self/status"]).text()
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        uid = fields.get("Uid", "").split()
        checks.append(Check("non-root user", bool(uid) and uid[0] != "0", f"uid {uid[:1]}"))
        cap = fields.get("CapEff", "?").strip()
        checks.append(Check("all capabilities dropped", cap.strip("0") == "", f"CapEff {cap}"))
        # Asked of the kernel: gVisor's /proc/self/status has no NoNewPrivs line.
        nnp = s.run(["python3", "-c", _NO_NEW_PRIVS]).text().strip()
        checks.append(Check("no new privileges", nnp == "1", f"PR_GET_NO_NEW_PRIVS {nnp}"))
        ro = s.run(["sh", "-c", "touch /etc/probe 2>&1"])
        checks.append(Check("read-only root", ro.exit_code != 0, ro.text().strip()[:60]))
        net = s.run(["python3", "-c", _NETWORK]).text()
        only_lo = "interfaces lo\n" in net
        checks.append(
            Check(
                "no network",
                only_lo and "dns blocked" in net,
                "; ".join(line[:60] for line in net.splitlines() if line),
            )
        )
        mem = s.run(["python3", "-c", "x = bytearray(512 * 2**20)"])
        checks.append(
            Check(
                "memory limit",
                mem.oom_killed or mem.exit_code not in (0, None),
                f"512 MiB in a 128 MiB sandbox: exit {mem.exit_code}, oom_killed={mem.oom_killed}",
            )
        )
        threads = s.run(["python3", "-c", _THREADS]).text().strip()
        checks.append(
            Check(
                "pids limit",
                threads.isdigit() and int(threads) < 32,
                f"{threads} of 100 threads started with pids=32",
            )
        )
        spin = s.run(["python3", "-c", "while True: pass"], timeout=1)
        checks.append(Check("per-call timeout", spin.timed_out, f"{spin.wall_s:.2f} s for 1 s"))
    return checks


def probe_network(backend: DockerBackend, image: str) -> Check:
    """Can a sandbox of this backend join an internal network (as the AI track's do)?

    Live, because a runtime may accept the configuration and still fail at start
    (gVisor's own network stack does on some kernels).
    """
    name = "AI-track network"
    runtime = backend.runtime or "the default runtime"
    limit = backend.network_limit
    if limit is not None:
        return Check(name, False, limit)
    try:
        network = backend.create_internal_network(isolate_host=False)
    except Exception as exc:
        return Check(name, False, f"cannot create an internal network: {exc}")
    try:
        with backend.open_session(image=image, limits=PROBE_LIMITS, network=network) as s:
            out = s.run(["python3", "-c", _INTERFACES]).text().strip()
            ran_under = s.runtime
    except SandboxError as exc:
        return Check(name, False, f"a sandbox on an internal network under {runtime}: {exc}")
    finally:
        backend.remove_network(network)
    joined = "eth0" in out.split(",")
    return Check(
        name,
        joined,
        f"a sandbox on an internal network ran under {ran_under}: interfaces {out}"
        + ("" if joined else "; it has no network interface, the mock LLM would be unreachable"),
    )
