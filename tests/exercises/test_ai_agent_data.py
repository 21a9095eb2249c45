"""The support-agent exercise's shipped data: the shop tools, the database, the scenarios.

exercises/ai-support-agent/starter/shop is the official tool layer the grader puts
over every submission; these tests pin its behaviour and check that every scenario
the suites load is valid.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from worksample.mockllm import load_scenario

EXERCISE = Path(__file__).resolve().parents[2] / "exercises" / "ai-support-agent"
SCENARIO_DIRS = [EXERCISE / "hidden" / "scenarios", EXERCISE / "starter" / "tests" / "scenarios"]


def run_shop(tmp_path: Path, code: str) -> object:
    """Run `code` against a copy of the starter's shop and database; return its JSON print."""
    shutil.copytree(EXERCISE / "starter" / "shop", tmp_path / "shop")
    shutil.copytree(EXERCISE / "starter" / "data", tmp_path / "data")
    out = subprocess.run(
        [sys.executable, "-c", f"import json, shop\n{code}"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


@pytest.mark.parametrize("path", sorted(p for d in SCENARIO_DIRS for p in d.glob("*.toml")))
def test_every_scenario_loads(path: Path) -> None:
    assert load_scenario(path).rules


def test_every_scenario_a_test_names_exists() -> None:
    sources = [*EXERCISE.glob("hidden/test_*.py"), *EXERCISE.glob("starter/tests/test_*.py")]
    names = {n for p in sources for n in re.findall(r'chat\(\s*"(\w+)"', p.read_text())}
    names |= {"order_status"}
    for name in names:
        assert any((d / f"{name}.toml").exists() for d in SCENARIO_DIRS), name


def test_database_is_consistent() -> None:
    db = json.loads((EXERCISE / "starter" / "data" / "shop.json").read_text())
    customers = {c["customer_id"] for c in db["customers"]}
    assert {o["customer_id"] for o in db["orders"]} <= customers
    assert db["refunds"] == []
    for order in db["orders"]:
        assert order["total_eur"] == sum(i["price_eur"] for i in order["items"])


def test_issue_refund_writes_the_database(tmp_path: Path) -> None:
    out = run_shop(
        tmp_path,
        "r = shop.call_tool('issue_refund', {'order_id': 'A1003', 'amount_eur': 24, "
        "'reason': 'x'})\nprint(json.dumps(r))",
    )
    assert out["refund"]["order_id"] == "A1003"
    db = json.loads((tmp_path / "data" / "shop.json").read_text())
    assert db["refunds"][0]["amount_eur"] == 24.0
    assert next(o for o in db["orders"] if o["order_id"] == "A1003")["status"] == "refunded"


def test_tool_errors_are_tool_errors(tmp_path: Path) -> None:
    code = """
errors = []
for name, args in [("get_order", {"order_id": "A9999"}), ("nope", {}),
                   ("get_order", {"id": "A1001"}), ("get_order", ["A1001"]),
                   ("issue_refund", {"order_id": "A1001", "amount_eur": 999, "reason": "x"})]:
    try:
        shop.call_tool(name, args)
    except shop.ToolError as exc:
        errors.append(str(exc))
print(json.dumps(errors))
"""
    assert len(run_shop(tmp_path, code)) == 5
