"""English and Simplified Chinese ship (CONVENTIONS.md): the switch works and the catalog is complete."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db

PO_FILE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def switch_language(client, code: str):
    return client.post(reverse("set_language"), {"language": code, "next": reverse("admin:index")})


def test_switching_to_chinese_shows_chinese_admin_labels(manager_client):
    response = switch_language(manager_client, "zh-hans")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")

    html = manager_client.get(reverse("admin:index")).content.decode()

    assert '<html lang="zh-hans"' in html
    assert "包裹管控" in html  # the site header
    assert ">包裹<" in html  # the Parcel model in the app list
    assert "订单履约" in html  # the fulfillment app


def test_switching_back_to_english(manager_client):
    switch_language(manager_client, "zh-hans")
    switch_language(manager_client, "en")

    html = manager_client.get(reverse("admin:index")).content.decode()

    assert "Parcel Control" in html
    assert "包裹管控" not in html


def test_language_switch_is_in_the_user_tools_and_on_the_login_page(manager_client, client):
    html = manager_client.get(reverse("admin:index")).content.decode()
    user_tools = html[html.index('id="user-tools"') :]
    assert f'action="{reverse("set_language")}"' in user_tools
    assert 'value="zh-hans"' in user_tools and "简体中文" in user_tools
    assert 'value="en"' in user_tools

    client.logout()
    login_page = client.get(reverse("admin:login")).content.decode()
    assert 'value="zh-hans"' in login_page


def test_admin_pages_show_chinese_field_labels_after_the_switch(manager_client):
    from fulfillment.tests.factories import ParcelFactory

    parcel = ParcelFactory(shipped=True)
    switch_language(manager_client, "zh-hans")

    html = manager_client.get(reverse("admin:fulfillment_parcel_change", args=[parcel.pk])).content.decode()

    assert "运单号" in html
    assert "已发货（已上传运单号）" in html  # the status, shown read-only


def _po_entries(path: Path):
    """(msgctxt, msgid, msgid_plural, msgstrs, flags) of every active entry; a small gettext catalog reader."""
    entries, current, key, flags = [], None, None, set()

    def finish():
        if current is not None and current.get("msgid"):
            entries.append(
                (current.get("msgctxt"), current["msgid"], current.get("msgid_plural"), current["msgstr"], flags)
            )

    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            finish()
            current, key, flags = None, None, set()
        elif line.startswith("#,"):
            flags = {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if key == "msgstr":
                current["msgstr"][-1] += value
            else:
                current[key] += value
        else:
            keyword, _, literal = line.partition(" ")
            current = current or {"msgstr": []}
            if keyword.startswith("msgstr"):
                key = "msgstr"
                current["msgstr"].append(ast.literal_eval(literal))
            else:
                key = keyword
                current[key] = ast.literal_eval(literal)
    return entries


def test_every_message_of_the_catalog_is_translated_and_compiled():
    entries = _po_entries(PO_FILE)
    assert len(entries) > 100

    untranslated = [msgid for _ctx, msgid, _plural, msgstrs, flags in entries if not all(msgstrs) or "fuzzy" in flags]
    assert untranslated == []

    # The .mo is compiled from this .po: every translation is what gettext returns.
    stale = []
    with translation.override("zh-hans"):
        for context, msgid, plural, msgstrs, _flags in entries:
            if context:
                got = (
                    translation.npgettext(context, msgid, plural, 1) if plural else translation.pgettext(context, msgid)
                )
            else:
                got = translation.ngettext(msgid, plural, 1) if plural else translation.gettext(msgid)
            if got != msgstrs[0]:
                stale.append(msgid)
    assert stale == []
