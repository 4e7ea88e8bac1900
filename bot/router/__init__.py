"""The conversation router: channel-free work on inbox rows, replies written as outbox rows.

A channel adapter turns platform updates into inbox events and outbox operations into
platform calls; everything in between (flood guard, handover state, the engine, the desk)
happens here, in the same way whatever channel the newcomer uses.
"""
