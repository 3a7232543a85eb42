#!/usr/bin/env bash
# Build the pinned cluster components from the Go module proxy into the cache:
#   $TRACEJOB_CACHE/<component>-<version>/bin/...   (default /var/cache/tracejob)
# A component is rebuilt only when its stamp file (written after a successful
# build) is missing. Usage: build-components.sh [all|kubernetes|etcd|crictl|helm]...
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v go >/dev/null || die "go toolchain not found (need Go >= 1.24)"
WORK="$CACHE/src"
mkdir -p "$WORK"
exec 9>"$CACHE/.build.lock"
flock -n 9 || { log "another build holds $CACHE/.build.lock; waiting"; flock 9; }

stamp_ok() { [ -f "$1/.stamp" ]; }
finish() { # dir component t0
  printf 'built=%s seconds=%s go=%s\n' "$(date -u +%FT%TZ)" "$(elapsed "$3")" "$(go env GOVERSION)" > "$1/.stamp"
  log "$2 built in $(elapsed "$3")s -> $1/bin"
}

build_kubernetes() {
  local out="$CACHE/kubernetes-$K8S_VERSION" t0; t0=$(now)
  stamp_ok "$out" && { log "kubernetes $K8S_VERSION cached"; return; }
  log "building kubernetes $K8S_VERSION (multi-call binary; takes a while on 2 cores)"
  local w="$WORK/kubernetes-$K8S_VERSION" minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local staging="v0.${K8S_VERSION#v1.}"
  rm -rf "$w"; mkdir -p "$w" "$out/bin"
  # Upstream go.mod: every k8s.io/<staging> v0.0.0 requirement is a staging module
  # replaced with a local path upstream; we pin them to the published v0.Y.Z tags.
  local upmod; upmod=$(cd "$w" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | jq -r .GoMod)
  {
    echo "module tracejob.local/k8s-multicall"
    echo
    grep -E '^go [0-9]' "$upmod"
    grep -E '^godebug' "$upmod" || true
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    awk '/^require \(/{r=1;next} r&&/^\)/{r=0} r&&$1~/^k8s\.io\//&&$2=="v0.0.0"{print $1}' "$upmod" |
      sort -u | while read -r m; do printf '\t%s => %s %s\n' "$m" "$m" "$staging"; done
    echo ")"
  } > "$w/go.mod"
  cat > "$w/main.go" <<'GO'
// Multi-call binary (hyperkube style): dispatches on basename(argv[0]),
// or on the first argument when invoked as "hyperkube <component> ...".
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	_ "time/tzdata"

	"github.com/spf13/cobra"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

var commands = map[string]func() *cobra.Command{
	"kube-apiserver":          func() *cobra.Command { return apiserver.NewAPIServerCommand() },
	"kube-controller-manager": func() *cobra.Command { return controllermanager.NewControllerManagerCommand() },
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	"kubelet":                 func() *cobra.Command { return kubelet.NewKubeletCommand(context.Background()) },
}

func main() {
	name := filepath.Base(os.Args[0])
	if name == "hyperkube" {
		if len(os.Args) < 2 {
			fmt.Fprintln(os.Stderr, "usage: hyperkube kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kubectl [flags]")
			os.Exit(2)
		}
		os.Args = os.Args[1:]
		name = filepath.Base(os.Args[0])
	}
	if name == "kubectl" {
		logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) // nolint:errcheck
		if err := cli.RunNoErrOutput(kubectlcmd.NewDefaultKubectlCommand()); err != nil {
			kubectlutil.CheckErr(err)
		}
		return
	}
	newCmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "hyperkube: unknown command %q\n", name)
		os.Exit(2)
	}
	os.Exit(cli.Run(newCmd()))
}
GO
  (cd "$w" && go mod tidy) > "$w/tidy.log" 2>&1 || { tail -30 "$w/tidy.log"; die "go mod tidy failed (log: $w/tidy.log)"; }
  local cb=k8s.io/component-base/version cg=k8s.io/client-go/pkg/version
  local bd; bd=$(date -u +%FT%TZ)
  local ld="-s -w"
  for p in $cb $cg; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$bd"
  done
  (cd "$w" && CGO_ENABLED=0 go build -trimpath -ldflags="$ld" -o "$out/bin/hyperkube" .) > "$w/build.log" 2>&1 ||
    { tail -30 "$w/build.log"; die "kubernetes build failed (log: $w/build.log)"; }
  for n in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do ln -sf hyperkube "$out/bin/$n"; done
  cp "$w/go.mod" "$w/go.sum" "$w/main.go" "$out/"
  finish "$out" kubernetes "$t0"
}

build_etcd() {
  local out="$CACHE/etcd-$ETCD_VERSION" t0; t0=$(now)
  stamp_ok "$out" && { log "etcd $ETCD_VERSION cached"; return; }
  log "building etcd $ETCD_VERSION"
  local w="$WORK/etcd-$ETCD_VERSION"; rm -rf "$w"; mkdir -p "$w" "$out/bin"
  # server/v3's own go.mod replaces sibling modules with ../api etc.; a wrapper
  # module that requires the published versions sidesteps that.
  cat > "$w/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  local upmod; upmod=$(cd "$w" && go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" | jq -r .GoMod)
  { echo "module tracejob.local/etcd"; echo; grep -E '^go [0-9]' "$upmod"; echo;
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"; } > "$w/go.mod"
  (cd "$w" && go mod tidy) > "$w/tidy.log" 2>&1 || { tail -30 "$w/tidy.log"; die "etcd go mod tidy failed"; }
  (cd "$w" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out/bin/etcd" .) > "$w/build.log" 2>&1 ||
    { tail -30 "$w/build.log"; die "etcd build failed (log: $w/build.log)"; }
  [ -x "$out/bin/etcd" ] || die "etcd build failed (log: $w/build.log)"
  finish "$out" etcd "$t0"
}

build_goinstall() { # name version pkg@version binary
  local name=$1 ver=$2 pkg=$3 bin=$4 out="$CACHE/$1-$2" t0; t0=$(now)
  stamp_ok "$out" && { log "$name $ver cached"; return; }
  log "building $name $ver"
  mkdir -p "$out/bin"
  # go install pkg@version honours the module's own go.mod (no replace directives needed).
  GOBIN="$out/bin" CGO_ENABLED=0 go install -trimpath -ldflags="-s -w $5" "$pkg" > "$WORK/$name.log" 2>&1 ||
    { tail -30 "$WORK/$name.log"; die "$name build failed"; }
  [ -x "$out/bin/$bin" ] || die "$name: $bin missing after build"
  finish "$out" "$name" "$t0"
}
build_crictl() { build_goinstall crictl "$CRICTL_VERSION" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" crictl "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION"; }
build_helm() { build_goinstall helm "$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" helm "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"; }

targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=(all)
for t in "${targets[@]}"; do
  case $t in
    all) build_kubernetes; build_etcd; build_crictl; build_helm ;;
    kubernetes|k8s) build_kubernetes ;;
    etcd) build_etcd ;;
    crictl) build_crictl ;;
    helm) build_helm ;;
    *) die "unknown component $t" ;;
  esac
done
