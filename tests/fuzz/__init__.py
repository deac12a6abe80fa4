"""Fuzz tests: generated and mutated CQL through ``cursor.execute`` (see test_statement_fuzz)."""
