"""What each source kind's push says, as rows of `import_events` (carrier_code, tracking_no, code,
occurred_at, location, description, outlet_code), one per entry, each with a reference back into the
body (`[3]`, `lastResult.data[3]`, `Data[0].Traces[2]`) for the per-entry report.

Carrier codes and status words are translated through the kind's mapping rows (`Vocabulary`): an
aggregator's carrier code without a row rejects its entries, a status word without a row is `info`.
A body that cannot be read at all (broken JSON, missing fields, too many entries) raises
`BodyUnreadable`; nothing of it is applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from fulfillment.importing import RowError

from .forms_body import form_fields
from .models import SourceKind

IMPORT_EVENT_FIELDS = ("carrier_code", "tracking_no", "code", "occurred_at", "location", "description", "outlet_code")


def max_entries() -> int:
    return getattr(settings, "LIVE_PUSH_MAX_ENTRIES", 1000)


class BodyUnreadable(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Vocabulary:
    """A source kind's mapping rows: their carrier code → ours, their status word → our event code."""

    kind: str
    carriers: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, kind: str) -> Vocabulary:
        from .models import CarrierCodeMapping, StatusWordMapping

        return cls(
            kind=kind,
            carriers=dict(CarrierCodeMapping.objects.filter(kind=kind).values_list("their_code", "carrier_code")),
            words=dict(StatusWordMapping.objects.filter(kind=kind).values_list("word", "code")),
        )

    def carrier(self, theirs: str) -> str:
        theirs = theirs.strip()
        if self.kind == SourceKind.GENERIC:
            return self.carriers.get(theirs, theirs)  # a generic sender uses our codes unless mapped
        if theirs not in self.carriers:
            raise RowError(
                "carrier_code",
                _("unknown carrier code “%(code)s” of %(kind)s: add a carrier code mapping")
                % {"code": theirs[:64], "kind": self.kind},
            )
        return self.carriers[theirs]

    def code(self, word: str) -> str:
        return self.words.get(word.strip(), "info")


# An entry: (reference into the body, the row of import_events or the RowError that rejects it).
Entry = tuple[str, dict[str, str] | RowError]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise RowError("", _("a JSON object or array where text was expected"))
    text = str(value)
    # Neither reaches the database: PostgreSQL stores no NUL, and a lone surrogate is no UTF-8.
    if "\x00" in text:
        raise RowError("", _("contains a NUL character"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise RowError("", _("is not valid Unicode text")) from None
    return text


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise BodyUnreadable(_("%(what)s is not valid JSON (%(error)s)") % {"what": what, "error": error}) from None


def _bounded(count: int) -> None:
    if count > max_entries():
        raise BodyUnreadable(
            _("%(count)s entries in one push; at most %(max)s are accepted") % {"count": count, "max": max_entries()}
        )


def _entry(ref: str, build) -> Entry:
    try:
        return ref, build()
    except RowError as error:
        return ref, error


def generic_entries(body: str, vocabulary: Vocabulary) -> list[Entry]:
    """A JSON array of objects named like the `import_events` columns."""
    items = _json(body, _("the body"))
    if not isinstance(items, list):
        raise BodyUnreadable(_("the body must be a JSON array of events"))
    _bounded(len(items))

    def row(item) -> dict[str, str]:
        if not isinstance(item, dict):
            raise RowError("", _("not a JSON object"))
        row = {name: _text(item.get(name)) for name in IMPORT_EVENT_FIELDS}
        row["carrier_code"] = vocabulary.carrier(row["carrier_code"])
        return row

    return [_entry(f"[{index}]", lambda item=item: row(item)) for index, item in enumerate(items)]


def kuaidi100_entries(body: str, vocabulary: Vocabulary) -> list[Entry]:
    """Form field `param`: `{"lastResult": {"com", "nu", "data": [{"time", "context", "status", "areaName"}]}}`."""
    fields = form_fields(body) or {}
    push = _json(fields.get("param") or "", "param")
    last = push.get("lastResult") if isinstance(push, dict) else None
    nodes = last.get("data") if isinstance(last, dict) else None
    if not isinstance(nodes, list):
        raise BodyUnreadable(_("param has no lastResult.data list"))
    _bounded(len(nodes))

    def row(node) -> dict[str, str]:
        if not isinstance(node, dict):
            raise RowError("", _("not a JSON object"))
        return {
            "carrier_code": vocabulary.carrier(_text(last.get("com"))),
            "tracking_no": _text(last.get("nu")),
            "code": vocabulary.code(_text(node.get("status"))),
            "occurred_at": _text(node.get("time") or node.get("ftime")),
            "location": _text(node.get("areaName")),
            "description": _text(node.get("context")),
            "outlet_code": "",
        }

    return [_entry(f"lastResult.data[{index}]", lambda node=node: row(node)) for index, node in enumerate(nodes)]


def kdniao_entries(body: str, vocabulary: Vocabulary) -> list[Entry]:
    """Form fields `RequestType=101`, `RequestData`: `{"EBusinessID", "Data": [{"ShipperCode",
    "LogisticCode", "Traces": [{"AcceptTime", "AcceptStation", "Location", "Action"}]}]}`."""
    fields = form_fields(body) or {}
    if (fields.get("RequestType") or "").strip() != "101":
        raise BodyUnreadable(_("RequestType must be 101 (track push)"))
    data = _kdniao_request(fields).get("Data")
    if not isinstance(data, list):
        raise BodyUnreadable(_("RequestData has no Data list"))
    shipments = [s if isinstance(s, dict) else {} for s in data]
    _bounded(sum(len(s.get("Traces") or []) if isinstance(s.get("Traces"), list) else 1 for s in shipments))

    def row(shipment, trace) -> dict[str, str]:
        if not isinstance(trace, dict):
            raise RowError("", _("not a JSON object"))
        return {
            "carrier_code": vocabulary.carrier(_text(shipment.get("ShipperCode"))),
            "tracking_no": _text(shipment.get("LogisticCode")),
            "code": vocabulary.code(_text(trace.get("Action"))),
            "occurred_at": _text(trace.get("AcceptTime")),
            "location": _text(trace.get("Location")),
            "description": _text(trace.get("AcceptStation")),
            "outlet_code": "",
        }

    entries: list[Entry] = []
    for number, shipment in enumerate(shipments):
        traces = shipment.get("Traces")
        if not isinstance(traces, list):
            entries.append((f"Data[{number}]", RowError("Traces", _("must be a list of traces"))))
            continue
        entries.extend(
            _entry(f"Data[{number}].Traces[{index}]", lambda s=shipment, t=trace: row(s, t))
            for index, trace in enumerate(traces)
        )
    return entries


def _kdniao_request(fields: dict[str, str]) -> dict:
    request = _json(fields.get("RequestData") or "", "RequestData")
    if not isinstance(request, dict):
        raise BodyUnreadable(_("RequestData must be a JSON object"))
    return request


def kdniao_business_id(body: str) -> str:
    """The EBusinessID kdniao expects back in the answer ("" when the body does not say)."""
    try:
        return _text(_kdniao_request(form_fields(body) or {}).get("EBusinessID"))
    except (BodyUnreadable, RowError):
        return ""


PARSERS = {
    SourceKind.GENERIC: generic_entries,
    SourceKind.KUAIDI100: kuaidi100_entries,
    SourceKind.KDNIAO: kdniao_entries,
}


def push_entries(*, kind: str, body: str, vocabulary: Vocabulary) -> list[Entry]:
    return PARSERS[kind](body, vocabulary)
