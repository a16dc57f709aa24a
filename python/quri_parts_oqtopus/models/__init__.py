"""The module paths of quri-parts-oqtopus 1.1.5's models, for code that imports from them.

``base`` (``OqtopusModelBase``) and ``utils`` (``DateTimeEncoder``) are defined here; the
job, result and device modules re-export the classes of :mod:`quri_parts_oqtopus.backend`.
"""
