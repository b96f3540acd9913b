"""The prefix table's longest-prefix match, checked against a brute-force search."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from certhub.directory.lookup.index import PrefixTable


def table(*prefixes: str) -> PrefixTable:
    networks = {}
    for number, text in enumerate(prefixes):
        network = ipaddress.ip_network(text)
        networks[(int(network.network_address), int(network.broadcast_address))] = (
            str(network), (number,))
    return PrefixTable(networks)


def found(prefix_table: PrefixTable, address: str, end: str | None = None) -> str | None:
    start = int(ipaddress.ip_address(address))
    registered = prefix_table.containing(start, int(ipaddress.ip_address(end or address)))
    return registered.text if registered else None


def test_nested_adjacent_and_edge_prefixes():
    prefixes = table("10.0.0.0/8", "10.1.0.0/16", "10.1.1.0/24", "10.2.0.0/16",
                     "255.255.255.0/24", "0.0.0.0/32")
    assert found(prefixes, "10.0.0.1") == "10.0.0.0/8"
    assert found(prefixes, "10.1.1.1") == "10.1.1.0/24"
    assert found(prefixes, "10.1.2.1") == "10.1.0.0/16"
    assert found(prefixes, "10.2.255.255") == "10.2.0.0/16"
    assert found(prefixes, "10.3.0.0") == "10.0.0.0/8"
    assert found(prefixes, "11.0.0.0") is None
    assert found(prefixes, "9.255.255.255") is None
    assert found(prefixes, "255.255.255.255") == "255.255.255.0/24"
    assert found(prefixes, "0.0.0.0") == "0.0.0.0/32"
    assert found(prefixes, "0.0.0.1") is None
    # A range: the innermost registered prefix containing all of it.
    assert found(prefixes, "10.1.1.0", "10.1.1.255") == "10.1.1.0/24"
    assert found(prefixes, "10.1.1.0", "10.1.2.0") == "10.1.0.0/16"
    assert found(prefixes, "10.1.0.0", "10.2.0.0") == "10.0.0.0/8"
    assert len(prefixes) == 6


def test_empty_table():
    assert found(table(), "1.2.3.4") is None


prefix_strategy = st.builds(
    lambda address, length: ipaddress.ip_network((address >> (32 - length) << (32 - length),
                                                  length)),
    st.integers(0, 2**32 - 1), st.integers(0, 32))


@settings(max_examples=200, deadline=None)
@given(st.lists(prefix_strategy, max_size=30), st.lists(st.integers(0, 2**32 - 1), max_size=30))
def test_longest_prefix_match_equals_brute_force(networks, addresses):
    prefix_table = table(*{str(network) for network in networks})
    for address in addresses:
        containing = [network for network in networks
                      if int(network.network_address) <= address
                      <= int(network.broadcast_address)]
        expected = max(containing, key=lambda n: n.prefixlen) if containing else None
        assert found(prefix_table, str(ipaddress.ip_address(address))) == (
            str(expected) if expected else None)
