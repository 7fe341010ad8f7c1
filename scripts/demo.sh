#!/usr/bin/env bash
# The quick start: installs what is missing, builds, starts wanserve on its embedded defaults,
# submits real image and video tasks in every API dialect through the public HTTP API, waits
# with progress shown, and prints where the outputs are.
#
# Environment: WANSERVE_DEMO_PORT (default 8080), WANSERVE_DEMO_DATA (default ./demo-data),
#              WANSERVE_DEMO_OUT (default ./demo-outputs), WANSERVE_DEMO_MODEL and
#              WANSERVE_DEMO_WEIGHTS (a local engine model and the folder of its official
#              weights; default: the 'tiny' model with random weights).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
BIN=build/src/app/wanserve
PORT=${WANSERVE_DEMO_PORT:-8080}
DATA=${WANSERVE_DEMO_DATA:-./demo-data}
OUT=${WANSERVE_DEMO_OUT:-./demo-outputs}
mkdir -p "$DATA" "$OUT"

KEY=$("$BIN" admin keys create --data "$DATA" --create --name demo | tail -n 1)
(umask 077 && echo "$KEY" >"$DATA/demo-key")
echo "demo: created API key ${KEY:0:10}… in $DATA (the whole key is in $DATA/demo-key)"

MODEL=${WANSERVE_DEMO_MODEL:-tiny}
WEIGHTS=${WANSERVE_DEMO_WEIGHTS:-}
WANSERVE_PROVIDERS_LOCAL_MODEL=$MODEL WANSERVE_PROVIDERS_LOCAL_WEIGHTS=$WEIGHTS \
  "$BIN" serve --listen "127.0.0.1:$PORT" --data "$DATA" >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$DATA/server.log" 2>/dev/null && break
  kill -0 $SERVER 2>/dev/null || { cat "$DATA/server.log"; echo "demo: server failed to start" >&2; exit 1; }
  sleep 0.1
done
SERVER_URL="http://127.0.0.1:$PORT"
echo "demo: server running at $SERVER_URL (log: $DATA/server.log)"
if [[ "$MODEL" == tiny ]]; then
  echo "demo: no model weights are configured (WANSERVE_DEMO_MODEL/WANSERVE_DEMO_WEIGHTS), so every task"
  echo "      runs on the local Wan engine with the 'tiny' test presets: the real"
  echo "      pipeline (UMT5, DiT, UniPC, VAE) on random weights, so the pictures are noise-like"
  echo "      patterns, rendered at an eighth of the asked width and height."
else
  echo "demo: every task runs on the local Wan engine: $MODEL from $WEIGHTS"
fi
echo "      Image and video edits run on the same engine (SDEdit); image to video needs a TI2V preset"
echo "      ('tiny' includes one: see 'wanserve engine generate --model tiny-ti2v --image ...')."
echo

submit() {
  local title=$1; shift
  echo "== $title"
  "$BIN" submit --server "$SERVER_URL" --key "$KEY" --wait --out "$OUT" "$@"
  echo
}

submit "unified: wan-2.7-image (text to image)" --dialect unified --model wan-2.7-image \
  --prompt "A cinematic portrait of a traveler in neon rain" --set size=landscape_16_9 --set seed=42
submit "unified: wan2.7-text-to-video (720p, 16:9, 3 s)" --dialect unified --model wan2.7-text-to-video \
  --prompt "A small kitten running under the moonlight" --set duration=3
submit "skills_video: wan-v2.7 (text to image, 1:1)" --dialect skills_video --model wan-v2.7 \
  --prompt "a cat" --set aspect_ratio=1:1
# Video edit needs an input video of 2-10 s, at least 240 px a side: a test clip made with
# ffmpeg (any local MP4/MOV works).
CLIP="$OUT/edit-input.mp4"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=16 -f lavfi \
  -i sine=frequency=440:sample_rate=48000 -t 3 -pix_fmt yuv420p -c:v libx264 -c:a aac -shortest "$CLIP"
echo "== upload $CLIP as the input of a video edit"
VIDEO_URL=$("$BIN" upload --server "$SERVER_URL" --key "$KEY" "$CLIP" | tail -n 1)
echo "   $VIDEO_URL"
echo
# Image edit: a picture of at least 384x384 (any local PNG/JPEG/WebP works).
PICTURE="$OUT/edit-input.png"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=640x480 -frames:v 1 "$PICTURE"
PICTURE_URL=$("$BIN" upload --server "$SERVER_URL" --key "$KEY" "$PICTURE" | tail -n 1)
submit "skills_video: wan-v2.7 (image edit, 4:3)" --dialect skills_video --model wan-v2.7 \
  --prompt "the same scene as a watercolour" --set "image_urls=[\"$PICTURE_URL\"]" --set aspect_ratio=4:3
submit "skills_video: wan-v2.7/edit-video (720p, 2 s)" --dialect skills_video --model wan-v2.7/edit-video \
  --prompt "a cat walking through neon rain" --set video_url="$VIDEO_URL" \
  --set resolution=720p --set duration=2
submit "market: wan/2-7-image-pro (1K)" --dialect market --model wan/2-7-image-pro \
  --prompt "A flower shop at dawn" --set resolution=1K
submit "market: wan/2-7-text-to-video (720p, 2 s)" --dialect market --model wan/2-7-text-to-video \
  --prompt "Waves on a rocky shore" --set resolution=720p --set duration=2

echo "demo: outputs are in $(cd "$OUT" && pwd):"
ls -l "$OUT"
echo
echo "demo: the server keeps running until this script exits; to run it yourself and try the"
echo "      playground, start it and open http://127.0.0.1:$PORT/ with the key in $DATA/demo-key:"
echo "      $BIN serve --data $DATA --providers-local-model $MODEL"
