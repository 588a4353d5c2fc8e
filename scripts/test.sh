#!/usr/bin/env bash
# The whole check, from a clean Debian 12 machine (root, Python 3.11 and pip, nothing else) or a
# developer's virtualenv:
#   1. Debian packages, if missing (apt-get): PostgreSQL's server binaries (the tests start a
#      throwaway server of their own, tests/pg.py, and run every database test on it as well
#      as on SQLite), curl (the README's tour runs as written) and chromium (the browser tests
#      of the web pages drive it with Playwright, which cannot download a browser of its own);
#   2. the project and its test dependencies (pip install -e '.[test]'), into the active
#      virtualenv if there is one, else into this machine's Python;
#   3. ruff, mypy, import-linter and pytest. Arguments go to pytest:
#        bash scripts/test.sh                  everything
#        bash scripts/test.sh tests/unit -x    some of it
# UPPHANDLA_TEST_BACKENDS=sqlite leaves PostgreSQL out (and does not install it).
# Every check runs even if an earlier one fails; the exit status is non-zero if any failed.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

step() { printf '\n==> %s\n' "$*"; }

wants_postgresql() {
    [[ "${UPPHANDLA_TEST_BACKENDS:-postgresql}" == *postgresql* && -z "${UPPHANDLA_PG_BINDIR:-}" ]]
}

# Debian packages the tests need and the machine lacks: PostgreSQL's server binaries (the tests
# start a throwaway server of their own), curl (the README's tour is run as written) and
# chromium (the browser tests of the web pages, tests/pages).
debian=()
if wants_postgresql && ! compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' > /dev/null; then
    debian+=(postgresql)
fi
command -v curl > /dev/null || debian+=(curl)
command -v chromium > /dev/null || debian+=(chromium)
if ((${#debian[@]})); then
    step "Installing Debian packages: ${debian[*]} (apt-get install)"
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo > /dev/null; then
        as_root=(sudo)
    else
        echo "Missing: ${debian[*]}; installing them needs root or sudo." >&2
        echo "Install them (apt-get install ${debian[*]}); without PostgreSQL, set" \
            "UPPHANDLA_TEST_BACKENDS=sqlite." >&2
        exit 1
    fi
    # Only PostgreSQL's binaries are wanted: no "main" cluster, which would otherwise be created
    # and started as a system service by the package and outlive the tests.
    "${as_root[@]}" mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" |
        "${as_root[@]}" tee /etc/postgresql-common/createcluster.d/no-main-cluster.conf > /dev/null
    "${as_root[@]}" apt-get update
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${debian[@]}"
fi

step "Installing upphandla with its test dependencies (pip install -e '.[test]')"
if python3 -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
    python3 -m pip install --quiet -e '.[test]'
else
    # No virtualenv: this machine's own Python, as on a clean CI machine. Debian marks it as
    # externally managed; installing into it anyway is the point here.
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore \
        python3 -m pip install --quiet -e '.[test]'
fi

failed=()

step "ruff check ."
python3 -m ruff check . || failed+=("ruff")

step "mypy"
# mypy finds modules by their files; the package `upphandla` is this folder, so it looks at the
# folder under that name through a link in a temporary directory.
mypy_root=$(mktemp -d)
ln -s "$PWD" "$mypy_root/upphandla"
(cd "$mypy_root" && MYPYPATH="$mypy_root" python3 -m mypy --config-file "$OLDPWD/pyproject.toml" \
    -m upphandla -p upphandla.states -p upphandla.store -p upphandla.flows \
    -p upphandla.notifications -p upphandla.api -p upphandla.cli -p upphandla.seeds) ||
    failed+=("mypy")
rm -rf "$mypy_root"

step "lint-imports (the direction of imports, pyproject.toml [tool.importlinter])"
python3 -c 'import sys; from importlinter.cli import lint_imports_command as lint; sys.exit(lint())' ||
    failed+=("lint-imports")

# Two workers (pytest-xdist), a test file at a time each: the machines CI runs on have two
# cores. UPPHANDLA_TEST_WORKERS=0 runs everything in this process.
workers=${UPPHANDLA_TEST_WORKERS:-2}
step "pytest -n $workers $*"
python3 -m pytest -n "$workers" --dist loadfile "$@" || failed+=("pytest")

if ((${#failed[@]})); then
    printf '\nFailed: %s\n' "${failed[*]}" >&2
    exit 1
fi
printf '\nAll checks passed.\n'
