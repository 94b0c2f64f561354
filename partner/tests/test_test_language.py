"""Each test starts in the default language, whatever the test before it left active."""

from django.conf import settings
from django.test import SimpleTestCase
from django.utils import translation


class EachTestStartsInTheDefaultLanguage(SimpleTestCase):
    # Run in this order (pytest keeps a class's order): the first leaves Italian active in the thread.
    def test_1_a_request_leaves_its_language_active(self):
        translation.activate("it")
        self.assertEqual(translation.get_language(), "it")

    def test_2_the_next_test_reads_the_default_language(self):
        self.assertEqual(translation.get_language(), settings.LANGUAGE_CODE)
