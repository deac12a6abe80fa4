package io.pycql.planner.validate;

import java.math.BigDecimal;
import org.apache.calcite.avatica.util.TimeUnit;
import org.apache.calcite.avatica.util.TimeUnitRange;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIntervalQualifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.type.SqlTypeName;
import org.apache.calcite.sql2rel.SqlRexContext;
import org.apache.calcite.sql2rel.SqlRexConvertlet;
import org.apache.calcite.sql2rel.SqlRexConvertletTable;
import org.apache.calcite.sql2rel.StandardConvertletTable;

/**
 * Calcite's convertlets, except that {@code TIMESTAMPDIFF} in {@code MILLISECOND},
 * {@code MICROSECOND} or {@code NANOSECOND} counts those units: Calcite's own convertlet
 * counts whole seconds and scales them (a 1.5 s difference would be 1000000 microseconds).
 * Here the difference is {@code Reinterpret((t2 - t1) DAY TO SECOND)}, in milliseconds (the
 * runtime's resolution), times 1, 1000 or 1000000.
 */
public final class CqlConvertletTable implements SqlRexConvertletTable {
  public static final CqlConvertletTable INSTANCE = new CqlConvertletTable();

  private CqlConvertletTable() {
  }

  @Override public SqlRexConvertlet get(SqlCall call) {
    if (call.getKind() == SqlKind.TIMESTAMP_DIFF && call.operandCount() == 3) {
      SqlNode unit = call.operand(0);
      Object value = unit instanceof SqlLiteral l ? l.getValue()
          : unit instanceof SqlIntervalQualifier q ? q.getStartUnit() : null;
      TimeUnit tu = value instanceof TimeUnit t ? t
          : value instanceof TimeUnitRange r ? r.startUnit : null;
      if (tu == TimeUnit.MILLISECOND || tu == TimeUnit.MICROSECOND
          || tu == TimeUnit.NANOSECOND) {
        long factor = tu == TimeUnit.MILLISECOND ? 1 : tu == TimeUnit.MICROSECOND ? 1000
            : 1_000_000;
        return (SqlRexContext cx, SqlCall c) -> subSecond(cx, c, factor);
      }
    }
    return StandardConvertletTable.INSTANCE.get(call);
  }

  private static RexNode subSecond(SqlRexContext cx, SqlCall call, long factor) {
    RexBuilder rex = cx.getRexBuilder();
    RexNode t1 = cx.convertExpression(call.operand(1));
    RexNode t2 = cx.convertExpression(call.operand(2));
    RelDataType interval = cx.getTypeFactory().createSqlIntervalType(
        new SqlIntervalQualifier(TimeUnit.DAY, TimeUnit.SECOND, SqlParserPos.ZERO));
    interval = cx.getTypeFactory().createTypeWithNullability(interval,
        t1.getType().isNullable() || t2.getType().isNullable());
    RexNode diff = rex.makeCall(interval, SqlStdOperatorTable.MINUS_DATE, java.util.List.of(t2, t1));
    RelDataType bigint = cx.getTypeFactory().createTypeWithNullability(
        cx.getTypeFactory().createSqlType(SqlTypeName.BIGINT), interval.isNullable());
    RexNode ms = rex.makeReinterpretCast(bigint, diff, rex.makeLiteral(false));
    RexNode scaled = factor == 1 ? ms : rex.makeCall(SqlStdOperatorTable.MULTIPLY, ms,
        rex.makeExactLiteral(BigDecimal.valueOf(factor), bigint));
    RelDataType result = cx.getValidator().getValidatedNodeType(call);
    return rex.makeCast(result, scaled);
  }
}
