from partner.dictionary.definitions import read_definitions
from partner.dictionary.loader import get_dictionary, load_bundled
from partner.dictionary.models import (
    DictionaryVersion,
    EntityDefinition,
    FieldDefinition,
    FormDefinition,
    ImmutableError,
)
from partner.dictionary.schema import EU_CDE
from partner.testing import RegistryTestCase


class DictionaryRowsTests(RegistryTestCase):
    def test_the_rows_hold_every_entity_form_and_field_of_the_files(self):
        d = read_definitions()
        version = DictionaryVersion.objects.get(number=d.version)
        self.assertEqual(version.entities.count(), len(d.entities))
        self.assertEqual(version.forms.count(), len(d.forms))
        self.assertEqual(
            FieldDefinition.objects.filter(form__version=version).count(), sum(len(f.fields) for f in d.forms)
        )
        self.assertEqual(version.content_hash, d.content_hash)

    def test_a_loaded_row_cannot_be_changed_or_deleted(self):
        entity = EntityDefinition.objects.first()
        entity.orpha = 1
        with self.assertRaises(ImmutableError):
            entity.save()
        with self.assertRaises(ImmutableError):
            entity.delete()
        with self.assertRaises(ImmutableError):
            FieldDefinition.objects.filter(code="sex").update(required=False)
        with self.assertRaises(ImmutableError):
            FormDefinition.objects.all().delete()
        self.assertTrue(FieldDefinition.objects.get(code="sex").required)

    def test_loading_again_is_a_no_op(self):
        result = load_bundled()
        self.assertFalse(result.created)
        self.assertEqual(DictionaryVersion.objects.count(), 1)

    def test_modules_are_linked_to_their_entities(self):
        modules = FormDefinition.objects.filter(entities__code="ACC")
        self.assertEqual([m.code for m in modules], [f.code for f in get_dictionary().modules_for("ACC")])
        self.assertTrue(modules.exists())


def test_the_common_dataset_covers_all_16_eu_common_data_elements():
    d = read_definitions()
    mapped = {
        f.mappings.eu_cde: f.code for form in d.forms if not form.is_module for f in form.fields if f.mappings.eu_cde
    }
    assert set(mapped) == set(EU_CDE)
    assert len(EU_CDE) == 16


def test_every_label_and_help_is_given_in_five_languages():
    d = read_definitions()
    for form in d.forms:
        for f in form.fields:
            for labels in [f.labels, *(c.labels for c in f.choices)] + ([f.help] if f.help else []):
                assert all(labels.get(lang).strip() for lang in ("en", "it", "fr", "de", "pl")), f.code


def test_six_tumour_modules_exist_for_the_named_entities():
    d = read_definitions()
    covered = {code for form in d.forms for code in form.entities}
    assert {"ACC", "MELANOMA", "PPB", "NPC", "THYROID_CA", "PANCREATOBLASTOMA"} <= covered


def test_the_common_dataset_has_repeating_treatment_lines_and_follow_up_events():
    d = read_definitions()
    assert d.form("treatment").repeating and d.form("follow_up").repeating
    assert not d.form("registration").repeating


class NewVersionTests(RegistryTestCase):
    OLD = read_definitions().version  # the newest bundled version, which the test registry has loaded
    NEW = OLD + 1

    def _version_two(self, tmp: str) -> str:
        import shutil
        from pathlib import Path

        from partner.dictionary.definitions import bundled_versions

        folder = Path(tmp) / f"v{self.NEW}"
        shutil.copytree(bundled_versions()[-1], folder)
        release = folder / "dictionary.yaml"
        release.write_text(release.read_text().replace(f"version: {self.OLD}", f"version: {self.NEW}", 1))
        status = folder / "forms" / "status.yaml"
        status.write_text(status.read_text().replace("code: last_contact_date", "code: last_contact", 1))
        return str(folder)

    def test_a_new_version_is_added_beside_the_old_one_which_stays_as_it_was(self):
        import tempfile

        before = list(FieldDefinition.objects.filter(form__version__number=self.OLD).values_list("id", "code"))
        with tempfile.TemporaryDirectory() as tmp:
            result = load_bundled(self._version_two(tmp))
        self.assertTrue(result.created)
        self.assertEqual(
            list(FieldDefinition.objects.filter(form__version__number=self.OLD).values_list("id", "code")), before
        )
        self.assertTrue(FieldDefinition.objects.filter(form__version__number=self.NEW, code="last_contact").exists())
        self.assertFalse(FieldDefinition.objects.filter(form__version__number=self.OLD, code="last_contact").exists())
        self.assertEqual(get_dictionary().number, self.NEW)
        self.assertEqual(get_dictionary(self.OLD).number, self.OLD)

    def test_a_case_keeps_the_version_it_was_entered_under(self):
        import tempfile

        case = self.register(self.padova)
        with tempfile.TemporaryDirectory() as tmp:
            load_bundled(self._version_two(tmp))
        case.refresh_from_db()
        self.assertEqual(case.dictionary_version.number, self.OLD)
        self.assertEqual({r.form.version.number for r in case.records.all()}, {self.OLD})
