"""The settings an admin edits, checked at the edge: every message and public page shows them."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from crm.lib.schemas import Email, HttpLink, Schema, SingleLine

# A logo is shown small in a message header: 200 KB is plenty, and keeps messages light to load.
LOGO_MAX_BYTES = 200 * 1024
# A data URL of that many bytes in base64, with room for its prefix.
LOGO_MAX_CHARS = LOGO_MAX_BYTES * 4 // 3 + 100
# PNG and JPEG only: every mail client shows them, and neither can carry a script (SVG can).
LOGO_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
_DATA_URL = re.compile(r"^data:(image/(?:png|jpeg));base64,([A-Za-z0-9+/=\s]+)$")
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# WCAG 2.1 AA for normal text: the association's name and the buttons are white on the colour.
MIN_CONTRAST = 4.5


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def contrast_with_white(colour: str) -> float:
    """WCAG 2.1 contrast ratio of white text on `colour` (#rrggbb)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)
    return 1.05 / (luminance + 0.05)


def check_colour(value: str) -> str:
    if not HEX_COLOUR.match(value):
        raise ValueError("must be a colour written #rrggbb, for example #1d4ed8")
    ratio = contrast_with_white(value)
    if ratio < MIN_CONTRAST:
        raise ValueError(
            f"white text on {value} is hard to read (contrast {ratio:.1f}:1, at least {MIN_CONTRAST}:1 needed): "
            "choose a darker colour"
        )
    return value.lower()


def decode_logo(value: str) -> tuple[str, bytes]:
    """The media type and bytes of a logo sent as a data URL; a ValueError says what is wrong."""
    match = _DATA_URL.match(value)
    if not match:
        raise ValueError("must be a PNG or JPEG image (a data: URL in base64)")
    try:
        data = base64.b64decode("".join(match[2].split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("is not valid base64") from exc
    if len(data) > LOGO_MAX_BYTES:
        raise ValueError(f"is {len(data) // 1024} KB; at most {LOGO_MAX_BYTES // 1024} KB")
    media_type = match[1]
    if not data.startswith(LOGO_TYPES[media_type]):
        raise ValueError(f"is not a {media_type.split('/')[1].upper()} image")
    return media_type, data


def _check_logo(value: str) -> str:
    decode_logo(value)
    return value


BrandColour = Annotated[str, Field(min_length=7, max_length=7), AfterValidator(check_colour)]
LogoData = Annotated[str, Field(max_length=LOGO_MAX_CHARS), AfterValidator(_check_logo)]


class AssociationSettingsRead(Schema):
    name: str
    postal_address: str
    website: str
    sender_name: str
    sender_email: str
    reply_to: str = Field(description="Where answers go; empty: to the sender")
    brand_colour: str = Field(description="#rrggbb; white text on it stays readable")
    logo_url: str = Field(description="The uploaded logo as served to e-mails and pages; empty: none")
    version: int = Field(description="Raised by each save; 0 while the environment's defaults apply")


class AssociationSettingsUpdate(Schema):
    """Every field is given: the form shows them all. `logo` (a PNG or JPEG data URL) replaces the
    logo, `remove_logo` takes it away; neither keeps the current one."""

    name: SingleLine = Field(min_length=1, max_length=200)
    postal_address: SingleLine = Field(min_length=1, max_length=300)
    website: HttpLink
    sender_name: SingleLine = Field(min_length=1, max_length=200)
    sender_email: Email
    reply_to: Annotated[Email | None, BeforeValidator(lambda v: v or None)] = Field(
        default=None, description="Where answers go; null or absent: to the sender"
    )
    brand_colour: BrandColour
    logo: LogoData | None = Field(
        default=None, description=f"A PNG or JPEG image as a data: URL, at most {LOGO_MAX_BYTES // 1024} KB"
    )
    remove_logo: bool = False
