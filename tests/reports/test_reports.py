"""Reports: each kind generates and parses back; state, progress, files, permissions."""

from __future__ import annotations

import csv
import datetime
import io
import logging

from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation

import openpyxl
import pytest
from pypdf import PdfReader

from buildingblocks.models import AdoptionStatus, StatusChange
from reports.generate import run_report
from reports.models import Report
from tests.factories import MunicipalityFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _in_process(monkeypatch):
    """Run the generation task in-process even when a broker is configured (CI)."""
    from reports import tasks

    monkeypatch.setattr(
        tasks.generate_report,
        "delay",
        lambda report_id: tasks.generate_report.apply(args=(report_id,)),
    )


def make(kind, **parameters) -> Report:
    report = Report.objects.create(
        kind=kind, parameters={"language": "en", **parameters}
    )
    assert run_report(report.pk) == Report.State.DONE, Report.objects.get(
        pk=report.pk
    ).error
    report.refresh_from_db()
    assert (report.state, report.progress) == (Report.State.DONE, 100)
    assert report.file.name.startswith(f"reports/{kind.replace('_', '-')}-")
    return report


def read_xlsx(report):
    with report.file.open("rb") as handle:
        return openpyxl.load_workbook(io.BytesIO(handle.read()))


def pdf_text(report) -> str:
    with report.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
        return "\n".join(page.extract_text() for page in reader.pages), len(
            reader.pages
        )


def test_compliance_workbook_has_national_and_province_sheets(report_data):
    workbook = read_xlsx(make(Report.Kind.COMPLIANCE))
    assert workbook.sheetnames == [
        "Netherlands",
        "Fryslân",
        "Utrecht",
        "Result agreements",
    ]
    national = workbook["Netherlands"]
    assert national.freeze_panes == "A2"
    assert (
        national.auto_filter.ref
        == f"A1:{national.cell(1, national.max_column).column_letter}5"
    )
    rows = list(national.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == ["GM0080", "GM0088", "GM0344", "GM0345"]
    assert workbook["Utrecht"].max_row == 3
    # A name that starts with "=" is text, not a formula.
    assert rows[0][1] == "'=Leeuwarden"
    # Column 5 is the score as shown, column 6 the exact score.
    assert "2030-01-01" in national.cell(1, 7).value


def test_laggards_workbook_lists_what_is_missing_and_editor_email(report_data):
    workbook = read_xlsx(make(Report.Kind.LAGGARDS))
    summary = list(workbook.worksheets[0].iter_rows(min_row=2, values_only=True))
    codes = {r[0] for r in summary}
    # Agreement 2 (deadline 2015) is overdue for everyone but Utrecht, which met it.
    assert codes == {"GM0345", "GM0080", "GM0088"}
    schier = next(r for r in summary if r[0] == "GM0088")
    header = [c.value for c in workbook.worksheets[0][1]]
    assert report_data["editor"].email in schier[header.index("Editors' e-mail")]
    detail = list(workbook.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert ("GM0088", "MijnOverheid") in {(r[0], r[5]) for r in detail}


def test_full_csv_has_every_status_and_the_history(report_data):
    report = make(Report.Kind.FULL_CSV)
    with report.file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    statuses = [r for r in rows if r["record_type"] == "status"]
    changes = [r for r in rows if r["record_type"] == "change"]
    assert len(statuses) == AdoptionStatus.objects.count()
    assert len(changes) == StatusChange.objects.count()
    assert all(not r["note"].startswith("=") for r in rows)
    assert any(r["note"].startswith("'=") for r in rows)


def test_full_xlsx_has_statuses_and_history_sheets(report_data):
    workbook = read_xlsx(make(Report.Kind.FULL_XLSX))
    statuses, history = workbook.worksheets
    assert statuses.max_row == AdoptionStatus.objects.count() + 1
    assert history.max_row == StatusChange.objects.count() + 1
    assert all(
        not str(v).startswith("=")
        for row in statuses.iter_rows(values_only=True)
        for v in row
        if v is not None
    )


def test_progress_report_pdf_has_cover_contents_and_headline_figures(report_data):
    report = make(
        Report.Kind.PROGRESS,
        reference_date="2014-12-31",
        comparison_date="2012-12-31",
        language="en",
    )
    text, pages = pdf_text(report)
    assert pages >= 8
    assert "NUP progress report" in text
    assert "2014-12-31" in text and "2012-12-31" in text
    assert "Contents" in text and "Sources" in text
    assert "synthetic" in text
    # 4 municipalities on both dates; Utrecht's score went from 66.7 → 66.7 etc.
    assert "Municipalities" in text
    assert f"{pages - 1} / {pages}" in text or f"{pages} / {pages}" in text


def test_progress_report_figures_follow_the_history(report_data):
    from reports.progress import Reference, figures_on

    ref = Reference()
    early = figures_on(datetime.date(2011, 12, 31), ref)
    late = figures_on(datetime.date(2014, 12, 31), ref)
    utrecht = report_data["municipalities"][0].pk
    assert early.scores[utrecht] == pytest.approx(100 * 0.25 / 3)
    assert late.scores[utrecht] == pytest.approx(100 * 2 / 3)
    assert early.municipalities == late.municipalities == 4


def test_scorecard_pdf(report_data):
    municipality = report_data["municipalities"][0]
    report = make(Report.Kind.SCORECARD, municipality=municipality.pk, language="en")
    text, _pages = pdf_text(report)
    assert "Utrecht" in text and "GM0344" in text
    assert "DigiD" in text


def test_scorecard_pdf_explains_the_score(report_data):
    municipality = report_data["municipalities"][0]
    report = make(Report.Kind.SCORECARD, municipality=municipality.pk, language="en")
    text, _pages = pdf_text(report)
    assert "Why this score" in text
    assert "Contribution of each building block to the score" in text
    assert "What raises the score most" in text
    # Utrecht: DigiD and MijnOverheid in use, BAG not started (equal weights).
    assert "DigiD 1.00 33.33 0.00" in text
    assert "BAG 1.00 0.00 33.33" in text
    assert "Adoption score 66.67 33.33" in text
    assert "BAG: Not started → In use +33.33" in text


def test_failure_is_readable_and_regeneration_replaces_the_file(report_data):
    report = Report.objects.create(
        kind=Report.Kind.SCORECARD,
        parameters={"municipality": 999999, "language": "en"},
    )
    assert run_report(report.pk) == Report.State.FAILED
    report.refresh_from_db()
    assert report.state == Report.State.FAILED and "no longer exists" in report.error

    done = make(Report.Kind.COMPLIANCE)
    first_name = done.file.name
    assert run_report(done.pk) == Report.State.DONE
    done.refresh_from_db()
    assert done.file.name == first_name
    assert default_storage.exists(first_name)
    assert len(default_storage.listdir("reports")[1]) == 1


# --- pages -------------------------------------------------------------------


def test_requesting_a_report_queues_it_and_the_task_finishes_it(
    client, king_user, report_data, django_capture_on_commit_callbacks
):
    client.force_login(king_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:list"), {"kind": "compliance"})
    report = Report.objects.get()
    assert (
        response.status_code == 302
        and response["Location"] == report.get_absolute_url()
    )
    report.refresh_from_db()
    assert report.state == Report.State.DONE
    assert report.requested_by == king_user
    status = client.get(reverse("reports:status", args=[report.pk])).json()
    assert status["state"] == "done" and status["progress"] == 100
    assert status["download_url"] == reverse("reports:download", args=[report.pk])
    detail = client.get(report.get_absolute_url())
    assert detail.status_code == 200 and "Refresh" not in detail
    listing = client.get(reverse("reports:list"))
    assert reverse("reports:download", args=[report.pk]).encode() in listing.content


def test_unfinished_report_page_refreshes_itself(client, king_user):
    client.force_login(king_user)
    report = Report.objects.create(kind=Report.Kind.COMPLIANCE)
    response = client.get(report.get_absolute_url())
    assert response["Refresh"] == "3"
    assert b"<progress" in response.content


def test_progress_form_refuses_comparison_after_reference(client, king_user):
    client.force_login(king_user)
    response = client.post(
        reverse("reports:list"),
        {
            "kind": "progress",
            "reference_date": "2014-01-01",
            "comparison_date": "2015-01-01",
        },
    )
    assert response.status_code == 400
    assert "comparison_date" in response.context["form"].errors
    assert Report.objects.count() == 0


def test_download_streams_the_file_and_is_audit_logged(
    client, king_user, report_data, caplog
):
    report = make(Report.Kind.FULL_CSV)
    client.force_login(king_user)
    with caplog.at_level(logging.INFO, logger="nupportal.audit"):
        response = client.get(reverse("reports:download", args=[report.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(
        b'\xef\xbb\xbf"record_type";'
    )
    assert any(
        "downloaded" in r.message and "king-test" in r.message for r in caplog.records
    )


def test_delete_removes_row_and_file(client, king_user, report_data):
    report = make(Report.Kind.COMPLIANCE)
    name = report.file.name
    client.force_login(king_user)
    assert client.get(reverse("reports:delete", args=[report.pk])).status_code == 405
    response = client.post(reverse("reports:delete", args=[report.pk]))
    assert response.status_code == 302
    assert not Report.objects.exists()
    assert not default_storage.exists(name)


def test_editor_may_request_and_download_own_scorecard_only(
    client, report_data, django_capture_on_commit_callbacks
):
    editor = report_data["editor"]
    own, other = report_data["municipalities"][3], report_data["municipalities"][0]
    client.force_login(editor)
    assert (
        client.post(reverse("reports:scorecard", args=[other.slug])).status_code == 403
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:scorecard", args=[own.slug]))
    report = Report.objects.get()
    assert response["Location"] == report.get_absolute_url()
    assert client.get(report.get_absolute_url()).status_code == 200
    assert client.get(reverse("reports:download", args=[report.pk])).status_code == 200
    # Not someone else's scorecard, not other reports, not the list.
    foreign = make(Report.Kind.SCORECARD, municipality=other.pk)
    assert client.get(reverse("reports:download", args=[foreign.pk])).status_code == 403
    assert client.get(reverse("reports:list")).status_code == 403


# --- the permission matrix ---------------------------------------------------


@pytest.fixture
def objects(db, report_data):
    return {"report": make(Report.Kind.COMPLIANCE)}


def _urls(objects):
    r = objects["report"].pk
    return [
        ("get", reverse("reports:list")),
        ("post", reverse("reports:list")),
        ("get", reverse("reports:detail", args=[r])),
        ("get", reverse("reports:status", args=[r])),
        ("get", reverse("reports:download", args=[r])),
        ("post", reverse("reports:delete", args=[r])),
        ("get", "/en/rapportages/"),
    ]


@pytest.mark.parametrize("role", ["anonymous", "vdp", "editor", "king"])
def test_every_page_is_for_king_staff_only(
    client, objects, report_data, role, vdp_user, king_user
):
    users = {"vdp": vdp_user, "editor": report_data["editor"], "king": king_user}
    if role != "anonymous":
        client.force_login(users[role])
    for method, url in _urls(objects):
        response = getattr(client, method)(url)
        if role == "king":
            assert response.status_code in (200, 302, 400), (
                method,
                url,
                response.status_code,
            )
        elif role == "anonymous" and method == "get":
            assert (
                response.status_code == 302
                and "/accounts/login/" in response["Location"]
            ), url
        else:
            assert response.status_code in (403, 302), (
                method,
                url,
                response.status_code,
            )
            if response.status_code == 302:
                assert "/accounts/login/" in response["Location"], url
    if role != "king":
        assert Report.objects.count() == 1


def test_scorecard_request_forbidden_for_vdp_and_anonymous(client, vdp_user):
    municipality = MunicipalityFactory()
    url = reverse("reports:scorecard", args=[municipality.slug])
    assert client.post(url).status_code == 403
    client.force_login(vdp_user)
    assert client.post(url).status_code == 403
    client.force_login(UserFactory(groups=["municipal_editor"]))
    assert client.post(url).status_code == 403


# --- failures are named truthfully and can be retried ------------------------


@translation.override("en")
def test_a_broker_failure_is_reported_as_the_queue_being_unavailable(monkeypatch):
    from kombu.exceptions import OperationalError as BrokerError

    from reports import tasks

    report = Report.objects.create(kind=Report.Kind.FULL_CSV, parameters={})

    def broker_down(report_id):
        raise BrokerError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(tasks.generate_report, "delay", broker_down)
    tasks.enqueue_report(report.pk)
    report.refresh_from_db()
    assert report.state == Report.State.FAILED
    assert "queue is unavailable" in report.error


def test_a_locked_database_is_not_called_an_unavailable_queue(monkeypatch):
    """Before: SQLite's "database is locked" in eager mode read "queue unavailable"."""
    from django.db import OperationalError

    from reports import tasks

    report = Report.objects.create(
        kind=Report.Kind.FULL_CSV, parameters={"language": "en"}
    )

    def locked(report_id):
        raise OperationalError("database is locked")

    monkeypatch.setattr("reports.generate.run_report", locked)
    monkeypatch.setattr(tasks.generate_report, "max_retries", 0)
    tasks.enqueue_report(report.pk)
    report.refresh_from_db()
    assert report.state == Report.State.FAILED
    assert "queue" not in report.error
    assert "database was not available (database is locked)" in report.error


def test_a_database_failure_after_the_last_retry_fails_the_report_in_its_language(
    monkeypatch,
):
    from django.db import OperationalError

    from reports import tasks

    report = Report.objects.create(
        kind=Report.Kind.FULL_CSV, parameters={"language": "nl"}
    )
    monkeypatch.setattr(
        "reports.generate.run_report",
        lambda report_id: (_ for _ in ()).throw(OperationalError("disk I/O error")),
    )
    result = tasks.generate_report.apply(args=(report.pk,), retries=3)
    assert result.get() == Report.State.FAILED
    report.refresh_from_db()
    assert report.state == Report.State.FAILED and report.finished_at
    assert report.error == (
        "Het rapport kon niet worden gemaakt omdat de database niet beschikbaar "
        "was (disk I/O error). Probeer het opnieuw."
    )


def test_a_failed_report_offers_try_again_and_the_retry_makes_it(
    client, king_user, report_data, django_capture_on_commit_callbacks
):
    report = Report.objects.create(
        kind=Report.Kind.COMPLIANCE,
        parameters={"language": "en"},
        state=Report.State.FAILED,
        error="The report took too long to make and was stopped.",
    )
    client.force_login(king_user)
    page = client.get(report.get_absolute_url())
    retry_url = reverse("reports:retry", args=[report.pk])
    assert b"took too long" in page.content
    assert f'action="{retry_url}"'.encode() in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry_url)
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.state, report.error, report.progress) == (Report.State.DONE, "", 100)
    assert b'class="report-retry"' not in client.get(report.get_absolute_url()).content


def test_only_a_failed_report_can_be_retried(
    client, king_user, django_capture_on_commit_callbacks
):
    report = Report.objects.create(
        kind=Report.Kind.COMPLIANCE, parameters={}, state=Report.State.RUNNING
    )
    client.force_login(king_user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reverse("reports:retry", args=[report.pk]))
    assert callbacks == []
    report.refresh_from_db()
    assert report.state == Report.State.RUNNING


@pytest.mark.parametrize(
    ("language", "version", "forecast"),
    [
        ("en", "Method v7", "Yes: plan after the deadline"),
        ("nl", "Methode v7", "Ja: planning na de deadline"),
    ],
)
def test_scorecard_pdf_shows_the_method_version_and_the_forecast(
    report_data, plan_too_late, language, version, forecast
):
    from scoring.models import MunicipalityScore

    veenendaal = plan_too_late
    # Another version than the current one: the PDF reads the score row's.
    MunicipalityScore.objects.filter(municipality=veenendaal).update(method_version="7")
    report = make(Report.Kind.SCORECARD, municipality=veenendaal.pk, language=language)
    text, _pages = pdf_text(report)
    assert version in text
    assert forecast in text
    # Agreement 2 (2015) is overdue: already missed, not forecast.
    assert text.count(forecast) == 1
