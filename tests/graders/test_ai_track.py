"""The AI track's grading set-up: the mock LLM on a per-grading internal network."""

from __future__ import annotations

import subprocess
from pathlib import Path

import docker
import docker.errors
import httpx
import pytest
from hostnet import HostListener
from worksample.graders import GradingOptions, grade, load_exercise, validate_exercise
from worksample.sandboxes import DockerBackend, Limits, MockLLMService, SandboxOptions, find_image

pytestmark = pytest.mark.docker

MINI_CHAT = load_exercise(Path(__file__).parent / "exercises" / "mini-chat")
LOCAL = GradingOptions(sandbox=SandboxOptions(backend="local"))

PROBE = """
import json, os, socket, httpx
base = os.environ["OPENAI_BASE_URL"].removesuffix("/v1")
key = {"authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}
out = {"models": httpx.get(base + "/v1/models", headers=key).status_code}
out["admin_with_key"] = httpx.get(base + "/_admin/requests", headers=key).status_code
out["admin_without"] = httpx.get(base + "/_admin/requests").status_code
for name, host in (("gateway", GATEWAY), ("docker0", DOCKER0)):
    try:
        socket.create_connection((host, PORT), timeout=2)
        out[name] = "connected"
    except OSError:
        out[name] = "blocked"
try:
    socket.getaddrinfo("exfil.worksample.invalid", 80)
    out["dns"] = "resolved"
except OSError:
    out["dns"] = "failed"
print(json.dumps(out))
"""


def docker0_address(client: docker.DockerClient) -> str:
    config = client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    import ipaddress

    return config.get("Gateway") or str(next(ipaddress.ip_network(config["Subnet"]).hosts()))


def test_candidate_reaches_the_mock_and_nothing_else(
    backend: DockerBackend, ai_image: str, host_listener: HostListener
) -> None:
    mock_image = find_image(backend.client, "mockllm")
    assert mock_image is not None, "run `worksample images build --track mockllm`"
    with MockLLMService(backend, mock_image.tag) as llm:
        assert llm.endpoints is not None
        network = llm.endpoints.network
        gateway = backend.client.networks.get(network).attrs["IPAM"]["Config"][0]["Gateway"]
        script = (PROBE.replace("GATEWAY", repr(gateway))
                  .replace("DOCKER0", repr(docker0_address(backend.client)))
                  .replace("PORT", str(host_listener.port)))  # fmt: skip
        with backend.open_session(
            image=ai_image, limits=Limits(), network=network, env=llm.endpoints.candidate_env
        ) as session:
            result = session.run(["python3", "-c", script], timeout=60)
        interface = "wsn" + network.removeprefix("ws-net-")
        rules = subprocess.run(["iptables", "-S", "INPUT"], capture_output=True, text=True)
        assert interface in rules.stdout
    accepted = host_listener.accepted()
    import json

    seen = json.loads(result.text())
    assert seen["models"] == 200
    assert seen["admin_with_key"] in (401, 403, 404)
    assert seen["admin_without"] in (401, 403, 404)
    assert seen["gateway"] == seen["docker0"] == "blocked"
    assert seen["dns"] == "failed"
    assert accepted == [], "the candidate reached a service on the host"
    rules = subprocess.run(["iptables", "-S", "INPUT"], capture_output=True, text=True)
    assert interface not in rules.stdout, "firewall rules left behind"


def test_mock_starts_whatever_its_random_secrets_begin_with(
    backend: DockerBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token that begins with "-" once read as a command-line option (CI, 1 in 64)."""
    mock_image = find_image(backend.client, "mockllm")
    assert mock_image is not None, "run `worksample images build --track mockllm`"
    import secrets

    from worksample.sandboxes import _llm_service

    monkeypatch.setattr(_llm_service.secrets, "token_urlsafe", lambda n: "-" + secrets.token_hex(n))
    with MockLLMService(backend, mock_image.tag, isolate_host=False) as llm:
        assert llm.endpoints is not None
        assert llm.endpoints.admin_token.startswith("-")
        admin = httpx.get(
            f"{llm.endpoints.admin_url}/_admin/requests",
            headers={"authorization": f"Bearer {llm.endpoints.admin_token}"},
        )
        assert admin.status_code == 200
        models = httpx.get(
            f"{llm.endpoints.admin_url}/v1/models",
            headers={"authorization": f"Bearer {llm.endpoints.api_key}"},
        )
        assert models.status_code == 200
        container = llm.container_id
    assert container is not None
    with pytest.raises(docker.errors.NotFound):
        backend.client.containers.get(container)


def test_ai_exercise_validates_with_the_mock_in_its_container() -> None:
    findings = validate_exercise(MINI_CHAT)
    assert all(f.ok for f in findings), findings


def test_ai_exercise_grades_with_the_local_mock() -> None:
    report = grade(MINI_CHAT, MINI_CHAT.reference_dir, options=LOCAL)
    assert report.status == "graded" and report.score == 100.0, report.reason
    calls = report.test("hidden/test_hidden.py::test_uses_the_model_once_with_delimited_documents")
    assert calls.calls and calls.calls[0].argv == ["solution:ask"]
    assert report.timings.suite_s > report.timings.llm_start_s > 0
    assert report.llm_image is None  # the local backend has no images at all
