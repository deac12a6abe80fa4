package io.pycql.planner.rel;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import java.util.EnumSet;
import java.util.Set;
import org.apache.calcite.plan.RelOptCluster;
import org.apache.calcite.plan.RelTraitSet;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.Join;
import org.apache.calcite.rel.core.JoinRelType;
import org.apache.calcite.rex.RexNode;

/**
 * {@code RSTREAM(S [NOW] JOIN R)} as a stream operator: input 0 (left) is a stream,
 * input 1 (right) a relation. Each stream element arriving at instant τ is joined with
 * the relation as of τ; the output is a stream whose elements keep the stream
 * element's timestamp. Only the relation side keeps state.
 *
 * <p>The join types are those that preserve nothing of the relation side:
 * {@code INNER}, {@code LEFT} (unmatched stream elements padded with nulls),
 * {@code SEMI} and {@code ANTI}. Built by {@code RStreamLookupJoinRule}.
 *
 * <pre>{@code
 * CqlLookupJoin.create(streamScan, tableScan, equalsCondition, JoinRelType.INNER);
 * }</pre>
 */
public final class CqlLookupJoin extends Join {
  /** The join types a lookup join can compute. */
  public static final Set<JoinRelType> SUPPORTED_TYPES =
      EnumSet.of(JoinRelType.INNER, JoinRelType.LEFT, JoinRelType.SEMI, JoinRelType.ANTI);

  private CqlLookupJoin(RelOptCluster cluster, RelTraitSet traits, RelNode stream,
      RelNode relation, RexNode condition, JoinRelType joinType) {
    super(cluster, traits, ImmutableList.of(), stream, relation, condition, ImmutableSet.of(),
        joinType);
    if (!SUPPORTED_TYPES.contains(joinType)) {
      throw new IllegalArgumentException("a lookup join cannot be " + joinType
          + ": it would have to preserve rows of the relation side");
    }
  }

  /** Joins each element of {@code stream} with {@code relation} as of its instant. */
  public static CqlLookupJoin create(RelNode stream, RelNode relation, RexNode condition,
      JoinRelType joinType) {
    return new CqlLookupJoin(stream.getCluster(), stream.getTraitSet(), stream, relation,
        condition, joinType);
  }

  @Override public CqlLookupJoin copy(RelTraitSet traitSet, RexNode condition, RelNode left,
      RelNode right, JoinRelType joinType, boolean semiJoinDone) {
    return new CqlLookupJoin(getCluster(), traitSet, left, right, condition, joinType);
  }
}
