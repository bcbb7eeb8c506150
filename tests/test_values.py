"""Values as people type them (contract section 2)."""

import datetime as dt

import pytest

from pipeline.intake.values import (INVALID, clean_text, parse_date, parse_in_service, parse_number, parse_percent,
                             parse_satisfaction, parse_standard_codes, parse_yesno)


@pytest.mark.parametrize("text", ["是", "√", "Y", "y", "yes", "有", "1", 1, " 是 ", "YES"])
def test_yes_spellings(text):
    assert parse_yesno(text) is True


@pytest.mark.parametrize("text", ["否", "×", "N", "n", "no", "无", "0", 0, "  否"])
def test_no_spellings(text):
    assert parse_yesno(text) is False


def test_blank_yes_no_is_not_yes_and_unknown_is_invalid():
    assert parse_yesno(None) is None and parse_yesno("  ") is None
    assert parse_yesno("也许") is INVALID


def test_in_service_blank_means_yes():
    assert parse_in_service(None) is True
    assert parse_in_service("退休") is False and parse_in_service("否") is False


@pytest.mark.parametrize("value", [dt.datetime(2024, 3, 5), dt.date(2024, 3, 5), 45356, "45356", "2024.3.5",
                                   "2024-03-05", "2024/3/5", "2024年3月5日", "20240305", "2024-03-05 00:00:00",
                                   "２０２４年３月５日"])
def test_date_forms(value):
    assert parse_date(value) == dt.date(2024, 3, 5)


@pytest.mark.parametrize("value", ["2024-02-30", "昨天", "3/5", True])
def test_bad_dates_are_invalid(value):
    assert parse_date(value) is INVALID


@pytest.mark.parametrize("value,expected", [(12, 12.0), ("12", 12.0), ("12.0", 12.0), ("12人", 12.0),
                                            ("１２", 12.0), ("3 小时", 3.0), ("25人次", 25.0)])
def test_numbers(value, expected):
    assert parse_number(value) == expected


def test_bad_numbers():
    assert parse_number("十二") is INVALID and parse_number(-1) is INVALID and parse_number(None) is None


def test_percentages():
    assert parse_percent("95%") == pytest.approx(0.95) and parse_percent(0.95) == pytest.approx(0.95)


def test_standard_code_or_label():
    assert parse_standard_codes("3.2.2") == ("3.2.2",)
    assert parse_standard_codes("3.2.2 开展常态化学雷锋志愿服务活动，注册志愿者…") == ("3.2.2",)
    assert parse_standard_codes("3.2.2、3.2.3") == ("3.2.2", "3.2.3")
    assert parse_standard_codes("志愿服务") is INVALID


def test_satisfaction_values():
    assert parse_satisfaction("满意") == "满意" and parse_satisfaction("基本满意 ") == "基本满意"
    assert parse_satisfaction("很好") is INVALID and parse_satisfaction(None) is None


def test_clean_text_strips_control_characters_and_excel_escapes():
    assert clean_text("a\x0bb_x000B_c") == "abc"
    assert clean_text(12.0) == "12"
