package io.pycql.planner.json;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import org.apache.calcite.rel.RelNode;

/**
 * The operators of a plan in topological order (inputs first), numbered from 0; one
 * number per node object, so a node used twice (a shared window) is one operator.
 */
final class PlanGraph {
  final List<RelNode> order = new ArrayList<>();
  private final IdentityHashMap<RelNode, Integer> ids = new IdentityHashMap<>();
  private final IdentityHashMap<RelNode, Integer> uses = new IdentityHashMap<>();
  final RelNode root;

  PlanGraph(RelNode root) {
    this.root = root.stripped();
    visit(this.root);
  }

  private void visit(RelNode rel) {
    if (ids.containsKey(rel)) {
      return;
    }
    for (RelNode input : rel.getInputs()) {
      RelNode node = input.stripped();
      uses.merge(node, 1, Integer::sum);
      visit(node);
    }
    ids.put(rel, order.size());
    order.add(rel);
  }

  int id(RelNode rel) {
    return ids.get(rel.stripped());
  }

  /** How many times operators take {@code rel} as an input. */
  int uses(RelNode rel) {
    return uses.getOrDefault(rel.stripped(), 0);
  }
}
