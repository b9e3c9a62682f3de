"""The USSD channel: wire formats (one module each, REGISTRY in formats.py), the pure menu
state machine (menu.py, screens.py), the Redis session store (sessions.py), and the glue that
applies the menu's effects through the same services as SMS (service.py)."""
