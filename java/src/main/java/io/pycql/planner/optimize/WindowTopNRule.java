package io.pycql.planner.optimize;

import io.pycql.planner.rel.CqlTopN;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.apache.calcite.plan.RelOptRuleCall;
import org.apache.calcite.plan.RelOptUtil;
import org.apache.calcite.plan.RelRule;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.Filter;
import org.apache.calcite.rel.core.Window;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexCall;
import org.apache.calcite.rex.RexInputRef;
import org.apache.calcite.rex.RexLiteral;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.rex.RexUtil;
import org.apache.calcite.sql.SqlKind;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Recognises top-N per group: {@code Filter(rn <= N AND rest, Window(ROW_NUMBER() OVER
 * (PARTITION BY k ORDER BY o) AS rn))} becomes {@code Filter(rest, TopN[k, o, N])}, also for
 * {@code rn < N} (N - 1), {@code rn = 1} and the comparisons written the other way round.
 * The window must compute the row number alone (one group, one call).
 *
 * <p>Why it is exact: the row number of a row is its position in its partition's order, so
 * the rows with {@code rn <= N} are the partition's first N, with the same row numbers; the
 * rest of the condition is evaluated above on the same rows and columns. What it gains: a
 * change to a partition re-emits only the rows among its first N whose position changed,
 * not every row whose row number changed.
 *
 * <pre>
 * before: LogicalFilter(condition=[=($2, 1)])
 *           LogicalWindow(window#0=[window(partition {0} order by [1 DESC] aggs [ROW_NUMBER()])])
 * after:  CqlTopN(partition=[{0}], order=[[1 DESC]], limit=[1])
 * </pre>
 */
public final class WindowTopNRule extends RelRule<RuleConfig> {
  /** The rule with its default operands. */
  public static final WindowTopNRule INSTANCE =
      (WindowTopNRule) RuleConfig.of("WindowTopNRule",
          b0 -> b0.operand(Filter.class).oneInput(b1 -> b1.operand(Window.class)
              .predicate(WindowTopNRule::isRowNumber).anyInputs()),
          WindowTopNRule::new).toRule();

  private WindowTopNRule(RuleConfig config) {
    super(config);
  }

  private static boolean isRowNumber(Window w) {
    return w.groups.size() == 1 && w.groups.get(0).aggCalls.size() == 1
        && w.groups.get(0).aggCalls.get(0).getKind() == SqlKind.ROW_NUMBER;
  }

  @Override public void onMatch(RelOptRuleCall call) {
    Filter filter = call.rel(0);
    Window window = call.rel(1);
    int rn = window.getInput().getRowType().getFieldCount();
    Long limit = null;
    List<RexNode> rest = new ArrayList<>();
    for (RexNode conjunct : RelOptUtil.conjunctions(filter.getCondition())) {
      Long n = limit == null ? limitOf(conjunct, rn) : null;
      if (n != null) {
        limit = n;
      } else {
        rest.add(conjunct);
      }
    }
    if (limit == null) {
      return;
    }
    RexBuilder rexBuilder = filter.getCluster().getRexBuilder();
    Window.Group group = window.groups.get(0);
    RelNode topN = limit < 1
        ? filter.copy(filter.getTraitSet(), window, rexBuilder.makeLiteral(false))
        : CqlTopN.create(window.getInput(), group.keys, group.orderKeys, limit,
            window.getRowType());
    call.transformTo(rest.isEmpty() ? topN
        : filter.copy(filter.getTraitSet(), topN, RexUtil.composeConjunction(rexBuilder, rest)));
  }

  /** N when {@code e} keeps the row numbers 1..N of field {@code rn}, else null. */
  static @Nullable Long limitOf(RexNode e, int rn) {
    if (!(e instanceof RexCall c) || c.getOperands().size() != 2) {
      return null;
    }
    RexNode a = c.getOperands().get(0);
    RexNode b = c.getOperands().get(1);
    SqlKind kind = c.getKind();
    if (isField(b, rn) && a instanceof RexLiteral) {
      RexNode t = a;
      a = b;
      b = t;
      kind = kind.reverse();
    }
    if (!isField(a, rn) || !(b instanceof RexLiteral lit)) {
      return null;
    }
    BigDecimal value = lit.getValueAs(BigDecimal.class);
    if (value == null || value.stripTrailingZeros().scale() > 0
        || value.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) {
      return null;
    }
    long n = value.longValueExact();
    switch (kind) {
    case LESS_THAN_OR_EQUAL:
      return n;
    case LESS_THAN:
      return n - 1;
    case EQUALS:
      return n == 1 ? 1L : null;
    default:
      return null;
    }
  }

  private static boolean isField(RexNode e, int index) {
    return e instanceof RexInputRef ref && ref.getIndex() == index;
  }
}
