"""Polish short dates with dots (07.12.2026), as Polish readers write them (CLDR), not Django's 07-12-2026.
Every other Polish format is Django's."""

SHORT_DATE_FORMAT = "d.m.Y"  # 07.12.2026
SHORT_DATETIME_FORMAT = "d.m.Y H:i"  # 07.12.2026 14:05
