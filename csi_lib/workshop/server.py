"""What ``csi workshop`` adds to its Voilà server (its ``voila.py``: :data:`csi_lib.cli.session.VOILA_CONFIG`).

Voilà's page shuts its kernel down when it is closed: on ``beforeunload`` it
posts to ``voila/api/shutdown/<kernel>`` with the ``_xsrf`` cookie of the page.
A page opened with the token in its URL never gets that cookie, so the post is
refused (403) and every page closed leaves its kernel running until the server
stops. :func:`prelaunch` gives each page its ``_xsrf`` cookie (Tornado sets it
when a handler reads ``xsrf_token``), so closing a page ends its kernel at once.
Kernels whose page vanished without a word are culled by the server (see
:func:`csi_lib.cli.session.workshop_command`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["prelaunch"]


def prelaunch(request_handler: Any, notebook: Any = None, cwd: str | None = None) -> None:
    """Voilà's ``prelaunch_hook``: set the page's ``_xsrf`` cookie; the notebook is unchanged.

    Examples
    --------
    >>> class Handler:
    ...     xsrf_token = b"2|abc"
    >>> prelaunch(Handler()) is None
    True
    """
    _ = request_handler.xsrf_token  # reading it makes Tornado set the _xsrf cookie
    return None
