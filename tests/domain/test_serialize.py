"""visit_to_json is the inverse of the parser."""

from __future__ import annotations

import json

from hypothesis import given, settings

from rehabill.domain import Visit, parse_visits, visit_to_json
from tests.strategies import visits


@settings(max_examples=200)
@given(visits)
def test_property__parse_of_serialize_is_identity(visit: Visit) -> None:
    data = json.loads(json.dumps(visit_to_json(visit)))
    result = parse_visits([data])
    assert result.findings == []
    assert result.visits == [visit]
