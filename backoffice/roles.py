"""The two roles of DESIGN.md ("People"): which model permissions each group holds, for all three apps.

`ROLES` maps a group's name to its permissions as "app_label.codename". The data migration
`backoffice/migrations/0001_roles.py` grants them with `grant_roles`; it only adds, so a permission
an administrator gave a group by hand is kept, and running it again changes nothing. A permission
taken away from a role here needs its own migration that removes it from existing databases.
"""

VIEW_ALL = [
    f"{app}.view_{model}"
    for app, models in (
        ("fulfillment", ("shop", "carrier", "carrieroutlet", "order", "parcel", "trackingevent", "region",
                         "holiday", "importrun")),
        ("pickups", ("consolidationbag", "bagitem", "handoversheet", "handoveritem", "pickupcoverage", "transition")),
        ("monitoring", ("slapolicy", "routestandard", "alert", "stagnationticket", "complaint")),
    )
    for model in models
]

FIRST_ROLES: dict[str, list[str]] = {
    # Clerks: bags and sheets (create, scan, seal, book, confirm pickup, cancel), parcels ready to
    # ship; read the parcels and the pickups, not the alerts.
    "Warehouse": [p for p in VIEW_ALL if not p.startswith("monitoring.")]
    + [
        "fulfillment.mark_ready_to_ship_parcel",
        "pickups.add_consolidationbag",
        "pickups.change_consolidationbag",
        "pickups.seal_consolidationbag",
        "pickups.add_bagitem",
        "pickups.delete_bagitem",
        "pickups.add_handoversheet",
        "pickups.change_handoversheet",
        "pickups.cancel_handoversheet",
        "pickups.confirm_pickup_handoversheet",
        "pickups.add_handoveritem",
    ],
    # Managers: read everything, edit thresholds and reference data, answer tickets, resolve alerts,
    # dashboards and claim evidence. Cancelling a sheet is the warehouse's, unless given explicitly.
    "Managers": VIEW_ALL
    + [
        "monitoring.change_slapolicy",
        "monitoring.add_routestandard",
        "monitoring.change_routestandard",
        "monitoring.change_alert",
        "monitoring.resolve_alert",
        "monitoring.view_dashboard",
        "monitoring.change_stagnationticket",
        "monitoring.answer_stagnationticket",
        "monitoring.change_complaint",
        "fulfillment.add_holiday",
        "fulfillment.change_holiday",
        "fulfillment.add_region",
        "fulfillment.change_region",
        "pickups.export_claim_evidence",
    ],
}

# Permissions added to the roles later, each batch granted by its own migration (the first roles
# migration ran before their models existed): {migration name: {group: permissions}}.
ADDED_ROLES: dict[str, dict[str, list[str]]] = {
    # Sending a courier outlet its stalled parcels from the scorecard, and reading what was sent.
    "0002_outlet_sends": {
        "Managers": ["notifications.view_outletdispatch", "notifications.send_outletdispatch"],
    },
    "0003_shop_alert_roles": {
        "Managers": [
            "monitoring.view_shopalert",
            "monitoring.change_shopalert",
            "monitoring.review_shopalert",
            "monitoring.view_orderspikethreshold",
            "monitoring.change_orderspikethreshold",
        ],
    },
}


def _merged() -> dict[str, list[str]]:
    roles = {name: list(perms) for name, perms in FIRST_ROLES.items()}
    for batch in ADDED_ROLES.values():
        for name, perms in batch.items():
            roles.setdefault(name, []).extend(perms)
    return roles


ROLES: dict[str, list[str]] = _merged()


def grant_roles(group_model, permission_model, roles: dict[str, list[str]] | None = None) -> None:
    """Create the groups of `roles` (default `ROLES`) and add each its permissions (historical models
    in a migration, the real ones where a test flushed the database). A permission that does not
    exist is an error."""
    for name, perms in (ROLES if roles is None else roles).items():
        group, _created = group_model.objects.get_or_create(name=name)
        wanted = [tuple(p.split(".", 1)) for p in perms]
        found = {
            (p.content_type.app_label, p.codename): p
            for p in permission_model.objects.select_related("content_type").filter(
                codename__in=[codename for _app, codename in wanted]
            )
        }
        missing = [".".join(key) for key in wanted if key not in found]
        if missing:
            raise LookupError(f"Role {name}: no such permission {', '.join(missing)}")
        group.permissions.add(*(found[key] for key in wanted))
