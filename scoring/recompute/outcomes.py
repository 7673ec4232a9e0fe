"""Agreement outcomes as small codes: decided in SQL, and read back from stored rows.

`_outcome_code` is rules.agreement_outcome as SQL over a municipality's sets
of requirements (columns of the pass, scoring.recompute.per_municipality);
`_stored_compliance_check` turns the stored compliance rows into the same
codes, so that the pass can tell which municipalities' rows may differ.
"""

from __future__ import annotations

import datetime

from scoring.models import AgreementCompliance, ComplianceReason, ComplianceStatus
from scoring.recompute.inputs import _Inputs
from scoring.recompute.sql import _bigint, _date, _masks, _t

# What rules.agreement_outcome can decide, as a small code per municipality ×
# agreement: (code, status, reason, met on an exemption).
_KINDS = [
    (0, ComplianceStatus.NOT_APPLICABLE, "", False),
    (1, ComplianceStatus.MET, "", False),
    (2, ComplianceStatus.MET, "", True),
    (3, ComplianceStatus.OVERDUE, ComplianceReason.DEADLINE_PASSED, False),
    (4, ComplianceStatus.AT_RISK, ComplianceReason.UNPLANNED, False),
    (5, ComplianceStatus.AT_RISK, ComplianceReason.PLANNED_LATE, False),
    (6, ComplianceStatus.AT_RISK, ComplianceReason.PLAN_EXPIRED, False),
    (7, ComplianceStatus.ON_TRACK, "", False),
]
_OVERDUE, _PLAN_EXPIRED = 3, 6


def _requirement_masks(inputs: _Inputs, agreement_id: int) -> list[int]:
    return _masks(
        [i for i, (a, *_) in enumerate(inputs.requirements) if a == agreement_id],
        len(inputs.requirements),
    )


def _outcome_code(inputs: _Inputs, agreement_id: int, passed: bool) -> str:
    """rules.agreement_outcome of one agreement as SQL over a municipality's sets.

    `y` is a row of `_per_municipality`; the result is a code of `_KINDS`.
    """
    masks = _requirement_masks(inputs, agreement_id)

    def meets(kind: str) -> str:
        """Some requirement of this agreement is in the municipality's set `kind`."""
        terms = [
            f"(y.{kind}_{w} & {_bigint(mask)}) <> 0"
            for w, mask in enumerate(masks)
            if mask
        ]
        return "(" + " OR ".join(terms) + ")" if terms else "(1 = 0)"

    ahead = (
        ""
        if passed
        else f"""
            WHEN {meets("unplanned")} THEN 4
            WHEN {meets("late")} THEN 5
            WHEN {meets("expired")} THEN 6
            ELSE 7"""
    )
    return f"""CASE
            WHEN NOT {meets("remaining")} THEN 0
            WHEN NOT {meets("missing")}
                THEN CASE WHEN {meets("exempt")} THEN 2 ELSE 1 END
            {"ELSE 3" if passed else ahead}
        END"""


def _outcome_columns(inputs: _Inputs, on: datetime.date) -> list[str]:
    """The `outcome_<i>` columns of `_per_municipality`, one per agreement."""
    return [
        f"{_outcome_code(inputs, agreement_id, deadline < on)} AS outcome_{i}"
        for i, (agreement_id, deadline) in enumerate(inputs.agreements)
    ]


# Outcome codes packed per municipality, 4 bits each (code + 1, so that a
# missing row, 0, differs from every code): 15 agreements to a 60-bit word.
_PACKED = 15


def _packed_outcomes(inputs: _Inputs) -> list[str]:
    """Per word, the municipality's outcome codes (`_PER_M` row `p`) packed."""
    n = len(inputs.agreements)
    return [
        " + ".join(
            f"(p.outcome_{i} + 1) * {_bigint(16 ** (i % _PACKED))}"
            for i in range(w * _PACKED, min(n, (w + 1) * _PACKED))
        )
        for w in range(-(-n // _PACKED))
    ]


def _stored_code(inputs: _Inputs) -> str:
    """The `_KINDS` code (+ 1) of stored compliance row `c`; NULL for a row no rule gives.

    An overdue row lapsed on its agreement's deadline, a plan-expired one on
    a planned date (which one is not checked here: see
    `_stored_compliance_check`), any other on none. One branch per status, so
    that a row is compared with the kinds of its own status only.
    """
    on_deadline = " ".join(
        f"WHEN {int(agreement_id)} THEN c.lapsed_on = {_date(deadline)}"
        for agreement_id, deadline in inputs.agreements
    )
    branches: dict[str, list[str]] = {}
    for code, status, reason, exempted in _KINDS:
        lapsed = {
            _OVERDUE: f"CASE c.agreement_id {on_deadline} END" if on_deadline else "",
            _PLAN_EXPIRED: "c.lapsed_on IS NOT NULL",
        }.get(code, "c.lapsed_on IS NULL")
        branches.setdefault(str(status), []).append(
            f"WHEN c.reason = '{reason}' AND {'' if exempted else 'NOT '}c.exempted "
            f"AND {lapsed or '1 = 0'} THEN {code + 1}"
        )
    whens = " ".join(
        f"WHEN '{status}' THEN CASE {' '.join(kinds)} END"
        for status, kinds in branches.items()
    )
    return f"CASE c.status {whens} END"


def _stored_compliance_check(inputs: _Inputs) -> tuple[str, str]:
    """Which municipalities' stored compliance rows may differ from the pass's.

    Every stored row is read (a row changed behind the recompute's back is
    repaired), but compared per municipality: its number of rows and its
    rows' codes, packed as `_packed_outcomes` packs the new ones (a row of a
    removed agreement adds nothing to the codes but counts as a row). That
    is cheaper than decoding and pairing every row; the municipalities it
    picks are compared row by row, and so are those with a plan-expired
    outcome (its date is not in the code).

    Returns the stored rows summed per municipality (`s`) and the condition,
    over `s` and the pass's row `p`, that its rows differ.
    """
    n = len(inputs.agreements)
    words = _packed_outcomes(inputs)
    code = _stored_code(inputs)
    sums = []
    for w in range(len(words)):
        members = list(enumerate(inputs.agreements))[w * _PACKED : (w + 1) * _PACKED]
        weight = " ".join(
            f"WHEN {int(a)} THEN {_bigint(16 ** (i % _PACKED))}"
            for i, (a, _) in members
        )
        term = f"(CASE c.agreement_id {weight} END) * {code}"
        if len(words) > 1:
            # Each row's code is decided once, in the sum of its own word.
            ids = ", ".join(str(int(a)) for _, (a, _) in members)
            term = f"CASE WHEN c.agreement_id IN ({ids}) THEN {term} END"
        sums.append(f"SUM({term}) AS codes_{w}")
    summary = f"""
        SELECT c.municipality_id, COUNT(*) AS stored_rows
            {"".join(f", {column}" for column in sums)}
        FROM {_t(AgreementCompliance)} c
        GROUP BY c.municipality_id
    """
    differs = [
        "s.municipality_id IS NULL",
        f"s.stored_rows <> {n}",
        *(f"COALESCE(s.codes_{w}, -1) <> {packed}" for w, packed in enumerate(words)),
        *(f"p.outcome_{i} = {_PLAN_EXPIRED}" for i in range(n)),
    ]
    return summary, f"({' OR '.join(differs)})"
