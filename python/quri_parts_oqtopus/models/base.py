"""``OqtopusModelBase``: what every OQTOPUS model (job, device) offers."""

from __future__ import annotations

__all__ = ["OqtopusModelBase"]


class OqtopusModelBase:
    """Base class of the OQTOPUS models: they can be refreshed and written as JSON."""

    def __init__(self) -> None:
        """Nothing to set up (the reference's signature, for subclasses that call it)."""

    def refresh(self) -> None:
        """Retrieve the latest information from OQTOPUS Cloud.

        Raises:
            NotImplementedError: Unless a subclass implements it.

        """
        raise NotImplementedError("Subclasses must implement this method.")

    def to_json(self) -> str:
        """The model as a JSON text.

        Raises:
            NotImplementedError: Unless a subclass implements it.

        """
        raise NotImplementedError("Subclasses must implement this method.")
