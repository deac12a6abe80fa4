package io.pycql.planner.catalog;

import java.util.List;
import java.util.Locale;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeFactory;
import org.apache.calcite.schema.impl.AbstractTable;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * A declared stream or table of the catalog: a Calcite table whose scan is the
 * source operator of a plan. Streams are read through a window
 * ({@link io.pycql.planner.rel.CqlWindow}); tables are relations.
 */
public final class CqlSourceTable extends AbstractTable {
  private final String name;
  private final boolean stream;
  private final String topic;
  private final String timestampColumn;
  private final String format;
  private final List<String> primaryKey;
  private final List<CqlColumn> columns;
  private final List<String> partitionKey;
  private final int partitions;

  /** A source of one partition whose records are not keyed. */
  public CqlSourceTable(String name, boolean stream, String topic, String timestampColumn,
      String format, List<String> primaryKey, List<CqlColumn> columns) {
    this(name, stream, topic, timestampColumn, format, primaryKey, columns, List.of(), 1);
  }

  /**
   * A source whose topic has {@code partitions} partitions, its records partitioned by the
   * hash of the columns {@code partitionKey} (a stream's {@code WITH (key = ...)}; empty:
   * partitioned by nothing known).
   */
  public CqlSourceTable(String name, boolean stream, String topic, String timestampColumn,
      String format, List<String> primaryKey, List<CqlColumn> columns,
      List<String> partitionKey, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("a topic has at least one partition: " + partitions);
    }
    this.partitionKey = List.copyOf(partitionKey);
    this.partitions = partitions;
    this.name = name;
    this.stream = stream;
    this.topic = topic == null ? name : topic;
    this.timestampColumn = timestampColumn;
    this.format = format == null ? "json" : format;
    this.primaryKey = List.copyOf(primaryKey);
    this.columns = List.copyOf(columns);
  }

  /** The declared name (as the user wrote it in CREATE STREAM/TABLE). */
  public String name() {
    return name;
  }

  /** True for a declared stream, false for a table. */
  public boolean isStream() {
    return stream;
  }

  /** The Kafka topic it is read from. */
  public String topic() {
    return topic;
  }

  /** The column carrying the event time, or null for the record timestamp. */
  public String timestampColumn() {
    return timestampColumn;
  }

  /** The record format ("json", "csv"). */
  public String format() {
    return format;
  }

  /** The primary key column names (tables); empty for streams. */
  public List<String> primaryKey() {
    return primaryKey;
  }

  public List<CqlColumn> columns() {
    return columns;
  }

  /** The columns whose hash partitions the records (streams); empty when unknown. */
  public List<String> partitionKey() {
    return partitionKey;
  }

  /** The number of partitions of the topic (1 when the catalog does not say). */
  public int partitions() {
    return partitions;
  }

  @Override public RelDataType getRowType(RelDataTypeFactory typeFactory) {
    RelDataTypeFactory.Builder b = typeFactory.builder();
    for (CqlColumn c : columns) {
      b.add(c.name, toType(typeFactory, c));
    }
    return b.build();
  }

  /** The Calcite type of a catalog column. */
  public static RelDataType toType(RelDataTypeFactory typeFactory, CqlColumn c) {
    String t = c.type.toUpperCase(Locale.ROOT).trim();
    SqlTypeName typeName;
    switch (t) {
    case "INT":
      typeName = SqlTypeName.INTEGER;
      break;
    case "STRING":
    case "TEXT":
      typeName = SqlTypeName.VARCHAR;
      break;
    case "INTERVAL_DAY_SECOND":
      typeName = SqlTypeName.INTERVAL_DAY_SECOND;
      break;
    case "INTERVAL_YEAR_MONTH":
      typeName = SqlTypeName.INTERVAL_YEAR_MONTH;
      break;
    default:
      typeName = SqlTypeName.get(t);
      if (typeName == null) {
        throw new IllegalArgumentException("Unknown column type '" + c.type + "' of column '"
            + c.name + "'");
      }
    }
    RelDataType type;
    if (c.precision != null && c.scale != null && typeName.allowsScale()) {
      type = typeFactory.createSqlType(typeName, c.precision, c.scale);
    } else if (c.precision != null && typeName.allowsPrec()) {
      type = typeFactory.createSqlType(typeName, c.precision);
    } else if (typeName.getFamily() != null
        && typeName.getFamily() == org.apache.calcite.sql.type.SqlTypeFamily.INTERVAL_DAY_TIME
        || typeName == SqlTypeName.INTERVAL_YEAR_MONTH) {
      type = typeFactory.createSqlIntervalType(
          new org.apache.calcite.sql.SqlIntervalQualifier(
              typeName == SqlTypeName.INTERVAL_YEAR_MONTH
                  ? org.apache.calcite.avatica.util.TimeUnit.YEAR
                  : org.apache.calcite.avatica.util.TimeUnit.DAY,
              typeName == SqlTypeName.INTERVAL_YEAR_MONTH
                  ? org.apache.calcite.avatica.util.TimeUnit.MONTH
                  : org.apache.calcite.avatica.util.TimeUnit.SECOND,
              org.apache.calcite.sql.parser.SqlParserPos.ZERO));
    } else {
      type = typeFactory.createSqlType(typeName);
    }
    return typeFactory.createTypeWithNullability(type, c.nullable);
  }

  @Override public String toString() {
    return (stream ? "Stream " : "Table ") + name;
  }
}
