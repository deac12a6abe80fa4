package io.pycql.planner.ddl;

import org.apache.calcite.sql.SqlDataTypeSpec;
import org.apache.calcite.sql.SqlIdentifier;

/** One column of CREATE STREAM / CREATE TABLE: {@code speed INTEGER NOT NULL}. */
public final class CqlColumnDef {
  public final SqlIdentifier name;
  public final SqlDataTypeSpec type;
  public final boolean nullable;

  public CqlColumnDef(SqlIdentifier name, SqlDataTypeSpec type, boolean nullable) {
    this.name = name;
    this.type = type;
    this.nullable = nullable;
  }
}
