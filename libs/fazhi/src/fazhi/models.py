"""Payload pieces shared by the services' event models."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from fazhi.redaction import Party
from fazhi.units import is_unit_code


def _known_unit(code: str) -> str:
    if not is_unit_code(code):
        raise ValueError(f"unknown unit code {code!r}; see GET /v1/units")
    return code


UnitCode = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_unit)
]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(max_length=200_000)]


class Payload(BaseModel):
    """Base of every event's `data`: unknown fields are refused so a typo is caught at the door."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Applicant(Payload):
    """A person or organisation applying: personal data, stored but never published or logged."""

    name: ShortText
    kind: str = Field(default="person", pattern="^(person|organisation)$")
    id_number: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=500)

    def party(self) -> Party:
        """The applicant as a known party, so redaction removes their name, numbers and address."""
        return Party(
            name=self.name,
            kind="organisation" if self.kind == "organisation" else "person",
            id_number=self.id_number,
            phone=self.phone,
            address=self.address,
        )
