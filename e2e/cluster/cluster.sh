#!/usr/bin/env bash
# Single-node Kubernetes on this machine, from source-built components; no systemd.
#   cluster.sh up        start (idempotent; quick no-op when already running)
#   cluster.sh down      stop everything it started, remove pods, mounts, netns [--purge: wipe state]
#   cluster.sh status    component + node status; exit 0 only when all up
#   cluster.sh env       `eval "$(e2e/cluster/cluster.sh env)"` sets KUBECONFIG and PATH
# TRACEJOB_VM_NODE=1: `up` and `status` include the second node in a QEMU VM (vm-node.sh); `down` always stops it.
# State: ${TRACEJOB_CLUSTER_DIR:-/var/lib/tracejob-cluster}; cache: ${TRACEJOB_CACHE:-/var/cache/tracejob}.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/lib.sh"
REPO="$(cd "$HERE/../.." && pwd)"

NODE_NAME="${TRACEJOB_NODE_NAME:-tracejob-node}"
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
POD_CIDR=10.88.0.0/16
POD_GW=10.88.0.1
BRIDGE=cni0
CNI_CONF=/etc/cni/net.d/10-tracejob-bridge.conflist
CNI_NET=tracejob
CTRD_SOCK=/run/containerd/containerd.sock
CTRD_ROOT=/var/lib/containerd
NFT_TABLE=tracejob
PKI="$STATE/pki"; RUN="$STATE/run"; LOGS="$STATE/logs"; CONF="$STATE/config"
KUBELET_ROOT="$STATE/kubelet"
KUBECONFIG_ADMIN="$STATE/kubeconfig"

node_ip() {
  if [ -n "${TRACEJOB_NODE_IP:-}" ]; then echo "$TRACEJOB_NODE_IP"; return; fi
  local ip; ip=$(ip -4 -o addr show dev "${TRACEJOB_NODE_IFACE:-eth0}" scope global 2>/dev/null | awk '{split($4,a,"/"); print a[1]; exit}')
  [ -n "$ip" ] || ip=$(ip -4 route get 192.0.2.255 2>/dev/null | awk '{for(i=1;i<NF;i++) if($i=="src"){print $(i+1); exit}}')
  [ -n "$ip" ] || die "cannot determine the node IP (set TRACEJOB_NODE_IP)"
  echo "$ip"
}
kc() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# ---------------------------------------------------------------- processes
pid_of() { local f="$RUN/$1.pid"; [ -f "$f" ] && cat "$f" || true; }
running() { # component -> 0 if our process is alive (guards against pid reuse via /proc/<pid>/comm|cmdline)
  local p; p=$(pid_of "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q -- "$1"
}
start_bg() { # name cmd...
  local name=$1; shift
  mkdir -p "$RUN" "$LOGS"
  printf '\n==== %s start %s\n' "$name" "$(date -u +%FT%TZ)" >> "$LOGS/$name.log"
  # 8>&-: the daemon must not inherit the lock fd, or every later up/down would wait forever.
  setsid nohup "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null 8>&- &
  echo $! > "$RUN/$name.pid"
}
stop_proc() { # name [timeout]
  local name=$1 t=${2:-20} p; p=$(pid_of "$name")
  if running "$name"; then
    kill -TERM "$p" 2>/dev/null || true
    local i; for ((i = 0; i < t * 10; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then log "$name did not stop in ${t}s; SIGKILL"; kill -KILL "$p" 2>/dev/null || true; sleep 0.2; fi
    log "stopped $name (pid $p)"
  fi
  rm -f "$RUN/$name.pid"
}
wait_for() { # description timeout cmd...
  local what=$1 t=$2; shift 2
  local end=$(( $(date +%s) + t ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || { log "timed out after ${t}s waiting for $what"; return 1; }
    sleep 0.2
  done
}

# ---------------------------------------------------------------- health checks
h_containerd() { running containerd && ctr --address "$CTRD_SOCK" version >/dev/null 2>&1; }
h_etcd() { running etcd && curl -fsS --max-time 2 http://127.0.0.1:2379/health | grep -q '"health":"true"'; }
h_apiserver() { running kube-apiserver && curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" https://127.0.0.1:6443/readyz >/dev/null; }
h_cm() { running kube-controller-manager && curl -fsSk --max-time 2 https://127.0.0.1:10257/healthz >/dev/null; }
h_sched() { running kube-scheduler && curl -fsSk --max-time 2 https://127.0.0.1:10259/healthz >/dev/null; }
h_kubelet() { running kubelet && curl -fsS --max-time 2 http://127.0.0.1:10248/healthz >/dev/null; }
node_ready() { # Ready=True, reported by the kubelet that is running now (not a stale status from before a restart)
  local out st hb started
  out=$(kc get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}' 2>/dev/null) || return 1
  read -r st hb <<<"$out"; [ "$st" = True ] || return 1
  started=$(cat "$RUN/kubelet.started" 2>/dev/null || echo 0)
  [ "$(date -d "$hb" +%s 2>/dev/null || echo 0)" -ge $((started - 1)) ]
}
all_healthy() { h_containerd && h_etcd && h_apiserver && h_cm && h_sched && h_kubelet && node_ready; }

# ---------------------------------------------------------------- PKI
mkcert() { # name CN O(or "") usage(client|server|both) [SANs]
  local n=$1 cn=$2 o=$3 usage=$4 sans=${5:-}
  [ -f "$PKI/$n.crt" ] && return
  local eku=clientAuth; [ "$usage" = server ] && eku=serverAuth; [ "$usage" = both ] && eku="serverAuth,clientAuth"
  local subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o$subj"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$n.key" -subj "$subj" -out "$PKI/$n.csr" 2>/dev/null
  { echo "basicConstraints=critical,CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"; [ -n "$sans" ] && echo "subjectAltName=$sans"; } > "$PKI/$n.ext"
  openssl x509 -req -in "$PKI/$n.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 3650 -sha256 -extfile "$PKI/$n.ext" -out "$PKI/$n.crt" 2>/dev/null
  rm -f "$PKI/$n.csr" "$PKI/$n.ext"; chmod 600 "$PKI/$n.key"
}
write_kubeconfig() { # file user cert server
  b64() { base64 -w0 < "$1"; }
  cat > "$1.tmp" <<KC
apiVersion: v1
kind: Config
clusters:
- name: tracejob
  cluster:
    server: $4
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(b64 "$PKI/$3.crt")
    client-key-data: $(b64 "$PKI/$3.key")
contexts:
- name: tracejob
  context: {cluster: tracejob, user: $2}
current-context: tracejob
KC
  chmod 600 "$1.tmp"; mv "$1.tmp" "$1"
}
ensure_pki() {
  local ip=$1; mkdir -p "$PKI" "$CONF"
  if [ ! -f "$PKI/ca.crt" ]; then
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -subj "/CN=tracejob-cluster-ca" -days 3650 \
      -sha256 -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$PKI/ca.crt" 2>/dev/null
    chmod 600 "$PKI/ca.key"
  fi
  [ -f "$PKI/sa.key" ] || { openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null; openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null; chmod 600 "$PKI/sa.key"; }
  # serving certs are bound to the node IP: regenerate when it changes
  if [ "$(cat "$PKI/node-ip" 2>/dev/null)" != "$ip" ]; then rm -f "$PKI"/apiserver.* "$PKI"/kubelet-serving.*; echo "$ip" > "$PKI/node-ip"; fi
  mkcert apiserver kube-apiserver "" server \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:$NODE_NAME,IP:127.0.0.1,IP:$ip,IP:$SERVICE_IP"
  mkcert apiserver-kubelet-client kube-apiserver-kubelet-client "" client
  mkcert admin kubernetes-admin system:masters client
  mkcert controller-manager system:kube-controller-manager "" client
  mkcert scheduler system:kube-scheduler "" client
  mkcert kubelet "system:node:$NODE_NAME" system:nodes client
  mkcert kubelet-serving "$NODE_NAME" "" server "DNS:$NODE_NAME,DNS:localhost,IP:$ip,IP:127.0.0.1"
  write_kubeconfig "$KUBECONFIG_ADMIN" kubernetes-admin admin "https://$ip:6443"
  write_kubeconfig "$CONF/controller-manager.kubeconfig" system:kube-controller-manager controller-manager https://127.0.0.1:6443
  write_kubeconfig "$CONF/scheduler.kubeconfig" system:kube-scheduler scheduler https://127.0.0.1:6443
  write_kubeconfig "$CONF/kubelet.kubeconfig" "system:node:$NODE_NAME" kubelet https://127.0.0.1:6443
}

# ---------------------------------------------------------------- host setup
host_setup() {
  local ip=$1
  mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing || log "warning: cannot mount tracefs"
  mkdir -p /etc/cni/net.d /var/lib/cni "$KUBELET_ROOT"
  # Pods get their own netns on a bridge. No masquerade and only on-link + node-IP
  # routes: pod traffic cannot leave the machine (nft forward drop below as well).
  cat > "$CNI_CONF.tmp" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NET",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GW"}]],
        "routes": [{"dst": "$ip/32"}, {"dst": "$SERVICE_IP/32"}]
      }
    }
  ]
}
JSON
  mv "$CNI_CONF.tmp" "$CNI_CONF"
  # The bridge plugin turns on ip_forward for the gateway; refuse to forward pod traffic off the bridge.
  # No kube-proxy: the only ClusterIP that works is the `kubernetes` Service VIP ($SERVICE_IP:443), which
  # is a local address (on lo) DNAT-ed to the API server (so default in-cluster config works).
  # The rest of the service range is unreachable from the host, so it never leaves the machine.
  # (order: blackhole the range first, so nothing to it can ever leave via the default route)
  ip route show type unreachable | grep -q "^unreachable $SERVICE_CIDR" || ip route add unreachable "$SERVICE_CIDR"
  ip -4 addr show dev lo | grep -q "inet $SERVICE_IP/32" || ip addr add "$SERVICE_IP/32" dev lo label lo:tracejob
  nft list table inet "$NFT_TABLE" >/dev/null 2>&1 && nft delete table inet "$NFT_TABLE"
  nft -f - <<NFT
table inet $NFT_TABLE {
  chain forward {
    type filter hook forward priority -10; policy accept;
    iifname "$BRIDGE" oifname != "$BRIDGE" drop
    ip saddr $POD_CIDR oifname != "$BRIDGE" drop
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    ip daddr $SERVICE_IP tcp dport 443 dnat ip to $ip:6443
  }
  chain output {
    type nat hook output priority -100; policy accept;
    ip daddr $SERVICE_IP tcp dport 443 dnat ip to $ip:6443
  }
}
NFT
  cat > "$CONF/containerd.toml" <<TOML
version = 2
root = "$CTRD_ROOT"
state = "/run/containerd"
[grpc]
  address = "$CTRD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:3.10"
  restrict_oom_score_adj = true
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
}

write_component_configs() {
  local ip=$1
  cat > "$CONF/scheduler.yaml" <<YAML
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $CONF/scheduler.kubeconfig
leaderElection:
  leaderElect: false
YAML
  cat > "$CONF/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
address: 0.0.0.0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
readOnlyPort: 0
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
containerRuntimeEndpoint: unix://$CTRD_SOCK
imageServiceEndpoint: unix://$CTRD_SOCK
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
imageMinimumGCAge: 87600h
serializeImagePulls: false
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
evictionHard:
  memory.available: "50Mi"
  nodefs.available: "1%"
  nodefs.inodesFree: "1%"
  imagefs.available: "1%"
evictionPressureTransitionPeriod: 10s
nodeStatusReportFrequency: 10s
nodeStatusUpdateFrequency: 10s
syncFrequency: 10s
fileCheckFrequency: 10s
maxPods: 110
rotateCertificates: false
serverTLSBootstrap: false
protectKernelDefaults: false
makeIPTablesUtilChains: false
localStorageCapacityIsolation: true
YAML
}

# ---------------------------------------------------------------- start components
start_containerd() {
  h_containerd && return
  if [ -S "$CTRD_SOCK" ] && ctr --address "$CTRD_SOCK" version >/dev/null 2>&1; then
    die "a containerd not started by this script is serving $CTRD_SOCK; stop it first"
  fi
  rm -f "$CTRD_SOCK"
  start_bg containerd containerd --config "$CONF/containerd.toml"
  wait_for containerd 30 h_containerd || { tail -20 "$LOGS/containerd.log" >&2; die "containerd did not start"; }
}
import_pause() {
  ctr --address "$CTRD_SOCK" -n k8s.io images ls -q 2>/dev/null | grep -qx 'localhost/pause:3.10' && return
  "$REPO/images/build.sh" pause >/dev/null 2>&1 || die "building/importing the pause image failed (run images/build.sh pause)"
}
import_cached_images() { # app images built earlier (images/build.sh) but missing from containerd
  local have; have=$(ctr --address "$CTRD_SOCK" -n k8s.io images ls -q 2>/dev/null || true)
  local f name
  for f in "$CACHE"/images/tracejob-*-dev.oci.tar; do
    [ -f "$f" ] || continue
    name="localhost/$(basename "$f" .oci.tar | sed 's/-dev$/:dev/')"
    grep -qx "$name" <<<"$have" && continue
    ctr --address "$CTRD_SOCK" -n k8s.io images import --digests=false "$f" >/dev/null && log "imported cached $name"
  done
}
start_etcd() {
  h_etcd && return
  mkdir -p "$STATE/etcd"; chmod 700 "$STATE/etcd"
  # --unsafe-no-fsync: throwaway test cluster on a VM disk; fsync latency otherwise dominates apiserver writes
  start_bg etcd "$ETCD_BIN/etcd" --name tracejob --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster tracejob=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
    --unsafe-no-fsync --log-level warn --snapshot-count 10000 --quota-backend-bytes 2147483648
  wait_for etcd 30 h_etcd || { tail -20 "$LOGS/etcd.log" >&2; die "etcd did not start"; }
}
start_apiserver() {
  local ip=$1
  h_apiserver && return
  running kube-apiserver || start_bg kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$ip" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true \
    --profiling=false --event-ttl=1h --v=1
  wait_for kube-apiserver 90 h_apiserver || { tail -30 "$LOGS/kube-apiserver.log" >&2; die "kube-apiserver not ready"; }
}
start_controller_manager() {
  h_cm && return
  running kube-controller-manager || start_bg kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$CONF/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$CONF/controller-manager.kubeconfig" --authorization-kubeconfig="$CONF/controller-manager.kubeconfig" \
    --controllers='*' --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --allocate-node-cidrs=false \
    --bind-address=127.0.0.1 --secure-port=10257 --leader-elect=false --profiling=false --v=1
}
start_scheduler() {
  h_sched && return
  running kube-scheduler || start_bg kube-scheduler "$K8S_BIN/kube-scheduler" --config="$CONF/scheduler.yaml" \
    --authentication-kubeconfig="$CONF/scheduler.kubeconfig" --authorization-kubeconfig="$CONF/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=10259 --profiling=false --v=1
}
start_kubelet() {
  local ip=$1
  h_kubelet && return
  running kubelet || date +%s > "$RUN/kubelet.started"
  running kubelet || start_bg kubelet "$K8S_BIN/kubelet" --config="$CONF/kubelet.yaml" \
    --kubeconfig="$CONF/kubelet.kubeconfig" --hostname-override="$NODE_NAME" --node-ip="$ip" \
    --root-dir="$KUBELET_ROOT" --v=1
}
bootstrap_rbac() {
  # The API server's kubelet-client identity may read logs / exec (kubelet webhook authz).
  kc get clusterrolebinding tracejob:apiserver-kubelet-api-admin >/dev/null 2>&1 ||
    kc create clusterrolebinding tracejob:apiserver-kubelet-api-admin --clusterrole=system:kubelet-api-admin \
      --user=kube-apiserver-kubelet-client >/dev/null
}

cmd_up() {
  local T0; T0=$(now)
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  if [ -f "$KUBECONFIG_ADMIN" ] && [ -x "$K8S_BIN/kubectl" ] && all_healthy; then
    log "cluster already up (node $NODE_NAME Ready) — nothing to do ($(elapsed "$T0")s)"; return 0
  fi
  "$HERE/install-deps.sh" >/dev/null
  local tb; tb=$(now)
  "$HERE/build-components.sh" all
  log "components ready ($(elapsed "$tb")s)"
  local ip; ip=$(node_ip)
  mkdir -p "$STATE" "$RUN" "$LOGS" "$CONF"
  # After an unclean stop (processes killed, e.g. a session ending) pods'
  # mounts and network namespaces are left over; clear them before starting.
  running containerd || { kill_shims; cleanup_mounts; cleanup_netns; }
  ensure_netns_dir
  ensure_pki "$ip"
  host_setup "$ip"
  write_component_configs "$ip"
  start_containerd
  import_pause
  start_etcd
  start_apiserver "$ip"
  log "kube-apiserver ready at https://$ip:6443 ($(elapsed "$T0")s)"
  bootstrap_rbac
  start_controller_manager
  start_scheduler
  start_kubelet "$ip"
  wait_for "controller-manager health" 60 h_cm || { tail -20 "$LOGS/kube-controller-manager.log" >&2; die "controller-manager not healthy"; }
  wait_for "scheduler health" 60 h_sched || { tail -20 "$LOGS/kube-scheduler.log" >&2; die "scheduler not healthy"; }
  wait_for "kubelet health" 60 h_kubelet || { tail -30 "$LOGS/kubelet.log" >&2; die "kubelet not healthy"; }
  wait_for "node $NODE_NAME Ready" 120 node_ready || { tail -30 "$LOGS/kubelet.log" >&2; die "node not Ready"; }
  log "node $NODE_NAME Ready ($(elapsed "$T0")s)"
  wait_for "default ServiceAccount" 60 kc get serviceaccount default -n default || die "default ServiceAccount missing"
  import_cached_images
  log "cluster up in $(elapsed "$T0")s — eval \"\$($HERE/cluster.sh env)\""
}

# ---------------------------------------------------------------- down
remove_pods() {
  h_containerd || return 0
  local crictl=("$CRICTL_BIN/crictl" --runtime-endpoint "unix://$CTRD_SOCK" --timeout 30s)
  if [ -x "$CRICTL_BIN/crictl" ]; then
    "${crictl[@]}" rmp -fa >/dev/null 2>&1 || true
  fi
  # Anything left in the k8s.io namespace (e.g. crictl unavailable): kill tasks, remove containers.
  local c
  for c in $(ctr --address "$CTRD_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr --address "$CTRD_SOCK" -n k8s.io tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true
  done
  sleep 0.5
  for c in $(ctr --address "$CTRD_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr --address "$CTRD_SOCK" -n k8s.io tasks delete -f "$c" >/dev/null 2>&1 || true
  done
  for c in $(ctr --address "$CTRD_SOCK" -n k8s.io containers ls -q 2>/dev/null); do
    ctr --address "$CTRD_SOCK" -n k8s.io containers delete "$c" >/dev/null 2>&1 || true
  done
}
kill_shims() { # containerd-shim processes serving our containerd (found by exe + socket address, killed by pid)
  local p
  for p in $(pgrep -x containerd-shim 2>/dev/null); do  # comm is truncated to 15 chars: matches containerd-shim-runc-v2
    tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q -- "-address $CTRD_SOCK" || continue
    kill -KILL "$p" 2>/dev/null && log "killed leftover shim pid $p"
  done
}
cleanup_mounts() {
  local m
  awk '{print $2}' /proc/self/mounts | sed 's/\\040/ /g' |
    { grep -E "^($KUBELET_ROOT(/.*)?\$|/run/containerd/|$CTRD_ROOT/io\.containerd\.grpc\.v1\.cri/|/run/netns/cni-)" || true; } |
    sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}
cleanup_netns() { # pod netns left by CNI, also after containerd was SIGKILLed (a session ending)
  # `ip netns` bind-mounts /run/netns onto itself, which can hide older nsfs
  # mounts beneath it: peel that bind off, unmount the nsfs mounts, remove the files.
  local i f
  for i in 1 2 3; do
    grep -q ' /run/netns ' /proc/self/mounts && { umount -l /run/netns 2>/dev/null || true; }
    for f in $(awk '$2 ~ "^/run/netns/cni-" {print $2}' /proc/self/mounts); do umount -l "$f" 2>/dev/null || true; done
  done
  rm -f /run/netns/cni-* 2>/dev/null || true
}
ensure_netns_dir() {
  # `ip netns add` (tests, tools) makes /run/netns a shared self-bind mount on
  # first use; made later, it covers the nsfs mounts of pods started before it,
  # and the kubelet can then never remove those pods ("remove netns: device or
  # resource busy"). Made here, before any pod, `ip netns` finds it and mounts nothing.
  mkdir -p /run/netns
  if ! mountpoint -q /run/netns; then
    # Pods already running (containerd survived): a bind now would hide them in turn.
    grep -q ' /run/netns/cni-' /proc/self/mounts && return 0
    mount --bind /run/netns /run/netns
  fi
  mount --make-shared /run/netns
}
cmd_down() {
  local purge=0; [ "${1:-}" = --purge ] && purge=1
  local T0; T0=$(now)
  # The VM node first (it deletes its Node object through the API server); a no-op when it never ran.
  "$HERE/vm-node.sh" down "$@" || log "warning: vm-node.sh down failed"
  stop_proc kubelet 30
  remove_pods
  stop_proc kube-scheduler; stop_proc kube-controller-manager; stop_proc kube-apiserver 30; stop_proc etcd 30
  stop_proc containerd 30
  kill_shims
  cleanup_mounts
  cleanup_netns
  ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE" 2>/dev/null || true
  nft list table inet "$NFT_TABLE" >/dev/null 2>&1 && nft delete table inet "$NFT_TABLE" || true
  ip -4 addr show dev lo | grep -q "inet $SERVICE_IP/32" && ip addr del "$SERVICE_IP/32" dev lo || true
  ip route show type unreachable | grep -q "^unreachable $SERVICE_CIDR" && ip route del unreachable "$SERVICE_CIDR" || true
  rm -rf "/var/lib/cni/networks/$CNI_NET" "/var/lib/cni/results"
  rm -f "$CNI_CONF"
  if [ $purge = 1 ]; then
    rm -rf "$STATE" /var/log/pods /var/log/containers
    log "purged $STATE (build cache $CACHE kept)"
  fi
  log "cluster down ($(elapsed "$T0")s)"
}

# ---------------------------------------------------------------- status / env
cmd_status() {
  local ok=0 tot_rss=0 tot_hwm=0
  st() {
    if "$2"; then
      local p rss hwm; p=$(pid_of "$1")
      rss=$(awk '/^VmRSS:/{print int($2/1024)}' "/proc/$p/status" 2>/dev/null || echo 0)
      hwm=$(awk '/^VmHWM:/{print int($2/1024)}' "/proc/$p/status" 2>/dev/null || echo 0)
      tot_rss=$((tot_rss + rss)); tot_hwm=$((tot_hwm + hwm))
      printf '%-24s up   pid %-7s rss %5s MiB  peak %5s MiB\n' "$1" "$p" "$rss" "$hwm"
    else printf '%-24s DOWN\n' "$1"; ok=1; fi
  }
  st containerd h_containerd; st etcd h_etcd; st kube-apiserver h_apiserver
  st kube-controller-manager h_cm; st kube-scheduler h_sched; st kubelet h_kubelet
  printf '%-24s           rss %5s MiB  peak %5s MiB (sum of components, pods excluded)\n' total "$tot_rss" "$tot_hwm"
  if h_apiserver && node_ready; then printf '%-24s Ready\n' "node/$NODE_NAME"; else printf '%-24s NOT READY\n' "node/$NODE_NAME"; ok=1; fi
  if [ "${TRACEJOB_VM_NODE:-}" = 1 ]; then "$HERE/vm-node.sh" status || ok=1; fi
  return $ok
}
cmd_env() {
  echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
  echo "export PATH=$CACHE_PATH:\$PATH"
  echo "export CONTAINER_RUNTIME_ENDPOINT=unix://$CTRD_SOCK"
}

lock() { mkdir -p "$STATE"; exec 8>"$STATE/.lock"; flock -n 8 || { log "waiting for another cluster.sh up/down"; flock 8; }; }
case "${1:-}" in
  up) [ "$(id -u)" -eq 0 ] || die "must run as root"; lock; cmd_up
    if [ "${TRACEJOB_VM_NODE:-}" = 1 ]; then "$HERE/vm-node.sh" up; fi ;;
  down) [ "$(id -u)" -eq 0 ] || die "must run as root"; lock; shift; cmd_down "$@" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 up|down [--purge]|status|env" >&2; exit 2 ;;
esac
