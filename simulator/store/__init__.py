"""The store of everything shared across requests (``base``): in this process (``memory``, the
default) or in Redis (``redis``, ``--state redis://...``, the optional extra ``modsim[redis]``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.store.base import CONFIG_KINDS, ConfigHost, Record, Store, StoreUnavailable, Table

if TYPE_CHECKING:
    from simulator.settings import Settings
    from simulator.state import State

__all__ = ["CONFIG_KINDS", "ConfigHost", "Record", "Store", "StoreUnavailable", "Table", "create_store"]


def create_store(settings: Settings, state: State) -> Store:
    """The store ``settings.state_url`` names (none: in this process), around ``state``'s own journal
    and queue (what an in-process store keeps; a shared store keeps its journal as the local copy)."""
    if not settings.state_url:
        from simulator.store.memory import MemoryStore

        return MemoryStore(state.journal, state.queue)
    from simulator.store.redis import RedisStore

    store: Store = RedisStore(settings.state_url, settings.state_prefix, state.journal, settings.instance)
    return store
