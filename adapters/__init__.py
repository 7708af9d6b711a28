"""Ports and the systems of record behind them: the gateway's own store, legacy ERPs, payments."""
