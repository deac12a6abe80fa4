"""The Nexmark benchmark for pycql: generator, CQL queries, runner."""
