package io.pycql.planner.optimize;

import java.util.ArrayList;
import java.util.List;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.Filter;
import org.apache.calcite.rel.core.Project;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexInputRef;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.rex.RexShuttle;
import org.apache.calcite.rex.RexUtil;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A run of Filter and Project nodes, read from the top down to the first node that is
 * neither, and composed into one condition plus one list of expressions over that node.
 *
 * <pre>{@code
 * ElementwiseChain c = ElementwiseChain.below(projectOverFilterOverScan);
 * c.bottom();      // the scan (as the planner holds it: possibly a HepRelVertex)
 * c.compose(rb);   // [condition over the scan's fields, expressions over them]
 * }</pre>
 */
final class ElementwiseChain {
  /** The Filter and Project nodes, top first (planner wrappers stripped). */
  final List<RelNode> nodes;
  /** The first node that is neither, as referenced by the lowest chain node's input. */
  final RelNode bottom;

  private ElementwiseChain(List<RelNode> nodes, RelNode bottom) {
    this.nodes = nodes;
    this.bottom = bottom;
  }

  /** Walks down from {@code top} (which may itself be the bottom). */
  static ElementwiseChain below(RelNode top) {
    List<RelNode> nodes = new ArrayList<>();
    RelNode current = top;
    while (current.stripped() instanceof Filter || current.stripped() instanceof Project) {
      RelNode node = current.stripped();
      nodes.add(node);
      current = node.getInput(0);
    }
    return new ElementwiseChain(nodes, current);
  }

  /** Whether every expression of the chain may be evaluated per stream element. */
  boolean isElementwise() {
    for (RelNode node : nodes) {
      if (node instanceof Filter f && !StreamExprs.isElementwise(f.getCondition())) {
        return false;
      }
      if (node instanceof Project p && !StreamExprs.allElementwise(p.getProjects())) {
        return false;
      }
    }
    return true;
  }

  /** Rebuilds the chain over {@code newBottom} (same row type as {@link #bottom}). */
  RelNode rebuildOver(RelNode newBottom) {
    RelNode current = newBottom;
    for (int i = nodes.size() - 1; i >= 0; i--) {
      RelNode node = nodes.get(i);
      current = node.copy(node.getTraitSet(), List.of(current));
    }
    return current;
  }

  /** The chain as a condition (null = none) and expressions over the bottom's fields. */
  static final class Composed {
    final @Nullable RexNode condition;
    final List<RexNode> projects;

    Composed(@Nullable RexNode condition, List<RexNode> projects) {
      this.condition = condition;
      this.projects = projects;
    }
  }

  /**
   * Composes the chain, starting from {@code start} (a condition and expressions over the
   * fields of whatever lies under {@link #bottom}; pass {@link #identity} to start at the
   * bottom itself).
   */
  Composed compose(RexBuilder rexBuilder, Composed start) {
    List<RexNode> conditions = new ArrayList<>();
    if (start.condition != null) {
      conditions.add(start.condition);
    }
    List<RexNode> exprs = start.projects;
    for (int i = nodes.size() - 1; i >= 0; i--) {
      RelNode node = nodes.get(i);
      Substitute substitute = new Substitute(exprs);
      if (node instanceof Filter f) {
        conditions.add(f.getCondition().accept(substitute));
      } else {
        exprs = substitute.apply(((Project) node).getProjects());
      }
    }
    return new Composed(RexUtil.composeConjunction(rexBuilder, conditions, true), exprs);
  }

  /** A start for {@link #compose}: no condition, each field of {@code rel} as itself. */
  static Composed identity(RexBuilder rexBuilder, RelNode rel) {
    return new Composed(null, rexBuilder.identityProjects(rel.getRowType()));
  }

  /** Replaces field {@code i} by {@code exprs.get(i)}. */
  private static final class Substitute extends RexShuttle {
    private final List<RexNode> exprs;

    Substitute(List<RexNode> exprs) {
      this.exprs = exprs;
    }

    @Override public RexNode visitInputRef(RexInputRef ref) {
      return exprs.get(ref.getIndex());
    }
  }
}
