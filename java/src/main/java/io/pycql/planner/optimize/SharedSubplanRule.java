package io.pycql.planner.optimize;

import io.pycql.planner.rel.CqlRelToStream;
import io.pycql.planner.rel.CqlWindow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.RelWriter;
import org.apache.calcite.rel.core.Aggregate;
import org.apache.calcite.rel.core.Filter;
import org.apache.calcite.rel.core.Project;
import org.apache.calcite.rel.core.TableScan;
import org.apache.calcite.rex.RexCall;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.rex.RexShuttle;
import org.apache.calcite.sql.SqlExplainLevel;
import org.apache.calcite.util.Pair;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A pass (run after the rule programs) that makes equal subplans one node: equal windows
 * on the same stream share one synopsis, and equal aggregates over a shared window one
 * group table. The plan becomes a DAG in which one node feeds every parent that used an
 * equal subplan.
 *
 * <p>Two windows are equal when their specs are equal and their inputs are the same node;
 * inputs become the same node because equal sources (scans of the same stream or table)
 * and equal element-wise operators over equal inputs (deterministic Filter and Project
 * pushed below windows) are shared first. Above a window, an aggregate is shared when an
 * equal one (same groups, same calls, same names) reads the same node: Nexmark's q5 counts
 * the bids of each window twice, once for its rows and once for their MAX. Joins,
 * relation-to-stream operators and the element-wise operators above windows keep one node
 * per use.
 *
 * <pre>
 * before:  Union(all)                    after:  Union(all)
 *            Filter(a &gt; 1)                        Filter(a &gt; 1)
 *              Window(RANGE 30 s)                    Window(RANGE 30 s) #w
 *                Scan(S)                               Scan(S)
 *            Filter(a &lt; 0)                        Filter(a &lt; 0)
 *              Window(RANGE 30 s)                    #w (the same node)
 *                Scan(S)
 * </pre>
 */
public final class SharedSubplanRule {
  private final Map<String, RelNode> canonical = new HashMap<>();
  private final IdentityHashMap<RelNode, RelNode> rewritten = new IdentityHashMap<>();
  private final IdentityHashMap<RelNode, Integer> ids = new IdentityHashMap<>();
  private final IdentityHashMap<RelNode, Boolean> shared = new IdentityHashMap<>();

  private SharedSubplanRule() {
  }

  /** Returns {@code root} with equal windows (and the sources under them) shared. */
  public static RelNode apply(RelNode root) {
    return new SharedSubplanRule().visit(root);
  }

  private RelNode visit(RelNode rel) {
    RelNode done = rewritten.get(rel);
    if (done != null) {
      return done;
    }
    List<RelNode> inputs = new ArrayList<>();
    boolean changed = false;
    for (RelNode input : rel.getInputs()) {
      RelNode newInput = visit(input);
      changed |= newInput != input;
      inputs.add(newInput);
    }
    RelNode result = changed ? rel.copy(rel.getTraitSet(), inputs) : rel;
    if (isShareable(result)) {
      String key = key(result);
      RelNode existing = canonical.get(key);
      if (existing == null) {
        canonical.put(key, result);
        shared.put(result, Boolean.TRUE);
      } else {
        result = existing;
      }
    }
    rewritten.put(rel, result);
    return result;
  }

  private boolean isShareable(RelNode rel) {
    if (rel instanceof TableScan || rel instanceof CqlWindow) {
      return true;
    }
    if (rel instanceof Aggregate) {  // a relation's aggregate: a function of its input
      return shared.containsKey(rel.getInput(0));
    }
    // element-wise operators are shared where they lie under windows: over a shared source
    // or another shared element-wise operator
    return (rel instanceof Filter || rel instanceof Project)
        && shared.containsKey(rel.getInput(0)) && !(rel.getInput(0) instanceof CqlWindow)
        && isDeterministic(rel);
  }

  private static boolean isDeterministic(RelNode rel) {
    boolean[] deterministic = {true};
    rel.accept(new RexShuttle() {
      @Override public RexNode visitCall(RexCall call) {
        if (!call.getOperator().isDeterministic() || call.getOperator().isDynamicFunction()) {
          deterministic[0] = false;
        }
        return super.visitCall(call);
      }
    });
    return deterministic[0];
  }

  /** A string equal for two nodes exactly when they compute the same thing. */
  private String key(RelNode rel) {
    StringBuilder b = new StringBuilder(rel.getClass().getName());
    if (rel instanceof CqlWindow w) {
      b.append("|spec=").append(w.spec);
    }
    if (rel instanceof CqlRelToStream s) {
      b.append("|kind=").append(s.kind);
    }
    b.append("|type=").append(rel.getRowType().getFullTypeString());
    rel.explain(new KeyWriter(b));
    for (RelNode input : rel.getInputs()) {
      b.append("|input=#").append(idOf(input));
    }
    return b.toString();
  }

  private int idOf(RelNode rel) {
    return ids.computeIfAbsent(rel, r -> ids.size());
  }

  /** Collects a node's explain items (its attributes, not its inputs) into a key. */
  private static final class KeyWriter implements RelWriter {
    private final StringBuilder b;

    KeyWriter(StringBuilder b) {
      this.b = b;
    }

    @Override public void explain(RelNode rel, List<Pair<String, @Nullable Object>> values) {
      for (Pair<String, @Nullable Object> item : values) {
        item(item.left, item.right);
      }
    }

    @Override public SqlExplainLevel getDetailLevel() {
      return SqlExplainLevel.DIGEST_ATTRIBUTES;
    }

    @Override public RelWriter item(String term, @Nullable Object value) {
      if (!(value instanceof RelNode)) {
        b.append('|').append(term).append('=').append(value);
      }
      return this;
    }

    @Override public RelWriter done(RelNode node) {
      return this;
    }
  }
}
