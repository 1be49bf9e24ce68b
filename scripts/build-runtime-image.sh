#!/usr/bin/env bash
# Builds the function runtime image without a registry: the host's Node.js binary and the
# libraries it links, the bundled runtime program, and the AWS SDK packages functions import
# without bundling (as Lambda's Node.js runtime provides them), imported as a single-layer image.
# The tag is a hash of the inputs, so any change to the runtime, the SDK's versions or Node
# builds a new image. The python3.11 image is built (or found up to date) first, by
# build-python-image.sh.
# Where a registry is reachable, Dockerfile.runtime builds the equivalent from an official image.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

docker version >/dev/null 2>&1 || die "the Docker engine is not reachable: start it with \`npm run services:up\`"
# The Python runtime image has its own script, inputs and tag.
bash scripts/build-python-image.sh
NODE_BIN="${FAAS_RUNTIME_NODE:-$(command -v node)}"
BUNDLE=dist/runtime/runtime.mjs
node scripts/bundle-runtime.mjs
[ -f "$BUNDLE" ] || die "runtime bundle missing after build: $BUNDLE"

bundle_sha=$(sha256sum "$BUNDLE" | cut -c1-64)
sdk_list=$(node scripts/runtime-sdk.mjs) || die "cannot list the SDK packages for the image: run npm ci"
inputs_sha=$( { echo "$bundle_sha"; "$NODE_BIN" --version; sha256sum "$0" scripts/runtime-sdk.mjs | cut -c1-64; echo "$sdk_list"; } | sha256sum | cut -c1-16)
TAG="faas-runtime:$inputs_sha"

if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "runtime image $TAG is up to date"
  exit 0
fi

log "building runtime image $TAG"
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{usr/bin,etc,tmp,var/task,run/faas,opt/faas}
cp -L "$NODE_BIN" "$rootfs/usr/bin/node"
# The dynamic loader and every shared library node links against, at their usual paths.
ldd "$NODE_BIN" | grep -o '/[^ ]*' | while read -r lib; do
  cp -L --parents "$lib" "$rootfs"
done
cp "$BUNDLE" "$rootfs/opt/faas/runtime.mjs"
# The SDK at /opt/faas/node_modules, reached through /node_modules: ES module resolution ignores
# NODE_PATH and looks in node_modules of every folder above the importing file, whichever folder
# the function's code is written to.
node scripts/runtime-sdk.mjs --copy "$rootfs/opt/faas"
ln -s opt/faas/node_modules "$rootfs/node_modules"
printf 'root:x:0:0:root:/root:/sbin/nologin\nfn:x:10001:10001:function:/tmp:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nfn:x:10001:\n' >"$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"

tar -C "$rootfs" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -c . | docker import \
  --change 'USER 10001:10001' \
  --change 'WORKDIR /var/task' \
  --change 'ENV NODE_ENV=production' \
  --change 'CMD ["/usr/bin/node", "/opt/faas/runtime.mjs"]' \
  --change "LABEL faas.runtime=1 faas.runtime.bundle=$bundle_sha faas.runtime.tag=$TAG" \
  - "$TAG" >/dev/null
docker tag "$TAG" faas-runtime:latest
log "runtime image $TAG built ($(docker image inspect "$TAG" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))"
