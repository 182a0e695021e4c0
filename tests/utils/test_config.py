"""Settings from the environment (LENET_QUICK), and the notebooks shipped with the package."""

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from lenet.utils import config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("value", "quick"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        (" on ", True),
        ("0", False),
        ("false", False),
        ("NO", False),
        ("off", False),
        ("", False),
        (None, False),
    ],
)
def test_quick_mode_accepts_the_usual_words(monkeypatch, value, quick):
    if value is None:
        monkeypatch.delenv("LENET_QUICK", raising=False)
    else:
        monkeypatch.setenv("LENET_QUICK", value)
    assert config.quick_mode() is quick
    assert config.QUICK is quick  # read when asked for


@pytest.mark.parametrize("value", ["maybe", "2", "quick", "ja"])
def test_any_other_value_is_refused_with_one_line(monkeypatch, value):
    monkeypatch.setenv("LENET_QUICK", value)
    message = (
        "LENET_QUICK must be 1, true, yes or on (quick mode) or 0, false, no, off or empty "
        f"(full runs), got {value!r}"
    )
    with pytest.raises(ValueError) as err:
        config.quick_mode()
    assert str(err.value) == message
    with pytest.raises(ValueError):
        from lenet.utils.config import QUICK  # noqa: F401


def test_a_bad_value_stops_only_what_reads_it():
    env = {"LENET_QUICK": "maybe", "PATH": ""}
    code = "import lenet, lenet.utils.config as c; print(c.checkpoint_dir().name)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0 and result.stdout.strip() == "checkpoints"


def test_the_notebooks_of_a_checkout():
    assert config.notebooks_dir() == ROOT / "notebooks"


def test_every_folder_of_lenet_is_a_listed_package():
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {
        ".".join(p.relative_to(ROOT).parts)
        for p in [ROOT / "lenet", *(ROOT / "lenet").rglob("*")]
        if p.is_dir() and p.name != "__pycache__"
    }
    assert set(packages["packages"]) == folders | {"lenet.notebooks"}
    assert packages["package-dir"] == {"lenet.notebooks": "notebooks"}


def test_an_installed_lenet_finds_its_notebooks(tmp_path):
    """pip builds the wheel; installed alone (no checkout above it), lenet finds the notebooks."""
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, ROOT],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("lenet-*.whl")
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("lenet/notebooks/")}
    expected = {f"lenet/notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert expected <= shipped and len(expected) >= 13
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", target, wheel],
        check=True,
        capture_output=True,
        timeout=300,
    )
    code = (
        "import lenet.utils.config as c; d = c.notebooks_dir(); print(d, len([*d.glob('*.ipynb')]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": ""},
        timeout=120,
    )
    assert result.stdout.split() == [str(target / "lenet" / "notebooks"), str(len(expected))]
