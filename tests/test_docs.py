"""Contract tests that keep the docs honest: what exists is documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from pydantic import BaseModel
from worksample.cli import app
from worksample.graders import Candidate
from worksample.graders._exercise import FaultyExpectation, Manifest
from worksample.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
AUTHORING = (ROOT / "docs" / "authoring.md").read_text()
README = (ROOT / "README.md").read_text()


def field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        paths.append(prefix + key)
        annotation = info.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        for arg in inner:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                paths += field_paths(arg, prefix + key + ".")
    return paths


def test_every_manifest_field_is_documented() -> None:
    missing = [p for p in field_paths(Manifest) if f"`{p}`" not in AUTHORING]
    missing += [p for p in field_paths(FaultyExpectation) if f"`{p}`" not in AUTHORING]
    assert not missing, f"undocumented in docs/authoring.md: {missing}"


def test_every_fixture_marker_and_candidate_method_is_documented() -> None:
    import worksample.graders.plugin as plugin

    fixtures = [n for n, obj in vars(plugin).items() if hasattr(obj, "_fixture_function_marker")
                or type(obj).__name__ == "FixtureFunctionDefinition"]  # fmt: skip
    assert set(fixtures) == {"candidate", "exercise", "mock_llm", "ws_backend", "ws_llm_endpoints"}
    for name in fixtures:
        assert f"`{name}`" in AUTHORING, name
    markers = re.findall(r'addinivalue_line\("markers", "(\w+)', inspect.getsource(plugin))
    assert set(markers) == {"category", "weight", "public"}
    for name in markers:
        assert f"`{name}(" in AUTHORING or f"`{name}`" in AUTHORING, name
    for name, _ in inspect.getmembers(Candidate, inspect.isfunction):
        if not name.startswith("_"):
            assert f"candidate.{name}(" in AUTHORING, name


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`WORKSAMPLE_{name.upper()}`" in README, name


def test_every_cli_command_is_documented() -> None:
    def name(command: object) -> str:
        explicit = getattr(command, "name", None)
        return explicit or command.callback.__name__.replace("_", "-")

    commands = [name(c) for c in app.registered_commands]
    for group in app.registered_groups:
        sub = group.typer_instance
        assert sub is not None
        commands += [f"{group.name} {name(c)}" for c in sub.registered_commands]
    for command in commands:
        assert f"worksample {command}" in README, command
