"""Formats that replace Django's for a language: English as read in Europe (en-GB), Polish short dates
with dots."""
