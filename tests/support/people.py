"""Realistic made-up people for tests that must find (or not find) personal data: names of the
common surnames and given-name characters, resident ID numbers with a valid GB 11643 check
character and a real birth date, mobiles and Xi'an landlines, addresses in Beilin district."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "慕容")
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超霞平刚桂华玉萍鹏辉建志晓东海燕红亮鑫宇浩凯婷雪琳"
    "晨子轩梓涵欣怡思远嘉豪俊熙瑞雨佳雯博文昊然若曦承泽沐辰语嫣铭锦程瀚清"
)
REGIONS = ("610103", "610102", "610104", "610113", "610111", "610112", "610116", "610124")
STREETS = ("长安路", "南大街", "文艺路", "东关正街", "太乙路", "友谊东路", "建设路", "和平路")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_character(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    phone: str
    landline: str
    address: str

    @property
    def phone_written(self) -> str:
        """The mobile as people write it in a text: 139-9123-4567."""
        return f"{self.phone[:3]}-{self.phone[3:7]}-{self.phone[7:]}"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every form of this person's data a test searches for."""
        return (
            self.name,
            self.id_number,
            self.phone,
            self.phone_written,
            self.landline,
            self.landline.replace("-", ""),
            self.address,
        )

    def applicant(self) -> dict[str, str]:
        return {
            "name": self.name,
            "id_number": self.id_number,
            "phone": self.phone,
            "address": self.address,
        }


class People:
    """Distinct people from a seeded generator: no name or number twice."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seen: set[str] = set()

    def _name(self) -> str:
        rng = self.rng
        surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.08 else rng.choice(SURNAMES)
        return surname + "".join(rng.choice(GIVEN) for _ in range(2))

    def person(self) -> Person:
        rng = self.rng
        while True:
            name = self._name()
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
            first17 = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
            id_number = first17 + check_character(first17)
            phone = "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))
            landline = f"029-8{rng.randrange(10**6, 10**7)}"
            if not {name, id_number, phone, landline} & self.seen:
                break
        self.seen |= {name, id_number, phone, landline}
        address = (
            f"陕西省西安市碑林区{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
            f"{rng.randrange(1, 30)}栋{rng.randrange(1, 6)}单元{rng.randrange(101, 2800)}室"
        )
        return Person(name, id_number, phone, landline, address)
