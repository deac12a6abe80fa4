"""Format models of ``TO_CHAR``, ``TO_TIMESTAMP`` and ``TO_DATE`` (PostgreSQL and Oracle
style: ``'YYYY-MM-DD HH24:MI:SS'``).

A format is split once into elements (cached per format text): each is a field
(``YYYY``, ``MM``, ``HH24`` ...), a literal run of separators (anything but letters
and digits), or ``"quoted text"``. A letter sequence that is no element is a
:class:`~pycql.errors.DataError` naming it. Values are epoch milliseconds (UTC).

>>> ms = parse("2026-05-14 13:45:56.789", "YYYY-MM-DD HH24:MI:SS.MS")
>>> format_ms(ms, "Dy DD Mon YYYY HH12:MI:SS.FF3 AM, Q\\"Q\\"")
'Thu 14 May 2026 01:45:56.789 PM, 2Q'
>>> format_ms(ms, "YYYY-MM-DD\\"T\\"HH24:MI:SS")
'2026-05-14T13:45:56'
"""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache

from pycql.errors import DataError

_EPOCH = _dt.datetime(1970, 1, 1)

#: The field elements, longest first where one is a prefix of another.
ELEMENTS = (
    "YYYY", "YYY", "YY", "MONTH", "MON", "MM", "DDD", "DD", "DAY", "DY", "D", "HH24", "HH12",
    "HH", "MI", "SS", "MS", "US", "FF1", "FF2", "FF3", "FF4", "FF5", "FF6", "FF", "AM", "PM",
    "A.M.", "P.M.", "Q", "IW", "WW",
)
_ELEMENT = re.compile("|".join(re.escape(e) for e in ELEMENTS), re.IGNORECASE)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: One element of a format: (field name upper case, as written) or (None, literal text).
Element = tuple[str | None, str]


@lru_cache(maxsize=256)
def elements(fmt: str) -> tuple[Element, ...]:
    """The elements of ``fmt``.

    >>> elements('YYYY-Mon "at"')
    (('YYYY', 'YYYY'), (None, '-'), ('MON', 'Mon'), (None, ' '), (None, 'at'))
    """
    out: list[Element] = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == '"':
            end = fmt.find('"', i + 1)
            if end < 0:
                raise DataError(f"unterminated quoted text in the format {fmt!r}")
            out.append((None, fmt[i + 1:end]))
            i = end + 1
            continue
        m = _ELEMENT.match(fmt, i)
        if m is not None:
            out.append((m.group(0).upper(), m.group(0)))
            i = m.end()
            continue
        if ch.isalnum():
            j = i
            while j < len(fmt) and fmt[j].isalnum():
                j += 1
            raise DataError(f"unsupported format element {fmt[i:j]!r} in the format {fmt!r} "
                            f"(supported: {', '.join(ELEMENTS)})")
        out.append((None, ch))
        i += 1
    return tuple(out)


def _cased(text: str, written: str) -> str:
    """A month or day name in the case its element was written in (MON, Mon, mon)."""
    if written.isupper():
        return text.upper()
    if written.islower():
        return text.lower()
    return text


def format_ms(ms: int, fmt: str) -> str:
    """``TO_CHAR(t, fmt)``: the DATE/TIMESTAMP ``ms`` written as ``fmt`` says."""
    d = _EPOCH + _dt.timedelta(milliseconds=ms)
    parts: list[str] = []
    for name, written in elements(fmt):
        if name is None:
            parts.append(written)
        elif name == "YYYY":
            parts.append(f"{d.year:04d}")
        elif name == "YYY":
            parts.append(f"{d.year % 1000:03d}")
        elif name == "YY":
            parts.append(f"{d.year % 100:02d}")
        elif name == "MONTH":
            parts.append(_cased(_MONTHS[d.month - 1], written))
        elif name == "MON":
            parts.append(_cased(_MONTHS[d.month - 1][:3], written))
        elif name == "MM":
            parts.append(f"{d.month:02d}")
        elif name == "DDD":
            parts.append(f"{d.timetuple().tm_yday:03d}")
        elif name == "DD":
            parts.append(f"{d.day:02d}")
        elif name == "DAY":
            parts.append(_cased(_DAYS[d.weekday()], written))
        elif name == "DY":
            parts.append(_cased(_DAYS[d.weekday()][:3], written))
        elif name == "D":
            parts.append(str(d.isoweekday() % 7 + 1))  # Sunday = 1
        elif name == "HH24":
            parts.append(f"{d.hour:02d}")
        elif name in ("HH12", "HH"):
            parts.append(f"{(d.hour - 1) % 12 + 1:02d}")
        elif name == "MI":
            parts.append(f"{d.minute:02d}")
        elif name == "SS":
            parts.append(f"{d.second:02d}")
        elif name in ("MS", "FF3"):
            parts.append(f"{ms % 1000:03d}")
        elif name in ("US", "FF6", "FF"):
            parts.append(f"{ms % 1000:03d}000")
        elif name.startswith("FF"):
            parts.append(f"{ms % 1000:03d}000"[: int(name[2:])])
        elif name in ("AM", "PM", "A.M.", "P.M."):
            mark = "AM" if d.hour < 12 else "PM"
            if "." in name:
                mark = f"{mark[0]}.{mark[1]}."
            parts.append(mark if written[0].isupper() else mark.lower())
        elif name == "Q":
            parts.append(str((d.month - 1) // 3 + 1))
        elif name == "IW":
            parts.append(f"{d.isocalendar()[1]:02d}")
        elif name == "WW":
            parts.append(f"{(d.timetuple().tm_yday - 1) // 7 + 1:02d}")
    return "".join(parts)


_PATTERNS = {
    "YYYY": r"(\d{4})", "YYY": r"(\d{3})", "YY": r"(\d{2})", "MM": r"(\d{1,2})",
    "MONTH": r"([A-Za-z]+)", "MON": r"([A-Za-z]{3})", "DDD": r"(\d{1,3})", "DD": r"(\d{1,2})",
    "DAY": r"[A-Za-z]+", "DY": r"[A-Za-z]{3}", "D": r"\d", "HH24": r"(\d{1,2})",
    "HH12": r"(\d{1,2})", "HH": r"(\d{1,2})", "MI": r"(\d{1,2})", "SS": r"(\d{1,2})",
    "MS": r"(\d{1,3})", "US": r"(\d{1,6})", "AM": r"([AaPp][Mm])", "PM": r"([AaPp][Mm])",
    "A.M.": r"([AaPp]\.[Mm]\.)", "P.M.": r"([AaPp]\.[Mm]\.)",
}


@lru_cache(maxsize=256)
def _parser(fmt: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    regex: list[str] = []
    fields: list[str] = []
    for name, written in elements(fmt):
        if name is None:
            # a run of white space matches any run of it (PostgreSQL is as lenient)
            regex.append(r"\s+" if written.isspace() else re.escape(written))
            continue
        if name.startswith("FF"):
            regex.append(r"(\d{1,%s})" % (name[2:] or "9"))
        elif name in ("Q", "IW", "WW"):
            raise DataError(f"the format element {written!r} cannot be parsed "
                            f"(TO_TIMESTAMP, TO_DATE)")
        else:
            regex.append(_PATTERNS[name])
        if "(" in regex[-1]:
            fields.append(name)
    return re.compile("".join(regex), re.IGNORECASE), tuple(fields)


def parse(text: str, fmt: str) -> int:
    """``TO_TIMESTAMP(text, fmt)``: epoch milliseconds (:class:`DataError` if ``text`` does
    not follow ``fmt`` or is no valid time); absent fields are the start of their range
    (January, the 1st, midnight), the year 1970 if none."""
    regex, fields = _parser(fmt)
    m = regex.fullmatch(text.strip())
    if m is None:
        raise DataError(f"{text!r} does not match the format {fmt!r}")
    year, month, day, hour, minute, second, micros = 1970, 1, 1, 0, 0, 0, 0
    doy: int | None = None
    pm: bool | None = None
    for name, value in zip(fields, m.groups(), strict=True):
        if name in ("YYYY", "YYY"):
            year = int(value)
        elif name == "YY":
            year = 2000 + int(value) if int(value) < 70 else 1900 + int(value)
        elif name == "MM":
            month = int(value)
        elif name in ("MONTH", "MON"):
            names = [n.upper() if name == "MONTH" else n[:3].upper() for n in _MONTHS]
            if value.upper() not in names:
                raise DataError(f"{value!r} is no month name (in {text!r})")
            month = names.index(value.upper()) + 1
        elif name == "DD":
            day = int(value)
        elif name == "DDD":
            doy = int(value)
        elif name in ("HH24", "HH12", "HH"):
            hour = int(value)
            if name != "HH24" and not 1 <= hour <= 12:
                raise DataError(f"hour {hour} is not in 1 to 12 (in {text!r})")
        elif name == "MI":
            minute = int(value)
        elif name == "SS":
            second = int(value)
        elif name == "MS":
            micros = int(value.ljust(3, "0")) * 1000
        elif name == "US":
            micros = int(value.ljust(6, "0"))
        elif name.startswith("FF"):
            micros = int(value.ljust(9, "0")[:6])
        else:  # AM/PM
            pm = value[0].upper() == "P"
    if pm is not None and hour <= 12:
        hour = hour % 12 + (12 if pm else 0)
    try:
        d = _dt.datetime(year, month, day, hour, minute, second, micros)
        if doy is not None:
            d = _dt.datetime(year, 1, 1, hour, minute, second, micros) + _dt.timedelta(doy - 1)
    except (ValueError, OverflowError) as exc:
        raise DataError(f"{text!r} is no valid time ({exc})") from None
    delta = d - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
