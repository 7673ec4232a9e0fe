"""Pagination of django-tables2 tables that survives any ?per_page= in the URL.

django-tables2 passes ``int(request.GET["per_page"])`` straight to the paginator:
a negative value gives zero pages and a 500, a huge one renders every row. The
clamped paginator keeps the requested size within 1..MAX_PER_PAGE.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator

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
