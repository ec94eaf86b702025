#!/usr/bin/env bash
# End-to-end import throughput per dataset: `mamori import` of a file made by
# repeating a dataset's real samples from ../shared/corpus, into a fresh data
# directory (archive, parse, normalise, store, index: the whole local path).
#
#   scripts/bench-import.sh [LINES] [RUNS]     (defaults 200000 lines, 3 runs)
#
# Prints, per dataset, the median of RUNS of the records/s `mamori import`
# reports and the CPU time per record (user + sys of the whole process).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-200000}
runs=${2:-3}
corpus=${MAMORI_CORPUS:-../shared/corpus}
[ -d "$corpus" ] || { echo "no corpus at $corpus (set MAMORI_CORPUS)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/mamori" ./cmd/mamori

# dataset  sample files (relative to the corpus), one record per line
specs=(
  "linux.syslog syslog/test-suse-syslog.log"
  "panw.panos ngfw_panos/test-panw-panos-traffic-sample.log ngfw_panos/test-panw-panos-threat-url-no-xff-sample.log"
  "fortinet.fortigate ngfw_fortigate/test-fortinet-7-6.log"
  "trendmicro.deepsecurity trendmicro_deepsecurity/test-trend-micro.raw-cef.log"
  "aws.vpcflow aws_vpcflow/test-v5-all-fields.log"
  "dns.query dns/test-dns.log"
  "nginx.access nginx_access/test-access.log"
  "aws.cloudtrail aws_cloudtrail/test-console-login-json.log"
)

printf '%-26s %12s %14s\n' dataset records/s 'CPU µs/record'
for spec in "${specs[@]}"; do
  read -r name files <<<"$spec"
  in="$work/$name.log"
  src=()
  for f in $files; do src+=("$corpus/$f"); done
  # Repeat the samples' non-empty lines up to the wanted count.
  awk -v n="$lines" 'NF { l[c++] = $0 } END { if (c) for (i = 0; i < n; i++) print l[i % c] }' "${src[@]}" >"$in"
  rates=() cpus=()
  for _ in $(seq "$runs"); do
    rm -rf "$work/data"
    out=$( { /usr/bin/time -f 'cpu %U %S' "$work/mamori" import --data "$work/data" --dataset "$name" "$in" 2>&1 >/dev/fd/3 | grep '^cpu'; } 3>&1 )
    rate=$(grep -o '([0-9.]* records/s)' <<<"$out" | tr -d '(' | awk '{print $1}')
    cpu=$(grep '^cpu' <<<"$out" | awk -v n="$lines" '{ printf "%.1f", ($2 + $3) * 1e6 / n }')
    rates+=("$rate") cpus+=("$cpu")
  done
  median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
  printf '%-26s %12s %14s\n' "$name" "$(median "${rates[@]}")" "$(median "${cpus[@]}")"
done
