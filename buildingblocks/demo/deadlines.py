"""Synthetic postponements of the agreements' deadlines (see the package docstring)."""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from buildingblocks.demo.timeline import BLOCK_PROFILES, DEFAULT_PROFILE, SYNTHETIC


@dataclass(frozen=True)
class AgreementInput:
    id: int
    number: int
    deadline: datetime.date  # the deadline without synthetic revisions
    block_codes: tuple[str, ...]


@dataclass(frozen=True)
class RevisionPlan:
    agreement_id: int
    old_deadline: datetime.date
    new_deadline: datetime.date
    decided_on: datetime.date
    reason: str


POSTPONEMENT_REASONS = (
    "Leveranciers van zaaksystemen konden de koppeling niet op tijd leveren.",
    "Veel gemeenten hadden de aansluiting niet begroot; uitstel om de financiering "
    "te regelen.",
    "De landelijke voorziening was nog niet stabiel genoeg om op aan te sluiten.",
    "Uitstel op verzoek van de VNG: een peiling onder gemeenten liet zien dat de "
    "termijn niet reëel was.",
    "Eerst moet de onderliggende infrastructuur (Digikoppeling) op orde zijn.",
    "Gemeentelijke herindelingen vroegen de capaciteit van de betrokken gemeenten.",
)
LATEST_REASON = (
    "Opnieuw vastgesteld in het meerjarenprogramma voor de digitale overheid: "
    "gemeenten krijgen tot deze datum."
)


def plan_deadline_revisions(
    agreements: Sequence[AgreementInput],
    *,
    rng: random.Random,
    today: datetime.date,
) -> list[RevisionPlan]:
    """Synthetic postponements: the agreements with the latest blocks are postponed.

    About a third of the agreements (at least two, at most seven) are postponed once or
    twice to 2016–2018 by decisions of 2014–2016; the latest one or two are postponed
    again, to next 1 January, so that some deadlines lie ahead of today.
    """

    def lateness(agreement: AgreementInput) -> float:
        return max(
            (
                BLOCK_PROFILES.get(code, DEFAULT_PROFILE).midpoint
                for code in agreement.block_codes
            ),
            default=0.0,
        )

    candidates = sorted(
        (a for a in agreements if a.block_codes),
        key=lambda a: (-lateness(a), a.number),
    )
    count = min(len(candidates), 7, max(2, math.ceil(len(agreements) / 3)))
    future_count = 2 if len(agreements) >= 10 else 1
    next_new_year = datetime.date(today.year + 1, 1, 1)

    plans: list[RevisionPlan] = []
    for rank, agreement in enumerate(candidates[:count]):
        future = rank < future_count
        twice = rng.random() < 0.5
        first_decided = datetime.date(2014, rng.randint(3, 11), rng.randint(1, 28))
        first_new = rng.choice((datetime.date(2016, 1, 1), datetime.date(2016, 7, 1)))
        # Decided before the first postponed deadline expires.
        second_decided = datetime.date(2015, 3, 1) + datetime.timedelta(
            days=rng.randint(0, (first_new - datetime.date(2015, 4, 1)).days)
        )
        second_new = rng.choice((datetime.date(2017, 1, 1), datetime.date(2018, 1, 1)))
        reasons = rng.sample(POSTPONEMENT_REASONS, 2)

        steps = [(first_decided, first_new, reasons[0])]
        if twice or future:
            steps.append((second_decided, second_new, reasons[1]))
        if future:
            steps.append(
                (datetime.date(today.year - 1, 6, 15), next_new_year, LATEST_REASON)
            )
        old = agreement.deadline
        for decided_on, new, reason in steps:
            if new == old:
                continue
            plans.append(
                RevisionPlan(
                    agreement_id=agreement.id,
                    old_deadline=old,
                    new_deadline=new,
                    decided_on=decided_on,
                    reason=f"{reason} ({SYNTHETIC.lower()})",
                )
            )
            old = new
    return plans
