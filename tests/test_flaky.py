"""The flakiness finder (tests/support/flaky.py) and the waiting helper (tests/support/waiting.py)."""

from __future__ import annotations

import pytest

from .support import flaky
from .support.waiting import wait_equal, wait_until


def junit(path, cases: dict[str, str]):
    body = []
    for name, outcome in cases.items():
        inner = {"passed": "", "failed": '<failure message="assert 1 == 2">x</failure>',
                 "error": '<error message="fixture boom"/>', "skipped": '<skipped message="s"/>'}
        body.append(f'<testcase classname="tests.test_x" name="{name}" time="0.1">'
                    f'{inner[outcome]}</testcase>')
    path.write_text('<?xml version="1.0"?><testsuites><testsuite name="pytest">'
                    + "".join(body) + "</testsuite></testsuites>", encoding="utf-8")
    return path


def run(tmp_path, i: int, cases: dict[str, str]) -> flaky.Run:
    r = flaky.Run("lenta", i, [], junit(tmp_path / f"{i}.xml", cases), tmp_path / f"{i}.log")
    r.outcomes, r.messages = flaky.parse_junit(r.report)
    r.returncode = 0
    return r


def test_a_changed_outcome_is_listed_and_a_steady_one_is_not(tmp_path):
    runs = [run(tmp_path, 1, {"a": "passed", "b": "failed", "c": "skipped"}),
            run(tmp_path, 2, {"a": "failed", "b": "failed", "c": "skipped"}),
            run(tmp_path, 3, {"a": "passed", "b": "failed"})]
    assert flaky.flips(runs) == {"tests.test_x::a": ["passed", "failed", "passed"],
                                 "tests.test_x::c": ["skipped", "skipped", "ausente"]}
    assert flaky.always_failing(runs) == ["tests.test_x::b"]
    assert runs[1].messages["tests.test_x::a"] == "assert 1 == 2"
    assert runs[0].counts() == {"passed": 1, "skipped": 1, "failed": 1, "error": 0}


def test_a_test_reported_twice_keeps_its_worst_outcome(tmp_path):
    path = tmp_path / "r.xml"
    path.write_text('<testsuites><testsuite>'
                    '<testcase classname="tests.test_x" name="t"><failure message="f"/></testcase>'
                    '<testcase classname="tests.test_x" name="t"><error message="teardown"/>'
                    '</testcase></testsuite></testsuites>', encoding="utf-8")
    outcomes, messages = flaky.parse_junit(path)
    assert outcomes == {"tests.test_x::t": "error"} and messages["tests.test_x::t"] == "teardown"


def test_runs_must_be_a_positive_integer(capsys):
    with pytest.raises(SystemExit) as exc:
        flaky.main(["--runs", "0"])
    assert exc.value.code == 2
    assert "--runs" in capsys.readouterr().err


def test_wait_until_returns_the_value_or_says_what_it_waited_for():
    values = iter([None, 0, "pronto"])
    assert wait_until(lambda: next(values), 5, "the value", interval=0.01) == "pronto"
    with pytest.raises(AssertionError, match=r"waiting for the site file \(last value: False\)"):
        wait_until(lambda: False, 0.05, "the site file", interval=0.01)
    with pytest.raises(AssertionError, match="last seen: 1\n  expected:  2"):
        wait_equal(lambda: 1, 2, 0.05, "two", interval=0.01)


def test_the_finder_runs_pytest_from_the_checkout():
    """Its reports go to <checkout>/test-artifacts/flaky/ and pytest runs from the checkout
    (after the move to tests/support/ the finder had pointed at tests/)."""
    assert (flaky.ROOT / "pyproject.toml").is_file() and (flaky.ROOT / "tests" / "support"
                                                           / "flaky.py").is_file()
