"""Executes a notebook with nbclient in a fresh kernel (the interpreter running this script), without saving it.

Usage: run_notebook.py <notebook.ipynb>. The kernel inherits the environment (FINK_URL, PYTHONPATH). Prints the
text outputs of every cell, then `EXECUTED <n cells>`; a failing cell exits non-zero with its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

path = Path(sys.argv[1])
notebook = nbformat.read(path, as_version=4)
# kernel_name "python3" is the native ipykernel of this interpreter: no kernelspec needs installing.
NotebookClient(
    notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
).execute()
code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
for cell in code_cells:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            print(output.get("text", ""), end="")
        elif "data" in output and "text/plain" in output["data"]:
            print(output["data"]["text/plain"])
print(f"EXECUTED {len(code_cells)}")
