"""Across years and across units: the history database and the roll-up of many units' packages."""
