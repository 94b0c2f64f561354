"""Tests of the statistics API."""
