"""Stages 4 and 5: "Take action" (are we moving?) and "Did we get there?".

Stage 4 follows each target of a cycle while the initiatives run: the KPI's
monthly series over the baseline and the action period so far on an XmR
chart whose limits are *frozen* on the baseline months, the share of the gap
between the baseline value and the target closed so far, and when the target
will be reached at the current trend. It can run any day (``as_of``); before
the action period starts it says so instead of failing.

Stage 5 judges each target over the review period: baseline value, value
over the review period, met or not (:func:`csi_lib.targets.target_met`), and
whether the change is *real*, from two independent pieces of evidence:

(a) a special-cause signal on the XmR chart (baseline-frozen limits) during
    the action and review months, and
(b) the statistical test of :func:`csi_lib.evidence.compare` on the
    per-request observations of the baseline and the review period.

They combine into a verdict (:data:`VERDICTS`): "real improvement", "likely
improvement", "no evidence of change", "likely deterioration", "real
deterioration", "mixed evidence" or "not enough data", and into one
plain-language conclusion per target and a headline for the cycle, which
:func:`write_summary` saves for the report's cover page.

Examples
--------
>>> from csi_lib import review
>>> cycle = open_cycle(sample_cycle, as_of="2026-04-15")   # the folder data/sample-cycle
>>> rv = review.assess(cycle)
>>> review.review_table(rv)[["target", "baseline", "review", "met", "verdict"]].round(1)
  target  baseline  review    met                verdict
0     T1      41.8    26.6   True       real improvement
1     T2      86.5    90.6   True       real improvement
2     T3       1.9     1.4   True       real improvement
3     T4       4.0     4.0  False  no evidence of change
4     T5       4.9     4.5   True  no evidence of change
>>> review.headline(rv)
'4 of 5 targets met, 1 not met; 3 show a real improvement, 2 no evidence of change.'


The package has one module per step: :mod:`.gap` (distance to the target, share of the gap closed, projection), :mod:`.assess` (the verdict and the review of each target and of the cycle), :mod:`.progress` (stage 4 tables), :mod:`.results` (stage 5 tables and breakdowns), :mod:`.conclusions` (sentences, headline and the summary for the cover). Every name is importable from ``csi_lib.review`` as before, and ``csi.review(cycle)`` calls :func:`csi_lib.api.review`.
"""

from __future__ import annotations

from .assess import (  # noqa: F401
    _ONE_SIDED,
    _SIGNAL_PHRASES,
    _SINGLE_POINT_PHRASES,
    _TEST_EVIDENCE,
    VERDICTS,
    CycleReview,
    TargetReview,
    _assess_target,
    _date,
    _phase,
    _phrase,
    _test_evidence,
    _value_n,
    assess,
    verdict,
)
from .conclusions import (  # noqa: F401
    _EVIDENCE_TEXT,
    _HEADLINE_PARTS,
    OUTLOOK_RAG,
    _json_number,
    _likely_text,
    conclusion,
    conclusions,
    conclusions_text,
    headline,
    outlook,
    summary,
    verdict_counts_text,
    write_summary,
)
from .gap import (  # noqa: F401
    _PERIOD_FORMAT,
    _STEP,
    HORIZON,
    MIN_POINTS_FOR_PROJECTION,
    QUALITATIVE_KPIS,
    GapClosed,
    Projection,
    _when,
    distance_to_target,
    gap_closed,
    projection,
)
from .progress import (  # noqa: F401
    _PROGRESS_COLUMNS,
    _initiatives_text,
    _latest_signal,
    _signal_json,
    progress_note,
    progress_table,
    target_chart,
    targets_chart,
)
from .results import (  # noqa: F401
    _DIMENSIONS,
    _REVIEW_COLUMNS,
    _hidden_note,
    _p_text,
    _review_row,
    _signed,
    _target_breakdown,
    breakdowns,
    contributions_table,
    qualitative_table,
    review_note,
    review_table,
)
from .standing import (  # noqa: F401
    STATE_RAG,
    STATE_WORDS,
    State,
    TargetStanding,
    rests_on,
    target_standing,
)

__all__ = [
    "QUALITATIVE_KPIS",
    "VERDICTS",
    "GapClosed",
    "Projection",
    "TargetReview",
    "CycleReview",
    "assess",
    "distance_to_target",
    "gap_closed",
    "projection",
    "verdict",
    "progress_note",
    "progress_table",
    "review_note",
    "review_table",
    "qualitative_table",
    "breakdowns",
    "conclusion",
    "conclusions",
    "conclusions_text",
    "headline",
    "outlook",
    "State",
    "TargetStanding",
    "target_standing",
    "summary",
    "write_summary",
    "target_chart",
    "targets_chart",
]

# csi.review(...) calls csi_lib.api.review (see csi_lib._callable)
from .._callable import make_callable  # noqa: E402

make_callable(__name__)
