#!/usr/bin/env python3
"""What makes libtokenward.so big: symbol sizes (nm) summed by crate, largest first.

    size.py LIBRARY [TOP]   prints "crate=KiB, ..." for the TOP (default 6) crates
"""
import re
import subprocess
import sys
from collections import Counter

lib = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 6
out = subprocess.run(["nm", "--size-sort", "-C", "--radix=d", lib], capture_output=True, text=True).stdout
sizes = Counter()
for line in out.splitlines():
    parts = line.split(" ", 2)  # with --size-sort: SIZE TYPE NAME
    if len(parts) < 3 or parts[1].lower() not in "tdrbvw":
        continue
    size, name = int(parts[0]), parts[2]
    # The first path segment: `<ring::x as core::Y>::f` -> ring, `rustls::a::b` -> rustls.
    m = re.match(r"[<&*\s]*(?:dyn\s+|impl\s+)?([A-Za-z_][A-Za-z0-9_]*)::", name)
    if m:
        crate = m.group(1)
    elif name.startswith("tw_"):
        crate = "tokenward-ffi"
    elif name.startswith("rust_"):
        crate = "std"
    else:
        crate = "ring"  # the only C/assembly in the library: ring's crypto (P-256 tables, x25519, AES, ...)
    if crate in ("alloc", "core", "std", "hashbrown", "gimli", "addr2line", "miniz_oxide", "rustc_demangle", "object"):
        crate = "std"
    sizes[crate] += size
total = sum(sizes.values())
print(", ".join(f"{c} {s / 1024:.0f} KiB" for c, s in sizes.most_common(top)) + f" (of {total / 1024:.0f} KiB in symbols)")
