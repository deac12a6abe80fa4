"""pycql benchmarks: planning cost and Nexmark."""
