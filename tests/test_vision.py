"""Stage 0: the vision model, the alignment chain, orphans and the Sankey figure."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from csi_lib.charts.planning import NO_OBJECTIVE, NO_TARGET, alignment_figure
from csi_lib.charts.theme import RAG
from csi_lib.plan import Plan
from csi_lib.vision import Vision, alignment, objectives_table, orphans, target_links

VISION = Vision(
    business_direction="Grow",
    vision="Fast requests",
    mission="Remove waiting",
    objectives=[
        {"id": "O1", "statement": "Faster fulfilment", "owner": "Ann"},
        {"id": "O2", "statement": "Keep the SLA"},
        {"id": "O3", "statement": "Nobody works on me"},
    ],
)
# T1 -> O1, T2 -> O2, T3 -> unknown objective O9, T4 -> no objective
TARGETS = {
    "targets": [
        {"id": "T1", "kpi": "fulfil_median_h", "objective": "O1"},
        {"id": "T2", "kpi": "pct_within_sla", "objective": "O2"},
        {"id": "T3", "kpi": "csat_mean", "objective": "O9"},
        {"id": "T4", "kpi": "backlog", "objective": None},
    ]
}
PLAN = Plan.model_validate(
    {
        "initiatives": [
            {
                "id": "I1",
                "title": "Build",
                "targets": ["T1", "T2"],
                "start": "2025-07-01",
                "end": "2025-09-30",
            },
            {
                "id": "I2",
                "title": "Rules",
                "targets": ["T2"],
                "start": "2025-07-01",
                "end": "2025-08-31",
            },
            {
                "id": "I3",
                "title": "Idle",
                "targets": [],
                "start": "2025-07-01",
                "end": "2025-08-31",
            },
            {
                "id": "I4",
                "title": "Stray",
                "targets": ["T99"],
                "start": "2025-07-01",
                "end": "2025-08-31",
            },
        ]
    }
)


def rows(df: pd.DataFrame) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in r) for r in df.itertuples(index=False)]


def test_vision_rejects_duplicate_objectives_and_unknown_keys():
    with pytest.raises(ValidationError, match="more than once"):
        Vision(
            business_direction="a",
            vision="b",
            mission="c",
            objectives=[{"id": "O1", "statement": "x"}] * 2,
        )
    with pytest.raises(ValidationError, match="Extra inputs"):
        Vision.model_validate(
            {"business_direction": "a", "vision": "b", "mission": "c", "mision": "d"}
        )


def test_objectives_table():
    table = objectives_table(VISION)
    assert list(table.columns) == ["id", "statement", "owner"]
    assert list(table["id"]) == ["O1", "O2", "O3"]


def test_alignment_lists_every_link_and_keeps_broken_ones():
    chain = alignment(VISION, TARGETS, PLAN)
    assert list(chain.columns) == ["objective_id", "target_id", "initiative_id"]
    assert rows(chain) == [
        ("O1", "T1", "I1"),
        ("O2", "T2", "I1"),
        ("O2", "T2", "I2"),
        ("O3", None, None),  # objective without target
        ("O9", "T3", None),  # target of an unknown objective
        (None, "T4", None),  # target without objective
        (None, "T99", "I4"),  # initiative serving an unknown target
        (None, None, "I3"),  # initiative serving nothing
    ]


def test_orphans_flags_each_broken_link_once():
    found = orphans(VISION, TARGETS, PLAN)
    assert rows(found[["kind", "id"]]) == [
        ("objective", "O3"),
        ("target", "T3"),
        ("target", "T4"),
        ("initiative", "I3"),
        ("initiative", "I4"),
    ]
    assert "O9" in found.set_index("id").loc["T3", "problem"]


def test_no_orphans_when_aligned():
    targets = [
        {"id": "T1", "objective": "O1"},
        {"id": "T2", "objective": "O2"},
        {"id": "T3", "objective": "O3"},
    ]
    plan = Plan.model_validate(
        {
            "initiatives": [
                {
                    "id": "I1",
                    "title": "x",
                    "targets": ["T1", "T2", "T3"],
                    "start": "2025-07-01",
                    "end": "2025-07-31",
                }
            ]
        }
    )
    assert orphans(VISION, targets, plan).empty
    assert len(alignment(VISION, targets, plan)) == 3


def test_target_links_reads_models_lists_and_dicts():
    class T:  # any object with attributes, like csi_lib.targets.Target
        id, objective, kpi, due = "T1", "O1", "received", None

    assert list(target_links([T()])["objective_id"]) == ["O1"]
    assert list(target_links(TARGETS)["target_id"]) == ["T1", "T2", "T3", "T4"]


def test_alignment_figure_draws_orphans_in_the_fail_colour():
    fig = alignment_figure(VISION, TARGETS, PLAN)
    sankey = fig.data[0]
    labels = list(sankey.node.label)
    colours = dict(zip(labels, sankey.node.color, strict=True))
    assert NO_TARGET in labels and NO_OBJECTIVE in labels
    o3 = next(label for label in labels if label.startswith("O3"))
    o1 = next(label for label in labels if label.startswith("O1"))
    assert colours[o3] == RAG["fail"] and colours[o1] != RAG["fail"]
    # links: O1-T1, T1-I1, O2-T2, T2-I1, T2-I2, O3-(no target), (no objective)-T3 (O9 is
    # unknown), (no objective)-T4, (no objective)-T99, T99-I4, (no target)-I3 -> 11 distinct links
    assert len(sankey.link.source) == 11


def test_alignment_names_targets_by_kpi_label_not_key():
    """Readers see "T1 Median time to fulfil", never "T1 fulfil_median_h" (issue 25)."""
    from csi_lib.kpis import kpi_catalogue
    from csi_lib.vision import alignment_table, alignment_words

    keys = set(kpi_catalogue()["key"])
    words = alignment_words(VISION, TARGETS, PLAN)
    assert words[("target", "T1")] == "Median time to fulfil"
    assert words[("objective", "O1")] == "Faster fulfilment"
    assert words[("initiative", "I1")] == "Build"
    table = alignment_table(VISION, TARGETS, PLAN)
    assert list(table.columns) == ["Objective", "Target", "Initiative"]
    cells = [str(v) for v in table.to_numpy().ravel() if not pd.isna(v)]
    assert "T1 Median time to fulfil" in cells and "O1 Faster fulfilment" in cells
    assert not [c for c in cells if any(k in c for k in keys)], "a KPI key in the table"
    # the Sankey says the same; its node's customdata keeps the bare id for a phone
    sankey = alignment_figure(VISION, TARGETS, PLAN).data[0]
    labels = [label.replace("<br>", " ") for label in sankey.node.label]
    assert "T1 Median time to fulfil" in labels
    assert not [label for label in labels if any(k in label for k in keys)]
    assert "T1" in list(sankey.node.customdata)


def test_alignment_words_name_a_scope():
    from csi_lib.vision import alignment_words

    targets = {"targets": [{"id": "T1", "kpi": "fulfil_median_h", "objective": "O1",
                            "scope": {"category": "Laptop"}}]}  # fmt: skip
    assert alignment_words(VISION, targets, PLAN)[("target", "T1")] == (
        "Median time to fulfil (Category: Laptop)"
    )


def test_orphans_text_counts_in_words():
    from csi_lib.vision import orphans_text

    found = orphans(VISION, TARGETS, PLAN)
    text = orphans_text(found)
    assert "(s)" not in text and f"{len(found)} broken links" in text
    one = orphans_text(found.head(1))
    assert one.startswith("1 broken link in")
