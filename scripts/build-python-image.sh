#!/usr/bin/env bash
# Builds the Python function runtime image without a registry, as build-runtime-image.sh builds
# the Node.js one: the host's Python 3.11 (interpreter, libpython, standard library, the shared
# libraries its extension modules link), the runtime program (src/runtimes/python/bootstrap.py)
# and boto3 as Lambda's python3.11 runtime provides it (src/runtimes/python/provided.txt),
# imported as a single-layer image. The tag is a hash of the inputs; an image that exists is kept.
# Everything is byte-compiled with unchecked-hash .pyc files: /var/task and the root are
# read-only in a container, so nothing could be compiled there at run time.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

docker version >/dev/null 2>&1 || die "the Docker engine is not reachable: start it with \`npm run services:up\`"
PY="${FAAS_PYTHON:-$(command -v python3.11 || true)}"
[ -n "$PY" ] || die "python3.11 is not on PATH: install Python 3.11 or set FAAS_PYTHON"
PY=$("$PY" -c 'import sys; print(sys.executable)')
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11)' || die "$PY is not Python 3.11"
BOOTSTRAP=src/runtimes/python/bootstrap.py
PROVIDED=src/runtimes/python/provided.txt

bootstrap_sha=$(sha256sum "$BOOTSTRAP" | cut -c1-64)
inputs_sha=$( { echo "$bootstrap_sha"; "$PY" --version; sha256sum "$0" "$PROVIDED" | cut -c1-64; } | sha256sum | cut -c1-16)
TAG="faas-runtime-python:$inputs_sha"

if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "python runtime image $TAG is up to date"
  exit 0
fi

log "building python runtime image $TAG"
prefix=$("$PY" -c 'import sys; print(sys.base_prefix)')
stdlib=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{usr/local/bin,usr/local/lib,usr/lib,etc,tmp,var/task,run/faas,opt/faas/python}
cp -L "$PY" "$rootfs/usr/local/bin/python3.11"
ln -s python3.11 "$rootfs/usr/local/bin/python3"
ln -s python3.11 "$rootfs/usr/local/bin/python"
# The standard library without what a function cannot use here (tests, GUI, installers), and
# without the host's own site-packages.
tar -C "$(dirname "$stdlib")" \
  --exclude='python3.11/test' --exclude='python3.11/idlelib' --exclude='python3.11/tkinter' \
  --exclude='python3.11/turtledemo' --exclude='python3.11/ensurepip' --exclude='python3.11/lib2to3/tests' \
  --exclude='python3.11/site-packages' --exclude='python3.11/config-3.11-*' --exclude='__pycache__' \
  --exclude='_test*.so' --exclude='_tkinter*.so' --exclude='xxlimited*.so' \
  -c python3.11 | tar -C "$rootfs/usr/local/lib" -x
mkdir -p "$rootfs/usr/local/lib/python3.11/site-packages"
# libpython and every shared library the interpreter and its extension modules link, at their
# usual paths (libpython in /usr/lib, where the loader looks without the host's rpath).
for f in "$PY" "$stdlib"/lib-dynload/*.so; do ldd "$f"; done | grep -o '/[^ ]*' | sort -u | while read -r lib; do
  case "$lib" in
    "$prefix"/*) cp -L "$lib" "$rootfs/usr/lib/" ;;
    *) cp -L --parents "$lib" "$rootfs" ;;
  esac
done
# The system libraries manylinux wheels may link without bundling them (PEP 599's list, less
# the X11 and GL ones): numpy, pandas and the like load their extensions against these.
for name in libgcc_s.so.1 libstdc++.so.6 libm.so.6 libdl.so.2 librt.so.1 libpthread.so.0 \
  libutil.so.1 libresolv.so.2 libnsl.so.1 libcrypt.so.1 libz.so.1 libexpat.so.1; do
  lib=$(ldconfig -p | awk -v n="$name" '$1 == n && /x86-64|x86_64|AArch64/ && !found { print $NF; found = 1 }')
  [ -n "$lib" ] && cp -L --parents "$lib" "$rootfs"
done
cp "$BOOTSTRAP" "$rootfs/opt/faas/bootstrap.py"
"$PY" -m pip install --quiet --disable-pip-version-check --no-warn-conflicts --no-compile --root-user-action=ignore \
  --target "$rootfs/opt/faas/python" -r "$PROVIDED" || die "pip could not install $PROVIDED"
rm -rf "$rootfs/opt/faas/python/bin"
# Compiled by the image's own interpreter, found at its final place through the copied prefix.
LD_LIBRARY_PATH="$rootfs/usr/lib" "$rootfs/usr/local/bin/python3.11" -m compileall \
  -q -j0 --invalidation-mode unchecked-hash -s "$rootfs" -p / \
  "$rootfs/usr/local/lib/python3.11" "$rootfs/opt/faas" >/dev/null || die "byte-compiling the image failed"
printf 'root:x:0:0:root:/root:/sbin/nologin\nfn:x:10001:10001:function:/tmp:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nfn:x:10001:\n' >"$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"
chmod -R a+rX "$rootfs/usr/local" "$rootfs/opt/faas"

tar -C "$rootfs" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -c . | docker import \
  --change 'USER 10001:10001' \
  --change 'WORKDIR /var/task' \
  --change 'ENV PYTHONPATH=/opt/faas/python PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LANG=C.UTF-8' \
  --change 'CMD ["/usr/local/bin/python3.11", "/opt/faas/bootstrap.py"]' \
  --change "LABEL faas.runtime=1 faas.runtime.python=$bootstrap_sha faas.runtime.tag=$TAG" \
  - "$TAG" >/dev/null
docker tag "$TAG" faas-runtime-python:latest
log "python runtime image $TAG built ($(docker image inspect "$TAG" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))"
