# Types for the module maturin generates at build time (bindings = "cffi"): `ffi` holds the
# declarations of include/tokenward.h, `lib` the bundled libtokenward opened with them.
from typing import Any

ffi: Any
lib: Any
