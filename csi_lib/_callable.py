"""Modules that can be called: ``csi.kpis(df, period)`` and ``csi_lib.kpis.kpi_table`` both work.

``csi_lib.kpis``, ``csi_lib.baseline`` and ``csi_lib.review`` are modules (notebooks and
users import from them) and also the names of the short API's functions
(:mod:`csi_lib.api`). A package attribute cannot be both a module and a function, since
importing a submodule sets the attribute to the module; so these modules are made
callable, and calling one calls the API function of the same name.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import types
from typing import Any


class CallableModule(types.ModuleType):
    """A module whose call is the API function ``csi_lib.api.<name>``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__api__(*args, **kwargs)

    @property
    def __api__(self) -> Any:
        api = importlib.import_module("csi_lib.api")
        return getattr(api, self.__name__.rsplit(".", 1)[-1])

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self.__api__)


def make_callable(module_name: str) -> None:
    """Make ``sys.modules[module_name]`` callable as the API function of its last name part."""
    sys.modules[module_name].__class__ = CallableModule
