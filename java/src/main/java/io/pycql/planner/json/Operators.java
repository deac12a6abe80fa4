package io.pycql.planner.json;

import io.pycql.planner.catalog.CqlSourceTable;
import io.pycql.planner.rel.CqlExchange;
import io.pycql.planner.rel.CqlLookupJoin;
import io.pycql.planner.rel.CqlRelToStream;
import io.pycql.planner.rel.CqlStreamFilter;
import io.pycql.planner.rel.CqlTopN;
import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.WindowSpec;
import java.util.ArrayList;
import java.util.List;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.Aggregate;
import org.apache.calcite.rel.core.Filter;
import org.apache.calcite.rel.core.Intersect;
import org.apache.calcite.rel.core.Join;
import org.apache.calcite.rel.core.JoinInfo;
import org.apache.calcite.rel.core.Minus;
import org.apache.calcite.rel.core.Project;
import org.apache.calcite.rel.core.SetOp;
import org.apache.calcite.rel.core.Sort;
import org.apache.calcite.rel.core.TableScan;
import org.apache.calcite.rel.core.Union;
import org.apache.calcite.rel.core.Values;
import org.apache.calcite.rel.core.Window;
import org.apache.calcite.rex.RexLiteral;
import org.apache.calcite.rex.RexNode;

/**
 * What the plan writers need to know about each operator: its {@code op} name, whether
 * it outputs a stream, and the state it keeps. One place, shared by the JSON and text
 * writers.
 */
final class Operators {
  private Operators() {
  }

  /** The {@code op} of docs/plan-json.md; throws for nodes pycql cannot run. */
  static String opName(RelNode rel) {
    if (rel instanceof TableScan) {
      return "source";
    } else if (rel instanceof CqlWindow) {
      return "window";
    } else if (rel instanceof CqlExchange) {
      return "exchange";
    } else if (rel instanceof CqlStreamFilter) {
      return "stream_filter";
    } else if (rel instanceof CqlLookupJoin) {
      return "lookup_join";
    } else if (rel instanceof Window) {
      return "over";
    } else if (rel instanceof CqlTopN) {
      return "top_n";
    } else if (rel instanceof CqlRelToStream s) {
      return s.kind.name().toLowerCase(java.util.Locale.ROOT);
    } else if (rel instanceof Filter) {
      return "filter";
    } else if (rel instanceof Project) {
      return "project";
    } else if (rel instanceof Aggregate) {
      return "aggregate";
    } else if (rel instanceof Join) {
      return "join";
    } else if (rel instanceof Union) {
      return "union";
    } else if (rel instanceof Minus) {
      return "minus";
    } else if (rel instanceof Intersect) {
      return "intersect";
    } else if (rel instanceof Values) {
      return "values";
    } else if (rel instanceof Sort) {
      return "sort";
    }
    throw new UnsupportedOperationException("pycql cannot run the relational operator "
        + rel.getRelTypeName() + " (plan node " + rel.getId() + ")");
  }

  /** The source table behind a scan. */
  static CqlSourceTable source(TableScan scan) {
    CqlSourceTable source = scan.getTable().unwrap(CqlSourceTable.class);
    if (source == null) {
      throw new UnsupportedOperationException("table " + scan.getTable().getQualifiedName()
          + " is not a pycql stream or table");
    }
    return source;
  }

  /** Whether {@code rel} outputs a stream (else a relation). */
  static boolean isStream(RelNode rel) {
    if (rel instanceof TableScan scan) {
      return source(scan).isStream();
    }
    if (rel instanceof CqlStreamFilter || rel instanceof CqlLookupJoin
        || rel instanceof CqlRelToStream) {
      return true;
    }
    if (rel instanceof Filter || rel instanceof Project || rel instanceof CqlExchange) {
      return isStream(rel.getInput(0));
    }
    if (rel instanceof Union union && union.all) {
      return union.getInputs().stream().allMatch(Operators::isStream);
    }
    return false;
  }

  /** The synopsis {@code rel} keeps ({@code state} in the JSON). */
  static StateBound state(RelNode rel) {
    if (rel instanceof CqlWindow w) {
      return windowState(w.spec);
    }
    if (rel instanceof CqlLookupJoin j) {
      return relationBound(j.getRight()).withKeys(JoinInfo.createWithStrictEquality(
          j.getLeft(), j.getRight(), j.getCondition()).rightKeys);
    }
    if (rel instanceof Join j) {
      return StateBound.together(relationBound(j.getLeft()), relationBound(j.getRight()));
    }
    if (rel instanceof Aggregate a) {
      return StateBound.unbounded(a.getGroupSet().asList());
    }
    if (rel instanceof CqlRelToStream s) {
      StateBound kept = relationBound(s.getInput());
      return kept.kind == StateBound.Kind.NONE ? kept : kept.withKeys(allFields(rel));
    }
    if (rel instanceof Union u && u.all) {
      return StateBound.none();
    }
    if (rel instanceof SetOp set) {
      StateBound kept = StateBound.none();
      for (RelNode input : set.getInputs()) {
        kept = StateBound.together(kept, relationBound(input));
      }
      return kept.withKeys(allFields(rel));
    }
    if (rel instanceof Sort sort) {
      return relationBound(sort.getInput());
    }
    if (rel instanceof Window w) {
      return relationBound(w.getInput()).withKeys(w.groups.get(0).keys.asList());
    }
    if (rel instanceof CqlTopN t) {
      return appendOnly(t.getInput()) ? StateBound.rows(t.limit, t.partitionKeys.asList())
          : relationBound(t.getInput()).withKeys(t.partitionKeys.asList());
    }
    return StateBound.none();
  }

  /** For a join, the bound of what it keeps of each input, partitioned by its equi keys. */
  static List<StateBound> joinInputStates(Join j) {
    JoinInfo info = JoinInfo.createWithStrictEquality(j.getLeft(), j.getRight(),
        j.getCondition());
    List<StateBound> states = new ArrayList<>();
    states.add(relationBound(j.getLeft()).withKeys(info.leftKeys));
    states.add(relationBound(j.getRight()).withKeys(info.rightKeys));
    return states;
  }

  /** The synopsis of a window: NOW is RANGE 0 (the elements stamped τ). */
  static StateBound windowState(WindowSpec spec) {
    switch (spec.kind) {
    case NOW:
      return StateBound.range(0);
    case RANGE:
      return StateBound.range(spec.rangeMillis);
    case ROWS:
      return StateBound.rows(keptRows(spec), List.of());
    case PARTITION:
      return StateBound.rows(keptRows(spec), spec.partitionKeys);
    case SESSION:
      // a session lasts as long as its elements keep coming
      return StateBound.unbounded(spec.partitionKeys);
    default:
      return StateBound.unbounded(List.of());
    }
  }

  /** ROWS N keeps N rows; ROWS N SLIDE M also the up to M - 1 that have not entered yet. */
  private static long keptRows(WindowSpec spec) {
    return spec.slideRows == null ? spec.rows : spec.rows + spec.slideRows - 1;
  }

  /** How large the relation {@code rel} outputs can grow (streams: unbounded). */
  static StateBound relationBound(RelNode rel) {
    if (rel instanceof CqlWindow w) {
      // N rows per partition, but the partitions are not bounded
      if (w.spec.kind == WindowSpec.Kind.PARTITION || w.spec.kind == WindowSpec.Kind.SESSION) {
        return StateBound.unbounded(List.of());
      }
      // ROWS N SLIDE M: the relation holds N rows (the rest of the state is not in it yet)
      return w.spec.kind == WindowSpec.Kind.ROWS ? StateBound.rows(w.spec.rows, List.of())
          : windowState(w.spec);
    }
    if (rel instanceof Filter || rel instanceof Project || rel instanceof Window
        || rel instanceof CqlExchange) {
      return relationBound(rel.getInput(0));
    }
    if (rel instanceof CqlTopN t) {
      return t.partitionKeys.isEmpty() ? StateBound.rows(t.limit, List.of())
          : StateBound.unbounded(List.of());
    }
    if (rel instanceof Aggregate a) {
      return a.getGroupCount() == 0 ? StateBound.rows(1, List.of())
          : relationBound(a.getInput()).withKeys(List.of());
    }
    if (rel instanceof Join j && !(rel instanceof CqlLookupJoin)) {
      StateBound left = relationBound(j.getLeft());
      return j.getJoinType().projectsRight()
          ? StateBound.product(left, relationBound(j.getRight())) : left;
    }
    if (rel instanceof Union u) {
      StateBound b = StateBound.none();
      for (RelNode input : u.getInputs()) {
        b = StateBound.together(b, relationBound(input));
      }
      return b;
    }
    if (rel instanceof Minus || rel instanceof Intersect) {
      return relationBound(rel.getInput(0));
    }
    if (rel instanceof Values v) {
      return v.getTuples().isEmpty() ? StateBound.none()
          : StateBound.rows(v.getTuples().size(), List.of());
    }
    if (rel instanceof Sort sort) {
      StateBound input = relationBound(sort.getInput());
      Long fetch = intOf(sort.fetch);
      if (fetch != null && (input.kind != StateBound.Kind.ROWS || input.bound > fetch
          || !input.keys.isEmpty())) {
        return StateBound.rows(fetch, List.of());
      }
      return input;
    }
    return StateBound.unbounded(List.of());
  }

  /**
   * Whether the relation {@code rel} only ever grows: an {@code [UNBOUNDED]} window's, through
   * filters and projects. A top-N over it never needs the rows beyond its first N.
   */
  static boolean appendOnly(RelNode rel) {
    if (rel instanceof CqlWindow w) {
      return w.spec.kind == WindowSpec.Kind.UNBOUNDED;
    }
    if ((rel instanceof Filter || rel instanceof Project) && !isStream(rel)) {
      return appendOnly(rel.getInput(0));
    }
    return false;
  }

  /** The value of an integer literal, null for null; throws for any other expression. */
  static Long intOf(RexNode e) {
    if (e == null) {
      return null;
    }
    if (e instanceof RexLiteral lit) {
      return lit.getValueAs(Long.class);
    }
    throw new UnsupportedOperationException(
        "OFFSET and FETCH must be constants in a continuous query, not " + e);
  }

  private static List<Integer> allFields(RelNode rel) {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < rel.getRowType().getFieldCount(); i++) {
      all.add(i);
    }
    return all;
  }
}
