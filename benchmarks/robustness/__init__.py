"""Hostile cases replayed against perflint (``python benchmarks/robustness/run.py``)."""
