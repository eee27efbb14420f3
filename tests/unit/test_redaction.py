"""Unit and property tests of fazhi.rules.redaction."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fazhi.rules.redaction import (
    MARKERS,
    Party,
    Redacted,
    contains_personal_data,
    mask_for_log,
    numbers_in,
    phone_or_id_possible,
    pseudonym,
    redact,
)

PROPERTY = settings(max_examples=200, deadline=None)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def gb11643(first17: str) -> str:
    """The 18-digit resident ID with its GB 11643 check character."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# ---------------------------------------------------------------- pseudonyms


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三", "张某"),
        ("李小明", "李某某"),
        ("欧阳娜娜", "欧阳某某"),
        ("司马光", "司马某"),
        ("诸葛亮", "诸葛某"),
        ("上官婉儿", "上官某某"),
        ("夏侯惇", "夏侯某"),
        ("欧阳", "欧某"),  # two characters: a single surname and a given name
        ("  王五 ", "王某"),
        ("John Smith", "某某"),
        ("", "某某"),
    ],
)
def test_pseudonym(name: str, expected: str) -> None:
    assert pseudonym(name) == expected


def test_known_party_everywhere_and_only_pseudonym_in_replacements() -> None:
    text = "申请人张三不服。张三称其未收到通知，张三的代理人到场。"
    result = redact(text, [Party("张三")])
    assert result.text == "申请人张某不服。张某称其未收到通知，张某的代理人到场。"
    assert [r.kind for r in result.replacements] == ["name"] * 3
    for r in result.replacements:
        assert text[r.start : r.end] == "张三"
        assert r.replacement == "张某"


def test_same_surname_and_length_get_heavenly_stems_in_party_order() -> None:
    text = "张四与张三、李小明、李大明发生纠纷，张三先动手。"
    parties = [Party("张三"), Party("张四"), Party("李小明"), Party("李大明")]
    assert (
        redact(text, parties).text == "张某乙与张某甲、李某某甲、李某某乙发生纠纷，张某甲先动手。"
    )


def test_more_than_ten_namesakes_fall_back_to_numbers() -> None:
    given_names = "一二三四五六七八九十强"
    parties = [Party("王" + c) for c in given_names]
    result = redact("、".join(p.name for p in parties), parties)
    assert result.text.split("、") == [*("王某" + s for s in "甲乙丙丁戊己庚辛壬癸"), "王某11"]


def test_different_lengths_are_not_namesakes() -> None:
    assert redact("张三和张小三", [Party("张三"), Party("张小三")]).text == "张某和张某某"


def test_organisation_party_is_never_redacted_even_if_it_contains_a_person() -> None:
    parties = [Party("张三"), Party("张三餐饮店", kind="organisation")]
    assert redact("张三经营张三餐饮店。", parties).text == "张某经营张三餐饮店。"


def test_party_id_and_phone_in_any_recorded_format() -> None:
    party = Party("刘一", id_number="A1234567", phone="88123456")
    result = redact("刘一持证件A1234567，电话88123456。", [party])
    assert result.text == "刘某持证件[身份证号已隐去]，电话[电话已隐去]。"
    assert [r.kind for r in result.replacements] == ["name", "id_number", "phone"]


def test_blank_party_values_are_ignored() -> None:
    assert redact("本机关决定如下。", [Party(" "), Party("周一", phone="1")]).changed is False


# ---------------------------------------------------------------- names after role markers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("申请人：王五，男，汉族。", "申请人：王某，男，汉族。"),
        ("申请人:王五，", "申请人:王某，"),
        ("申请人 王五（", "申请人 王某（"),
        ("申请人王五不服被申请人作出的决定", "申请人王某不服被申请人作出的决定"),
        ("申请人李小明于2026年3月5日提出", "申请人李某某于2026年3月5日提出"),
        ("申请人王五与第三人赵六系邻居", "申请人王某与第三人赵某系邻居"),
        ("委托代理人赵六，陕西某某律师事务所律师。", "委托代理人赵某，陕西某某律师事务所律师。"),
        ("法定代表人：刘德华，总经理。", "法定代表人：刘某某，总经理。"),
        ("联系人：孙七（", "联系人：孙某（"),
        ("证人周八称：", "证人周某称："),
        ("原告陈永和，", "原告陈某某，"),
        ("信访人欧阳娜娜反映", "信访人欧阳某某反映"),
        ("当事人：张三、李四、王小五。", "当事人：张某、李某、王某某。"),
        ("被告王五明确表示同意", "被告王某明确表示同意"),
    ],
)
def test_unknown_names_after_person_markers(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "被告西安市碑林区人民政府",
        "被申请人西安市碑林区市场监督管理局作出",
        "被申请人张家堡街道办事处作出决定",
        "被告王府井百货有限公司",
        "原告李家村，",
        "第三人张记商行，",
        "申请人向本机关申请行政复议。",
        "申请人于法定期限内提出。",
        "申请人于2026年3月5日提出。",
        "当事人应当在三十日内履行。",
        "申请人申请，",
        "申请人陈述的事实",
        "申请人曾经向被申请人反映。",
        "申请人不服，",
        "申请人称：",
        "第三人张某，",
        "当事人双方自愿",
        "被告知权利义务",
        "申请人房屋被拆除",
        "申请人张",
    ],
)
def test_words_and_units_after_markers_survive(text: str) -> None:
    assert redact(text).text == text
    assert not contains_personal_data(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("代理人李明律师", "代理人李某律师"),
        ("委托代理人王小红律师", "委托代理人王某某律师"),
        ("联系人赵六主任", "联系人赵某主任"),
        ("联系人：赵六主任，电话", "联系人：赵某主任，电话"),
        ("第三人刘德华先生称", "第三人刘某某先生称"),
        ("信访人欧阳娜娜女士反映", "信访人欧阳某某女士反映"),
        ("申请人李四同志", "申请人李某同志"),
        ("证人周八警官到场", "证人周某警官到场"),
        ("被申请人孙七法官", "被申请人孙某法官"),
        ("第三人钱七检察官", "第三人钱某检察官"),
        ("联系人郑十所长", "联系人郑某所长"),
        ("联系人王小五局长", "联系人王某某局长"),
        ("联系人李明副局长", "联系人李某副局长"),
        ("联系人李明副主任", "联系人李某副主任"),
        ("联系人张伟科长", "联系人张某科长"),
        ("联系人陈永处长", "联系人陈某处长"),
        ("联系人马超队长", "联系人马某队长"),
        ("法定代表人：刘德华经理。", "法定代表人：刘某某经理。"),
        ("证人黄蓉老师称", "证人黄某老师称"),
        ("证人吴用医生称", "证人吴某医生称"),
        ("联系人杨帆书记", "联系人杨某书记"),
        ("联系人林立委员", "联系人林某委员"),
        ("当事人高明代表公司签字", "当事人高某代表公司签字"),
        ("申请人张三等三人", "申请人张某等三人"),
        ("代理人：李明律师、王五律师。", "代理人：李某律师、王某律师。"),
        ("当事人：张三、李四主任、王小五。", "当事人：张某、李某主任、王某某。"),
    ],
)
def test_title_after_a_name_is_not_part_of_it(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    ("text", "parties", "expected"),
    [
        ("张三律师到场。", ["张三"], "张某律师到场。"),
        ("代理人张三律师", ["张三"], "代理人张某律师"),
        ("联系人李小明主任称", ["李小明"], "联系人李某某主任称"),
        ("欧阳娜娜女士与王五副局长", ["欧阳娜娜", "王五"], "欧阳某某女士与王某副局长"),
    ],
)
def test_known_party_followed_by_a_title(text: str, parties: list[str], expected: str) -> None:
    assert redact(text, [Party(name) for name in parties]).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "代理人律师事务所",
        "委托代理人：陕西秦风律师事务所律师",
        "联系人王主任",
        "联系人：张先生，电话",
        "信访人欧阳先生反映",
        "证人李警官称",
        "联系人刘副局长",
        "代理人王某律师",
    ],
)
def test_title_alone_or_after_a_bare_surname_survives(text: str) -> None:
    assert redact(text).text == text


def test_name_found_after_marker_is_redacted_everywhere() -> None:
    text = "申请人王五，男。经查，王五于2026年提出申请，王五的请求不成立。"
    assert redact(text).text == "申请人王某，男。经查，王某于2026年提出申请，王某的请求不成立。"


def test_known_party_after_marker_bounds_the_name() -> None:
    # Without the party, 张三明 would be as good a guess as 张三.
    text = "申请人张三明知其事，"
    assert redact(text, [Party("张三")]).text == "申请人张某明知其事，"


def test_unknown_and_known_namesakes_are_told_apart() -> None:
    text = "申请人张三，第三人张四。"
    assert redact(text, [Party("张三")]).text == "申请人张某甲，第三人张某乙。"


def test_keep_preserves_names_and_numbers() -> None:
    text = "法定代表人：王建国，局长。咨询电话029-87654321，申请人李四电话029-87654322。"
    result = redact(text, keep=["王建国", "(029)87654321"])
    assert result.text == (
        "法定代表人：王建国，局长。咨询电话029-87654321，申请人李某电话[电话已隐去]。"
    )


def test_keep_preserves_an_office_mailbox_and_hotline() -> None:
    text = "来信请寄 BLSFJ@beilin.gov.cn，热线 +86 29 8765 4321；或 li@qq.com，029-87654322"
    result = redact(text, keep=["blsfj@beilin.gov.cn", "029-87654321"])
    assert result.text == (
        "来信请寄 BLSFJ@beilin.gov.cn，热线 +86 29 8765 4321；或 [邮箱已隐去]，[电话已隐去]"
    )
    assert redact("热线 +86 29 8765 4321").text == "热线 [电话已隐去]"
    assert redact("电话13912345678", keep=["+86 139 1234 5678"]).changed is False
    assert redact("电话13912345678", keep=["0086-139-1234-5678"]).changed is False


def test_keep_preserves_a_known_party() -> None:
    assert redact("王五到场", [Party("王五")], keep=["王五", " "]).text == "王五到场"


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (gb11643("61010319850302123"), "id_number"),
        ("61010319880712451X", "id_number"),
        ("61010319880712451x", "id_number"),
        ("610103198503021234", "id_number"),  # wrong checksum: still an ID
        ("610103199913451234", "id_number"),  # impossible date, not Luhn: still an ID
        ("610103 19850302 1239", "id_number"),
        ("６１０１０３１９８５０３０２１２３９", "id_number"),
        ("610103850302123", "id_number"),
        ("13912345678", "phone"),
        ("139-1234-5678", "phone"),
        ("139 1234 5678", "phone"),
        ("+86 139 1234 5678", "phone"),
        ("+8613912345678", "phone"),
        ("8613912345678", "phone"),
        ("0086 13912345678", "phone"),
        ("１３９１２３４５６７８", "phone"),
        ("029-88123456", "phone"),
        ("029 88123456", "phone"),
        ("02988123456", "phone"),
        ("(029)88123456", "phone"),
        ("（029）88123456", "phone"),
        ("010-62345678", "phone"),
        ("0917-2345678", "phone"),
        ("029-88123456-801", "phone"),
        ("029-88123456转801", "phone"),
        ("029-88123456 ext. 12", "phone"),
        ("0298812 3456", "phone"),
        ("+86 29 8812 3456", "phone"),
        ("+86-10-62345678", "phone"),
        ("0086 917 2345678", "phone"),
        ("+86 (29) 88123456", "phone"),
        ("6222 0212 3456 7890 123", "bank_card"),
        ("6222-0212-3456-7890", "bank_card"),
        ("6228480012345671", "bank_card"),
        ("62170012345678907", "bank_card"),
        ("6222021234567890128", "bank_card"),
        ("622202999912345675", "bank_card"),  # 18 digits, no birth date, Luhn
        ("zhang.san@example.com", "email"),
        ("Li_Si+portal@mail.beilin.gov.cn", "email"),
    ],
)
def test_number_kinds_in_chinese_text(value: str, kind: str) -> None:
    text = f"其号码为{value}，请核对。"
    result = redact(text)
    assert result.text == f"其号码为{MARKERS[kind]}，请核对。"  # type: ignore[index]
    assert [(r.kind, text[r.start : r.end]) for r in result.replacements] == [(kind, value)]


def test_digits_glued_to_chinese_text() -> None:
    text = "身份证号610103199001011234联系电话13912345678邮箱a@b.cn"
    assert redact(text).text == "身份证号[身份证号已隐去]联系电话[电话已隐去]邮箱[邮箱已隐去]"


def test_ungrouped_bank_card_needs_luhn_or_context() -> None:
    assert redact("文号6222021234567890123").text == "文号6222021234567890123"
    assert redact("卡号：6222021234567890123").text == "卡号：[银行卡号已隐去]"
    assert redact("开户行账号 6217001234567890").text == "开户行账号 [银行卡号已隐去]"


def test_fifteen_digit_registration_numbers_survive() -> None:
    # 15 digits without a YYMMDD birth date (month 00) are business registration numbers.
    assert redact("注册号610103100012345").changed is False
    assert redact("编号010103850302123").changed is False


@pytest.mark.parametrize(
    "text",
    [
        "西安市碑林区人民政府",
        "区司法局",
        "西安市某某有限公司",
        "2026年3月5日",
        "2026-03-05",
        "碑政复决字〔2026〕12号",
        "人民币5000元",
        "罚款人民币1234567.89元",
        "第六十四条第一款第（一）项",
        "第64条",
        "市民热线12345，报警110",
        "邮政编码710001",
        "2021—2025年",
        "统一社会信用代码91610103MA6U12345X",
        "12.5%",
        "17位流水号12345678901234567",
        "20位编号12345678901234567890",
        "时间09:30",
    ],
)
def test_ordinary_content_survives(text: str) -> None:
    assert redact(text).text == text


def test_overlap_prefers_longest_match() -> None:
    text = "电话：029-88123456-801。"
    (only,) = redact(text).replacements
    assert text[only.start : only.end] == "029-88123456-801"


def test_redacted_counts_and_replacements_never_hold_the_original() -> None:
    text = "申请人王五，电话13912345678，13812345678，邮箱w@x.cn"
    result = redact(text)
    assert result.counts() == {"name": 1, "phone": 2, "email": 1}
    assert result.changed
    originals = {text[r.start : r.end] for r in result.replacements}
    assert not originals & {r.replacement for r in result.replacements}
    assert redact("无").counts() == {}


def test_contains_personal_data() -> None:
    assert contains_personal_data("请拨打13912345678")
    assert contains_personal_data("张三到场", [Party("张三")])
    assert not contains_personal_data("张三到场")
    assert not contains_personal_data("碑政复决字〔2026〕12号")


# ---------------------------------------------------------------- mask_for_log


def test_mask_for_log() -> None:
    line = "id=610103198503021239 tel=+86 139-1234-5678 mail=zhang.san@example.com 申请人王五，"
    masked = mask_for_log(line)
    assert masked == (
        "id=****************** tel=+** ***-****-**** mail=z***@example.com 申请人王某，"
    )
    assert not contains_personal_data(masked)
    assert mask_for_log("order 42 shipped") == "order 42 shipped"
    assert mask_for_log("张三来电", [Party("张三")]) == "张某来电"
    assert mask_for_log("61010319880712451X") == "*" * 18
    assert mask_for_log("tel 029-88123456 ext. 12") == "tel ***-******** ext. **"


# ---------------------------------------------------------------- realistic documents

ID_ZHANG = gb11643("61010319850302123")
ID_ZHAO = gb11643("61010219900715002")
ID_QIAN = gb11643("61010319781103041")
ID_OUYANG = gb11643("61010419950101002")
ID_ZHANGWEI = gb11643("61010319880712451")

DECISION = f"""西安市碑林区人民政府
行政复议决定书
碑政复决字〔2026〕12号

申请人张三，男，1985年3月2日出生，身份证号码{ID_ZHANG}，住西安市碑林区东关南街88号，\
联系电话13991234567。
委托代理人李小明，陕西秦风律师事务所律师，联系电话029-87654321。
被申请人西安市碑林区市场监督管理局，住所地西安市碑林区南关正街1号。
法定代表人：王建国，局长。

申请人张三不服被申请人于2026年1月10日作出的碑市监处罚〔2026〕3号行政处罚决定，\
于2026年2月3日向本机关申请行政复议，本机关依法已予受理。
申请人请求：撤销被申请人作出的行政处罚决定。
申请人称：被申请人认定事实不清，罚款人民币5000元明显过重。
被申请人称：申请人张三经营的门店销售过期食品，事实清楚。
本机关认为：依照《中华人民共和国行政复议法》第六十八条的规定，本机关决定如下：
维持被申请人作出的碑市监处罚〔2026〕3号行政处罚决定。
申请人如不服本决定，可以自收到本决定书之日起十五日内向西安铁路运输法院提起行政诉讼。

2026年3月5日
"""

AGREEMENT = f"""人民调解协议书
碑林区东关街道人民调解委员会
编号：东调〔2026〕第27号

当事人：赵六，女，1990年7月15日出生，身份证号码{ID_ZHAO}，住西安市碑林区建国路12号，\
联系电话139-2345-6789。
当事人：钱七，男，1978年11月3日出生，身份证号码{ID_QIAN}，联系电话：（029）88765432。
当事人：欧阳娜娜，女，1995年1月1日出生，身份证号码{ID_OUYANG}，手机+86 158 0291 3456。

纠纷简要情况：赵六与钱七系楼上楼下邻居，因钱七家卫生间漏水致赵六家天花板受损发生纠纷。
经调解，自愿达成如下协议：
一、钱七于2026年3月20日前一次性赔偿赵六维修费用人民币3000元，\
转入赵六银行卡（卡号6222 0212 3456 7890 123）。
二、欧阳娜娜作为见证人，确认上述事实。
本协议一式三份，自各方当事人签字之日起生效。
当事人（签名）：赵六 钱七 欧阳娜娜
2026年3月10日
"""

OPINION = f"""信访事项处理意见书
碑信处〔2026〕8号
张伟、张军：
你们于2026年2月14日反映的西安市碑林区某某有限公司拖欠工资问题收悉。\
张伟（身份证号码{ID_ZHANGWEI}，联系电话13700001111，电子邮箱zhangwei88@163.com）\
与张军（联系电话029-85551234转8）称，该公司拖欠工资人民币42000元。
本机关已转西安市碑林区人力资源和社会保障局依法处理。
"""


def test_reconsideration_decision_public_version() -> None:
    parties = [
        Party("张三", id_number=ID_ZHANG, phone="13991234567"),
        Party("西安市碑林区市场监督管理局", kind="organisation"),
    ]
    public = redact(DECISION, parties)
    text = public.text
    for gone in ("张三", ID_ZHANG, "13991234567", "029-87654321", "李小明", "王建国"):
        assert gone not in text
    for kept in (
        "申请人张某，男，1985年3月2日出生，身份证号码[身份证号已隐去]",
        "联系电话[电话已隐去]",
        "委托代理人李某某，陕西秦风律师事务所律师",
        "被申请人西安市碑林区市场监督管理局，住所地西安市碑林区南关正街1号",
        "法定代表人：王某某，局长",
        "碑政复决字〔2026〕12号",
        "碑市监处罚〔2026〕3号",
        "于2026年1月10日",
        "人民币5000元",
        "第六十八条",
        "申请人张某经营的门店",
        "西安铁路运输法院",
        "2026年3月5日",
    ):
        assert kept in text
    assert public.counts() == {"name": 5, "id_number": 1, "phone": 2}
    assert not contains_personal_data(text, parties)
    # The official who signs can be kept on purpose.
    assert "王建国" in redact(DECISION, parties, keep=["王建国"]).text


def test_mediation_agreement_without_parties() -> None:
    text = redact(AGREEMENT).text
    for gone in ("赵六", "钱七", "欧阳娜娜", ID_ZHAO, ID_QIAN, ID_OUYANG, "2345", "88765432"):
        assert gone not in text
    assert "0291 3456" not in text
    assert "6222" not in text
    for kept in (
        "碑林区东关街道人民调解委员会",
        "东调〔2026〕第27号",
        "当事人：赵某，女，1990年7月15日出生",
        "当事人：钱某，男",
        "当事人：欧阳某某，女",
        "赵某与钱某系楼上楼下邻居，因钱某家卫生间漏水致赵某家天花板受损",
        "人民币3000元",
        "（卡号[银行卡号已隐去]）",
        "当事人（签名）：赵某 钱某 欧阳某某",
        "2026年3月10日",
    ):
        assert kept in text


def test_petition_opinion_namesakes() -> None:
    parties = [Party("张伟", id_number=ID_ZHANGWEI), Party("张军", phone="029-85551234")]
    text = redact(OPINION, parties).text
    assert text.startswith("信访事项处理意见书\n碑信处〔2026〕8号\n张某甲、张某乙：\n")
    for gone in ("张伟", "张军", ID_ZHANGWEI, "13700001111", "zhangwei88", "85551234"):
        assert gone not in text
    for kept in ("西安市碑林区某某有限公司", "人民币42000元", "西安市碑林区人力资源和社会保障局"):
        assert kept in text


def test_redacted_is_frozen() -> None:
    result = redact("无")
    assert isinstance(result, Redacted)
    with pytest.raises(AttributeError):
        result.text = "x"  # type: ignore[misc]


# ---------------------------------------------------------------- properties

SENTENCES = (
    "经审查，被申请人西安市碑林区市场监督管理局于2026年3月5日作出行政处罚决定。",
    "本机关依照《中华人民共和国行政复议法》第六十八条之规定，决定维持。",
    "双方当事人自愿达成如下调解协议，并于签字之日起生效。",
    "联系地址：西安市碑林区东大街1号，邮政编码710001。",
    "如不服本决定，可以自收到本决定书之日起十五日内向人民法院提起行政诉讼。",
    "碑政复决字〔2026〕12号",
    "信访人反映的问题已转区人力资源和社会保障局依法处理",
)

REGIONS = ("610103", "610102", "610104", "110101", "310115", "440305", "510104", "820000")
AREA_CODES = ("010", "021", "029", "0917", "0755", "0371")


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    born = draw(st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2025, 12, 31)))
    seq = draw(st.integers(0, 999))
    value = gb11643(f"{region}{born:%Y%m%d}{seq:03d}")
    return value.lower() if draw(st.booleans()) else value


@st.composite
def old_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    born = draw(st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(1999, 12, 31)))
    return f"{region}{born:%y%m%d}{draw(st.integers(0, 999)):03d}"


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    number = (
        "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    )
    sep = draw(st.sampled_from(["", " ", "-"]))
    formatted = f"{number[:3]}{sep}{number[3:7]}{sep}{number[7:]}"
    prefix = draw(st.sampled_from(["", "+86 ", "+86", "86", "0086 "]))
    return prefix + formatted


@st.composite
def landlines(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(AREA_CODES))
    size = 8 if len(area) == 3 else draw(st.sampled_from([7, 8]))
    local = draw(st.sampled_from("23456789")) + draw(
        st.text("0123456789", min_size=size - 1, max_size=size - 1)
    )
    style = draw(st.sampled_from(["{a}-{n}", "({a}){n}", "（{a}）{n}", "{a} {n}", "{a}{n}"]))
    ext = draw(st.sampled_from(["", "-801", "转12"]))
    return style.format(a=area, n=local) + ext


def _insertion_points(sentence: str) -> list[int]:
    # Gluing the value to a digit or a latin letter would make a different, longer number.
    return [
        i
        for i in range(len(sentence) + 1)
        if (i == 0 or not sentence[i - 1].isascii() or not sentence[i - 1].isalnum())
        and (i == len(sentence) or not sentence[i].isascii() or not sentence[i].isalnum())
    ]


@PROPERTY
@given(
    value=st.one_of(resident_ids(), old_ids(), mobiles(), landlines()),
    sentence=st.sampled_from(SENTENCES),
    data=st.data(),
)
def test_numbers_never_survive_and_context_does(
    value: str, sentence: str, data: st.DataObject
) -> None:
    at = data.draw(st.sampled_from(_insertion_points(sentence)))
    text = sentence[:at] + value + sentence[at:]
    out = redact(text).text
    assert value not in out
    assert digits(value) not in digits(out)
    assert out.startswith(sentence[:at])
    assert out.endswith(sentence[at:])


@PROPERTY
@given(
    values=st.lists(st.one_of(resident_ids(), old_ids(), mobiles(), landlines()), max_size=4),
    sentences=st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=4),
)
def test_several_numbers_in_a_document(values: list[str], sentences: list[str]) -> None:
    text = "".join(s + v + "，" for s, v in zip(sentences, values, strict=False)) + "。".join(
        sentences
    )
    out = redact(text).text
    for value in values:
        assert digits(value) not in digits(out)
    for sentence in sentences:
        assert sentence in out


NOISY = st.lists(
    st.sampled_from(
        [
            *"0123456789Xx +-()（）@._申请人被告张三李某王五欧阳娜娜，。：、局公司于向不服称与",
            *("转", " ext.", "a", "cn", ".com", "８", "６", "138", "0000", "029", "+86"),
            *("\u200b", "\u2060", "١", "۳", "·", "—", "\u3000", "×"),
        ]
    ),
    max_size=40,
).map("".join)


def with_a_number(before: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`before`, then a personal number of any kind, then noise."""
    numbers = st.one_of(resident_ids(), old_ids(), mobiles(), landlines())
    return st.builds(lambda s, v, t: s + v + t, before, numbers, NOISY)


@PROPERTY
@given(
    text=st.one_of(NOISY, with_a_number(st.sampled_from(SENTENCES))),
    with_parties=st.booleans(),
)
def test_redact_is_idempotent(text: str, with_parties: bool) -> None:
    parties = [Party("张三"), Party("欧阳娜娜", phone="13912345678")] if with_parties else []
    once = redact(text, parties)
    twice = redact(once.text, parties)
    assert twice.text == once.text
    assert twice.replacements == ()
    assert contains_personal_data(text, parties) == once.changed


@PROPERTY
@given(text=NOISY)
def test_replacement_spans_rebuild_the_output(text: str) -> None:
    result = redact(text)
    rebuilt, last = [], 0
    for r in result.replacements:
        assert last <= r.start < r.end <= len(text)
        rebuilt += [text[last : r.start], r.replacement]
        last = r.end
    rebuilt.append(text[last:])
    assert "".join(rebuilt) == result.text


# ---------------------------------------------------------------- numbers written to slip past

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\ufe0f")
SEPARATORS = (" ", ".", "-", " - ", "\u3000", "\u00a0", "\u2014", "\uff0d", "\u00b7", "\uff0e")
DIGIT_ZEROS = {
    "ascii": 0x30,
    "full-width": 0xFF10,
    "arabic-indic": 0x0660,
    "extended arabic-indic": 0x06F0,
}


def plain_digits(text: str) -> str:
    """The digits of ``text`` as ASCII, whatever script they were written in."""
    return "".join(str(int(c)) if c.isdecimal() else c for c in text if c.isdecimal() or c in "Xx")


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("138.0013.8000", "phone"),
        ("138 0013 8000", "phone"),
        ("138-0013-8000", "phone"),
        ("138 - 0013 - 8000", "phone"),
        ("1380 013 8000", "phone"),
        ("1 3 8 0 0 1 3 8 0 0 0", "phone"),
        ("138\u200b0013\u200b8000", "phone"),
        ("1\u200b3\u200c8\u200d0\u20600\ufeff1\u00ad38000", "phone"),
        ("١٣٨٠٠١٣٨٠٠٠", "phone"),
        ("۱۳۸۰۰۱۳۸۰۰۰", "phone"),
        ("１３８．００１３．８０００", "phone"),
        ("１３８\u3000００１３\u3000８０００", "phone"),
        ("138\u20140013\u20148000", "phone"),
        ("+86 138.0013.8000", "phone"),
        ("029.8812.3456", "phone"),
        ("029-8812-3456", "phone"),
        ("٠٢٩-٨٨١٢٣٤٥٦", "phone"),
        ("610103.19850302.1234", "id_number"),
        ("610103-1985-0302-123X", "id_number"),
        ("6101 0319 8503 0212 3X", "id_number"),
        ("610103\u200b19850302\u200b123x", "id_number"),
        ("٦١٠١٠٣١٩٨٥٠٣٠٢١٢٣٤", "id_number"),
        ("61010319850302123Ｘ", "id_number"),
        ("61010319850302123×", "id_number"),
        ("610 103 850 302 123", "id_number"),
    ],
)
def test_numbers_written_to_slip_past(value: str, kind: str) -> None:
    text = f"其号码为{value}，请核对。"
    result = redact(text)
    assert result.text == f"其号码为{MARKERS[kind]}，请核对。"  # type: ignore[index]
    assert [(r.kind, text[r.start : r.end]) for r in result.replacements] == [(kind, value)]
    assert plain_digits(value) not in plain_digits(mask_for_log(text))


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-05 2026-03-06 2026-03-07",
        "2026.03.05—2026.04.05",
        "第1.2.3条",
        "共计 1234 5678 元",
        "罚款人民币 138 元",
    ],
)
def test_separated_ordinary_numbers_survive(text: str) -> None:
    assert redact(text).text == text


def test_a_name_broken_by_a_zero_width_space_is_still_a_name() -> None:
    assert redact("申请人张\u200b三不服").text == "申请人张某不服"
    assert redact("张\u200b三到场，张三签字", [Party("张三")]).text == "张某到场，张某签字"


def test_spans_point_into_the_original_text() -> None:
    text = "电话1\u200b3800138000，申请人王\u200b五"
    result = redact(text)
    assert result.text == "电话[电话已隐去]，申请人王某"
    assert [text[r.start : r.end] for r in result.replacements] == [
        "1\u200b3800138000",
        "王\u200b五",
    ]


# ---------------------------------------------------------------- the known party's address

ADDRESS = "陕西省西安市碑林区东关南街88号3单元"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"申请人张三，住{ADDRESS}。", "申请人张某，住[地址已隐去]。"),
        ("申请人住西安市碑林区东关南街88号3单元。", "申请人住[地址已隐去]。"),
        ("申请人住碑林区东关南街88号3单元。", "申请人住[地址已隐去]。"),
        ("申请人住东关南街88号3单元。", "申请人住[地址已隐去]。"),
        ("申请人住东关南街８８号３单元。", "申请人住[地址已隐去]。"),
        ("申请人住东关南街88\u200b号3单元。", "申请人住[地址已隐去]。"),
        ("向西安市碑林区人民政府申请", "向西安市碑林区人民政府申请"),
        ("陕西省西安市碑林区", "陕西省西安市碑林区"),
    ],
)
def test_the_known_partys_address_is_removed_whole_or_without_its_areas(
    text: str, expected: str
) -> None:
    assert redact(text, [Party("张三", address=ADDRESS)]).text == expected


def test_an_address_naming_only_an_area_is_no_ones_address() -> None:
    party = Party("张三", address="西安市碑林区")
    assert redact("西安市碑林区人民政府", [party]).text == "西安市碑林区人民政府"


def test_mask_for_log_hides_the_address() -> None:
    party = Party("张三", address=ADDRESS)
    assert mask_for_log(f"张三 {ADDRESS}", [party]) == "张某 [地址已隐去]"


# Hypothesis: every ID number and phone, however it is written, is gone.


def _digit(draw: st.DrawFn, ch: str, script: str | None) -> str:
    if not ch.isdigit():
        return draw(st.sampled_from(["X", "x", "Ｘ", "ｘ"])) if ch in "Xx" else ch
    zero = DIGIT_ZEROS[script or draw(st.sampled_from(sorted(DIGIT_ZEROS)))]
    return chr(zero + int(ch))


@st.composite
def written(draw: st.DrawFn, digits: str, breakable_from: int = 1) -> str:
    """``digits`` as someone might write them to get past a filter: in one or several scripts,
    with separators between digits (from ``breakable_from`` on) and invisible characters."""
    script = draw(st.one_of(st.none(), st.sampled_from(sorted(DIGIT_ZEROS))))
    out = []
    for i, ch in enumerate(digits):
        if i:
            gap = st.sampled_from(ZERO_WIDTH)
            if i >= breakable_from:
                gap = st.one_of(gap, st.sampled_from(SEPARATORS))
            out.append(draw(st.one_of(st.just(""), gap)))
        out.append(_digit(draw, ch, script))
    return "".join(out)


@st.composite
def written_ids(draw: st.DrawFn) -> str:
    return draw(written(draw(st.one_of(resident_ids(), old_ids()))))


@st.composite
def written_mobiles(draw: st.DrawFn) -> str:
    number = (
        "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    )
    prefix = draw(st.sampled_from(["", "+86 ", "+86", "86", "0086 ", "0086-"]))
    return prefix + draw(written(number))


@st.composite
def written_landlines(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(AREA_CODES))
    size = 8 if len(area) == 3 else draw(st.sampled_from([7, 8]))
    local = draw(st.sampled_from("23456789")) + draw(
        st.text("0123456789", min_size=size - 1, max_size=size - 1)
    )
    # The area code is written whole; the local number may be broken anywhere.
    sep = draw(st.sampled_from(["", "-", " ", "."]))
    return draw(written(area + sep + local, breakable_from=len(area) + len(sep) + 1))


WRITTEN_NUMBERS = st.one_of(written_ids(), written_mobiles(), written_landlines())


@PROPERTY
@given(value=WRITTEN_NUMBERS, sentence=st.sampled_from(SENTENCES), data=st.data())
def test_numbers_never_survive_however_written(
    value: str, sentence: str, data: st.DataObject
) -> None:
    at = data.draw(st.sampled_from(_insertion_points(sentence)))
    text = sentence[:at] + value + sentence[at:]
    result = redact(text)
    assert value not in result.text
    assert plain_digits(value) not in plain_digits(result.text)
    assert result.text.startswith(sentence[:at])
    assert result.text.endswith(sentence[at:])
    assert plain_digits(value) not in plain_digits(mask_for_log(text))
    assert redact(result.text).text == result.text


@PROPERTY
@given(
    values=st.lists(WRITTEN_NUMBERS, min_size=1, max_size=4),
    sentences=st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=4),
)
def test_several_numbers_however_written(values: list[str], sentences: list[str]) -> None:
    text = "".join(s + v + "，" for s, v in zip(sentences, values, strict=False)) + "。".join(
        sentences
    )
    out = redact(text).text
    for value in values:
        assert plain_digits(value) not in plain_digits(out)
    for sentence in sentences:
        assert sentence in out


@PROPERTY
@given(text=st.one_of(NOISY, with_a_number(NOISY)))
def test_the_quick_look_never_misses_a_phone_or_id_number(text: str) -> None:
    # `phone_or_id_possible` spares the full search (ids of every event are looked at): it may
    # say yes to what holds none, never no to what holds one.
    if numbers_in(text) & {"id_number", "phone"}:
        assert phone_or_id_possible(text)


@pytest.mark.parametrize(
    ("text", "possible"),
    [
        ("C-13991234567", True),
        ("case-(029) 8812-3456", True),
        ("+86 138 0013 8000", True),
        ("６１０１０３１９８５０３０２１２３Ｘ", True),
        ("bench-5f3a9c1d-0000123", False),  # 12 digits, but never 10 in one number's shape
        ("2026-11-27-001", True),  # ten digits in a row of separators: searched in full
        ("T-2026-001/M3", False),
    ],
)
def test_the_quick_look_rules_out_what_no_number_is_written_as(text: str, possible: bool) -> None:
    assert phone_or_id_possible(text) is possible
