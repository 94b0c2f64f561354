"""Bloom-filter encodings of a child's identifying data: the same child found twice, names never held.

A centre types the names, date of birth, sex and country of birth once; from them the registry keeps
a pseudonym (partner.lib.pseudonym) and this encoding, a string of bits. Two encodings of the same
child typed a little differently share most of their bits, so their Sørensen-Dice similarity
(partner.linkage.matching) stays high, while the bits tell nothing about the names to anyone without
the key.

How an encoding is made, and what each step protects against:

- Tokens. The values are normalised as for the pseudonym (`Identity.normalised_fields`: upper case,
  accents, spaces and punctuation removed). A "text" field gives the character bigrams of its value
  padded with a space at both ends ("ANNA": " A", "AN", "NN", "NA", "A "), so one wrong letter
  changes two or three bigrams out of many. A "date" field gives four tokens: the day, the month, the
  year and the whole date, so a wrong day still agrees on the month and the year. A "token" field
  gives its whole value as one token. A field with `sources` takes the bigrams of each source value
  together: the "names" field holds the bigrams of the given and the family names as one unordered
  set, identical whichever way round the two names were typed.
- Keyed hashing. Every position comes from HMAC-SHA256 under a key of its own field, derived from the
  master key as HMAC-SHA256(master, "field" | schema version | field name). The same bigram in two
  fields therefore sets unrelated bits, and nobody without the master key can rebuild a filter from a
  dictionary of names and dates, which is how an unkeyed Bloom filter is broken.
- Random hashing. Each of the k positions of a token is its own HMAC output, HMAC-SHA256(field key,
  i | token) modulo the filter length, for i = 0 .. k-1. Double hashing (positions g1 + i * g2 from
  two hashes) is not used: its arithmetic pattern lets an attacker recognise which groups of bits
  belong to one token and map frequent groups to frequent bigrams.
- Weights. k, the number of positions per token, is the field's weight (`FieldSpec.hashes`): the names
  count most, the date of birth next, sex and country little, since they agree between many children.
- Missing values set no bits: an unknown country neither agrees nor disagrees with anything.
- Balancing. The filter of `Schema.length` bits is followed by its complement, and the 2 * length
  bits are shuffled by a permutation derived from the master key (Fisher-Yates driven by
  HMAC-SHA256(master, "permutation" | version | counter)). Every encoding then has exactly `length`
  bits set: the weight of an encoding says nothing about how long the names are or which fields were
  missing. Over a whole set of encodings, each position's frequency f of being set has a partner
  position set with frequency 1 - f, at a place only the key holder knows, so the frequent positions
  cannot be taken for the bits of frequent bigrams without also knowing which half is the filter.
  (Balancing does not make frequencies uniform; the keyed hashing is what stops a dictionary attack.)
  On balanced encodings the Dice similarity is 1 - d / length, where d is the number of the filter's
  bits on which the two differ: unrelated children score around 0.5 to 0.6, not 0.

Changing the key. The master key lives only at the national nodes and the registry server, in the
file named by PARTNER_LINKAGE_KEY_FILE (settings.LINKAGE_KEY), never in code or in the database.
Encodings made under different keys never match (they are as far apart as unrelated children), so a
key change is a re-encoding at the source: every node installs the new key, runs
`partner identity encode` over its identities again (the identities stay at the node; the registry
has no names to re-encode), and the registry replaces all its encodings with those, made under a
schema whose `version` has been increased. Encodings of different versions are never compared, and
the version is part of every derived key, so an old encoding cannot be mistaken for a new one.
"""

# clkhash, the usual library for these encodings, pins a release of the `cryptography` package with
# known vulnerabilities; the encoder is small, so it is written here on the standard library's
# hmac/hashlib and `bitarray`.

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from bitarray import bitarray

from partner.lib.pseudonym import Identity, normalise_name

KINDS = ("text", "date", "token")
_PAD = " "  # never inside a normalised value, which has no spaces


@dataclass(frozen=True)
class FieldSpec:
    """One identifying field: its name, its weight (hash positions per token) and how it is tokenised.

    With `sources`, the field has no value of its own: it encodes the values of those fields together,
    as one set of tokens (see the module's documentation).
    """

    name: str
    hashes: int
    kind: str = "text"
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"field {self.name}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if not 1 <= self.hashes <= 1000:
            raise ValueError(f"field {self.name}: between 1 and 1,000 hash positions per token")


@dataclass(frozen=True)
class Schema:
    """Which fields are encoded, how heavily, into how many bits; `version` names it in stored encodings."""

    fields: tuple[FieldSpec, ...]
    length: int = 1024
    balanced: bool = True
    version: str = field(kw_only=True)

    def __post_init__(self) -> None:
        if self.length < 8 or self.length % 8:
            raise ValueError("the filter length must be a positive multiple of 8 bits")
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError("field names must be unique")
        for spec in self.fields:
            if spec.sources and spec.kind != "text":
                raise ValueError(f"field {spec.name}: only a text field can combine other fields")

    @property
    def bits(self) -> int:
        """Length of the encodings, after balancing."""
        return self.length * 2 if self.balanced else self.length


#: The registry's encoding. A weight counts per token: the names give one token per bigram (about 16
#: for a given and a family name), a date four tokens, sex and country one each. So the names set up to
#: about 430 of the 1,024 bits, the date of birth 200, sex and country 5 each. The unordered "names"
#: field carries the names' weight, so that given and family names typed the wrong way round still
#: agree; the ordered fields add a little for names typed the right way round. Any difference in the
#: date of birth costs more than a typing error in a name: another child with the same names, or a
#: wrong date, goes to a person's review rather than above the automatic threshold. The similarities
#: these weights give are measured in partner/linkage/tests/test_similarity.py.
REGISTRY_SCHEMA = Schema(
    fields=(
        FieldSpec("given_names", hashes=3),
        FieldSpec("family_names", hashes=3),
        FieldSpec("names", hashes=24, sources=("given_names", "family_names")),
        FieldSpec("date_of_birth", hashes=50, kind="date"),
        FieldSpec("sex", hashes=5, kind="token"),
        FieldSpec("country_of_birth", hashes=5, kind="token"),
    ),
    length=1024,
    balanced=True,
    version="bf1",
)


def _bigrams(word: str) -> set[str]:
    padded = f"{_PAD}{word}{_PAD}"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


def _date_tokens(name: str, value: str) -> set[str]:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None
    return {f"d{day.day:02d}", f"m{day.month:02d}", f"y{day.year:04d}", day.isoformat()}


def _tokens(spec: FieldSpec, values: Mapping[str, str | None]) -> set[str]:
    if spec.sources:
        words = [normalise_name(values.get(source) or "") for source in spec.sources]
        return set().union(*(_bigrams(w) for w in words if w))
    value = (values.get(spec.name) or "").strip()
    if not value:
        return set()
    if spec.kind == "date":
        return _date_tokens(spec.name, value)
    normalised = normalise_name(value)
    if not normalised:
        return set()
    return _bigrams(normalised) if spec.kind == "text" else {normalised}


@functools.lru_cache(maxsize=64)
def _field_key(key: bytes, version: str, name: str) -> bytes:
    return hmac.digest(key, f"field\x1f{version}\x1f{name}".encode(), hashlib.sha256)


def _positions(field_key: bytes, token: str, hashes: int, length: int) -> tuple[int, ...]:
    """HMAC-SHA256(field key, i | token) for i in 0 .. hashes-1, each reduced to a bit position."""
    keyed = hmac.new(field_key, digestmod=hashlib.sha256)
    encoded = token.encode()
    positions = []
    for i in range(hashes):
        mac = keyed.copy()  # the key already absorbed: only the message is hashed again
        mac.update(i.to_bytes(2, "big") + encoded)
        positions.append(int.from_bytes(mac.digest()[:8], "big") % length)
    return tuple(positions)


def _keyed_stream(key: bytes, label: str) -> Iterator[int]:
    """Unsigned 32-bit numbers from HMAC-SHA256 in counter mode: unpredictable without the key."""
    counter = 0
    while True:
        block = hmac.digest(key, f"{label}\x1f{counter}".encode(), hashlib.sha256)
        for offset in range(0, len(block), 4):
            yield int.from_bytes(block[offset : offset + 4], "big")
        counter += 1


@functools.lru_cache(maxsize=8)
def _permutation(key: bytes, version: str, size: int) -> tuple[int, ...]:
    """A key-derived shuffle of range(size): Fisher-Yates, each draw unbiased by rejection sampling."""
    order = list(range(size))
    stream = _keyed_stream(key, f"permutation\x1f{version}")
    for i in range(size - 1, 0, -1):
        bound = i + 1
        limit = (1 << 32) - (1 << 32) % bound
        draw = next(stream)
        while draw >= limit:
            draw = next(stream)
        j = draw % bound
        order[i], order[j] = order[j], order[i]
    return tuple(order)


class Encoder:
    """Encodes many records under one key and schema, hashing each distinct token once.

    The same few thousand bigrams, days, months, years, sexes and countries make up nearly every
    encoding, so a node encoding a whole file (`partner identity encode`) keeps their positions for
    the length of the file. The positions are kept by this object only, and go with it: a registry
    process that encodes one child at registration keeps no tokens of names in memory afterwards.
    """

    def __init__(self, key: bytes, schema: Schema = REGISTRY_SCHEMA) -> None:
        if len(key) < 16:
            raise ValueError("the linkage key is too short")
        self.key = key
        self.schema = schema
        self._field_keys = {spec.name: _field_key(key, schema.version, spec.name) for spec in schema.fields}
        self._positions: dict[tuple[str, str], tuple[int, ...]] = {}

    def encode(self, values: Mapping[str, str | None]) -> bitarray:
        """The encoding of one child's identifying values, as named by the schema's fields (see `encode_record`)."""
        schema = self.schema
        bits = bitarray(schema.length, endian="big")
        bits.setall(0)
        for spec in schema.fields:
            for token in _tokens(spec, values):
                positions = self._positions.get((spec.name, token))
                if positions is None:
                    positions = _positions(self._field_keys[spec.name], token, spec.hashes, schema.length)
                    self._positions[spec.name, token] = positions
                for position in positions:
                    bits[position] = 1
        if not schema.balanced:
            return bits
        return (bits + ~bits)[list(_permutation(self.key, schema.version, schema.bits))]

    def encode_identity(self, identity: Identity) -> bitarray:
        """The encoding of an identity, from the same normalised values the pseudonym is derived from."""
        return self.encode(identity.normalised_fields())


def encode_record(values: Mapping[str, str | None], key: bytes, schema: Schema = REGISTRY_SCHEMA) -> bitarray:
    """The encoding of one child's identifying values, as named by the schema's fields.

    Text and token values are normalised here as names are (`normalise_name`); a date is an ISO date.
    A missing or blank value sets no bits; values under names the schema does not have are ignored. Prefer
    `encode_identity`, which normalises sex and country exactly as the pseudonym does. To encode many
    records, an `Encoder` is faster.

    Raises ValueError, naming the field, for a date that is not YYYY-MM-DD.
    """
    return Encoder(key, schema).encode(values)


def encode_identity(identity: Identity, key: bytes, schema: Schema = REGISTRY_SCHEMA) -> bitarray:
    """The encoding of an identity, from the same normalised values the pseudonym is derived from."""
    return Encoder(key, schema).encode_identity(identity)


def to_text(bits: bitarray) -> str:
    """Base64 of the encoding's bytes, for a TextField or a CSV cell."""
    if len(bits) % 8:
        raise ValueError("an encoding is a whole number of bytes")
    return base64.b64encode(bits.tobytes()).decode("ascii")


def from_text(text: str) -> bitarray:
    """The encoding back from `to_text`; ValueError for text that is not base64."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except binascii.Error:
        raise ValueError("not a base64 linkage encoding") from None
    bits = bitarray(endian="big")
    bits.frombytes(raw)
    return bits
