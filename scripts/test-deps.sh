#!/usr/bin/env bash
# Installs what some integration tests use when this machine has it to give: mkfs.vfat
# (dosfstools) and fusefat, for the test that copies onto a FAT image. Without them (or without
# root) those tests say "skipped" and pass. Debian/Ubuntu (apt-get); does nothing elsewhere.
set -euo pipefail
missing=()
command -v mkfs.vfat >/dev/null || missing+=(dosfstools)
command -v fusefat >/dev/null || missing+=(fusefat)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "test-deps: ${missing[*]} not installed (needs root and apt-get); the FAT test will be skipped"
    exit 0
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
    echo "test-deps: could not install ${missing[*]}; the FAT test will be skipped"
