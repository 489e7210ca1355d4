"""Reproducible benchmarks: `python -m bench [--quick] [--only NAME ...] [--json PATH]`.

Each comparison is one module with a `run(quick) -> list[Figure]`; what must be measured in a clean
process (peak memory, SDL's audio driver, exit times) runs in a fresh child `python -m bench.<module>`.
Not part of the test suite: figures depend on the machine and on what else runs on it.
"""
