#!/usr/bin/env bash
# Opt-in second node: a QEMU virtual machine (software emulation, TCG) booted from
# Debian's own cloud kernel, joined to the local cluster as node `tracejob-vm`.
#   vm-node.sh build     resolve the newest linux-image-*-cloud-amd64-unsigned, build kernel/initrd/rootfs (cached)
#   vm-node.sh up        build if needed, start the VM, wait for its node to be Ready (needs a running cluster)
#   vm-node.sh down      delete the Node object, stop the VM, remove its network; no-op when not running [--purge]
#   vm-node.sh status    VM process, node readiness; exit 0 only when Ready
#   vm-node.sh exec CMD  run a shell command in the guest (serial channel), print its output, exit with its status
#   vm-node.sh console   print the guest console log
#   vm-node.sh measure   memory and idle CPU of the running VM
# Cache: ${TRACEJOB_CACHE}/vm-<kernel release>-r<recipe>/; state: ${TRACEJOB_CLUSTER_DIR}/vm/.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/lib.sh"
log() { printf '[%s] vm-node: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

VM_RECIPE=1                    # bump to invalidate cached VM root filesystems
VM_SUITE="${TRACEJOB_VM_SUITE:-bookworm}"   # same containerd (1.6.20) and runc as the host node
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
VM_NODE_NAME="${TRACEJOB_VM_NODE_NAME:-tracejob-vm}"  # sorts after tracejob-node (scripts take .items[0] as the API server)
VM_MEM="${TRACEJOB_VM_MEM:-2048}"
VM_CPUS="${TRACEJOB_VM_CPUS:-2}"
VM_IMAGES="${TRACEJOB_VM_IMAGES:-pause-3.10 tracejob-agent-dev tracejob-workload-dev}"
# Network (see e2e/cluster/README.md): host veth 198.51.100.1 <-> bridge in the VM's own netns <-> tap <-> VM 198.51.100.2.
NET_PREFIX=198.51.100          # TEST-NET-2 (RFC 5737)
HOST_VETH_IP=$NET_PREFIX.1
VM_IP=$NET_PREFIX.2
VM_POD_CIDR=10.89.0.0/24       # the host node's pods are 10.88.0.0/16
VM_POD_GW=10.89.0.1
HOST_IF=tjvm0                  # host end of the veth pair; the other end lives in the VM's netns
NFT_TABLE=tracejob-vm
VM_PKGS="containerd runc containernetworking-plugins nftables iptables iproute2 kmod tini ca-certificates procps util-linux mount"

VMSTATE="$STATE/vm"; VMRUN="$VMSTATE/run"; VMPKI="$VMSTATE/pki"
PKI="$STATE/pki"
KUBECONFIG_ADMIN="$STATE/kubeconfig"
CURRENT="$CACHE/vm-current"    # release of the last built kernel (`up` does not re-resolve on every start)

kc() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" --request-timeout=10s "$@"; }
node_ip() { # same rule as cluster.sh: eth0's address (the API server's advertise address)
  if [ -n "${TRACEJOB_NODE_IP:-}" ]; then echo "$TRACEJOB_NODE_IP"; return; fi
  local ip; ip=$(ip -4 -o addr show dev "${TRACEJOB_NODE_IFACE:-eth0}" scope global 2>/dev/null | awk '{split($4,a,"/"); print a[1]; exit}')
  [ -n "$ip" ] || ip=$(ip -4 route get 192.0.2.255 2>/dev/null | awk '{for(i=1;i<NF;i++) if($i=="src"){print $(i+1); exit}}')
  [ -n "$ip" ] || die "cannot determine the node IP (set TRACEJOB_NODE_IP)"
  echo "$ip"
}
label_value() { tr -c 'A-Za-z0-9._\n-' '-' <<<"$1" | cut -c1-63; }  # kernel releases contain '+'

# ---------------------------------------------------------------- build
resolve_kernel() { # -> package name of the newest cloud kernel image in the host's package index
  apt-get update -qq >/dev/null 2>&1 || log "warning: apt-get update failed; using the existing package index"
  local best= bestv= p v
  while read -r p; do
    v=$(apt-cache policy "$p" | awk '/Candidate:/{print $2; exit}')
    [ -n "$v" ] && [ "$v" != "(none)" ] || continue
    if [ -z "$bestv" ] || dpkg --compare-versions "$v" gt "$bestv"; then best=$p; bestv=$v; fi
  done < <(apt-cache search --names-only '^linux-image-[0-9].*-cloud-amd64-unsigned$' | awk '{print $1}')
  [ -n "$best" ] || die "no linux-image-*-cloud-amd64-unsigned in the package index"
  echo "$best"
}
vmdir() { echo "$CACHE/vm-$1-r$VM_RECIPE"; }

fetch_kernel() { # package -> fills $(vmdir rel)/kernel
  local pkg=$1 rel=${1#linux-image-}; rel=${rel%-unsigned}
  local d; d=$(vmdir "$rel")
  [ -f "$d/kernel/.stamp" ] && return
  local t0; t0=$(now)
  rm -rf "$d/kernel"; mkdir -p "$d/kernel"
  (cd "$d/kernel" && apt-get download "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
  dpkg -x "$d"/kernel/*.deb "$d/kernel/x"
  mv "$d/kernel/x/boot/vmlinuz-$rel" "$d/kernel/vmlinuz"; mv "$d/kernel/x/boot/config-$rel" "$d/kernel/config"
  mv "$d/kernel/x/lib/modules" "$d/kernel/modules"
  rm -rf "$d/kernel/x" "$d"/kernel/*.deb
  grep -q '^CONFIG_KPROBES=y' "$d/kernel/config" || log "warning: $rel has no CONFIG_KPROBES"
  echo "$pkg" > "$d/kernel/.stamp"
  log "kernel $rel fetched in $(elapsed "$t0")s ($(du -sh "$d/kernel" | cut -f1))"
}

build_initrd() { # rel -> initrd.gz: busybox + virtio_blk, mounts /dev/vda and switches to /sbin/tj-init
  local rel=$1 d; d=$(vmdir "$rel")
  [ -f "$d/initrd.gz" ] && return
  [ -x /bin/busybox ] && /bin/busybox --list | grep -qx switch_root || die "busybox (static) missing (install-deps.sh --vm)"
  ldd /bin/busybox >/dev/null 2>&1 && die "/bin/busybox is dynamically linked; install busybox-static"
  local s; s=$(mktemp -d); mkdir -p "$s/bin"
  cp /bin/busybox "$s/bin/busybox"
  local ko; ko=$(find "$d/kernel/modules" -name 'virtio_blk.ko*' | head -1); [ -n "$ko" ] || die "virtio_blk module missing"
  case $ko in *.xz) xz -dc "$ko" > "$s/virtio_blk.ko" ;; *.zst) zstd -dcq "$ko" > "$s/virtio_blk.ko" ;; *) cp "$ko" "$s/virtio_blk.ko" ;; esac
  cat > "$s/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
grep -q 'virtio_blk' /proc/modules || insmod /virtio_blk.ko
i=0; while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
mount -t ext4 -o rw,noatime /dev/vda /newroot || { echo "tj-initrd: cannot mount /dev/vda"; exec sh; }
umount /proc /sys; mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/tj-init
INIT
  chmod +x "$s/init"
  command -v cpio >/dev/null || die "cpio missing (install-deps.sh --vm)"
  (cd "$s" && find . | cpio -o -H newc --quiet | gzip -1) > "$d/initrd.gz.part" || die "initrd: cpio failed"
  mv "$d/initrd.gz.part" "$d/initrd.gz"
  rm -rf "$s"
}

guest_init() { # /sbin/tj-init: PID 1 mounts, then tini (reaps orphans) runs tj-main
  cat <<'EOF'
#!/bin/sh
# PID 1 of the VM node (no systemd): kernel file systems, then tini supervises tj-main.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm; mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
mount --make-rshared /
# The rest of the boot comes from the per-start data disk (config, kubelet, images, tj-main).
mkdir -p /mnt/tj-data; mount -o ro /dev/vdb /mnt/tj-data || { echo "tj-init: cannot mount the data disk"; exec sh; }
exec /usr/bin/tini -s -- /mnt/tj-data/tj-main
EOF
}
guest_main() { # /sbin/tj-main: network, containerd, images, kubelet, then the serial command channel
  cat <<'EOF'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "tj-main: $(cut -d' ' -f1 /proc/uptime)s $*" > /dev/console; }
D=/mnt/tj-data; C=/etc/tracejob-vm
mkdir -p /var/log /var/lib/tracejob-vm
rm -rf $C; cp -a $D/config $C; . $C/env
# Command channel on the second serial port: one line "<id> <base64 command>" in,
# base64 of the combined output then "__TJ_END__ <id> <status>" out. Root-only on the host (a unix socket in the state dir).
stty -F /dev/ttyS1 raw -echo 2>/dev/null
( while :; do
  while IFS= read -r line; do
    id=${line%% *}; cmd=$(printf '%s' "${line#* }" | base64 -d 2>/dev/null)
    sh -c "$cmd" < /dev/null > /tmp/tj-cmd.out 2>&1; rc=$?
    base64 -w0 /tmp/tj-cmd.out; printf '\n__TJ_END__ %s %s\n' "$id" "$rc"
  done < /dev/ttyS1 > /dev/ttyS1
  sleep 1
done ) &
hostname "$NODE_NAME"; echo "$NODE_NAME" > /etc/hostname
echo "+cpuset +cpu +io +memory +pids +hugetlb" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
for m in virtio_net overlay bridge veth br_netfilter nf_tables nft_chain_nat nf_nat nft_ct; do modprobe $m 2>/dev/null; done
sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=0 kernel.panic=10 2>/dev/null
ip link set lo up
ip addr add "$VM_IP/24" dev eth0; ip link set eth0 up
[ "$API_IP" = "$HOST_VETH_IP" ] || ip route add "$API_IP/32" via "$HOST_VETH_IP"
ip route add unreachable "$SERVICE_CIDR"; ip addr add "$SERVICE_IP/32" dev lo
# Nothing but host <-> VM <-> its pods: no default route, pod traffic forwarded only to the host's addresses.
nft -f - <<NFT
table inet tracejob {
  chain forward {
    type filter hook forward priority -10; policy drop;
    ct state established,related accept
    iifname "cni0" oifname "cni0" accept
    iifname "cni0" oifname "eth0" ip daddr { $HOST_VETH_IP, $API_IP } accept
    iifname "eth0" oifname "cni0" ip saddr { $HOST_VETH_IP, $API_IP } accept
  }
  chain prerouting { type nat hook prerouting priority -100; policy accept; ip daddr $SERVICE_IP tcp dport 443 dnat ip to $API_IP:6443; }
  chain output { type nat hook output priority -100; policy accept; ip daddr $SERVICE_IP tcp dport 443 dnat ip to $API_IP:6443; }
}
NFT
mkdir -p /etc/cni/net.d; cp $C/cni.conflist /etc/cni/net.d/10-tracejob-bridge.conflist
: > /etc/resolv.conf
say "network up ($VM_IP)"
containerd --config $C/containerd.toml >> /var/log/containerd.log 2>&1 &
i=0; until ctr version >/dev/null 2>&1; do sleep 0.2; i=$((i+1)); [ $i -lt 300 ] || { say "containerd did not start"; break; }; done
say "containerd up"
# Images: import only when the host's tarballs changed (the VM's disk keeps them across boots).
if ! cmp -s $D/images.list /var/lib/tracejob-vm/images.list; then
  for f in $D/images/*.tar; do
    [ -f "$f" ] && { ctr -n k8s.io images import --digests=false "$f" >/dev/null 2>>/var/log/import.log && say "imported $(basename "$f")" || say "import $(basename "$f") FAILED"; }
  done
  cp $D/images.list /var/lib/tracejob-vm/images.list
fi
if [ "${NO_KUBELET:-}" = 1 ]; then say "kubelet disabled (TRACEJOB_VM_NO_KUBELET)"; else
$D/bin/kubelet --config=$C/kubelet.yaml --kubeconfig=$C/kubelet.kubeconfig --hostname-override="$NODE_NAME" \
  --node-ip="$VM_IP" --node-labels="$NODE_LABELS" --root-dir=/var/lib/kubelet --v=1 >> /var/log/kubelet.log 2>&1 &
say "kubelet started"; fi
wait
EOF
}
guest_shutdown() { # /sbin/tj-shutdown: stop kubelet and containerd, flush the disk, power off
  cat <<'EOF'
#!/bin/sh
pkill -TERM -x kubelet; pkill -TERM -x containerd
i=0; while pgrep -x kubelet >/dev/null || pgrep -x containerd >/dev/null; do sleep 0.2; i=$((i+1)); [ $i -lt 50 ] || break; done
pkill -KILL -f containerd-shim; sync; umount /mnt/tj-data 2>/dev/null; mount -o remount,ro / 2>/dev/null; sync
echo o > /proc/sysrq-trigger
EOF
}

build_rootfs() { # rel -> rootfs.ext4 (debootstrap minbase + containerd/runc/CNI/nftables + the kernel's modules)
  local rel=$1 d; d=$(vmdir "$rel")
  [ -f "$d/rootfs.ext4" ] && return
  command -v debootstrap >/dev/null || die "debootstrap missing"
  local t0; t0=$(now)
  local root; root=$(mktemp -d /var/tmp/tracejob-vmroot.XXXXXX)
  # shellcheck disable=SC2064
  trap "umount -l '$root/proc' 2>/dev/null || true; rm -rf '$root'" RETURN
  log "debootstrap $VM_SUITE minbase"
  debootstrap --variant=minbase "$VM_SUITE" "$root" "$MIRROR" > "$root.log" 2>&1 || { tail -20 "$root.log" >&2; die "debootstrap failed"; }
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
  printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\npath-exclude /usr/share/info/*\n' \
    > "$root/etc/dpkg/dpkg.cfg.d/90-tracejob-slim"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
  # shellcheck disable=SC2086
  { chroot "$root" apt-get update -qq && chroot "$root" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends $VM_PKGS; } >> "$root.log" 2>&1 || { tail -20 "$root.log" >&2; die "apt-get install in the VM rootfs failed"; }
  umount "$root/proc"; chroot "$root" apt-get clean
  rm -f "$root/usr/sbin/policy-rc.d" "$root.log"
  rm -rf "${root:?}"/var/lib/apt/lists/* "${root:?}"/var/cache/apt/* "${root:?}"/usr/share/doc/* "${root:?}"/usr/share/man/*
  mkdir -p "$root/lib/modules"; cp -a "$d/kernel/modules/$rel" "$root/lib/modules/"
  chroot "$root" depmod "$rel"
  guest_init > "$root/sbin/tj-init"; chmod 755 "$root/sbin/tj-init"
  : > "$root/etc/resolv.conf"; echo "$VM_NODE_NAME" > "$root/etc/hostname"
  printf 'kernel=%s\nsuite=%s\nrecipe=%s\n' "$rel" "$VM_SUITE" "$VM_RECIPE" > "$root/etc/tracejob-vm-release"
  rm -f "$d/rootfs.ext4.part"; truncate -s 8G "$d/rootfs.ext4.part"
  mkfs.ext4 -q -F -L tjroot -d "$root" "$d/rootfs.ext4.part" || die "mkfs.ext4 -d failed"
  mv "$d/rootfs.ext4.part" "$d/rootfs.ext4"
  log "rootfs built in $(elapsed "$t0")s ($(du -sh "$root" | cut -f1) files, image $(du -h "$d/rootfs.ext4" | cut -f1) allocated)"
}

cmd_build() {
  local t0; t0=$(now)
  "$HERE/install-deps.sh" --vm >/dev/null
  local pkg rel
  if [ -z "${TRACEJOB_VM_REFRESH:-}" ] && [ -f "$CURRENT" ] && [ -f "$(vmdir "$(cat "$CURRENT")")/.stamp" ]; then
    rel=$(cat "$CURRENT"); log "VM $rel cached ($(vmdir "$rel")) ($(elapsed "$t0")s)"; return
  fi
  pkg=${TRACEJOB_VM_KERNEL_PKG:-$(resolve_kernel)}; rel=${pkg#linux-image-}; rel=${rel%-unsigned}
  log "kernel package $pkg"
  local d; d=$(vmdir "$rel")
  if [ ! -f "$d/.stamp" ]; then
    mkdir -p "$d"
    fetch_kernel "$pkg"; build_initrd "$rel"; build_rootfs "$rel"
    printf 'built=%s seconds=%s package=%s\n' "$(date -u +%FT%TZ)" "$(elapsed "$t0")" "$pkg" > "$d/.stamp"
  fi
  echo "$rel" > "$CURRENT"
  log "VM $rel ready in $(elapsed "$t0")s ($d)"
}

# ---------------------------------------------------------------- per-start data disk (config, kubelet, images)
vm_cert() { # name CN O usage SANs : signed by the cluster CA, kept in $VMPKI
  local n=$1 cn=$2 o=$3 eku=$4 sans=${5:-}
  [ -f "$VMPKI/$n.crt" ] && return
  local subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o$subj"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$VMPKI/$n.key" -subj "$subj" -out "$VMPKI/$n.csr" 2>/dev/null
  { echo "basicConstraints=critical,CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"; [ -n "$sans" ] && echo "subjectAltName=$sans"; } > "$VMPKI/$n.ext"
  openssl x509 -req -in "$VMPKI/$n.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 3650 -sha256 -extfile "$VMPKI/$n.ext" -out "$VMPKI/$n.crt" 2>/dev/null
  rm -f "$VMPKI/$n.csr" "$VMPKI/$n.ext"; chmod 600 "$VMPKI/$n.key"
}
make_data_disk() { # api_ip rel -> $VMSTATE/data.ext4, rebuilt only when its inputs changed
  local api_ip=$1 rel=$2 s="$VMSTATE/data"
  [ -f "$PKI/ca.key" ] || die "cluster CA missing ($PKI/ca.key): start the cluster first (cluster.sh up)"
  mkdir -p "$VMPKI"
  # A new CA (cluster state purged) invalidates the VM's certificates.
  cmp -s "$PKI/ca.crt" "$VMPKI/ca.crt" || { rm -f "$VMPKI"/*; cp "$PKI/ca.crt" "$VMPKI/ca.crt"; }
  vm_cert kubelet "system:node:$VM_NODE_NAME" system:nodes clientAuth
  vm_cert kubelet-serving "$VM_NODE_NAME" "" serverAuth "DNS:$VM_NODE_NAME,IP:$VM_IP"
  rm -rf "$s"; mkdir -p "$s/config" "$s/bin" "$s/images"
  local c="$s/config" b64; b64() { base64 -w0 < "$1"; }
  cp "$VMPKI"/ca.crt "$VMPKI"/kubelet*.crt "$VMPKI"/kubelet*.key "$c/"
  cat > "$c/env" <<ENV
NODE_NAME=$VM_NODE_NAME
VM_IP=$VM_IP
HOST_VETH_IP=$HOST_VETH_IP
API_IP=$api_ip
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
NODE_LABELS=tracejob.dev/kprobes=true,tracejob.dev/kernel=$(label_value "$rel"),tracejob.dev/vm=true
NO_KUBELET=${TRACEJOB_VM_NO_KUBELET:-0}
ENV
  guest_main > "$s/tj-main"; guest_shutdown > "$s/tj-shutdown"; chmod 755 "$s/tj-main" "$s/tj-shutdown"
  cat > "$c/kubelet.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: tracejob
  cluster: {server: "https://$api_ip:6443", certificate-authority-data: $(b64 "$VMPKI/ca.crt")}
users:
- name: system:node:$VM_NODE_NAME
  user: {client-certificate-data: $(b64 "$VMPKI/kubelet.crt"), client-key-data: $(b64 "$VMPKI/kubelet.key")}
contexts:
- name: tracejob
  context: {cluster: tracejob, user: "system:node:$VM_NODE_NAME"}
current-context: tracejob
KC
  cat > "$c/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: /etc/tracejob-vm/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: /etc/tracejob-vm/kubelet-serving.crt
tlsPrivateKeyFile: /etc/tracejob-vm/kubelet-serving.key
address: 0.0.0.0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
readOnlyPort: 0
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
imageServiceEndpoint: unix:///run/containerd/containerd.sock
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
imageMinimumGCAge: 87600h
serializeImagePulls: false
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
registerWithTaints:
- {key: tracejob.dev/vm, value: "true", effect: NoSchedule}
evictionHard: {memory.available: "50Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
evictionPressureTransitionPeriod: 10s
nodeStatusReportFrequency: 10s
nodeStatusUpdateFrequency: 10s
syncFrequency: 10s
fileCheckFrequency: 10s
maxPods: 30
rotateCertificates: false
serverTLSBootstrap: false
makeIPTablesUtilChains: false
YAML
  cat > "$c/containerd.toml" <<'TOML'
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:3.10"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
    max_conf_num = 1
TOML
  cat > "$c/cni.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "tracejob", "plugins": [{"type": "bridge", "bridge": "cni0", "isGateway": true,
  "ipMasq": false, "hairpinMode": true, "ipam": {"type": "host-local", "ranges": [[{"subnet": "$VM_POD_CIDR", "gateway": "$VM_POD_GW"}]],
  "routes": [{"dst": "$api_ip/32"}, {"dst": "$HOST_VETH_IP/32"}, {"dst": "10.96.0.1/32"}]}}]}
JSON
  local kubelet i f imgs=(); kubelet=$(readlink -f "$K8S_BIN/kubelet")
  for i in $VM_IMAGES; do
    f="$CACHE/images/$i.oci.tar"; [ -f "$f" ] && imgs+=("$f") || log "warning: image tarball $f missing (images/build.sh)"
  done
  # images.list tells the guest whether to re-import; the key tells us whether to rebuild the disk.
  for f in "${imgs[@]}"; do stat -c "$(basename "$f" .oci.tar).tar %s %Y" "$f"; done > "$s/images.list"
  local key; key=$( { stat -c '%n %s %Y' "$kubelet"; cat "$s/images.list" "$s/tj-main" "$s/tj-shutdown" "$c"/*; } | sha256sum | cut -c1-16)
  if [ -f "$VMSTATE/data.ext4" ] && [ "$(cat "$VMSTATE/data.key" 2>/dev/null)" = "$key" ]; then rm -rf "$s"; return; fi
  cp "$kubelet" "$s/bin/kubelet"   # the host node's own binary (multi-call: dispatches on its name)
  for f in "${imgs[@]}"; do ln "$f" "$s/images/$(basename "$f" .oci.tar).tar" 2>/dev/null || cp "$f" "$s/images/$(basename "$f" .oci.tar).tar"; done
  local sz; sz=$(du -sm "$s" | cut -f1); sz=$((sz + sz / 5 + 64))
  rm -f "$VMSTATE/data.ext4"; truncate -s "${sz}M" "$VMSTATE/data.ext4"
  mkfs.ext4 -q -F -L tjdata -d "$s" "$VMSTATE/data.ext4" || die "mkfs.ext4 (data disk) failed"
  echo "$key" > "$VMSTATE/data.key"; rm -rf "$s"
}

# ---------------------------------------------------------------- processes and network
pid_alive() { # pidfile marker -> 0 if the recorded process is alive and its cmdline contains marker
  local p; p=$(cat "$VMRUN/$1.pid" 2>/dev/null) || return 1
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q -- "$2"
}
vm_running() { pid_alive qemu "tracejob-vm-qemu"; }
netns_running() { pid_alive netns "tracejob-vm-netns"; }
daemon() { # log cmd... : detached (own session), stdio to log, no other inherited fds (lock files!)
  local out=$1; shift
  ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
    exec setsid "$@" < /dev/null >> "$out" 2>&1 ) &
}
in_ns() { nsenter -t "$(cat "$VMRUN/netns.pid")" -n -- "$@"; }

net_up() { # own netns (held by a process; `ip netns add` would bind-mount /run/netns over the pods' netns)
  mkdir -p "$VMRUN"
  if ! netns_running; then
    daemon /dev/null unshare --net -- bash -c 'exec -a tracejob-vm-netns sleep infinity'
    echo $! > "$VMRUN/netns.pid"
    wait_for_ns=0; while ! netns_running && [ $wait_for_ns -lt 50 ]; do sleep 0.1; wait_for_ns=$((wait_for_ns + 1)); done
    netns_running || die "cannot create the VM's network namespace"
  fi
  local h; h=$(cat "$VMRUN/netns.pid")
  ip link show "$HOST_IF" >/dev/null 2>&1 || ip link add "$HOST_IF" type veth peer name uplink netns "$h"
  ip addr show dev "$HOST_IF" | grep -q "inet $HOST_VETH_IP/24" || ip addr add "$HOST_VETH_IP/24" dev "$HOST_IF"
  ip link set "$HOST_IF" up
  ip route replace "$VM_POD_CIDR" via "$VM_IP" dev "$HOST_IF"
  in_ns sh -c "ip link set lo up
    ip link show br0 >/dev/null 2>&1 || ip link add br0 type bridge
    ip link show tap0 >/dev/null 2>&1 || ip tuntap add dev tap0 mode tap
    ip link set tap0 master br0; ip link set uplink master br0
    ip link set br0 up; ip link set tap0 up; ip link set uplink up"
  # The host forwards nothing to or from the VM: host <-> VM <-> its pods only.
  nft list table inet "$NFT_TABLE" >/dev/null 2>&1 && nft delete table inet "$NFT_TABLE"
  nft -f - <<NFT
table inet $NFT_TABLE {
  chain forward {
    type filter hook forward priority -20; policy accept;
    iifname "$HOST_IF" drop
    oifname "$HOST_IF" drop
  }
}
NFT
}
net_down() {
  nft list table inet "$NFT_TABLE" >/dev/null 2>&1 && nft delete table inet "$NFT_TABLE"
  ip route del "$VM_POD_CIDR" 2>/dev/null || true
  ip link show "$HOST_IF" >/dev/null 2>&1 && ip link delete "$HOST_IF"
  if netns_running; then kill -TERM "$(cat "$VMRUN/netns.pid")" 2>/dev/null || true; fi
  rm -f "$VMRUN/netns.pid"
}

start_qemu() { # rel
  local rel=$1 d; d=$(vmdir "$rel")
  local disk="$VMSTATE/disk.qcow2"
  # The VM's writable disk is a qcow2 overlay on the cached rootfs (kept across down/up: images stay imported).
  if [ ! -f "$disk" ] || [ "$(cat "$VMSTATE/disk.base" 2>/dev/null)" != "$d/rootfs.ext4" ]; then
    rm -f "$disk"; qemu-img create -q -f qcow2 -F raw -b "$d/rootfs.ext4" "$disk"; echo "$d/rootfs.ext4" > "$VMSTATE/disk.base"
  fi
  rm -f "$VMRUN/agent.sock"
  printf '\n==== boot %s\n' "$(date -u +%FT%TZ)" >> "$VMSTATE/console.log"
  daemon "$VMSTATE/qemu.log" nsenter -t "$(cat "$VMRUN/netns.pid")" -n -- qemu-system-x86_64 -name tracejob-vm-qemu \
    -accel tcg,thread=multi -m "$VM_MEM" -smp "$VM_CPUS" -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$d/kernel/vmlinuz" -initrd "$d/initrd.gz" \
    -append "console=ttyS0 panic=-1 loglevel=4 net.ifnames=0 systemd.unified_cgroup_hierarchy=1" \
    -drive "file=$disk,if=virtio,format=qcow2,cache=unsafe,discard=unmap" \
    -drive "file=$VMSTATE/data.ext4,if=virtio,format=raw,readonly=on" \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=n0,mac=52:54:00:c6:33:02 \
    -chardev "file,id=con,path=$VMSTATE/console.log,append=on" -serial chardev:con \
    -chardev "socket,id=agent,path=$VMRUN/agent.sock,server=on,wait=off" -serial chardev:agent \
    -device virtio-rng-pci
  echo $! > "$VMRUN/qemu.pid"
  local i; for ((i = 0; i < 50; i++)); do vm_running && break; sleep 0.1; done  # the subshell execs qemu shortly
  date +%s > "$VMRUN/started"
}

node_ready() { # Ready=True with a heartbeat from this boot
  local out st hb
  out=$(kc get node "$VM_NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}' 2>/dev/null) || return 1
  read -r st hb <<<"$out"; [ "$st" = True ] || return 1
  [ "$(date -d "$hb" +%s 2>/dev/null || echo 0)" -ge "$(cat "$VMRUN/started" 2>/dev/null || echo 0)" ]
}

guest_booted() { awk '/^==== boot/{f=0} /tj-main: .*kubelet (started|disabled)/{f=1} END{exit !f}' "$VMSTATE/console.log"; }
cmd_up() {
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  local T0; T0=$(now)
  if vm_running && node_ready; then log "VM node $VM_NODE_NAME already Ready ($(elapsed "$T0")s)"; return 0; fi
  [ -f "$KUBECONFIG_ADMIN" ] && kc get --raw /readyz >/dev/null 2>&1 || die "the cluster is not up (cluster.sh up first)"
  local tb; tb=$(now); cmd_build; local tbuild; tbuild=$(elapsed "$tb")
  local rel; rel=$(cat "$CURRENT")
  mkdir -p "$VMSTATE" "$VMRUN"
  local api_ip; api_ip=$(node_ip)
  local tdata=0 boot=running
  if ! vm_running; then
    local td; td=$(now); make_data_disk "$api_ip" "$rel"; tdata=$(elapsed "$td")
    boot=warm; [ -f "$VMSTATE/disk.qcow2" ] && [ "$(cat "$VMSTATE/disk.base" 2>/dev/null)" = "$(vmdir "$rel")/rootfs.ext4" ] || boot=cold
    net_up
    local tq; tq=$(now); start_qemu "$rel"
  fi
  local end=$(( $(date +%s) + ${TRACEJOB_VM_TIMEOUT:-600} ))
  local ready=node_ready; [ "${TRACEJOB_VM_NO_KUBELET:-0}" = 1 ] && ready=guest_booted  # boot without joining the cluster
  until $ready; do
    vm_running || { tail -30 "$VMSTATE/console.log" >&2; tail -5 "$VMSTATE/qemu.log" >&2; die "qemu exited"; }
    [ "$(date +%s)" -lt "$end" ] || { tail -30 "$VMSTATE/console.log" >&2; die "node $VM_NODE_NAME not Ready after ${TRACEJOB_VM_TIMEOUT:-600}s"; }
    sleep 1
  done
  log "$([ "$ready" = node_ready ] && echo "node $VM_NODE_NAME Ready" || echo "guest booted (no kubelet)"): $boot boot $(elapsed "${tq:-$T0}")s after qemu start (build/cache check ${tbuild}s, data disk ${tdata}s, total $(elapsed "$T0")s)"
}

agent() { # timeout command -> prints output, returns the guest's exit status
  local t=$1; shift
  [ -S "$VMRUN/agent.sock" ] || die "VM not running"
  exec 7>"$VMRUN/agent.lock"; flock -w "$t" 7 || die "agent channel busy"
  local id="c$$-$RANDOM" line out= rc=124
  coproc AG { socat -t 0.2 - "UNIX-CONNECT:$VMRUN/agent.sock"; }
  # bash drops AG/AG_PID when the coproc ends (e.g. the guest powers off): copy them first.
  local to=${AG[1]} from=${AG[0]} agpid=$AG_PID
  printf '%s %s\n' "$id" "$(printf '%s' "$*" | base64 -w0)" >&"$to" 2>/dev/null || true
  while IFS= read -r -t "$t" line <&"$from" 2>/dev/null; do
    line=${line%$'\r'}
    case $line in "__TJ_END__ $id "*) rc=${line##* }; break ;; *) out=$line ;; esac
  done
  kill "$agpid" 2>/dev/null || true; exec 7>&-
  if [ -n "$out" ]; then printf '%s' "$out" | base64 -d 2>/dev/null || true; fi
  return "$rc"
}
cmd_exec() { [ $# -gt 0 ] || die "usage: vm-node.sh exec CMD..."; agent "${TRACEJOB_VM_EXEC_TIMEOUT:-120}" "$*"; }

cmd_down() {
  local purge=0; [ "${1:-}" = --purge ] && purge=1
  local T0; T0=$(now)
  [ -d "$VMSTATE" ] || return 0   # never started here
  # The Node object goes first: a NotReady node must not linger for the host's tests.
  if [ -f "$KUBECONFIG_ADMIN" ] && [ -x "$K8S_BIN/kubectl" ] && kc get node "$VM_NODE_NAME" >/dev/null 2>&1; then
    kc delete node "$VM_NODE_NAME" --wait=false >/dev/null 2>&1 && log "deleted node $VM_NODE_NAME"
  fi
  if vm_running; then
    local p; p=$(cat "$VMRUN/qemu.pid")
    [ -S "$VMRUN/agent.sock" ] && { agent 30 /mnt/tj-data/tj-shutdown >/dev/null 2>&1 || true; }
    local i; for ((i = 0; i < 150; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$p" 2>/dev/null; then log "guest did not power off; stopping qemu"; kill -TERM "$p" 2>/dev/null || true; sleep 1; kill -KILL "$p" 2>/dev/null || true; fi
    log "stopped qemu (pid $p)"
  fi
  rm -f "$VMRUN/qemu.pid" "$VMRUN/agent.sock" "$VMRUN/agent.lock" "$VMRUN/started"
  net_down
  if [ $purge = 1 ]; then rm -rf "$VMSTATE"; log "purged $VMSTATE"; fi
  log "VM node down ($(elapsed "$T0")s)"
}

cmd_status() {
  local ok=0
  if vm_running; then
    local p rss; p=$(cat "$VMRUN/qemu.pid"); rss=$(awk '/^VmRSS:/{print int($2/1024)}' "/proc/$p/status")
    printf '%-24s up   pid %-7s rss %5s MiB  (%s MiB guest RAM, %s vCPU, TCG)\n' qemu "$p" "$rss" "$VM_MEM" "$VM_CPUS"
  else printf '%-24s DOWN\n' qemu; ok=1; fi
  if node_ready; then printf '%-24s Ready (%s)\n' "node/$VM_NODE_NAME" "$(cat "$CURRENT" 2>/dev/null)"; else printf '%-24s NOT READY\n' "node/$VM_NODE_NAME"; ok=1; fi
  return $ok
}
cmd_measure() { # memory and idle CPU of the VM over ${1:-30}s
  vm_running || die "VM not running"
  local p t=${1:-30} a b hz; p=$(cat "$VMRUN/qemu.pid"); hz=$(getconf CLK_TCK)
  a=$(awk '{print $14+$15}' "/proc/$p/stat"); sleep "$t"; b=$(awk '{print $14+$15}' "/proc/$p/stat")
  awk -v a="$a" -v b="$b" -v hz="$hz" -v t="$t" 'BEGIN{printf "qemu CPU: %.1f%% of one core over %ss\n", (b-a)/hz/t*100, t}'
  grep -E '^(VmRSS|VmHWM)' "/proc/$p/status"
  agent 60 'free -m | head -2; echo; ps -eo rss,comm --sort=-rss | head -6' || true
}

lock() { mkdir -p "$STATE"; exec 8>"$STATE/.vm.lock"; flock -n 8 || { log "waiting for another vm-node.sh up/down"; flock 8; }; }
case "${1:-}" in
  build) [ "$(id -u)" -eq 0 ] || die "must run as root"; lock; cmd_build ;;
  up) lock; cmd_up ;;
  down) [ "$(id -u)" -eq 0 ] || die "must run as root"; lock; shift; cmd_down "$@" ;;
  status) cmd_status ;;
  exec) shift; cmd_exec "$@" ;;
  console) cat "$VMSTATE/console.log" ;;
  measure) shift; cmd_measure "$@" ;;
  *) echo "usage: $0 build|up|down [--purge]|status|exec CMD|console|measure [seconds]" >&2; exit 2 ;;
esac
