"""Helpers for status-editor tests: read a page's form like a browser would post it."""

from __future__ import annotations

from html.parser import HTMLParser

from buildingblocks.levels import Category
from tests.factories import BuildingBlockFactory


class _FormReader(HTMLParser):
    """Collects the successful controls of the form with class `status-editor`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form" and "status-editor" in attributes.get("class", ""):
            self.inside = True
        if not self.inside or "name" not in attributes and tag != "option":
            return
        if tag == "input":
            if attributes.get("type") in ("checkbox", "radio") and (
                "checked" not in attributes
            ):
                return
            self.fields[attributes["name"]] = attributes.get("value", "")
        elif tag == "select":
            self._select = attributes["name"]
            self.fields.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in attributes:
            self.fields[self._select] = attributes.get("value", "")
        elif tag == "textarea":
            self._textarea = attributes["name"]
            self.fields[self._textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            # Browsers drop the newline that directly follows <textarea>.
            current = self.fields[self._textarea]
            self.fields[self._textarea] = current + (
                data.removeprefix("\n") if not current else data
            )


def form_data(response) -> dict[str, str]:
    """The status editor's fields and values as the browser would submit them."""
    reader = _FormReader()
    reader.feed(response.content.decode())
    assert reader.fields, "no status editor form on the page"
    return reader.fields


def prefix_of(data: dict[str, str], code: str) -> str:
    """The form prefix (`form-3`) of the block with this code."""
    for name, value in data.items():
        if (
            name.endswith("-block")
            and not name.startswith("initial-")
            and value == code
        ):
            return name.removesuffix("-block")
    raise KeyError(code)


def change(data: dict[str, str], code: str, **values) -> dict[str, str]:
    """Set field values of one block, as a user typing into the page."""
    prefix = prefix_of(data, code)
    for name, value in values.items():
        data[f"{prefix}-{name}"] = "" if value is None else str(value)
    return data


def make_blocks():
    """Three active blocks in two categories and one retired block."""
    return {
        "digid": BuildingBlockFactory(
            code="digid", category=Category.AUTHENTICATION, order=1
        ),
        "eherkenning": BuildingBlockFactory(
            code="eherkenning", category=Category.AUTHENTICATION, order=2
        ),
        "brp": BuildingBlockFactory(
            code="brp", category=Category.BASE_REGISTERS, order=3
        ),
        "retired": BuildingBlockFactory(
            code="retired", category=Category.STANDARDS, order=4, active=False
        ),
    }
