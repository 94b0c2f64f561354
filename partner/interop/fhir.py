"""HL7 FHIR R4 exchange of cases, following the mCODE STU4 profiles (read with fhir.resources' R4B models).

- `case_bundle(case)`: the case as a Bundle of type collection: CancerPatient (pseudonym only),
  PrimaryCancerCondition (ICD-O-3 morphology, topography, ICCC-3), stage and TNM categories,
  surgery and radiotherapy Procedures, one MedicationRequest per agent, CancerDiseaseStatus
  Observations, vital status.
- `bundle_to_forms(bundle)`: the case fields and form values a bundle gives, for `create_case`.
- `import_bundle(bundle, centre=...)`: a new case from a bundle, in one transaction.

`CARRIED_FIELDS` lists the dictionary fields a bundle carries; an export read back gives them unchanged.
"""

from .fhir_export import CARRIED_FIELDS, case_bundle
from .fhir_import import BundleError, bundle_to_forms, import_bundle, parse_bundle

__all__ = ["CARRIED_FIELDS", "BundleError", "bundle_to_forms", "case_bundle", "import_bundle", "parse_bundle"]
