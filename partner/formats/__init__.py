"""Formats that replace Django's for a language: English here is read in Europe (en-GB)."""
