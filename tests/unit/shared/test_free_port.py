"""Ports handed to test servers must not be ones the kernel may give an outgoing connection."""

import socket

from shared.embedded_broker import _ephemeral_floor, free_port


def test_ports_lie_below_the_ephemeral_range_and_are_never_handed_out_twice():
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert all(port < _ephemeral_floor() for port in ports)


def test_a_handed_out_port_can_be_bound():
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        assert sock.getsockname()[1] == port
