"""The validator speaks the user's language, ICD-O-3 code errors included."""

from django.utils import translation

from partner.dictionary.tests.test_validation import FORM
from partner.dictionary.validation import validate_record


def _message(field, raw, lang):
    with translation.override(lang):
        return {e.field: e.message for e in validate_record(FORM, raw, partial=True).errors}[field]


def test_a_malformed_morphology_is_explained_in_italian_and_polish():
    assert _message("morphology", {"morphology": "837"}, "it").startswith("la morfologia '837' non è")
    assert "np. 8370/3" in _message("morphology", {"morphology": "837"}, "pl")


def test_an_impossible_behaviour_and_topography_are_explained_in_french_and_german():
    assert "comportement 5" in _message("morphology", {"morphology": "8370/5"}, "fr")
    assert _message("topography", {"topography": "C99.9"}, "de").endswith("endet bei C80.9")
    assert _message("topography", {"topography": "C99.9"}, "en").endswith("ends at C80.9")
