#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# build-and-install.sh - the Debian packages of this tree, built and used
# as a user would (run by .ci/run after the test suites; not a meson test:
# it installs packages with apt, as root).
#
# Steps, one line each: install the packaging tools and Build-Depends
# (apt's output in the log); copy the working tree (tracked and untracked
# files that git does not ignore, so uncommitted work is what is packaged)
# to a temporary directory; dpkg-buildpackage -us -uc -b there; lintian on
# the .changes (errors fail, warnings are listed); the five packages
# present, each unpacked with dpkg-deb -x into one scratch root; the
# files users need found there; the unpacked memlayout demo run with
# LD_LIBRARY_PATH at the scratch root; tests/install's two programs built
# against the unpacked headers and .pc files (PKG_CONFIG_SYSROOT_DIR) and
# run, each required to map its library from the scratch root.  Ends with
# "package: N passed, N failed".
#
# Logs and the .debs stay in $MEMLAYOUT_PACKAGE_DIR (build-package/).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
src=$PWD
out=${MEMLAYOUT_PACKAGE_DIR:-$src/build-package}
TOOLS=(dpkg-dev debhelper lintian pkgconf)
PACKAGES=(memlayout libmemlayout0 libmemlayout-dev libmlalloc0 libmlalloc-dev)

passed=0 failed=0
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# step NAME COMMAND...: run it, its output in $out/NAME.log; one line.
step()
{
    local name=$1 t0=$SECONDS
    shift
    if "$@" >"$out/$name.log" 2>&1 </dev/null; then
        echo "package: $name ... ok ($((SECONDS - t0)) s)"
        passed=$((passed + 1))
        return 0
    fi
    echo "package: $name ... FAILED, log in $out/$name.log; its tail:"
    tail -n 15 "$out/$name.log" | sed 's/^/    /'
    failed=$((failed + 1))
    return 1
}

summary()
{
    echo "package: $passed passed, $failed failed"
    exit $((failed > 0))
}

installed()
{
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

# The packaging tools, then debian/control's Build-Depends.
install_deps()
{
    local p missing=()
    [[ -f $src/debian/control ]] || { echo "no debian/control in $src"; return 1; }
    for p in "${TOOLS[@]}"; do
        installed "$p" || missing+=("$p")
    done
    if ((${#missing[@]} == 0)) && dpkg-checkbuilddeps "$src/debian/control"; then
        echo "all installed"
        return 0
    fi
    if (($(id -u) != 0)); then
        echo "missing: ${missing[*]} and/or Build-Depends; as root run:"
        echo "  apt-get install --no-install-recommends ${missing[*]} && apt-get build-dep $src"
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q &&
        apt-get install -y -q --no-install-recommends "${missing[@]}" &&
        apt-get build-dep -y -q --no-install-recommends "$src"
}

# The working tree as git sees it (tracked, and untracked not ignored).
copy_tree()
{
    mkdir -p "$work/src"
    if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$src" ls-files -z -co --exclude-standard |
            while IFS= read -r -d '' f; do
                [[ -e $f || -L $f ]] && printf '%s\0' "$f"
            done | tar --null -T - -cf - | tar -xf - -C "$work/src"
    else
        tar --exclude='./build*' -cf - . | tar -xf - -C "$work/src"
    fi
    ls "$work/src/debian/control"
}

build()
{
    (cd "$work/src" && dpkg-buildpackage -us -uc -b)
}

lint()
{
    local changes
    changes=$(ls "$work"/*.changes) || return 1
    lintian --fail-on error "$changes" | tee "$out/lintian.txt"
}

# The five packages present; each unpacked into $work/root; their sizes.
unpack()
{
    local p deb
    mkdir -p "$work/root"
    for p in "${PACKAGES[@]}"; do
        deb=$(ls "$work/${p}_"*.deb) || return 1
        cp "$deb" "$out/"
        dpkg-deb -x "$deb" "$work/root" || return 1
        printf '%-18s %7s bytes (.deb)  Installed-Size %s KiB\n' "$p" \
            "$(stat -c %s "$deb")" "$(dpkg-deb -f "$deb" Installed-Size)"
        dpkg-deb -f "$deb" Depends Recommends | sed 's/^/    /'
    done
}

files()
{
    local f lacking=0
    for f in usr/bin/memlayout usr/libexec/memlayout/memlayout-demo \
        usr/share/man/man1/memlayout.1.gz usr/share/man/man1/memlayout-show.1.gz \
        usr/share/bash-completion/completions/memlayout \
        usr/share/zsh/vendor-completions/_memlayout \
        "usr/lib/$triplet/libmemlayout.so.0" "usr/lib/$triplet/libmemlayout.so" \
        usr/include/memlayout/memlayout.h "usr/lib/$triplet/pkgconfig/memlayout.pc" \
        "usr/lib/$triplet/libmlalloc.so.0" "usr/lib/$triplet/libmlalloc.so" \
        usr/include/mlalloc/mlalloc.h "usr/lib/$triplet/pkgconfig/mlalloc.pc" \
        usr/share/doc/memlayout/copyright; do
        if [[ -e $work/root/$f ]]; then echo "found $f"; else echo "MISSING $f"; lacking=1; fi
    done
    return $lacking
}

# memlayout demo from the root, looking into the demo program from the root.
# Every module a -dev package's .pc requires (Requires and
# Requires.private: pkg-config reads both for --cflags) is in a package
# that -dev package depends on, or pkg-config fails where it is missing.
pc_requires()
{
    local dev pc mod pkg deps bad=0
    for dev in libmemlayout-dev libmlalloc-dev; do
        deps=$(dpkg-deb -f "$(ls "$work/${dev}_"*.deb)" Depends) || return 1
        for pc in $(dpkg-deb -c "$(ls "$work/${dev}_"*.deb)" | grep -o '[^/]*\.pc$'); do
            for mod in $(sed -n 's/^Requires\(\.private\)\?: *//p' \
                "$work/root/usr/lib/$triplet/pkgconfig/$pc" |
                sed 's/[<>=!]=\? *[^ ,]*//g; s/,/ /g'); do
                pkg=$(dpkg-query -S "$(pkg-config --path "$mod")" | sed -n '1s/:.*//p')
                if [[ $pkg && ", $deps," == *", $pkg"[\ ,]* ]]; then
                    echo "$dev: $pc requires $mod, from $pkg: a dependency"
                else
                    echo "$dev: $pc requires $mod, from '${pkg:-?}': not in Depends: $deps"
                    bad=1
                fi
            done
        done
    done
    return $bad
}

demo()
{
    LD_LIBRARY_PATH=$work/root/usr/lib/$triplet "$work/root/usr/bin/memlayout" demo \
        | tee "$work/demo.txt" || return 1
    grep -q " text .*$work/root/usr/libexec/memlayout/memlayout-demo" "$work/demo.txt"
}

# link PROGRAM PC LIBRARY: tests/install/PROGRAM.c built with the flags of
# the unpacked PC, run; it must print that it mapped LIBRARY from the root.
link()
{
    local prog=$1 pc=$2 lib=$3 flags output
    export PKG_CONFIG_PATH=$work/root/usr/lib/$triplet/pkgconfig PKG_CONFIG_SYSROOT_DIR=$work/root
    flags=$(pkg-config --cflags --libs "$pc") || return 1
    echo "cc $prog.c $flags"
    # shellcheck disable=SC2086
    cc -o "$work/$prog" "$src/tests/install/$prog.c" $flags || return 1
    output=$(LD_LIBRARY_PATH=$work/root/usr/lib/$triplet "$work/$prog") || return 1
    echo "$output"
    grep -q "^library $work/root/usr/lib/$triplet/$lib" <<<"$output"
}

triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
step install-deps install_deps || summary
step copy-tree copy_tree || summary
step dpkg-buildpackage build || summary
step lintian lint
sed -n 's/^\([EW]\): /    lintian \1: /p' "$out/lintian.txt" 2>/dev/null
step unpack unpack || summary
sed 's/^/    /' "$out/unpack.log"
step files files
step pc-requires pc_requires
step demo demo
step link-memlayout link snapshot-self memlayout libmemlayout.so.0
step link-mlalloc link malloc-user mlalloc libmlalloc.so.0
summary
