"""``python -m relaygen`` runs the command line."""

from relaygen.cli import main

main()
