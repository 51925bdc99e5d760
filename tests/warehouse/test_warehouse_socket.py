"""The Unix socket through which other processes reach an embedded warehouse."""

import pytest

from warehouse import WarehouseError
from warehouse.engine.socket_proxy import SocketWarehouse, serve_socket


@pytest.fixture
def served(chdb_warehouse, tmp_path):
    server = serve_socket(chdb_warehouse, str(tmp_path / "basirat.sock"))
    yield server, str(tmp_path / "basirat.sock")
    server.shutdown()
    server.server_close()


def test_a_call_that_fails_in_the_owner_answers_an_error_and_keeps_the_connection(served):
    _server, path = served
    client = SocketWarehouse(path, url="chdb://test")
    with pytest.raises(WarehouseError, match="insert failed in the serving process"):
        client.insert("events", "not a frame")  # fails inside the owner, not with a WarehouseError
    assert client.query("SELECT 1 AS one") == [{"one": 1}]
    client.close()


def test_a_lost_owner_is_a_warehouse_error(served):
    server, path = served
    client = SocketWarehouse(path, url="chdb://test")
    server.shutdown()
    server.server_close()
    client._sock.shutdown(2)  # what the client sees when the owner's end goes away
    with pytest.raises(WarehouseError, match="lost the connection to the process serving chdb://test"):
        client.query("SELECT 1 AS one")
    client.close()
