#!/usr/bin/env bash
# Runs a throwaway MinIO server on 127.0.0.1 for the S3 tests.
#
#   eval "$(scripts/minio.sh start [PORT])"   install if missing, start, print exports
#   go test ./internal/archive/ -run S3
#   scripts/minio.sh stop                      stop it and delete its data
#   scripts/minio.sh install                   only install
#
# start prints, on stdout, the variables the tests read:
#   MAMORI_S3_ENDPOINT, MAMORI_S3_ACCESS_KEY, MAMORI_S3_SECRET_KEY
# and MAMORI_MINIO_DIR (the server's temp dir, holding its data, log and pid).
# Everything else goes to stderr.
#
# MinIO is built with `go install` at a pinned version into a cache outside
# the checkout (${XDG_CACHE_HOME:-~/.cache}/mamori-tools/minio-VERSION), so a
# fresh checkout on the same machine reuses it; the first build takes a few
# minutes. MINIO_BIN overrides the binary to run.
#
# The server listens on 127.0.0.1 only, on PORT or the first free port from
# 9100 on, with the web console off. The data lives in a fresh temp dir.
set -euo pipefail

# The MinIO release the tests run against (a pseudo-version of its module).
version=v0.0.0-20260212201848-7aac2a2c5b7c
bindir=${XDG_CACHE_HOME:-$HOME/.cache}/mamori-tools/minio-$version
minio=${MINIO_BIN:-$bindir/minio}

say() { printf 'minio.sh: %s\n' "$*" >&2; }

install_minio() {
	if [[ -x $minio ]]; then
		return
	fi
	if ! command -v go >/dev/null 2>&1; then
		say "go is not on PATH: cannot install MinIO"
		exit 1
	fi
	say "installing MinIO into $bindir (go install; takes minutes the first time)"
	mkdir -p "$bindir"
	GOBIN=$bindir go install "github.com/minio/minio@$version"
}

port_free() { # port_free PORT: nothing accepts connections on 127.0.0.1:PORT
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
	local p
	for ((p = 9100; p < 9200; p++)); do
		if port_free "$p"; then
			echo "$p"
			return
		fi
	done
	say "no free port in 9100-9199"
	exit 1
}

start() {
	install_minio
	local port=${1:-$(pick_port)}
	if ! port_free "$port"; then
		say "port $port is in use"
		exit 1
	fi
	local dir
	dir=$(mktemp -d "${TMPDIR:-/tmp}/mamori-minio.XXXXXX")
	mkdir -p "$dir/data"
	local user=mamori-test secret
	secret=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	MINIO_ROOT_USER=$user MINIO_ROOT_PASSWORD=$secret MINIO_BROWSER=off MINIO_UPDATE=off \
		nohup "$minio" server --quiet --address "127.0.0.1:$port" "$dir/data" \
		>"$dir/minio.log" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$dir/minio.pid"
	local endpoint=http://127.0.0.1:$port
	local i
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			say "MinIO exited; its log:"
			cat "$dir/minio.log" >&2
			exit 1
		fi
		if ready "$port"; then
			say "MinIO $pid listening on $endpoint (data and log in $dir)"
			printf 'export MAMORI_S3_ENDPOINT=%s\n' "$endpoint"
			printf 'export MAMORI_S3_ACCESS_KEY=%s\n' "$user"
			printf 'export MAMORI_S3_SECRET_KEY=%s\n' "$secret"
			printf 'export MAMORI_MINIO_DIR=%s\n' "$dir"
			return
		fi
		sleep 0.2
	done
	say "MinIO did not become ready in 20 s; its log:"
	cat "$dir/minio.log" >&2
	kill "$pid" 2>/dev/null || true
	exit 1
}

ready() { # ready PORT: MinIO answers its liveness check
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o /dev/null "http://127.0.0.1:$1/minio/health/live" 2>/dev/null
	else
		! port_free "$1"
	fi
}

stop() {
	local dir=${MAMORI_MINIO_DIR:-}
	if [[ -z $dir || ! -f $dir/minio.pid ]]; then
		say "MAMORI_MINIO_DIR is unset or holds no minio.pid: nothing to stop"
		exit 1
	fi
	local pid
	pid=$(cat "$dir/minio.pid")
	if kill "$pid" 2>/dev/null; then
		local i
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -rf "$dir"
	say "stopped MinIO $pid and removed $dir"
}

case ${1:-start} in
start) start "${2:-}" ;;
stop) stop ;;
install) install_minio ;;
*)
	say "usage: $0 [start [PORT] | stop | install]"
	exit 2
	;;
esac
