package io.pycql.planner.rel;

import java.util.List;
import java.util.Objects;
import org.apache.calcite.plan.RelOptCluster;
import org.apache.calcite.plan.RelTraitSet;
import org.apache.calcite.rel.RelCollation;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.RelWriter;
import org.apache.calcite.rel.SingleRel;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.util.ImmutableBitSet;

/**
 * Top-N per partition: the rows of its input relation whose {@code ROW_NUMBER() OVER
 * (PARTITION BY keys ORDER BY collation)} is at most {@code limit}, each followed by that
 * row number (a {@code BIGINT}). It is {@code Filter(rn <= limit, Window(ROW_NUMBER))}
 * (built by {@code WindowTopNRule}), kept incrementally: the runtime keeps each partition's
 * rows in order and emits only the changes among the first {@code limit}.
 *
 * <pre>{@code
 * CqlTopN.create(window.getInput(), group.keys, group.orderKeys, 3, window.getRowType());
 * }</pre>
 */
public final class CqlTopN extends SingleRel {
  /** The partition columns (input field indexes). */
  public final ImmutableBitSet partitionKeys;
  /** The order within a partition. */
  public final RelCollation collation;
  /** How many rows of each partition are kept (at least 1). */
  public final long limit;

  private CqlTopN(RelOptCluster cluster, RelTraitSet traits, RelNode input,
      ImmutableBitSet partitionKeys, RelCollation collation, long limit, RelDataType rowType) {
    super(cluster, traits, input);
    this.partitionKeys = Objects.requireNonNull(partitionKeys, "partitionKeys");
    this.collation = Objects.requireNonNull(collation, "collation");
    this.limit = limit;
    this.rowType = Objects.requireNonNull(rowType, "rowType");
    if (rowType.getFieldCount() != input.getRowType().getFieldCount() + 1) {
      throw new IllegalArgumentException("a top-N outputs its input's columns and the row "
          + "number");
    }
  }

  /** The top {@code limit} rows of each partition; {@code rowType} is the input's + rn. */
  public static CqlTopN create(RelNode input, ImmutableBitSet partitionKeys,
      RelCollation collation, long limit, RelDataType rowType) {
    return new CqlTopN(input.getCluster(), input.getTraitSet(), input, partitionKeys,
        collation, limit, rowType);
  }

  @Override protected RelDataType deriveRowType() {
    return rowType;
  }

  @Override public RelNode copy(RelTraitSet traitSet, List<RelNode> inputs) {
    return new CqlTopN(getCluster(), traitSet, sole(inputs), partitionKeys, collation, limit,
        rowType);
  }

  @Override public RelWriter explainTerms(RelWriter pw) {
    return super.explainTerms(pw).item("partition", partitionKeys)
        .item("order", collation).item("limit", limit);
  }
}
