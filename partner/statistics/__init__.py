"""Cohort counts and survival estimates over the API, with small cells hidden from non-coordinators."""
