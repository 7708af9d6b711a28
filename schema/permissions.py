"""Who may call what, declared on fields. Each class answers one question."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from resolvers.errors import Forbidden, Unauthenticated
from schema.ids import decode_id


class CanAdjustStock(BasePermission):
    """Integrations anywhere; staff at the locations they work at; partners with inventory:write."""

    message = "not allowed to adjust stock at this location"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if not principal.is_authenticated:
            raise Unauthenticated("sign in to adjust stock")
        for change in kwargs["input"].changes:
            location_id = decode_id(change.location_id, "Location", "locationId")
            if not principal.may_adjust_stock_at(location_id):
                raise Forbidden(self.message)
        return True
