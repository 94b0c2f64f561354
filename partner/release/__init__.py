"""The release layer: every figure that leaves the registry is made here (see `layer`)."""

from .layer import AGGREGATE_ROLES, TOTAL, NotReleased, Policy, Release, as_count

__all__ = ["AGGREGATE_ROLES", "TOTAL", "NotReleased", "Policy", "Release", "as_count"]
