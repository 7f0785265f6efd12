"""Validate: expectation suites that decide whether a candidate snapshot may be published."""

from tasks.validate.gate import CONTRACT_SUITE, DEFAULT_SUITES, load_suite_specs, preload_in_background, validate_tables
from tasks.validate.params import GateParameters
from tasks.validate.report import ExpectationOutcome, ValidationReport, failure_lines, rejection_message

__all__ = [
    "CONTRACT_SUITE",
    "DEFAULT_SUITES",
    "ExpectationOutcome",
    "GateParameters",
    "ValidationReport",
    "failure_lines",
    "load_suite_specs",
    "preload_in_background",
    "rejection_message",
    "validate_tables",
]
