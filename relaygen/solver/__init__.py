"""Puzzle solvers used as automatic playtesters for generated levels."""
