"""csi-workbook: continual improvement of a service request management practice.

Every computation of the workbook lives in this package; the notebooks in
``notebooks/`` only call it. See ``docs/architecture.md`` for the module map.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
