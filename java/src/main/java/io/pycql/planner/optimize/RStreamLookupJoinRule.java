package io.pycql.planner.optimize;

import io.pycql.planner.rel.CqlLookupJoin;
import io.pycql.planner.rel.CqlRelToStream;
import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import java.util.ArrayList;
import java.util.List;
import org.apache.calcite.plan.RelOptRuleCall;
import org.apache.calcite.plan.RelRule;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.Join;
import org.apache.calcite.rel.core.JoinRelType;
import org.apache.calcite.rel.logical.LogicalProject;
import org.apache.calcite.rel.type.RelDataTypeField;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexInputRef;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.rex.RexShuttle;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Turns {@code RSTREAM} of a join between a NOW window and a relation into a
 * {@link CqlLookupJoin}, STREAM's {@code Rstream(select * from S1 [Now], R Where S1.A = R.A)}:
 *
 * <pre>
 * RSTREAM( [Project|Filter]* Join( [Project|Filter]* Window[NOW](S), R ) )
 *   =&gt;  [Project|Filter]* LookupJoin( [Project|Filter]* S, R )
 * </pre>
 *
 * <p>Representation: the Project/Filter nodes above the join stay where they are and now
 * work on a stream, element by element (a Filter or Project whose input is a stream is a
 * stateless stream operator; see docs/plan-json.md). Those between the join and the
 * window move below it, onto the stream, as ProjectWindowTransposeRule/
 * FilterWindowTransposeRule would. If S is the right input of the join, the lookup join
 * takes it as input 0 anyway and a Project on top restores the original column order.
 *
 * <p>Why it is exact: at instant τ, S [NOW] holds the elements stamped τ, so the join
 * holds each of them matched with R(τ), and RSTREAM emits that whole relation at τ —
 * which is the lookup join of the elements stamped τ with R as of τ. Filters and projects
 * above distribute over the bag RSTREAM emits. R may be any relation: a table, or a stream
 * under any window (a stream under UNBOUNDED is the relation of all its elements so far;
 * the runtime maintains it incrementally, applying R's changes at τ before joining the
 * elements stamped τ). The join type must preserve nothing of R: INNER, LEFT/SEMI/ANTI
 * with S on the left, RIGHT with S on the right (then it becomes LEFT).
 */
public final class RStreamLookupJoinRule extends RelRule<RuleConfig> {
  /** The rule with its default operands. */
  public static final RStreamLookupJoinRule INSTANCE =
      (RStreamLookupJoinRule) RuleConfig.of("RStreamLookupJoinRule",
          b0 -> b0.operand(CqlRelToStream.class)
              .predicate(s -> s.kind == RelToStreamKind.RSTREAM).anyInputs(),
          RStreamLookupJoinRule::new).toRule();

  private RStreamLookupJoinRule(RuleConfig config) {
    super(config);
  }

  @Override public void onMatch(RelOptRuleCall call) {
    CqlRelToStream toStream = call.rel(0);
    ElementwiseChain above = ElementwiseChain.below(toStream.getInput());
    if (!(above.bottom.stripped() instanceof Join join) || join instanceof CqlLookupJoin
        || !above.isElementwise()) {
      return;
    }
    @Nullable RelNode left = streamSide(join.getLeft());
    boolean streamOnLeft = left != null
        && (join.getJoinType() == JoinRelType.INNER || join.getJoinType() == JoinRelType.LEFT
            || join.getJoinType() == JoinRelType.SEMI || join.getJoinType() == JoinRelType.ANTI);
    RelNode lookup;
    if (streamOnLeft) {
      lookup = CqlLookupJoin.create(left, join.getRight(), join.getCondition(),
          join.getJoinType());
    } else {
      @Nullable RelNode right = streamSide(join.getRight());
      if (right == null || (join.getJoinType() != JoinRelType.INNER
          && join.getJoinType() != JoinRelType.RIGHT)) {
        return;
      }
      lookup = swapped(join, right);
    }
    call.transformTo(above.rebuildOver(lookup));
  }

  /**
   * If {@code side} is [Project|Filter]* over a NOW window, the same element-wise chain over
   * the window's stream; else null.
   */
  private static @Nullable RelNode streamSide(RelNode side) {
    ElementwiseChain chain = ElementwiseChain.below(side);
    if (!(chain.bottom.stripped() instanceof CqlWindow window)
        || window.spec.kind != WindowSpec.Kind.NOW || !chain.isElementwise()) {
      return null;
    }
    return chain.rebuildOver(window.getInput());
  }

  /** Join(R, S) as Project(LookupJoin(S, R)) with the columns of Join(R, S). */
  private static RelNode swapped(Join join, RelNode stream) {
    RexBuilder rexBuilder = join.getCluster().getRexBuilder();
    int relationCount = join.getLeft().getRowType().getFieldCount();
    int streamCount = join.getRight().getRowType().getFieldCount();
    RexNode condition = join.getCondition().accept(new RexShuttle() {
      @Override public RexNode visitInputRef(RexInputRef ref) {
        int i = ref.getIndex();
        int moved = i < relationCount ? i + streamCount : i - relationCount;
        return new RexInputRef(moved, ref.getType());
      }
    });
    CqlLookupJoin lookup = CqlLookupJoin.create(stream, join.getLeft(), condition,
        join.getJoinType() == JoinRelType.RIGHT ? JoinRelType.LEFT : JoinRelType.INNER);
    List<RexNode> restore = new ArrayList<>();
    List<RelDataTypeField> lookupFields = lookup.getRowType().getFieldList();
    for (int i = 0; i < relationCount + streamCount; i++) {
      int from = i < relationCount ? i + streamCount : i - relationCount;
      restore.add(new RexInputRef(from, lookupFields.get(from).getType()));
    }
    return LogicalProject.create(lookup, List.of(), restore, join.getRowType().getFieldNames(),
        java.util.Set.of());
  }
}
