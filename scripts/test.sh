#!/usr/bin/env bash
# Runs the whole test suite (every test project in Delta.sln, slow end-to-end ones included) and
# ends with the plain line "N passed, N failed" summed over all projects. Extra args go to dotnet test
# (e.g. --filter "Category!=Slow" for a quick local run).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
results="$ROOT/.cache/test-results"
# The service's multi-host tests need a real PostgreSQL on loopback (installed and started idempotently).
if pg=$("$ROOT/scripts/postgres.sh"); then eval "$pg"; else echo "test.sh: PostgreSQL could not be started; its tests fail in CI and are skipped locally." >&2; fi
rm -rf "$results"; mkdir -p "$results"
dotnet test "$ROOT/Delta.sln" -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" "$@"
rc=$?
echo "test.sh: dotnet test exited $rc after $SECONDS s (this script's wall time so far)" >&2
passed=0; failed=0; skipped=0
for f in "$results"/*.trx; do
  [ -f "$f" ] || continue
  line=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  get() { echo "$line" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  p=$(get passed); fl=$(get failed); t=$(get total); e=$(get executed)
  passed=$((passed + ${p:-0})); failed=$((failed + ${fl:-0}))
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done
# A crashed test host leaves no counters: count it as a failure rather than as silence.
if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then failed=1; echo "test run exited with $rc without a failed test counted (build or test host crash?)" >&2; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
