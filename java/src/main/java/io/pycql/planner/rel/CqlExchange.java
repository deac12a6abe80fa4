package io.pycql.planner.rel;

import java.util.List;
import org.apache.calcite.plan.Convention;
import org.apache.calcite.plan.RelOptCluster;
import org.apache.calcite.plan.RelTraitSet;
import org.apache.calcite.rel.RelDistribution;
import org.apache.calcite.rel.RelDistributions;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.RelWriter;
import org.apache.calcite.rel.core.Exchange;
import org.apache.calcite.util.ImmutableIntList;

/**
 * A repartitioning of its input between two stages of a job: the rows (a stream's
 * elements, or a relation's +/- changes) are written to an intermediate topic of
 * {@link #partitions} partitions, by the hash of the columns {@link #keys} (in that order)
 * or all to one partition ({@link RelDistribution.Type#SINGLETON}), and read back by the
 * next stage. Its row type is its input's. In one process it passes rows through.
 *
 * <pre>{@code
 * CqlExchange.hash(input, List.of(1), 6);   // hash($1) over 6 partitions
 * CqlExchange.single(input);                // one task gets every row
 * }</pre>
 */
public final class CqlExchange extends Exchange {
  /** The hash key columns in hash order (empty for a single partition). */
  public final List<Integer> keys;
  /** The partitions of the intermediate topic: the tasks of the stage that reads it. */
  public final int partitions;

  private CqlExchange(RelOptCluster cluster, RelTraitSet traits, RelNode input,
      RelDistribution distribution, List<Integer> keys, int partitions) {
    super(cluster, traits, input, distribution);
    this.keys = List.copyOf(keys);
    this.partitions = partitions;
  }

  /** Rows hashed on {@code keys} (column indexes, in hash order) over {@code partitions}. */
  public static CqlExchange hash(RelNode input, List<Integer> keys, int partitions) {
    if (keys.isEmpty() || partitions < 1) {
      throw new IllegalArgumentException("a hash exchange needs keys and partitions");
    }
    return create(input, RelDistributions.of(RelDistribution.Type.HASH_DISTRIBUTED,
        ImmutableIntList.copyOf(keys)), keys, partitions);
  }

  /** Every row to one partition: one task of the next stage. */
  public static CqlExchange single(RelNode input) {
    return create(input, RelDistributions.SINGLETON, List.of(), 1);
  }

  private static CqlExchange create(RelNode input, RelDistribution distribution,
      List<Integer> keys, int partitions) {
    RelOptCluster cluster = input.getCluster();
    return new CqlExchange(cluster, cluster.traitSetOf(Convention.NONE), input, distribution,
        keys, partitions);
  }

  /** Whether all rows go to one partition. */
  public boolean isSingle() {
    return distribution.getType() == RelDistribution.Type.SINGLETON;
  }

  @Override public Exchange copy(RelTraitSet traitSet, RelNode newInput,
      RelDistribution newDistribution) {
    return new CqlExchange(getCluster(), traitSet, newInput, newDistribution,
        newDistribution.getType() == RelDistribution.Type.SINGLETON ? List.of() : keys,
        newDistribution.getType() == RelDistribution.Type.SINGLETON ? 1 : partitions);
  }

  @Override public RelWriter explainTerms(RelWriter pw) {
    return super.explainTerms(pw).item("keys", keys).item("partitions", partitions);
  }
}
