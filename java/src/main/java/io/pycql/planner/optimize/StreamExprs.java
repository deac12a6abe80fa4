package io.pycql.planner.optimize;

import java.util.List;
import org.apache.calcite.rex.RexCall;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.rex.RexOver;
import org.apache.calcite.rex.RexUtil;

/** Checks shared by the rules that move expressions from relations onto stream elements. */
final class StreamExprs {
  private StreamExprs() {
  }

  /**
   * Whether {@code e} may be evaluated once per stream element instead of once per
   * instant the element is in a window: it must be deterministic and contain no
   * sub-query, windowed aggregate or correlation.
   */
  static boolean isElementwise(RexNode e) {
    return RexUtil.isDeterministic(e)
        && RexUtil.SubQueryFinder.find(List.of(e)) == null
        && !RexOver.containsOver(e)
        && !RexUtil.containsCorrelation(e)
        && !containsDynamicCall(e);
  }

  /** Whether every expression of {@code es} is element-wise. */
  static boolean allElementwise(List<? extends RexNode> es) {
    for (RexNode e : es) {
      if (!isElementwise(e)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether {@code e} calls a dynamic function (CURRENT_TIMESTAMP, ...): its value depends on
   * when it is evaluated, so it is not moved from a relation onto stream elements.
   */
  private static boolean containsDynamicCall(RexNode e) {
    if (e instanceof RexCall call) {
      if (call.getOperator().isDynamicFunction()) {
        return true;
      }
      for (RexNode operand : call.getOperands()) {
        if (containsDynamicCall(operand)) {
          return true;
        }
      }
    }
    return false;
  }
}
