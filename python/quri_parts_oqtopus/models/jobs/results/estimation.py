"""``quri_parts_oqtopus.models.jobs.results.estimation`` of the reference: the estimation result."""

from quri_parts_oqtopus.backend.results import OqtopusEstimationResult

__all__ = ["OqtopusEstimationResult"]
