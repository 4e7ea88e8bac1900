"""Benchmarks: `wegwijs bench load` and the fake Telegram Bot API it runs against."""
