"""retrodig's pipeline: from scanned paper to a searchable archive.

The public Python API lives in :mod:`pipeline.api`; stages live in :mod:`pipeline.stages`.
"""

__version__ = "0.1.0"
