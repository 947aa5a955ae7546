"""The compiled parts: the reverse search and the fast push search in C (optional: without a C compiler,
the Python searches in relaygen/solver/reverse.py and search.py run instead). Everything else is
configured in pyproject.toml."""

from setuptools import Extension, setup


def _solver_extension(name: str) -> Extension:
    sources = [f"relaygen/solver/{name}.c"]
    return Extension(f"relaygen.solver.{name}", sources, depends=["relaygen/solver/cells.h"], optional=True)


setup(ext_modules=[_solver_extension("_reverse"), _solver_extension("_search")])
