"""Sanitas: heal labelled text datasets, anonymize PII, stream comments with pinned model predictions."""

__version__ = "0.1.0"
