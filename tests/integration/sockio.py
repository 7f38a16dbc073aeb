"""sockio - reading a stream socket by exact lengths, for the test servers and
clients that speak length-prefixed protocols (DNS over TCP, the milter protocol)."""


def recv_exact(sock, n):
    """recv_exact - exactly n bytes from sock, or None when the peer closes first.
    Socket errors (a timeout included) are the caller's to handle."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data
