"""The shop's tools over the JSON database in data/shop.json (official; do not edit).

The grader puts its own copy of this package and of data/shop.json over your
submission, so changes here have no effect on your grade.
"""

from shop.tools import TOOL_SCHEMAS, ToolError, call_tool, db_path, get_order_owner

__all__ = ["TOOL_SCHEMAS", "ToolError", "call_tool", "db_path", "get_order_owner"]
