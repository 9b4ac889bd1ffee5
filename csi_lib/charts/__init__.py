"""Plotly figures of the workbook, one submodule per area; ``theme`` holds the look."""
