"""E-mail addresses as the unit's settings hold them: checked once, at load and on save, so nothing odd ever
reaches a `To:` header. No control, format (bidi) or separator characters, one `@`, an ASCII user part; a
Chinese domain (例子.中国) is written in its ASCII form (IDNA 2008, through the `idna` package)."""

from __future__ import annotations

import re
import unicodedata

import idna

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


class AddressError(ValueError):
    """Why an address cannot be used, in one Chinese line (without the address itself)."""


def visible(text: str) -> str:
    """The address as a message may show it: control and format characters written as \\x1b, \\u202e."""
    return "".join(ch if unicodedata.category(ch)[0] not in "CZ" or ch == " " else
                   (f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}") for ch in text)


def normal_address(address: str) -> str:
    """The address to store and send to, or AddressError. Blank stays blank. Full-width ＠ and dots typed by
    a Chinese input method are taken as @ and ."""
    text = str(address or "").strip(" \t")
    if not text:
        return ""
    bad = [ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
           or ch in "\r\n\x00\x1b"]
    if bad:
        raise AddressError(f"含有不可见的控制字符（{visible(''.join(dict.fromkeys(bad)))}），请删除后重新填写")
    text = text.replace("＠", "@").replace("。", ".").replace("．", ".")
    if any(ch.isspace() for ch in text) or any(ch in text for ch in "<>\"(),;:[]\\"):
        raise AddressError("不能含有空格、引号、尖括号、逗号等字符，每个部门只填一个邮箱")
    if text.count("@") != 1:
        raise AddressError("应含有一个 @，如 name@example.com")
    local, domain = text.split("@")
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise AddressError("@ 前的用户名只能用英文字母、数字和 . _ - + 等符号，如 name@example.com")
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii") if not domain.isascii() else domain.lower()
    except idna.IDNAError:
        raise AddressError(f"域名“{domain}”无法转换为邮件系统使用的形式，请核对") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or len(ascii_domain) > 253:
        raise AddressError("@ 后的域名不对，应如 example.com")
    return f"{local}@{ascii_domain}"
