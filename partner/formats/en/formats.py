"""English as written in Europe (en-GB): day before month, 24-hour clock.

The registry's English readers are in Europe, so Django's US defaults ("12/07/2026", "11:05 a.m.")
would be misread. Input accepts ISO first (what ``<input type="date">`` sends and shows), then
day-first forms; never month-first.
"""

DATE_FORMAT = "j F Y"  # 7 December 2026
TIME_FORMAT = "H:i"  # 14:05
DATETIME_FORMAT = "j F Y, H:i"  # 7 December 2026, 14:05
YEAR_MONTH_FORMAT = "F Y"  # December 2026
MONTH_DAY_FORMAT = "j F"  # 7 December
SHORT_DATE_FORMAT = "d/m/Y"  # 07/12/2026
SHORT_DATETIME_FORMAT = "d/m/Y H:i"  # 07/12/2026 14:05
FIRST_DAY_OF_WEEK = 1  # Monday

DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 2026-12-07
    "%d/%m/%Y",  # 07/12/2026
    "%d/%m/%y",  # 07/12/26
    "%d.%m.%Y",  # 07.12.2026
    "%d %B %Y",  # 7 December 2026
    "%d %b %Y",  # 7 Dec 2026
]
TIME_INPUT_FORMATS = ["%H:%M:%S", "%H:%M:%S.%f", "%H:%M"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S.%f",
    "%d/%m/%Y %H:%M",
    "%d/%m/%y %H:%M:%S",
    "%d/%m/%y %H:%M",
]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
