"""The accord command line (click): parse, delegate to ledger/projections, render."""
