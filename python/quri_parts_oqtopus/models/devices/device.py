"""``quri_parts_oqtopus.models.devices.device`` of the reference: the device model."""

from quri_parts.backend import BackendError

from quri_parts_oqtopus.backend.devices.device import OqtopusDevice
from quri_parts_oqtopus.models.base import OqtopusModelBase
from quri_parts_oqtopus.models.utils import DateTimeEncoder

__all__ = ["BackendError", "DateTimeEncoder", "OqtopusDevice", "OqtopusModelBase"]
