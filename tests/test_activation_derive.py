"""The activation side of derive/: certification (derive/certify.py), the registry of custom activations, the
templates appended to every module, ``python -m derive`` and its refusals, and generated/ reproduced from derive/."""

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from derive import activation_code, certify, registry
from derive.__main__ import main
from derive.activations import BUILTINS, check_name, parse
from derive.build import generate_all
from derive.emit import GENERATED, emitted
from rfdsm.activations import available, load

ROOT = Path(__file__).resolve().parent.parent


def _import(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["tanh", "sign", "xerf"])
def test_module_is_its_render(name):
    """One exact, one quadrature and one custom module, rendered with the certificate they carry: byte for byte."""
    module = load(name)
    act = BUILTINS[name] if name in BUILTINS else parse(registry.recorded()[name], name)
    text = activation_code.render(act, module.SPEC, certify.Certificate(module.Q_MIN, module.Q_MAX, 0.0))
    assert text == (GENERATED / "activations" / f"{name}.py").read_text(encoding="utf-8")


@pytest.mark.slow
def test_generated_folder_is_reproduced_byte_for_byte(tmp_path):
    """``python -m derive --out DIR`` reproduces generated/ from derive/ alone, custom activations included."""
    generate_all(tmp_path, registry.recorded())
    committed = {p.relative_to(GENERATED) for p in GENERATED.rglob("*.py")}
    fresh = {p.relative_to(tmp_path) for p in tmp_path.rglob("*.py")}
    assert committed == fresh
    for rel in committed:
        assert (tmp_path / rel).read_bytes() == (GENERATED / rel).read_bytes(), rel


def test_every_module_carries_the_templates_verbatim():
    loops, quadrature = emitted("activation_loops.py"), emitted("quadrature.py")
    for name in available():
        text = (GENERATED / "activations" / f"{name}.py").read_text(encoding="utf-8")
        assert text.endswith(loops)
        assert (quadrature in text) is ("\nEXACT = False\n" in text), name


def test_registry_holds_every_custom_module():
    customs = set(available()) - set(BUILTINS)
    assert customs == set(registry.recorded()) and "xerf" in customs


def test_certification_refuses_activations_without_finite_or_accurate_constants():
    for spec, why in (("exp(x**2)", r"cannot be certified: at q = 1 .* is inf"),  # E exp(q g²) = ∞ for q ≥ 1/2
                      ("1/x", r"cannot be certified: at q = 1"),  # E x^{-2} = ∞
                      ("exp(x)", r"certified for q in \[1e-08, 1\] only"),  # its mass leaves [−12, 12] at q = 10
                      ("tanh(40*x)", r"cannot be certified")):  # a feature finer than the rule's scale 1/√q
        with pytest.raises(ValueError, match=rf"^activation: the constants of bad = .* {why}"):
            certify.certify(parse(spec, "bad"))


def test_certification_handles_a_jump_at_zero():
    certificate = certify.certify(parse("sign(x) + x", "jump"))
    assert (certificate.q_min, certificate.q_max) == (1e-8, 1e8) and certificate.error < certify.TOLERANCE


def test_derive_refuses_and_writes_nothing(tmp_path, capsys):
    registry_file = tmp_path / "registry.json"
    run = subprocess.run([sys.executable, "-m", "derive", "--activation", "exp(x**2)", "--name", "bad", "--out",
                          str(tmp_path), "--registry", str(registry_file)], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 2
    assert run.stderr.startswith("error: activation: the constants of bad = exp(x**2) cannot be certified")
    assert main(["--activation", "1/x", "--name", "bad", "--out", str(tmp_path), "--registry", str(registry_file)]) == 2
    assert capsys.readouterr().err.startswith("error: activation: the constants of bad = 1/x cannot be certified")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name, why", [("class", "keyword"), ("match", "keyword"), ("_private", "private"),
                                       ("x-y", "identifier"), ("ρ", "identifier"), ("relu", "built-in")])
def test_bad_names_are_refused(name, why, tmp_path, capsys):
    code = main(["--activation", "x*erf(x)", "--name", name, "--out", str(tmp_path), "--registry",
                 str(tmp_path / "registry.json")])
    assert code == 2 and capsys.readouterr().err.startswith("error: name:")
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match=rf"^name: .*{why}"):
        check_name(name) if name != "relu" else parse("x*erf(x)", name)


@pytest.mark.parametrize("spec", ["x**", "exp(-y)", "leaky_relu(2)"])
def test_derive_rejects_bad_expressions(spec, tmp_path, capsys):
    assert main(["--activation", spec, "--name", "bad", "--out", str(tmp_path), "--registry",
                 str(tmp_path / "registry.json")]) == 2
    assert capsys.readouterr().err.startswith(("error: activation:", "error: slope:"))
    assert not list(tmp_path.iterdir())


def _add_bump(tmp_path: Path) -> Path:
    """``python -m derive --activation "exp(-x**2/2)" --name bump`` into ``tmp_path/out``, with a registry there."""
    registry_file = tmp_path / "registry.json"
    registry_file.write_text('{"xerf": "x*erf(x)"}\n', encoding="utf-8")
    assert main(["--activation", "exp(-x**2/2)", "--name", "bump", "--out", str(tmp_path / "out"), "--registry",
                 str(registry_file)]) == 0
    return tmp_path / "out"


def test_custom_activation_is_certified_recorded_and_touches_no_other_file(tmp_path, capsys):
    out = _add_bump(tmp_path)
    assert "bump: certified for q in [1e-08, 1e+08] (quadrature" in capsys.readouterr().out
    assert [p.relative_to(out).as_posix() for p in out.rglob("*.py")] == ["activations/bump.py"]
    recorded = json.loads((tmp_path / "registry.json").read_text(encoding="utf-8"))
    assert recorded == {"bump": "exp(-x**2/2)", "xerf": "x*erf(x)"}


@pytest.mark.slow
def test_custom_activation_module_is_exact(tmp_path):
    """The new module, compiled afresh: its constants against closed forms at small, unit and large variance."""
    bump = _import(_add_bump(tmp_path) / "activations" / "bump.py")
    # E exp(−q g²/2) = 1/√(1 + q); E[e^{−u²/2} e^{−v²/2}] = 1/√((1 + q)² − q² γ²)
    for q in (1e-6, 1.5, 1e6):
        assert bump.moments(q)[0] == pytest.approx(1 / math.sqrt(1 + q), rel=1e-14)
    assert bump.kernel(0.4, 1.0, 1.0) == pytest.approx(1 / math.sqrt(4 - 0.16), rel=1e-14)
    assert bump.kernel(0.4, 1e4, 1e4) == pytest.approx(1 / math.sqrt((1 + 1e4) ** 2 - 1e8 * 0.16), rel=1e-13)


def test_registry_refuses_a_recorded_name_with_another_specification(tmp_path):
    path = tmp_path / "registry.json"
    registry.record("xerf", "x*erf(x)", path)
    registry.record("xerf", "x*erf(x)", path)  # the same again: nothing to do
    with pytest.raises(ValueError, match=r"^name: 'xerf' is already recorded as 'x\*erf\(x\)'"):
        registry.record("xerf", "x*tanh(x)", path)
    assert registry.recorded(path) == {"xerf": "x*erf(x)"}
