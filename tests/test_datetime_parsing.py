"""parse_datetime must accept every RFC 3339 form on every supported Python (3.10 included)."""

from datetime import datetime, timezone

import pytest

from exalsius_jupyter.model.workspace import parse_datetime

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01T00:00:00Z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("1963-09-17T07:51:30.0Z", datetime(1963, 9, 17, 7, 51, 30, tzinfo=UTC)),
        ("2025-01-01T00:00:00.12Z", datetime(2025, 1, 1, 0, 0, 0, 120000, tzinfo=UTC)),
        ("2025-01-01T00:00:00.123456789Z", datetime(2025, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2025-01-01T02:00:00+02:00", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T02:00:00+0200", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01t00:00:00z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T00:00:00", datetime(2025, 1, 1, tzinfo=UTC)),
    ],
)
def test_rfc3339_forms(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("junk", ["", "yesterday", "2025-13-01T00:00:00Z", None, 5])
def test_junk_is_none(junk: object) -> None:
    assert parse_datetime(junk) is None
