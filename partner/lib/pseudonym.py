"""Keyed pseudonyms over normalised identifying data (no Django).

The same child typed by two centres with different accents, case or spacing gets the same
pseudonym; without the key, the pseudonym reveals nothing and cannot be recomputed from a guess.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s\-'\u2019.,]+")


def normalise_name(name: str) -> str:
    """Upper case, accents and punctuation removed, particles kept: "Dell'Acqua-Łuk" -> "DELLACQUALUK"."""
    text = unicodedata.normalize("NFKD", name.replace("ß", "ss").replace("ł", "l").replace("Ł", "L"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _SEPARATORS.sub("", text).upper()


@dataclass(frozen=True)
class Identity:
    given_names: str
    family_names: str
    date_of_birth: dt.date
    sex: str
    country_of_birth: str

    def normalised_fields(self) -> dict[str, str]:
        """Each field as the pseudonym sees it; the linkage encoding hashes the same values."""
        return {
            "given_names": normalise_name(self.given_names),
            "family_names": normalise_name(self.family_names),
            "date_of_birth": self.date_of_birth.isoformat(),
            "sex": self.sex.strip().lower()[:1],
            "country_of_birth": self.country_of_birth.strip().upper(),
        }

    def normalised(self) -> str:
        fields = self.normalised_fields()
        if not fields["given_names"] or not fields["family_names"]:
            raise ValueError("given and family names are required to derive a pseudonym")
        return "|".join(fields.values())


def pseudonym(identity: Identity, key: str, domain: str = "partner") -> str:
    """HMAC-SHA256 of the normalised identity, separate for each registry domain."""
    message = f"{domain}\x1f{identity.normalised()}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
