"""The one base of the errors a user can cause and fix: bad input, a file that cannot be read or written.

The command line prints a :class:`UserError` as one ``error:`` line and exits 2 (see
:mod:`relaygen.cliutil`); any other exception is a bug in relaygen and shows its traceback.
"""

from __future__ import annotations


class UserError(ValueError):
    """Input the user can fix (a rules file, a level, an option, a model or run folder); the message
    names the file or option, the field and the reason."""
