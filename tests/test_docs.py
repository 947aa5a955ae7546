"""The documentation's examples run, and its references follow the code.

Every fenced ``bash``/``sh``/``console``/``python``/``toml`` block of README.md and docs/ is a test:
shell blocks run through bash in a fresh folder with this environment's ``relaygen`` first on PATH,
Python blocks are executed there, TOML blocks are read (a rules file or a training config is
validated as one). A block is skipped only with its reason written in the Markdown, as an HTML
comment on the line before it (``<!-- not run: why -->``); other comments there:

- ``<!-- slow: why -->`` runs it in the slow lane only;
- ``<!-- file: NAME -->`` (a TOML or Python block) also writes the block as NAME into the folder of
  every block of the same page that runs;
- ``<!-- before: COMMAND -->`` runs a shell command in the folder first.

Whether a block runs or not, each ``relaygen`` command in it is parsed against the real command-line
app, so a renamed or removed option fails here; a ``relaygen`` command written as inline code in the prose
must name real commands and options. See docs/contributing-docs.md.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LANGUAGES = {"bash": "shell", "sh": "shell", "console": "shell", "python": "python", "toml": "toml"}
MARKER = re.compile(r"^<!--\s*(not run|slow|file|before):\s*(.*?)\s*-->$")
FENCE = re.compile(r"^(\s*)```\s*([\w-]*)")
SHELL_TIMEOUT = 180
BIN = Path(sys.executable).parent
COPIED = ("levels", "tests/data")
"""Folders of the repository a block may read, copied into its folder (so that nothing it writes lands in the
repository); ``relaygen/`` is linked, read-only by convention, for its shipped models and rulesets."""


@dataclass
class Block:
    """One fenced code block of a page, with the markers on the lines just before it."""

    page: Path
    line: int
    language: str
    text: str
    markers: dict[str, list[str]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """shell, python or toml; ``text`` for a block that is only a file (``<!-- file: NAME -->``) or an output."""
        return LANGUAGES.get(self.language, "text")

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    """The fenced blocks of ``page`` whose language is one of :data:`LANGUAGES` or ``text``, with their markers."""
    lines = page.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, language = match.groups()
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```"))
        if language in LANGUAGES or language == "text":
            markers: dict[str, list[str]] = {}
            j = i - 1
            while j >= 0 and (m := MARKER.match(lines[j].strip())):
                markers.setdefault(m.group(1), []).insert(0, m.group(2))
                j -= 1
            text = "\n".join(line.removeprefix(indent) for line in lines[i + 1 : end]) + "\n"
            found.append(Block(page, i + 1, language, text, markers))
        i = end + 1
    return found


BLOCKS = [block for page in PAGES for block in blocks_of(page)]


def shell_script(block: Block) -> str:
    """The commands of a shell block: a console block's ``$`` lines, any other block as it is."""
    if block.language != "console":
        return block.text
    return "\n".join(line[2:] for line in block.text.splitlines() if line.startswith("$ ")) + "\n"


def without_comment(line: str) -> str:
    """A shell line without its comment: from a ``#`` that starts a word outside quotes (``4#|#@$.#|4#`` is no comment)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def commands_in(script: str) -> list[list[str]]:
    """Each simple command of a shell script as its words, without redirections or comments."""
    commands: list[list[str]] = [[]]
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(without_comment(line), posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        lexer.commenters = ""
        redirect = False
        for token in [*lexer, ";"]:
            if token in (";", "&&", "||", "|", "&"):
                commands.append([])
            elif set(token) <= set("<>&0123456789") and any(c in token for c in "<>"):
                redirect = True
            elif redirect:
                redirect = False
            else:
                commands[-1].append(token)
    return [c for c in commands if c]


def relaygen_calls(block: Block) -> list[list[str]]:
    """The arguments of each ``relaygen`` command in a shell block."""
    return [words[1:] for words in commands_in(shell_script(block)) if Path(words[0]).name == "relaygen"]


def resolve(args: list[str]) -> tuple[str, Any, list[str]]:
    """The (sub)command that ``relaygen ARGS`` calls, its name, and the arguments left for it."""
    import typer.main

    from relaygen.cli import app

    command, name = typer.main.get_command(app), "relaygen"
    while hasattr(command, "commands") and args and not args[0].startswith("-"):
        if args[0] not in command.commands:
            raise AssertionError(f"relaygen {name}: no command {args[0]!r} (commands: {', '.join(command.commands)})")
        name, command, args = args[0], command.commands[args[0]], args[1:]
    return name, command, args


def check_options(args: list[str]) -> None:
    """For a command named in the prose (``relaygen generate ... --pin``): its commands and options exist."""
    name, command, rest = resolve(args)
    known = {"--help"} | {opt for p in getattr(command, "params", []) for opt in (*p.opts, *p.secondary_opts)}
    unknown = [w for w in rest if w.startswith("-") and w.split("=")[0] not in known and not w[1:2].isdigit()]
    assert not unknown, f"relaygen {name}: no option {unknown} (options: {', '.join(sorted(known))})"


def check_call(args: list[str]) -> None:
    """Parse ``relaygen ARGS`` as the command line would, without running it; a bad call raises."""
    import typer

    name, command, args = resolve(args)
    if "--help" in args or hasattr(command, "commands"):
        return
    with contextlib.suppress(typer.Exit):  # an option such as --version that exits at once
        command.make_context(name, list(args))


def page_files(block: Block) -> dict[str, str]:
    """The blocks of ``block``'s page marked ``file:``, by the name they are written as."""
    return {b.markers["file"][0]: b.text for b in BLOCKS if b.page == block.page and "file" in b.markers}


def folder_for(block: Block, tmp_path: Path) -> Path:
    """A fresh folder for ``block``: the repository's data copied in, ``relaygen/`` linked, the page's files written."""
    for name in COPIED:
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "relaygen").symlink_to(ROOT / "relaygen")
    for name, text in page_files(block).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def environment() -> dict[str, str]:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env |= {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYTHONPATH": str(ROOT)}
    return env


def run_shell(script: str, folder: Path) -> None:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=SHELL_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, (
        f"exit {done.returncode}\n{script}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )


def check_toml(text: str, folder: Path) -> None:
    """A TOML block is valid TOML; one that is a rules file or a training config must load as one."""
    from relaygen.agent.config import TrainConfig
    from relaygen.rules import parse_rules

    data = tomllib.loads(text)
    if "mechanic" in data:
        parse_rules(text, "<docs>", folder)
    elif data.keys() & {"rules", "representation", "workers", "total_steps", "t_max"}:
        TrainConfig.from_dict(data)


def params(kinds: set[str]) -> list[object]:
    """The blocks of ``kinds`` as pytest parameters: skipped with their reason, slow where marked."""
    out = []
    for block in BLOCKS:
        if block.kind not in kinds:
            continue
        marks = []
        if "not run" in block.markers:
            marks.append(pytest.mark.skip(reason=f"not run: {block.markers['not run'][0]}"))
        if "slow" in block.markers:
            marks.append(pytest.mark.slow)
        out.append(pytest.param(block, id=block.id, marks=marks))
    return out


# ----- the blocks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("block", params({"shell"}))
def test_shell_block_runs(block: Block, tmp_path: Path) -> None:
    folder = folder_for(block, tmp_path)
    for command in block.markers.get("before", []):
        run_shell(command, folder)
    run_shell(shell_script(block), folder)


@pytest.mark.parametrize("block", params({"python"}))
def test_python_block_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = folder_for(block, tmp_path)
    for command in block.markers.get("before", []):
        run_shell(command, folder)
    monkeypatch.chdir(folder)
    exec(compile(block.text, block.id, "exec"), {"__name__": "__docs__"})


@pytest.mark.parametrize("block", params({"toml"}))
def test_toml_block_loads(block: Block, tmp_path: Path) -> None:
    check_toml(block.text, folder_for(block, tmp_path))


@pytest.mark.parametrize("block", [pytest.param(b, id=b.id) for b in BLOCKS if b.kind == "shell"])
def test_every_relaygen_command_parses(block: Block) -> None:
    """Run or not, each documented ``relaygen`` call names real commands and options with values of their types."""
    for args in relaygen_calls(block):
        check_call(args)


INLINE = re.compile(r"(?<!`)`((?:\.venv/bin/)?relaygen [^`]+)`(?!`)")


def inline_calls(page: Path) -> list[list[str]]:
    """The arguments of each ``relaygen`` command written as inline code in the prose of ``page``."""
    prose = re.sub(r"^\s*```.*?^\s*```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    calls = [words for span in INLINE.findall(prose) for words in commands_in(span.replace("<", "").replace(">", ""))]
    return [words[1:] for words in calls if Path(words[0]).name == "relaygen"]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relaygen_command_in_the_prose_names_real_options(page: Path) -> None:
    for args in inline_calls(page):
        check_options(args)


@pytest.mark.parametrize("block", [pytest.param(b, id=b.id) for b in BLOCKS if b.kind == "python"])
def test_every_python_block_compiles(block: Block) -> None:
    compile(block.text, block.id, "exec")


def test_every_skipped_block_says_why() -> None:
    unexplained = [b.id for b in BLOCKS if "not run" in b.markers and len(b.markers["not run"][0]) < 10]
    assert not unexplained, f"a 'not run' marker needs its reason: {unexplained}"


def test_the_pages_hold_blocks() -> None:
    """The collector finds the examples (a broken fence pattern would make every test above vanish)."""
    assert len(BLOCKS) >= 20
    readme = [b for b in BLOCKS if b.page.name == "README.md"]
    assert readme[0].text.startswith("python3 -m venv .venv") and len(readme) >= 2


# ----- the checker itself -------------------------------------------------------------------------


def test_commands_are_split_from_a_script() -> None:
    script = "relaygen rules show maze --toml > my.toml   # a comment\nrelaygen a && relaygen b | tee x\n"
    assert commands_in(script) == [
        ["relaygen", "rules", "show", "maze", "--toml"],
        ["relaygen", "a"],
        ["relaygen", "b"],
        ["tee", "x"],
    ]


@pytest.mark.parametrize(
    "args",
    [["generate", "maze", "--outt", "x"], ["generate", "maze", "-n", "ten"], ["rules", "shw", "maze"], ["playtest"]],
    ids=["renamed-option", "bad-value", "unknown-command", "missing-argument"],
)
def test_a_broken_command_is_caught(args: list[str]) -> None:
    with pytest.raises(Exception):  # noqa: B017  (click's UsageError or the checker's AssertionError)
        check_call(args)


def test_an_option_named_in_the_prose_is_checked() -> None:
    check_options(["generate", "maze", "--pin", "x", "-n", "3", "--difficulty", "-1"])
    with pytest.raises(AssertionError, match="--pinned"):
        check_options(["generate", "--pinned"])


def test_a_good_command_passes() -> None:
    check_call(["generate", "maze", "-n", "5", "--difficulty-range", "0", "1", "--out", "x"])
    check_call(["rules", "check", "--help"])


# ----- the generated references -------------------------------------------------------------------


def gen_ref():
    """docs/gen_ref.py, the MkDocs hook that writes the reference pages."""
    spec = importlib.util.spec_from_file_location("gen_ref", ROOT / "docs" / "gen_ref.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rules_reference_follows_a_field_description(monkeypatch: pytest.MonkeyPatch) -> None:
    from relaygen.rules import Rules, Tile

    ref = gen_ref()
    before = ref.rules_reference()
    assert Rules.model_fields["width"].description in before
    monkeypatch.setattr(Tile.model_fields["hazard"], "description", "A changed description of hazard.")
    after = ref.rules_reference()
    assert "A changed description of hazard." in after and after != before


def test_rules_reference_has_every_field() -> None:
    from relaygen.mechanics import MECHANICS
    from relaygen.rules import Constraint, Difficulty, Objective, Rules, Tile

    page = gen_ref().rules_reference()
    for model in (Rules, Tile, Constraint, Objective, Difficulty):
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no docstring"
            assert f"| `{name}` |" in page
    assert all(f"| `{name}` |" in page for name in MECHANICS)


def generate_section(page: str) -> str:
    """The part of the CLI reference about ``relaygen generate``."""
    return page.split("### `relaygen generate`", 1)[1].split("\n#", 1)[0]


def test_cli_reference_follows_an_option(monkeypatch: pytest.MonkeyPatch) -> None:
    """Renaming an option of ``generate`` (in the command built from the app) renames it on the page."""
    import typer.main

    from relaygen.cli import app

    real = typer.main.get_command
    option = next(p for p in real(app).commands["generate"].params if p.param_type_name == "option")
    assert f"`{option.opts[0]}`" in generate_section(gen_ref().cli_reference())

    def renamed(app):
        command = real(app)
        next(p for p in command.commands["generate"].params if p.name == option.name).opts = ["--a-renamed-option"]
        return command

    monkeypatch.setattr(typer.main, "get_command", renamed)
    section = generate_section(gen_ref().cli_reference())
    assert "`--a-renamed-option`" in section and f"`{option.opts[0]}`" not in section


def test_cli_reference_has_every_command_and_option() -> None:
    import typer.main

    from relaygen.cli import app

    page = gen_ref().cli_reference()

    def walk(command, path):
        assert f"`{' '.join(path)}`" in page
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))
        for param in getattr(command, "params", []):
            assert param.help, f"{' '.join(path)} {param.name} has no help"
            assert param.help.split()[0] in page
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert f"`{opt}`" in page

    walk(typer.main.get_command(app), ("relaygen",))


def test_config_reference_follows_a_field_docstring(monkeypatch: pytest.MonkeyPatch) -> None:
    from relaygen.agent import config

    ref = gen_ref()
    docs = config.field_docs()
    page = ref.config_reference()
    assert all(f"| `{name}` |" in page and doc.split()[0] in page for name, doc in docs.items())
    monkeypatch.setattr(config, "field_docs", lambda: docs | {"t_max": "A changed docstring of t_max."})
    assert "A changed docstring of t_max." in ref.config_reference()


def test_the_built_site_follows_a_field_docstring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``mkdocs build --strict``, in this process: the reference pages are there, and a changed field
    description changes the built page."""
    for module in ("mkdocs", "material", "mkdocstrings"):
        pytest.importorskip(module, reason="the docs extra is not installed")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from relaygen.rules import Tile

    monkeypatch.setattr(Tile.model_fields["hazard"], "description", "A description changed for the test.")
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    build(load_config(str(ROOT / "mkdocs.yml"), site_dir=str(tmp_path), strict=True))
    for page in gen_ref().REFERENCE_PAGES:
        assert (tmp_path / page.removesuffix(".md") / "index.html").is_file()
    assert "A description changed for the test." in (tmp_path / "reference" / "rules" / "index.html").read_text()


# ----- the README's two commands ------------------------------------------------------------------


def readme_commands() -> list[str]:
    return [b.text.strip() for b in BLOCKS if b.page.name == "README.md" and b.kind == "shell"][:2]


def test_readme_first_command_generates_its_levels(tmp_path: Path) -> None:
    """The first command's job, after its setup, run with this environment's relaygen."""
    setup, _, job = readme_commands()[0].partition(" && .venv/bin/pip install -e . && ")
    assert setup == "python3 -m venv .venv" and job.startswith(".venv/bin/relaygen generate sokoban")
    run_shell(job.removeprefix(".venv/bin/"), tmp_path)
    assert len(list((tmp_path / "my_levels").glob("sokoban-*.json"))) == 10


def test_readme_test_command_is_what_ci_runs() -> None:
    assert readme_commands()[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_sphinx_roles_in_docstrings_show_as_code_on_the_api_page() -> None:
    html = "see :class:<code>~relaygen.rules.Rules</code> and :func:<code>load_rules</code>"
    assert gen_ref().on_page_content(html, None, None, None) == (
        "see <code>relaygen.rules.Rules</code> and <code>load_rules</code>"
    )
