"""``report.html``: one self-contained page per run folder.

The summary tables, every figure of ``plots/`` embedded as base64 PNG, the resolved
config and the run's record (``run.json``), in one HTML file with inline style and
no scripts: it opens in any browser, offline, and can be mailed or archived alone.
"""

import base64
import html
import json
from pathlib import Path

from jaxperc.experiment import rundir
from jaxperc.experiment.report import format_summary

FILE = "report.html"
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th { background: #eee; }
"""


def _models_table(summary: dict, top: int = 50) -> str:
    axes = list(summary["axes"])
    cols = ["model", *axes, "cost", "train_accuracy", "test_accuracy", "epochs",
            "stop_reason"]  # fmt: skip
    cols = [c for c in cols if any(c in m for m in summary["models"])]

    def cell(v):
        return "-" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)

    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(cell(m.get(c)))}</td>" for c in cols)
        + "</tr>"
        for m in summary["models"][:top]
    )
    more = len(summary["models"]) - top
    tail = f"<p>… and {more} more models in summary.json</p>" if more > 0 else ""
    return f"<table><tr>{head}</tr>{rows}</table>{tail}"


def _figures(run_dir: Path) -> str:
    parts = []
    for png in sorted((run_dir / "plots").glob("*.png")):
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        name = html.escape(png.name)
        parts.append(
            f'<figure><img alt="{name}" src="data:image/png;base64,{data}">'
            f"<figcaption>{name}</figcaption></figure>"
        )
    return "\n".join(parts) or "<p>No plots (install jaxperc[plots]).</p>"


def render(run_dir: str | Path) -> str:
    """The report of a run folder as HTML text."""
    run_dir = Path(run_dir)
    summary = json.loads((run_dir / rundir.SUMMARY).read_text())
    info = rundir.read_run_json(run_dir)
    config = (run_dir / rundir.CONFIG).read_text()
    title = html.escape(f"jaxperc run {run_dir.name}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{_STYLE}</style></head><body>
<h1>{title}</h1>
<p>status {html.escape(str(info.get("status")))}, started
{html.escape(str(info.get("started")))}, ended {html.escape(str(info.get("ended")))}</p>
<h2>Summary</h2>
<pre>{html.escape(format_summary(summary))}</pre>
<h2>Models</h2>
{_models_table(summary)}
<h2>Figures</h2>
{_figures(run_dir)}
<h2>Config</h2>
<pre>{html.escape(config)}</pre>
<h2>Run record</h2>
<pre>{html.escape(json.dumps(info, indent=2))}</pre>
</body></html>
"""


def write_report(run_dir: str | Path) -> Path:
    """Write ``report.html`` into the run folder; returns its path."""
    path = Path(run_dir) / FILE
    rundir.write_text(path, render(run_dir))
    return path


__all__ = ["FILE", "render", "write_report"]
