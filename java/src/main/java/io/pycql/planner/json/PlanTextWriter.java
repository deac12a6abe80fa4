package io.pycql.planner.json;

import io.pycql.planner.catalog.CqlSourceTable;
import io.pycql.planner.rel.CqlExchange;
import io.pycql.planner.rel.CqlLookupJoin;
import io.pycql.planner.rel.CqlRelToStream;
import io.pycql.planner.rel.CqlStreamFilter;
import io.pycql.planner.rel.CqlTopN;
import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.calcite.rel.RelFieldCollation;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.Aggregate;
import org.apache.calcite.rel.core.AggregateCall;
import org.apache.calcite.rel.core.Filter;
import org.apache.calcite.rel.core.Join;
import org.apache.calcite.rel.core.Project;
import org.apache.calcite.rel.core.SetOp;
import org.apache.calcite.rel.core.Sort;
import org.apache.calcite.rel.core.TableScan;
import org.apache.calcite.rel.core.Values;
import org.apache.calcite.rel.core.Window;
import org.apache.calcite.rel.type.RelDataTypeField;
import org.apache.calcite.rex.RexLiteral;
import org.apache.calcite.rex.RexNode;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Writes an optimized plan as EXPLAIN text: one operator a line, inputs indented below
 * their consumer by two spaces (format described in docs/explain-format.md).
 *
 * <pre>
 * IStream writes=[out]  output=stream state=previous-instant range 30 s
 *   Filter(condition=[&gt;($1, 65)])  output=relation state=none
 *     Window(RANGE 30 s)  output=relation state=range 30 s
 *       Source(stream PosSpeedStr) reads=[PosSpeedStr]  output=stream state=none
 * </pre>
 */
public final class PlanTextWriter {
  private PlanTextWriter() {
  }

  /** The EXPLAIN text of {@code physical}; {@code outputTopic} (nullable) is the root's. */
  public static String explain(RelNode physical, @Nullable String outputTopic) {
    PlanGraph graph = new PlanGraph(physical);
    Stages stages = new Stages(graph, outputTopic);
    StringBuilder out = new StringBuilder();
    write(graph, stages, graph.root, 0, outputTopic, new HashSet<>(), out);
    if (stages.stages.size() > 1) {
      out.append("Stages:\n");
      for (Stages.Stage s : stages.stages) {
        out.append("  Stage ").append(s.id).append(" (").append(s.tasks)
            .append(s.tasks == 1 ? " task)" : " tasks)");
        out.append(" reads=").append(s.reads).append(' ');
        if (!s.upstream.isEmpty()) {
          out.append("after=").append(s.upstream).append(' ');
        }
        out.append("writes=").append(s.writes).append('\n');
      }
    }
    return out.toString();
  }

  private static void write(PlanGraph graph, Stages stages, RelNode rel, int depth,
      @Nullable String writes, Set<Integer> printed, StringBuilder out) {
    out.append("  ".repeat(depth));
    int id = graph.id(rel);
    boolean shared = graph.uses(rel) > 1;
    if (shared && !printed.add(id)) {
      out.append('#').append(id).append(" (shared: ").append(label(rel))
          .append(", printed above)\n");
      return;
    }
    if (shared) {
      out.append('#').append(id).append('=');
    }
    out.append(label(rel));
    if (rel instanceof TableScan scan) {
      out.append(" reads=[").append(Operators.source(scan).topic()).append(']');
    }
    if (rel instanceof CqlExchange e) {
      writes = stages.topic(e);
    }
    if (writes != null) {
      out.append(" writes=[").append(writes).append(']');
    }
    out.append("  output=").append(Operators.isStream(rel) ? "stream" : "relation");
    out.append(" state=").append(stateText(rel)).append('\n');
    for (RelNode input : rel.getInputs()) {
      write(graph, stages, input.stripped(), depth + 1, null, printed, out);
    }
  }

  private static String stateText(RelNode rel) {
    String bound = Operators.state(rel).toText();
    if (rel instanceof CqlRelToStream s && s.kind != RelToStreamKind.RSTREAM) {
      return "previous-instant " + bound;
    }
    if (rel instanceof Join j && !(rel instanceof CqlLookupJoin)) {
      List<StateBound> inputs = Operators.joinInputStates(j);
      return bound + " (left " + inputs.get(0).toText() + ", right " + inputs.get(1).toText()
          + ")";
    }
    return bound;
  }

  /** The operator and its arguments, e.g. {@code Window(RANGE 30 s)}. */
  static String label(RelNode rel) {
    if (rel instanceof TableScan scan) {
      CqlSourceTable source = Operators.source(scan);
      return "Source(" + (source.isStream() ? "stream " : "table ") + source.name() + ")";
    } else if (rel instanceof CqlWindow w) {
      return "Window(" + windowText(w.spec) + ")";
    } else if (rel instanceof CqlExchange e) {
      if (e.isSingle()) {
        return "Exchange(single)";
      }
      StringBuilder b = new StringBuilder("Exchange(hash [");
      for (int i = 0; i < e.keys.size(); i++) {
        b.append(i == 0 ? "$" : ", $").append(e.keys.get(i));
      }
      return b.append("], ").append(e.partitions).append(" partitions)").toString();
    } else if (rel instanceof CqlStreamFilter f) {
      return "StreamFilter(" + (f.condition == null ? "" : "condition=[" + f.condition + "], ")
          + "exprs=" + named(f.getRowType().getFieldList(), f.projects) + ")";
    } else if (rel instanceof CqlRelToStream s) {
      return s.kind == RelToStreamKind.ISTREAM ? "IStream"
          : s.kind == RelToStreamKind.DSTREAM ? "DStream" : "RStream";
    } else if (rel instanceof Filter f) {
      return "Filter(condition=[" + f.getCondition() + "])";
    } else if (rel instanceof Project p) {
      return "Project(exprs=" + named(p.getRowType().getFieldList(), p.getProjects()) + ")";
    } else if (rel instanceof Aggregate a) {
      List<String> aggs = new ArrayList<>();
      for (AggregateCall call : a.getAggCallList()) {
        aggs.add(call.toString());
      }
      String sets = a.getGroupType() == org.apache.calcite.rel.core.Aggregate.Group.SIMPLE ? ""
          : ", sets=" + a.getGroupSets();
      return "Aggregate(group=" + a.getGroupSet() + sets + ", aggs=" + aggs + ")";
    } else if (rel instanceof Join j) {
      return (rel instanceof CqlLookupJoin ? "LookupJoin" : "Join") + "(type="
          + j.getJoinType().name().toLowerCase(Locale.ROOT) + ", condition=["
          + j.getCondition() + "])";
    } else if (rel instanceof SetOp s) {
      String name = Operators.opName(rel);
      return Character.toUpperCase(name.charAt(0)) + name.substring(1) + "(all=" + s.all + ")";
    } else if (rel instanceof Values v) {
      List<List<String>> rows = new ArrayList<>();
      for (List<RexLiteral> tuple : v.getTuples()) {
        List<String> row = new ArrayList<>();
        tuple.forEach(lit -> row.add(lit.toString()));
        rows.add(row);
      }
      return "Values(rows=" + rows + ")";
    } else if (rel instanceof Window w) {
      List<String> groups = new ArrayList<>();
      for (Window.Group g : w.groups) {
        groups.add(g.toString());
      }
      return "Over(" + String.join(", ", groups) + ")";
    } else if (rel instanceof CqlTopN t) {
      return "TopN(partition=" + fieldList(t.partitionKeys.asList()) + ", order="
          + keysText(t.collation.getFieldCollations()) + ", limit=" + t.limit + ")";
    } else if (rel instanceof Sort s) {
      List<String> keys = new ArrayList<>();
      for (RelFieldCollation c : s.getCollation().getFieldCollations()) {
        keys.add("$" + c.getFieldIndex() + (c.getDirection().isDescending() ? " DESC" : ""));
      }
      return "Sort(collation=" + keys
          + (s.offset == null ? "" : ", offset=" + Operators.intOf(s.offset))
          + (s.fetch == null ? "" : ", fetch=" + Operators.intOf(s.fetch)) + ")";
    }
    return Operators.opName(rel);
  }

  private static String fieldList(List<Integer> fields) {
    List<String> names = new ArrayList<>();
    fields.forEach(f -> names.add("$" + f));
    return names.toString();
  }

  private static String keysText(List<RelFieldCollation> collations) {
    List<String> keys = new ArrayList<>();
    for (RelFieldCollation c : collations) {
      keys.add("$" + c.getFieldIndex() + (c.getDirection().isDescending() ? " DESC" : ""));
    }
    return keys.toString();
  }

  /** {@code NOW}, {@code UNBOUNDED}, {@code RANGE 30 s SLIDE 5 s}, {@code ROWS 10}, ... */
  static String windowText(WindowSpec spec) {
    switch (spec.kind) {
    case NOW:
      return "NOW";
    case UNBOUNDED:
      return "UNBOUNDED";
    case RANGE:
      return "RANGE " + StateBound.duration(spec.rangeMillis)
          + (spec.slideMillis == null ? "" : " SLIDE " + StateBound.duration(spec.slideMillis));
    case ROWS:
      return "ROWS " + spec.rows + slideRowsText(spec);
    case SESSION:
      return partitionText(spec) + "SESSION " + StateBound.duration(spec.gapMillis);
    default:
      return partitionText(spec) + "ROWS " + spec.rows + slideRowsText(spec);
    }
  }

  private static String slideRowsText(WindowSpec spec) {
    return spec.slideRows == null ? "" : " SLIDE " + spec.slideRows;
  }

  /** {@code PARTITION BY $0, $1 } (with the trailing space), or nothing. */
  private static String partitionText(WindowSpec spec) {
    if (spec.partitionKeys.isEmpty()) {
      return "";
    }
    StringBuilder b = new StringBuilder("PARTITION BY ");
    for (int i = 0; i < spec.partitionKeys.size(); i++) {
      b.append(i == 0 ? "$" : ", $").append(spec.partitionKeys.get(i));
    }
    return b.append(' ').toString();
  }

  private static String named(List<RelDataTypeField> fields, List<? extends RexNode> exprs) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < exprs.size(); i++) {
      b.append(i == 0 ? "" : ", ").append(fields.get(i).getName()).append('=')
          .append(exprs.get(i));
    }
    return b.append(']').toString();
  }
}
