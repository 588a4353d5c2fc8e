"""The HTTP edge: thin routers, Bearer authentication, RFC 9457 problem responses."""
