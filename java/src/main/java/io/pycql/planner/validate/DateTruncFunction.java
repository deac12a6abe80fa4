package io.pycql.planner.validate;

import org.apache.calcite.sql.SqlFunction;
import org.apache.calcite.sql.SqlFunctionCategory;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.type.OperandTypes;
import org.apache.calcite.sql.type.ReturnTypes;
import org.apache.calcite.sql.type.SqlTypeFamily;

/**
 * PostgreSQL's {@code DATE_TRUNC(unit, t)}: {@code t} (a TIMESTAMP or DATE) truncated to the
 * start of its {@code unit} ({@code 'year'}, {@code 'month'}, {@code 'hour'}, ... a string,
 * case-insensitive), of the type of {@code t}. Calcite has only BigQuery's
 * {@code DATE_TRUNC(date, unit)}; the runtime implements this one (an unknown unit fails the
 * row).
 */
public final class DateTruncFunction extends SqlFunction {
  public static final DateTruncFunction INSTANCE = new DateTruncFunction();

  private DateTruncFunction() {
    super("DATE_TRUNC", SqlKind.OTHER_FUNCTION, ReturnTypes.ARG1_NULLABLE, null,
        OperandTypes.family(SqlTypeFamily.CHARACTER, SqlTypeFamily.DATETIME),
        SqlFunctionCategory.TIMEDATE);
  }
}
