package io.pycql.planner.optimize;

import io.pycql.planner.rel.CqlRelToStream;
import io.pycql.planner.rel.CqlStreamFilter;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.apache.calcite.plan.RelOptCostImpl;
import org.apache.calcite.plan.RelOptRule;
import org.apache.calcite.plan.hep.HepMatchOrder;
import org.apache.calcite.plan.hep.HepPlanner;
import org.apache.calcite.plan.hep.HepProgram;
import org.apache.calcite.plan.hep.HepProgramBuilder;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.Project;
import org.apache.calcite.rel.logical.LogicalAggregate;
import org.apache.calcite.rel.logical.LogicalJoin;
import org.apache.calcite.rel.logical.LogicalProject;
import org.apache.calcite.rel.rules.AggregateExtractProjectRule;
import org.apache.calcite.rel.rules.CoreRules;
import org.apache.calcite.rel.rules.ProjectJoinTransposeRule;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexCall;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.rex.RexShuttle;
import org.apache.calcite.rex.RexUtil;
import org.apache.calcite.sql.SqlKind;

/**
 * pycql's optimizer: turns the logical CQL plan into the plan the JSON writer writes.
 *
 * <ol>
 * <li>{@link #WINDOWS}: SQL window functions ({@code RexOver} in a project) become
 *   {@code LogicalWindow} nodes (Calcite's ProjectToWindowRule); always applied.</li>
 * <li>{@link #SIMPLIFY}: Calcite's semantics-preserving rewrites (constant reduction,
 *   filter/project merging and pushing, join condition pushing) together with
 *   {@link FilterWindowTransposeRule}, {@link ProjectWindowTransposeRule} and
 *   {@link WindowTopNRule}, to a fixpoint.
 *   No rule that changes aggregate functions (AVG stays AVG) or crosses a
 *   relation-to-stream operator.</li>
 * <li>{@link #STREAMS}: {@link IStreamToStreamFilterRule} and {@link RStreamLookupJoinRule}.</li>
 * <li>{@link #CLEANUP}: merges and removes the projects the stream rules leave.</li>
 * <li>{@link #PRUNE}: a join's inputs keep only the columns used above the join or in its
 *   condition, pushed below the windows under it where they may go, so that the join's
 *   synopses hold narrower rows (and the sources decode fewer columns).</li>
 * <li>SEARCH/Sarg calls are expanded into comparisons, the root's column names are
 *   restored if a rule dropped a renaming project, and {@link SharedSubplanRule} makes
 *   equal windows one node.</li>
 * <li>{@link ExchangeRule} puts an exchange where an operator's state needs its input
 *   partitioned otherwise: the plan's stages.</li>
 * <li>{@link TwoPhaseAggregateRule} splits an aggregate above an exchange into partial
 *   aggregates below it and a final one above, where that pays.</li>
 * </ol>
 *
 * <p>Rules are named by their class's simple name ({@code "FilterMergeRule"},
 * {@code "FilterIntoJoinRule"}, {@code "SharedSubplanRule"}, ...; see {@link #ruleNames()});
 * a name in {@code disabledRules} is not applied.
 *
 * <pre>{@code
 * RelNode physical = CqlOptimizer.optimize(logical, Set.of("IStreamToStreamFilterRule"));
 * }</pre>
 */
public final class CqlOptimizer {
  /** The first program: window functions out of projects into window nodes. */
  public static final List<RelOptRule> WINDOWS = List.of(
      CoreRules.PROJECT_TO_LOGICAL_PROJECT_AND_WINDOW);

  /** The second program: standard simplifications, the window transposes and top-N. */
  public static final List<RelOptRule> SIMPLIFY = List.of(
      CoreRules.FILTER_REDUCE_EXPRESSIONS,
      CoreRules.PROJECT_REDUCE_EXPRESSIONS,
      CoreRules.JOIN_REDUCE_EXPRESSIONS,
      CoreRules.FILTER_MERGE,
      CoreRules.PROJECT_MERGE,
      CoreRules.PROJECT_REMOVE,
      CoreRules.FILTER_PROJECT_TRANSPOSE,
      CoreRules.FILTER_INTO_JOIN,
      CoreRules.JOIN_CONDITION_PUSH,
      CoreRules.JOIN_PUSH_EXPRESSIONS,
      CoreRules.FILTER_AGGREGATE_TRANSPOSE,
      CoreRules.FILTER_SET_OP_TRANSPOSE,
      CoreRules.AGGREGATE_PROJECT_MERGE,
      FilterWindowTransposeRule.INSTANCE,
      ProjectWindowTransposeRule.INSTANCE,
      WindowTopNRule.INSTANCE);

  /** The second program: relation-to-stream rewrites into stateless stream operators. */
  public static final List<RelOptRule> STREAMS = List.of(
      IStreamToStreamFilterRule.INSTANCE,
      RStreamLookupJoinRule.INSTANCE);

  /** The third program: tidies the projects the stream rules leave. */
  public static final List<RelOptRule> CLEANUP = List.of(
      CoreRules.PROJECT_MERGE,
      CoreRules.PROJECT_REMOVE);

  /**
   * The fourth program: the columns a join's state keeps. An aggregate over a join gets a
   * project of the columns it uses (AggregateExtractProjectRule; not in {@link #SIMPLIFY},
   * whose AggregateProjectMergeRule undoes it), a project over a join is split onto the
   * join's inputs (ProjectJoinTransposeRule: each keeps the columns used above and in the
   * condition; expressions stay above the join) and goes on below NOW, RANGE and
   * UNBOUNDED windows. Exact for relations:
   * projecting before an equi- or theta-join that keeps the condition's columns gives the
   * same bag as projecting after it.
   */
  public static final List<RelOptRule> PRUNE = List.of(
      AggregateExtractProjectRule.Config.DEFAULT
          .withOperandFor(LogicalAggregate.class, LogicalJoin.class).toRule(),
      // columns only, no expression pushed (what an outer join's null side gets is exact)
      ProjectJoinTransposeRule.Config.DEFAULT.withPreserveExprCondition(expr -> false)
          .toRule(),
      ProjectWindowTransposeRule.INSTANCE,
      CoreRules.PROJECT_MERGE,
      CoreRules.PROJECT_REMOVE);

  /** The name of the window-sharing pass in {@code disabledRules}. */
  public static final String SHARED_SUBPLAN_RULE = SharedSubplanRule.class.getSimpleName();

  /** The name of the exchange pass in {@code disabledRules} (off: one stage, one task). */
  public static final String EXCHANGE_RULE = ExchangeRule.class.getSimpleName();

  /** The name of the two-phase aggregation pass in {@code disabledRules}. */
  public static final String TWO_PHASE_AGGREGATE_RULE =
      TwoPhaseAggregateRule.class.getSimpleName();

  private CqlOptimizer() {
  }

  /** The names {@code disabledRules} understands, in the order the rules run. */
  public static List<String> ruleNames() {
    List<String> names = new ArrayList<>();
    for (List<RelOptRule> program : List.of(SIMPLIFY, STREAMS, CLEANUP, PRUNE)) {
      for (RelOptRule rule : program) {
        if (!names.contains(nameOf(rule))) {
          names.add(nameOf(rule));
        }
      }
    }
    names.add(SHARED_SUBPLAN_RULE);
    names.add(EXCHANGE_RULE);
    names.add(TWO_PHASE_AGGREGATE_RULE);
    return names;
  }

  /** The name of {@code rule} in {@code disabledRules}: its class's simple name. */
  public static String nameOf(RelOptRule rule) {
    return rule.getClass().getSimpleName();
  }

  /** Optimizes {@code logical}, skipping the rules named in {@code disabledRules}. */
  public static RelNode optimize(RelNode logical, Set<String> disabledRules) {
    // the runtime has no window functions inside expressions: WINDOWS cannot be disabled
    RelNode plan = run(logical, WINDOWS, Set.of());
    for (List<RelOptRule> program : List.of(SIMPLIFY, STREAMS, CLEANUP, PRUNE)) {
      plan = run(plan, program, disabledRules);
    }
    plan = expandSearch(plan);
    plan = restoreNames(plan, logical.getRowType().getFieldNames());
    if (!disabledRules.contains(SHARED_SUBPLAN_RULE)) {
      plan = SharedSubplanRule.apply(plan);
    }
    if (!disabledRules.contains(EXCHANGE_RULE)) {
      plan = ExchangeRule.apply(plan);
      if (!disabledRules.contains(TWO_PHASE_AGGREGATE_RULE)) {
        plan = TwoPhaseAggregateRule.apply(plan);
      }
    }
    return plan;
  }

  private static RelNode run(RelNode plan, List<RelOptRule> rules, Set<String> disabled) {
    List<RelOptRule> enabled = new ArrayList<>();
    for (RelOptRule rule : rules) {
      if (!disabled.contains(nameOf(rule))) {
        enabled.add(rule);
      }
    }
    if (enabled.isEmpty()) {
      return plan;
    }
    // bottom-up: a stream rewritten below is a stream filter when the one above is matched,
    // so IStreamToStreamFilterRule merges the two
    HepProgram program = new HepProgramBuilder().addMatchOrder(HepMatchOrder.BOTTOM_UP)
        .addRuleCollection(enabled).build();
    // noDag: every use stays its own vertex, so sharing is decided by SharedSubplanRule alone
    HepPlanner planner = new HepPlanner(program, null, true, null, RelOptCostImpl.FACTORY);
    planner.setExecutor(io.pycql.planner.validate.CqlExecutor.INSTANCE);
    planner.setRoot(plan);
    return planner.findBestExp();
  }

  /** Rewrites every SEARCH call (Calcite's Sarg ranges) into plain comparisons. */
  static RelNode expandSearch(RelNode root) {
    RexBuilder rexBuilder = root.getCluster().getRexBuilder();
    RexShuttle expander = new RexShuttle() {
      @Override public RexNode visitCall(RexCall call) {
        if (call.getKind() == SqlKind.SEARCH) {
          return RexUtil.expandSearch(rexBuilder, null, call).accept(this);
        }
        return super.visitCall(call);
      }
    };
    return rewrite(root, expander, new IdentityHashMap<>());
  }

  private static RelNode rewrite(RelNode rel, RexShuttle shuttle,
      IdentityHashMap<RelNode, RelNode> done) {
    RelNode cached = done.get(rel);
    if (cached != null) {
      return cached;
    }
    List<RelNode> inputs = new ArrayList<>();
    boolean changed = false;
    for (RelNode input : rel.getInputs()) {
      RelNode newInput = rewrite(input, shuttle, done);
      changed |= newInput != input;
      inputs.add(newInput);
    }
    RelNode result = changed ? rel.copy(rel.getTraitSet(), inputs) : rel;
    result = result.accept(shuttle);
    done.put(rel, result);
    return result;
  }

  /**
   * Gives the root's columns the names of the logical plan's (a rule such as
   * ProjectRemoveRule drops a project that only renames).
   */
  static RelNode restoreNames(RelNode root, List<String> names) {
    if (root.getRowType().getFieldNames().equals(names)) {
      return root;
    }
    if (root instanceof CqlStreamFilter f) {
      return CqlStreamFilter.create(f.getInput(), f.condition, f.projects, names);
    }
    if (root instanceof CqlRelToStream s) {
      return s.copy(s.getTraitSet(), List.of(restoreNames(s.getInput(), names)));
    }
    if (root instanceof Project p) {
      return LogicalProject.create(p.getInput(), p.getHints(), p.getProjects(), names,
          p.getVariablesSet());
    }
    return LogicalProject.create(root, List.of(),
        root.getCluster().getRexBuilder().identityProjects(root.getRowType()), names, Set.of());
  }
}
