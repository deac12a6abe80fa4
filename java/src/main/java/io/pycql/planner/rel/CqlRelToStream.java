package io.pycql.planner.rel;

import java.util.List;
import org.apache.calcite.plan.Convention;
import org.apache.calcite.plan.RelOptCluster;
import org.apache.calcite.plan.RelTraitSet;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.RelWriter;
import org.apache.calcite.rel.SingleRel;

/**
 * CQL relation-to-stream operator (ISTREAM, DSTREAM or RSTREAM). Its row type is
 * its input's; its output is a stream. Logical (Convention.NONE).
 */
public final class CqlRelToStream extends SingleRel {
  public final RelToStreamKind kind;

  private CqlRelToStream(RelOptCluster cluster, RelTraitSet traits, RelNode input,
      RelToStreamKind kind) {
    super(cluster, traits, input);
    this.kind = kind;
  }

  public static CqlRelToStream create(RelNode input, RelToStreamKind kind) {
    RelOptCluster cluster = input.getCluster();
    return new CqlRelToStream(cluster, cluster.traitSetOf(Convention.NONE), input, kind);
  }

  @Override public RelNode copy(RelTraitSet traitSet, List<RelNode> inputs) {
    return new CqlRelToStream(getCluster(), traitSet, sole(inputs), kind);
  }

  @Override public RelWriter explainTerms(RelWriter pw) {
    return super.explainTerms(pw).item("kind", kind);
  }
}
