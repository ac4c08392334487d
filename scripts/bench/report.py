"""The results as text, JSON and Markdown (prose in ``performance.md.tmpl``)."""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np

TEMPLATE = Path(__file__).with_name("performance.md.tmpl")
COLUMNS = (
    "contender",
    "ms/epoch",
    "model-epochs/s",
    "× jaxperc",
    "% roofline",
    "compile s",
    "check",
    "memory",
)
VERDICT_TEXT = {True: "MET", False: "NOT MET", None: "not measured"}
VERDICT_MD = {True: "yes", False: "**no**", None: "—"}


def _fmt(v, spec):
    return "–" if v is None else format(v, spec)


def _memory(row: dict) -> str:
    mem = row.get("memory", {})
    out = f"{mem['bytes'] / 2**20:.1f} MiB" if mem.get("bytes") is not None else ""
    if mem.get("xla_temp_bytes") is not None:
        out += f" (XLA temp {mem['xla_temp_bytes'] / 2**20:.1f} MiB)"
    return out


def table_rows(res: dict) -> list[list[str]]:
    rows = []
    for name, row in res["contenders"].items():
        ok = row["check"]
        rows.append(
            [
                name + (f" [{row['note']}]" if row.get("note") else ""),
                _fmt(row.get("per_epoch_s") and row["per_epoch_s"] * 1e3, ".3g"),
                _fmt(row.get("model_epochs_per_s"), ".3g"),
                _fmt(row.get("ratio_to_jaxperc"), ".2f"),
                _fmt(row.get("roofline_pct"), ".0f"),
                _fmt(row.get("compile_s"), ".2f"),
                ("ok " if ok["passed"] else "FAILED ") + f"{ok['max_rel_diff']:.0e}",
                _memory(row),
            ]
        )
    return rows + sklearn_table_rows(res)


def sklearn_table_rows(res: dict) -> list[list[str]]:
    rows = []
    jp = res["contenders"]["jaxperc"].get("per_epoch_s")
    for kind, fit in res.get("sklearn", {}).items():
        label = {"sgd": "SGDClassifier", "logreg": "LogisticRegression"}[kind]
        pe = fit["per_epoch_all_models_s"]
        rows.append(
            [
                f"{label} [{fit['note']}; accuracy {fit['accuracy']:.3f}]",
                _fmt(pe * 1e3, ".3g"),
                _fmt(res["models"] / pe, ".3g"),
                _fmt(pe / jp if jp else None, ".2f"),
                "",
                "",
                "other algorithm",
                "",
            ]
        )
    return rows


def heading(name: str, res: dict, limits: dict) -> str:
    roof = limits["roofline"][name]
    return (
        f"{name}: {res['title']}, {res['epochs']} epochs ({res['loss']}"
        + (f", batch {res['batch_size']}" if res["batch_size"] else "")
        + f"); roofline {roof['seconds_per_epoch'] * 1e3:.3g} ms/epoch "
        f"({roof['bound']}-bound)"
    )


def user_rows(user: dict) -> list[list[str]]:
    """task, timing, jaxperc s, accuracy, scikit-learn s, accuracy, speedup."""
    rows = []
    for task, res in user.get("tasks", {}).items():
        for when in ("cold", "warm"):
            if when not in res:
                continue
            r = res[when]
            jx, sk = r["jaxperc"], r["sklearn"]
            rows.append(
                [
                    task,
                    when,
                    f"{jx['seconds']:.3g}",
                    f"{jx['accuracy']:.3f}",
                    f"{sk['seconds']:.3g}",
                    f"{sk['accuracy']:.3f}",
                    f"{r['speedup']:.2f}×",
                ]
            )
    return rows


USER_COLUMNS = ("task", "", "jaxperc s", "acc", "scikit-learn s", "acc", "speedup")


def _text_table(columns, rows) -> list[str]:
    rows = [list(columns), *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(columns))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))
        for r in rows
    ]


def print_report(out: dict) -> None:
    for name, res in out["workloads"].items():
        print("\n" + heading(name, res, out["machine"]))
        print("\n".join(_text_table(COLUMNS, table_rows(res))))
    if out.get("userlevel"):
        print("\nUser level (seconds to an answer)")
        print("\n".join(_text_table(USER_COLUMNS, user_rows(out["userlevel"]))))
    if not judged(out):
        print(f"\nTargets: {not_judged(out)}")
        return
    print("\nTargets")
    for t in out["targets"]:
        print(f"  {t['target']}: {t['shown']} — {VERDICT_TEXT[t['met']]}")


def judged(out: dict) -> bool:
    """The targets are a CPU's, at full sizes."""
    return not out["quick"] and out.get("backend", "cpu") == "cpu"


def not_judged(out: dict) -> str:
    if out["quick"]:
        return "Not judged: a quick run uses toy sizes."
    return "Not judged: the targets are set for a CPU."


def _md_table(columns, rows) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _machine_md(out: dict) -> str:
    m = out["machine"]
    bw = ", ".join(f"{k} {v / 1e9:.1f} GB/s" for k, v in m["bandwidth"].items())
    return (
        f"- {out['platform']}; JAX {out['versions']['jax']} on `{out['device']}`; "
        f"{out['cpu_count']} CPU cores; load average at the start "
        f"{out['load_average'][0]:.1f}; "
        + ("quick run (tiny sizes)" if out["quick"] else "full run")
        + f", {out['repeats']} repeats, {out['wall_s']:.0f} s in all.\n"
        f"- Sustained fp32 matrix product: {m['peak_matmul_flops'] / 1e9:.1f} "
        f"GFLOP/s (square, jitted); streaming bandwidth: {bw}."
    )


def _targets_md(out: dict) -> str:
    if not judged(out):
        return not_judged(out)
    rows = [[t["target"], t["shown"], VERDICT_MD[t["met"]]] for t in out["targets"]]
    return _md_table(("target", "measured", "met"), rows)


def markdown(out: dict) -> str:
    workloads = "\n\n".join(
        f"### {heading(name, res, out['machine'])}\n\n"
        + _md_table(COLUMNS, table_rows(res))
        for name, res in out["workloads"].items()
    )
    user = out.get("userlevel") or {}
    fields = {
        "machine": _machine_md(out),
        "workloads": workloads,
        "targets": _targets_md(out),
        "userlevel": _md_table(USER_COLUMNS, user_rows(user)) if user else "Not run.",
        "sweep": sweep_md(out["extras"].get("block_sweep", [])),
        "extras": "\n".join(extras_lines(out["extras"])),
    }
    return string.Template(TEMPLATE.read_text()).substitute(fields)


def sweep_md(sweeps: list[dict]) -> str:
    if not sweeps:
        return "Not run."
    names = list(sweeps[0]["programs"])
    rows = [
        [name]
        + [
            f"{s['programs'][name]['per_epoch_s'] * 1e3:.3g} ms "
            f"({s['programs'][name]['temp_bytes'] / 2**20:.1f} MiB)"
            for s in sweeps
        ]
        for name in names
    ]
    cols = ("program (weights, values per block)", *(s["workload"] for s in sweeps))
    return _md_table(cols, rows)


def extras_lines(ex: dict) -> list[str]:
    lines = []
    e = ex.get("early")
    if e:
        lines.append(
            f"- Early convergence ({e['setup']}; epochs per model, median "
            f"{e['epochs_percentiles']['50']:.0f}, max "
            f"{e['epochs_percentiles']['100']:.0f}): compact=True "
            f"{e['compact']['median_s']:.2f} s (first call "
            f"{e['compact']['first_s']:.2f} s), compact=False "
            f"{e['no_compact']['median_s']:.2f} s (first "
            f"{e['no_compact']['first_s']:.2f} s)."
        )
    lines += _cold_lines(ex.get("coldstart"))
    for a in ex.get("agreement", []):
        lines.append(
            f"- {a['workload']} on this device against the host CPU "
            f"({a['models']:,} models, {a['epochs']} epochs, float32): final costs "
            f"differ by at most {a['cost']['max_rel_diff']:.1e} (relative), weights "
            f"by {a['weights_max_rel_diff']:.1e} (median "
            f"{a['weights_median_rel_diff']:.1e}) — "
            + ("within" if a["passed"] else "NOT within")
            + " 1e-5."
        )
    c = ex.get("csv")
    if c:
        lines.append(
            f"- `load_csv` of {c['rows']:,} × {c['cols']} "
            f"({c['file_bytes'] / 2**20:.0f} MiB file): {c['seconds']:.2f} s, peak "
            f"memory {c['peak_rss_above_import_bytes'] / 2**20:.0f} MiB above a bare "
            f"import (x itself: {c['x_bytes'] / 2**20:.0f} MiB float64)."
        )
    i = ex.get("import")
    if i:
        lines.append(
            f"- `import jaxperc`: {i['median_s']:.2f} s (median, fresh process)."
        )
    cli = ex.get("cli")
    if cli and "skipped" in cli:
        lines.append(
            f"- `jaxperc run configs/default.toml`: skipped ({cli['skipped']})."
        )
    elif cli:
        lines.append(
            f"- `jaxperc run configs/default.toml` end to end: cold "
            f"{cli['cold_s']:.2f} s, with the compilation cache warm "
            f"{cli['warm_s']:.2f} s."
        )
    return lines or ["- Not run."]


def _cold_lines(cold: dict | None) -> list[str]:
    if not cold:
        return []
    w = cold["warm_cache"]
    return [
        f"- First `train_many` compile in a fresh process, no persistent cache: "
        f"S1 {cold['compile_S1']['compile_s']:.2f} s, "
        f"S3 {cold['compile_S3']['compile_s']:.2f} s.",
        f"- Persistent cache warm: a fresh process's first `jp.train` (S1's job) "
        f"{w['first_train_s']:.3f} s after import ({w['import_s']:.2f} s); "
        f"with the cache empty {w['cold_first_train_s']:.2f} s.",
    ]


def json_default(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def write(out: dict, json_path: str | None, md_path: str | None) -> None:
    if json_path:
        with open(json_path, "w") as f:
            json.dump(out, f, indent=1, default=json_default)
    if md_path:
        with open(md_path, "w") as f:
            f.write(markdown(out))
