#!/usr/bin/env bash
# Build the local container images without Docker and import them into containerd
# (namespace k8s.io, where the kubelet's CRI looks):
#   localhost/pause:3.10              static C pause (sandbox image)
#   localhost/tracejob-agent:dev      trixie minbase + bpftrace + nodejs + /opt/tracejob
#   localhost/tracejob-agent-systemtap:dev   the agent + systemtap, gcc, make (SystemTap runs only)
#   localhost/tracejob-operator:dev   trixie minbase + nodejs + /opt/tracejob, user 65532
#   localhost/tracejob-workload:dev   trixie minbase + nodejs + busybox + coreutils + python3-minimal (+ e2e/workloads -> /workloads)
# Usage: images/build.sh [all|pause|agent|agent-systemtap|operator|workload]... [--no-import]
# The app layer is taken from the repo's dist/ (run `npm run build` first).
# Base root filesystems are cached as tarballs keyed by suite + package list under
# ${TRACEJOB_CACHE:-/var/cache/tracejob}/rootfs/, so rebuilding the app images is fast.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
# Where dist/, package.json and package-lock.json come from (default: the repo root).
APP_ROOT="${TRACEJOB_APP_ROOT:-$REPO}"
CACHE="${TRACEJOB_CACHE:-/var/cache/tracejob}"
OUT="${TRACEJOB_IMAGES_OUT:-$CACHE/images}"
SUITE="${TRACEJOB_IMAGE_SUITE:-trixie}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SOCK="${CONTAINERD_ADDRESS:-/run/containerd/containerd.sock}"
BASE_RECIPE=3   # bump to invalidate cached base rootfs tarballs
AGENT_PKGS="bpftrace nodejs ca-certificates"
# SystemTap builds a kernel module per script: stap plus a compiler. Kernel headers and
# debuginfo are node-specific and come from the node or the debuginfo init container.
AGENT_STAP_PKGS="$AGENT_PKGS systemtap gcc make libc6-dev"
OPERATOR_PKGS="nodejs ca-certificates"
WORKLOAD_PKGS="nodejs busybox coreutils python3-minimal procps iproute2 nftables"

# Shared helpers (die, now, elapsed); only the log prefix differs here.
. "$REPO/e2e/cluster/lib.sh"
log() { printf '[%s] images: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
DOIMPORT=1
mkdir -p "$OUT" "$CACHE/rootfs"

import_image() { # tar
  [ $DOIMPORT = 1 ] || return 0
  [ -S "$SOCK" ] || die "containerd socket $SOCK not found (start the cluster: e2e/cluster/cluster.sh up)"
  ctr --address "$SOCK" -n k8s.io images import --digests=false "$1" >/dev/null
}

tar_tree() { # dir out.tar  (reproducible tar of a filesystem tree)
  tar --sort=name --numeric-owner --mtime=@0 --xattrs --xattrs-include='security.capability' \
    -C "$1" -cf "$2" .
}

# ---- base root filesystems -------------------------------------------------
# Prints the path of a cached tarball of a `debootstrap --variant=minbase` root
# with the given packages installed and docs/man/locales stripped.
base_rootfs() { # packages...
  local pkgs; pkgs=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
  local key; key=$(printf '%s|%s|%s' "$SUITE" "$pkgs" "$BASE_RECIPE" | sha256sum | cut -c1-12)
  local tarf="$CACHE/rootfs/$SUITE-$key.tar"
  if [ -f "$tarf" ]; then log "base $SUITE [$pkgs] cached ($tarf)"; echo "$tarf"; return; fi
  command -v debootstrap >/dev/null || die "debootstrap missing (run e2e/cluster/install-deps.sh)"
  local t0; t0=$(now)
  log "building base rootfs $SUITE [$pkgs]"
  local root; root=$(mktemp -d /var/tmp/tracejob-rootfs.XXXXXX)
  # shellcheck disable=SC2064
  trap "umount -l '$root/proc' 2>/dev/null || true; rm -rf '$root'" RETURN
  debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" > "$root.debootstrap.log" 2>&1 ||
    { tail -20 "$root.debootstrap.log" >&2; die "debootstrap failed"; }
  rm -f "$root.debootstrap.log"
  # Like debian:*-slim: never install docs, man pages or locales.
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
  cat > "$root/etc/dpkg/dpkg.cfg.d/90-tracejob-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
CFG
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$root/etc/apt/apt.conf.d/90-tracejob"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
  { chroot "$root" apt-get update -qq &&
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } \
    > "$root/../$(basename "$root").apt.log" 2>&1 || { tail -20 "$root/../$(basename "$root").apt.log" >&2; die "apt-get install in rootfs failed"; }
  rm -f "$root/../$(basename "$root").apt.log"
  umount "$root/proc"
  chroot "$root" apt-get clean
  rm -f "$root/usr/sbin/policy-rc.d"
  # non-root user for the operator image (uid/gid 65532, as distroless "nonroot")
  grep -q '^nonroot:' "$root/etc/passwd" || {
    echo 'nonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin' >> "$root/etc/passwd"
    echo 'nonroot:x:65532:' >> "$root/etc/group"
    mkdir -p "$root/home/nonroot"; chown 65532:65532 "$root/home/nonroot"; }
  rm -rf "${root:?}"/var/lib/apt/lists/* "${root:?}"/var/cache/apt/* "${root:?}"/var/cache/debconf/*-old \
    "${root:?}"/var/log/* "${root:?}"/tmp/* "${root:?}"/var/tmp/* "${root:?}"/dev/* "${root:?}"/run/*
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "${root:?}"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/usr/share/lintian
  : > "$root/etc/resolv.conf"; : > "$root/etc/hostname"
  tar_tree "$root" "$tarf.part" && mv "$tarf.part" "$tarf"
  log "base rootfs built in $(elapsed "$t0")s: $tarf ($(du -h "$tarf" | cut -f1))"
  echo "$tarf"
}

# ---- app layer (/opt/tracejob) --------------------------------------------
APP_LAYER=
app_layer() {
  [ -n "$APP_LAYER" ] && return
  [ -f "$APP_ROOT/dist/agent/main.js" ] || [ -f "$APP_ROOT/dist/operator/main.js" ] ||
    die "$APP_ROOT/dist/ is missing or has no agent/operator main.js — run \`npm run build\` first"
  [ -f "$APP_ROOT/package.json" ] || die "$APP_ROOT/package.json missing"
  local t0; t0=$(now)
  local stage; stage=$(mktemp -d /var/tmp/tracejob-app.XXXXXX)
  local app="$stage/root/opt/tracejob"; mkdir -p "$app"
  cp -a "$APP_ROOT/dist" "$app/dist"
  cp "$APP_ROOT/package.json" "$app/"
  [ -f "$APP_ROOT/package-lock.json" ] && cp "$APP_ROOT/package-lock.json" "$app/"
  if jq -e '(.dependencies // {}) | length > 0' "$APP_ROOT/package.json" >/dev/null; then
    # Production node_modules, cached by lockfile/package.json hash; never touches the repo's node_modules.
    local key; key=$(cat "$APP_ROOT/package.json" "$APP_ROOT/package-lock.json" 2>/dev/null | sha256sum | cut -c1-12)
    local nm="$CACHE/node_modules/$key"
    if [ ! -d "$nm/node_modules" ]; then
      log "installing production node_modules ($key)"
      rm -rf "$nm.tmp"; mkdir -p "$nm.tmp"
      cp "$APP_ROOT/package.json" "$nm.tmp/"; [ -f "$APP_ROOT/package-lock.json" ] && cp "$APP_ROOT/package-lock.json" "$nm.tmp/"
      if [ -f "$nm.tmp/package-lock.json" ]; then
        (cd "$nm.tmp" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
      else
        (cd "$nm.tmp" && npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
      fi
      mkdir -p "$nm.tmp/node_modules"; rm -rf "$nm"; mv "$nm.tmp" "$nm"
    fi
    cp -a "$nm/node_modules" "$app/node_modules"
  fi
  APP_LAYER="$OUT/app-layer.tar"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$stage/root" -cf "$APP_LAYER" .
  rm -rf "$stage"
  log "app layer built in $(elapsed "$t0")s ($(du -h "$APP_LAYER" | cut -f1))"
}

report() { # name tar t0
  log "$1 done in $(elapsed "$3")s: tar $(du -h "$2" | cut -f1)$([ $DOIMPORT = 1 ] && echo ", imported")"
}

build_pause() {
  local t0; t0=$(now)
  local tarf="$OUT/pause-3.10.oci.tar"
  local key; key=$(sha256sum "$HERE/pause.c" "$HERE/mkimage.sh" | sha256sum | cut -c1-12)
  if [ ! -f "$tarf" ] || [ "$(cat "$tarf.key" 2>/dev/null)" != "$key" ]; then
    local s; s=$(mktemp -d); mkdir -p "$s/root"
    gcc -static -Os -s -o "$s/root/pause" "$HERE/pause.c" || die "gcc -static failed (need gcc + libc6-dev)"
    tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$s/root" -cf "$s/layer.tar" ./pause
    "$HERE/mkimage.sh" --name localhost/pause:3.10 --out "$tarf" --layer "$s/layer.tar" --entrypoint '["/pause"]' 2>/dev/null
    echo "$key" > "$tarf.key"; rm -rf "$s"
  fi
  import_image "$tarf"
  report localhost/pause:3.10 "$tarf" "$t0"
}

need_main() { [ -f "$APP_ROOT/dist/$1/main.js" ] || die "$APP_ROOT/dist/$1/main.js is missing — run \`npm run build\` first"; }

build_agent() {
  need_main agent
  local t0 base; t0=$(now); base=$(base_rootfs $AGENT_PKGS); app_layer
  local tarf="$OUT/tracejob-agent-dev.oci.tar"
  "$HERE/mkimage.sh" --name localhost/tracejob-agent:dev --out "$tarf" --layer "$base" --layer "$APP_LAYER" \
    --entrypoint '["node","/opt/tracejob/dist/agent/main.js"]' --env NODE_ENV=production --workdir /opt/tracejob \
    --label org.opencontainers.image.title=tracejob-agent 2>/dev/null
  import_image "$tarf"; report localhost/tracejob-agent:dev "$tarf" "$t0"
}

build_agent_systemtap() {
  need_main agent
  local t0 base; t0=$(now); base=$(base_rootfs $AGENT_STAP_PKGS); app_layer
  local tarf="$OUT/tracejob-agent-systemtap-dev.oci.tar"
  "$HERE/mkimage.sh" --name localhost/tracejob-agent-systemtap:dev --out "$tarf" --layer "$base" --layer "$APP_LAYER" \
    --entrypoint '["node","/opt/tracejob/dist/agent/main.js"]' --env NODE_ENV=production --workdir /opt/tracejob \
    --label org.opencontainers.image.title=tracejob-agent-systemtap 2>/dev/null
  import_image "$tarf"; report localhost/tracejob-agent-systemtap:dev "$tarf" "$t0"
}

build_operator() {
  need_main operator
  local t0 base; t0=$(now); base=$(base_rootfs $OPERATOR_PKGS); app_layer
  local tarf="$OUT/tracejob-operator-dev.oci.tar"
  "$HERE/mkimage.sh" --name localhost/tracejob-operator:dev --out "$tarf" --layer "$base" --layer "$APP_LAYER" \
    --entrypoint '["node","/opt/tracejob/dist/operator/main.js"]' --env NODE_ENV=production --workdir /opt/tracejob \
    --user 65532:65532 --label org.opencontainers.image.title=tracejob-operator 2>/dev/null
  import_image "$tarf"; report localhost/tracejob-operator:dev "$tarf" "$t0"
}

build_workload() {
  local t0 base; t0=$(now); base=$(base_rootfs $WORKLOAD_PKGS)
  local tarf="$OUT/tracejob-workload-dev.oci.tar" layers=(--layer "$base") s=
  if [ -d "$REPO/e2e/workloads" ]; then
    s=$(mktemp -d); mkdir -p "$s/root/workloads"
    cp -a "$REPO/e2e/workloads/." "$s/root/workloads/"
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$s/root" -cf "$s/workloads.tar" .
    layers+=(--layer "$s/workloads.tar")
  fi
  "$HERE/mkimage.sh" --name localhost/tracejob-workload:dev --out "$tarf" "${layers[@]}" \
    --cmd '["sleep","infinity"]' --workdir / --label org.opencontainers.image.title=tracejob-workload 2>/dev/null
  [ -n "$s" ] && rm -rf "$s"
  import_image "$tarf"; report localhost/tracejob-workload:dev "$tarf" "$t0"
}

targets=()
for a in "$@"; do case $a in --no-import) DOIMPORT=0 ;; *) targets+=("$a") ;; esac; done
[ ${#targets[@]} -eq 0 ] && targets=(all)
T0=$(now)
for t in "${targets[@]}"; do
  case $t in
    all) build_pause; build_agent; build_agent_systemtap; build_operator; build_workload ;;
    pause) build_pause ;;
    agent) build_agent ;;
    agent-systemtap) build_agent_systemtap ;;
    operator) build_operator ;;
    workload) build_workload ;;
    *) die "unknown image $t (all|pause|agent|agent-systemtap|operator|workload)" ;;
  esac
done
log "total $(elapsed "$T0")s"
