"""cutover's benchmark harness (`make bench` = `python -m bench`).

Every figure is measured beside a baseline taken in the same run, on the same embedded moto
backend, so a noisy machine moves both sides together and the ratio stays meaningful.
See bench/README.md for what each figure includes.
"""
