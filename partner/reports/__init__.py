"""The report of each tumour entity: page, PDF, CSV tables and the `partner report` command."""
