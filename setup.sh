#!/usr/bin/env bash
# One command for a fresh Debian/Ubuntu machine: system packages, then .venv/ with
# MAGE Bridge and every Python dependency (torch pinned to a CPU build).
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
  fluidsynth libfluidsynth3 fluid-soundfont-gm  # the procedural generator's synthesiser + GM soundfont
  musescore-general-soundfont                   # the procedural generator's default GM font: recorded instruments (SF3)
  avldrums.lv2-soundfont                        # recorded acoustic drum kits (AVL Black Pearl, Red Zeppelin)
  ffmpeg                                        # decoding odd formats, MP3 export, loudness cross-checks
  espeak-ng rubberband-cli                      # the sung-vocal path
  libsndfile1 libportaudio2                     # soundfile, sounddevice
  jackd2 liblo-tools                            # tests: real MIDI/audio ports (JACK dummy), an independent OSC stack
  lua5.4 lua5.3 lua-socket                      # tests: the REAPER scripts under a real Lua (REAPER 7: 5.4, REAPER 6: 5.3; + LuaSocket: their OSC door)
  dpf-source g++ make                           # tests: build a tiny VST3 (tests/effects/vst3_gain) to host
  chromium chromium-driver                      # tests: the web panel in a real headless browser (Selenium)
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first, from the pin, so nothing later resolves a CUDA build.
.venv/bin/python -m pip install -q -c constraints.txt "torch==2.13.0"
.venv/bin/python -m pip install -q -c constraints.txt -e ".[dev,demucs,transformers,acestep]"
echo "setup: ready. Try: .venv/bin/mage-bridge generate \"deep house groove at 122 BPM in the key of G minor\" --out out/deep-house" >&2
