"""``accord web``: a local web app over the party's own replica (docs/web.md, ADR 0014)."""
