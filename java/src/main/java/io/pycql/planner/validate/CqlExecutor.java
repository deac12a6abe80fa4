package io.pycql.planner.validate;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexCall;
import org.apache.calcite.rex.RexExecutor;
import org.apache.calcite.rex.RexLiteral;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.rex.RexUtil;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * The planner's constant reducer: Calcite's for the CASTs of literals its simplifier folds
 * ({@code CAST('2024-01-01' AS DATE)}, {@code CAST(1 AS BIGINT)}), with REAL/FLOAT constants
 * kept as the runtime keeps REAL values. Any other constant expression is left to the runtime
 * (a rule reducing constants gets it back unchanged): {@code 1 / 0} or {@code LN(0)} is a
 * row's error at run time, never the query's at planning, and planning compiles no code.
 *
 * <p>The runtime holds a REAL value as a Python float (a double): the double nearest to the
 * decimal text it was written as, never rounded through a 32-bit float. Calcite's reducer
 * evaluates {@code CAST(0.2 AS REAL)} in Java {@code float}s and makes the literal
 * 0.20000000298023224, which then differs from a REAL column holding 0.2 ({@code r = 0.2}
 * false). Here a REAL constant that is a CAST of a numeric literal is that literal's exact
 * value, and one cast from text ({@code CAST('0.2' AS REAL)}), which Calcite computes in
 * {@code float}, is the shortest decimal that denotes that float.
 */
public final class CqlExecutor implements RexExecutor {
  public static final CqlExecutor INSTANCE = new CqlExecutor();

  private CqlExecutor() {
  }

  @Override public void reduce(RexBuilder rexBuilder, List<RexNode> constExps,
      List<RexNode> reducedValues) {
    List<RexNode> casts = new ArrayList<>();
    for (RexNode e : constExps) {
      if (isCastOfLiteral(e)) {
        casts.add(e);
      }
    }
    List<RexNode> reducedCasts = new ArrayList<>();
    if (!casts.isEmpty()) {
      RexUtil.EXECUTOR.reduce(rexBuilder, casts, reducedCasts);
    }
    int next = 0;
    for (int i = 0; i < constExps.size(); i++) {
      if (!isCastOfLiteral(constExps.get(i))) {
        reducedValues.add(constExps.get(i));  // not reduced: evaluated by the runtime
        continue;
      }
      RexNode r = reducedCasts.get(next++);
      if (r instanceof RexLiteral && isSingle(r)) {
        RexLiteral lit = (RexLiteral) r;
        if (!lit.isNull()) {
          BigDecimal value = exactSource(constExps.get(i));
          if (value == null) {
            value = shortest(lit.getValueAs(BigDecimal.class));
          }
          if (value != null) {
            r = rexBuilder.makeLiteral(value, lit.getType(), false);
          }
        }
      }
      reducedValues.add(r);
    }
  }

  /** A CAST (through further casts) of a literal: what RexSimplify folds. */
  private static boolean isCastOfLiteral(RexNode e) {
    if (e.getKind() != SqlKind.CAST) {
      return false;
    }
    while (e.getKind() == SqlKind.CAST) {
      e = ((RexCall) e).getOperands().get(0);
    }
    return e instanceof RexLiteral;
  }

  private static boolean isSingle(RexNode e) {
    SqlTypeName t = e.getType().getSqlTypeName();
    return t == SqlTypeName.REAL || t == SqlTypeName.FLOAT;
  }

  /** The value of {@code CAST(numeric literal AS REAL)} (through further casts), or null. */
  static BigDecimal exactSource(RexNode e) {
    while (e.getKind() == SqlKind.CAST) {
      e = ((RexCall) e).getOperands().get(0);
    }
    if (e instanceof RexLiteral && !((RexLiteral) e).isNull()) {
      SqlTypeName t = e.getType().getSqlTypeName();
      if (SqlTypeName.NUMERIC_TYPES.contains(t)) {
        return ((RexLiteral) e).getValueAs(BigDecimal.class);
      }
    }
    return null;
  }

  /** The shortest decimal denoting the float nearest to {@code value}. */
  static BigDecimal shortest(BigDecimal value) {
    if (value == null) {
      return null;
    }
    float f = value.floatValue();
    if (Float.isNaN(f) || Float.isInfinite(f)) {
      return null;
    }
    return new BigDecimal(Float.toString(f));
  }
}
