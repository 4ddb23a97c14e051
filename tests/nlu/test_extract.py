"""Exact entities: ticket code, NIK, phone, RT/RW, places; overlaps resolved, no duplicates."""

from __future__ import annotations

import pytest

from nlu.extract import extract, extract_danger, load_gazetteer
from nlu.patterns import mask_nik, mask_text


def values(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in extract(text):
        out.setdefault(e.entity, []).append(e.value)
    return out


def test_ticket_codes_in_any_spelling() -> None:
    assert values("cek adu k7x3m9p dan ADU-K7X3M9P")["ticket_code"] == ["ADU-K7X3M9P"]


def test_nik_and_phone_do_not_overlap() -> None:
    v = values("NIK saya 3372 0512 3456 0001, hp +62 812-3456-7890")
    assert v["nik"] == ["3372051234560001"]
    assert v["phone"] == ["081234567890"]


def test_rt_rw_forms() -> None:
    assert values("RT 02/RW 05")["rt_rw"] == ["RT 02/RW 05"]
    assert values("rt.3 rw.7 kampung baru")["rt_rw"] == ["RT 03/RW 07"]
    assert values("di rt 4 ya")["rt_rw"] == ["RT 04"]


def test_places_from_the_city_lookup() -> None:
    v = values("jalan rusak di Kelurahan Jebres, kecamatan pasar kliwon")
    assert "Jebres" in v["kelurahan"] + v.get("kecamatan", [])
    assert "Pasar Kliwon" in v["kecamatan"]
    gaz = load_gazetteer()
    assert gaz.city == "Kota Surakarta" and len(gaz.patterns) >= 55


def test_short_place_names_need_their_prefix() -> None:
    # "Bumi" is a kelurahan but also a common word: only "kel. bumi" counts.
    assert "kelurahan" not in values("bumi makin panas")
    assert values("kel. bumi")["kelurahan"] == ["Bumi"]


def test_no_duplicate_entities() -> None:
    ents = extract("ADU-K7X3M9P ADU-K7X3M9P rt 2 rw 3 RT 02/RW 03")
    pairs = [(e.entity, e.value) for e in ents]
    assert len(pairs) == len(set(pairs))


def test_masking_never_shows_full_nik_or_phone() -> None:
    assert mask_nik("3372051234560001") == "3372********0001"
    masked = mask_text("NIK 3372051234560001 hp 081234567890")
    assert "3372051234560001" not in masked and "081234567890" not in masked


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("ada kebakaran rumah di rt 3 rw 2 kel sewu!! apinya gede", {"kebakaran"}),
        ("TOLONG MIN banjir udh masuk rumah selutut, ada mbah sy lansia blm bisa dievakuasi!!", {"banjir", "terjebak"}),
        ("dari kemarin mbah sy blm bisa dievakuasi, air makin tinggi", {"terjebak"}),
        ("wonten warga kathah ingkang gerah demam berdarah, nyuwun fogging", set()),
        ("ambulans kelurahan ditelpon gk dateng2 pas ada warga pingsan kemarin", set()),
        ("bekas kebakaran minggu lalu belum dibersihkan", set()),
        ("tetangga pingsan di jalan, tolong kirim ambulans", {"korban"}),
    ],
)
def test_danger_is_now_not_past(text: str, kinds: set[str]) -> None:
    assert {e.value for e in extract_danger(text)} == kinds


@pytest.mark.parametrize(
    "text",
    [
        "longsor di pinggir kali, ada rumah yg ketimbun sebagian, tolong cepet",
        "omah tanggane kobong, tulung",
        "pohon besar tumbang menimpa rumah dan ada orang terjepit di dalam!",
        "air kali meluap, warga di bantaran kejebak, butuh perahu",
        "banjir setinggi dada di kampung kami dan masih ada warga lansia di dalam rumah",
        "puting beliung barusan, atap rumah terbang dan ada yg luka kena genteng",
    ],
)
def test_danger_in_everyday_words(text: str) -> None:
    assert extract_danger(text)
