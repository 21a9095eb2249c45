"""The runtimes the sandbox tests run under, and how a missing one is handled.

gVisor (`runsc`, network-less; `runsc-net`, for internal networks) is
registered by scripts/test. Where it is not, its tests fail, naming the fix,
as a missing engine or image does: these tests are the proof that it holds.
"""

from __future__ import annotations

import pytest
from worksample.sandboxes import DockerBackend, Engine

GVISOR = "runsc"
GVISOR_NET = "runsc-net"
# The runtimes the hostile-code tests run under: the engine's default, and gVisor.
RUNTIMES = [
    pytest.param(None, id="runc"),
    pytest.param(GVISOR, id=GVISOR, marks=pytest.mark.slow),
]


def runtime_backend(engine: Engine, runtime: str | None) -> DockerBackend:
    """The engine's backend under `runtime`; a failure naming the fix when it lacks it."""
    registered = engine.info().runtimes
    if runtime is not None and runtime not in registered:
        message = (
            f"the OCI runtime {runtime!r} is not registered with this engine "
            f"(it has {', '.join(registered)}): scripts/test installs and registers gVisor"
        )
        # Like a missing engine or image: a failure that names the fix, never a skip.
        pytest.fail(message)
    return engine.backend(runtime)
