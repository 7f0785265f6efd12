"""Validate: expectation suites that decide whether a candidate snapshot may be published."""

from tasks.validate.gate import DEFAULT_SUITES, load_suite_specs, validate_tables
from tasks.validate.report import ExpectationOutcome, ValidationReport

__all__ = ["DEFAULT_SUITES", "ExpectationOutcome", "ValidationReport", "load_suite_specs", "validate_tables"]
