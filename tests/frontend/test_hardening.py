"""Issue 15, item 3: $top takes ASCII digits only, bounded (item 4, duplicates: test_duplicates.py)."""

from __future__ import annotations

import pytest

from tests.frontend.helpers import Arm, error_of, new_sub, rg_list_path


@pytest.mark.parametrize("top", ["²", "٥", "1" * 4400, "0", "1001", "-1", "+5", " 5"])
def test_top_takes_ascii_digits_only(arm: Arm, top: str) -> None:
    sub = new_sub()
    r = arm.get(rg_list_path(sub, "rg"), params={"$top": top})
    assert r.status_code == 400 and error_of(r)["code"] == "InvalidParameter" and error_of(r)["target"] == "$top"
    r = arm.get("/admin/providers/Microsoft.RedHatOpenShift/openShiftClusters", version=None, params={"$top": top})
    assert r.status_code == 400, r.text
