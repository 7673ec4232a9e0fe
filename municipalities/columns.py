"""The column choice of the wide tables, as a view mixin (ColumnChoiceMixin).

How ?kolommen= is read is nupportal.columns (pure); the remembered choice is
ColumnPreference. Used by /gemeenten/, the matrix and the history.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpResponseRedirect
from django.utils.functional import cached_property

from municipalities.models import ColumnPreference
from nupportal.columns import (
    COLUMNS_PARAM,
    Column,
    ColumnSet,
    choose_columns,
    format_columns,
    hidden_columns,
)


class ColumnChoiceMixin:
    """Lets users choose the columns of a wide table (nupportal.columns).

    The choice is in the URL (?kolommen=a,b,c, kept by the sort, filter, page
    and download links) and, for a logged-in user, remembered: the next visit
    without ?kolommen= shows the last choice. The chooser is a GET form of
    checkboxes; it sends one value per box, which is redirected to the one
    comma-separated value, so the URL stays short and shareable.
    """

    column_table = ""  # ColumnPreference.table

    def get_column_set(self) -> ColumnSet:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        values = request.GET.getlist(COLUMNS_PARAM)
        if len(values) > 1:
            shown, _from_url = choose_columns(self.get_column_set(), values)
            query = request.GET.copy()
            query.setlist(COLUMNS_PARAM, [format_columns(shown)])
            query.pop("page", None)
            return HttpResponseRedirect(f"{request.path}?{query.urlencode(safe=',')}")
        return super().get(request, *args, **kwargs)

    @cached_property
    def shown_columns(self) -> list[str]:
        """The columns to show, from the URL, the remembered choice or the default."""
        column_set = self.get_column_set()
        user = self.request.user
        requested = self.request.GET.getlist(COLUMNS_PARAM)
        remembered = ColumnPreference.remembered(user, self.column_table)
        shown, from_url = choose_columns(column_set, requested, remembered)
        if from_url and shown != remembered:
            ColumnPreference.remember(user, self.column_table, shown)
        return shown

    def hidden_columns(self) -> list[str]:
        return hidden_columns(self.get_column_set(), self.shown_columns)

    def column_chooser(self) -> dict:
        column_set = self.get_column_set()
        shown = set(self.shown_columns)
        keep = [
            (key, value)
            for key, values in self.request.GET.lists()
            if key not in (COLUMNS_PARAM, "page")
            for value in values
        ]
        default_query = self.request.GET.copy()
        default_query.setlist(COLUMNS_PARAM, [format_columns(column_set.default)])
        default_query.pop("page", None)
        return {
            "param": COLUMNS_PARAM,
            "options": [
                {
                    "name": column.name,
                    "label": column.label,
                    "checked": column.name in shown,
                    "required": column.name in column_set.required,
                }
                for column in column_set.columns
            ],
            "required": column_set.required,
            "shown_count": len(shown),
            "total": len(column_set.columns),
            "keep": keep,
            "default_query": default_query.urlencode(safe=","),
            # Open after a choice, so the boxes the user just set stay in view.
            "open": COLUMNS_PARAM in self.request.GET,
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["column_chooser"] = self.column_chooser()
        return context


def table_column_set(
    table_class, default: Sequence[str], required: Sequence[str] = ()
) -> ColumnSet:
    """The choosable columns of a django-tables2 table, labelled by their headers.

    A column that is never shown (`visible=False`, e.g. the method version) is
    not choosable: it belongs to every download.
    """
    return ColumnSet(
        columns=tuple(
            Column(name, str(column.verbose_name or name))
            for name, column in table_class.base_columns.items()
            if column.visible
        ),
        default=tuple(default),
        required=tuple(required),
    )
