"""Stuart Bishop's DB-API 2.0 compliance suite (``dbapi-compliance``) against pycql.

The suite's tables are pycql tables (relations) and its selects are relation
snapshots, so its ``create table`` / ``insert`` / ``select`` run unchanged
against a private embedded database per connection.

Exclusions, each replaced by a test of what pycql does instead
(``docs/dbapi.md`` lists them too):

* ``test_callproc``: pycql has no stored procedures, so cursors have no
  ``callproc`` (PEP 249 makes it optional).
* ``test_nextset``: no statement returns several result sets, so there is no
  ``nextset`` (optional in PEP 249); the suite itself requires drivers to
  override this test.
* ``test_setoutputsize``: the suite leaves it to drivers; pycql's
  ``setoutputsize`` does nothing because values are never truncated.
"""

from __future__ import annotations

import dbapi20

import pycql


class TestPycqlDBAPI20(dbapi20.DatabaseAPI20Test):
    driver = pycql
    connect_args = ()
    connect_kw_args: dict[str, object] = {}

    def test_callproc(self) -> None:
        con = self._connect()
        try:
            self.assertFalse(hasattr(con.cursor(), "callproc"))
        finally:
            con.close()

    def test_nextset(self) -> None:
        con = self._connect()
        try:
            self.assertFalse(hasattr(con.cursor(), "nextset"))
        finally:
            con.close()

    def test_setoutputsize(self) -> None:
        con = self._connect()
        try:
            cur = con.cursor()
            self.executeDDL2(cur)
            long_drink = "x" * 30
            cur.execute(f"insert into {self.table_prefix}barflys values ('a', ?)", (long_drink,))
            cur.setoutputsize(5, 1)
            cur.execute(f"select drink from {self.table_prefix}barflys")
            self.assertEqual(cur.fetchall(), [(long_drink,)])
        finally:
            con.close()
