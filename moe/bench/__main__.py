"""``python -m moe.bench``: run benchmark sections, print their summaries, optionally save them.

With no section named it runs the estimator's check on synthetic data: the time per MM step
against the measured matrix-product floor, and the steps and time each solver variant (fixed,
weighted, each with and without SQUAREM, EM, and flexmix when R has it) needs to reach the best
log-likelihood. ``--full`` uses each section's full settings instead of the quick ones.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd

from moe.bench import QUICK, SECTIONS, machine_info, plot_section, run_section, summarize_section

DEFAULT_SECTIONS = ("step_cost", "time_to_optimum")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m moe.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help=f"any of {', '.join(SECTIONS)} (default: {' '.join(DEFAULT_SECTIONS)})")
    parser.add_argument("--full", action="store_true", help="the full settings, not the quick ones")
    parser.add_argument("--settings", type=json.loads, default={},
                        help='JSON object of per-section overrides, e.g. \'{"step_cost": {"n": [10000]}}\'')
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="folder for <section>.csv, <section>.png, machine.json")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    sections = args.sections or list(DEFAULT_SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}; known: {SECTIONS}")
    unknown = set(args.settings) - set(SECTIONS) if isinstance(args.settings, dict) else {"(not an object)"}
    if unknown:
        raise SystemExit(f"--settings: unknown sections {sorted(unknown)}; known: {SECTIONS}")
    info = machine_info()
    print("machine:", json.dumps(info, indent=1))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "machine.json").write_text(json.dumps(info, indent=1) + "\n")
    with pd.option_context("display.width", 200, "display.max_columns", 30,
                           "display.float_format", "{:.4g}".format):
        for name in sections:
            settings = ({} if args.full else dict(QUICK[name])) | args.settings.get(name, {})
            print(f"\n== {name} ({'full' if args.full else 'quick'} settings, seed {args.seed})",
                  flush=True)
            table = run_section(name, settings, args.seed)
            print(summarize_section(name, table).to_string(index=False), flush=True)
            if args.out:
                table.to_csv(args.out / f"{name}.csv", index=False)
                plot_section(name, table, args.out / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
