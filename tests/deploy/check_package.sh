#!/usr/bin/env bash
# The Debian package, as cpack builds it from this build tree: metadata (name, the one version, which must
# also head CHANGELOG.md, dependencies apt resolves, no -dev package), contents (binary, unit,
# config and defaults as conffiles, man page, docs, maintainer scripts), the unit naming the installed
# paths, the packed binary's --version, every flag in the man page, LICENSE, and lintian without a tag.
# deploy/verify-deb.sh is the proof that it installs and runs (apt into a clean bookworm root).
#   bash tests/deploy/check_package.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: check_package.sh BUILD_DIR}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
errors=0
error() {
  echo "package: $*" >&2
  errors=$((errors + 1))
}

cpack --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; exit 1; }
version=$(sed -n 's/^project(procevents_exporter VERSION \([^ )]*\).*/\1/p' "$root/CMakeLists.txt")
arch=$(dpkg --print-architecture)
deb="$work/out/procevents-exporter_${version}_${arch}.deb"
[[ -f $deb ]] || { ls "$work/out"; echo "package: no $deb" >&2; exit 1; }

field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == procevents-exporter ]] || error "Package is $(field Package)"
[[ $(field Version) == "$version" ]] || error "Version $(field Version) is not the project's $version"
[[ $(field Architecture) == "$arch" ]] || error "Architecture $(field Architecture)"
[[ $(field Section) == net ]] || error "Section $(field Section)"
changelog=$(sed -n 's/^## \([^ ]*\) .*/\1/p' "$root/CHANGELOG.md" | head -1)
[[ $changelog == "$version" ]] || error "CHANGELOG.md's newest entry is $changelog, the project version $version"
depends=$(field Depends)
for library in libc6 libssl3 libstdc++6 libyaml-cpp zlib1g libcrypt1; do
  [[ $depends == *"$library"* ]] || error "Depends lacks $library: $depends"
done
[[ $depends != *-dev* ]] || error "Depends names a -dev package: $depends"

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$work/files"
for path in /usr/bin/procevents_exporter /etc/procevents_exporter/procevents.yml \
  /etc/default/procevents_exporter /lib/systemd/system/procevents_exporter.service \
  /usr/share/man/man1/procevents_exporter.1.gz /usr/share/doc/procevents-exporter/README.md \
  /usr/share/doc/procevents-exporter/runbook.md /usr/share/doc/procevents-exporter/CHANGELOG.md \
  /usr/share/doc/procevents-exporter/changelog.gz /usr/share/doc/procevents-exporter/copyright; do
  grep -qxF "$path" "$work/files" || error "does not contain $path"
done
dpkg-deb -e "$deb" "$work/control"
[[ $(sort "$work/control/conffiles") == $'/etc/default/procevents_exporter\n/etc/procevents_exporter/procevents.yml' ]] ||
  error "conffiles: $(cat "$work/control/conffiles")"
for script in postinst prerm postrm; do
  [[ -x $work/control/$script ]] || error "no executable $script"
  sh -n "$work/control/$script" || error "$script: syntax"
done

dpkg-deb -x "$deb" "$work/root"
unit="$work/root/lib/systemd/system/procevents_exporter.service"
grep -qxF 'ExecStart=/usr/bin/procevents_exporter --config.file=/etc/procevents_exporter/procevents.yml $ARGS' "$unit" ||
  error "the unit's ExecStart does not name /usr/bin: $(grep ExecStart= "$unit")"
grep -qxF 'EnvironmentFile=-/etc/default/procevents_exporter' "$unit" || error "the unit does not read /etc/default"
grep -qxF 'Documentation=man:procevents_exporter(1) file:/usr/share/doc/procevents-exporter/README.md' "$unit" ||
  error "the unit's Documentation= does not name what the package ships: $(grep Documentation= "$unit")"
grep -qx 'ARGS=""' "$work/root/etc/default/procevents_exporter" || error "/etc/default/procevents_exporter sets no ARGS"
"$work/root/usr/bin/procevents_exporter" --version > "$work/version" || error "the packed binary's --version fails"
grep -q "^procevents_exporter, version $version (branch: .*, revision: .*)$" "$work/version" ||
  error "--version: $(cat "$work/version")"
grep -q "^  platform: *linux/$arch$" "$work/version" || error "--version platform: $(cat "$work/version")"
zcat "$work/root/usr/share/man/man1/procevents_exporter.1.gz" > "$work/man"
for flag in $("$work/root/usr/bin/procevents_exporter" --help | grep -o -- '--[a-z][a-z.-]*' | sort -u); do
  grep -qF -- "$(sed 's/-/\\-/g' <<<"$flag")" "$work/man" || error "the man page does not document $flag"
done
grep -q 'Apache License' "$root/LICENSE" && grep -q 'Version 2.0' "$root/LICENSE" || error "LICENSE is not Apache-2.0"

if command -v lintian >/dev/null; then
  # Everything lintian reports is a finding (its notice about running as root is not).
  lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'running with root privileges' > "$work/lintian" || true
  [[ ! -s $work/lintian ]] && echo "lintian: no tags" || { cat "$work/lintian" >&2; error "lintian reports the above"; }
elif [[ -n ${CI:-} ]]; then
  error "lintian is not installed (scripts/install-deps.sh installs it)"
else
  echo "SKIP lintian: not installed"
fi

((errors == 0)) || exit 1
echo "package OK: $(basename "$deb"), Depends: $depends"
