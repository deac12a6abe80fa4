package io.pycql.planner.catalog;

/**
 * A declared column of a stream, table or view, as the catalog JSON gives it:
 * {@code {"name": "A", "type": "INTEGER", "nullable": true, "precision": null, "scale": null}}.
 */
public final class CqlColumn {
  public final String name;
  public final String type;
  public final boolean nullable;
  public final Integer precision;
  public final Integer scale;

  public CqlColumn(String name, String type, boolean nullable, Integer precision, Integer scale) {
    this.name = name;
    this.type = type;
    this.nullable = nullable;
    this.precision = precision;
    this.scale = scale;
  }
}
