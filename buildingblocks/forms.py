"""The status editor: one AdoptionStatusForm per active building block, in a formset;
and the upload of a bulk import file (ImportUploadForm).

The forms only parse and validate (with the shared rules of
`buildingblocks.validation`); saving goes through `buildingblocks.services`.

Every editable field is rendered with a hidden copy of the value the page was
loaded with (`show_hidden_initial`), so `form.has_changed()` tells whether the
user changed this block, whatever others saved in the meantime. Only changed
blocks are sent to the service: a block the user left alone is never written
back, so it cannot overwrite someone else's newer save.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django import forms
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, BuildingBlock
from buildingblocks.services import StatusEdit, values_of
from buildingblocks.validation import (
    NOTE_MAX_LENGTH,
    STATUS_FIELDS,
    StatusValues,
    validate_status,
)

# What the date fields accept: Dutch day-month-year (with -, / or .) and ISO,
# on Dutch and English pages alike; the first is how a date is shown.
DATE_INPUT_FORMATS = ["%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"]


class DateTextInput(forms.DateInput):
    """A date as one text field: one tab stop, where Chromium's date input has three.

    Shows dd-mm-yyyy in every language, so a date reads the same on Dutch and
    English pages; the hint under the field says so (help text, so Django links it
    with aria-describedby).
    """

    input_type = "text"

    def __init__(self, attrs=None):
        defaults = {
            "placeholder": _("dd-mm-yyyy"),
            "autocomplete": "off",
            "spellcheck": "false",
            "size": 10,
        }
        super().__init__(attrs={**defaults, **(attrs or {})}, format="%d-%m-%Y")


class StatusDateField(forms.DateField):
    """A planned or achieved date; a wrong one keeps what was typed and says how."""

    widget = DateTextInput
    input_formats = DATE_INPUT_FORMATS
    default_error_messages = {
        "invalid": _(
            "Enter an existing date as dd-mm-yyyy, for example 31-12-2030 "
            "(or as 2030-12-31)."
        ),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("dd-mm-yyyy, for example 31-12-2030"))
        super().__init__(**kwargs)


class _StatusBoundField(forms.BoundField):
    """Leaves ARIA attributes off the hidden "as loaded" copies of a field.

    Django adds aria-describedby to every widget of a field with errors,
    including the hidden copy; hidden inputs may not carry ARIA attributes.
    """

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if widget is not None and widget.is_hidden:
            attrs.pop("aria-describedby", None)
        return attrs


class AdoptionStatusForm(forms.Form):
    """The status of one building block of one municipality."""

    bound_field_class = _StatusBoundField

    block = forms.CharField(widget=forms.HiddenInput, max_length=40)
    # Version of the status row when the page was loaded; 0 = no row yet.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    level = forms.ChoiceField(
        label=_("Level"), choices=Level.choices, show_hidden_initial=True
    )
    planned_date = StatusDateField(
        label=_("Planned date"), required=False, show_hidden_initial=True
    )
    achieved_date = StatusDateField(
        label=_("Achieved date"), required=False, show_hidden_initial=True
    )
    # No max_length here: validate_status says how long the note is in one message,
    # and the browser's maxlength keeps typing within the limit.
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": NOTE_MAX_LENGTH}),
        show_hidden_initial=True,
    )
    evidence_url = forms.CharField(
        label=_("Evidence URL"),
        required=False,
        max_length=500,
        widget=forms.URLInput,
        show_hidden_initial=True,
    )

    def __init__(self, *args, block: BuildingBlock | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The block this form belongs to; None when a posted code is unknown.
        self.building_block = block
        self.conflict = None  # set by the view when this block is stale

    def clean(self) -> dict:
        cleaned = super().clean()
        if any(name in self.errors for name in STATUS_FIELDS):
            return cleaned
        errors = validate_status(self.status_values(), today=timezone.localdate())
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name or None, message)
        return cleaned

    def user_changed(self) -> bool:
        """Whether the user changed this block (compared with the page as loaded).

        Only the status fields count: the hidden version may be newer in the
        database without the user having touched the block.
        """
        return any(name in self.changed_data for name in STATUS_FIELDS)

    def status_values(self) -> StatusValues:
        data = self.cleaned_data
        return StatusValues(
            level=data.get("level", ""),
            planned_date=data.get("planned_date"),
            achieved_date=data.get("achieved_date"),
            note=data.get("note", ""),
            evidence_url=data.get("evidence_url", ""),
        )

    def status_edit(self) -> StatusEdit:
        return StatusEdit(
            block_code=self.cleaned_data["block"],
            version=self.cleaned_data["version"],
            values=self.status_values(),
        )

    def loaded_values(self) -> StatusValues:
        """The values the page showed when it was loaded (its hidden initial copies)."""
        values = {}
        for name in STATUS_FIELDS:
            bound = self[name]
            raw = self.data.get(bound.html_initial_name, "")
            try:
                values[name] = self.fields[name].clean(raw)
            except forms.ValidationError:
                values[name] = raw
        values["note"] = values["note"] or ""
        values["evidence_url"] = values["evidence_url"] or ""
        return StatusValues(**values)


class BaseAdoptionStatusFormSet(forms.BaseFormSet):
    """One form per active block; refuses posts that name other blocks.

    Pass `blocks` (the active blocks in display order) and `statuses` (the
    municipality's AdoptionStatus rows by block id).
    """

    def __init__(
        self,
        *args,
        blocks: Iterable[BuildingBlock],
        statuses: Mapping[int, AdoptionStatus],
        **kwargs,
    ):
        self.blocks = list(blocks)
        self.blocks_by_code = {block.code: block for block in self.blocks}
        if "initial" not in kwargs:
            kwargs["initial"] = [
                initial_for(block, statuses.get(block.pk)) for block in self.blocks
            ]
        super().__init__(*args, **kwargs)
        # A post can carry at most one form per block.
        self.max_num = self.absolute_max = len(self.blocks)

    def get_form_kwargs(self, index: int) -> dict:
        kwargs = super().get_form_kwargs(index)
        if self.is_bound:
            code = self.data.get(self.add_prefix(index) + "-block", "")
            kwargs["block"] = self.blocks_by_code.get(code)
        else:
            kwargs["block"] = self.blocks[index]
        return kwargs

    def check_tampering(self) -> None:
        """Raise SuspiciousOperation (400) when the post is not what the page sent.

        That is: too many forms, an unknown or inactive block code, a block
        twice, or a version that is not a number. Reaching this needs a
        hand-made request, so no friendly message.
        """
        if not self.management_form.is_valid():
            raise SuspiciousOperation("Status editor: management form missing.")
        posted_total = self.management_form.cleaned_data["TOTAL_FORMS"]
        if posted_total > len(self.blocks):
            raise SuspiciousOperation("Status editor: more forms than blocks.")
        codes = [
            self.data.get(self.add_prefix(index) + "-block", "")
            for index in range(posted_total)
        ]
        if any(code not in self.blocks_by_code for code in codes):
            raise SuspiciousOperation("Status editor: unknown building block.")
        if len(set(codes)) != len(codes):
            raise SuspiciousOperation("Status editor: a building block twice.")
        versions = [
            self.data.get(self.add_prefix(index) + "-version", "")
            for index in range(posted_total)
        ]
        if not all(version.isdigit() for version in versions):
            raise SuspiciousOperation("Status editor: a version is not a number.")

    def changed_edits(self) -> list[StatusEdit]:
        """The edits of the blocks the user changed (call after is_valid())."""
        return [form.status_edit() for form in self.forms if form.user_changed()]

    def grouped_forms(self) -> list[tuple[str, list[AdoptionStatusForm]]]:
        """The forms grouped by block category, in block order: (category label, forms)."""
        groups: dict[str, list[AdoptionStatusForm]] = {}
        for form in self.forms:
            block = form.building_block
            if block is not None:
                groups.setdefault(block.get_category_display(), []).append(form)
        return list(groups.items())


AdoptionStatusFormSet = forms.formset_factory(
    AdoptionStatusForm, formset=BaseAdoptionStatusFormSet, extra=0
)


def initial_for(block: BuildingBlock, status: AdoptionStatus | None) -> dict:
    """Initial form values for one block; a block without a row shows as not started."""
    values = values_of(status)
    return {
        "block": block.code,
        "version": status.version if status else 0,
        **{name: getattr(values, name) for name in STATUS_FIELDS},
    }


class ImportUploadForm(forms.Form):
    """The file of a bulk import; read and checked by the import view."""

    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Refused on the declared size before a byte of it is parsed.
        if upload.size > settings.NUP_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than the limit of %(limit)s MB."),
                params={
                    "limit": round(settings.NUP_UPLOAD_MAX_BYTES / (1024 * 1024), 1)
                },
                code="too_large",
            )
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(
                _("Only CSV (.csv) and Excel (.xlsx) files can be imported."),
                code="wrong_type",
            )
        return upload
