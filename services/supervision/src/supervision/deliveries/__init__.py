"""Deliveries 推送 to the units' own systems: receipts of refused events, items, reminders,
statutory clocks and alerts, as signed webhooks (Standard Webhooks) and a per-unit live feed.

`domain` (pure) says what concerns which unit and how deliveries are retried; `signing` signs
them; `store` keeps subscriptions and deliveries; `sending` makes the HTTP calls; `worker` is
the process (`python -m supervision.deliveries`); `views` the api's routes.
"""
