"""Regenerate the sample data files in data/ (deterministic: same code, same bytes).

    .venv/bin/python scripts/make_sample_data.py            # refuses to overwrite
    .venv/bin/python scripts/make_sample_data.py --force    # replace the files
    .venv/bin/python scripts/make_sample_data.py --kpis     # also print the KPI table of data/README.md

Files (see data/README.md):
  data/sample_requests.csv.gz  40,000 canonical requests, seed 42, 2024-07-01 .. 2026-06-30
  data/servicenow_export.csv   every 20th of those requests (rows 0, 20, 40, ...) as a ServiceNow export
  data/jira_export.csv         every 20th, offset by 10 (rows 10, 30, ...) as a Jira Service Management export
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from csi_lib.periods import Period
from csi_lib.sample import generate_requests, to_jira, to_servicenow, write_requests
from csi_lib.storage import atomic_write

DATA = Path(__file__).resolve().parent.parent / "data"
ROWS, SEED = 40_000, 42
PERIODS = {
    "baseline": ("2025-01-01", "2025-06-30"),
    "action": ("2025-07-01", "2025-12-31"),
    "review": ("2026-01-01", "2026-03-31"),
    "after review": ("2026-04-01", "2026-06-30"),
}
#: (KPI key, scope) rows of the README table.
KPI_ROWS = [
    ("received", None),
    ("pct_fulfilled", None),
    ("pct_declined", None),
    ("backlog", None),
    ("assess_median_h", None),
    ("fulfil_median_h", None),
    ("fulfil_p90_h", None),
    ("fulfil_median_h", {"category": "Laptop"}),
    ("fulfil_p90_h", {"category": "Laptop"}),
    ("pct_within_sla", None),
    ("pct_within_sla", {"category": "Laptop"}),
    ("csat_mean", None),
    ("pct_satisfied", None),
    ("csat_response_rate", None),
    ("pct_reopened", None),
]


def write_csv(df: pd.DataFrame, path: Path, *, overwrite: bool) -> None:
    atomic_write(path, df.to_csv(index=False, lineterminator="\n"), overwrite=overwrite)


def kpi_markdown(df: pd.DataFrame) -> str:
    """The per-period KPI table of data/README.md, measured with csi_lib.kpis."""
    from csi_lib.kpis import kpi_values

    periods = {name: Period.from_dates(a, b) for name, (a, b) in PERIODS.items()}
    lines = [
        "| KPI | scope | " + " | ".join(PERIODS) + " |",
        "|---|---|" + "---:|" * len(PERIODS),
    ]
    for key, scope in KPI_ROWS:
        values = [kpi_values(df, p, kpis=[key], scope=scope)[key] for p in periods.values()]
        where = "all" if scope is None else ", ".join(f"{k}: {v}" for k, v in scope.items())
        cells = [f"{v:,.0f}" if key in ("received", "backlog") else f"{v:.2f}" for v in values]
        lines.append(f"| {key} | {where} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--force", action="store_true", help="replace existing files")
    parser.add_argument("--kpis", action="store_true", help="print the per-period KPI table")
    args = parser.parse_args()

    df = generate_requests(rows=ROWS, seed=SEED)
    write_requests(df, DATA / "sample_requests.csv.gz", overwrite=args.force)
    write_csv(
        to_servicenow(df.iloc[0::20], seed=1), DATA / "servicenow_export.csv", overwrite=args.force
    )
    write_csv(to_jira(df.iloc[10::20], seed=2), DATA / "jira_export.csv", overwrite=args.force)
    for name in ("sample_requests.csv.gz", "servicenow_export.csv", "jira_export.csv"):
        print(f"{DATA / name}: {(DATA / name).stat().st_size:,} bytes")
    if args.kpis:
        print(kpi_markdown(df))


if __name__ == "__main__":
    main()
