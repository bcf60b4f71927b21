#!/usr/bin/env bash
# Installs libtokenward for C and C++ projects:
#
#   ffi/install.sh PREFIX
#
#   PREFIX/include/tokenward.h            the C API
#   PREFIX/include/tokenward.hpp          the header-only C++ wrapper
#   PREFIX/LIBDIR/libtokenward.so         shared library
#   PREFIX/LIBDIR/libtokenward.a          static library
#   PREFIX/LIBDIR/pkgconfig/tokenward.pc  pkg-config: `pkg-config --cflags --libs tokenward`
#                                         (add --static for libtokenward.a)
#   PREFIX/LIBDIR/cmake/tokenward/        CMake: find_package(tokenward) -> tokenward::tokenward
#                                         (shared) and tokenward::tokenward_static
#
# Environment: LIBDIR (default lib), DESTDIR (staging root, as in `make install DESTDIR=...`),
# TW_NO_BUILD=1 to install what target/release holds without running cargo.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 PREFIX" >&2; exit 2; }
case $1 in
  /*) prefix=$1 ;;
  *) prefix=$(pwd)/$1 ;;
esac
libdir_name=${LIBDIR:-lib}
dest=${DESTDIR:-}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
target=${CARGO_TARGET_DIR:-$root/target}/release

if [[ ${TW_NO_BUILD:-0} != 1 ]]; then
  (cd "$root" && cargo build --release --quiet -p tokenward-ffi)
fi
for f in libtokenward.so libtokenward.a; do
  [[ -f $target/$f ]] || { echo "install: $target/$f missing; build with cargo build --release -p tokenward-ffi" >&2; exit 1; }
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)
[[ -n $version ]] || { echo "install: no version in Cargo.toml" >&2; exit 1; }
# What a static link needs besides libtokenward.a (rustc --print native-static-libs).
static_libs="-lpthread -ldl -lm -lrt -lutil -lgcc_s"

inc=$dest$prefix/include
lib=$dest$prefix/$libdir_name
install -d "$inc" "$lib/pkgconfig" "$lib/cmake/tokenward"
install -m 644 "$root/include/tokenward.h" "$inc/tokenward.h"
install -m 644 "$root/bindings/cpp/tokenward.hpp" "$inc/tokenward.hpp"
install -m 755 "$target/libtokenward.so" "$lib/libtokenward.so"
install -m 644 "$target/libtokenward.a" "$lib/libtokenward.a"
# Debug info stays out of the installed shared library.
strip --strip-unneeded "$lib/libtokenward.so" 2>/dev/null || true

cat >"$lib/pkgconfig/tokenward.pc" <<EOF
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/$libdir_name
includedir=\${prefix}/include

Name: tokenward
Description: OAuth 2.0 / OpenID Connect client for Keycloak (C API; C++ wrapper tokenward.hpp)
Version: $version
Libs: -L\${libdir} -ltokenward
Libs.private: $static_libs
Cflags: -I\${includedir}
EOF

# Relocatable: paths are found from this file's own location.
up=$(printf '%s' "$libdir_name/cmake/tokenward" | tr -s '/' | awk -F/ '{for (i = 0; i < NF; i++) printf "/.."}')
cat >"$lib/cmake/tokenward/tokenward-config.cmake" <<EOF
# CMake package for tokenward (installed by ffi/install.sh).
#   find_package(tokenward REQUIRED)
#   target_link_libraries(app PRIVATE tokenward::tokenward)         # shared
#   target_link_libraries(app PRIVATE tokenward::tokenward_static)  # static
get_filename_component(_tokenward_prefix "\${CMAKE_CURRENT_LIST_DIR}$up" ABSOLUTE)
set(tokenward_INCLUDE_DIRS "\${_tokenward_prefix}/include")
set(tokenward_VERSION "$version")

if(NOT TARGET tokenward::tokenward)
  add_library(tokenward::tokenward SHARED IMPORTED)
  set_target_properties(tokenward::tokenward PROPERTIES
    IMPORTED_LOCATION "\${_tokenward_prefix}/$libdir_name/libtokenward.so"
    IMPORTED_NO_SONAME TRUE
    INTERFACE_INCLUDE_DIRECTORIES "\${_tokenward_prefix}/include")
endif()

if(NOT TARGET tokenward::tokenward_static)
  find_package(Threads REQUIRED)
  add_library(tokenward::tokenward_static STATIC IMPORTED)
  set_target_properties(tokenward::tokenward_static PROPERTIES
    IMPORTED_LOCATION "\${_tokenward_prefix}/$libdir_name/libtokenward.a"
    INTERFACE_INCLUDE_DIRECTORIES "\${_tokenward_prefix}/include"
    INTERFACE_LINK_LIBRARIES "Threads::Threads;\${CMAKE_DL_LIBS};m;rt;util")
endif()
unset(_tokenward_prefix)
EOF

# Before 1.0 a minor release may change the ABI (compatible: same 0.minor), then a major one.
abi=${version%%.*}
[[ $abi == 0 ]] && abi=$(cut -d. -f1,2 <<<"$version")
cat >"$lib/cmake/tokenward/tokenward-config-version.cmake" <<EOF
# Compatible with requests for the same ABI ($abi.*) that are not newer than $version.
set(PACKAGE_VERSION "$version")
set(PACKAGE_VERSION_COMPATIBLE FALSE)
if(NOT PACKAGE_FIND_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
else()
  string(FIND "\${PACKAGE_FIND_VERSION}." "$abi." _tokenward_pos)
  if(_tokenward_pos EQUAL 0 AND NOT PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
  endif()
  if(PACKAGE_FIND_VERSION VERSION_EQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
  unset(_tokenward_pos)
endif()
EOF

echo "install: tokenward $version in $dest$prefix ($libdir_name)"
