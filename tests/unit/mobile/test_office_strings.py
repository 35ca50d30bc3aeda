"""The office's strings: one text per key across its tables. (A key defined in two of them
made the audit log's button read "Export CSV: {table}" and its notice "Exported {name}":
the monitoring pages' words won.)"""

from __future__ import annotations

import pytest

from mobile.office import i18n
from mobile.office.i18n import t


def test_the_audit_and_the_monitoring_exports_say_their_own_words() -> None:
    assert t("export_csv", "en") == "Export CSV"
    assert t("export_csv", "zh") == "导出 CSV"
    assert t("exported", "en", n=2048) == "Exported 2048 bytes"
    assert t("mon_export_csv", "zh", table="线损") == "导出 CSV：线损"
    assert t("mon_exported", "en", name="loss.csv") == "Exported loss.csv"


def test_a_key_defined_again_with_other_words_is_refused(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setattr(i18n, "STRINGS", dict(i18n.STRINGS))
    before = dict(i18n.STRINGS)
    with pytest.raises(ValueError, match="export_csv"):
        i18n._add({"brand_new": ("新", "New"), "export_csv": ("导出", "Export: {table}")})
    assert before == i18n.STRINGS  # nothing of the refused table was added
    i18n._add({"export_csv": before["export_csv"], "brand_new": ("新", "New")})
    assert i18n.STRINGS["brand_new"] == ("新", "New")  # the same words again are fine
