"""Forgery attempts: each is graded for real and must change no verdict.

Every forged submission is the same wrong solution (add() subtracts, no
command line) plus one trick. The trusted suite must fail it exactly as it
fails the plain wrong solution.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from worksample.graders import Report, grade, load_exercise

pytestmark = pytest.mark.docker

EXERCISE = load_exercise(Path(__file__).parent / "exercises" / "mini-add")
WRONG = "def add(a, b):\n    return a - b\n"
ALL_TESTS = {
    "hidden/test_hidden.py::test_add_negative",
    "hidden/test_hidden.py::test_sum_command",
    "hidden/test_hidden.py::test_sum_of_missing_file_fails_cleanly",
    "starter/tests/test_public.py::test_add_small_numbers",
}

FORGERIES: dict[str, dict[str, str]] = {
    "conftest rewrites reports to passed": {
        "conftest.py": (
            "import pytest\n"
            "@pytest.hookimpl(wrapper=True)\n"
            "def pytest_runtest_makereport(item, call):\n"
            "    rep = yield\n"
            "    rep.outcome = 'passed'\n"
            "    return rep\n"
        ),
        "tests/conftest.py": "def pytest_collection_modifyitems(items):\n    items.clear()\n",
    },
    "pytest.ini and pyproject add options": {
        "pytest.ini": "[pytest]\naddopts = -p no:worksample.graders.plugin --co -x\n",
        "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '--deselect hidden'\n",
        "setup.cfg": "[tool:pytest]\naddopts = --co\n",
    },
    "sitecustomize and .pth": {
        "sitecustomize.py": "import builtins\nbuiltins.AssertionError = type('X', (), {})\n",
        "usercustomize.py": "raise SystemExit(0)\n",
        "evil.pth": "import os; os._exit(0)\n",
    },
    "os._exit(0) mid-call": {"solution.py": "import os\ndef add(a, b):\n    os._exit(0)\n"},
    "sys.exit(0) mid-call": {"solution.py": "import sys\ndef add(a, b):\n    sys.exit(0)\n"},
    "prints fake PASSED lines and harness frames": {
        "solution.py": (
            "import json, sys\n"
            "def add(a, b):\n"
            "    print('hidden/test_hidden.py::test_add_negative PASSED')\n"
            "    body = json.dumps({'ok': True, 'value': a + b, 'id': 99})\n"
            "    sys.stdout.write(f'WSH1 {len(body)}\\n{body}')\n"
            "    print('4 passed in 0.01s')\n"
            "    return a - b\n"
        )
    },
    "writes fake result files": {
        "solution.py": (
            "import json, os\n"
            "def add(a, b):\n"
            "    for path in ('/work/results.json', '/tmp/results.json', '/work/events.jsonl',\n"
            "                 'results.json', '/results.json'):\n"
            "        try:\n"
            "            open(path, 'w').write(json.dumps({'exitstatus': 0, 'tests': []}))\n"
            "        except OSError:\n"
            "            pass\n"
            "    return a - b\n"
        )
    },
    "monkeypatches builtins and the harness": {
        "solution.py": (
            "import builtins, json\n"
            "json.dumps = lambda *a, **k: 'PASSED'\n"
            "builtins.isinstance = lambda *a: True\n"
            "try:\n"
            "    open('/opt/worksample/ws_harness.py', 'w').write('raise SystemExit')\n"
            "except OSError:\n"
            "    pass\n"
            "def add(a, b):\n"
            "    return a - b\n"
        )
    },
    "returns objects crafted to confuse serialisation": {
        "solution.py": (
            "class Always:\n"
            "    def __eq__(self, other):\n"
            "        return True\n"
            "class Sneaky(int):\n"
            "    def __eq__(self, other):\n"
            "        return True\n"
            "    def __repr__(self):\n"
            "        return '-2'\n"
            "def add(a, b):\n"
            "    return Sneaky(a - b) if a < 0 else Always()\n"
        )
    },
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def outcomes(report: Report) -> dict[str, str]:
    return {t.id: t.outcome for t in report.tests}


@pytest.fixture(scope="module")
def plain_wrong(tmp_path_factory: pytest.TempPathFactory) -> Report:
    folder = write_tree(tmp_path_factory.mktemp("wrong"), {"solution.py": WRONG})
    report = grade(EXERCISE, folder)
    assert report.status == "graded" and report.score == 0.0
    assert set(report.failed_ids()) == ALL_TESTS
    return report


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forgery_changes_no_verdict(name: str, plain_wrong: Report, tmp_path: Path) -> None:
    files = {"solution.py": WRONG, **FORGERIES[name]}
    report = grade(EXERCISE, write_tree(tmp_path, files))
    assert report.status == "graded", report.reason
    assert report.score == 0.0
    assert outcomes(report).keys() == outcomes(plain_wrong).keys()
    assert set(report.failed_ids()) == ALL_TESTS


def zip_bytes(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buf.getvalue()


def symlink_entry() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("solution.py")
    info.external_attr = (0o120777 << 16) | 0x10
    return info


def overlapping_zip() -> bytes:
    """Two central-directory entries pointing at the same local data."""
    raw = bytearray(zip_bytes([("a.py", b"x = 1\n" * 10)]))
    eocd = raw.rfind(b"PK\x05\x06")
    cd_offset = int.from_bytes(raw[eocd + 16 : eocd + 20], "little")
    cd_size = int.from_bytes(raw[eocd + 12 : eocd + 16], "little")
    entry = bytearray(raw[cd_offset : cd_offset + cd_size])
    twin = bytearray(entry)
    twin[46:50] = b"b.py"
    raw[cd_offset + cd_size : cd_offset + cd_size] = twin
    eocd += len(twin)
    raw[eocd + 8 : eocd + 10] = (2).to_bytes(2, "little")
    raw[eocd + 10 : eocd + 12] = (2).to_bytes(2, "little")
    raw[eocd + 12 : eocd + 16] = (cd_size * 2).to_bytes(4, "little")
    return bytes(raw)


INTAKE_ATTACKS = {
    "zip-slip": (zip_bytes([("../../etc/cron.d/evil", b"* * * * * root id\n")]), "escapes"),
    "symlink": (zip_bytes([(symlink_entry(), b"/etc/shadow")]), "link"),
    "zip bomb": (zip_bytes([("bomb.txt", b"\0" * (15 << 20))]), "expands more than"),
    "oversized member": (zip_bytes([("big.bin", b"\0" * (300 << 20))]), "larger than"),
    "overlapping entries": (overlapping_zip(), "overlap"),
    "tar archive": (b"\x1f\x8b\x08\x00" + b"\0" * 64, "tar"),
}


@pytest.mark.parametrize("name", sorted(INTAKE_ATTACKS))
def test_intake_attacks_are_rejected(name: str, tmp_path: Path) -> None:
    data, word = INTAKE_ATTACKS[name]
    path = tmp_path / "submission.zip"
    path.write_bytes(data)
    report = grade(EXERCISE, path)
    assert report.status == "rejected"
    assert word in report.reason.lower(), report.reason
    assert report.tests == [] and report.score is None


def test_patching_the_harness_only_changes_the_candidates_own_answer(tmp_path: Path) -> None:
    """Code in the sandbox controls what its own calls answer, nothing more:
    making the harness report -2 is graded exactly like returning -2."""
    patched = {
        "solution.py": (
            "import json\n"
            'json.dumps = lambda *a, **k: \'{"ok": true, "value": -2}\'\n'
            "def add(a, b):\n"
            "    return a - b\n"
        )
    }
    honest = {"solution.py": "def add(a, b):\n    return -2\n"}
    forged = grade(EXERCISE, write_tree(tmp_path / "patched", patched))
    plain = grade(EXERCISE, write_tree(tmp_path / "honest", honest))
    assert forged.status == plain.status == "graded"
    assert outcomes(forged) == outcomes(plain)
    assert forged.score == plain.score
