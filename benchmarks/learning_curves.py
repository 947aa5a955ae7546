"""Learning curves: playable rate and score against environment steps, one line per training run.

Reads the TensorBoard scalars of each run folder (``runs/<rules>__<repr>__<seed>__<time>``) and
draws one panel per chart into a PNG (needs matplotlib). Each run's legend entry gives its
training time, summed from its ``charts/steps_per_second`` log (steps of each log interval over
that interval's rate), since runs at different speeds share no minutes axis.

    python benchmarks/learning_curves.py RUN_DIR [RUN_DIR ...] --out docs/learning_curves.png
"""

from __future__ import annotations

import argparse
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from relaygen.files import atomic_write

CHARTS = {"charts/playable_rate": "playable rate", "charts/score": "mean score"}
"""The scalars drawn, one panel each, with their axis labels."""
SPEED = "charts/steps_per_second"


@dataclass
class Run:
    """One training run's curves: chart → (environment steps, values)."""

    label: str
    curves: dict[str, tuple[list[int], list[float]]]


def read_run(folder: Path) -> Run:
    """The charted scalars of one run folder, labelled with its rules, representation and minutes."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    events.Reload()
    logged = events.Tags()["scalars"]
    missing = [tag for tag in CHARTS if tag not in logged]
    if missing:
        raise SystemExit(f"{folder}: no TensorBoard scalars {missing} (is it a training run folder?)")
    curves = {tag: ([p.step for p in events.Scalars(tag)], [p.value for p in events.Scalars(tag)]) for tag in CHARTS}
    rules, _, rest = folder.name.partition("__")
    details = [rest.split("__")[0]] if rest else []
    if SPEED in logged:
        speeds = events.Scalars(SPEED)
        details.append(f"{training_seconds([p.step for p in speeds], [p.value for p in speeds]) / 60:.0f} min")
    return Run(f"{rules} ({', '.join(details)})" if details else rules, curves)


def training_seconds(steps: list[int], rates: list[float]) -> float:
    """Training time from the steps/s log: each interval's new steps over its rate."""
    return float(np.sum(np.diff(steps, prepend=0) / np.maximum(rates, 1e-9)))


def draw(runs: list[Run]) -> bytes:
    """The runs' curves as a PNG, one panel per chart."""
    figure = Figure(figsize=(5.5 * len(CHARTS), 4.2), dpi=110, layout="constrained")
    millions = FuncFormatter(lambda x, _: f"{x / 1e6:g}M" if x else "0")
    for axes, (tag, title) in zip(figure.subplots(1, len(CHARTS)), CHARTS.items(), strict=True):
        for run in runs:
            axes.plot(*run.curves[tag], label=run.label, linewidth=1.2)
        axes.set(title=title, xlabel="environment steps", ylim=(0, 1.02))
        axes.xaxis.set_major_formatter(millions)
        axes.grid(alpha=0.3)
    figure.axes[0].yaxis.set_major_formatter(PercentFormatter(1.0))
    figure.axes[-1].legend(loc="lower right", fontsize="small")
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="training run folders")
    parser.add_argument("--out", type=Path, default=Path("docs/learning_curves.png"), help="the PNG to write")
    args = parser.parse_args()
    runs = [read_run(folder) for folder in args.runs]
    atomic_write(args.out, draw(runs))
    print(f"wrote {args.out} ({len(runs)} runs)")


if __name__ == "__main__":
    main()
