"""The one compiled part: the reverse search's layers in C (optional: without a C compiler, the Python
search in relaygen/solver/reverse.py runs instead). Everything else is configured in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("relaygen.solver._reverse", ["relaygen/solver/_reverse.c"], optional=True)])
