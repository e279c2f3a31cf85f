# Shared by scripts/run, scripts/test and scripts/check: find Python 3.11+, make .venv, install.
# Usage: source scripts/_venv.sh; ensure_venv ".[test]"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# llama-cpp-python (a test extra) compiles llama.cpp when no wheel fits. Its default
# -march=native build crashed on some CPUs; these flags build a portable library instead
# (about 3 minutes on 2 cores). Set here so every script that installs gets them.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF}"
VENV="${PIPULATE_VENV:-$ROOT/.venv}"

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  echo "pipulate: Python 3.11 or newer is needed (python.org, or your package manager)" >&2
  return 1
}

# with_progress WHAT COMMAND...: run a long install, saying what it does every few seconds (pip is
# quiet when not on a terminal, and building llama.cpp takes minutes). Its output is shown in full
# only if it fails.
with_progress() {
  local what="$1"; shift
  local log; log="$(mktemp)"
  "$@" >"$log" 2>&1 &
  local pid=$! started=$SECONDS said="" told=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    local step; step="$(grep -E '^ *(Collecting|Downloading|Processing|Building|Installing|Successfully|\[ *[0-9]+%\])' "$log" | tail -n 1 | sed 's/^ *//' | cut -c1-100 || true)"
    if [ "$step" != "$said" ] || [ $((SECONDS - told)) -ge 15 ]; then
      echo "pipulate: $what ($((SECONDS - started)) s): ${step:-starting}" >&2
      said="$step"; told=$SECONDS
    fi
  done
  local status=0
  wait "$pid" || status=$?
  if [ "$status" -ne 0 ]; then cat "$log" >&2; else echo "pipulate: $what: done in $((SECONDS - started)) s" >&2; fi
  rm -f "$log"
  return "$status"
}

# ensure_venv SPEC: create .venv if needed and install SPEC (e.g. "." or ".[test]") when
# pyproject.toml changed since the last install, so a second run starts at once.
ensure_venv() {
  local spec="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    local python; python="$(find_python)"
    echo "pipulate: creating $VENV with $python" >&2
    "$python" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$(echo "$spec" | tr -c 'a-z' '_')"
  local digest; digest="$(cat "$ROOT/pyproject.toml" "$ROOT"/packages/*/pyproject.toml 2>/dev/null | "$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "pipulate: installing $spec into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2 || true
    # -v: pip then names each step (and the llama.cpp build's progress) in the log read above.
    (cd "$ROOT" && with_progress "installing $spec" "$VENV/bin/python" -m pip install -v --progress-bar off -e "$spec")
    # The plugin packages of this repository (packages/*: the SEO tools), from this checkout, so
    # the app and the tests run the same files the repository holds.
    for package in "$ROOT"/packages/*/; do
      [ -f "$package/pyproject.toml" ] && (cd "$ROOT" && "$VENV/bin/python" -m pip install --quiet -e "$package") >&2
    done
    echo "$digest" > "$stamp"
  fi
}
