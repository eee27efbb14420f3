"""The units registry: every unit the plan names has a stable code; groups resolve to units."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from fazhi.rules import units
from fazhi.rules.units import Registry, Unit, UnitRegistryError, UnknownUnitError

SEED = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "seed"
    / "beilin-rule-of-law-government-plan-2021-2025.txt"
)
_NOTE = re.compile(r"[（(]按照职责分工负责，\s*下\s*同\s*[)）]")
_UNIT_LINE = re.compile(r"^(?:牵头单位|责任单位)：(.+)$", re.MULTILINE)
STREETS = ["柏树林街道", "长乐坊街道", "东关南街街道", "太乙路街道"]
STREETS += ["文艺路街道", "长安路街道", "张家村街道", "南院门街道"]


def seed_unit_strings() -> list[str]:
    """Every distinct unit string of the seed's 牵头单位/责任单位 lines, in order of appearance."""
    if not SEED.is_file():
        pytest.fail(f"the plan's seed text is missing: expected it at {SEED}")
    text = _NOTE.sub("", SEED.read_text(encoding="utf-8"))
    text = re.sub(r"、\s*\n\s*", "、", text)  # a unit list wrapped onto the next line
    names: dict[str, None] = {}
    for line in _UNIT_LINE.findall(text):
        for name in line.split("、"):
            names[name.strip()] = None
    return list(names)


def test_seed_names_42_distinct_unit_strings() -> None:
    strings = seed_unit_strings()
    assert len(strings) == 42
    assert "区委组织部" in strings  # the one followed by the wrapped （按照职责分工负责，下同）
    assert "区司法局" in strings  # the one wrapped onto its own line
    assert all("按照" not in s and "\n" not in s and s for s in strings)


def test_every_unit_string_of_the_seed_is_known_by_name_or_alias() -> None:
    unknown = [name for name in seed_unit_strings() if units.find_unit(name) is None]
    assert unknown == [], f"unit strings of the plan missing from the registry: {unknown}"


def test_every_unit_string_of_the_seed_is_a_display_name_not_only_an_alias() -> None:
    names = {u.name for u in (*units.all_units(), *units.all_groups())}
    aliased = [s for s in seed_unit_strings() if s not in names]
    assert aliased == ["区级各有关部门", "具有行政执法权的区级部门"]


def test_every_district_unit_display_name_comes_from_the_seed() -> None:
    strings = set(seed_unit_strings())
    district = [u for u in units.all_units() if not u.code.startswith("street-")]
    assert [u.name for u in district if u.name not in strings] == []


def test_codes_are_unique_lowercase_ascii() -> None:
    entries = (*units.all_units(), *units.all_groups())
    codes = [u.code for u in entries]
    assert len(codes) == len(set(codes))
    for unit in units.all_units():
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", unit.code), unit.code
    for group in units.all_groups():
        assert re.fullmatch(r"group:[a-z][a-z0-9]*(-[a-z0-9]+)*", group.code), group.code


def test_names_and_aliases_name_one_entry_each() -> None:
    labels = [
        label for u in (*units.all_units(), *units.all_groups()) for label in (u.name, *u.aliases)
    ]
    assert len(labels) == len(set(labels))


def test_all_units_are_concrete_and_sorted_by_code() -> None:
    concrete = units.all_units()
    assert [u.code for u in concrete] == sorted(u.code for u in concrete)
    assert all(u.kind == "unit" and not u.is_group and u.members == () for u in concrete)
    assert len(concrete) == 43


def test_all_groups_resolve_to_non_empty_sets_of_concrete_units() -> None:
    groups = units.all_groups()
    assert [g.code for g in groups] == sorted(g.code for g in groups)
    for group in groups:
        assert group.kind == "group"
        members = units.resolve(group.code)
        assert members, group.code
        assert members == frozenset(group.members)
        assert all(units.is_unit_code(code) for code in members)


def test_the_eight_streets_are_units_and_form_a_group() -> None:
    found = [units.find_unit(name) for name in STREETS]
    assert all(unit is not None and unit.kind == "unit" for unit in found)
    codes = {unit.code for unit in found if unit is not None}
    assert len(codes) == 8
    assert units.resolve("group:streets") == codes
    assert units.resolve("各街道") == codes
    assert units.find_unit("柏树林街道办事处") == units.get_unit("street-baishulin")


def test_district_departments_are_every_unit_but_the_streets() -> None:
    district = {u.code for u in units.all_units() if not u.code.startswith("street-")}
    assert units.resolve("区级各相关部门") == district
    assert units.resolve("区级各有关部门") == district


def test_enforcement_departments_have_enforcement_powers() -> None:
    enforcement = units.resolve("区级各行政执法部门")
    assert enforcement == units.resolve("具有行政执法权的区级部门")
    expected = {"market-regulation", "emergency-management", "urban-management", "health"}
    expected |= {"ecology-environment", "housing-construction", "human-resources"}
    expected |= {"public-security", "traffic-police"}
    assert expected <= enforcement
    assert not enforcement & {"gov-office", "rule-of-law-office", "court", "procuratorate"}


def test_government_departments_exclude_party_organs_and_courts() -> None:
    government = units.resolve("区政府各部门")
    assert {"gov-office", "justice", "market-regulation", "approval"} <= government
    names = {units.get_unit(code).name for code in government}
    assert not [n for n in names if n.startswith("区委") or n.startswith("市")]
    assert not government & {"court", "procuratorate", "discipline-supervision"}


def test_special_duty_groups_are_subsets_of_district_departments() -> None:
    district = units.resolve("group:district-departments")
    for name in ("具有突发事件处置职责的区级部门", "具有行政裁决权的区级部门"):
        assert units.resolve(name) <= district
    assert "emergency-management" in units.resolve("group:emergency-departments")
    assert "natural-resources" in units.resolve("group:adjudication-departments")


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("区司法局", "justice"),
        ("区应急管理局", "emergency-management"),
        ("区政府办公室", "gov-office"),
        ("区政府办", "gov-office"),
        ("政府办", "gov-office"),
        ("区委依法治区办", "rule-of-law-office"),
        ("依法治区办", "rule-of-law-office"),
        ("区委全面依法治区委员会办公室", "rule-of-law-office"),
        ("区市场监管局", "market-regulation"),
        ("区行政审批局", "approval"),
        ("公安碑林分局", "public-security"),
        ("区公安分局", "public-security"),
        ("公安", "public-security"),
        ("区检察院", "procuratorate"),
        ("编办", "establishment"),
        ("组织部", "party-organisation"),
        ("营商办", "business-environment"),
        ("巡察办", "party-inspection"),
        ("考核办", "assessment"),
        ("审计局", "audit"),
        ("纪委监委", "discipline-supervision"),
        ("卫健局", "health"),
        ("经贸局", "economy-trade"),
        ("投资合作局", "investment-cooperation"),
    ],
)
def test_find_unit_by_name_or_alias(label: str, code: str) -> None:
    unit = units.find_unit(label)
    assert unit is not None, label
    assert unit.code == code
    assert units.resolve(label) == frozenset({code})


def test_find_unit_by_code_ignores_surrounding_space_and_returns_none_when_unknown() -> None:
    assert units.find_unit(" justice ") == units.get_unit("justice")
    assert units.find_unit("group:streets") == units.get_unit("group:streets")
    assert units.find_unit("区不存在局") is None


def test_get_unit_returns_display_name() -> None:
    justice = units.get_unit("justice")
    assert justice == Unit("justice", "区司法局", "unit", ("司法局",), ())
    assert units.get_unit("emergency-management").name == "区应急管理局"


def test_get_unit_on_an_unknown_code_raises_a_clear_key_error() -> None:
    with pytest.raises(UnknownUnitError) as caught:
        units.get_unit("no-such-unit")
    assert isinstance(caught.value, KeyError)
    assert "no-such-unit" in str(caught.value)
    assert "units registry" in str(caught.value)


def test_get_unit_takes_codes_not_names() -> None:
    with pytest.raises(UnknownUnitError):
        units.get_unit("区司法局")


def test_resolve_unknown_raises() -> None:
    with pytest.raises(UnknownUnitError, match="nobody"):
        units.resolve("nobody")


def test_is_unit_code_is_true_only_for_concrete_unit_codes() -> None:
    assert units.is_unit_code("justice")
    assert not units.is_unit_code("group:streets")
    assert not units.is_unit_code("区司法局")
    assert not units.is_unit_code("nope")
    assert units.is_group_code("group:streets")
    assert not units.is_group_code("justice")


def test_units_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        units.get_unit("justice").name = "x"  # type: ignore[misc]


# --- validation of registry data ----------------------------------------------------------


def _data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "units": [
            {"code": "justice", "name": "区司法局", "aliases": ["司法局"]},
            {"code": "audit", "name": "区审计局"},
        ],
        "groups": [{"code": "group:all", "name": "全部", "members": ["justice", "audit"]}],
    }
    data.update(overrides)
    return data


def test_registry_from_mapping_builds_units_and_groups() -> None:
    registry = Registry.from_mapping(_data())
    assert [u.code for u in registry.all_units()] == ["audit", "justice"]
    assert registry.resolve("全部") == {"justice", "audit"}
    assert registry.get_unit("group:all").members == ("audit", "justice")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "JSON object"),
        (_data(units="x"), "'units' must be a list"),
        (_data(units=["x"]), "JSON object"),
        (_data(units=[{"code": "a"}]), "'code' and 'name'"),
        (_data(units=[{"code": "a", "name": "甲", "aliases": [1]}]), "list of strings"),
        (_data(units=[{"code": "Bad_Code", "name": "甲"}]), "bad unit code"),
        (_data(units=[{"code": "a", "name": " "}], groups=[]), "empty name"),
        (_data(groups=[{"code": "all", "name": "全部", "members": ["justice"]}]), "bad group"),
        (
            _data(units=[{"code": "a", "name": "甲"}, {"code": "a", "name": "乙"}], groups=[]),
            "duplicate code",
        ),
        (
            _data(
                units=[{"code": "a", "name": "甲"}, {"code": "b", "name": "乙", "aliases": ["甲"]}]
            ),
            "already used",
        ),
        (_data(units=[{"code": "a", "name": "甲", "members": ["a"]}], groups=[]), "cannot have"),
        (_data(groups=[{"code": "group:none", "name": "无", "members": []}]), "no members"),
        (_data(groups=[{"code": "group:x", "name": "某", "members": ["ghost"]}]), "ghost"),
        (
            _data(
                groups=[
                    {"code": "group:a", "name": "甲组", "members": ["justice"]},
                    {"code": "group:b", "name": "乙组", "members": ["group:a"]},
                ]
            ),
            "not a concrete unit",
        ),
    ],
)
def test_registry_rejects_malformed_data(data: object, message: str) -> None:
    with pytest.raises(UnitRegistryError, match=message):
        Registry.from_mapping(data)
