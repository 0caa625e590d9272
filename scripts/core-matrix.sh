#!/usr/bin/env bash
# Sanity and unit tests of the collection on the other ansible-core versions users run:
# the newest release (needs Python >= 3.12) and the oldest one meta/runtime.yml claims.
# The project's main venv (ansible-core 2.19, make unit/sanity) covers the middle.
#   scripts/core-matrix.sh [CORE_VERSION ...]      default: the two below
# Each version gets its own venv under .venv-matrix/ (reused while its package list is unchanged).
# A version whose Python is missing here is skipped with a message, never silently.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
log() { printf '[core-matrix] %s\n' "$*"; }

# ansible-core version -> the Python it is tested with (controller support of that release).
declare -A python_for=([2.21.5]=3.12 [2.17.14]=3.11)
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(2.21.5 2.17.14)
# What the plugin unit tests import besides ansible-core (the roles' tests need the full ansible
# package and molecule's toolchain, which the main venv covers).
test_packages=(pytest==9.2.0 pytest-xdist==3.8.0 hypothesis==6.170.15 dnspython==2.9.2 bcrypt==5.0.0 pyyaml requests)

find_python() {
  local want=$1 candidate
  # pyenv's shims exist for versions that are not selected: only a Python that runs counts.
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$want".*/bin/python"$want" /usr/bin/python"$want" \
                   /usr/local/bin/python"$want" "python$want"; do
    if "$candidate" --version >/dev/null 2>&1; then command -v "$candidate"; return 0; fi
  done
  return 1
}

status=0
for core in "${versions[@]}"; do
  py=${python_for[$core]:-3.11}
  if ! python=$(find_python "$py"); then
    log "SKIPPED ansible-core $core: no Python $py on this machine"
    continue
  fi
  venv=$here/.venv-matrix/core-$core
  want=$(printf '%s\n' "$python" "ansible-core==$core" "${test_packages[@]}" | sha256sum | cut -c1-16)
  if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]; then
    log "creating $venv (ansible-core $core, $($python --version))"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q "ansible-core==$core" "${test_packages[@]}"
    echo "$want" >"$venv/.stamp"
  fi
  # The collection where ansible-test and the module loader expect it, as the main sanity target does.
  coll=$here/.build/matrix-$core/ansible_collections/natloop/lan
  rm -rf "$here/.build/matrix-$core" && mkdir -p "$coll"
  git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$coll" -xf -
  (cd "$coll" && git init -q && git add -A)
  # ansible-test's pip bootstrap host is unreachable here: the offline replacement, for the pip
  # version this ansible-test pins.
  pip_pin=$(grep -oE "pip='[0-9.]+'" "$venv"/lib/python*/site-packages/ansible_test/_internal/python_requirements.py | head -1 | tr -dc '0-9.')
  mkdir -p "$HOME/.ansible/test/cache"
  cp scripts/ansible_test_get_pip.py "$HOME/.ansible/test/cache/get_pip_${pip_pin//./_}.py"

  log "ansible-core $core on Python $py: sanity"
  # The sanity tests whose verdict depends on the ansible-core release (module docs and argument
  # specs, imports, syntax, runtime metadata). The version-independent ones (pep8, yamllint, pylint,
  # changelog, ...) run once, on the main venv's release (make sanity).
  if ! (cd "$coll" && PATH="$venv/bin:$PATH" ansible-test sanity --local --python "$py" --requirements \
          --color no --test validate-modules --test ansible-doc --test import --test compile \
          --test runtime-metadata --test action-plugin-docs --test ignores); then
    log "FAILED sanity on ansible-core $core"; status=1
  fi
  log "ansible-core $core on Python $py: plugin unit tests"
  if ! (cd "$coll" && ANSIBLE_COLLECTIONS_PATH="$here/.build/matrix-$core" PYTHONPATH="$here/.build/matrix-$core" \
          "$venv/bin/pytest" -q -p no:cacheprovider -n 2 tests/unit/plugins); then
    log "FAILED unit tests on ansible-core $core"; status=1
  fi
done
exit $status
