package io.pycql.planner.rel;

import java.util.List;
import org.apache.calcite.plan.Convention;
import org.apache.calcite.plan.RelOptCluster;
import org.apache.calcite.plan.RelTraitSet;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.RelWriter;
import org.apache.calcite.rel.SingleRel;

/**
 * CQL stream-to-relation operator: a window over a stream. Its row type is its
 * input's; its output is a relation. Logical (Convention.NONE).
 */
public final class CqlWindow extends SingleRel {
  public final WindowSpec spec;

  private CqlWindow(RelOptCluster cluster, RelTraitSet traits, RelNode input, WindowSpec spec) {
    super(cluster, traits, input);
    this.spec = spec;
  }

  public static CqlWindow create(RelNode input, WindowSpec spec) {
    RelOptCluster cluster = input.getCluster();
    return new CqlWindow(cluster, cluster.traitSetOf(Convention.NONE), input, spec);
  }

  @Override public RelNode copy(RelTraitSet traitSet, List<RelNode> inputs) {
    return new CqlWindow(getCluster(), traitSet, sole(inputs), spec);
  }

  @Override public RelWriter explainTerms(RelWriter pw) {
    return super.explainTerms(pw).item("window", spec.toString());
  }
}
