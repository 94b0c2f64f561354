"""HL7 FHIR R4 exchange of cases, following the mCODE STU4 profiles (read with fhir.resources' R4B models).

- `case_bundle(case)`: the case as a Bundle of type collection: CancerPatient (pseudonym only),
  PrimaryCancerCondition (ICD-O-3 morphology, topography, ICCC-3), stage and TNM categories,
  surgery and radiotherapy Procedures, one MedicationRequest per agent, one Observation per
  follow-up event (a CancerDiseaseStatus when it has a disease status), vital status; every other
  value of the case's records, tumour modules and consent included, as a field Observation coded
  with the registry's own dictionary field code (fhir_export says what goes where).
- `bundle_to_forms(bundle)`: the case fields and form values a bundle gives, for `create_case`.
- `import_bundle(bundle, centre=...)`: a new case from a bundle, in one transaction.

A case exported and imported again comes back with the same form records; fhir_import lists the
little that is not carried (names, which the registry never holds, the case's workflow status...).
"""

from .fhir_export import case_bundle
from .fhir_import import BundleError, bundle_to_forms, import_bundle, parse_bundle

__all__ = ["BundleError", "bundle_to_forms", "case_bundle", "import_bundle", "parse_bundle"]
