#!/usr/bin/env bash
# Install the host packages the local cluster needs (Debian/Ubuntu, root).
# Idempotent: only missing packages are installed; no-op when all are present.
set -euo pipefail
PKGS=(containerd runc containernetworking-plugins openssl bpftrace debootstrap
  iproute2 nftables iptables conntrack socat ethtool util-linux mount jq curl ca-certificates
  gcc libc6-dev procps psmisc kmod xz-utils zstd tar gzip findutils coreutils systemtap lua5.1 lua5.4)
# --vm (or TRACEJOB_VM_NODE=1): also what the opt-in VM node needs (vm-node.sh).
if [ "${1:-}" = --vm ] || [ "${TRACEJOB_VM_NODE:-}" = 1 ]; then
  PKGS+=(qemu-system-x86 qemu-utils busybox-static cpio e2fsprogs)
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "install-deps: all ${#PKGS[@]} packages present"; exit 0; fi
[ "$(id -u)" -eq 0 ] || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps it lean; policy-rc.d stops services from auto-starting
# (we run containerd ourselves; there is no systemd anyway).
if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; trap 'rm -f /usr/sbin/policy-rc.d' EXIT; fi
apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
echo "install-deps: done"
