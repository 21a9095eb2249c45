"""Hostile code against a real engine: each attack has an asserted verdict,
the host stays unharmed, and the sandbox is usable (or honestly lost) after.

Every test runs under the engine's default runtime (runc) and under gVisor.
"""

from __future__ import annotations

import ipaddress
import os
import time
from pathlib import Path

import pytest
from hostnet import HostListener
from sandbox_runtimes import RUNTIMES, runtime_backend
from worksample.sandboxes import DockerBackend, Engine, Limits, SandboxError

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module", params=RUNTIMES)
def backend(
    request: pytest.FixtureRequest, sandbox_engine: Engine, nothing_left_behind: None
) -> DockerBackend:
    """The engine's backend under its default runtime, then under gVisor."""
    runtime: str | None = request.param
    return runtime_backend(sandbox_engine, runtime)


SMALL = Limits(memory_mb=256, pids=64, work_mb=32, tmp_mb=16, fsize_mb=64, call_timeout_s=20)


FORK_COUNT = """
import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
        n += 1
except OSError as exc:
    print(n, exc.errno)
"""


def processes(session) -> list[str]:  # type: ignore[no-untyped-def]
    """Command lines of every process in the sandbox but the lister itself."""
    script = (
        "import os\n"
        "for p in os.listdir('/proc'):\n"
        "    if p.isdigit() and int(p) != os.getpid():\n"
        "        try: print(p, open(f'/proc/{p}/cmdline','rb').read().replace(b'\\0',b' '))\n"
        "        except OSError: pass\n"
    )
    return session.run(["python3", "-c", script]).text().splitlines()


def only_init_and_harness(lines: list[str]) -> bool:
    rest = [
        line for line in lines if "docker-init" not in line and "ws_harness.py serve" not in line
    ]
    return rest == []


def assert_removed(engine: Engine, container_id: str | None) -> None:
    """A killed sandbox is removed (by the engine, AutoRemove), within moments."""
    assert container_id
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if container_id not in engine.ours():
            return
        time.sleep(0.05)
    raise AssertionError(f"container {container_id[:12]} still exists 10 s after teardown")


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def assert_forks_stop_at_the_limit(session) -> None:  # type: ignore[no-untyped-def]
    counted = session.run(["python3", "-c", FORK_COUNT], timeout=10).text().split()
    assert int(counted[0]) < 64 and counted[1] == "11", counted  # EAGAIN at the limit
    assert only_init_and_harness(processes(session))


def test_fork_bomb_stops_at_the_pids_limit(backend: DockerBackend, ml_image: str) -> None:
    host_before = len(os.listdir("/proc"))
    with backend.open_session(image=ml_image, limits=SMALL) as s:
        r = s.run(["sh", "-c", "b() { b | b & }; b"], timeout=5)
        if not backend.gvisor:
            assert "Cannot fork" in r.text("stderr")
        # Under gVisor processes start more slowly: the bomb may be killed with
        # the call before a fork fails, or reach the host's backstop (its ptrace
        # platform's pool of host processes grows with the churn), which stops
        # the whole sandbox (lost, honestly). Either way:
        assert only_init_and_harness(processes(s)), "fork bomb survived the call"
        if not backend.gvisor:
            assert_forks_stop_at_the_limit(s)
        assert s.run(["true"]).exit_code == 0
    if backend.gvisor:
        # In a fresh sandbox: the bomb's churn left the other one's pool grown.
        with backend.open_session(image=ml_image, limits=SMALL) as s:
            assert_forks_stop_at_the_limit(s)
    assert len(os.listdir("/proc")) < host_before + 50


def test_memory_bomb_is_oom_killed(backend: DockerBackend, ml_image: str) -> None:
    with backend.open_session(image=ml_image, limits=SMALL) as s:
        r = s.run(["python3", "-c", "x = bytearray(2 * 2**30)"])
        assert r.oom_killed
        if backend.gvisor:
            # gVisor's sentry holds the sandbox's memory: the host's OOM killer
            # stops the whole sandbox, which the engine reports (OOMKilled).
            assert r.sandbox_lost and r.exit_code is None and r.peak_memory_bytes is None
        else:
            assert r.exit_code == -9
            assert r.peak_memory_bytes is not None and r.peak_memory_bytes <= 256 * 2**20
        assert s.run(["true"]).exit_code == 0


def test_cpu_spin_past_timeout_is_killed(backend: DockerBackend, ml_image: str) -> None:
    with backend.open_session(image=ml_image, limits=SMALL) as s:
        r = s.run(["python3", "-c", "while True: pass"], timeout=1.0)
        assert r.timed_out and r.exit_code is None
        assert 1.0 <= r.wall_s < 3.0
        assert only_init_and_harness(processes(s))


def test_process_ignoring_sigterm_is_killed(backend: DockerBackend, ml_image: str) -> None:
    with backend.open_session(image=ml_image, limits=SMALL) as s:
        script = (
            "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(600)"
        )
        r = s.run(["python3", "-c", script], timeout=1.0)
        assert r.timed_out
        assert only_init_and_harness(processes(s))
        container = s.container_id
    assert_removed(backend.engine, container)


def test_output_flood_is_capped_and_memory_stays_flat(
    backend: DockerBackend, ml_image: str
) -> None:
    limits = SMALL.model_copy(update={"output_bytes": 64 * 1024})
    with backend.open_session(image=ml_image, limits=limits) as s:
        before = rss_kib()
        r = s.run(
            ["sh", "-c", "head -c 300000000 /dev/zero | tr '\\0' x; head -c 5000000 /dev/zero >&2"]
        )
        after = rss_kib()
        assert r.exit_code == 0
        assert len(r.stdout) == 64 * 1024 and r.stdout_truncated
        assert len(r.stderr) == 64 * 1024 and r.stderr_truncated
        assert after - before < 30 * 1024, f"worker RSS grew by {after - before} KiB"


def test_filling_the_tmpfs_fails_cleanly(backend: DockerBackend, ml_image: str) -> None:
    with backend.open_session(image=ml_image, limits=SMALL) as s:
        r = s.run(["sh", "-c", "cat /dev/zero > /work/fill"])
        assert r.exit_code != 0
        assert "No space left" in r.text("stderr")
        size = s.run(["sh", "-c", "du -k /work/fill | cut -f1"]).text().strip()
        assert int(size) <= 32 * 1024
        r = s.run(["sh", "-c", "rm /work/fill && echo ok > /work/after && cat /work/after"])
        assert r.text() == "ok\n"


def test_file_size_limit(backend: DockerBackend, ml_image: str) -> None:
    limits = SMALL.model_copy(update={"fsize_mb": 1, "work_mb": 64})
    with backend.open_session(image=ml_image, limits=limits) as s:
        r = s.run(["python3", "-c", "open('/work/big','wb').write(b'x' * 5 * 2**20)"])
        assert r.exit_code != 0  # SIGXFSZ or EFBIG


@pytest.mark.parametrize("path", ["/etc/passwd", "/usr/bin/evil", "/opt/venv/x", "/root/x", "/x"])
def test_writing_outside_the_work_dir_fails(
    backend: DockerBackend, ml_image: str, path: str
) -> None:
    with backend.open_session(image=ml_image, limits=SMALL) as s:
        r = s.run(["sh", "-c", f"echo pwned >> {path}"])
        assert r.exit_code != 0
        assert "Read-only file system" in r.text("stderr") or "Permission denied" in r.text(
            "stderr"
        )


def test_network_exfiltration_fails(
    backend: DockerBackend, ml_image: str, host_listener: HostListener
) -> None:
    """TCP to a listener on this host and DNS both fail; nothing reached the listener."""
    ipam = backend.client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    # The bridge's gateway is this machine's own docker0 address.
    gateway = ipam.get("Gateway") or str(next(ipaddress.ip_network(ipam["Subnet"]).hosts()))
    script = f"""
import os, socket
print("interfaces", sorted(os.listdir("/sys/class/net")))
try:
    socket.create_connection(("{gateway}", {host_listener.port}), timeout=2); print("tcp connected")
except OSError as exc:
    print("tcp failed", exc.errno)
try:
    socket.getaddrinfo("exfil.worksample.invalid", 80); print("dns resolved")
except OSError as exc:
    print("dns failed", exc)
"""
    with backend.open_session(image=ml_image, limits=SMALL) as s:
        out = s.run(["python3", "-c", script]).text()
    assert "interfaces ['lo']" in out
    assert "tcp failed" in out and "dns failed" in out, out
    assert host_listener.accepted() == []


def test_no_host_secrets_in_the_environment(backend: DockerBackend, ml_image: str) -> None:
    os.environ["WORKSAMPLE_TEST_SECRET"] = "hunter2-host-secret"
    try:
        with backend.open_session(image=ml_image, limits=SMALL) as s:
            env = s.run(["env"]).text()
            init_env = s.run(["sh", "-c", "cat /proc/1/environ | tr '\\0' '\\n'"]).text()
            sock = s.run(["ls", "/var/run/docker.sock"])
    finally:
        del os.environ["WORKSAMPLE_TEST_SECRET"]
    assert "hunter2" not in env and "hunter2" not in init_env
    assert "DOCKER" not in env
    assert sock.exit_code != 0


def test_process_left_running_after_the_call_is_killed(
    backend: DockerBackend, ml_image: str
) -> None:
    with backend.open_session(image=ml_image, limits=SMALL) as s:
        r = s.run(
            ["sh", "-c", "sleep 600 & setsid python3 -c 'import time; time.sleep(600)' & echo bye"]
        )
        assert r.exit_code == 0 and r.text() == "bye\n"
        assert r.wall_s < 5
        assert only_init_and_harness(processes(s))


def test_symlink_in_the_submission_is_refused(
    backend: DockerBackend, ml_image: str, tmp_path: Path
) -> None:
    secret = tmp_path / "host-secret.txt"
    secret.write_text("host-only-token")
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "main.py").write_text("print('hi')\n")
    (submission / "data").symlink_to(secret)
    with backend.open_session(image=ml_image, limits=SMALL) as s:
        with pytest.raises(SandboxError, match="refusing symbolic link data"):
            s.put_dir(submission, "/work/submission")
        r = s.run(["sh", "-c", "grep -r host-only-token /work /tmp; ls /work"])
        assert "host-only-token" not in r.text()


def test_frozen_harness_loses_the_container_and_recovers(
    backend: DockerBackend, ml_image: str
) -> None:
    """A candidate that stops the harness costs its own session, nothing more."""
    with backend.open_session(image=ml_image, limits=SMALL) as s:
        s.put_files({"kept.txt": b"inputs survive"})
        first = s.container_id
        r = s.run(["sh", "-c", "kill -STOP $PPID; sleep 600"], timeout=1.0)
        assert r.sandbox_lost and r.exit_code is None
        assert_removed(backend.engine, first)
        again = s.run(["cat", "/work/kept.txt"])
        assert again.text() == "inputs survive"
        assert s.container_id != first and s.restarts == 1
