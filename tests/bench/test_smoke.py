"""A tiny run of the bench harness inside `make test`, so it cannot rot.

No timing is asserted: benchmarks are not tests. This only proves that the
scale data loads, every measurement runs and the results are written.
"""

from __future__ import annotations

import datetime
import json

import pytest

from bench import measure, run
from buildingblocks.benchdata import BenchDataError, Spec, cbs_code, seed
from buildingblocks.models import AdoptionStatus, StatusChange
from buildingblocks.streaming import status_csv_rows
from municipalities.models import Municipality
from scoring.compute import recompute_all
from scoring.history import snapshot_scores
from tests.factories import MunicipalityFactory

SPEC = Spec(municipalities=4, blocks=5, months=8, seed=3)


@pytest.fixture
def bench_data(db):
    seed(SPEC, log=lambda _message: None)
    recompute_all()
    snapshot_scores(datetime.date.today().replace(day=1) - datetime.timedelta(days=200))


def test_seed_bench_builds_the_synthetic_data_set(bench_data):
    assert Municipality.objects.count() == 4
    assert AdoptionStatus.objects.count() == 4 * 5
    assert StatusChange.objects.exists()
    assert set(Municipality.objects.values_list("cbs_code", flat=True)) == {
        cbs_code(n) for n in range(1, 5)
    }
    assert cbs_code(10_000) == "GM0000"


def test_seed_bench_refuses_a_database_with_real_data(db):
    MunicipalityFactory()
    with pytest.raises(BenchDataError):
        seed(SPEC, log=lambda _message: None)


def test_streamed_export_has_a_header_and_one_line_per_status(bench_data):
    text = "".join(
        piece.decode() if isinstance(piece, bytes) else piece
        for piece in status_csv_rows()
    )
    lines = text.strip().splitlines()
    assert lines[0].startswith('\ufeff"cbs_code";"municipality";"building_block"')
    assert len(lines) == 1 + AdoptionStatus.objects.count()


def test_the_harness_runs_every_suite_and_writes_its_results(bench_data, tmp_path):
    results = {
        "started": "smoke",
        "machine": {"cpus": 1, "python": "3"},
        "runs": 1,
        "seconds": 0.0,
        "sizes": {
            "smoke": {
                "recompute": measure.run_recompute(1),
                "trend": measure.run_trend(1, 8),
                "export": measure.run_export(1, memory=False),
                "pages": measure.run_pages(1),
            }
        },
    }
    run.write(results, tmp_path)
    written = json.loads((tmp_path / "results.json").read_text())
    pages = written["sizes"]["smoke"]["pages"]["pages"]
    assert {p["page"] for p in pages} >= {"overview", "scorecard", "matrix"}
    assert all(p["queries"] is not None for p in pages if not p["error"])
    assert "| page |" in (tmp_path / "RESULTS.md").read_text()
    # The first-run recompute (nothing stored) writes every score row.
    recompute = written["sizes"]["smoke"]["recompute"]
    assert recompute["cold"]["written"]["scores"] == SPEC.municipalities
    # The steady-state runs before it found nothing changed: no compliance row
    # written (score rows are rewritten by the one SQL path on both databases).
    assert recompute["written"]["compliance"] == 0
    assert (
        "every score and agreement row written" in (tmp_path / "RESULTS.md").read_text()
    )


# --- the demo-save suite (bench/demo_save.py) -------------------------------------


@pytest.fixture
def editable(transactional_db):
    """One municipality with two blocks and its editor, who logs in with a password."""
    from tests.buildingblocks.editing import make_blocks
    from tests.factories import EditorMembershipFactory

    make_blocks()
    membership = EditorMembershipFactory(
        municipality=MunicipalityFactory(slug="klein"), user__username="cio-klein"
    )
    return membership


def test_the_demo_save_suite_posts_through_the_editor_form(
    editable, live_server, tmp_path
):
    from bench import demo_save

    result = demo_save.measure_saves(
        live_server.url,
        saves=3,
        username="cio-klein",
        password="demo",
        slug="klein",
        pause=0,
    )
    assert result["failures"] == [] and result["saves"] == 3
    assert result["p50"] <= result["p95"] <= result["max"]
    # Each save changed a block: three history rows, by the editor.
    assert StatusChange.objects.filter(changed_by=editable.user).count() == 3
    run.write(
        {
            "started": "smoke",
            "machine": {"cpus": 1, "python": "3"},
            "runs": 1,
            "seconds": 0.0,
            "sizes": {},
            "demo_save": result,
        },
        tmp_path,
    )
    assert "demo | p95 " in (tmp_path / "RESULTS.md").read_text()


def test_the_demo_save_suite_runs_the_demo_in_its_own_folder(tmp_path):
    from bench import demo_save

    env = demo_save.demo_env(
        {"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://r"},
        tmp_path,
        port=8123,
    )
    assert env["CELERY_BROKER_URL"] == "filesystem://"
    assert env["DATABASE_URL"] == f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert "REDIS_URL" not in env
    assert all(
        env[name].startswith(str(tmp_path))
        for name in ("NUP_BROKER_DIR", "NUP_CACHE_DIR")
    )
    commands = demo_save.demo_commands(tmp_path, port=8123)
    assert set(commands) == {"web", "worker", "beat"}
    assert str(tmp_path / "celerybeat-schedule") in commands["beat"]


def test_percentile_is_nearest_rank():
    from bench.demo_save import percentile

    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.95) == 19.0
    assert percentile(values, 0.5) == 10.0
    assert percentile([], 0.95) is None
