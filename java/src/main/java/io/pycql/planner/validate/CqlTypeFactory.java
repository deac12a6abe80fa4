package io.pycql.planner.validate;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.apache.calcite.avatica.util.TimeUnit;
import org.apache.calcite.jdbc.JavaTypeFactoryImpl;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.sql.SqlIntervalQualifier;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * The planner's type factory: Calcite's, with UTF-8 as the charset of character types and
 * literals (Calcite's own default is ISO-8859-1, which refuses {@code '東京'}).
 *
 * <p>An interval type asked for by its type name ({@code createSqlType(INTERVAL_DAY, 10, 6)})
 * is an interval type. Calcite's implicit coercion writes the common type of
 * {@code INTERVAL '1' DAY = INTERVAL '3000000' DAY(7)}, of {@code NULLIF} and of
 * {@code UNION} branches as a {@code CAST} whose target is a plain type name, and deriving
 * that name made a {@code BasicSqlType} named INTERVAL_DAY, which Calcite's own
 * least-restrictive type and converter then fail on (ClassCastException).
 */
public final class CqlTypeFactory extends JavaTypeFactoryImpl {
  public CqlTypeFactory() {
    super(CqlTypeSystem.INSTANCE);
  }

  @Override public Charset getDefaultCharset() {
    return StandardCharsets.UTF_8;
  }

  @Override public RelDataType createSqlType(SqlTypeName typeName) {
    if (SqlTypeName.INTERVAL_TYPES.contains(typeName)) {
      return interval(typeName, RelDataType.PRECISION_NOT_SPECIFIED,
          RelDataType.SCALE_NOT_SPECIFIED);
    }
    return super.createSqlType(typeName);
  }

  @Override public RelDataType createSqlType(SqlTypeName typeName, int precision) {
    if (SqlTypeName.INTERVAL_TYPES.contains(typeName)) {
      return interval(typeName, precision, RelDataType.SCALE_NOT_SPECIFIED);
    }
    return super.createSqlType(typeName, precision);
  }

  @Override public RelDataType createSqlType(SqlTypeName typeName, int precision, int scale) {
    if (SqlTypeName.INTERVAL_TYPES.contains(typeName)) {
      return interval(typeName, precision, scale);
    }
    return super.createSqlType(typeName, precision, scale);
  }

  /** The interval type {@code typeName} with the given leading and fractional precision. */
  private RelDataType interval(SqlTypeName typeName, int precision, int scale) {
    TimeUnit start = typeName.getStartUnit();
    TimeUnit end = typeName.getEndUnit();
    // Precisions equal to the defaults stay unspecified, so that the type made from a
    // type's own name, precision and scale equals the type (INTERVAL DAY, not DAY(10)).
    SqlIntervalQualifier defaults = new SqlIntervalQualifier(start, end, SqlParserPos.ZERO);
    int startPrecision = precision == defaults.getStartPrecision(getTypeSystem())
        ? RelDataType.PRECISION_NOT_SPECIFIED : precision;
    int fractional = end != TimeUnit.SECOND && start != TimeUnit.SECOND
        || scale == defaults.getFractionalSecondPrecision(getTypeSystem())
        ? RelDataType.PRECISION_NOT_SPECIFIED : scale;
    return createSqlIntervalType(
        new SqlIntervalQualifier(start, startPrecision, end, fractional, SqlParserPos.ZERO));
  }
}
