"""Port lists as typed, including absurd ones."""

import pytest

from scanner.errors import PortSpecError
from scanner.inputs import parse_ports


def test_a_port_list_pasted_thousands_of_times_is_refused():
    with pytest.raises(PortSpecError) as caught:
        parse_ports(",".join(["1-65535"] * 5000))
    assert caught.value.code == "ports.too_long"
    assert len(parse_ports(",".join(["1-65535"] * 100))) == 65535
