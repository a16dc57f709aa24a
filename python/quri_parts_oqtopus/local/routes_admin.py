"""The test switch (only with ``admin=True``): device states and fault injection."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends

from .devices import complete_device, public_device, validate_device
from .errors import bad_request
from .models import DeviceChange, FaultRequest, FaultRules
from .state import State, authenticate_admin

router = APIRouter(prefix="/_admin", tags=["admin"], dependencies=[Depends(authenticate_admin)])


@router.put("/devices/{device_id}")
def put_device(device_id: str, change: DeviceChange, state: State) -> dict[str, Any]:
    """Set fields of a device (creating it from the defaults if it does not exist)."""
    changes = change.model_dump(exclude_unset=True)
    store = state.store
    current = store.get_device(device_id)
    device = complete_device({"device_id": device_id}) if current is None else current
    device.update(changes)
    try:
        validate_device(device)
    except ValueError as e:
        raise bad_request(str(e)) from e
    store.put_device(device, replace=True)
    state.scheduler.wake()
    return public_device(device, store.count_pending(device_id))


@router.post("/faults")
def add_faults(body: FaultRequest | FaultRules, state: State) -> dict[str, Any]:
    """Add one rule (the body) or several (``{"rules": [...]}``); answers the added rules.

    A rule answers the next ``times`` requests whose method fully matches the ``method``
    regex and whose path contains a match of the ``path`` regex.
    """
    rules = body.rules if isinstance(body, FaultRules) else [body]
    for rule in rules:
        for name in ("path", "method"):
            try:
                re.compile(getattr(rule, name) or "")
            except re.error as e:
                raise bad_request(f"{name} is not a valid regular expression: {e}") from e
    return {"rules": [state.faults.add(**rule.model_dump()).describe() for rule in rules]}


@router.get("/faults")
def list_faults(state: State) -> dict[str, Any]:
    """Every rule with how many times it fired and how many uses are left (-1: forever)."""
    return {"rules": state.faults.describe()}


@router.delete("/faults")
def clear_faults(state: State) -> dict[str, str]:
    state.faults.clear()
    return {"message": "faults cleared"}
