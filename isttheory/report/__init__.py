"""Reports: console tables and report files (JSON, Markdown), written atomically."""

from .files import write_results
from .table import format_table

__all__ = ["format_table", "write_results"]
