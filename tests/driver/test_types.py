"""PEP 249 module globals, type objects, constructors and value conversions."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import pytest

import pycql
from pycql.driver import _types


def test_module_globals() -> None:
    assert pycql.apilevel == "2.0"
    assert pycql.threadsafety == 2
    assert pycql.paramstyle == "qmark"


def test_exceptions_are_the_pep249_hierarchy() -> None:
    from pycql import errors

    for name in errors.__all__:
        assert getattr(pycql, name) is getattr(errors, name)
    assert issubclass(pycql.ProgrammingError, pycql.DatabaseError)
    assert issubclass(pycql.DatabaseError, pycql.Error)
    assert issubclass(pycql.InterfaceError, pycql.Error)


def test_type_objects_compare_equal_to_their_sql_types() -> None:
    assert pycql.STRING == "VARCHAR" and pycql.STRING == "CHAR"
    assert pycql.NUMBER == "INTEGER" and pycql.NUMBER == "DECIMAL" and pycql.NUMBER == "DOUBLE"
    assert pycql.DATETIME == "TIMESTAMP" and pycql.DATETIME == "DATE"
    assert pycql.BINARY == "VARBINARY"
    assert pycql.STRING != "INTEGER"
    assert pycql.NUMBER != "VARCHAR"
    assert pycql.ROWID != "INTEGER"
    assert "varchar" == pycql.STRING  # reflected, any case
    assert len({pycql.STRING, pycql.NUMBER, pycql.STRING}) == 2


def test_constructors() -> None:
    assert pycql.Date(2002, 12, 25) == dt.date(2002, 12, 25)
    assert pycql.Time(13, 45, 30) == dt.time(13, 45, 30)
    assert pycql.Timestamp(2002, 12, 25, 13, 45, 30) == dt.datetime(2002, 12, 25, 13, 45, 30)
    ticks = time.mktime((2002, 12, 25, 13, 45, 30, 0, 0, -1))
    assert pycql.DateFromTicks(ticks) == dt.date(2002, 12, 25)
    assert pycql.TimeFromTicks(ticks) == dt.time(13, 45, 30)
    assert pycql.TimestampFromTicks(ticks) == dt.datetime(2002, 12, 25, 13, 45, 30)
    assert pycql.Binary(b"x") == b"x"


def test_engine_conversions_round_trip() -> None:
    stamp = dt.datetime(2024, 1, 2, 3, 4, 5, 678000)
    ms = _types.to_engine(stamp, "TIMESTAMP")
    assert ms == 1704164645678
    assert _types.from_engine(ms, "TIMESTAMP") == stamp
    aware = dt.datetime(2024, 1, 2, 4, 4, 5, 678000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert _types.to_engine(aware, "TIMESTAMP") == ms
    assert _types.to_engine(dt.date(1970, 1, 3), "DATE") == 2 * 86_400_000
    assert _types.from_engine(2 * 86_400_000, "DATE") == dt.date(1970, 1, 3)
    assert _types.to_engine(dt.time(0, 0, 1, 500000), "TIME") == 1500
    assert _types.from_engine(1500, "TIME") == dt.time(0, 0, 1, 500000)
    assert _types.to_engine(dt.timedelta(seconds=2), "INTERVAL_DAY_SECOND") == 2000
    assert _types.to_engine("2024-01-02 03:04:05.678", "TIMESTAMP") == ms
    assert _types.to_engine(None, "TIMESTAMP") is None
    assert _types.to_engine(5, "INTEGER") == 5
    assert _types.from_engine("x", "VARCHAR") == "x"


def test_bad_temporal_values_are_data_errors() -> None:
    with pytest.raises(pycql.DataError, match="not a timestamp"):
        _types.to_engine("yesterday", "TIMESTAMP")
    with pytest.raises(pycql.DataError):
        _types.to_engine(object(), "TIME")


def test_output_converters_only_for_temporal_columns() -> None:
    assert _types.output_converters(["INTEGER", "VARCHAR"]) is None
    pairs = _types.output_converters(["INTEGER", "TIMESTAMP", "DATE"])
    assert pairs is not None and [i for i, _ in pairs] == [1, 2]


def test_a_row_converter_gives_what_from_engine_gives_column_by_column() -> None:
    types = ["INTEGER", "TIMESTAMP", "VARCHAR", "DATE", "TIME", "INTERVAL_DAY_SECOND",
             "TIMESTAMP"]
    assert _types.row_converter(["INTEGER", "VARCHAR"]) is None
    convert = _types.row_converter(types)
    assert convert is not None
    rows = [(1, 1_796_326_320_123, "a", 19_000 * 86_400_000, 3_723_004, 90_061_001, None),
            (None, -1, None, 0, 0, -5, 1.5), (7, 0, "b", None, None, None, 2**40)]
    for row in rows:
        assert convert(row) == tuple(None if v is None else _types.from_engine(v, t)
                                     for v, t in zip(row, types, strict=True))
    assert convert(rows[0])[1] == dt.datetime(2026, 12, 3, 19, 32, 0, 123000)


def test_a_row_converter_says_which_value_datetime_cannot_hold() -> None:
    convert = _types.row_converter(["INTEGER", "DATE"])
    assert convert is not None
    with pytest.raises(pycql.DataError,
                       match=r"the DATE value 1000000000000000 is outside .* \(years 1 to 9999\)"):
        convert((1, 10**15))


def test_rowtime_is_utc_aware() -> None:
    assert _types.rowtime_datetime(1000) == dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.UTC)


def test_importing_pycql_starts_no_jvm() -> None:
    code = (
        "import sys, pycql\n"
        "conn = pycql.connect(); cur = conn.cursor(); conn.close()\n"
        "assert 'jpype' not in sys.modules, 'jpype imported'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
