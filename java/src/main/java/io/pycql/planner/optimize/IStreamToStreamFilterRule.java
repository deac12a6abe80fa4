package io.pycql.planner.optimize;

import io.pycql.planner.catalog.CqlSourceTable;
import io.pycql.planner.rel.CqlRelToStream;
import io.pycql.planner.rel.CqlStreamFilter;
import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import org.apache.calcite.plan.RelOptRuleCall;
import org.apache.calcite.plan.RelRule;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.TableScan;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexInputRef;
import org.apache.calcite.rex.RexNode;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Turns a relation-to-stream operator over a select-project of a NOW or UNBOUNDED window
 * into a stateless {@link CqlStreamFilter} over the stream:
 *
 * <pre>
 * ISTREAM( [Project] [Filter] Window[UNBOUNDED]( [Project] [Filter] X ) )  =&gt;  StreamFilter(X)
 * RSTREAM( [Project] [Filter] Window[NOW]( [Project] [Filter] X ) )        =&gt;  StreamFilter(X)
 * ISTREAM( [Project] [Filter] Window[NOW]( [Project] [Filter] X ) )        =&gt;  StreamFilter(X)
 *     only when the output keeps X's timestamp column (see below)
 * </pre>
 *
 * where X is any stream (a stream source, or another stream filter, which is merged).
 *
 * <p>Why it is exact (bag semantics, R(τ) the relation at instant τ):
 * <ul>
 * <li>ISTREAM over UNBOUNDED: R(τ-1) is contained in R(τ) as a bag, and select and project
 *   distribute over bag union, so R(τ) - R(τ-1) is exactly the select-project of the
 *   elements stamped τ, duplicates included.</li>
 * <li>RSTREAM over NOW: R(τ) is the select-project of the elements stamped τ, emitted at τ.</li>
 * <li>ISTREAM over NOW is NOT exact in general: R(τ-1) holds the previous instant's
 *   elements, and an output tuple equal to one produced at τ-1 is cancelled by the bag
 *   difference (S = {(1)@1, (1)@2} gives ISTREAM(S [NOW]) = {(1)@1} only). It is exact
 *   when every output tuple carries its source's timestamp column unchanged, since tuples
 *   of different instants then always differ; only then is it rewritten.</li>
 * </ul>
 */
public final class IStreamToStreamFilterRule extends RelRule<RuleConfig> {
  /** The rule with its default operands. */
  public static final IStreamToStreamFilterRule INSTANCE =
      (IStreamToStreamFilterRule) RuleConfig.of("IStreamToStreamFilterRule",
          b0 -> b0.operand(CqlRelToStream.class)
              .predicate(s -> s.kind != RelToStreamKind.DSTREAM).anyInputs(),
          IStreamToStreamFilterRule::new).toRule();

  private IStreamToStreamFilterRule(RuleConfig config) {
    super(config);
  }

  @Override public void onMatch(RelOptRuleCall call) {
    CqlRelToStream toStream = call.rel(0);
    ElementwiseChain above = ElementwiseChain.below(toStream.getInput());
    if (!(above.bottom.stripped() instanceof CqlWindow window)
        || !fits(toStream.kind, window.spec.kind)) {
      return;
    }
    ElementwiseChain below = ElementwiseChain.below(window.getInput());
    if (!above.isElementwise() || !below.isElementwise()) {
      return;
    }
    RexBuilder rexBuilder = toStream.getCluster().getRexBuilder();
    RelNode stream = below.bottom;
    ElementwiseChain.Composed start = ElementwiseChain.identity(rexBuilder, stream);
    if (stream.stripped() instanceof CqlStreamFilter inner) {
      stream = inner.getInput();
      start = new ElementwiseChain.Composed(inner.condition, inner.projects);
    }
    ElementwiseChain.Composed composed =
        above.compose(rexBuilder, below.compose(rexBuilder, start));
    if (toStream.kind == RelToStreamKind.ISTREAM && window.spec.kind == WindowSpec.Kind.NOW
        && !keepsTimestampColumn(stream, composed)) {
      return;
    }
    call.transformTo(CqlStreamFilter.create(stream, composed.condition, composed.projects,
        toStream.getRowType()));
  }

  private static boolean fits(RelToStreamKind toStream, WindowSpec.Kind window) {
    switch (toStream) {
    case ISTREAM:
      return window == WindowSpec.Kind.UNBOUNDED || window == WindowSpec.Kind.NOW;
    case RSTREAM:
      return window == WindowSpec.Kind.NOW;
    default:
      return false;
    }
  }

  /** Whether one output column is the stream source's timestamp column, unchanged. */
  private static boolean keepsTimestampColumn(RelNode stream, ElementwiseChain.Composed c) {
    @Nullable Integer timestampField = timestampField(stream.stripped());
    if (timestampField == null) {
      return false;
    }
    for (RexNode e : c.projects) {
      if (e instanceof RexInputRef ref && ref.getIndex() == timestampField) {
        return true;
      }
    }
    return false;
  }

  private static @Nullable Integer timestampField(RelNode stream) {
    if (!(stream instanceof TableScan scan)) {
      return null;
    }
    CqlSourceTable source = scan.getTable().unwrap(CqlSourceTable.class);
    if (source == null || source.timestampColumn() == null) {
      return null;
    }
    java.util.List<String> names = scan.getRowType().getFieldNames();
    for (int i = 0; i < names.size(); i++) {
      if (names.get(i).equalsIgnoreCase(source.timestampColumn())) {
        return i;
      }
    }
    return null;
  }
}
