"""The account ledger: AMS-compatible subscriptions, organizations and labels."""
