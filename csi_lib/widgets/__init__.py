"""ipywidgets controls of the workbook (they need a live kernel: JupyterLab or Voilà)."""
