"""Intake: read the departments' workbooks, parse what people typed, validate every cell, merge resubmissions."""
