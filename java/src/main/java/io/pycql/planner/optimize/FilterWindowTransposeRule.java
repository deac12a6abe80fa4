package io.pycql.planner.optimize;

import io.pycql.planner.rel.CqlWindow;
import java.util.List;
import org.apache.calcite.plan.RelOptRuleCall;
import org.apache.calcite.plan.RelRule;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.Filter;

/**
 * Pushes a Filter below a time-based window: {@code Filter(c, Window[w](X))} becomes
 * {@code Window[w](Filter(c, X))} when {@code w} is NOW, UNBOUNDED or RANGE (with or
 * without SLIDE).
 *
 * <p>Why it is exact: a time-based window decides whether an element is in the window
 * from its timestamp alone, so filtering the relation at every instant keeps exactly the
 * elements that filtering the stream once would have let in. A ROWS or PARTITION BY
 * window is never crossed: filtering first changes which N rows are the last ones.
 * Conditions that are not element-wise (non-deterministic, dynamic such as
 * CURRENT_TIMESTAMP, sub-queries) stay above the window.
 *
 * <pre>
 * before: LogicalFilter(condition=[&gt;($1, 65)])
 *           CqlWindow(spec=[RANGE 30000 ms])
 *             LogicalTableScan(table=[[S]])
 * after:  CqlWindow(spec=[RANGE 30000 ms])
 *           LogicalFilter(condition=[&gt;($1, 65)])
 *             LogicalTableScan(table=[[S]])
 * </pre>
 */
public final class FilterWindowTransposeRule extends RelRule<RuleConfig> {
  /** The rule with its default operands. */
  public static final FilterWindowTransposeRule INSTANCE =
      (FilterWindowTransposeRule) RuleConfig.of("FilterWindowTransposeRule",
          b0 -> b0.operand(Filter.class).oneInput(b1 -> b1.operand(CqlWindow.class)
              .predicate(w -> w.spec.isTimeBased()).anyInputs()),
          FilterWindowTransposeRule::new).toRule();

  private FilterWindowTransposeRule(RuleConfig config) {
    super(config);
  }

  @Override public boolean matches(RelOptRuleCall call) {
    Filter filter = call.rel(0);
    return StreamExprs.isElementwise(filter.getCondition());
  }

  @Override public void onMatch(RelOptRuleCall call) {
    Filter filter = call.rel(0);
    CqlWindow window = call.rel(1);
    RelNode pushed = filter.copy(filter.getTraitSet(), window.getInput(), filter.getCondition());
    call.transformTo(window.copy(window.getTraitSet(), List.of(pushed)));
  }
}
