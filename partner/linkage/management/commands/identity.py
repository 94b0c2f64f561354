"""partner identity encode: pseudonyms and linkage encodings from a CSV of identities, at the node.

The identities (names, date of birth) never leave the node: the output holds only the local id, the
pseudonym and the Bloom-filter encoding. Needs the keys of the settings and nothing else: no network,
no database.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from partner.accounts.countries import is_country
from partner.cases.models import Sex
from partner.lib.pseudonym import Identity, normalise_name, pseudonym
from partner.linkage.encoding import REGISTRY_SCHEMA, Encoder, to_text

COLUMNS = ("given_names", "family_names", "date_of_birth", "sex", "country_of_birth")
OUTPUT = ("local_id", "pseudonym", "encoding", "schema_version")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Errors listed before the rest are only counted.
SHOWN_ERRORS = 20


class BadRow(ValueError):
    """What is wrong with a row: (column, message) for each value that cannot be used."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{column}: {message}" for column, message in problems))
        self.problems = problems


def identity_from_row(row: dict[str, str | None], today: dt.date) -> Identity:
    """The identity a CSV row describes, or BadRow naming every column whose value cannot be used."""
    values = {column: (row.get(column) or "").strip() for column in COLUMNS}
    problems = [(column, "empty") for column in ("given_names", "family_names") if not normalise_name(values[column])]
    born = values["date_of_birth"]
    date_of_birth = None
    if not _ISO_DATE.fullmatch(born):
        problems.append(("date_of_birth", f"{born!r} is not a date written YYYY-MM-DD"))
    else:
        try:
            date_of_birth = dt.date.fromisoformat(born)
        except ValueError:
            problems.append(("date_of_birth", f"{born!r} is not a date that exists"))
    if date_of_birth is not None and date_of_birth > today:
        problems.append(("date_of_birth", f"{born} is after today"))
    sex = values["sex"].lower()
    if sex not in Sex.values:
        problems.append(("sex", f"{values['sex']!r} is not one of {', '.join(Sex.values)}"))
    country = values["country_of_birth"]
    if not is_country(country):
        problems.append(("country_of_birth", f"{country!r} is not an ISO 3166 country code, e.g. IT"))
    if problems or date_of_birth is None:
        raise BadRow(problems)
    return Identity(values["given_names"], values["family_names"], date_of_birth, sex, country.upper())


class Command(BaseCommand):
    help = (
        "Work with identifying data at a national node, where it stays. `encode` reads identities from a "
        "CSV and writes, for each, the pseudonym and the Bloom-filter linkage encoding the registry "
        "compares; names and dates of birth are not written."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        encode = sub.add_parser(
            "encode",
            help="pseudonyms and linkage encodings from a CSV of identities",
            description=(
                "Read a CSV (UTF-8, comma-separated, header row) with the columns "
                f"{', '.join(COLUMNS)} and optionally local_id; date_of_birth is YYYY-MM-DD, sex one of "
                f"{', '.join(Sex.values)}, country_of_birth a two-letter ISO 3166 code. Write a CSV with "
                f"the columns {', '.join(OUTPUT)}. Nothing is written unless every row is valid."
            ),
        )
        encode.add_argument("input", type=Path, metavar="IN.csv", help="the identities, one child per row")
        encode.add_argument(
            "--out",
            type=Path,
            required=True,
            metavar="OUT.csv",
            help="where to write the local ids, pseudonyms and encodings (replaced if it exists)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["input"]
        target: Path = options["out"]
        if target.resolve() == source.resolve():
            raise CommandError(f"{target}: the output would replace the identities it is made from")
        rows = self._read(source)
        self._write(target, rows)
        self.stdout.write(
            f"{len(rows)} identities from {source} encoded into {target} (schema {REGISTRY_SCHEMA.version})"
        )

    def _read(self, source: Path) -> list[tuple[str, Identity]]:
        """Every row checked first: one bad row stops the command before anything is written."""
        today = dt.date.today()
        rows: list[tuple[str, Identity]] = []
        errors: list[str] = []
        try:
            with source.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
                if missing:
                    raise CommandError(f"{source}: missing column {', '.join(missing)} in the header row")
                # Numbered as a spreadsheet shows them: the header is row 1.
                for number, row in enumerate(reader, start=2):
                    try:
                        rows.append(((row.get("local_id") or "").strip(), identity_from_row(row, today)))
                    except BadRow as exc:
                        errors += [f"{source}, row {number}, {column}: {message}" for column, message in exc.problems]
        except OSError as exc:
            raise CommandError(f"{source}: cannot read the file ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise CommandError(f"{source}: not UTF-8 text; save the CSV as UTF-8") from None
        except csv.Error as exc:
            raise CommandError(f"{source}: not a readable CSV ({exc})") from None
        if errors:
            more = len(errors) - SHOWN_ERRORS
            shown = errors[:SHOWN_ERRORS] + ([f"... and {more} more"] if more > 0 else [])
            raise CommandError("nothing written, the input has errors:\n" + "\n".join(shown))
        return rows

    def _write(self, target: Path, rows: list[tuple[str, Identity]]) -> None:
        """Into a temporary file beside the target, renamed over it only once complete."""
        temporary: Path | None = None
        progress = tqdm(rows, desc="encoding", unit="identity", disable=not sys.stderr.isatty())
        encoder = Encoder(settings.LINKAGE_KEY)
        try:
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", newline="", dir=target.parent, prefix=f".{target.name}.", delete=False
            ) as handle:
                temporary = Path(handle.name)
                writer = csv.writer(handle)
                writer.writerow(OUTPUT)
                for local_id, identity in progress:
                    encoding = to_text(encoder.encode_identity(identity))
                    key = pseudonym(identity, settings.PSEUDONYM_KEY)
                    writer.writerow((local_id, key, encoding, REGISTRY_SCHEMA.version))
            os.replace(temporary, target)
        except BaseException as exc:
            if temporary is not None:
                temporary.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise CommandError(f"{target}: cannot write the file ({exc.strerror})") from None
            raise
        finally:
            progress.close()
