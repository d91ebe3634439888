"""Payer policies: shipped files load, plans resolve, bad files give located errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rehabill.errors import ConfigError
from rehabill.rules import CATALOG, enabled_rules
from rehabill.rules.policy import (
    DEFAULT_POLICY,
    check_rule_codes,
    parse_policy,
    shipped_policies,
    with_override,
)

GOOD = """
name = "acme"
[units]
method = "per-code"
[filing]
days = 90
"""


def test_shipped_policies__load_and_resolve_plans() -> None:
    book = shipped_policies()
    medicare, fallback = book.for_plan("Medicare_Part_B")
    assert (medicare.name, fallback) == ("medicare_part_b", False)
    assert medicare.unit_method == "cms" and medicare.timely_filing_months == 12
    assert medicare.kx_threshold and medicare.assistant_modifiers and not medicare.slpa_billable
    assert book.for_plan("lonestar_ppo")[0].percent_of_fee_schedule == Decimal("120")


def test_shipped_policies__unknown_plan_falls_back_to_default() -> None:
    policy, fallback = shipped_policies().for_plan("no_such_plan")
    assert (policy.name, fallback) == (DEFAULT_POLICY, True)


def test_shipped_policies__disable_only_known_rules() -> None:
    for policy in set(shipped_policies().by_plan.values()):
        check_rule_codes(policy, frozenset(CATALOG))


def test_override__serves_every_plan() -> None:
    custom = parse_policy(GOOD, "acme.toml")
    book = with_override(shipped_policies(), custom)
    assert book.for_plan("medicare_part_b") == (custom, False)


def test_parse_policy__defaults() -> None:
    policy = parse_policy(GOOD, "acme.toml")
    assert policy.plans == ("acme",)
    assert policy.unit_method == "per-code"
    assert policy.timely_filing_days == 90 and policy.timely_filing_months is None
    assert policy.units_per_day is None and policy.codes_not_covered == frozenset()


@pytest.mark.parametrize(("text", "location", "words"), [
    ("name = [", "acme.toml", "not valid TOML"),
    (GOOD.replace('"per-code"', '"minutes"'), "acme.toml: units.method", "not one of"),
    ("colour = 1\n" + GOOD, "acme.toml: colour", "unknown key"),
    (GOOD + "colour = 1\n", "acme.toml: filing.colour", "unknown key"),
    (GOOD + "[limits]\nunits_per_day = -2\n", "acme.toml: limits.units_per_day", "whole number"),
    (GOOD + "[limits]\nunit_per_day = 2\n", "acme.toml: limits.unit_per_day", "unknown key"),
    (GOOD + "[limits]\ncodes_not_covered = [1]\n", "acme.toml: limits.codes_not_covered",
     "strings"),
    (GOOD.replace("days = 90", "days = 90\nmonths = 12"), "acme.toml: filing", "exactly one"),
    (GOOD + "[fees]\npercent = \"lots\"\n", "acme.toml: fees.percent", "not a number"),
    (GOOD + "[fees]\npercent = 120\n", "acme.toml: fees.percent", "must be str"),
    ("modifiers = 3\n" + GOOD, "acme.toml: modifiers", "must be a table"),
    (GOOD + "[modifiers]\nkx_threshold = \"yes\"\n", "acme.toml: modifiers.kx_threshold",
     "must be bool"),
])
def test_parse_policy__bad_file_is_a_located_config_error(text: str, location: str,
                                                           words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_policy(text, "acme.toml")
    assert caught.value.location == location
    assert words in caught.value.message
    assert caught.value.exit_code == 2


def test_enabled_rules__unknown_disabled_code_is_located() -> None:
    policy = parse_policy(GOOD + "[rules]\ndisabled = [\"ncci.nope\"]\n", "acme.toml")
    with pytest.raises(ConfigError) as caught:
        enabled_rules(policy)
    assert caught.value.location == "acme.toml: rules.disabled"


def test_enabled_rules__leave_out_disabled_rules() -> None:
    policy = parse_policy(GOOD + "[rules]\ndisabled = [\"mue.units_exceeded\"]\n", "a.toml")
    codes = {r.code for r in enabled_rules(policy)}
    every = {r.code for r in enabled_rules(parse_policy(GOOD, "a.toml"))}
    assert "mue.units_exceeded" not in codes
    assert codes == every - {"mue.units_exceeded"}


def test_enabled_rules__leave_out_rules_the_policy_makes_moot() -> None:
    book = shipped_policies()
    medicare = {r.code for r in enabled_rules(book.by_plan["medicare_part_b"])}
    commercial = {r.code for r in enabled_rules(book.default)}
    assert "modifiers.kx_missing" in medicare and "modifiers.kx_missing" not in commercial
    assert "modifiers.assistant_not_adopted" in commercial
    assert "modifiers.assistant_not_adopted" not in medicare
