"""The one way a page of rows is cut: tables, the matrix and the import preview.

Every paginated page goes through the clamped paginator and `page_of`, and shows
templates/includes/pagination.html. django-tables2 passes
``int(request.GET["per_page"])`` straight to the paginator: a negative value gives
zero pages and a 500, a huge one renders every row. The clamped paginator keeps
the requested size within 1..MAX_PER_PAGE; `page_of` answers nonsense page
numbers with the first page and numbers past the end with the last, as
django-tables2 does for its own tables.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator

# The largest page any table shows (the municipality list's "all" is 400).
MAX_PER_PAGE = 500


class ClampedPaginator(Paginator):
    def __init__(self, object_list, per_page, *args: Any, **kwargs: Any) -> None:
        try:
            per_page = int(per_page)
        except (TypeError, ValueError):
            per_page = 1
        super().__init__(
            object_list, min(max(per_page, 1), MAX_PER_PAGE), *args, **kwargs
        )


def pagination(per_page: int) -> dict[str, Any]:
    """`table_pagination` for a SingleTableMixin view."""
    return {"per_page": per_page, "paginator_class": ClampedPaginator}


def page_of(paginator: Paginator, number: str | None) -> Page:
    """The requested page; the first for nonsense or below 1, the last past the end."""
    try:
        return paginator.page(number or 1)
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        # Zero and negative numbers are before the start, the rest past the end.
        before_start = int(number or 1) < 1
        return paginator.page(1 if before_start else paginator.num_pages)


def paginate(items: Any, per_page: int, number: str | None) -> tuple[Paginator, Page]:
    """The paginator over `items` and the page `number` asks for (see `page_of`)."""
    paginator = ClampedPaginator(items, per_page)
    return paginator, page_of(paginator, number)
