"""How similar the encodings of the registry's schema are for the mistakes and look-alikes a registry meets.

Each claim is checked under several keys, since which bits collide depends on the key: the numbers
vary by about 0.01 from one key to another.
"""

import datetime as dt

import pytest

from partner.lib.pseudonym import Identity
from partner.linkage.encoding import encode_identity
from partner.linkage.matching import LIKELY_THRESHOLD, REVIEW_THRESHOLD, dice

KEYS = [f"fixed test key number {n} for the linkage encoder".encode() for n in range(5)]


def child(given, family, born="2012-05-04", sex="female", country="IT"):
    return Identity(given, family, dt.date.fromisoformat(born), sex, country)


def similarities(a, b):
    return [dice(encode_identity(a, key), encode_identity(b, key)) for key in KEYS]


GIULIA = child("Giulia", "Rossetti")
ZOFIA = child("Zofia", "Kowalska", country="PL")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (GIULIA, child("Giulia", "Rosetti")),
        (ZOFIA, child("Zofia", "Kowalksa", country="PL")),
        (child("Felix", "Schneider", sex="male", country="DE"), child("Felix", "Schnieder", sex="male", country="DE")),
        (child("Léa", "Moreau", country="FR"), child("Léa", "Moraeu", country="FR")),
        (child("Marco", "Bianchi", sex="male"), child("Marco", "Bianchu", sex="male")),
        (GIULIA, child("Guilia", "Rossetti")),
    ],
)
def test_a_typing_error_in_a_name_stays_above_the_automatic_threshold(first, second):
    assert min(similarities(first, second)) >= LIKELY_THRESHOLD


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (GIULIA, child("Rossetti", "Giulia")),
        (
            child("Maximilian", "Schneider", sex="male", country="DE"),
            child("Schneider", "Maximilian", sex="male", country="DE"),
        ),
        (child("Van An", "Nguyen", sex="male", country="FR"), child("Nguyen", "Van An", sex="male", country="FR")),
    ],
)
def test_given_and_family_names_typed_the_wrong_way_round_stay_above_the_automatic_threshold(first, second):
    # The unordered "names" field is identical either way round; only the light ordered fields differ.
    assert min(similarities(first, second)) >= LIKELY_THRESHOLD


def test_accents_case_and_punctuation_make_no_difference():
    assert similarities(child("Zoé", "Dell'Acqua-Łukasik"), child("ZOE", "dell acqua lukasik")) == [1.0] * len(KEYS)


def test_a_wrong_sex_or_a_missing_country_costs_little():
    assert min(similarities(GIULIA, child("Giulia", "Rossetti", sex="male"))) > 0.98
    assert min(similarities(GIULIA, child("Giulia", "Rossetti", country=""))) > 0.98


@pytest.mark.parametrize("family", ["Bianchi", "Vercellino"])
def test_a_changed_family_name_is_left_for_review(family):
    # After an adoption or a parent's marriage only the given name and the birth still agree: not
    # enough for the automatic threshold, enough for a person to look at the pair.
    found = similarities(GIULIA, child("Giulia", family))
    assert min(found) >= REVIEW_THRESHOLD
    assert max(found) < LIKELY_THRESHOLD


def test_a_polish_family_name_changed_is_left_for_review_too():
    found = similarities(ZOFIA, child("Zofia", "Nowak", country="PL"))
    assert REVIEW_THRESHOLD <= min(found) < max(found) < LIKELY_THRESHOLD


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (GIULIA, child("Chiara", "Rossetti")),
        (child("Marco", "Ferrari", sex="male"), child("Luca", "Ferrari", sex="male")),
        (ZOFIA, child("Maja", "Kowalska", country="PL")),
        (child("Lukas", "Müller", sex="male", country="DE"), child("Jonas", "Müller", sex="male", country="DE")),
    ],
)
def test_twins_stay_below_the_automatic_threshold(first, second):
    found = similarities(first, second)
    assert max(found) < LIKELY_THRESHOLD
    assert min(found) >= REVIEW_THRESHOLD  # a person tells twins from a changed given name


def test_twins_whose_given_names_are_a_letter_apart_cannot_be_told_from_a_typing_error():
    # A limit of any encoding of names, stated here so that nobody relies on the contrary.
    found = similarities(child("Anna", "Kowalska", country="PL"), child("Hanna", "Kowalska", country="PL"))
    assert min(found) >= LIKELY_THRESHOLD


@pytest.mark.parametrize("born", ["2012-09-21", "2015-09-21"])
def test_the_same_names_with_another_date_of_birth_go_to_review(born):
    # Another child with the same names, or a wrong date of birth: a person decides which.
    found = similarities(GIULIA, child("Giulia", "Rossetti", born=born))
    assert min(found) >= REVIEW_THRESHOLD
    assert max(found) < LIKELY_THRESHOLD


def test_a_wrong_digit_in_the_day_of_birth_is_at_least_left_for_review():
    # Around the automatic threshold (0.89 to 0.91 depending on the key): not promised above it.
    assert min(similarities(GIULIA, child("Giulia", "Rossetti", born="2012-05-14"))) >= REVIEW_THRESHOLD


def test_unrelated_children_are_far_below():
    assert max(similarities(GIULIA, child("Tommaso", "Bianchi", born="2009-11-30", sex="male"))) < 0.6
    assert max(similarities(GIULIA, child("Zofia", "Kowalska", born="2016-02-11", country="PL"))) < 0.6


def test_unrelated_children_born_the_same_day_in_the_same_country_stay_below_review():
    assert max(similarities(GIULIA, child("Sofia", "Bianchi"))) < REVIEW_THRESHOLD
