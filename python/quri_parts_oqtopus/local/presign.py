"""Presigned storage URLs: the upload form of a job's input and the downloads of its files.

Every URL starts with the configured public URL (never a request's ``Host`` header) and
carries an expiry that its HMAC signature covers, like S3's presigned POST policies and
query-string signatures.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from .errors import ApiError, bad_request
from .state import ServerState

UPLOAD_PATH = "/_storage/upload"
ACCESS_KEY_ID = "oqtopus-local"
_UPLOAD_KEY = re.compile(r"jobs/([0-9a-f-]{36})/input\.zip")
_EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _expiry(state: ServerState) -> int:
    return int(time.time() + state.settings.presign_ttl)


def _expired(expires: int) -> bool:
    return time.time() >= expires


def _shown(expires: int) -> str:
    return datetime.fromtimestamp(expires, timezone.utc).strftime(_EXPIRATION_FORMAT)


def upload_form(state: ServerState, job_id: str, base: str) -> dict[str, Any]:
    """Where (under ``base``) and how a client uploads the input of ``job_id`` (a presigned
    form POST)."""
    key = f"jobs/{job_id}/input.zip"
    policy_document = {"expiration": _shown(_expiry(state)), "conditions": [{"key": key}]}
    policy = base64.b64encode(json.dumps(policy_document).encode()).decode("ascii")
    fields = {
        "key": key,
        "AWSAccessKeyId": ACCESS_KEY_ID,
        "policy": policy,
        "signature": state.signer.sign(f"upload:{policy}"),
    }
    return {"url": f"{base}{UPLOAD_PATH}", "fields": fields}


def _policy_expiry(policy: str) -> tuple[int, str]:
    """The expiry and the key a (correctly signed) policy names."""
    try:
        document = json.loads(base64.b64decode(policy, validate=True))
        moment = datetime.strptime(document["expiration"], _EXPIRATION_FORMAT)
        key = str(document["conditions"][0]["key"])
    except (binascii.Error, ValueError, KeyError, IndexError, TypeError) as e:
        raise bad_request("the upload form's policy is not readable") from e
    return int(moment.replace(tzinfo=timezone.utc).timestamp()), key


def check_upload_form(state: ServerState, fields: dict[str, str]) -> str:
    """The job id of a correctly signed, unexpired upload form.

    Raises:
        ApiError: 400 for a form without a valid key, 403 for a signature, key or access
            key that does not match its policy, or a policy that has expired.

    """
    match = _UPLOAD_KEY.fullmatch(fields.get("key", ""))
    if match is None:
        raise bad_request("the upload form has no valid key field")
    policy = fields.get("policy", "")
    if not state.signer.verify(f"upload:{policy}", fields.get("signature", "")):
        raise ApiError(403, "upload field 'signature' does not match the presigned form")
    expires, key = _policy_expiry(policy)
    if key != fields["key"]:
        raise ApiError(403, "upload field 'key' does not match the presigned form")
    if fields.get("AWSAccessKeyId") != ACCESS_KEY_ID:
        raise ApiError(403, "upload field 'AWSAccessKeyId' does not match the presigned form")
    if _expired(expires):
        raise ApiError(403, f"the presigned upload form expired at {_shown(expires)}")
    return match.group(1)


#: The one entry of a device's ``device_info.zip``, as the service names it.
DEVICE_INFO_ENTRY = "device_info.json"


def _signed(state: ServerState, key: str, url: str) -> str:
    expires = _expiry(state)
    signature = state.signer.sign(f"download:{key}:{expires}")
    return f"{url}?expires={expires}&signature={signature}"


def download_url(state: ServerState, job_id: str, name: str, base: str) -> str:
    """A presigned download URL, under ``base``, of one of the job's archives."""
    return _signed(state, f"{job_id}/{name}", f"{base}/_storage/jobs/{quote(job_id)}/{name}.zip")


def device_info_url(state: ServerState, device_id: str, base: str) -> str:
    """A presigned download URL, under ``base``, of a device's ``device_info.zip`` (as the
    service serves it)."""
    url = f"{base}/_storage/devices/{quote(device_id, safe='')}/device_info.zip"
    return _signed(state, f"devices/{device_id}", url)


def check_download(
    state: ServerState, job_id: str, name: str, expires: str, signature: str
) -> None:
    """Raise 403 unless the signature covers this file and expiry, and it has not passed."""
    _check_signed(state, f"{job_id}/{name}", expires, signature)


def check_device_info_download(
    state: ServerState, device_id: str, expires: str, signature: str
) -> None:
    """As :func:`check_download`, for a device's ``device_info.zip``."""
    _check_signed(state, f"devices/{device_id}", expires, signature)


def _check_signed(state: ServerState, key: str, expires: str, signature: str) -> None:
    readable = expires.isascii() and expires.isdigit() and len(expires) <= 12
    if not readable or not state.signer.verify(f"download:{key}:{expires}", signature):
        raise ApiError(403, "invalid signature")
    if _expired(int(expires)):
        raise ApiError(403, f"the presigned URL expired at {_shown(int(expires))}")
