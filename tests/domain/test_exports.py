"""The domain API is what ``rehabill.domain.__all__`` says, and every name in it exists."""

from __future__ import annotations

import rehabill.domain as domain


def test_exported_members() -> None:
    public = {name for name in dir(domain) if not name.startswith("_")}
    submodules = {"claim", "collector", "findings", "money", "npi", "parse", "pickling",
                  "serialize", "visit"}
    assert set(domain.__all__) == public - submodules
