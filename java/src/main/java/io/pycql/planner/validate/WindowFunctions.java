package io.pycql.planner.validate;

import io.pycql.planner.CqlPlannerError;
import java.util.Locale;
import java.util.Set;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlWindow;

/**
 * The SQL window functions ({@code f(...) OVER (PARTITION BY ... ORDER BY ...)}) pycql runs,
 * checked with their positions before validation: the functions of {@link #FUNCTIONS}, with
 * the window written inline and its frame either the default or one that starts at
 * {@code UNBOUNDED PRECEDING} and ends at {@code CURRENT ROW} or {@code UNBOUNDED FOLLOWING}.
 *
 * <pre>{@code
 * WindowFunctions.check(overCall);   // throws an unsupported error for LAG(v) OVER (...)
 * }</pre>
 */
final class WindowFunctions {
  /** The functions allowed before {@code OVER}. */
  static final Set<String> FUNCTIONS = Set.of("ROW_NUMBER", "RANK", "DENSE_RANK", "SUM",
      "COUNT", "MIN", "MAX", "AVG");

  private WindowFunctions() {
  }

  /** Refuses {@code over} (an {@code OVER} call of a SQL window) unless pycql runs it. */
  static void check(SqlCall over) {
    SqlNode function = over.operand(0);
    String name = function instanceof SqlCall c
        ? c.getOperator().getName().toUpperCase(Locale.ROOT) : "";
    if (!FUNCTIONS.contains(name)) {
      throw CqlPlannerError.unsupported(function.getParserPosition(),
          "The window function " + (name.isEmpty() ? function.toString() : name)
          + " is not supported; OVER (...) takes ROW_NUMBER, RANK, DENSE_RANK, SUM, COUNT, "
          + "MIN, MAX or AVG");
    }
    if (function instanceof SqlCall c && c.getFunctionQuantifier() != null) {
      throw CqlPlannerError.unsupported(c.getFunctionQuantifier().getParserPosition(),
          "DISTINCT in a window function is not supported");
    }
    SqlNode window = over.operand(1);
    if (!(window instanceof SqlWindow w)) {
      throw CqlPlannerError.unsupported(window.getParserPosition(),
          "A named window (OVER " + window + ") is not supported; write the window in the "
          + "OVER clause");
    }
    if (w.getRefName() != null) {
      throw CqlPlannerError.unsupported(w.getRefName().getParserPosition(),
          "A window that refers to a named window is not supported");
    }
    SqlNode lower = w.getLowerBound();
    SqlNode upper = w.getUpperBound();
    if (lower != null && !SqlWindow.isUnboundedPreceding(lower)) {
      throw CqlPlannerError.unsupported(lower.getParserPosition(),
          "A window frame must start at UNBOUNDED PRECEDING");
    }
    if (upper != null && !SqlWindow.isCurrentRow(upper)
        && !SqlWindow.isUnboundedFollowing(upper)) {
      throw CqlPlannerError.unsupported(upper.getParserPosition(),
          "A window frame must end at CURRENT ROW or UNBOUNDED FOLLOWING");
    }
  }
}
