#!/usr/bin/env bash
# Download throughput of one large file through a wanserve link, three ways in one run: from
# the data folder, streamed from an S3-compatible store (the tests' s3rver), and redirected to
# the store's presigned URL; and the server's memory while it streams, for a 10 MB and a
# ~95 MB file (target: flat, independent of the file's size).
#
#   bench/blob_download.sh            (needs build/ and tests/node/node_modules: scripts/bootstrap.sh)
#
# Prints MB/s per mode (median of RUNS downloads, default 3) with the ratio to the data folder,
# and the largest rise of the server's resident memory above its level before the download.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
RUNS=${RUNS:-3}
command -v ffmpeg >/dev/null && [[ -d tests/node/node_modules ]] || { echo "run scripts/bootstrap.sh first" >&2; exit 1; }

# A real video whose frames are noise, so that it does not compress: about 360 kB a frame.
make_clip() {  # path frames
  ffmpeg -v error -y -f lavfi -i "nullsrc=s=640x360:r=25,geq=lum='random(1)*255':cb=128:cr=128" \
    -frames:v "$2" -c:v libx264 -preset ultrafast -qp 0 -pix_fmt yuv420p "$1"
}
make_clip "$WORK/small.mp4" 28
make_clip "$WORK/large.mp4" 262

mkdir -p "$WORK/s3"
node --openssl-legacy-provider tests/node/s3_server.js "$WORK/s3" bench-bucket >"$WORK/s3.log" 2>&1 &
SERVERS+=($!)
for _ in $(seq 1 100); do grep -q "listening" "$WORK/s3.log" && break; sleep 0.1; done
S3_ENDPOINT="http://127.0.0.1:$(awk '/listening/ {print $2}' "$WORK/s3.log")"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER

s3_flags() {  # delivery
  echo --blobs-url s3://bench-bucket/bench --blobs-s3-endpoint "$S3_ENDPOINT" --blobs-s3-path-style true \
    --blobs-delivery "$1" --files-max-file-mb 100 --http-body-limit 110000000
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# Downloads url RUNS times; prints "median MB/s" and the largest RSS rise of pid in MB.
measure() {  # url pid
  local speeds=() base peak=0 now
  base=$(rss_kb "$2")
  for _ in $(seq 1 "$RUNS"); do
    curl -s -L -o /dev/null -w '%{speed_download}\n' "$1" >"$WORK/speed" &
    local curl_pid=$!
    while kill -0 "$curl_pid" 2>/dev/null; do
      now=$(rss_kb "$2"); ((now - base > peak)) && peak=$((now - base))
      sleep 0.02
    done
    wait "$curl_pid"
    speeds+=("$(cat "$WORK/speed")")
  done
  printf '%s\n' "${speeds[@]}" | sort -n | awk -v peak="$peak" '{a[NR]=$1} END {printf "%.1f %.1f\n", a[int((NR+1)/2)]/1e6, peak/1024}'
}

port=18480
declare -A RESULT
for mode in folder stream redirect; do
  data="$WORK/data-$mode"
  mkdir -p "$data"
  flags=(--files-max-file-mb 100 --http-body-limit 110000000)
  [[ $mode != folder ]] && read -r -a flags <<<"$(s3_flags "$mode")"
  start_server "$port" "$data" "${flags[@]}"
  pid=${SERVERS[-1]}
  key=$("$BIN" admin keys create --data "$data" --create --name bench | tail -1)
  for size in small large; do
    answer=$(curl -s -H "Authorization: Bearer $key" --data-binary "@$WORK/$size.mp4" "http://127.0.0.1:$port/v1/files")
    url=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])' <<<"$answer") || {
      echo "upload to the $mode server failed: $answer" >&2
      exit 1
    }
    RESULT[$mode-$size]=$(measure "$url" "$pid")
  done
  kill -9 "$pid"
  port=$((port + 1))
done

small_mb=$(du -m "$WORK/small.mp4" | cut -f1)
large_mb=$(du -m "$WORK/large.mp4" | cut -f1)
base=$(cut -d' ' -f1 <<<"${RESULT[folder-large]}")
echo "download of one ${large_mb} MB file through a link (median of $RUNS), and the server's RSS rise while streaming"
printf "%-10s %12s %10s %22s %22s\n" mode "MB/s" "x folder" "RSS rise ${small_mb} MB file" "RSS rise ${large_mb} MB file"
for mode in folder stream redirect; do
  read -r speed rise_large <<<"${RESULT[$mode-large]}"
  read -r _ rise_small <<<"${RESULT[$mode-small]}"
  printf "%-10s %12s %10s %19s MB %19s MB\n" "$mode" "$speed" "$(awk -v a="$speed" -v b="$base" 'BEGIN {printf "%.2f", a/b}')" \
    "$rise_small" "$rise_large"
done
