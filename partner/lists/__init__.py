"""One generic list for every model: a FilterSet and a Table, declared per model in each app's
`filtersets.py` and `tables.py`, rendered by one view with one template and exported as CSV or XLSX."""
