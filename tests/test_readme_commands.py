"""CI runs the README's quick-start commands exactly as printed."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    """The commands of the code blocks in the README's "Quick start" section."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", section, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_quick_start_has_the_install_run_and_test_commands():
    commands = quick_start_commands()
    assert len(commands) == 2, commands
    assert commands[0].startswith("pip install -e ") and " snakemake " in commands[0]
    assert commands[1].startswith("pip install -e ") and commands[1].endswith(" pytest")


def test_ci_runs_the_quick_start_commands_verbatim():
    lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    for command in quick_start_commands():
        assert command in lines, f".ci/run does not run the README's command {command!r}"
