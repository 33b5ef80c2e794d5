"""moto_server for the benchmark, with two of moto 5's DynamoDB costs that
real DynamoDB does not have taken out (the behaviour is unchanged):

- TransactWriteItems deep-copies every table it touches before it starts, so
  it costs O(table) (~0.6 s a call with 1,000 ledger roles). A transaction of
  Put / Delete / ConditionCheck only replaces items, never mutates them, so a
  copy of the table's key buckets is as good a rollback point. Transactions
  with an Update keep the full copy.
- Query without an index sorts every item of the table to find one partition
  (O(table log table) a call). It now looks in the partition's bucket.

The sweeper's calls are the same with or without this; only the emulator's
time per call changes. `npm run bench -- --stock-moto` runs plain moto_server.
"""
import contextvars
import copy as _copy
from collections import defaultdict

import moto.dynamodb.models as ddb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

_replace_only = contextvars.ContextVar("replace_only", default=False)


def _snapshot(table):
    snap = _copy.copy(table)
    snap.items = defaultdict(dict)
    for hash_key, bucket in table.items.items():
        snap.items[hash_key] = dict(bucket) if table.range_key_attr else bucket
    return snap


class _CopyForTransactions:
    """Stands in for the `copy` module inside moto.dynamodb.models."""

    def __getattr__(self, name):
        return getattr(_copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table) and _replace_only.get():
            return _snapshot(value)
        return _copy.deepcopy(value, memo)


ddb_models.copy = _CopyForTransactions()
_transact = DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):
    replace_only = all(next(iter(item.keys())) in ("Put", "Delete", "ConditionCheck") for item in transact_items)
    token = _replace_only.set(replace_only)
    try:
        return _transact(self, transact_items)
    finally:
        _replace_only.reset(token)


DynamoDBBackend.transact_write_items = transact_write_items

_partition = contextvars.ContextVar("partition", default=None)
_all_items = Table.all_items
_query = Table.query


def all_items(self):
    wanted = _partition.get()
    if wanted is not None and wanted[0] is self:
        if wanted[1] not in self.items:
            return []
        bucket = self.items[wanted[1]]
        items = list(bucket.values()) if self.range_key_attr else [bucket]
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
    return _all_items(self)


def query(self, hash_key, *args, **kwargs):
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    token = _partition.set((self, hash_key) if index_name is None and hash_key is not None else None)
    try:
        return _query(self, hash_key, *args, **kwargs)
    finally:
        _partition.reset(token)


Table.all_items = all_items
Table.query = query

if __name__ == "__main__":
    from moto.server import main

    main()
