"""Benchmark the lobby voice: number reading, clip joining, espeak-ng cold vs cached render.

Run: .venv/bin/python bench/bench_voice.py [--out /tmp/a012-quay2.wav]
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import tempfile
import time
import wave
from array import array
from collections.abc import Callable
from pathlib import Path

from display import voice

log = logging.getLogger("bench_voice")


def _ms(seconds: float) -> str:
    """Format seconds as milliseconds."""
    return f"{1000 * seconds:.2f} ms"


def _timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def _tone_pack(directory: Path, words: set[str]) -> None:
    """Write a 0.4 s tone clip per word: a stand-in for a hall's recordings."""
    for i, word in enumerate(sorted(words)):
        frames = round(0.4 * voice.SAMPLE_RATE)
        tone = array(
            "h",
            (
                round(6000 * math.sin(2 * math.pi * (300 + 10 * i) * n / voice.SAMPLE_RATE))
                for n in range(frames)
            ),
        )
        with wave.open(str(directory / voice.clip_filename(word)), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(voice.SAMPLE_RATE)
            wav.writeframes(tone.tobytes())


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("/tmp/motcua-a012-quay2.wav"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    times = _timed(lambda: [voice.number_to_words(n) for n in range(10000)], 3)
    log.info("number_to_words 0..9999: %s per 10,000 numbers", _ms(min(times)))

    text = voice.announcement_text(None, "A012", 2)
    log.info("text: %s", text)

    with tempfile.TemporaryDirectory() as tmp:
        clips = Path(tmp) / "clips"
        clips.mkdir()
        _tone_pack(clips, set(voice.normalize_words(text)))
        pack = voice.ClipPack(clips)
        join = _timed(lambda: pack.speak(text), 20)
        full = _timed(lambda: voice.render(text, source_order=("clips",), clips_dir=clips), 20)
        log.info(
            "clips: join %d clips median %s; full render (chime + 2x) median %s",
            len(pack.plan(text)[0]),
            _ms(statistics.median(join)),
            _ms(statistics.median(full)),
        )

        if not voice.espeak_available():
            log.warning("espeak-ng not installed: server voice figures skipped")
            return
        cache = Path(tmp) / "cache"
        started = time.perf_counter()
        cold = voice.render(text, source_order=("server",), cache_dir=cache)
        cold_s = time.perf_counter() - started
        warm = _timed(lambda: voice.render(text, source_order=("server",), cache_dir=cache), 20)
        nocache = _timed(lambda: voice.render(text, source_order=("server",)), 5)
        phrase = voice.render(text, source_order=("server",), repeat=1, chime=False)
        args.out.write_bytes(cold.wav)
        log.info(
            "espeak-ng: phrase %.2f s; announcement (chime + 2x) %.2f s, %d KB -> %s",
            phrase.duration,
            cold.duration,
            len(cold.wav) // 1024,
            args.out,
        )
        log.info(
            "espeak-ng render: cold %s, uncached median %s, cached median %s",
            _ms(cold_s),
            _ms(statistics.median(nocache)),
            _ms(statistics.median(warm)),
        )


if __name__ == "__main__":
    main()
