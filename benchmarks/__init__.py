"""Benchmark harness: nirdag against a plain scikit-learn loop and nirs4all, side by side (see README.md)."""
