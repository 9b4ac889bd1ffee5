"""Offset paging that cannot lose a record: each page overlaps the last one, and a page
that does not join what was read is asked again from further back.

Paging by offset over a list ordered by update time loses records when the list moves
during the pull: a record updated after its page was read jumps to the end, every later
record moves one place forward, and the one at the next page's first place is never
seen. Here each page starts ``overlap`` records before the end of the previous one, and
its first record must be one already read, unchanged; if it is not, the list moved by
more than the overlap and the page is asked again a page further back. Updated records
reach the end of the list and are read there, so a pull also reads what changed while
it ran. A server that answers every offset with the same records (it ignores the
offset) stops the pull with a message instead of looping for ever.

Examples
--------
>>> rows = [{"id": str(i), "at": f"t{i:02d}"} for i in range(7)]
>>> def fetch(offset):
...     part = rows[offset:offset + 3]
...     return Page(records=part, raw=len(part), more=offset + 3 < len(rows), size=3)
>>> pages = list(anchored_pages(fetch, "id", "at", overlap=1, error=RuntimeError))
>>> [r["id"] for page in pages for r in page]
['0', '1', '2', '3', '4', '5', '6']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

#: How often a pull may step back because the list moved, before it gives up.
MAX_STEP_BACKS = 25
_MISSING = object()


@dataclass
class Page:
    """One page: its well-formed flat ``records``, how many records the server sent
    (``raw``, malformed ones included: they hold places in the list), whether the server
    says there are more (``more``; None when it does not say), and the page size in force."""

    records: list[dict[str, Any]]
    raw: int
    more: bool | None
    size: int


def anchored_pages(
    fetch: Callable[[int], Page],
    key: str,
    updated: str,
    *,
    overlap: int,
    error: Callable[[str], Exception],
    offset_name: str = "the offset",
) -> Iterator[list[dict[str, Any]]]:
    """Pages of records not read before (or read in an older version), asked by offset.

    Parameters
    ----------
    fetch:
        The page at an offset.
    key, updated:
        The fields of a record's id and its update time.
    overlap:
        Records each page repeats from the end of the previous one.
    error:
        Makes the exception raised when the server does not page (a message in).
    offset_name:
        How the message names the offset parameter.
    """
    seen: dict[Any, Any] = {}
    offset = 0
    idle = 0
    step_backs = 0
    previous: list[Any] | None = None
    while True:
        page = fetch(offset)
        if page.raw == 0:
            return
        keys = [r[key] for r in page.records]
        if offset and keys and keys == previous:
            raise error(
                f"the server answered two different values of {offset_name} with the same "
                f"records, so it does not page; the pull stopped instead of looping"
            )
        previous = keys
        first = page.records[0] if page.records else None
        joined = offset == 0 or (
            first is not None and seen.get(first[key], _MISSING) == first.get(updated)
        )
        fresh = [r for r in page.records if seen.get(r[key], _MISSING) != r.get(updated)]
        for record in fresh:
            seen[record[key]] = record.get(updated)
        if fresh:
            yield fresh
        if not joined:
            step_backs += 1
            if step_backs > MAX_STEP_BACKS:
                raise error(
                    "the records kept moving while they were paged (they are updated faster "
                    "than they can be read)"
                )
            offset = max(0, offset - page.size)
            continue
        last = page.raw < page.size if page.more is None else not page.more
        if last:
            return
        idle = 0 if fresh else idle + 1
        if idle >= 3:
            raise error(
                f"the server answered {idle} pages in a row with records already read, though "
                f"it says there are more; it seems to ignore {offset_name}, so the pull stopped"
            )
        offset += page.raw - min(overlap, page.raw - 1)
