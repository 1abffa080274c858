"""benchmarks/pages.py's pure parts: options, wrk output, thresholds, seed output, forms.

No server and no timing: the script itself is the measurement (see benchmarks/README.md).
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "pages.py"


@pytest.fixture(scope="module")
def pages() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_pages", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_pages"] = module
    spec.loader.exec_module(module)
    return module


WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:40321
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.31ms    4.02ms  61.20ms   88.12%
    Req/Sec   325.11     40.21   400.00     70.00%
  651 requests in 1.01s, 5.12MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    644.55
Transfer/sec:      5.07MB
STATUSES {"200": 648, "409": 3}
P50US 11020
P99US 40515
"""


def test_options_default_to_both_engines_two_worker_counts_and_full_size(
    pages: ModuleType,
) -> None:
    args = pages.parse_args([])
    assert args.engines == ["sqlite", "postgresql"]
    assert args.worker_counts == [2, 4]
    assert args.duration == 10.0
    assert args.size == pages.SCALE
    assert args.connections == 8
    assert args.post_connections == 50
    assert args.only is None


def test_only_picks_endpoints_by_name(pages: ModuleType) -> None:
    args = pages.parse_args(["--only", "journey_day, booking_post,"])
    assert args.only == {"journey_day", "booking_post"}


def test_quick_is_smaller_and_shorter_and_options_override(pages: ModuleType) -> None:
    args = pages.parse_args(["--quick", "--engine", "sqlite", "--workers", "4", "--patients", "9"])
    assert args.engines == ["sqlite"]
    assert args.worker_counts == [4]
    assert args.duration == 1.0
    assert args.size == {**pages.QUICK_SCALE, "patients": 9}
    quick = pages.parse_args(["--quick", "--duration", "3"])
    assert quick.duration == 3.0
    assert quick.worker_counts == [2]  # one server per engine keeps it under 3 minutes


@pytest.mark.parametrize("workers", ["two", "0", ","])
def test_bad_worker_counts_are_refused(pages: ModuleType, workers: str) -> None:
    with pytest.raises(SystemExit) as exited:
        pages.parse_args(["--workers", workers])
    assert exited.value.code == 2


@pytest.fixture(scope="module")
def common(pages: ModuleType) -> ModuleType:
    """benchmarks/_common.py, where pages.py's wrk parsing lives (on the path once imported)."""
    return importlib.import_module("_common")


def test_wrk_output_gives_rate_percentiles_and_statuses(common: ModuleType) -> None:
    result = common.parse_wrk(WRK_OUTPUT)
    assert result.requests == 651
    assert result.seconds == pytest.approx(1.01)
    assert result.rps == pytest.approx(644.55)
    assert result.p50_ms == pytest.approx(11.02)
    assert result.p99_ms == pytest.approx(40.515)
    assert result.statuses == {"200": 648, "409": 3}


def test_wrk_output_without_a_summary_is_refused(common: ModuleType) -> None:
    with pytest.raises(ValueError, match="not wrk output"):
        common.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_cpu_split_puts_the_workers_and_the_load_on_their_sides(common: ModuleType) -> None:
    """A busy "worker" (a child left running) and a busy "wrk" (a child waited for) are each
    counted on their own side, not on the other's or in the machine's rest."""
    spin = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    worker = subprocess.Popen(
        [sys.executable, "-c", spin + "print('spun', flush=True)\ninput()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        with common.cpu_split([worker.pid]) as cpu:
            subprocess.run([sys.executable, "-c", spin], check=True)
            assert worker.stdout is not None
            assert worker.stdout.readline() == b"spun\n"
    finally:
        worker.communicate(b"\n", timeout=10)
    assert cpu["app_s"] == pytest.approx(0.3, abs=0.1)
    assert cpu["load_s"] == pytest.approx(0.3, abs=0.1)
    assert 0.0 <= cpu["idle_share"] <= 1.0


def test_cpu_per_request_divides_each_side_by_the_requests(pages: ModuleType) -> None:
    result = pages.Result(
        requests=200, seconds=1.0, rps=200.0, p50_ms=1.0, p99_ms=2.0, statuses={"201": 200}
    )
    cpu = {"app_s": 1.0, "database_s": 0.5, "load_s": 0.02, "other_s": 0.0, "idle_share": 0.1}
    measured = pages.Measured("booking_post", "post", 50, result, 201, cpu)
    assert pages.cpu_per_request(measured) == {
        "cpu_ms_per_request": {"app": 5.0, "database": 2.5, "load": 0.1, "other": 0.0},
        "idle_share": 0.1,
    }
    assert pages.cpu_per_request(pages.Measured("hello", "hello", 8, result)) == {}


def row(name: str, kind: str, rps: float, p99: float, **statuses: int) -> dict[str, object]:
    return {
        "name": name,
        "kind": kind,
        "rps": rps,
        "p99_ms": p99,
        "statuses": {k.removeprefix("s"): v for k, v in statuses.items()} or {"200": 1},
        "connections": 50 if kind == "post" else 8,
    }


def test_thresholds_pass_and_fail_by_the_issue(pages: ModuleType) -> None:
    rows = [
        row("hello", "hello", 1000.0, 5.0),
        row("start_page", "journey", 250.0, 99.0),  # exactly a quarter: passes
        row("availability_api", "journey", 240.0, 20.0),  # under a quarter
        row("practitioner_week", "get", 10.0, 100.0),  # p99 must be under 100 ms
        row("patient_search", "get", 50.0, 30.0, s200=5, s302=1),  # a redirect is an error
        row("booking_post", "post", 80.0, 149.0, s201=10, s409=90),  # 409 is a normal answer
    ]
    checked, failed, memory_ok = pages.evaluate(rows, [120.0, 149.9])
    by_name = {r["name"]: r for r in checked}
    assert by_name["start_page"]["ratio_to_hello"] == 0.25
    assert by_name["start_page"]["share_ok"] is True
    assert by_name["availability_api"]["share_ok"] is False
    assert by_name["practitioner_week"]["share_ok"] is None  # not a journey page
    assert by_name["booking_post"]["errors"] == 0
    assert by_name["booking_post"]["p99_ok"] is True
    assert memory_ok is True
    assert failed == [
        "availability_api: share",
        "practitioner_week: p99",
        "patient_search: errors",
    ]


def test_post_errors_other_than_409_and_heavy_workers_fail(pages: ModuleType) -> None:
    rows = [
        row("hello", "hello", 1000.0, 5.0),
        row("booking_post", "post", 80.0, 151.0, s201=10, s409=5, s422=1, s500=2),
    ]
    checked, failed, memory_ok = pages.evaluate(rows, [100.0, 150.0])
    assert checked[1]["errors"] == 3
    assert failed == ["booking_post: p99", "booking_post: errors", "worker memory"]
    assert memory_ok is False
    # A worker whose memory could not be read does not pass either.
    assert pages.evaluate([row("hello", "hello", 1.0, 1.0)], [None])[2] is False


SEED_OUTPUT = """Demo sign-ins (role, email, password):
  admin         admin@meridian.example           meridian-demo-2026
  receptionist  reception@meridian.example       meridian-demo-2026
  practitioner  mei.chen@meridian.example        meridian-demo-2026
  patient       alex.morgan@meridian.example     meridian-demo-2026
Staff sign in with a code too. Add these TOTP keys to an authenticator app
(time-based, 6 digits, 30 s), or run: oathtool --totp -b KEY
  mei.chen@meridian.example        XE2S4HCMHFZ24AP3KP3YHH2FABLFCJSD
  reception@meridian.example       AFNSHYT3J6R3NOTZ6GBHN7E2TEFNH6S5
"""


def test_seed_output_gives_sign_ins_and_totp_keys(pages: ModuleType) -> None:
    seeded = pages.parse_seed_output(SEED_OUTPUT)
    assert seeded.first("practitioner") == "mei.chen@meridian.example"
    assert seeded.first("receptionist") == "reception@meridian.example"
    assert seeded.passwords["reception@meridian.example"] == "meridian-demo-2026"
    assert seeded.totp == {
        "mei.chen@meridian.example": "XE2S4HCMHFZ24AP3KP3YHH2FABLFCJSD",
        "reception@meridian.example": "AFNSHYT3J6R3NOTZ6GBHN7E2TEFNH6S5",
    }
    with pytest.raises(RuntimeError):
        pages.Seeded().first("admin")


PAGE = """<header><form method="post" action="/auth/sign-out">
<input type="hidden" name="csrf_token" value="t1"><button>Sign out</button></form></header>
<main><form method="post" novalidate>
<input type="hidden" name="csrf_token" value="t2">
<input type="radio" name="returning" value="yes">
<input type="radio" name="returning" value="no" checked>
<input type="text" name="given_name" value="">
<input type="submit" name="submit" value="Continue">
</form>
<form method="get" action="/search"><input name="q"></form></main>"""


def test_the_question_form_is_chosen_over_sign_out_and_get_forms(pages: ModuleType) -> None:
    form = pages.main_form(PAGE)
    assert form is not None
    assert form["action"] == ""
    assert ("csrf_token", "hidden", "t2", False) in form["fields"]
    assert pages.radio_values(PAGE, "returning") == ["yes", "no"]
    assert len(pages.post_forms(PAGE)) == 2


def test_scale_output_gives_its_staff_sign_ins(pages: ModuleType) -> None:
    output = (
        "Seeded in 95 s (sqlite): 10 locations, 30 rooms, 100 practitioners, ...\n"
        "Sign in as admin@scale.example, reception@scale.example or "
        "practitioner1@scale.example ... practitioner100@scale.example with the password pw\n"
    )
    seeded = pages.parse_scale_output(output, "secret-pw")
    assert seeded.data == "scale"
    assert seeded.first("receptionist") == "reception@scale.example"
    assert seeded.first("practitioner") == "practitioner1@scale.example"
    assert seeded.first("admin") == "admin@scale.example"
    assert set(seeded.passwords.values()) == {"secret-pw"}
    assert seeded.totp == {}


def test_failed_checks_are_listed_per_endpoint(pages: ModuleType) -> None:
    failed = ["start_page: p99", "start_page: share", "booking_post: errors", "worker memory"]
    assert pages.failed_words(failed) == (
        "start_page (p99, share), booking_post (errors), worker memory"
    )


def _access(at: str, method: str, path: str, status: int) -> str:
    return (
        f'{{"time": "2026-12-07T21:00:{at}+00:00", "level": "INFO", "logger": "gunicorn.access",'
        f' "method": "{method}", "path": "{path}", "status": {status}, "duration_ms": 3.1}}'
    )


def test_post_phases_count_each_whole_second_and_the_latency_its_rate_implies(
    pages: ModuleType,
) -> None:
    booking = "/api/v1/appointments"
    log = "\n".join(
        [
            '{"time": "2026-12-07T21:00:00+00:00", "logger": "gunicorn.error", "msg": "Booting"}',
            _access("00.000000", "GET", "/", 200),  # another load's request: not counted
            _access("00.100000", "POST", booking, 201),
            _access("00.400000", "POST", booking, 201),
            _access("00.900000", "POST", booking, 409),
            _access("01.200000", "POST", booking, 409),
            _access("01.300000", "POST", "/api/v1/appointments/7/cancel", 200),
            _access("01.500000", "POST", booking, 503),
            _access("01.700000", "POST", booking, 409),
            _access("01.800000", "POST", booking, 409),
            _access("02.300000", "POST", booking, 409),  # the last, partial second: left out
            "not json at all",
        ]
    )
    assert pages.post_phases(log, 50) == [
        {"from_s": 0.0, "201": 2, "409": 1, "other": 0, "rps": 3.0, "implied_mean_ms": 16666.7},
        {"from_s": 1.0, "201": 0, "409": 3, "other": 1, "rps": 4.0, "implied_mean_ms": 12500.0},
    ]
    assert pages.post_phases(_access("00.1", "GET", "/", 200), 50) == []
