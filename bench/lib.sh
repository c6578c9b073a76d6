# bench/lib.sh - shared by the benchmark scripts (sourced, not run).
# Needs $tmp (a scratch folder) set by the caller.

# next_dir - sets $dir to a new, unused folder under $tmp. No timed run
# follows the deletion of an earlier run's output: on ext4, making
# thousands of files soon after deleting thousands is several times slower
# (freed inodes are not reused for a while, so finding free ones takes
# longer), which would time the file system's bookkeeping rather than the
# tool, and differently for each tool. Everything goes with $tmp at exit.
next_dir() {
  seq_dir=$((${seq_dir:-0} + 1))
  dir="$tmp/run-$seq_dir"
}

# median SECONDS... - the middle value
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# wall CMD... - runs CMD, prints its wall time in seconds; peak RSS (KB) in $tmp/rss.
# The writes of the runs before are flushed first (sync): a build of 10,000
# profiles leaves 300 MB to write back, and whichever run came next, Hugo's
# or ours, would be timed with that write-back competing for the disk.
#
# The time is read from the clock in nanoseconds around the run, not from
# time's %e, which has hundredths: a 1,000-profile build of 70-90 ms would
# be rounded by up to a seventh. The few milliseconds of starting time
# itself are in every tool's figure alike.
wall() {
  sync
  start=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" ||
    { cat "$tmp/err" >&2; return 1; }
  end=$(date +%s%N)
  cp "$tmp/time" "$tmp/rss"
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}

# one_commit REPO [BASE BRANCH N] - a commit on refs/heads/BRANCH (default
# bench-edit) on top of BASE (default HEAD) that changes one profile, the
# Nth in people/ (default 2): a paragraph added at the end of its body. Made
# with git plumbing so the benchmark repository's HEAD stays as generated.
# Dated a minute after BASE, like a push later that day.
one_commit() {
  repo=$1 base=${2:-HEAD} branch=${3:-bench-edit} nth=${4:-2}
  file=$(git -C "$repo" ls-tree --name-only "$base" people/ | sed -n "${nth}p")
  git -C "$repo" show "$base:$file" >"$tmp/profile.md"
  printf '\nEdited for the benchmark.\n' >>"$tmp/profile.md"
  blob=$(git -C "$repo" hash-object -w "$tmp/profile.md")
  rm -f "$tmp/index"
  GIT_INDEX_FILE="$tmp/index" git -C "$repo" read-tree "$base"
  GIT_INDEX_FILE="$tmp/index" git -C "$repo" update-index --cacheinfo "100644,$blob,$file"
  tree=$(GIT_INDEX_FILE="$tmp/index" git -C "$repo" write-tree)
  when=$(($(git -C "$repo" log -1 --format=%ct "$base") + 60))
  commit=$(GIT_AUTHOR_DATE="@$when +0000" GIT_COMMITTER_DATE="@$when +0000" \
    git -C "$repo" -c user.name=Bench -c user.email=bench@example.org \
    commit-tree "$tree" -p "$(git -C "$repo" rev-parse "$base")" -m "Edit one profile")
  git -C "$repo" update-ref "refs/heads/$branch" "$commit"
}
