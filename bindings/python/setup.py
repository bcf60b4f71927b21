"""Build step of the tokenward package: compile libtokenward with cargo and put it in the wheel.

pyproject.toml holds the metadata; this file adds what setuptools cannot know:

- `build_py` also runs `cargo build --release -p tokenward-ffi` in the Cargo workspace two
  levels up (../../, the repository root) and copies the shared library and
  include/tokenward.h into the package, after checking the package's C declarations
  (src/tokenward/_abi.py) against that header;
- the wheel is platform-specific (it holds a native library) but not tied to a Python version
  (ctypes), so it is tagged py3-none-<platform>.

Environment:
  TOKENWARD_WORKSPACE  the Cargo workspace (default: ../.. from this file)
  TOKENWARD_LIB        a prebuilt libtokenward to bundle instead of running cargo
  CARGO                the cargo to run (default: cargo on PATH, then ~/.cargo/bin/cargo)
  CARGO_TARGET_DIR     honoured, as cargo does
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent

if sys.platform == "darwin":
    LIB = "libtokenward.dylib"
elif sys.platform == "win32":
    LIB = "tokenward.dll"
else:
    LIB = "libtokenward.so"


class BuildError(SystemExit):
    def __init__(self, msg: str) -> None:
        super().__init__(f"\ntokenward build: {msg}\n")


def workspace() -> Path:
    root = Path(os.environ.get("TOKENWARD_WORKSPACE") or HERE.parent.parent).resolve()
    manifest = root / "Cargo.toml"
    if not (manifest.is_file() and (root / "ffi" / "Cargo.toml").is_file()):
        raise BuildError(
            f"no tokenward Cargo workspace at {root} (looked for Cargo.toml and ffi/Cargo.toml). "
            "Build from the repository (pip install ./bindings/python), set "
            "TOKENWARD_WORKSPACE=/path/to/tokenward, or set TOKENWARD_LIB to a prebuilt "
            f"{LIB} (with TOKENWARD_WORKSPACE for its include/tokenward.h)."
        )
    if "[workspace]" not in manifest.read_text(encoding="utf-8"):
        raise BuildError(f"{manifest} is not a Cargo workspace manifest")
    return root


def version() -> str:
    text = (workspace() / "Cargo.toml").read_text(encoding="utf-8")
    m = re.search(r'^\[workspace\.package\][^\[]*?^version\s*=\s*"([^"]+)"', text, re.M | re.S)
    if not m:
        raise BuildError("no [workspace.package] version in the workspace Cargo.toml")
    return m.group(1)


def find_cargo() -> str:
    cargo = os.environ.get("CARGO") or shutil.which("cargo")
    if not cargo:
        home = Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")
        candidate = home / "bin" / ("cargo.exe" if sys.platform == "win32" else "cargo")
        if candidate.is_file():
            cargo = str(candidate)
    if not cargo:
        raise BuildError(
            "cargo (Rust) is needed to build libtokenward, and none was found on PATH or in "
            "~/.cargo/bin. Install Rust from https://rustup.rs (then open a new shell), or "
            f"install a prebuilt tokenward wheel, or set TOKENWARD_LIB to a prebuilt {LIB}."
        )
    return cargo


def check_header(header: Path) -> None:
    """The package's declarations must match the header it is built with."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_tw_abi", HERE / "src" / "tokenward" / "_abi.py")
    assert spec and spec.loader
    abi = importlib.util.module_from_spec(spec)
    sys.modules["_tw_abi"] = abi
    spec.loader.exec_module(abi)
    breaking, missing = abi.compare(abi.parse_header(header.read_text(encoding="utf-8")))
    if breaking:
        raise BuildError(
            f"{header} no longer matches the Python declarations in "
            "bindings/python/src/tokenward/_abi.py:\n  " + "\n  ".join(breaking)
        )
    for m in missing:
        print(f"tokenward build: note: {m}", file=sys.stderr)


def build_library() -> Path:
    prebuilt = os.environ.get("TOKENWARD_LIB")
    if prebuilt:
        path = Path(prebuilt).resolve()
        if not path.is_file():
            raise BuildError(f"TOKENWARD_LIB={prebuilt} is not a file")
        return path
    root = workspace()
    cargo = find_cargo()
    cmd = [cargo, "build", "--release", "-p", "tokenward-ffi"]
    print(f"tokenward build: {' '.join(cmd)} (in {root})", file=sys.stderr, flush=True)
    try:
        subprocess.run(cmd, cwd=root, check=True)
    except FileNotFoundError:
        raise BuildError(f"cannot run {cargo}; install Rust from https://rustup.rs") from None
    except subprocess.CalledProcessError as e:
        raise BuildError(f"`{' '.join(cmd)}` failed (exit {e.returncode}); see cargo's output above") from None
    target = Path(os.environ.get("CARGO_TARGET_DIR") or root / "target")
    if not target.is_absolute():
        target = root / target
    lib = target / "release" / LIB
    if not lib.is_file():
        raise BuildError(f"cargo succeeded but {lib} is missing")
    return lib


class BuildPyWithLibrary(build_py):
    def run(self) -> None:
        super().run()
        header = workspace() / "include" / "tokenward.h"
        if not header.is_file():
            raise BuildError(f"{header} is missing")
        check_header(header)
        lib = build_library()
        dest = Path(self.build_lib) / "tokenward"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lib, dest / LIB)
        os.chmod(dest / LIB, 0o755)
        if sys.platform.startswith("linux") and shutil.which("strip"):
            # Debug symbols stay out of the wheel (3 MB instead of tens).
            subprocess.run(["strip", "--strip-unneeded", str(dest / LIB)], check=False)
        shutil.copyfile(header, dest / "tokenward.h")


class PlatformWheel(bdist_wheel):
    """py3-none-<platform>: a native library, loaded with ctypes from any Python 3."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):  # type: ignore[no-untyped-def]
        _, _, plat = super().get_tag()
        return "py3", "none", plat


class BinaryDistribution(Distribution):
    """Holds a native library: installed to platlib, never treated as pure Python."""

    def has_ext_modules(self) -> bool:
        return True


setup(
    version=version(),
    distclass=BinaryDistribution,
    cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel},
)
