"""The Dutch catalogue is complete and current.

Dutch is the default language, so a msgid without a Dutch msgstr shows in English
(the OpenAPI document, for one, is served in Dutch). The test regenerates the
catalogue the way docs/development.md says, in a copy of the project, and holds
the committed one to it: every msgid translated, none fuzzy, none missing and
none stale.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.ci import missing_tool

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = Path("locale/nl/LC_MESSAGES/django.po")
# Keep in step with the row "update the Dutch catalogue" in docs/development.md.
MAKEMESSAGES = [
    "makemessages",
    "-l",
    "nl",
    "--no-obsolete",
    "--add-location=file",
    "-i",
    ".venv",
    "-i",
    "node_modules",
    "-i",
    "bench",
    "-i",
    "tests",
]
NOT_COPIED = {
    ".git",
    ".venv",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
}

Key = tuple[str | None, str, str | None]  # msgctxt, msgid, msgid_plural


@dataclass
class Entry:
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        return (
            self.fields.get("msgctxt"),
            self.fields["msgid"],
            self.fields.get("msgid_plural"),
        )

    @property
    def translations(self) -> list[str]:
        return [v for k, v in self.fields.items() if k.startswith("msgstr")]


def parse_po(text: str) -> list[Entry]:
    """The entries of a PO file, header and obsolete (#~) entries left out."""
    entries: list[Entry] = []
    entry = Entry()
    current: str | None = None

    def flush() -> None:
        nonlocal entry, current
        if "msgid" in entry.fields and entry.fields["msgid"] != "":
            entries.append(entry)
        entry, current = Entry(), None

    for line in text.splitlines():
        line = line.strip()
        if not line:
            flush()
        elif line.startswith("#,"):
            if current is not None:
                flush()
            entry.flags |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            if current is not None and not line.startswith("#~"):
                flush()
        elif line.startswith('"'):
            assert current is not None, line
            entry.fields[current] += ast.literal_eval(line)
        else:
            keyword, _, value = line.partition(" ")
            if keyword in ("msgctxt", "msgid") and current not in (None, "msgctxt"):
                flush()
            current = keyword
            entry.fields[keyword] = ast.literal_eval(value)
    flush()
    return entries


def project_files(root: Path) -> list[Path]:
    """What a commit would hold: tracked and new files, not the ignored ones."""
    if shutil.which("git") and (root / ".git").exists():
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [Path(p) for p in out.split("\0") if p and (root / p).is_file()]
    return [
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file() and not NOT_COPIED & set(p.relative_to(root).parts)
    ]


def regenerate(copy: Path) -> str:
    for rel in project_files(ROOT):
        if NOT_COPIED & set(rel.parts):
            continue
        target = copy / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES],
        cwd=copy,
        capture_output=True,
        text=True,
        check=True,
    )
    return (copy / CATALOGUE).read_text(encoding="utf-8")


def describe(keys: set[Key]) -> str:
    return "\n".join(
        sorted(f"  {k[1]!r}" + (f" (context {k[0]!r})" if k[0] else "") for k in keys)
    )


@pytest.mark.xdist_group("translations")
def test_dutch_catalogue_is_complete_and_current(tmp_path: Path) -> None:
    if not shutil.which("xgettext"):
        missing_tool("xgettext (GNU gettext) is not installed")

    committed = parse_po((ROOT / CATALOGUE).read_text(encoding="utf-8"))
    regenerated = parse_po(regenerate(tmp_path / "project"))

    untranslated = {e.key for e in regenerated if not all(e.translations)}
    fuzzy = {e.key for e in regenerated if "fuzzy" in e.flags}
    missing = {e.key for e in regenerated} - {e.key for e in committed}
    stale = {e.key for e in committed} - {e.key for e in regenerated}
    problems = {
        "untranslated": untranslated,
        "fuzzy": fuzzy,
        "missing from the committed catalogue": missing,
        "stale in the committed catalogue": stale,
    }
    assert not any(problems.values()), (
        "Update the Dutch catalogue (docs/development.md):\n"
        + "\n".join(
            f"{name}:\n{describe(keys)}" for name, keys in problems.items() if keys
        )
    )
