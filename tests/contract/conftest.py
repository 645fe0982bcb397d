"""The store fixtures of ``test_store`` (a migrated database per backend and module, emptied for
each test; a store on it; a workspace) for every module of the contract suite."""

from tests.contract.test_store import db_url, module_database, store, ws

__all__ = ["db_url", "module_database", "store", "ws"]
