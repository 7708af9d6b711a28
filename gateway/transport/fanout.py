"""Grouped fan-out: subscribers that asked for the same thing share one execution per event.

Subscriptions over graphql-transport-ws with the same document, variables and operation name,
from callers with the same authorization scope (kind, locations, scopes, member: everything of
the principal but its name), form a group. The group runs the subscription once, with a context
of that scope; on each event, the selection runs once, the payload is encoded once, and each
member's socket gets the same bytes behind its own operation id. Authorization stays exact per
event: a group's members could all see what its one execution sees (staff of the same stores,
the same member, anyone for public stock), and nobody else is in it.

Each member keeps a bounded queue (`GATEWAY_SUBSCRIPTION_QUEUE_SIZE` frames): one whose socket
does not take its frames fast enough is dropped from its group and its websocket closed with
4503 (see gateway/transport/subscribers.py), while the others go on. Queries and mutations over a
websocket, documents that do not validate, and the legacy graphql-ws protocol take strawberry's
own path, one execution per operation.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from graphql import OperationType, get_operation_ast
from starlette.websockets import WebSocketDisconnect
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from gateway.errors import contract_error
from gateway.protections.rate_limit import rate_limited

if TYPE_CHECKING:
    from gateway.context import Context
    from gateway.protections.documents import Documents

log = logging.getLogger("omnigate.fanout")

_NEXT, _ERROR, _COMPLETE = 0, 1, 2


class Member:
    """One subscription in a group: its queue of frames, and how to end its connection."""

    __slots__ = ("_frames", "_limit", "_waiter", "too_slow")

    def __init__(self, limit: int, too_slow: Callable[[], None] | None) -> None:
        self._frames: collections.deque[tuple[int, Any]] = collections.deque()
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None
        self.too_slow = too_slow

    def put(self, frame: tuple[int, Any]) -> bool:
        if len(self._frames) >= self._limit and frame[0] == _NEXT:
            return False
        self._frames.append(frame)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        return True

    async def get(self) -> tuple[int, Any]:
        while not self._frames:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._frames.popleft()


class Group:
    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key
        self.members: dict[Member, None] = {}
        self.runner: asyncio.Task[None] | None = None


class Fanout:
    def __init__(self, documents: Documents, queue_size: int) -> None:
        self.documents = documents
        self.queue_size = queue_size
        self.groups: dict[tuple[Any, ...], Group] = {}
        self.dropped = 0
        self.executions = 0  # selections run for groups (one per event per group)

    def key(self, operation: Operation[Any, Any], context: Context) -> tuple[Any, ...] | None:
        """The group an operation joins, or None when it is not a subscription we can share."""
        document = self.documents.get(operation.query)
        if document.node is None or document.errors:
            return None
        found = get_operation_ast(document.node, operation.operation_name)
        if found is None or found.operation is not OperationType.SUBSCRIPTION:
            return None
        p = context.principal
        variables = orjson.dumps(operation.variables or {}, option=orjson.OPT_SORT_KEYS)
        return (operation.query, variables, operation.operation_name, p.kind, p.location_ids, p.scopes,
                p.member_id)  # fmt: skip

    def join(self, key: tuple[Any, ...], start: Callable[[Group], asyncio.Task[None]]) -> Member:
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(key)
            group.runner = start(group)
        member = Member(self.queue_size, None)
        group.members[member] = None
        return member

    def leave(self, key: tuple[Any, ...], member: Member) -> None:
        group = self.groups.get(key)
        if group is None:
            return  # its group ended already
        group.members.pop(member, None)  # (a member of an earlier group with this key: not here)
        if not group.members:
            del self.groups[key]
            if group.runner is not None:
                group.runner.cancel()

    def deliver(self, group: Group, frame: tuple[int, Any]) -> None:
        for member in list(group.members):
            if not member.put(frame):  # too far behind: out of the group, its socket closed
                del group.members[member]
                self.dropped += 1
                member.put((_COMPLETE, None))
                if member.too_slow is not None:
                    member.too_slow()

    @property
    def subscribers(self) -> int:
        return sum(len(g.members) for g in self.groups.values())


async def run_group(fanout: Fanout, group: Group, handler: GroupedTransportWS, operation: Operation) -> None:
    """The group's one execution: each result encoded once, handed to every member."""
    context = handler.view.gateway.context(  # type: ignore[attr-defined]
        handler.context.principal, handler.context.request_id
    )
    context.connection_params = handler.context.connection_params
    context.audience = lambda: len(group.members)  # the bus counts the subscriptions it serves
    ended: tuple[int, Any] = (_COMPLETE, None)
    try:
        source = await handler.schema.stream(
            operation.query,
            variable_values=operation.variables,
            context_value=context,
            root_value=handler.root_value,
            operation_name=operation.operation_name,
        )
        async with aclosing(source):
            async for result in source:
                if isinstance(result, PreExecutionError):
                    ended = (_ERROR, [e.formatted for e in result.errors or ()])
                    break
                if not isinstance(result, ExecutionResult):
                    break  # incremental delivery: strawberry refuses it over websockets too
                fanout.executions += 1
                payload: dict[str, Any] = {"data": result.data}
                if result.errors:
                    payload["errors"] = [e.formatted for e in result.errors]
                if result.extensions:
                    payload["extensions"] = result.extensions
                fanout.deliver(group, (_NEXT, orjson.dumps(payload).decode()))
    except Exception:  # its members are told `complete`, as strawberry does when a stream fails
        log.exception("a shared subscription failed")
    finally:
        if fanout.groups.get(group.key) is group:
            del fanout.groups[group.key]
        for member in group.members:
            member.put(ended)


class GroupedTransportWS(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws, with subscriptions shared by group (see the module's docstring)."""

    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        fanout: Fanout = self.view.gateway.fanout  # type: ignore[attr-defined]
        key = fanout.key(operation, self.context)
        if key is None:
            await super().run_operation(operation)
            return
        if await self._refused(operation):
            return
        member = fanout.join(key, lambda g: asyncio.ensure_future(run_group(fanout, g, self, operation)))
        member.too_slow = self.context.too_slow
        prefix = '{"id":' + orjson.dumps(operation.id).decode() + ',"type":"next","payload":'
        ws = self.websocket.ws  # type: ignore[attr-defined]
        try:
            while True:
                kind, body = await member.get()
                if kind == _NEXT:
                    await ws.send_text(prefix + body + "}")
                elif kind == _ERROR:
                    message = {"id": operation.id, "type": "error", "payload": body}
                    await operation.send_operation_message(message)  # type: ignore[arg-type]
                    return
                else:
                    await operation.send_operation_message({"id": operation.id, "type": "complete"})
                    return
        except (WebSocketDisconnect, RuntimeError):
            return  # the client left, or we closed its socket (too slow, shutting down)
        finally:
            fanout.leave(key, member)

    async def _refused(self, operation: Operation[Any, Any]) -> bool:
        """Each subscription is charged to its own caller, as strawberry's path charges it (the
        group's one execution runs on no request, so nothing is charged twice)."""
        protections = self.view.gateway.protections  # type: ignore[attr-defined]
        document = self.view.gateway.documents.get(operation.query)  # type: ignore[attr-defined]
        cost = protections.cost.cost(document.node, operation.operation_name, operation.variables or {})
        client = self.context.request.scope.get("client")
        decision = await protections.limiter.charge(
            self.context.principal, client[0] if client else None, cost
        )
        if decision is None or decision.allowed:
            return False
        refusal = contract_error(rate_limited(decision), self.context.request_id)
        await operation.send_initial_errors([refusal])
        return True
