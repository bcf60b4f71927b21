"""Packaging: `pip wheel ./bindings/python` gives a wheel that installs without Rust; a build
without cargo, or against a header that no longer matches the declarations, fails clearly."""

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
LIB = os.path.join(os.path.dirname(tokenward.__file__), "libtokenward.so")


def _no_rust_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO", "RUSTUP"))}
    env["PATH"] = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not shutil.which("cargo", path=p)
    )
    env["HOME"] = str(tmp_path / "home")  # no ~/.cargo/bin either
    env.pop("TOKENWARD_LIB", None)
    env.pop("TOKENWARD_WORKSPACE", None)
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
    p = _pip(["wheel", "--no-deps", "-w", str(out), PKG])
    assert p.returncode == 0, p.stdout + p.stderr
    (w,) = [f for f in os.listdir(out) if f.endswith(".whl")]
    return os.path.join(out, w)


def test_the_wheel_holds_the_library_and_is_not_tied_to_a_python(wheel):
    name = os.path.basename(wheel)
    assert re.match(r"tokenward-\d+\.\d+\.\d+-py3-none-\w+\.whl$", name), name
    assert "any" not in name.split("-")[-1]
    names = zipfile.ZipFile(wheel).namelist()
    for f in ("tokenward/libtokenward.so", "tokenward/py.typed", "tokenward/tokenward.h", "tokenward/__init__.py"):
        assert f in names, names


def test_the_wheel_installs_and_works_without_rust(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    env = _no_rust_env(tmp_path)
    p = subprocess.run([py, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", wheel], capture_output=True, text=True, env=env)
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
    assert "cargo (Rust) is needed to build libtokenward" in out, out[-2000:]
    assert "https://rustup.rs" in out


def test_a_header_that_no_longer_matches_fails_the_build(tmp_path):
    ws = tmp_path / "ws"
    (ws / "ffi").mkdir(parents=True)
    (ws / "include").mkdir()
    shutil.copy(os.path.join(REPO, "Cargo.toml"), ws / "Cargo.toml")
    shutil.copy(os.path.join(REPO, "ffi", "Cargo.toml"), ws / "ffi" / "Cargo.toml")
    with open(os.path.join(REPO, "include", "tokenward.h"), encoding="utf-8") as f:
        header = f.read()
    changed = header.replace(
        "tw_result tw_client_access_token(const tw_client *client,\n                                 char *buf,\n                                 size_t buf_len,",
        "tw_result tw_client_access_token(const tw_client *client,\n                                 char *buf,\n                                 uint32_t buf_len,",
    )
    assert changed != header
    (ws / "include" / "tokenward.h").write_text(changed)
    src = tmp_path / "src"
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    env = dict(os.environ, TOKENWARD_WORKSPACE=str(ws), TOKENWARD_LIB=LIB)
    p = _pip(["wheel", "--no-deps", "-w", str(tmp_path / "out"), str(src)], env=env)
    assert p.returncode != 0
    out = p.stdout + p.stderr
    assert "no longer matches the Python declarations" in out, out[-2000:]
    assert "tw_client_access_token: the header says" in out
    # and the same workspace with the real header builds, from the prebuilt library
    (ws / "include" / "tokenward.h").write_text(header)
    p = _pip(["wheel", "--no-deps", "-w", str(tmp_path / "out"), str(src)], env=env)
    assert p.returncode == 0, (p.stdout + p.stderr)[-2000:]
