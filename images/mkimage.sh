#!/usr/bin/env bash
# mkimage.sh — assemble an OCI-layout image tarball from layer tars + config, no Docker needed.
#
#   mkimage.sh --name localhost/foo:tag --out foo.oci.tar \
#       --layer base.tar [--layer app.tar ...] \
#       [--entrypoint '["node","/app/main.js"]'] [--cmd '[]'] [--env K=V]... \
#       [--workdir /] [--user 65532] [--label k=v]... [--import]
#
# Layers are plain (uncompressed) tars of filesystem trees, lowest first. They are
# compressed with zstd (gzip if zstd is missing). The tarball carries the
# io.containerd.image.name annotation, so `ctr -n k8s.io images import FILE`
# registers it under --name. --import does that right away.
set -euo pipefail
die() { echo "mkimage: $*" >&2; exit 1; }
name='' out='' entrypoint=null cmd=null workdir='' user='' doimport=0
layers=() envs=() labels=()
while [ $# -gt 0 ]; do
  case $1 in
    --name) name=$2; shift ;;
    --out) out=$2; shift ;;
    --layer) layers+=("$2"); shift ;;
    --entrypoint) entrypoint=$2; shift ;;
    --cmd) cmd=$2; shift ;;
    --env) envs+=("$2"); shift ;;
    --workdir) workdir=$2; shift ;;
    --user) user=$2; shift ;;
    --label) labels+=("$2"); shift ;;
    --import) doimport=1 ;;
    *) die "unknown argument $1" ;;
  esac
  shift
done
[ -n "$name" ] && [ -n "$out" ] && [ ${#layers[@]} -gt 0 ] || die "need --name, --out and at least one --layer"
case $name in *:latest|*@*) die "refuse to tag :latest / digests (pull policy would be Always)";; *:*) ;; *) die "--name needs an explicit tag";; esac
for t in jq sha256sum tar; do command -v $t >/dev/null || die "$t not found"; done
echo "$entrypoint" | jq -e 'type=="array" or .==null' >/dev/null || die "--entrypoint must be a JSON array"
echo "$cmd" | jq -e 'type=="array" or .==null' >/dev/null || die "--cmd must be a JSON array"

if command -v zstd >/dev/null; then comp="zstd -q -T0 -3 -c"; mt=application/vnd.oci.image.layer.v1.tar+zstd
else comp="gzip -1 -c"; mt=application/vnd.oci.image.layer.v1.tar+gzip; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkimage.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
blobs=$tmp/blobs/sha256; mkdir -p "$blobs"
put_blob() { # file -> prints digest hex; moves file into blobs
  local d; d=$(sha256sum "$1" | cut -d' ' -f1); mv "$1" "$blobs/$d"; echo "$d"
}
diffids=() ldescs=()
for l in "${layers[@]}"; do
  [ -f "$l" ] || die "layer $l not found"
  diff=$(sha256sum < "$l" | cut -d' ' -f1)   # diff_id = digest of the uncompressed tar
  $comp < "$l" > "$tmp/layer"
  sz=$(stat -c %s "$tmp/layer"); d=$(put_blob "$tmp/layer")
  diffids+=("sha256:$diff")
  ldescs+=("$(jq -cn --arg mt "$mt" --arg d "sha256:$d" --argjson s "$sz" '{mediaType:$mt,digest:$d,size:$s}')")
done
envjson=$(printf '%s\n' "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "${envs[@]}" | jq -R . | jq -s 'map(select(length>0))')
labeljson=$(printf '%s\n' "${labels[@]}" | jq -R 'select(length>0) | split("=") | {(.[0]): (.[1:]|join("="))}' | jq -s 'add // {}')
created=1970-01-01T00:00:00Z
jq -n --argjson ep "$entrypoint" --argjson cmd "$cmd" --argjson env "$envjson" --argjson labels "$labeljson" \
  --arg wd "$workdir" --arg user "$user" --arg created "$created" \
  --argjson diffs "$(printf '%s\n' "${diffids[@]}" | jq -R . | jq -s .)" '{
    created: $created, architecture: "amd64", os: "linux",
    config: ({Env: $env, Labels: $labels}
      + (if $ep then {Entrypoint: $ep} else {} end)
      + (if $cmd then {Cmd: $cmd} else {} end)
      + (if $wd != "" then {WorkingDir: $wd} else {} end)
      + (if $user != "" then {User: $user} else {} end)),
    rootfs: {type: "layers", diff_ids: $diffs},
    history: [{created: $created, created_by: "tracejob images/mkimage.sh"}]
  }' > "$tmp/config"
csz=$(stat -c %s "$tmp/config"); cd_=$(put_blob "$tmp/config")
jq -n --arg cd "sha256:$cd_" --argjson cs "$csz" --argjson layers "$(printf '%s\n' "${ldescs[@]}" | jq -s .)" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
  layers: $layers }' > "$tmp/manifest"
msz=$(stat -c %s "$tmp/manifest"); md=$(put_blob "$tmp/manifest")
jq -n --arg md "sha256:$md" --argjson ms "$msz" --arg name "$name" --arg tag "${name##*:}" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
    platform: {architecture: "amd64", os: "linux"},
    annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": $tag}}]}' > "$tmp/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$tmp/oci-layout"
mkdir -p "$(dirname "$out")"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$tmp" -cf "$out.part" oci-layout index.json blobs
mv "$out.part" "$out"
echo "mkimage: wrote $out ($(du -h "$out" | cut -f1)) as $name" >&2
if [ $doimport = 1 ]; then
  sock=${CONTAINERD_ADDRESS:-/run/containerd/containerd.sock}
  ctr --address "$sock" -n k8s.io images import --digests=false "$out" >/dev/null
  echo "mkimage: imported $name into containerd (k8s.io)" >&2
fi
