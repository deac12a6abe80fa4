package io.pycql.planner.rel;

import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.Objects;
import org.apache.calcite.plan.RelOptCluster;
import org.apache.calcite.plan.RelTraitSet;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.RelWriter;
import org.apache.calcite.rel.SingleRel;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeField;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.rex.RexShuttle;
import org.apache.calcite.rex.RexUtil;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A stateless stream operator: for each element of its input stream, emits
 * {@code projects} evaluated on it when {@code condition} (null = always) is TRUE.
 *
 * <p>It is what {@code ISTREAM(SELECT p FROM S [UNBOUNDED] WHERE c)} and
 * {@code RSTREAM(SELECT p FROM S [NOW] WHERE c)} compute, without keeping any synopsis
 * (built by {@code IStreamToStreamFilterRule}). Input and output are streams; every
 * output element keeps the timestamp of the input element it came from.
 *
 * <pre>{@code
 * CqlStreamFilter.create(scan, rexBuilder.makeCall(GREATER_THAN, ref1, lit65),
 *     List.of(ref0, ref1), istream.getRowType());
 * }</pre>
 */
public final class CqlStreamFilter extends SingleRel {
  /** Elements are kept when this is TRUE; null keeps every element. */
  public final @Nullable RexNode condition;
  /** One expression per output column, over the input row. */
  public final ImmutableList<RexNode> projects;

  private CqlStreamFilter(RelOptCluster cluster, RelTraitSet traits, RelNode input,
      @Nullable RexNode condition, List<? extends RexNode> projects, RelDataType rowType) {
    super(cluster, traits, input);
    this.condition = condition;
    this.projects = ImmutableList.copyOf(projects);
    this.rowType = Objects.requireNonNull(rowType, "rowType");
    if (projects.size() != rowType.getFieldCount()) {
      throw new IllegalArgumentException("stream filter has " + projects.size()
          + " expressions for " + rowType.getFieldCount() + " columns");
    }
  }

  /** Creates a stream filter whose output row type is {@code rowType} (names and types). */
  public static CqlStreamFilter create(RelNode input, @Nullable RexNode condition,
      List<? extends RexNode> projects, RelDataType rowType) {
    return new CqlStreamFilter(input.getCluster(), input.getTraitSet(), input, condition,
        projects, rowType);
  }

  /** Creates a stream filter whose output columns are named {@code names}. */
  public static CqlStreamFilter create(RelNode input, @Nullable RexNode condition,
      List<? extends RexNode> projects, List<String> names) {
    RelDataType rowType = RexUtil.createStructType(input.getCluster().getTypeFactory(),
        projects, names, null);
    return create(input, condition, projects, rowType);
  }

  @Override protected RelDataType deriveRowType() {
    return rowType;
  }

  @Override public RelNode copy(RelTraitSet traitSet, List<RelNode> inputs) {
    return new CqlStreamFilter(getCluster(), traitSet, sole(inputs), condition, projects,
        rowType);
  }

  @Override public RelNode accept(RexShuttle shuttle) {
    RexNode newCondition = condition == null ? null : condition.accept(shuttle);
    List<RexNode> newProjects = shuttle.apply(projects);
    if (newCondition == condition && newProjects.equals(projects)) {
      return this;
    }
    return new CqlStreamFilter(getCluster(), traitSet, input, newCondition, newProjects,
        rowType);
  }

  @Override public RelWriter explainTerms(RelWriter pw) {
    super.explainTerms(pw).itemIf("condition", condition, condition != null);
    List<RelDataTypeField> fields = rowType.getFieldList();
    for (int i = 0; i < projects.size(); i++) {
      pw.item(fields.get(i).getName(), projects.get(i));
    }
    return pw;
  }
}
