"""``quri_parts_oqtopus.models.jobs.results.sampling`` of the reference: the sampling result."""

from quri_parts.backend import SamplingCounts, SamplingResult

from quri_parts_oqtopus.backend.results import OqtopusSamplingResult

__all__ = ["OqtopusSamplingResult", "SamplingCounts", "SamplingResult"]
