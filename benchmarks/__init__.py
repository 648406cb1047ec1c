"""Benchmarks: `python3 dev.py bench` runs benchmarks/run.py and rewrites BENCHMARKS.md."""
