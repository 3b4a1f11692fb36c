"""Every ```python block of README.md and docs/*.md runs, exactly as printed; every relative
link of those pages reaches a file of the repository (and a heading of it, if it names one).

Each block runs on its own, in a fresh namespace and a fresh working directory, so a block must
be self-contained: its imports, its data, its names. A block that is not meant to run (a shell
command, an output, a formula) must use another fence language (```bash, ```text). The test id
and any traceback name the Markdown file and its line numbers.
"""

import re
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\s]*)")


def fences(lines: list[str], name: str = "<text>"):
    """(opening line index, closing line index, opening match) of every fenced block of ``lines``.

    An unclosed fence is an error naming ``name`` and its 1-based line.
    """
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), None)
        if end is None:
            raise ValueError(f"{name}:{i + 1}: code fence {fence} is never closed")
        yield i, end, opening
        i = end + 1


def code_blocks(text: str, name: str = "<text>") -> list[tuple[int, str, str]]:
    """(line of the first code line, info string, code) of every fenced block of ``text``.

    Lines are 1-based. The code keeps its lines exactly, minus the opening fence's indentation.
    """
    lines = text.splitlines()
    blocks = []
    for start, end, opening in fences(lines, name):
        indent = len(opening["indent"])
        body = [_dedent(line, indent) for line in lines[start + 1:end]]
        blocks.append((start + 2, opening["info"].lower(), "\n".join(body) + "\n"))
    return blocks


def _dedent(line: str, indent: int) -> str:
    """``line`` without the first ``indent`` characters if they are blanks, else left-stripped."""
    head = line[:indent]
    return line[indent:] if head.strip() == "" else line.lstrip()


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def python_blocks():
    params = []
    for path in documents():
        name = path.relative_to(ROOT).as_posix()
        for line, info, code in code_blocks(path.read_text(encoding="utf-8"), name):
            if info == "python":
                params.append(pytest.param(path, line, code, id=f"{name}:{line}"))
    return params


@pytest.mark.parametrize(("path", "line", "code"), python_blocks())
def test_python_block_runs(path, line, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a block that writes files writes them here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # Blank lines before the code make traceback line numbers those of the Markdown file.
    compiled = compile("\n" * (line - 1) + code, str(path), "exec")
    try:
        exec(compiled, {"__name__": "__main__"})
    except Exception as error:
        raise AssertionError(
            f"the python block at {path.relative_to(ROOT)}:{line} failed: "
            f"{type(error).__name__}: {error}"
        ) from error


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def prose(text: str, name: str = "<text>") -> list[str]:
    """The lines of ``text``, each line of a fenced code block (fences included) made empty."""
    lines = text.splitlines()
    for start, end, _ in fences(lines, name):
        lines[start:end + 1] = [""] * (end + 1 - start)
    return lines


def anchors(path: Path) -> set[str]:
    return {anchor(line.lstrip("#")) for line in prose(path.read_text(encoding="utf-8"))
            if line.startswith("#")}


def broken_links(path: Path, root: Path) -> list[str]:
    """``"line: target (why)"`` for every relative link of ``path`` that leaves ``root``, names no
    file, or names a heading its Markdown file does not have."""
    broken = []
    for number, line in enumerate(prose(path.read_text(encoding="utf-8"), str(path)), start=1):
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            file, _, fragment = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            if not linked.is_relative_to(root) or not linked.exists():
                broken.append(f"{number}: {target} (no such file in the repository)")
            elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
                broken.append(f"{number}: {target} (no such heading)")
    return broken


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_reach_a_file_and_heading_of_the_repository(path):
    broken = broken_links(path, ROOT)
    assert not broken, f"{path.relative_to(ROOT)}:\n" + "\n".join(broken)


def test_broken_links_are_found(tmp_path):
    (tmp_path / "other.md").write_text("# A heading\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Top\n"
        "[ok](other.md#a-heading) [ok](#top) [web](https://example.org/x.md)\n"
        "[bad](other.md#nowhere) [gone](missing.md)\n"
        "```text\n[in code](missing.md)\n```\n"
        "[outside](../x.md)\n"
    )
    assert broken_links(page, tmp_path) == [
        "3: other.md#nowhere (no such heading)",
        "3: missing.md (no such file in the repository)",
        "7: ../x.md (no such file in the repository)",
    ]


def test_anchors_follow_github():
    assert anchor("The MM iteration") == "the-mm-iteration"
    assert anchor("Sweep criteria: AIC, BIC, HQC, ICL") == "sweep-criteria-aic-bic-hqc-icl"
    assert anchor("Boehning's bound") == "boehnings-bound"
    assert anchor("The dendrogram selection criterion (DSC)") == "the-dendrogram-selection-criterion-dsc"
    assert anchor("`moe.ppi` data") == "moeppi-data"


def test_the_method_and_data_pages_have_runnable_blocks():
    """The docs this test guards are not vacuous: each page shows code that runs."""
    for page in ("docs/method.md", "docs/data.md"):
        infos = [info for _, info, _ in code_blocks((ROOT / page).read_text(encoding="utf-8"), page)]
        assert "python" in infos, page


def test_code_blocks_are_found_with_their_lines():
    text = "\n".join([
        "# Title",              # 1
        "```python",            # 2
        "for x in []:",         # 3
        "    pass",             # 4
        "```",                  # 5
        "  ```bash",            # 6
        "  echo hi",            # 7
        "  ```",                # 8
        "````python",           # 9
        "s = '```'",            # 10
        "````",                 # 11
    ])
    assert code_blocks(text) == [
        (3, "python", "for x in []:\n    pass\n"),
        (7, "bash", "echo hi\n"),
        (10, "python", "s = '```'\n"),
    ]


def test_an_unclosed_fence_is_reported_with_its_line():
    with pytest.raises(ValueError, match=r"page\.md:2: code fence ``` is never closed"):
        code_blocks("text\n```python\nx = 1\n", "page.md")


def test_a_failing_block_names_the_file_and_line(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("intro\n\n```python\nx = 1\nraise RuntimeError('boom')\n```\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    ((line, _, code),) = code_blocks(page.read_text(), "page.md")
    with pytest.raises(AssertionError, match=r"page\.md:4 failed: RuntimeError: boom") as info:
        test_python_block_runs(page, line, code, tmp_path, monkeypatch)
    frames = traceback.extract_tb(info.value.__cause__.__traceback__)
    assert (str(page), 5) in [(frame.filename, frame.lineno) for frame in frames]
