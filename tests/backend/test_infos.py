"""The typed builders of ``backend/infos.py``: what they send, and the bad values they refuse
before anything is sent."""

from __future__ import annotations

import math

import pytest

from quri_parts_oqtopus.backend.infos import (
    MitigationInfo,
    mitigation_info,
    readout_mitigation,
    zne,
)


def test_readout_mitigation_builds_todays_schema_for_each_known_method() -> None:
    assert readout_mitigation() == {"readout": {"method": "pseudo_inverse"}}
    assert readout_mitigation("mthree") == {"readout": {"method": "mthree"}}
    assert readout_mitigation("local") == {"readout": {"method": "local"}}


def test_zne_defaults_are_the_services() -> None:
    assert zne() == {
        "zne": {
            "params": {
                "scale_factors": [1.0, 2.0, 3.0],
                "factory": "richardson",
                "folding": "global",
                "num_to_average": 1,
            }
        }
    }


def test_zne_takes_every_parameter() -> None:
    built = zne(scale_factors=(1, 3, 5), factory="poly", folding="random", num_to_average=2,
                poly_order=2)  # fmt: skip
    assert built["zne"]["params"] == {
        "scale_factors": [1.0, 3.0, 5.0],
        "factory": "poly",
        "folding": "random",
        "num_to_average": 2,
        "poly_order": 2,
    }


def test_builders_compose_with_the_legacy_key() -> None:
    both: MitigationInfo = {**mitigation_info(), **readout_mitigation(), **zne(factory="linear")}
    assert both["ro_error_mitigation"] == "pseudo_inverse"
    assert both["readout"] == {"method": "pseudo_inverse"}
    assert both["zne"]["params"]["factory"] == "linear"


def test_an_unknown_readout_method_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"readout method should be one of .*: 'twirl'"):
        readout_mitigation("twirl")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"factory": "exp"},
            "zne factory should be one of ['richardson', 'linear', 'poly']: 'exp'",
        ),
        ({"folding": "left"}, "zne folding should be one of ['global', 'random']: 'left'"),
        ({"scale_factors": [1.0]}, "at least two distinct scale factors: [1.0]"),
        ({"scale_factors": [1.0, 1.0]}, "at least two distinct scale factors: [1.0, 1.0]"),
        ({"scale_factors": [1.0, -2.0]}, "positive finite numbers: -2.0"),
        ({"scale_factors": [1.0, math.inf]}, "positive finite numbers: inf"),
        ({"scale_factors": [1.0, "3"]}, "positive finite numbers: '3'"),
        ({"num_to_average": 0}, "num_to_average should be an integer >= 1: 0"),
        ({"num_to_average": True}, "num_to_average should be an integer >= 1: True"),
        ({"poly_order": 3}, "poly_order should be an integer from 1 to 2 (one less"),
        ({"poly_order": 0}, "poly_order should be an integer from 1 to 2"),
    ],
)
def test_a_bad_zne_parameter_is_refused_naming_the_value(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        zne(**kwargs)  # type: ignore[arg-type]
    assert message in str(raised.value)
