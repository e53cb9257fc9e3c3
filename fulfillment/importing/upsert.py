"""The natural-key upsert of the reference importers: insert new rows, update changed ones, count the rest.

Reference files are keyed by a natural key, not by an id: re-running a file finds every row by
that key and changes nothing (*unchanged*). Within a batch a later row for the same key wins; the
rows it overrides count as unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class UpsertResult:
    """The counts of one batch, and which keys it inserted or changed (and which of their fields)."""

    inserted: int
    updated: int
    unchanged: int
    inserted_keys: tuple = ()
    changed_fields: dict[tuple, frozenset[str]] = field(default_factory=dict)

    @property
    def counts(self) -> tuple[int, int, int]:
        """(inserted, updated, unchanged), what `Importer.apply_batch` returns."""
        return self.inserted, self.updated, self.unchanged

    @property
    def changed_keys(self) -> list[tuple]:
        """The keys inserted or updated, in the batch's order."""
        return [*self.inserted_keys, *self.changed_fields]


def upsert_by_natural_key(
    *, model, key_fields: Sequence[str], value_fields: Sequence[str], records: Iterable[Any]
) -> UpsertResult:
    """Write `records` (objects with an attribute per field) to `model` by natural key.

    A record whose key is not stored is inserted (`bulk_create`); a stored row whose value fields
    differ from the record's gets those values (`bulk_update`); an identical row is unchanged.
    Keys are tuples of the `key_fields` values in their order. One read and at most two writes
    per batch, whatever its size.
    """
    key_fields, value_fields = tuple(key_fields), tuple(value_fields)
    records = list(records)
    latest = {tuple(getattr(r, name) for name in key_fields): r for r in records}  # a later row wins
    if not latest:
        return UpsertResult(0, 0, len(records))
    stored = _stored_by_key(model, key_fields, latest)
    new, changed, changed_fields, unchanged = [], [], {}, 0
    for key, record in latest.items():
        row = stored.get(key)
        if row is None:
            new.append(model(**{name: getattr(record, name) for name in key_fields + value_fields}))
            continue
        differs = frozenset(name for name in value_fields if getattr(row, name) != getattr(record, name))
        if not differs:
            unchanged += 1
            continue
        for name in differs:
            setattr(row, name, getattr(record, name))
        changed.append(row)
        changed_fields[key] = differs
    model.objects.bulk_create(new)
    if changed:
        model.objects.bulk_update(changed, list(value_fields))
    inserted_keys = tuple(tuple(getattr(obj, name) for name in key_fields) for obj in new)
    return UpsertResult(
        inserted=len(new),
        updated=len(changed),
        unchanged=unchanged + len(records) - len(latest),
        inserted_keys=inserted_keys,
        changed_fields=changed_fields,
    )


def _stored_by_key(model, key_fields: tuple[str, ...], latest: dict[tuple, Any]) -> dict[tuple, Any]:
    """The stored rows whose key is among `latest`'s, by key (one query)."""
    lookups = {f"{name}__in": {key[i] for key in latest} for i, name in enumerate(key_fields)}
    stored = {}
    for row in model.objects.filter(**lookups):
        key = tuple(getattr(row, name) for name in key_fields)
        if key in latest:
            stored[key] = row
    return stored
