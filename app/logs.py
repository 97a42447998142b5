"""Server logs that never show an ID number or a phone in clear.

uvicorn's access log prints each request line, query string included (a roster search by phone
number would land there); its error log may quote form values. Every record passing the app's log
handlers goes through `MaskFilter` (sharing.masking.mask_text: ID 6+4, mobile 3+4, long numbers).
Passwords never reach a log: the login form is a POST body, which is not logged.
"""

from __future__ import annotations

import copy
import logging

from sharing.masking import mask_text


class MaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_text(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: mask_text(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def log_config() -> dict:
    """uvicorn's logging configuration with the masking filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    cfg = copy.deepcopy(LOGGING_CONFIG)
    cfg.setdefault("filters", {})["mask"] = {"()": "app.logs.MaskFilter"}
    for handler in cfg["handlers"].values():
        handler.setdefault("filters", []).append("mask")
    cfg["loggers"]["civichub.app"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return cfg
