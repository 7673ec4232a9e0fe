"""The progress report PDF as printed: nothing crosses the page margins or the footer.

Every page is rendered to an image with poppler's pdftoppm and scanned for ink
(non-white pixels) outside the content box of the page, apart from the bands at
the top and bottom where the running title, the page number and "NUP Portal" are
printed. A chart taller than a page would run into the footer band; a label
drawn outside its chart into the side margins.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from buildingblocks.levels import Level
from reports.generate import run_report
from reports.models import Report
from tests.ci import missing_tool
from tests.factories import (
    AdoptionStatusFactory,
    BuildingBlockFactory,
    ResultAgreementFactory,
)

pytestmark = pytest.mark.django_db

DPI = 50  # coarse is enough to see ink; keeps the test fast
MM = DPI / 25.4  # pixels per millimetre
# The page box of reports/static/reports/print.css: A4 with these margins.
PAGE_MM = (210, 297)
MARGIN_MM = {"top": 22, "right": 18, "bottom": 20, "left": 18}
# The header and footer are printed in the top and bottom margins, a little
# inside the page edge; content may not reach into them.
TOLERANCE_MM = 1.0
WHITE = 245  # grey value (0–255) above which a pixel counts as paper


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def many_blocks(report_data):
    """As many blocks as the real catalogue, with long names: the tall charts."""
    blocks = [
        BuildingBlockFactory(
            code=f"block-{i:02}",
            name=f"Landelijke voorziening met een lange naam nummer {i}",
        )
        for i in range(32)
    ]
    for i, block in enumerate(blocks[:12]):
        AdoptionStatusFactory(
            municipality=report_data["municipalities"][i % 4],
            block=block,
            level=Level.IN_USE,
            achieved_date=datetime.date(2013, 1, 1),
        )
    for number in range(3, 20):
        ResultAgreementFactory(
            number=number,
            title=f"Resultaatafspraak {number} over het aansluiten op een voorziening",
        )
    return blocks


@pytest.fixture
def pdftoppm() -> str:
    """poppler's renderer; skips locally without it, fails in CI (tests/ci.py)."""
    path = shutil.which("pdftoppm")
    if path is None:
        missing_tool("pdftoppm (Debian poppler-utils) is not installed")
    return path


def render_pages(pdftoppm: str, pdf: bytes, out_dir: Path) -> list[Image.Image]:
    """Every page as a grey image (PGM), DPI dots per inch."""
    (out_dir / "report.pdf").write_bytes(pdf)
    subprocess.run(
        [pdftoppm, "-gray", "-r", str(DPI), "report.pdf", "page"],
        cwd=out_dir,
        check=True,
        timeout=120,
    )
    return [Image.open(path) for path in sorted(out_dir.glob("page-*.pgm"))]


def ink_outside_content(image: Image.Image) -> list[str]:
    """Where a page has ink in its margins (other than its header and footer text)."""
    width, height = image.size
    left = (MARGIN_MM["left"] - TOLERANCE_MM) * MM
    right = width - (MARGIN_MM["right"] - TOLERANCE_MM) * MM
    top = (MARGIN_MM["top"] - TOLERANCE_MM) * MM
    bottom = height - (MARGIN_MM["bottom"] - TOLERANCE_MM) * MM
    # The running title and the footer sit in these bands of the margins.
    header_band = (6 * MM, 16 * MM)
    footer_band = (height - 16 * MM, height - 6 * MM)
    pixels = image.load()
    found = []
    for y in range(height):
        in_band = (
            header_band[0] <= y <= header_band[1]
            or footer_band[0] <= y <= footer_band[1]
        )
        for x in range(width):
            if pixels[x, y] >= WHITE:
                continue
            inside = left <= x <= right and top <= y <= bottom
            if inside or (in_band and left <= x <= right):
                continue
            where = (
                "in the footer"
                if y > bottom
                else "in the header"
                if y < top
                else "in a side margin"
            )
            found.append(f"{where} at {x / MM:.0f} mm, {y / MM:.0f} mm")
    return found


def footer_overlaps(image: Image.Image) -> bool:
    """Content ink in the gap between the content box and the footer text.

    Between the bottom of the content box and the footer's line (about 6 mm)
    the page must be blank; ink there is content running into the footer.
    """
    width, height = image.size
    pixels = image.load()
    gap_top = height - (MARGIN_MM["bottom"] - TOLERANCE_MM) * MM
    gap_bottom = height - 16 * MM
    return any(
        pixels[x, y] < WHITE
        for y in range(int(gap_top), int(gap_bottom))
        for x in range(width)
    )


def page_problems(pages: list[Image.Image]) -> dict[int, list[str]]:
    """Page number → the first few places where it prints outside its box."""
    problems = {}
    for number, page in enumerate(pages, start=1):
        found = ink_outside_content(page)
        if footer_overlaps(page):
            found.append("content runs into the footer")
        if found:
            problems[number] = found[:3]
    return problems


def test_every_page_of_the_progress_report_stays_inside_its_margins(
    report_data, many_blocks, pdftoppm, tmp_path
):
    report = Report.objects.create(
        kind=Report.Kind.PROGRESS,
        parameters={
            "language": "nl",
            "reference_date": "2014-12-31",
            "comparison_date": "2012-12-31",
        },
    )
    assert run_report(report.pk) == Report.State.DONE
    report.refresh_from_db()
    with report.file.open("rb") as handle:
        pdf = handle.read()

    pages = render_pages(pdftoppm, pdf, tmp_path)

    assert len(pages) >= 8
    problems = page_problems(pages)
    assert not problems, problems


def test_every_page_of_the_scorecard_stays_inside_its_margins(
    many_blocks, plan_too_late, pdftoppm, tmp_path
):
    """The agreements table with its forecast column fits the page width too."""
    report = Report.objects.create(
        kind=Report.Kind.SCORECARD,
        parameters={"language": "nl", "municipality": plan_too_late.pk},
    )
    assert run_report(report.pk) == Report.State.DONE
    report.refresh_from_db()
    with report.file.open("rb") as handle:
        pdf = handle.read()

    pages = render_pages(pdftoppm, pdf, tmp_path)

    problems = page_problems(pages)
    assert not problems, problems
