"""The conda environment and pyproject.toml list the same dependencies."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def names(requirements):
    return {re.split(r"[<>=!~ \[]", r, maxsplit=1)[0].strip().lower() for r in requirements}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = names(project["dependencies"]) | names(project["optional-dependencies"]["dev"])
    conda = set()
    env = (ROOT / "environment.yml").read_text()
    dependencies = env.split("dependencies:", 1)[1]
    for line in dependencies.splitlines():
        item = re.match(r"^\s+-\s+([A-Za-z][\w.-]*)", line)
        if item and item.group(1) not in ("python", "pip"):
            conda.add(item.group(1).lower())
    assert conda == wanted, (
        f"only in environment.yml: {sorted(conda - wanted)}; "
        f"only in pyproject.toml: {sorted(wanted - conda)}"
    )


def test_versions_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = (ROOT / "environment.yml").read_text()
    for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert f"- {requirement}" in env, (
            f"{requirement} is not pinned the same way in environment.yml"
        )
