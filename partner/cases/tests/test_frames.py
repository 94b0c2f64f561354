import pandas as pd

from partner.cases.frames import case_frames
from partner.testing import RegistryTestCase


class CaseFrameTests(RegistryTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.acc = cls.register(
            cls.padova,
            treatment=[
                {"line_type": "surgery", "treatment_start_date": "2024-02-20"},
                {"line_type": "chemotherapy", "treatment_start_date": "2024-03-15"},
            ],
        )
        cls.melanoma = cls.register(cls.milano, given="Luca", morphology="8720/3", topography="C44.5", sex="male")
        cls.french = cls.register(cls.paris, given="Léa", family="Martin")

    def test_there_is_one_typed_column_per_field_of_the_single_forms(self):
        frame = case_frames(self.european).cases
        self.assertEqual(len(frame), 3)
        single = [f for form in self.dictionary.forms if not form.repeating for f in form.fields]
        for f in single:
            self.assertIn(f.code, frame.columns)
        self.assertTrue(pd.api.types.is_datetime64_any_dtype(frame["diagnosis_date"]))
        self.assertIsInstance(frame["sex"].dtype, pd.CategoricalDtype)
        sex = next(f for f in self.dictionary.form_by_code["registration"].fields if f.code == "sex")
        self.assertEqual(list(frame["sex"].cat.categories), [c.code for c in sex.choices])
        self.assertEqual(frame.set_index("case_id").loc[self.acc.id, "entity"], "ACC")
        self.assertEqual(frame.set_index("case_id").loc[self.melanoma.id, "sex"], "male")

    def test_repeating_forms_are_their_own_frames_keyed_by_case(self):
        lines = case_frames(self.european).repeating["treatment"]
        self.assertEqual(
            list(lines[["case_id", "instance"]].itertuples(index=False, name=None)),
            [(self.acc.id, 1), (self.acc.id, 2)],
        )
        self.assertEqual(list(lines["line_type"]), ["surgery", "chemotherapy"])
        self.assertTrue(pd.api.types.is_datetime64_any_dtype(lines["treatment_start_date"]))

    def test_a_user_sees_only_the_cases_of_their_scope(self):
        self.assertEqual(set(case_frames(self.dm_padova).cases["case_id"]), {self.acc.id})
        self.assertEqual(set(case_frames(self.nc_italy).cases["case_id"]), {self.acc.id, self.melanoma.id})
        self.assertEqual(set(case_frames(self.dm_paris).cases["case_id"]), {self.french.id})
        self.assertEqual(len(case_frames(self.researcher).cases), 0)
        self.assertEqual(len(case_frames(self.dm_paris).repeating["treatment"]), 0)

    def test_an_anonymous_user_sees_nothing(self):
        from django.contrib.auth.models import AnonymousUser

        self.assertEqual(len(case_frames(AnonymousUser()).cases), 0)
