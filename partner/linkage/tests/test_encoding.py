"""The Bloom-filter encoder: deterministic under a key, unrelated under another, balanced, hardened."""

import datetime as dt
import hashlib
import itertools

import pytest
from bitarray import bitarray

from partner.lib.pseudonym import Identity
from partner.linkage.encoding import (
    REGISTRY_SCHEMA,
    Encoder,
    FieldSpec,
    Schema,
    encode_identity,
    encode_record,
    from_text,
    to_text,
)
from partner.linkage.matching import REVIEW_THRESHOLD, dice

KEY = b"a fixed key, for tests only, 32+ bytes"
GIULIA = Identity("Giulia", "Rossetti", dt.date(2012, 5, 4), "female", "IT")


def test_the_same_identity_and_key_always_give_the_same_encoding():
    # Pinned: an encoder that changed without a new schema version would stop matching stored encodings.
    text = to_text(encode_identity(GIULIA, KEY))
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "24fecb02544dcee9d09e5448d3857a7ca17faf7f06cfffd3fabd651889bd28a7"
    )
    assert to_text(encode_identity(GIULIA, KEY)) == text


def test_an_encoder_for_many_records_gives_what_one_record_at_a_time_gives():
    # Its cache is keyed by field and token: the same bigram in the names and in another field, or a
    # day and a month with the same digits, must still set each field's own bits.
    people = [
        GIULIA,
        Identity("Anna", "Annan", dt.date(2011, 11, 11), "female", "IT"),
        Identity("Rossetti", "Giulia", dt.date(2012, 4, 5), "male", "FR"),
        Identity("Giulia", "Rossetti", dt.date(2012, 5, 4), "female", "IT"),
    ]
    encoder = Encoder(KEY)
    assert [encoder.encode_identity(p) for p in people] == [encode_identity(p, KEY) for p in people]
    assert encoder.encode_identity(people[0]) == encoder.encode_identity(people[3])
    other = Encoder(b"another key, also for tests, 32 bytes")
    assert other.encode_identity(GIULIA) != encoder.encode_identity(GIULIA)
    with pytest.raises(ValueError, match="too short"):
        Encoder(b"short")


def test_it_encodes_the_values_the_pseudonym_is_derived_from():
    assert encode_identity(GIULIA, KEY) == encode_record(GIULIA.normalised_fields(), KEY)
    typed = {
        "given_names": "giulia",
        "family_names": " ROSSETTI ",
        "date_of_birth": "2012-05-04",
        "sex": "f",
        "country_of_birth": "it",
    }
    assert encode_record(typed, KEY) == encode_identity(GIULIA, KEY)


def test_another_key_gives_an_unrelated_encoding():
    other = encode_identity(GIULIA, b"another key, for tests only, 32+ bytes")
    assert dice(encode_identity(GIULIA, KEY), other) < 0.6 < REVIEW_THRESHOLD


def test_another_schema_version_gives_an_unrelated_encoding():
    bumped = Schema(REGISTRY_SCHEMA.fields, version=REGISTRY_SCHEMA.version + "-next")
    assert dice(encode_identity(GIULIA, KEY), encode_identity(GIULIA, KEY, bumped)) < 0.6


@pytest.mark.parametrize(
    "values",
    [
        GIULIA.normalised_fields(),
        {"given_names": "Maria Chiara Benedetta", "family_names": "Dell'Acqua Łukasik de la Fuente"},
        {"date_of_birth": "2019-12-31"},
        {},
    ],
)
def test_every_balanced_encoding_has_the_same_weight(values):
    bits = encode_record(values, KEY)
    assert len(bits) == 2 * REGISTRY_SCHEMA.length
    assert bits.count() == REGISTRY_SCHEMA.length


UNBALANCED = Schema(
    (FieldSpec("given_names", hashes=10), FieldSpec("family_names", hashes=10)), balanced=False, version="test"
)


def test_missing_values_set_no_bits():
    assert encode_record({"given_names": None, "family_names": "  "}, KEY, UNBALANCED).count() == 0
    assert encode_record({"given_names": "Anna"}, KEY, UNBALANCED) == encode_record(
        {"given_names": "Anna", "family_names": None}, KEY, UNBALANCED
    )


def test_the_same_name_in_two_fields_sets_unrelated_bits():
    as_given = encode_record({"given_names": "Anna"}, KEY, UNBALANCED)
    as_family = encode_record({"family_names": "Anna"}, KEY, UNBALANCED)
    assert as_given.count() > 30
    assert (as_given & as_family).count() <= 5  # only chance collisions among 1,024 bits


def test_each_position_of_a_token_comes_from_its_own_hash():
    # Double hashing places a token's positions at g1 + i*g2 (mod the length): sorted, they leave at most
    # three distinct gaps (the three-gap theorem), a pattern one can look for.
    single = Schema((FieldSpec("family_names", hashes=12, kind="token"),), balanced=False, version="test")
    positions = list(encode_record({"family_names": "Rossi"}, KEY, single).search(bitarray("1")))
    gaps = {b - a for a, b in itertools.pairwise(positions)}
    assert len(positions) >= 10
    assert len(gaps) > 3


def test_a_date_agrees_on_the_parts_it_shares():
    dates = Schema((FieldSpec("date_of_birth", hashes=20, kind="date"),), balanced=False, version="test")
    day = encode_record({"date_of_birth": "2012-05-04"}, KEY, dates)
    wrong_day = encode_record({"date_of_birth": "2012-05-14"}, KEY, dates)
    other = encode_record({"date_of_birth": "2016-09-21"}, KEY, dates)
    assert dice(day, wrong_day) > 0.4  # the month and the year still agree
    assert dice(day, other) < 0.25  # chance collisions only


def test_a_bad_date_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="date_of_birth: '04/05/2012' is not a date"):
        encode_record({"date_of_birth": "04/05/2012"}, KEY)


def test_a_schema_refuses_unknown_kinds_and_lengths_anonlink_cannot_compare():
    with pytest.raises(ValueError, match="kind"):
        FieldSpec("sex", hashes=2, kind="phonetic")
    with pytest.raises(ValueError, match="multiple of 8"):
        Schema((FieldSpec("sex", hashes=2),), length=1001, version="test")


def test_an_encoding_survives_a_text_column_or_a_csv_cell():
    bits = encode_identity(GIULIA, KEY)
    text = to_text(bits)
    assert text.isascii()
    assert "," not in text
    assert from_text(text) == bits
    with pytest.raises(ValueError, match="base64"):
        from_text("not an encoding!")
