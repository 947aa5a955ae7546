"""Bad and unsupported PuzzleScript sources: one ScriptError, one line, naming the line."""

from __future__ import annotations

import pytest

from relaygen.script import ScriptError, load_game
from tests.test_script_engine import make


def line_of(source: str, text: str) -> int:
    return source.split("\n").index(text) + 1


@pytest.mark.parametrize(
    ("rule", "feature"),
    [
        ("random [ Crate ] -> [ Wall ]", "random"),
        ("[ Crate ] -> [ randomdir Crate ]", "randomdir"),
        ("[ Crate ] -> [ random Crate ]", "random"),
        ("rigid [ > Player | Crate ] -> [ > Player | > Crate ]", "rigid"),
    ],
)
def test_unsupported_rules_name_the_feature_and_line(rule: str, feature: str) -> None:
    source = make(rule)
    with pytest.raises(ScriptError) as err:
        load_game(source)
    assert err.value.line == line_of(source, rule)
    assert f"'{feature}'" in str(err.value) and str(err.value).startswith(f"line {err.value.line}: ")
    assert "\n" not in str(err.value)


def test_realtime_interval_is_unsupported() -> None:
    source = make(prelude="realtime_interval 0.5")
    with pytest.raises(ScriptError, match="realtime_interval") as err:
        load_game(source)
    assert err.value.line == line_of(source, "realtime_interval 0.5")


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("[ Crate ] -> [ Ghost ]", "not an object"),
        ("[ Crate ] [ Wall ]", "arrow"),
        ("[ Crate | Wall ] -> [ Crate ]", "equal length"),
        ("late [ > Crate ] -> [ Crate ]", "late rules"),
        ("[ Crate ] -> [ Crate Wall ]", "share a layer"),
        ("[ ... | Crate ] -> [ ... | Crate ]", "ellipsis"),
    ],
)
def test_bad_rules_give_their_line(rule: str, reason: str) -> None:
    source = make(rule)
    with pytest.raises(ScriptError, match=reason) as err:
        load_game(source)
    assert err.value.line == line_of(source, rule)


def test_bad_level_symbol_and_legend_give_their_line() -> None:
    source = make(level="P.x")
    with pytest.raises(ScriptError, match="'x'") as err:
        load_game(source)
    assert err.value.line == line_of(source, "P.x")
    source = make(legend="q = Ghost")
    with pytest.raises(ScriptError, match="ghost") as err:
        load_game(source)
    assert err.value.line == line_of(source, "q = Ghost")


def test_missing_player_or_layers() -> None:
    with pytest.raises(ScriptError, match="player"):
        load_game(
            make().replace("Player\npink", "Hero\npink").replace("P = Player", "P = Hero").replace("Player,", "Hero,")
        )
    with pytest.raises(ScriptError, match="not in any collision layer"):
        load_game(make(objects="Gem\nred"))
    with pytest.raises(ScriptError):
        load_game("just some text")


def test_script_error_is_a_value_error_with_one_line() -> None:
    err = ScriptError("two\nlines", 7)
    assert isinstance(err, ValueError) and str(err) == "line 7: two lines" and err.line == 7
    assert str(ScriptError("no line")) == "no line" and ScriptError("x").line is None
