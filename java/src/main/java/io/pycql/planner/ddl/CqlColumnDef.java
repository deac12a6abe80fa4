package io.pycql.planner.ddl;

import org.apache.calcite.sql.SqlDataTypeSpec;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlIntervalQualifier;

/**
 * One column of CREATE STREAM / CREATE TABLE: {@code speed INTEGER NOT NULL}, or an interval
 * column, {@code gap INTERVAL DAY TO SECOND} (then {@code type} is null and {@code interval}
 * holds the qualifier).
 */
public final class CqlColumnDef {
  public final SqlIdentifier name;
  public final SqlDataTypeSpec type;
  public final SqlIntervalQualifier interval;
  public final boolean nullable;

  public CqlColumnDef(SqlIdentifier name, SqlDataTypeSpec type, boolean nullable) {
    this(name, type, null, nullable);
  }

  public CqlColumnDef(SqlIdentifier name, SqlDataTypeSpec type, SqlIntervalQualifier interval,
      boolean nullable) {
    this.name = name;
    this.type = type;
    this.interval = interval;
    this.nullable = nullable;
  }
}
