package io.pycql.planner.validate;

import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeFactory;
import org.apache.calcite.rel.type.RelDataTypeSystemImpl;
import org.apache.calcite.sql.type.SqlTypeName;
import org.apache.calcite.sql.type.SqlTypeUtil;

/**
 * The planner's type system: Calcite's default, except that
 *
 * <ul>
 *   <li>{@code AVG} of an exact numeric type (integers, DECIMAL) is a DOUBLE, as in DuckDB
 *       (PostgreSQL, Oracle, MySQL and Spark also keep the fraction): {@code AVG} of 12 and 13
 *       is 12.5, not Calcite's (and Flink's) truncated 12;</li>
 *   <li>the common type of character values of different lengths (the branches of a CASE,
 *       of COALESCE, of a UNION) is VARCHAR, as in PostgreSQL: {@code CASE ... THEN 'ten'
 *       ELSE 'eleven' END} is {@code 'ten'}, not {@code 'ten   '}.</li>
 * </ul>
 */
public final class CqlTypeSystem extends RelDataTypeSystemImpl {
  public static final CqlTypeSystem INSTANCE = new CqlTypeSystem();

  private CqlTypeSystem() {
  }

  @Override public RelDataType deriveAvgAggType(RelDataTypeFactory typeFactory,
      RelDataType argumentType) {
    if (SqlTypeUtil.isExactNumeric(argumentType)) {
      return typeFactory.createTypeWithNullability(
          typeFactory.createSqlType(SqlTypeName.DOUBLE), argumentType.isNullable());
    }
    return super.deriveAvgAggType(typeFactory, argumentType);
  }

  @Override public boolean shouldConvertRaggedUnionTypesToVarying() {
    return true;
  }
}
