"""What every app shares and that imports no app: machine credentials, keyset paging, raw
SQL on the hot path, rate limits, text rules, egress, page rendering, form styling,
health probes. The apps import from here; this package imports none of them."""
