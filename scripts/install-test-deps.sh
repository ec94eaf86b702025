#!/usr/bin/env bash
# Installs the Debian packages mamori's tests need, when they are missing:
#
#   logger   (bsdutils)         sends syslog over UDP/TCP in the syslog listener tests
#   rsyslogd (rsyslog, rsyslog-gnutls)   a real forwarder, plain and over TLS
#   syslog-ng (syslog-ng-core)  a real forwarder, plain and over TLS
#   zstd, rg (zstd, ripgrep)    the archive format and the brute-force search baseline
#   chromium                    headless browser for the console's browser tests (e2e/console_test.go)
#
# Idempotent: when everything is present it changes nothing and does not run
# `apt-get update`. It never starts or enables a system log daemon: package
# scripts are told not to start services (policy-rc.d), and the tests start
# their own rsyslogd / syslog-ng processes with private configurations.
#
# rsyslog and syslog-ng-core conflict in Debian (both provide
# system-log-daemon), so apt cannot install both. rsyslog is installed by apt;
# syslog-ng-core is fetched with `apt-get download`, unpacked under
# $MAMORI_TEST_DEPS_DIR (default /opt/mamori-test-deps) and run through a small
# wrapper, /usr/local/bin/syslog-ng, that points it at its own libraries and
# modules. Its shared-library dependencies are installed by apt as usual. When
# syslog-ng-core is already installed by dpkg, that one is used instead.
#
# Runs as root without sudo; as another user it uses sudo when available.
set -euo pipefail

prefix=${MAMORI_TEST_DEPS_DIR:-/opt/mamori-test-deps}
wrapper=/usr/local/bin/syslog-ng

say() { printf 'install-test-deps: %s\n' "$*"; }

if [[ $(id -u) -eq 0 ]]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	say "not root and no sudo: cannot install packages" >&2
	exit 1
fi

run() {
	say "+ $*"
	"${as_root[@]}" "$@"
}

export DEBIAN_FRONTEND=noninteractive

installed() { # installed PKG: true when dpkg has PKG fully installed
	[[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

updated=false
apt_update_once() {
	if ! $updated; then
		run apt-get update -q
		updated=true
	fi
}

# Keep package maintainer scripts from starting daemons: a policy-rc.d that
# denies every action, put in place only for the duration of the install and
# the previous one (if any) restored afterwards.
policy=/usr/sbin/policy-rc.d
policy_backup=""
policy_installed=false
guard_services() {
	$policy_installed && return 0
	if [[ -e $policy ]]; then
		policy_backup=$(mktemp)
		run cp -p "$policy" "$policy_backup"
	fi
	say "+ write $policy (exit 101: no service is started while installing)"
	printf '#!/bin/sh\n# written by mamori scripts/install-test-deps.sh for the duration of an install\nexit 101\n' |
		"${as_root[@]}" tee "$policy" >/dev/null
	run chmod 0755 "$policy"
	policy_installed=true
}
restore_policy() {
	$policy_installed || return 0
	if [[ -n $policy_backup ]]; then
		"${as_root[@]}" cp -p "$policy_backup" "$policy"
		rm -f "$policy_backup"
		say "restored the previous $policy"
	else
		"${as_root[@]}" rm -f "$policy"
		say "removed the temporary $policy"
	fi
}
trap restore_policy EXIT

apt_install() {
	apt_update_once
	guard_services
	run apt-get install -y -q --no-install-recommends "$@"
}

# 1. Packages apt installs directly.
want=(bsdutils zstd ripgrep rsyslog rsyslog-gnutls)
if installed syslog-ng-core; then
	# syslog-ng-core owns system-log-daemon here; rsyslog would conflict.
	want=(bsdutils zstd ripgrep)
	say "syslog-ng-core is installed by dpkg: rsyslog cannot be installed beside it (they conflict); skipping rsyslog"
fi
missing=()
for p in "${want[@]}"; do
	if installed "$p"; then
		say "$p: present"
	else
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	say "installing: ${missing[*]}"
	apt_install "${missing[@]}"
fi

# 1b. Chromium, driven headless by the console's browser tests.
if [[ -x /usr/bin/chromium ]] || installed chromium; then
	say "chromium: present"
else
	say "installing: chromium"
	apt_install chromium
fi

# 2. syslog-ng, unpacked beside rsyslog.
syslog_ng_ok() {
	command -v syslog-ng >/dev/null 2>&1 && syslog-ng --version >/dev/null 2>&1
}
if installed syslog-ng-core; then
	say "syslog-ng-core: present (dpkg)"
elif syslog_ng_ok && [[ -x $prefix/usr/sbin/syslog-ng ]]; then
	say "syslog-ng-core: present (unpacked in $prefix)"
else
	apt_update_once
	# Its library dependencies: the plain "Depends:" lines that name a real
	# package (alternatives such as sysvinit-utils|lsb-base are satisfied on
	# any Debian system already).
	mapfile -t libs < <(apt-cache depends --no-recommends --no-suggests syslog-ng-core |
		awk '$1 == "Depends:" && $2 !~ /^</ {print $2}' | sort -u)
	lib_missing=()
	for p in "${libs[@]}"; do
		installed "$p" || lib_missing+=("$p")
	done
	if ((${#lib_missing[@]})); then
		say "installing syslog-ng-core's libraries: ${lib_missing[*]}"
		apt_install "${lib_missing[@]}"
	fi

	dl=$(mktemp -d)
	chmod 0777 "$dl" # apt-get download runs as _apt
	say "+ apt-get download syslog-ng-core (into $dl)"
	(cd "$dl" && apt-get download -q syslog-ng-core)
	deb=$(ls "$dl"/syslog-ng-core_*.deb)
	run mkdir -p "$prefix"
	run dpkg-deb -x "$deb" "$prefix"
	rm -rf "$dl"

	moddir=$(find "$prefix/usr/lib/syslog-ng" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*' | sort | tail -n1)
	if [[ -z $moddir ]]; then
		say "no module directory found under $prefix/usr/lib/syslog-ng" >&2
		exit 1
	fi
	say "+ write $wrapper (runs $prefix/usr/sbin/syslog-ng with its own libraries and modules)"
	"${as_root[@]}" mkdir -p "$(dirname "$wrapper")"
	"${as_root[@]}" tee "$wrapper" >/dev/null <<EOF
#!/bin/sh
# Written by mamori scripts/install-test-deps.sh: syslog-ng-core unpacked in
# $prefix (it conflicts with rsyslog, so apt cannot install both).
LD_LIBRARY_PATH="$prefix/usr/lib/syslog-ng\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
exec "$prefix/usr/sbin/syslog-ng" --module-path="$moddir" "\$@"
EOF
	run chmod 0755 "$wrapper"
	if ! syslog_ng_ok; then
		say "syslog-ng does not run after unpacking:" >&2
		syslog-ng --version >&2 || true
		exit 1
	fi
fi

# 3. Nothing may have been left running by a package script.
for d in rsyslogd syslog-ng; do
	if pids=$(pidof "$d" 2>/dev/null); then
		say "warning: $d is running (pid $pids); this script did not mean to start it" >&2
	fi
done

say "logger:    $(command -v logger)"
say "rsyslogd:  $(command -v rsyslogd || echo missing)"
say "syslog-ng: $(command -v syslog-ng || echo missing) ($(syslog-ng --version 2>/dev/null | head -n1 || true))"
say "zstd:      $(command -v zstd)"
say "rg:        $(command -v rg)"
say "chromium:  $(command -v chromium || echo missing)"
say "done"
