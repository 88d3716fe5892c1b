"""CSV imports (dry run, then all-or-nothing apply) and CSV exports of organisations and people."""
