"""The figure scripts of the seed paper run (``--quick``, from another folder, as a user runs them) and write their
files; the gallery (docs/figures.md) shows every committed figure, small, with a command that exists."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "docs" / "figures.md"

#: What each script writes with its default options.
OUTPUTS = {
    "fig_seed_1.py": ["seed_fig1_t0.01.png"],
    "fig_seed_2.py": ["seed_fig2.png", "seed_fig2_m.png"],
    "fig_seed_3.py": ["seed_fig3.png", "seed_fig3_m.png"],
    "fig_seed_5.py": ["seed_fig5.png"],
    "fig_memorisation.py": ["memorisation.png", "memorisation.txt"],
    "fig_data_curves.py": ["data_curves.png"],
    "fig_dynamics_spectrum.py": ["dynamics_spectrum.png"],
    "fig_dynamics_times.py": ["dynamics_times.png", "dynamics_times.txt"],
}


def test_every_seed_figure_script_is_run_here():
    scripts = {p.name for p in (ROOT / "scripts").glob("fig_seed_*.py")} | {"fig_memorisation.py", "fig_data_curves.py"}
    scripts |= {p.name for p in (ROOT / "scripts").glob("fig_dynamics_*.py")}
    assert scripts == set(OUTPUTS)


@pytest.mark.slow  # a subprocess and a figure each: CI runs them
@pytest.mark.parametrize("script", sorted(OUTPUTS))
def test_script_writes_its_figures(script, tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--quick", "--out", str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    for name in OUTPUTS[script]:
        path = tmp_path / name
        assert path.is_file(), f"{script} did not write {name}"
        if name.endswith(".png"):
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gallery_shows_every_committed_figure_small_with_an_existing_command():
    text = GALLERY.read_text(encoding="utf-8")
    shown = set(re.findall(r"\]\(figures/([\w.-]+\.png)\)", text))
    committed = {p.name for p in (ROOT / "docs" / "figures").glob("*.png")}
    assert shown == committed
    for name in committed:
        assert (ROOT / "docs" / "figures" / name).stat().st_size <= 100_000, name
    commands = re.findall(r"python (scripts/[\w.]+\.py)", text)
    assert commands
    for command in commands:
        assert (ROOT / command).is_file(), command
