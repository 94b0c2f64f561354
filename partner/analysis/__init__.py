"""Statistics on the registry's DataFrames: cohorts, descriptive tables, survival and Cox regression,
incidence per million from population denominators, and small-cell suppression.

Free of Django, so it runs on frames from `partner.cases.frames` or on any DataFrame with the
same columns, and is tested in milliseconds. Estimation is left to lifelines.
"""

from .cohort import (
    AGE_GROUPS,
    Cohort,
    age_at_diagnosis,
    age_group,
    main_stage,
    one_per_child,
    survival_table,
    treatment_pattern,
)
from .descriptive import describe
from .incidence import Incidence
from .population import read_eurostat
from .suppression import suppress, suppress_series
from .survival import CoxModel, SurvivalAnalysis

__all__ = [
    "AGE_GROUPS",
    "Cohort",
    "CoxModel",
    "Incidence",
    "SurvivalAnalysis",
    "age_at_diagnosis",
    "age_group",
    "describe",
    "main_stage",
    "one_per_child",
    "read_eurostat",
    "suppress",
    "suppress_series",
    "survival_table",
    "treatment_pattern",
]
