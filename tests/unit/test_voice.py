"""Tests for display.voice: Vietnamese reading, clip packs, espeak-ng, chime and cache."""

from __future__ import annotations

import math
import os
import unicodedata
import wave
from array import array
from io import BytesIO
from pathlib import Path

import pytest

from display import voice
from display.voice import (
    CHIME_PATH,
    DEFAULT_TEMPLATE,
    SAMPLE_RATE,
    ClipPack,
    VoiceUnavailable,
    announcement_text,
    clip_filename,
    code_to_words,
    counter_to_words,
    letter_name,
    number_to_words,
    render,
    render_announcement,
)

NUMBERS = [
    (0, "không"),
    (1, "một"),
    (4, "bốn"),
    (5, "năm"),
    (10, "mười"),
    (11, "mười một"),
    (14, "mười bốn"),
    (15, "mười lăm"),
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (30, "ba mươi"),
    (31, "ba mươi mốt"),
    (34, "ba mươi tư"),
    (35, "ba mươi lăm"),
    (100, "một trăm"),
    (101, "một trăm linh một"),
    (104, "một trăm linh bốn"),
    (105, "một trăm linh năm"),
    (110, "một trăm mười"),
    (111, "một trăm mười một"),
    (115, "một trăm mười lăm"),
    (1000, "một nghìn"),
    (1005, "một nghìn không trăm linh năm"),
    (1010, "một nghìn không trăm mười"),
    (1023, "một nghìn không trăm hai mươi ba"),
    (1100, "một nghìn một trăm"),
    (1234, "một nghìn hai trăm ba mươi tư"),
    (2024, "hai nghìn không trăm hai mươi tư"),
    (3024, "ba nghìn không trăm hai mươi tư"),
    (9999, "chín nghìn chín trăm chín mươi chín"),
    (10000, "mười nghìn"),
    (15000, "mười lăm nghìn"),
    (21000, "hai mươi mốt nghìn"),
    (105000, "một trăm linh năm nghìn"),
    (1000005, "một triệu không trăm linh năm"),
    (1_000_000_000, "một tỷ"),
]

# The default phrase for A012 at counter 2, used by the clip and espeak tests.
PHRASE = announcement_text(None, "A012", 2)

RATE = SAMPLE_RATE


def tone_wav(
    path: Path, seconds: float, freq: float, *, rate: int = RATE, channels: int = 1
) -> int:
    """Write a short 16-bit sine clip and return its frame count."""
    frames = round(seconds * rate)
    samples = array("h")
    for i in range(frames):
        value = round(8000 * math.sin(2 * math.pi * freq * i / rate))
        samples.extend([value] * channels)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return frames


def wav_info(data: bytes) -> tuple[int, int, int, int]:
    """(channels, sample width, rate, frames) of WAV bytes."""
    with wave.open(BytesIO(data), "rb") as wav:
        return wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()


def chime_frames() -> int:
    """Frames of the shipped chime."""
    return wav_info(CHIME_PATH.read_bytes())[3]


def make_pack(directory: Path, words: list[str], *, base: float = 0.1) -> dict[str, int]:
    """A clip pack with one distinct-length tone per word; returns frames per word."""
    directory.mkdir(parents=True, exist_ok=True)
    frames = {}
    for i, word in enumerate(words):
        frames[word] = tone_wav(directory / clip_filename(word), base + 0.01 * i, 300 + 20 * i)
    return frames


def require_espeak() -> None:
    """Skip (with the reason printed by -ra) when espeak-ng is not installed."""
    if not voice.espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "words"), NUMBERS)
def test_number_to_words(n: int, words: str) -> None:
    """Numbers follow the mốt / tư / lăm / linh / không trăm rules."""
    assert number_to_words(n) == words


def test_number_to_words_le_and_ngan() -> None:
    """The linh/lẻ word and the thousand word are configurable (southern usage)."""
    assert number_to_words(105, linh="lẻ") == "một trăm lẻ năm"
    assert number_to_words(1005, linh="lẻ", thousand_word="ngàn") == "một ngàn không trăm lẻ năm"


def test_number_to_words_rejects_non_int() -> None:
    """Strings and bools are not numbers."""
    with pytest.raises(TypeError):
        number_to_words("12")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        number_to_words(True)


def test_number_words_are_nfc() -> None:
    """Every reading is NFC so clip lookups and espeak get one spelling."""
    for n in range(0, 10000, 7):
        text = number_to_words(n)
        assert unicodedata.normalize("NFC", text) == text


@pytest.mark.parametrize(
    ("ch", "name"),
    [
        ("A", "a"),
        ("B", "bê"),
        ("C", "xê"),
        ("D", "dê"),
        ("Đ", "đê"),
        ("E", "e"),
        ("F", "ép"),
        ("G", "giê"),
        ("H", "hát"),
        ("I", "i"),
        ("J", "gi"),
        ("K", "ca"),
        ("L", "e-lờ"),
        ("M", "em-mờ"),
        ("N", "en-nờ"),
        ("O", "o"),
        ("P", "pê"),
        ("Q", "quy"),
        ("R", "e-rờ"),
        ("S", "ét"),
        ("T", "tê"),
        ("U", "u"),
        ("V", "vê"),
        ("W", "vê kép"),
        ("X", "ích"),
        ("Y", "i dài"),
        ("Z", "dét"),
        ("b", "bê"),
    ],
)
def test_letter_name(ch: str, name: str) -> None:
    """Prefix letters are read by their Vietnamese names."""
    assert letter_name(ch) == name


def test_letter_name_override_and_unknown() -> None:
    """A hall can rename a letter; a non-letter is an error."""
    assert letter_name("F", {"F": "ép-phờ"}) == "ép-phờ"
    with pytest.raises(ValueError):
        letter_name("#")


def test_code_to_words_modes() -> None:
    """The number is read as a number by default, digit by digit on request."""
    assert code_to_words("A012") == "a mười hai"
    assert code_to_words("A012", digits="each") == "a không một hai"
    assert code_to_words("B1023") == "bê một nghìn không trăm hai mươi ba"
    assert code_to_words("C-005") == "xê năm"
    assert code_to_words("A000") == "a không"
    with pytest.raises(ValueError):
        code_to_words("A012", digits="tens")  # type: ignore[arg-type]


def test_counter_to_words() -> None:
    """Counter labels: ints, zero-padded strings and letter suffixes."""
    assert counter_to_words(2) == "hai"
    assert counter_to_words("02") == "hai"
    assert counter_to_words("2A") == "hai a"


def test_announcement_text() -> None:
    """The default phrase for A012 at counter 2 and B1023 at counter 12."""
    assert (
        announcement_text(None, "A012", 2)
        == "Xin mời công dân có số thứ tự a mười hai đến quầy số hai"
    )
    assert announcement_text(DEFAULT_TEMPLATE, "B1023", "12") == (
        "Xin mời công dân có số thứ tự bê một nghìn không trăm hai mươi ba đến quầy số mười hai"
    )


def test_announcement_text_custom_template() -> None:
    """A hall may say "khách hàng"; unknown placeholders are rejected."""
    template = "Xin mời khách hàng số {so} đến quầy {quay}"
    assert announcement_text(template, "D7", 3) == "Xin mời khách hàng số dê bảy đến quầy ba"
    with pytest.raises(ValueError):
        announcement_text("Mời {ten}", "A1", 1)


# --- clip naming -----------------------------------------------------------------------------


def vocabulary() -> set[str]:
    """Every word the announcements can need: phrase, numbers 0..9999, letter names."""
    words = set(voice.normalize_words(DEFAULT_TEMPLATE))
    for n in range(10000):
        words.update(number_to_words(n).split())
    words.update(["lẻ", "ngàn", "tỷ", "triệu"])
    for name in voice.LETTER_NAMES.values():
        words.update(voice.normalize_words(name))
    return {w for w in words if w.isalpha()}


def test_clip_names_keep_tone_marks_distinct() -> None:
    """mười/mươi and một/mốt get different files, also on case-insensitive file systems."""
    assert clip_filename("mười") != clip_filename("mươi")
    assert clip_filename("một") != clip_filename("mốt")
    words = vocabulary()
    names = {clip_filename(w) for w in words}
    assert len(names) == len(words)
    assert len({n.casefold() for n in names}) == len(words)


def test_clip_filename_normalises() -> None:
    """Names are NFC lower case; NFD or upper-case input gives the same name."""
    nfd = unicodedata.normalize("NFD", "Mốt")
    assert clip_filename(nfd) == "mốt.wav"
    assert unicodedata.is_normalized("NFC", clip_filename(nfd))
    assert clip_filename("Xin  mời") == "xin mời.wav"


def test_clip_pack_tones_do_not_collide(tmp_path: Path) -> None:
    """A pack holding mười, mươi, một and mốt uses the right clip for each."""
    frames = make_pack(tmp_path, ["hai", "mười", "mươi", "một", "mốt"])
    pack = ClipPack(tmp_path)
    assert len(pack.clips) == 5
    for text, expected in [
        ("mười một", frames["mười"] + frames["một"]),
        ("hai mươi mốt", frames["hai"] + frames["mươi"] + frames["mốt"]),
    ]:
        assert len(pack.speak(text)) == expected


def test_clip_pack_finds_nfd_file_names(tmp_path: Path) -> None:
    """A file saved with an NFD name (macOS, some zip tools) is still found."""
    tone_wav(tmp_path / (unicodedata.normalize("NFD", "mốt") + ".wav"), 0.1, 440)
    assert ClipPack(tmp_path).missing_words("Mốt") == []


# --- audio: clips ----------------------------------------------------------------------------


def test_clip_pack_render_duration(tmp_path: Path) -> None:
    """Chime + gap + phrase twice with a pause = the sum of the parts, to the frame."""
    words = sorted(set(voice.normalize_words(PHRASE)))
    frames = make_pack(tmp_path / "clips", words)
    phrase_frames = sum(frames[w] for w in voice.normalize_words(PHRASE))
    result = render(
        PHRASE,
        source_order=("clips",),
        clips_dir=tmp_path / "clips",
        repeat=2,
        pause=0.5,
        chime_gap=0.25,
    )
    assert result.source == "clips"
    channels, width, rate, total = wav_info(result.wav)
    assert (channels, width, rate) == (1, 2, RATE)
    expected = chime_frames() + round(0.25 * RATE) + 2 * phrase_frames + round(0.5 * RATE)
    assert total == expected


def test_clip_pack_phrase_clips_and_format_conversion(tmp_path: Path) -> None:
    """A multi-word clip wins over single words; 44.1 kHz stereo clips are converted."""
    pack_dir = tmp_path / "clips"
    frames = make_pack(pack_dir, ["xin", "mời", "hai"])
    phrase = tone_wav(pack_dir / "xin_mời.wav", 0.4, 500, rate=44100, channels=2)
    pack = ClipPack(pack_dir)
    assert len(pack.speak("Xin mời")) == phrase // 2
    wav = render_announcement(
        "xin mời, hai", source_order=("clips",), clips_dir=pack_dir, repeat=1, chime=False
    )
    assert wav_info(wav)[3] == phrase // 2 + round(0.15 * RATE) + frames["hai"]


def test_missing_clip_falls_back_to_next_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A phrase with one unrecorded word is spoken by the next source, never half from clips."""
    make_pack(tmp_path, ["xin", "mời"])
    calls: list[str] = []

    def fake_server(text: str, settings: voice.EspeakSettings) -> array:
        """Stand-in for espeak-ng."""
        calls.append(text)
        return voice.silence(1.0)

    monkeypatch.setattr(voice, "_espeak_speak", fake_server)
    result = render("xin mời hai", clips_dir=tmp_path, chime=False, repeat=1)
    assert result.source == "server"
    assert calls == ["xin mời hai"]
    assert ClipPack(tmp_path).missing_words("xin mời hai") == ["hai"]


def test_no_source_raises(tmp_path: Path) -> None:
    """Clips missing and no server source: VoiceUnavailable, with the reason."""
    make_pack(tmp_path, ["xin"])
    with pytest.raises(VoiceUnavailable, match="hai"):
        render_announcement("xin hai", source_order=("clips",), clips_dir=tmp_path)
    with pytest.raises(VoiceUnavailable, match="browser"):
        render_announcement("xin", source_order=("browser",))
    with pytest.raises(ValueError):
        render_announcement("xin", source_order=("festival",))


def test_espeak_missing_raises() -> None:
    """A missing espeak-ng executable is a VoiceUnavailable, not a crash."""
    settings = voice.EspeakSettings(executable="no-such-espeak-binary")
    with pytest.raises(VoiceUnavailable, match="not found"):
        render_announcement("xin", source_order=("server",), espeak=settings)


# --- audio: espeak-ng ------------------------------------------------------------------------


def test_espeak_renders_announcement() -> None:
    """espeak-ng speaks the default phrase: a valid 22.05 kHz mono WAV longer than 1 s."""
    require_espeak()
    result = render(PHRASE, source_order=("espeak",), repeat=1, chime=False)
    assert result.source == "server"
    channels, width, rate, frames = wav_info(result.wav)
    assert (channels, width, rate) == (1, 2, RATE)
    assert 1.0 < frames / rate < 15.0
    samples = array("h", result.wav[44:])
    assert max(abs(s) for s in samples) > 1000  # not silence


def test_cache_hit_skips_espeak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second identical render comes from disk: same bytes, espeak-ng not run again."""
    require_espeak()
    calls = 0
    real = voice.espeak_wav

    def counting(text: str, settings: voice.EspeakSettings | None = None) -> bytes:
        """Count espeak-ng runs."""
        nonlocal calls
        calls += 1
        return real(text, settings)

    monkeypatch.setattr(voice, "espeak_wav", counting)
    cache = tmp_path / "cache"
    first = render(PHRASE, source_order=("server",), cache_dir=cache)
    second = render(PHRASE, source_order=("server",), cache_dir=cache)
    assert calls == 1
    assert (first.cached, second.cached) == (False, True)
    assert second.source == "server"
    assert first.wav == second.wav
    assert len(list(cache.glob("*.wav"))) == 1
    render(PHRASE, source_order=("server",), cache_dir=cache, repeat=3)
    assert calls == 2  # different settings, different entry


def test_cache_notices_rerecorded_clip(tmp_path: Path) -> None:
    """Replacing a clip changes the cache key, so the new recording is heard."""
    pack_dir = tmp_path / "clips"
    make_pack(pack_dir, ["xin", "mời"])
    cache = tmp_path / "cache"
    first = render("xin mời", source_order=("clips",), clips_dir=pack_dir, cache_dir=cache)
    tone_wav(pack_dir / "mời.wav", 0.5, 700)
    second = render("xin mời", source_order=("clips",), clips_dir=pack_dir, cache_dir=cache)
    assert not second.cached
    assert second.duration > first.duration


def test_prune_cache_keeps_newest(tmp_path: Path) -> None:
    """Pruning removes the least recently used entries first."""
    for i in range(4):
        path = tmp_path / f"{i}.wav"
        path.write_bytes(b"x" * 100)
        os.utime(path, ns=(i * 10**9, i * 10**9))
    assert voice.prune_cache(tmp_path, 250) == 2
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == ["2.wav", "3.wav"]


# --- chime -----------------------------------------------------------------------------------


def test_shipped_chime() -> None:
    """The committed chime is small, in the output format, and not silent."""
    data = CHIME_PATH.read_bytes()
    assert len(data) < 100 * 1024
    channels, width, rate, frames = wav_info(data)
    assert (channels, width, rate) == (1, 2, RATE)
    assert 0.5 < frames / rate < 2.0
    assert max(abs(s) for s in voice.read_wav(data)) > 5000


def test_make_chime_matches_shipped_length() -> None:
    """The generator and the shipped file agree on format and length."""
    assert wav_info(voice.make_chime()) == wav_info(CHIME_PATH.read_bytes())


def test_a_southern_hall_says_ngan_for_thousands() -> None:
    """ANNOUNCE_THOUSAND="ngàn": 1023 is "một ngàn không trăm hai mươi ba", in the phrase too."""
    from display.voice import announcement_text

    text = announcement_text(None, "A1023", 2, thousand="ngàn", linh="lẻ")
    assert "a một ngàn không trăm hai mươi ba" in text
    assert "nghìn" not in announcement_text(None, "B1005", 1, thousand="ngàn", linh="lẻ")
    assert "một nghìn không trăm lẻ năm" in announcement_text(None, "B1005", 1, linh="lẻ")
