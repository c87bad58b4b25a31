"""Offline Vietnamese voice for the lobby display: spoken text, clip packs, espeak-ng, chime.

Pure library: no Flask. The display blueprint builds the text with `announcement_text` and the
audio with `render_announcement`; the browser's own vi-VN voice ("browser") is played client-side.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import wave
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

SOUNDS_DIR = Path(__file__).resolve().parent / "sounds"
CHIME_PATH = SOUNDS_DIR / "chime.wav"

DEFAULT_TEMPLATE = "Xin mời công dân có số thứ tự {so} đến quầy số {quay}"

# Output format: espeak-ng's native format, so the server voice needs no resampling.
SAMPLE_RATE = 22050
SAMPLE_WIDTH = 2
CHANNELS = 1

SOURCE_BROWSER = "browser"
SOURCE_SERVER = "server"
SOURCE_CLIPS = "clips"
SOURCE_ALIASES = {"espeak": SOURCE_SERVER, "espeak-ng": SOURCE_SERVER}
DEFAULT_SOURCE_ORDER: tuple[str, ...] = (SOURCE_CLIPS, SOURCE_SERVER)

# Bump when the audio assembly changes so that old cache entries are not reused.
_CACHE_FORMAT = 1
_ESPEAK_DEFAULT_TIMEOUT = 10.0

DigitsMode = Literal["number", "each"]
LinhWord = Literal["linh", "lẻ"]


class VoiceUnavailable(RuntimeError):
    """No configured server-side source could speak the text."""


# ---------------------------------------------------------------------------------------------
# Text: numbers, letters, announcement phrase
# ---------------------------------------------------------------------------------------------

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Larger scales, each a power of 1000 above the previous; "tỷ" repeats for bigger numbers.
_SCALES = ("", "nghìn", "triệu")


def _below_thousand(n: int, *, full: bool, linh: str) -> list[str]:
    """Words for 0 < n < 1000; `full` forces "không trăm" when the group is not the leading one."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append(linh)
            words.append(_DIGITS[units])
        return words
    if tens == 1:
        words.append("mười")
    else:
        words += [_DIGITS[tens], "mươi"]
    if units == 1 and tens >= 2:
        words.append("mốt")
    elif units == 4 and tens >= 2:
        words.append("tư")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(_DIGITS[units])
    return words


def _below_billion(n: int, *, leading: bool, linh: str, thousand_word: str) -> list[str]:
    """Words for 0 < n < 10**9, in groups of three digits."""
    groups = []
    while n:
        n, group = divmod(n, 1000)
        groups.append(group)
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            continue
        is_first = leading and index == len(groups) - 1
        words += _below_thousand(group, full=not is_first, linh=linh)
        scale = thousand_word if index == 1 else _SCALES[index]
        if scale:
            words.append(scale)
    return words


def _number_words(n: int, *, leading: bool, linh: str, thousand_word: str) -> list[str]:
    """Words for n > 0; numbers of 10**9 and above recurse on "tỷ"."""
    billions, rest = divmod(n, 10**9)
    words: list[str] = []
    if billions:
        words += _number_words(billions, leading=leading, linh=linh, thousand_word=thousand_word)
        words.append("tỷ")
    if rest:
        words += _below_billion(
            rest, leading=leading and not billions, linh=linh, thousand_word=thousand_word
        )
    return words


def number_to_words(n: int, *, linh: str = "linh", thousand_word: str = "nghìn") -> str:
    """Read an integer the Vietnamese way: 1023 -> "một nghìn không trăm hai mươi ba"."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"number_to_words expects an int, got {type(n).__name__}")
    if n == 0:
        return _DIGITS[0]
    if n < 0:
        return "âm " + number_to_words(-n, linh=linh, thousand_word=thousand_word)
    return " ".join(_number_words(n, leading=True, linh=linh, thousand_word=thousand_word))


LETTER_NAMES: Mapping[str, str] = {
    "A": "a",
    "Ă": "á",
    "Â": "ớ",
    "B": "bê",
    "C": "xê",
    "D": "dê",
    "Đ": "đê",
    "E": "e",
    "Ê": "ê",
    "F": "ép",
    "G": "giê",
    "H": "hát",
    "I": "i",
    "J": "gi",
    "K": "ca",
    "L": "e-lờ",
    "M": "em-mờ",
    "N": "en-nờ",
    "O": "o",
    "Ô": "ô",
    "Ơ": "ơ",
    "P": "pê",
    "Q": "quy",
    "R": "e-rờ",
    "S": "ét",
    "T": "tê",
    "U": "u",
    "Ư": "ư",
    "V": "vê",
    "W": "vê kép",
    "X": "ích",
    "Y": "i dài",
    "Z": "dét",
}


def letter_name(ch: str, names: Mapping[str, str] | None = None) -> str:
    """How a Vietnamese speaker reads a queue prefix letter: "B" -> "bê"."""
    key = unicodedata.normalize("NFC", ch).upper()
    table = {**LETTER_NAMES, **{k.upper(): v for k, v in (names or {}).items()}}
    try:
        return table[key]
    except KeyError:
        raise ValueError(f"no spoken name for letter {ch!r}") from None


_CODE_PART = re.compile(r"\d+|[^\W\d_]")


def code_to_words(
    code: str,
    *,
    digits: DigitsMode = "number",
    linh: str = "linh",
    letter_names: Mapping[str, str] | None = None,
    thousand: str = "nghìn",
) -> str:
    """Spoken ticket code: "A012" -> "a mười hai" (digits="each": "a không một hai")."""
    if digits not in ("number", "each"):
        raise ValueError(f"digits must be 'number' or 'each', not {digits!r}")
    text = unicodedata.normalize("NFC", str(code)).strip()
    parts = _CODE_PART.findall(text)
    if not parts:
        raise ValueError(f"nothing to read in code {code!r}")
    words: list[str] = []
    for part in parts:
        if part.isdigit():
            if digits == "number":
                words.append(number_to_words(int(part), linh=linh, thousand_word=thousand))
            else:
                words.extend(_DIGITS[int(d)] for d in part)
        else:
            words.append(letter_name(part, letter_names))
    return " ".join(words)


def counter_to_words(counter: str | int, *, linh: str = "linh", thousand: str = "nghìn") -> str:
    """Spoken form of a counter label: 2 or "02" -> "hai", "2A" -> "hai a"."""
    if isinstance(counter, int) and not isinstance(counter, bool):
        return number_to_words(counter, linh=linh, thousand_word=thousand)
    return code_to_words(str(counter), digits="number", linh=linh, thousand=thousand)


def announcement_text(
    template: str | None,
    code: str,
    counter: str | int,
    *,
    digits: DigitsMode = "number",
    linh: str = "linh",
    letter_names: Mapping[str, str] | None = None,
    thousand: str = "nghìn",
) -> str:
    """Fill the call phrase: {so} = spoken ticket code, {quay} = counter number in words;
    ``thousand`` is "nghìn" or, as southern halls say, "ngàn"."""
    values = {
        "so": code_to_words(
            code, digits=digits, linh=linh, letter_names=letter_names, thousand=thousand
        ),
        "quay": counter_to_words(counter, linh=linh, thousand=thousand),
    }
    try:
        text = (template or DEFAULT_TEMPLATE).format_map(values)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"bad announcement template {template!r}: only {{so}} and {{quay}}"
        ) from exc
    return unicodedata.normalize("NFC", " ".join(text.split()))


# ---------------------------------------------------------------------------------------------
# PCM helpers: everything becomes 16-bit mono at SAMPLE_RATE
# ---------------------------------------------------------------------------------------------


def _to_mono16(frames: bytes, width: int, channels: int) -> array:
    """Decode little-endian PCM of any common width to signed 16-bit mono samples."""
    raw: Sequence[int]
    if width == 1:
        raw = [(b - 128) << 8 for b in frames]
    elif width == 2:
        pcm = array("h")
        pcm.frombytes(frames)
        if sys.byteorder == "big":
            pcm.byteswap()
        raw = pcm
    elif width == 3:
        raw = [
            int.from_bytes(frames[i + 1 : i + 3], "little", signed=True)
            for i in range(0, len(frames), 3)
        ]
    elif width == 4:
        pcm32 = array("i")
        pcm32.frombytes(frames)
        if sys.byteorder == "big":
            pcm32.byteswap()
        raw = [s >> 16 for s in pcm32]
    else:
        raise ValueError(f"unsupported sample width {width}")
    if channels == 1:
        return raw if isinstance(raw, array) else array("h", raw)
    mono = array("h", bytes(2 * (len(raw) // channels)))
    for i in range(len(mono)):
        base = i * channels
        mono[i] = sum(raw[base : base + channels]) // channels
    return mono


def _resample(samples: array, src_rate: int, dst_rate: int) -> array:
    """Linear-interpolation resampler; good enough for speech clips."""
    if src_rate == dst_rate or not samples:
        return samples
    n_out = max(1, round(len(samples) * dst_rate / src_rate))
    step = src_rate / dst_rate
    last = len(samples) - 1
    out = array("h", bytes(2 * n_out))
    for i in range(n_out):
        pos = i * step
        j = int(pos)
        if j >= last:
            out[i] = samples[last]
            continue
        frac = pos - j
        out[i] = int(samples[j] + (samples[j + 1] - samples[j]) * frac)
    return out


def read_wav(source: Path | bytes) -> array:
    """Read a PCM WAV file or bytes and return 16-bit mono samples at SAMPLE_RATE."""
    with wave.open(BytesIO(source) if isinstance(source, bytes) else str(source), "rb") as wav:
        width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    return _resample(_to_mono16(frames, width, channels), rate, SAMPLE_RATE)


def silence(seconds: float) -> array:
    """Silent samples lasting `seconds` at SAMPLE_RATE."""
    return array("h", bytes(2 * max(0, round(seconds * SAMPLE_RATE))))


def to_wav_bytes(samples: array) -> bytes:
    """Encode 16-bit mono samples at SAMPLE_RATE as a WAV file."""
    pcm = array("h", samples)
    if sys.byteorder == "big":
        pcm.byteswap()
    out = BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())
    return out.getvalue()


def wav_duration(data: bytes) -> float:
    """Duration in seconds of a WAV given as bytes."""
    with wave.open(BytesIO(data), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def make_chime(rate: int = SAMPLE_RATE) -> bytes:
    """Generate the two-tone lobby chime (880 Hz then 660 Hz, bell-like decay) as WAV bytes."""
    samples = array("h")
    for freq, length in ((880.0, 0.45), (660.0, 0.65)):
        n = round(length * rate)
        attack = round(0.01 * rate)
        for i in range(n):
            t = i / rate
            envelope = math.exp(-4.0 * t) * min(1.0, i / attack) * min(1.0, (n - i) / attack)
            # A soft second harmonic makes it sound like a bell rather than a test tone.
            wave_value = math.sin(2 * math.pi * freq * t) + 0.25 * math.sin(4 * math.pi * freq * t)
            samples.append(round(0.45 * 32767 * envelope * wave_value / 1.25))
    out = BytesIO()
    if sys.byteorder == "big":
        samples.byteswap()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return out.getvalue()


def write_chime(path: Path = CHIME_PATH) -> Path:
    """Write the generated chime to `path` (used to build display/sounds/chime.wav)."""
    path.write_bytes(make_chime())
    return path


# ---------------------------------------------------------------------------------------------
# Clip packs: one WAV per word (or phrase), named by the NFC Vietnamese word(s)
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+|[,.;:!?]")
_PAUSES = {",": 0.15, ";": 0.2, ":": 0.2, ".": 0.3, "!": 0.3, "?": 0.3}


def normalize_words(text: str) -> list[str]:
    """Split text into lower-case NFC words and pause marks; hyphens and spaces separate words."""
    return _TOKEN.findall(unicodedata.normalize("NFC", text).lower())


def clip_key(name: str) -> str:
    """Normalise a clip file stem or phrase to its lookup key: NFC, lower case, single spaces."""
    return " ".join(w for w in normalize_words(name.replace("_", " ")) if w not in _PAUSES)


def clip_filename(words: str) -> str:
    """File name a clip pack uses for a word or phrase: "mốt" -> "mốt.wav"."""
    key = clip_key(words)
    if not key:
        raise ValueError(f"no word in {words!r}")
    return key + ".wav"


@dataclass
class ClipPack:
    """A directory of recorded WAV clips, indexed by NFC word key (NFD file names work too)."""

    directory: Path
    clips: dict[str, Path] = field(init=False)
    longest: int = field(init=False)

    def __post_init__(self) -> None:
        """Index the directory once; later changes need a new ClipPack."""
        self.directory = Path(self.directory)
        self.clips = {}
        wavs = (p for p in self.directory.iterdir() if p.suffix.lower() == ".wav")
        for path in sorted(wavs):
            key = clip_key(path.stem)
            if not key:
                continue
            if key in self.clips and self.clips[key] != path:
                log.warning("clip %s duplicates %s; keeping the first", path, self.clips[key])
                continue
            self.clips[key] = path
        self.longest = max((len(k.split()) for k in self.clips), default=0)

    def plan(self, text: str) -> tuple[list[Path | float], list[str]]:
        """Cover the text with clips, longest phrase first; returns (parts, missing words)."""
        tokens = normalize_words(text)
        parts: list[Path | float] = []
        missing: list[str] = []
        i = 0
        while i < len(tokens):
            if tokens[i] in _PAUSES:
                parts.append(_PAUSES[tokens[i]])
                i += 1
                continue
            for size in range(min(self.longest, len(tokens) - i), 0, -1):
                window = tokens[i : i + size]
                if any(t in _PAUSES for t in window):
                    continue
                path = self.clips.get(" ".join(window))
                if path is not None:
                    parts.append(path)
                    i += size
                    break
            else:
                missing.append(tokens[i])
                i += 1
        return parts, missing

    def missing_words(self, text: str) -> list[str]:
        """Words of the text that no clip covers (what the hall still has to record)."""
        return self.plan(text)[1]

    def fingerprint(self) -> str:
        """Hash of the clip names, sizes and mtimes, so the cache notices a re-recorded clip."""
        digest = hashlib.sha256()
        for key, path in sorted(self.clips.items()):
            st = path.stat()
            digest.update(f"{key}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def speak(self, text: str) -> array:
        """Join the clips for the text; raises LookupError when a word has no clip."""
        parts, missing = self.plan(text)
        if missing:
            raise LookupError(f"no clip for: {', '.join(dict.fromkeys(missing))}")
        if not parts:
            raise LookupError("nothing to say")
        out = array("h")
        for part in parts:
            out.extend(silence(part) if isinstance(part, float) else read_wav(part))
        return out


# ---------------------------------------------------------------------------------------------
# espeak-ng
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EspeakSettings:
    """How the server voice calls espeak-ng."""

    executable: str = "espeak-ng"
    voice: str = "vi"
    speed: int = 140
    pitch: int = 50
    timeout: float = _ESPEAK_DEFAULT_TIMEOUT


def espeak_available(settings: EspeakSettings | None = None) -> bool:
    """True when the espeak-ng executable is on PATH."""
    return shutil.which((settings or EspeakSettings()).executable) is not None


def espeak_wav(text: str, settings: EspeakSettings | None = None) -> bytes:
    """Run espeak-ng on the text and return its WAV bytes; raises OSError or TimeoutExpired."""
    cfg = settings or EspeakSettings()
    exe = shutil.which(cfg.executable)
    if exe is None:
        raise FileNotFoundError(f"{cfg.executable} not found on PATH")
    with tempfile.TemporaryDirectory(prefix="motcua-voice-") as tmp:
        out = Path(tmp) / "out.wav"
        # -z: no final sentence pause, so `pause` alone sets the gap between repeats.
        cmd = [exe, "-v", cfg.voice, "-s", str(cfg.speed), "-p", str(cfg.pitch), "-b", "1", "-z"]
        cmd += ["-w", str(out), "--stdin"]
        result = subprocess.run(
            cmd,
            input=unicodedata.normalize("NFC", text).encode("utf-8"),
            capture_output=True,
            timeout=cfg.timeout,
            check=False,
        )
        if result.returncode != 0 or not out.exists():
            err = result.stderr.decode("utf-8", "replace").strip()
            raise OSError(f"espeak-ng failed ({result.returncode}): {err}")
        return out.read_bytes()


def _espeak_speak(text: str, settings: EspeakSettings) -> array:
    """The server source: espeak-ng's WAV converted to the common format."""
    samples = read_wav(espeak_wav(text, settings))
    if not samples:
        raise OSError("espeak-ng produced no audio")
    return samples


# ---------------------------------------------------------------------------------------------
# Rendering and cache
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """A rendered announcement: WAV bytes, the source that spoke it, and whether it was cached."""

    wav: bytes
    source: str
    cached: bool

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return wav_duration(self.wav)


def normalize_source_order(order: Iterable[str]) -> tuple[str, ...]:
    """Canonical source names ("espeak" -> "server"); rejects unknown names."""
    names = []
    for name in order:
        canonical = SOURCE_ALIASES.get(name, name)
        if canonical not in (SOURCE_BROWSER, SOURCE_SERVER, SOURCE_CLIPS):
            raise ValueError(f"unknown voice source {name!r}")
        if canonical not in names:
            names.append(canonical)
    return tuple(names)


def _chime_samples(chime: bool | Path) -> array | None:
    """The chime as samples, or None when turned off."""
    if chime is False:
        return None
    return read_wav(CHIME_PATH if chime is True else Path(chime))


def _cache_key(
    text: str,
    order: Sequence[str],
    repeat: int,
    chime: bool | Path,
    pause: float,
    chime_gap: float,
    clips: ClipPack | None,
    espeak: EspeakSettings,
) -> str:
    """Hash of everything that changes the rendered bytes."""
    if chime is False:
        chime_id = None
    else:
        path = CHIME_PATH if chime is True else Path(chime)
        st = path.stat()
        chime_id = [str(path), st.st_size, st.st_mtime_ns]
    settings = {
        "format": _CACHE_FORMAT,
        "text": unicodedata.normalize("NFC", text),
        "order": list(order),
        "repeat": repeat,
        "pause": pause,
        "chime_gap": chime_gap,
        "chime": chime_id,
        "clips": [str(clips.directory), clips.fingerprint()] if clips else None,
        "espeak": [espeak.voice, espeak.speed, espeak.pitch] if SOURCE_SERVER in order else None,
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def _cache_write(path: Path, data: bytes) -> None:
    """Write atomically so that a concurrent reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".wav")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def prune_cache(cache_dir: Path, max_bytes: int) -> int:
    """Delete least recently used cached WAVs until the directory holds at most max_bytes."""
    entries = []
    for path in Path(cache_dir).glob("*.wav"):
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        entries.append((st.st_mtime_ns, st.st_size, path))
    total = sum(size for _, size, _ in entries)
    removed = 0
    for _, size, path in sorted(entries, key=lambda e: e[0]):
        if total <= max_bytes:
            break
        path.unlink(missing_ok=True)
        total -= size
        removed += 1
    return removed


def render(
    text: str,
    *,
    source_order: Iterable[str] = DEFAULT_SOURCE_ORDER,
    repeat: int = 2,
    chime: bool | Path = True,
    cache_dir: Path | None = None,
    clips_dir: Path | None = None,
    espeak: EspeakSettings | None = None,
    pause: float = 0.7,
    chime_gap: float = 0.3,
    cache_max_bytes: int | None = 200 * 1024 * 1024,
) -> Rendered:
    """Render chime + phrase x repeat as WAV with the first server-side source that can speak it."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    order = normalize_source_order(source_order)
    espeak = espeak or EspeakSettings()
    clips = ClipPack(clips_dir) if clips_dir is not None and SOURCE_CLIPS in order else None

    key = ""
    if cache_dir is not None:
        key = _cache_key(text, order, repeat, chime, pause, chime_gap, clips, espeak)
        for source in order:
            candidate = Path(cache_dir) / f"{key}-{source}.wav"
            try:
                data = candidate.read_bytes()
            except FileNotFoundError:
                continue
            os.utime(candidate)  # mtime doubles as "last used" for prune_cache
            log.debug("voice cache hit %s", candidate.name)
            return Rendered(wav=data, source=source, cached=True)

    phrase: array | None = None
    spoken_by = ""
    reasons: list[str] = []
    for source in order:
        started = time.perf_counter()
        try:
            if source == SOURCE_BROWSER:
                reasons.append("browser: played client-side")
                continue
            if source == SOURCE_CLIPS:
                if clips is None:
                    reasons.append("clips: no clip directory configured")
                    continue
                phrase = clips.speak(text)
            else:
                phrase = _espeak_speak(text, espeak)
        except (LookupError, OSError, subprocess.SubprocessError, wave.Error, EOFError) as exc:
            log.info("voice source %s could not speak %r: %s", source, text, exc)
            reasons.append(f"{source}: {exc}")
            continue
        spoken_by = source
        log.debug(
            "voice source %s spoke in %.1f ms", source, 1000 * (time.perf_counter() - started)
        )
        break
    if phrase is None:
        raise VoiceUnavailable(f"no voice source could speak {text!r} ({'; '.join(reasons)})")

    out = array("h")
    chime_samples = _chime_samples(chime)
    if chime_samples is not None:
        out.extend(chime_samples)
        out.extend(silence(chime_gap))
    for i in range(repeat):
        if i:
            out.extend(silence(pause))
        out.extend(phrase)
    data = to_wav_bytes(out)

    if cache_dir is not None:
        _cache_write(Path(cache_dir) / f"{key}-{spoken_by}.wav", data)
        if cache_max_bytes is not None:
            prune_cache(Path(cache_dir), cache_max_bytes)
    return Rendered(wav=data, source=spoken_by, cached=False)


def render_announcement(
    text: str,
    *,
    source_order: Iterable[str] = DEFAULT_SOURCE_ORDER,
    repeat: int = 2,
    chime: bool | Path = True,
    cache_dir: Path | None = None,
    clips_dir: Path | None = None,
    espeak: EspeakSettings | None = None,
    pause: float = 0.7,
    chime_gap: float = 0.3,
    cache_max_bytes: int | None = 200 * 1024 * 1024,
) -> bytes:
    """WAV bytes: chime, then the phrase `repeat` times; raises VoiceUnavailable."""
    return render(
        text,
        source_order=source_order,
        repeat=repeat,
        chime=chime,
        cache_dir=cache_dir,
        clips_dir=clips_dir,
        espeak=espeak,
        pause=pause,
        chime_gap=chime_gap,
        cache_max_bytes=cache_max_bytes,
    ).wav
