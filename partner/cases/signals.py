"""Signals of the cases app: other apps (quality control) act on a case's changes without cases knowing them."""

from django.dispatch import Signal

#: Sent inside the saving transaction after a case or any of its records changed: case=, user=.
case_changed = Signal()
