#!/bin/sh
# bench/history.sh [BUILD] - times the git history walk on a generated team
# repository: BENCH_PROFILES profiles (default 10000) built up over
# BENCH_COMMITS commits (default 50000). The repository is generated once by
# bench/gen-repo into BUILD/bench/ and reused while its arguments match.
# Prints the median walk time of 3 runs and the peak resident memory.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
n=${BENCH_PROFILES:-10000}
c=${BENCH_COMMITS:-50000}
repo="$build/bench/repo-$n-$c"
./bench/gen-repo -n "$n" -c "$c" "$repo"
"$build/bench/history" "$repo" "" 3
