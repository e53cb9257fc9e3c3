"""Writes of the API app: issuing a client's key, recording a write."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from .models import ApiClient, ApiWrite

KEY_PREFIX = "pc_"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_client_issue_key(*, client: ApiClient) -> str:
    """A new key for `client` (the old one stops working); returns it: it is shown once, only its hash is kept."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    prefix = secrets.token_hex(4)
    while ApiClient.objects.filter(key_prefix=prefix).exclude(pk=client.pk).exists():
        prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    client.key_prefix, client.key_hash = prefix, key_hash(key)
    client.save(update_fields=["key_prefix", "key_hash"])
    return key


def api_client_create(*, name: str, acts_as, can_read: bool = True, can_write: bool = False) -> tuple[ApiClient, str]:
    client = ApiClient.objects.create(
        name=name, acts_as=acts_as, can_read=can_read, can_write=can_write, key_prefix=secrets.token_hex(6), key_hash=""
    )
    return client, api_client_issue_key(client=client)


def api_client_mark_used(*, client: ApiClient) -> None:
    """At most one write a minute per client: the time is for the operator, not an audit trail."""
    now = timezone.now()
    if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)


def api_write_record(*, client: ApiClient, method: str, path: str, status_code: int, summary: dict) -> ApiWrite:
    return ApiWrite.objects.create(client=client, method=method, path=path[:300], status_code=status_code, summary=summary)


MAX_ORDER_ENTRIES = 1000


def api_orders_import(*, entries: list, by, client: ApiClient, dry_run: bool = False) -> dict:
    """Posted order rows through the `import_orders` importer (its validation, its shop limits, its
    record in Import runs); the answer has the counts and each rejected entry's field and message."""
    import csv
    import io
    import tempfile
    from pathlib import Path

    from fulfillment.importers import OrderImporter
    from fulfillment.importing import json_row, run_import

    rows = ((number, json_row(entry) if isinstance(entry, dict) else None) for number, entry in enumerate(entries, 1))
    with tempfile.TemporaryDirectory(prefix="parcel-api-") as work:
        errors_path = Path(work) / "errors.csv"
        report = run_import(
            OrderImporter(by=by), None, rows=rows, dry_run=dry_run, stdout=io.StringIO(), stderr=io.StringIO(),
            errors_path=str(errors_path), source_label=f"api: {client.name}",
        )  # fmt: skip
        with errors_path.open(encoding="utf-8-sig", newline="") as f:
            errors = [{"entry": int(r["line"]), "field": r["field"], "message": r["message"]} for r in csv.DictReader(f)]
    return {
        "dry_run": dry_run, "read": report.read, "inserted": report.inserted, "updated": report.updated,
        "unchanged": report.unchanged, "rejected": report.rejected, "errors": errors,
    }  # fmt: skip
