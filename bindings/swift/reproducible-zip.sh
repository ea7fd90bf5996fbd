#!/usr/bin/env bash
# Zips a directory so that the same contents always give the same bytes, hence the same SwiftPM
# checksum, whatever machine, umask, clock or file system made them:
#   - entries in byte order of their paths (LC_ALL=C sort), not the file system's order;
#   - every timestamp 2000-01-01 00:00 UTC (zip stores local time: TZ is fixed too);
#   - permissions normalised (directories and executables 755, other files 644);
#   - no extra fields (zip -X: no uid/gid, no extended timestamps).
#
#   bindings/swift/reproducible-zip.sh DIR OUT.zip      the zip holds DIR's last component
#
# Works on a copy: DIR is left as it is. Used by build-xcframework.sh and release.sh.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DIR OUT.zip" >&2; exit 2; }
source_dir=${1%/}
zip_path=$2
[ -d "$source_dir" ] || { echo "$source_dir: not a directory" >&2; exit 1; }
command -v zip >/dev/null 2>&1 || { echo "zip not found (apt-get install zip)" >&2; exit 1; }

name=$(basename "$source_dir")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$source_dir" "$stage/$name"
export TZ=UTC LC_ALL=C
find "$stage/$name" -type d -exec chmod 755 {} +
find "$stage/$name" -type f -perm -u+x -exec chmod 755 {} +
find "$stage/$name" -type f ! -perm -u+x -exec chmod 644 {} +
find "$stage/$name" -exec touch -h -t 200001010000 {} +

zip_dir=$(cd "$(dirname "$zip_path")" && pwd)
zip_file="$zip_dir/$(basename "$zip_path")"
rm -f "$zip_file"
(cd "$stage" && find "$name" | sort | zip -q -X -@ "$zip_file")
