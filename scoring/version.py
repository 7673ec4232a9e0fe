"""The data version: when the figures the dashboards show were last written.

Every full-page cache of the overview is keyed on it, so a page cached under a
version is never stale. Reading it from PostgreSQL costs a round trip plus
Django's connection health check on every anonymous overview request; under load
that was most of the work of a cached hit (`make bench`, issue 9). So the
version is kept in the shared cache as well:

- readers take it from the cache, and on a miss read it from the database and
  `add` it (never overwriting what a writer published meanwhile);
- every writer of scores, aggregates or snapshots calls `data_changed()` inside
  its transaction: the cached version is dropped at once (a reader in the same
  transaction, such as a test, sees the new data) and published again after the
  commit (other processes only see committed data, and `set` wins over a reader
  that read the old version before the commit);
- the cached version expires after `VERSION_SECONDS`: the bound on staleness if
  a publish is lost (a cache outage at commit time, or a write that bypassed
  these functions, such as a cascade delete in the admin).

Each published version carries a random `generation`, so that process-local
copies keyed on it (nupportal.pagecache) are dropped when the cache is cleared.
"""

from __future__ import annotations

import secrets
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from scoring.models import Aggregate, MunicipalityScore, Snapshot

VERSION_KEY = "scoring:data-version"
VERSION_SECONDS = 30


class DataVersion(NamedTuple):
    stamps: tuple
    generation: str


def current_version() -> DataVersion:
    """The data version, from the cache when it holds one (no database query)."""
    cached = cache.get(VERSION_KEY)
    if isinstance(cached, DataVersion):
        return cached
    fresh = DataVersion(read_stamps(), secrets.token_hex(8))
    if cache.add(VERSION_KEY, fresh, VERSION_SECONDS):
        return fresh
    # A writer (or another reader) published first: theirs is at least as new.
    published = cache.get(VERSION_KEY)
    return published if isinstance(published, DataVersion) else fresh


def data_version() -> tuple:
    """When the scores, aggregates and snapshots were last written."""
    return current_version().stamps


def data_changed() -> None:
    """Call inside a transaction that writes scores, aggregates or snapshots."""
    cache.delete(VERSION_KEY)
    transaction.on_commit(_publish)


def _publish() -> None:
    cache.set(
        VERSION_KEY,
        DataVersion(read_stamps(), secrets.token_hex(8)),
        VERSION_SECONDS,
    )


def read_stamps() -> tuple:
    """The newest stamps of aggregates, scores and snapshots (one query).

    Aggregates and snapshots are rewritten together (delete + insert with one
    stamp): the newest row (highest id) carries the latest stamp, which the
    primary key finds without scanning a table that carries many dead rows
    between vacuums (MAX() over it cost ~1.5 ms, the index lookup ~0.03 ms).
    Scores are keyed by municipality, not by a growing id, hence MAX() there.
    """
    t = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT (SELECT computed_at FROM {t(Aggregate._meta.db_table)}
                    ORDER BY id DESC LIMIT 1),
                (SELECT MAX(computed_at) FROM {t(MunicipalityScore._meta.db_table)}),
                (SELECT computed_at FROM {t(Snapshot._meta.db_table)}
                    ORDER BY id DESC LIMIT 1)
            """
        )
        row = cursor.fetchone()
    # SQLite returns text: parse it the way the ORM would.
    return tuple(
        parse_datetime(value) if isinstance(value, str) else value for value in row
    )
