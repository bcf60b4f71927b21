# Types for the module cffi's recompiler writes at build time (maturin, bindings = "cffi"):
# the declarations of include/tokenward.h, for ABI mode.
from typing import Any

ffi: Any
