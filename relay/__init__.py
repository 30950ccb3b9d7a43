"""The relay: an untrusted HTTP server that orders and serves entries, and its client.

Importing the package registers the relay's stored aggregates with ``ledger.rows``
(``relay/aggregates.py``): a store the relay wrote is then decoded and listed right by any
process that imports ``relay`` (every command does), while ``ledger`` never names them.
"""

from relay import aggregates as _aggregates  # noqa: F401 - registers the relay's topics
