package io.pycql.planner.optimize;

import io.pycql.planner.rel.CqlWindow;
import java.util.List;
import org.apache.calcite.plan.RelOptRuleCall;
import org.apache.calcite.plan.RelRule;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.Project;

/**
 * Pushes a Project below a time-based window: {@code Project(e, Window[w](X))} becomes
 * {@code Window[w](Project(e, X))} when {@code w} is NOW, UNBOUNDED or RANGE.
 *
 * <p>Why it is exact: projection is applied element by element (bag semantics, no
 * duplicate elimination), and a time-based window selects elements by their timestamp,
 * which travels with each element from its source (the window never reads a column).
 * So projecting before or after windowing gives the same bag at every instant, and
 * the expressions are computed once per element instead of once per instant.
 * ROWS and PARTITION BY windows are never crossed: PARTITION BY names fields of its
 * input, and pycql keeps every row-counting window directly over what it counts (a
 * projection below a plain ROWS window would be exact too, but gains little). Projects
 * with expressions that
 * are not element-wise (non-deterministic, dynamic, sub-queries, OVER) stay above.
 *
 * <pre>
 * before: LogicalProject(speed=[$1])
 *           CqlWindow(spec=[NOW])
 *             LogicalTableScan(table=[[S]])
 * after:  CqlWindow(spec=[NOW])
 *           LogicalProject(speed=[$1])
 *             LogicalTableScan(table=[[S]])
 * </pre>
 */
public final class ProjectWindowTransposeRule extends RelRule<RuleConfig> {
  /** The rule with its default operands. */
  public static final ProjectWindowTransposeRule INSTANCE =
      (ProjectWindowTransposeRule) RuleConfig.of("ProjectWindowTransposeRule",
          b0 -> b0.operand(Project.class).oneInput(b1 -> b1.operand(CqlWindow.class)
              .predicate(w -> w.spec.isTimeBased()).anyInputs()),
          ProjectWindowTransposeRule::new).toRule();

  private ProjectWindowTransposeRule(RuleConfig config) {
    super(config);
  }

  @Override public boolean matches(RelOptRuleCall call) {
    Project project = call.rel(0);
    return StreamExprs.allElementwise(project.getProjects());
  }

  @Override public void onMatch(RelOptRuleCall call) {
    Project project = call.rel(0);
    CqlWindow window = call.rel(1);
    RelNode pushed = project.copy(project.getTraitSet(), List.of(window.getInput()));
    call.transformTo(window.copy(window.getTraitSet(), List.of(pushed)));
  }
}
