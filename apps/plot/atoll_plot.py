#!/usr/bin/env python3
"""atoll plot METRICS.json [MORE.json ...] --out FILE.png [--label L ...] [--title T]

A file is the --metrics of one `atoll run`, or scripts/perf-run.sh's output (one run per
configuration).

Draws what `atoll run --metrics` files hold, one colour per file (run):
  - residual per sweep/superstep (log scale),
  - updates per sweep/superstep (log scale),
  - time per sweep/superstep,
  - bytes sent per rank (grouped bars),
  - updates per second over time (the locking engine's timeline of every rank,
    timeline_per_rank, rank 0 solid and the others dashed; files without it: timeline_rank0;
    other engines: the updates of each sweep over its time, at its end).
Run by `atoll plot` (the script is installed next to the tool); needs matplotlib
(Debian: python3-matplotlib). Exit codes: 0 written, 1 bad input or missing matplotlib, 2 usage.
"""
import argparse
import json
import os
import sys


def die(message, code=1):
    print(f"atoll plot: {message}", file=sys.stderr)
    sys.exit(code)


def number(value, where):
    if value is None:  # NaN (no residual) is written as null
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: expected a number, got {json.dumps(value)}")
    return float(value)


def records(obj, key, where):
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise ValueError(f"{where}: '{key}' must be an array of objects")
    return value


def load_runs(path):
    """[(default label, series)] of a --metrics file (one run) or of scripts/perf-run.sh's
    output (one run per configuration); raises ValueError naming the file and the field."""
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as e:
        raise ValueError(f"{path}: cannot read: {e.strerror}")
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}")
    if isinstance(data, dict) and isinstance(data.get("runs"), list):  # perf-run.sh
        runs = []
        for i, r in enumerate(data["runs"]):
            if not isinstance(r, dict) or not isinstance(r.get("metrics"), dict):
                raise ValueError(f"{path}: runs[{i}] has no 'metrics' object "
                                 "(written by an older scripts/perf-run.sh?)")
            label = f"{os.path.basename(path)} {r.get('config', i)}"
            runs.append((label, load_run(r["metrics"], f"{path}: runs[{i}].metrics")))
        if not runs:
            raise ValueError(f"{path}: 'runs' is empty")
        return runs
    return [(os.path.basename(path), load_run(data, path))]


def load_run(data, path):
    """The series of one run's metrics object (path: where it came from, for errors)."""
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object (the --metrics of atoll run)")
    if "iteration_log" not in data:
        raise ValueError(f"{path}: no 'iteration_log' (is this the --metrics of atoll run?)")
    run = {"engine": str(data.get("engine", "?")), "app": str(data.get("app", "?"))}
    log = records(data, "iteration_log", path)
    where = lambda i, k: f"{path}: iteration_log[{i}].{k}"
    run["step"] = [number(r.get("iteration", i), where(i, "iteration")) for i, r in enumerate(log)]
    run["residual"] = [number(r.get("residual", 0), where(i, "residual")) for i, r in enumerate(log)]
    run["updates"] = [number(r.get("updates", 0), where(i, "updates")) for i, r in enumerate(log)]
    run["seconds"] = [number(r.get("seconds", 0), where(i, "seconds")) for i, r in enumerate(log)]
    ranks = records(data, "per_rank", path)
    run["bytes"] = [number(r.get("bytes_sent", 0), f"{path}: per_rank[{i}].bytes_sent")
                    for i, r in enumerate(ranks)]
    if not run["bytes"] and "bytes_sent_rank0" in data:
        run["bytes"] = [number(data["bytes_sent_rank0"], f"{path}: bytes_sent_rank0")]
    details = data.get("engine_details", {})
    if not isinstance(details, dict):
        raise ValueError(f"{path}: 'engine_details' must be an object")
    per_rank = details.get("timeline_per_rank")
    if per_rank is None:
        named = [("timeline_rank0", records(details, "timeline_rank0", f"{path}: engine_details"))]
    else:
        if not isinstance(per_rank, list):
            raise ValueError(f"{path}: engine_details.timeline_per_rank must be an array per rank")
        named = [(f"timeline_per_rank[{r}]",
                  records({"t": samples}, "t", f"{path}: engine_details.timeline_per_rank[{r}]"))
                 for r, samples in enumerate(per_rank)]
    run["timelines"] = [rates(samples, f"{path}: engine_details.{key}") for key, samples in named]
    run["steal"] = number(data.get("steal_seconds", 0), f"{path}: steal_seconds")
    return run


def rates(samples, where):
    """[(seconds, updates per second since the previous sample)] of one rank's timeline."""
    out = []
    previous_t, previous_u = 0.0, 0.0
    for i, s in enumerate(samples):
        t = number(s.get("seconds"), f"{where}[{i}].seconds")
        u = number(s.get("updates"), f"{where}[{i}].updates")
        if t > previous_t:
            out.append((t, (u - previous_u) / (t - previous_t)))
        previous_t, previous_u = t, u
    return out


def main():
    parser = argparse.ArgumentParser(
        prog="atoll plot", description="Plot the metrics of atoll run (--metrics FILE.json).")
    parser.add_argument("metrics", nargs="+", help="metrics JSON files, one run each")
    parser.add_argument("--out", required=True, help="the PNG to write")
    parser.add_argument("--label", action="append", default=[],
                        help="a name per metrics file, in order (default: the file names)")
    parser.add_argument("--title", default=None, help="the figure's title")
    args = parser.parse_args()
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        die(f"--out {args.out}: directory {out_dir} does not exist")
    try:
        loaded = [run for p in args.metrics for run in load_runs(p)]
    except ValueError as e:
        die(str(e))
    if args.label and len(args.label) != len(loaded):
        die(f"{len(args.label)} --label for {len(loaded)} runs "
            "(give one per metrics file, or per configuration of a perf-run.sh file, in order)", 2)
    runs = [run for _, run in loaded]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        # Debian's python3-matplotlib serves the system interpreter; python3 on PATH may be
        # another one (pyenv, a virtualenv). Try the system one once.
        system = "/usr/bin/python3"
        if (os.path.realpath(sys.executable) != os.path.realpath(system)
                and os.access(system, os.X_OK) and not os.environ.get("ATOLL_PLOT_REEXEC")):
            os.environ["ATOLL_PLOT_REEXEC"] = "1"
            os.execv(system, [system] + sys.argv)
        die(f"needs matplotlib for Python 3 ({sys.executable}; "
            "Debian: apt-get install python3-matplotlib)")
    labels = args.label or [label for label, _ in loaded]

    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    residual, updates, seconds = axes[0]
    bytes_ax, rate, info = axes[1]
    unit = "superstep" if all(r["engine"] == "pregel" for r in runs) else "sweep / superstep"
    for run, label in zip(runs, labels):
        positive = [(s, v) for s, v in zip(run["step"], run["residual"]) if v > 0]  # not NaN
        if positive:
            residual.plot(*zip(*positive), marker=".", label=label)
        positive = [(s, v) for s, v in zip(run["step"], run["updates"]) if v > 0]
        if positive:
            updates.plot(*zip(*positive), marker=".", label=label)
        if run["step"]:
            seconds.plot(run["step"], run["seconds"], marker=".", label=label)
        if any(run["timelines"]):
            colour = None
            for r, series in enumerate(run["timelines"]):
                if not series:
                    continue
                name = label if len(run["timelines"]) == 1 else f"{label}, rank {r}"
                line, = rate.plot(*zip(*series), marker="." if r == 0 else None,
                                  linestyle="-" if r == 0 else "--", color=colour, label=name)
                colour = line.get_color()  # one colour per run, a line style per rank
        elif run["step"]:
            ends, total = [], 0.0
            for s in run["seconds"]:
                total += s
                ends.append(total)
            rate.plot(ends, [u / s if s > 0 else 0 for u, s in zip(run["updates"], run["seconds"])],
                      marker=".", linestyle="--", label=f"{label} (per {unit})")
    width = 0.8 / len(runs)
    for k, (run, label) in enumerate(zip(runs, labels)):
        xs = [r + k * width - 0.4 + width / 2 for r in range(len(run["bytes"]))]
        bytes_ax.bar(xs, run["bytes"], width=width, label=label)
    residual.set(title="residual", xlabel=unit, yscale="log")
    updates.set(title="updates", xlabel=unit, yscale="log")
    seconds.set(title="time per step (s)", xlabel=unit)
    bytes_ax.set(title="bytes sent per rank", xlabel="rank")
    most_ranks = max(len(run["bytes"]) for run in runs)
    bytes_ax.set_xticks(range(most_ranks))
    rate.set(title="updates per second over time", xlabel="seconds into the run")
    for ax in (residual, updates, seconds, bytes_ax, rate):
        if ax.has_data():
            ax.legend(fontsize="small")
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        ax.grid(True, alpha=0.3)
    info.axis("off")
    lines = [f"{label}: {run['app']} on {run['engine']}, {len(run['step'])} steps, "
             f"{int(sum(run['updates']))} updates, {sum(run['seconds']):.3f} s, "
             f"{len(run['bytes'])} rank(s)"
             + (f", {run['steal']:.2f} s stolen by the hypervisor" if run["steal"] >= 0.05 else "")
             for run, label in zip(runs, labels)]
    info.text(0, 1, "\n".join(lines), va="top", fontsize="small", wrap=True)
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()
    try:
        fig.savefig(args.out, dpi=100)
    except OSError as e:
        die(f"--out {args.out}: cannot write: {e.strerror}")
    print(f"atoll plot: wrote {args.out} ({len(runs)} run(s))")


if __name__ == "__main__":
    main()
