"""Packaging: `pip wheel ./bindings/python` (maturin, from PyPI by the build isolation) gives a
manylinux wheel, checked by maturin's auditwheel, that installs without Rust; a build without
cargo fails clearly. (`pip install ./bindings/python` itself is how tests/python/run installs
the package under test.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

import tokenward
from conftest import REPO

PKG = os.path.join(REPO, "bindings", "python")


def _no_rust_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO", "RUSTUP"))}
    env["PATH"] = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not shutil.which("cargo", path=p)
    )
    env["HOME"] = str(tmp_path / "home")  # no ~/.cargo/bin either
    # maturin would otherwise install Rust itself (puccinialin) when cargo is missing
    env["MATURIN_NO_INSTALL_RUST"] = "1"
    return env


def _pip(args, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # A wheel to publish: maturin's "pypi" compatibility, as pyproject.toml sets it for
    # `maturin build` (pip's PEP 517 path would otherwise pass --compatibility off).
    p = _pip(["wheel", "--no-deps", "-C", "maturin.build-args=--compatibility pypi", "-w", str(out), PKG])
    assert p.returncode == 0, p.stdout + p.stderr
    (w,) = [f for f in os.listdir(out) if f.endswith(".whl")]
    return os.path.join(out, w)


def test_the_wheel_is_manylinux_and_holds_the_library(wheel):
    name = os.path.basename(wheel)
    # py3-none: cffi's ABI mode ties it to no Python version; manylinux: the tag maturin's
    # auditwheel check gave it (a package index refuses linux_x86_64)
    m = re.match(r"tokenward-\d+\.\d+\.\d+-py3-none-((?:manylinux\w+\.)*manylinux_\d+_\d+_\w+)\.whl$", name)
    assert m, name
    if sys.platform.startswith("linux"):
        assert "linux_x86_64" not in re.sub(r"manylinux", "", m.group(1)), name
    zf = zipfile.ZipFile(wheel)
    names = zf.namelist()
    for f in (
        "tokenward/__init__.py",
        "tokenward/py.typed",
        "tokenward/_native/__init__.py",  # maturin: opens the library with ffi
        "tokenward/_native/ffi.py",  # maturin + cffi: the header's declarations
        "tokenward/_native/__init__.pyi",
    ):
        assert f in names, names
    assert [f for f in names if f.startswith("tokenward/_native/") and f.endswith(".so")], names
    assert not [f for f in names if f.endswith(("_abi.py", "setup.py"))], names
    (wheel_meta,) = [f for f in names if f.endswith(".dist-info/WHEEL")]
    meta = zf.read(wheel_meta).decode()
    assert "Root-Is-Purelib: false" in meta and f"Tag: py3-none-{m.group(1).split('.')[-1]}" in meta, meta
    (metadata,) = [f for f in names if f.endswith(".dist-info/METADATA")]
    assert "Requires-Dist: cffi" in zf.read(metadata).decode()


def test_the_wheel_installs_and_works_without_rust(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    env = _no_rust_env(tmp_path)
    # its one dependency, cffi, comes from the index as a wheel: no compiler either
    p = subprocess.run([py, "-m", "pip", "install", "--disable-pip-version-check", wheel], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "import tokenward, scripted\n"
        "s = scripted.ScriptedServer()\n"
        "with tokenward.Client.from_token_url(s.endpoint().token_url, client_id='c1', client_secret='s1') as c:\n"
        "    print(tokenward.__version__, len(c.token()) > 100, c.token_info().expires_in)\n"
        "s.close()\n" % os.path.dirname(os.path.abspath(__file__))
    )
    p = subprocess.run([py, "-c", code], capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [tokenward.__version__, "True", "3600"]


def test_building_without_cargo_says_what_to_do(tmp_path):
    p = _pip(["wheel", "--no-deps", "-w", str(tmp_path), PKG], env=_no_rust_env(tmp_path))
    assert p.returncode != 0
    out = p.stdout + p.stderr
    assert "Cargo, the Rust package manager, is not installed" in out, out[-2000:]
    assert "https://rustup.rs" in out
