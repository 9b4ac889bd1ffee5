"""Start-up of report runs: keep an optional import that costs seconds out of them, and
give big freed memory back to the system.

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

Memory: glibc's ``malloc`` gives an allocation of 128 KiB or more its own memory map,
unmapped when freed; but after the first such free it raises that threshold (up to
32 MiB) and serves later big arrays from its heap, which keeps what is freed. A load of
10 million requests frees gigabytes of intermediate columns, which then stayed resident
for the rest of the run. :func:`return_freed_memory` fixes the threshold (``mallopt``,
at :data:`MMAP_THRESHOLD_BYTES`), which turns that adjustment off. Report kernels call
it at start-up; any other process (the ``csi`` command) when it reads a big file in
blocks (:mod:`csi_lib.sources.blocks`). A fixed threshold costs page faults: a 1M-request
``csi kpis`` read whole takes about 1.7 s with glibc's default and 2.1 s with it fixed.
"""

from __future__ import annotations

import sys

#: Allocations of this many bytes or more get their own memory map, returned to the
#: system when freed. glibc starts at 128 KiB; a map costs page faults on first use, and
#: 1 MiB kept the 10M-request csi kpis at 2.7 GB (2.5 GB at 128 KiB, 2.9 GB at 8 MiB).
MMAP_THRESHOLD_BYTES = 1024 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt parameter, from glibc's malloc.h

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


def return_freed_memory() -> bool:
    """Keep glibc's threshold for giving big allocations their own memory map fixed, so
    big arrays go back to the system when freed (see the module docstring).

    Returns False where the C library is not glibc (macOS, Windows, musl): nothing changes.

    Examples
    --------
    >>> import platform
    >>> return_freed_memory() == (platform.libc_ver()[0] == "glibc")
    True
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False
