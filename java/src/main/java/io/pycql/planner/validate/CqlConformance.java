package io.pycql.planner.validate;

import org.apache.calcite.sql.validate.SqlConformance;
import org.apache.calcite.sql.validate.SqlConformanceEnum;
import org.apache.calcite.sql.validate.SqlDelegatingConformance;

/**
 * The parser's and validator's conformance: Calcite's LENIENT, except that character values
 * of different lengths meeting in a CASE, COALESCE or UNION give VARCHAR, not a padded CHAR
 * (PostgreSQL's behaviour; see also {@link CqlTypeSystem}).
 */
public final class CqlConformance extends SqlDelegatingConformance {
  public static final SqlConformance INSTANCE = new CqlConformance();

  private CqlConformance() {
    super(SqlConformanceEnum.LENIENT);
  }

  @Override public boolean shouldConvertRaggedUnionTypesToVarying() {
    return true;
  }
}
