"""The relay: an untrusted HTTP server that orders and serves entries, and its client."""
