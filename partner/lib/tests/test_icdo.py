import pytest

from partner.lib.icdo import (
    CodeError,
    Morphology,
    histology_set,
    normalise_topography,
    parse_morphology,
    topography_key,
    topography_set,
)


@pytest.mark.parametrize("text", ["8370/3", "83703", " 8370 / 3 "])
def test_it_reads_a_morphology_in_its_usual_spellings(text):
    assert parse_morphology(text) == Morphology(8370, 3)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("8370", "behaviour digit"),
        ("837/3", "four digits"),
        ("8370/4", "behaviour 4"),
        ("7999/3", "8000 and 9999"),
        ("", "expected"),
    ],
)
def test_it_rejects_a_bad_morphology_naming_the_value(text, fragment):
    with pytest.raises(CodeError, match=fragment):
        parse_morphology(text)


def test_it_normalises_topography():
    assert normalise_topography("c740") == "C74.0"
    assert topography_key("C80.9") == 809


@pytest.mark.parametrize("text", ["C81.0", "C74", "D74.0", "C7.0"])
def test_it_rejects_a_bad_topography(text):
    with pytest.raises(CodeError):
        topography_key(text)


def test_a_topography_category_covers_all_its_subsites():
    sites = topography_set("C18, C20.9")
    assert 180 in sites and 189 in sites and 209 in sites
    assert 190 not in sites


def test_histology_ranges_are_closed():
    codes = histology_set("8370-8375, 8158")
    assert 8370 in codes and 8375 in codes and 8158 in codes
    assert 8376 not in codes and 8157 not in codes


def test_a_reversed_range_is_an_error():
    with pytest.raises(CodeError):
        histology_set("8375-8370")
