"""The few ways a run can fail, each mapped to an exit status in `cli.main`."""

from __future__ import annotations

from hubgen.diagnostics import Diagnostic


class HubgenError(Exception):
    exit_code = 2


class UsageError(HubgenError):
    """The command was used wrongly (exit 2)."""


class OutputRefused(HubgenError):
    """The output folder is not hubgen's to write (exit 2)."""


class ContentErrors(HubgenError):
    """The content has errors (exit 1); they are in `diagnostics`."""

    exit_code = 1

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} problems")
        self.diagnostics = diagnostics
