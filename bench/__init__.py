"""Omnigate's benchmark: the product listing over HTTP against a plain Starlette floor.

Run `python -m bench` from the repository root; see bench/RESULTS.md for what it measures.
"""
