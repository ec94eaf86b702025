#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need
# (rsyslog, syslog-ng, logger, zstd, ripgrep, staticcheck, MinIO), checks
# formatting and vet, starts MinIO on 127.0.0.1, runs every test with the
# real senders and S3 required, then each fuzzer briefly.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-5s}

./scripts/install-test-deps.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
if ! command -v staticcheck >/dev/null 2>&1; then
  GOBIN="$PWD/.tools/bin" go install honnef.co/go/tools/cmd/staticcheck@latest
  export PATH="$PWD/.tools/bin:$PATH"
fi
staticcheck ./...

echo "== MinIO (for the S3 tests)"
eval "$(./scripts/minio.sh start)"
trap './scripts/minio.sh stop' EXIT
export MAMORI_REQUIRE_S3=1

echo "== go test"
export MAMORI_REQUIRE_SENDERS=1
go test -count=1 -timeout 20m ./...

echo "== fuzz (${FUZZTIME} each)"
# Every Fuzz function of every package, run briefly from its committed seeds.
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for fn in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "-- $pkg $fn"
    # Go's fuzzer can stop with "context deadline exceeded" when -fuzztime
    # ends while it is still working on a new input; that is not a finding
    # (a finding writes "Failing input"), so such a run is tried again, up
    # to three runs in all.
    for attempt in 1 2 3; do
      if out=$(go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1); then
        echo "$out" | tail -n 2
        break
      fi
      echo "$out"
      if grep -q "Failing input" <<<"$out" || ! grep -q "context deadline exceeded" <<<"$out" || [ "$attempt" = 3 ]; then
        exit 1
      fi
      echo "-- $pkg $fn: fuzzer stopped at its deadline, not on a finding; running it again"
    done
  done
done
echo "== all tests passed"
