# The README's commands. Each target is one script, readable and runnable on its own.
.PHONY: demo test bench soak header install

PREFIX ?= /usr/local
LIBDIR ?= lib

## demo: start the bundled Keycloak and show every binding against the four seed systems
demo:
	scripts/demo

## test: install what is missing, then run every suite against a real Keycloak
test:
	tests/run

## bench: tokenward beside its peers, medians in one table
bench:
	bench/run

## soak: 16 threads for 10 minutes with 3 s tokens, Keycloak restarted midway; then 4 processes
## sharing one rotating user session through Redis and the file store for 60 s each
soak:
	tests/soak/run 600
	tests/store/rotation-soak 60

## header: regenerate include/tokenward.h with the pinned cbindgen
header:
	ffi/gen-header.sh

## install: libtokenward, headers, pkg-config and CMake files under PREFIX
install:
	DESTDIR="$(DESTDIR)" LIBDIR="$(LIBDIR)" ffi/install.sh "$(PREFIX)"
