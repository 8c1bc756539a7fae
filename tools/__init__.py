"""Developer tools shared by the tests and the benchmarks (not part of attnlib)."""
