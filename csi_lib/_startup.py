"""Start-up cost of report runs: keep an optional import that costs seconds out of them.

Every report process (the ``csi`` command and each stage kernel) imports ``nbformat``
(papermill and plotly's notebook renderer need it), which imports ``jsonschema``.
When ``rfc3987-syntax`` is installed (JupyterLab pulls it in, through
``jupyter-events`` and ``jsonschema[format-nongpl]``), ``jsonschema`` imports it at
start-up, and version 1.1.0 compiles 38 grammars there: 1.5-3 s of CPU in every
process, 8 processes per report. It only serves the ``iri`` / ``iri-reference``
format checks of JSON Schema, which no report process runs (nbformat validates
notebooks without format checks). :func:`skip_slow_optional_imports` marks it as
not installed in *this* process, before anything imports ``jsonschema``; a
JupyterLab server or an analyst's own kernel is untouched.
"""

from __future__ import annotations

import sys

#: Optional modules that report processes never use and that cost seconds to import.
SLOW_OPTIONAL_MODULES: tuple[str, ...] = ("rfc3987_syntax",)


def skip_slow_optional_imports() -> None:
    """Make :data:`SLOW_OPTIONAL_MODULES` unimportable in this process (if not imported yet).

    ``sys.modules[name] = None`` is Python's documented way to make ``import name``
    raise ImportError; ``jsonschema`` then leaves out the two format checks that
    need the module, as it does when the module is not installed.

    Examples
    --------
    >>> skip_slow_optional_imports()  # after this, each name is imported or marked absent
    >>> all(name in sys.modules for name in SLOW_OPTIONAL_MODULES)
    True
    """
    for name in SLOW_OPTIONAL_MODULES:
        sys.modules.setdefault(name, None)
