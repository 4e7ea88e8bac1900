"""The WhatsApp channel (Cloud API): a webhook into the inbox, outbox operations into Graph API calls."""
