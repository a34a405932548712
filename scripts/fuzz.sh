#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/fuzz_*.cpp, built in the sanitizer build
# with AUTHD_FUZZ=ON): first every input of the corpus kept in the repo
# (fuzz/corpus/<target>/: a regression run), then new inputs for SECONDS.
#
#   scripts/fuzz.sh SECONDS [BUILD_DIR] [--keep]
#
# Without --keep (make test), what the run discovers goes to a temp dir and
# the repo's corpus is left as it is; with --keep (make fuzz), new inputs are
# added to fuzz/corpus/<target>/ to be committed. A crash leaves its input in
# BUILD_DIR/fuzz-artifacts/ and fails the run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:?usage: fuzz.sh SECONDS [BUILD_DIR] [--keep]}
build=${2:-build-asan}
keep=${3:-}
[[ $build == /* ]] || build="$root/$build"
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
tmp=$(mktemp -d /tmp/authd-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

shopt -s nullglob
targets=("$build"/fuzz_*)
((${#targets[@]} > 0)) || { echo "fuzz.sh: no fuzz targets in $build (make sanitize-build)" >&2; exit 1; }
for bin in "${targets[@]}"; do
  [[ -x $bin ]] || continue
  name=$(basename "$bin")
  corpus="$root/fuzz/corpus/$name"
  mkdir -p "$corpus"
  opts=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/$name-" -print_final_stats=1)
  case $name in
    fuzz_request) opts+=(-max_len=20000 -close_fd_mask=2) ;;  # its request log lines: not here
    *) opts+=(-max_len=4096) ;;
  esac
  seeds=$(find "$corpus" -type f | wc -l)
  echo "fuzz.sh: $name: $seeds inputs in the repo corpus, then ${seconds} s of new ones"
  if [[ $keep == --keep ]]; then
    "$bin" "${opts[@]}" -max_total_time="$seconds" "$corpus" 2>"$tmp/$name.log" ||
      { tail -60 "$tmp/$name.log" >&2; exit 1; }
  else
    mkdir -p "$tmp/$name"
    "$bin" "${opts[@]}" -max_total_time="$seconds" "$tmp/$name" "$corpus" 2>"$tmp/$name.log" ||
      { tail -60 "$tmp/$name.log" >&2; exit 1; }
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added|cov: " "$tmp/$name.log" | tail -3 |
    sed "s/^/fuzz.sh: $name: /"
done
echo "fuzz.sh: ${#targets[@]} targets, no crash"
